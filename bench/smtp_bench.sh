#!/bin/sh
# smtp_bench.sh - issue 6's figures: candor's whole pipeline (schedule,
# render, check, compose, send over SMTP, record) for N due orders with
# "candord --once", against Postfix's smtp-source sending the same number
# of messages of the same size to the same smtp-sink, in the same run.
# Also candord's peak memory.
#
# Last line: candor_msgs_per_s=... peer_msgs_per_s=... ratio=... peak_rss_mb=...
# Usage: bench/smtp_bench.sh [ORDERS]   (default 20000; run from the build dir)
set -eu
N=${1:-20000}
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$(pwd)}
CANDORD=$build/candord
CANDORCTL=$build/candorctl
for tool in smtp-sink smtp-source sqlite3; do
	command -v $tool >/dev/null || { echo "smtp_bench: $tool is missing (scripts/install-deps)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "smtp_bench: /usr/bin/time is missing" >&2; exit 1; }
work=$(mktemp -d /tmp/candor-bench.XXXXXX)
chmod 755 "$work"
trap 'kill $sink 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
smtp-sink -u nobody -m 1000 "127.0.0.1:$port" 1000 &
sink=$!
sleep 0.5

cat > candor.conf <<EOC
database = "candor.db";
templates = "$top/templates"; packs = "$top/etc/packs";
transport = "smtp";
log_level = "warning";
shop = { name = "Bench Shop"; domain = "bench.example"; from = "feedback@bench.example";
  footer = "Bench Shop, 1 Bench Street"; };
smtp = { url = "smtp://127.0.0.1:$port"; connections = 4; };
limits = { global_rate = ""; daily_cap = 0; domain_rate = ""; per_customer = 0; };
send_window = { start = "00:00"; end = "24:00";
  weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]; };
channels = ( { name = "web"; feedback_url = "https://bench.example/review?o={order}"; } );
campaigns = ( { name = "review"; delay = "7d"; expire = "30d";
  variants = ( { name = "A"; template = "review_request"; } ); } );
EOC
"$CANDORCTL" -c candor.conf init >/dev/null
sqlite3 candor.db <<EOS
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO orders (order_id, first_name, name, email, locale, items, purchased, delivered, status)
SELECT 'B' || i, 'Cust' || i, 'Customer ' || i, 'c' || i || '@example.org', 'en',
       '[{"name":"Sencha 100 g","quantity":2},{"name":"Teapot","quantity":1}]',
       unixepoch('now', '-12 days'), unixepoch('now', '-8 days'), 'delivered' FROM n;
EOS
size=$("$CANDORCTL" -c candor.conf preview --order B1 2>/dev/null | wc -c)

start=$(date +%s.%N)
/usr/bin/time -f "%M" -o rss.txt "$CANDORD" -c candor.conf --once 2>candord.log
end=$(date +%s.%N)
sent=$(sqlite3 candor.db "SELECT count(*) FROM messages WHERE state = 'sent'")
[ "$sent" -eq "$N" ] || { echo "smtp_bench: only $sent of $N sent" >&2; tail -5 candord.log >&2; exit 1; }

pstart=$(date +%s.%N)
smtp-source -c -m "$N" -s 4 -l "$size" -f feedback@bench.example -t c@example.org "127.0.0.1:$port" >/dev/null
pend=$(date +%s.%N)

awk -v n="$N" -v s="$start" -v e="$end" -v ps="$pstart" -v pe="$pend" -v rss="$(cat rss.txt)" -v size="$size" 'BEGIN {
	c = n / (e - s); p = n / (pe - ps)
	printf "orders=%d msg_bytes=%d candor_s=%.2f peer_s=%.2f connections=4\n", n, size, e - s, pe - ps
	printf "candor_msgs_per_s=%.0f peer_msgs_per_s=%.0f ratio=%.2f peak_rss_mb=%.1f\n", c, p, c / p, rss / 1024
}'
