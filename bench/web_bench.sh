#!/bin/sh
# web_bench.sh - one-click unsubscribes per second on loopback: wrk POSTs
# List-Unsubscribe=One-Click to candord --web for TOKENS different sent
# messages, over and over, while candord sends a second batch of orders
# to Postfix's smtp-sink; then the same wrk against libmicrohttpd serving
# a static file with the same settings (bench/web_static). No request may
# be lost: wrk sees no socket error and no answer but 200, the endpoint
# counted as many as wrk did, and every token's address ends up
# suppressed with exactly one event.
#
# Last line: posts_per_s=... p99_ms=... static_per_s=... ratio=...
# Usage: bench/web_bench.sh [SECONDS] [CONNECTIONS]   (default 10, 32;
#        run from the build dir after "make bench/web_static")
set -eu
SECS=${1:-10}
CONNS=${2:-32}
TOKENS=${TOKENS:-20000}
SENDS=${SENDS:-20000}
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$(pwd)}
CANDORD=$build/candord
CANDORCTL=$build/candorctl
STATIC=$build/bench/web_static
PY=/usr/bin/python3
for tool in wrk smtp-sink sqlite3 curl; do
	command -v $tool >/dev/null || { echo "web_bench: $tool is missing (scripts/install-deps)" >&2; exit 1; }
done
[ -x "$STATIC" ] || { echo "web_bench: build bench/web_static first (make bench/web_static)" >&2; exit 1; }
work=$(mktemp -d /tmp/candor-webbench.XXXXXX)
chmod 755 "$work"
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; rm -rf "$work"' EXIT
cd "$work"
freeport() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
smtp_port=$(freeport)
web_port=$(freeport)
static_port=$(freeport)

smtp-sink -u nobody -m 1000 "127.0.0.1:$smtp_port" 1000 &
pids="$pids $!"

cat > candor.conf <<EOC
database = "candor.db";
templates = "$top/templates"; packs = "$top/etc/packs";
transport = "smtp";
log_level = "warning";
poll_interval = "10s";
shop = { name = "Bench Shop"; domain = "bench.example"; from = "feedback@bench.example"; };
smtp = { url = "smtp://127.0.0.1:$smtp_port"; connections = 4; };
limits = { global_rate = ""; daily_cap = 0; domain_rate = ""; per_customer = 0; };
send_window = { start = "00:00"; end = "24:00";
  weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]; };
channels = ( { name = "web"; feedback_url = "https://bench.example/review?o={order}"; } );
campaigns = ( { name = "review"; delay = "7d"; expire = "30d";
  variants = ( { name = "A"; template = "review_request"; } ); } );
http = { listen = "127.0.0.1:$web_port"; public_url = "https://bench.example/candor";
  rate_limit = ""; max_connections = 4096; connections_per_address = 4096; };
EOC
"$CANDORCTL" -c candor.conf init >/dev/null

# TOKENS messages already sent, with the tokens compose makes (HMAC under
# the store's secret), and SENDS orders due for the daemon to send now
secret=$(sqlite3 candor.db "SELECT hex(value) FROM meta WHERE key = 'token_secret'")
$PY - "$secret" "$TOKENS" > messages.sql 2>tokens.txt <<'EOF'
import hashlib, hmac, sys
key = bytes.fromhex(sys.argv[1])
print("BEGIN;")
for i in range(1, int(sys.argv[2]) + 1):
    o = "W%d" % i
    t = hmac.new(key, ("%s\nreview\nrequest" % o).encode(), hashlib.sha256).hexdigest()[:32]
    print("INSERT INTO orders (order_id, email, delivered, status) VALUES "
          "('%s', 'w%d@example.org', unixepoch('now', '-60 days'), 'delivered');" % (o, i))
    print("INSERT INTO messages (order_id, campaign, variant, state, recipient, token, created,"
          " updated, sent_at) VALUES ('%s', 'review', 'A', 'sent', 'w%d@example.org', '%s',"
          " unixepoch() - 86400, unixepoch() - 86400, unixepoch() - 86400);" % (o, i, t))
    sys.stderr.write(t + "\n")
print("COMMIT;")
EOF
sqlite3 candor.db < messages.sql

sqlite3 candor.db <<EOS
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $SENDS)
INSERT INTO orders (order_id, first_name, name, email, locale, items, purchased, delivered, status)
SELECT 'B' || i, 'Cust' || i, 'Customer ' || i, 'c' || i || '@example.org', 'en',
       '[{"name":"Sencha 100 g","quantity":2}]',
       unixepoch('now', '-12 days'), unixepoch('now', '-8 days'), 'delivered' FROM n;
EOS

cat > post.lua <<'EOF'
-- POST the one-click body to /u/TOKEN, each thread walking the token list
local tokens = {}
local i = 0
function init(args)
  for line in io.lines("tokens.txt") do tokens[#tokens + 1] = line end
  i = math.random(#tokens)
end
function request()
  i = i % #tokens + 1
  return wrk.format("POST", "/u/" .. tokens[i],
    { ["Content-Type"] = "application/x-www-form-urlencoded" }, "List-Unsubscribe=One-Click")
end
EOF

"$CANDORD" -c candor.conf --web 2>web.log &
web=$!
pids="$pids $web"
"$CANDORD" -c candor.conf 2>candord.log &
daemon=$!
pids="$pids $daemon"
i=0
until curl -s -o /dev/null "http://127.0.0.1:$web_port/healthz" || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1   # the daemon is sending by now
sent_before=$(sqlite3 -cmd ".timeout 5000" candor.db "SELECT count(*) FROM messages WHERE order_id LIKE 'B%' AND state = 'sent'")

wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s post.lua "http://127.0.0.1:$web_port" > post.out 2>&1
sent_after=$(sqlite3 -cmd ".timeout 5000" candor.db "SELECT count(*) FROM messages WHERE order_id LIKE 'B%' AND state = 'sent'")
answered=$(curl -s "http://127.0.0.1:$web_port/metrics" |
	sed -n 's/^candor_web_requests_total{route="unsubscribe",code="200"} //p')
kill $daemon $web
wait $daemon $web 2>/dev/null || true

"$STATIC" "$static_port" "$top/README.md" &
static=$!
pids="$pids $static"
i=0
until curl -s -o /dev/null "http://127.0.0.1:$static_port/" || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "http://127.0.0.1:$static_port/README.md" > static.out 2>&1
kill $static
wait $static 2>/dev/null || true

# wrk's figures
rate() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
total() { sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$1"; }
p99() {
	sed -n 's/^ *99% *\([0-9.]*\)\([a-z]*\).*/\1 \2/p' "$1" |
		awk '{ v = $1; if ($2 == "us") v /= 1000; else if ($2 == "s") v *= 1000; printf "%.2f", v }'
}
errors() { grep -E "Socket errors|Non-2xx" "$1" || true; }
posts=$(rate post.out)
static=$(rate static.out)
requests=$(total post.out)
bad=$(errors post.out)
supp=$(sqlite3 candor.db "SELECT count(*) FROM suppressions WHERE email LIKE 'w%@example.org'")
events=$(sqlite3 candor.db "SELECT count(*) FROM events WHERE kind = 'unsubscribed'")

echo "web_bench: wrk -t1 -c$CONNS -d${SECS}s, $TOKENS tokens; candord sent $((sent_after - sent_before)) mails meanwhile"
echo "web_bench: one-click: $requests requests, $posts/s, p99 $(p99 post.out) ms; endpoint answered $answered with 200${bad:+; $bad}"
echo "web_bench: static file: $(total static.out) requests, $static/s, p99 $(p99 static.out) ms"
echo "web_bench: $supp of $TOKENS addresses suppressed, $events unsubscribe events"
lost=0
[ -z "$bad" ] || lost=1
# wrk stops counting at the deadline: up to one answer per connection
# was still on its way then
[ "$answered" -ge "$requests" ] && [ "$answered" -le $((requests + CONNS)) ] || lost=1
want=$TOKENS
[ "$requests" -lt "$TOKENS" ] && want=$requests
[ "$supp" -ge "$want" ] && [ "$events" = "$supp" ] || lost=1
[ "$lost" = 0 ] || echo "web_bench: REQUESTS LOST or answered with an error" >&2
echo "posts_per_s=$posts p99_ms=$(p99 post.out) static_per_s=$static ratio=$(awk -v a="$posts" -v b="$static" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
exit $lost
