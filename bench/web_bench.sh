#!/bin/sh
# web_bench.sh - one-click unsubscribes per second on loopback, and their
# latency: wrk POSTs List-Unsubscribe=One-Click to candord --web, each
# request to a message not unsubscribed yet, in two cases started from
# the same database: with the daemon idle, and while candord sends
# orders to Postfix's smtp-sink (its sent count is sampled every second
# of the window, so a daemon that stopped early shows). Then the same wrk
# against libmicrohttpd serving a static file with the same settings
# (bench/web_static), the peer for the ratio.
#
# No request may be lost: wrk sees no socket error and no answer but
# 200, the endpoint counted at least as many 200s as wrk did, and every
# 200 the endpoint gave is a suppressed address with exactly one event
# (lost= counts the shortfall).
#
# With CANDORD_ALT=/path/to/another/candord the cases run for both
# builds in turn, ROUNDS times (ABAB...), so the two are compared under
# the same load; each case's figures are the median of its rounds.
# ATTACH="strace -f -T -e trace=fdatasync,nanosleep -p" (a command the
# web process's pid is appended to) runs along each window; KEEP=1 keeps
# its output (CASE.attach), the logs and wrk's in the work directory.
#
# Last line: posts_per_s=... p50_ms=... p99_ms=... max_ms=... lost=...
#   (while sending) idle_per_s=... idle_p50_ms=... idle_p99_ms=...
#   idle_max_ms=... idle_lost=... sent_per_s=... static_per_s=...
#   static_p99_ms=... ratio=... load=...
# Usage: bench/web_bench.sh [SECONDS] [CONNECTIONS]   (default 10, 32;
#        run from the build dir after "make bench/web_static")
set -eu
SECS=${1:-10}
CONNS=${2:-32}
TOKENS=${TOKENS:-400000}
SENDS=${SENDS:-100000}
ROUNDS=${ROUNDS:-1}
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
[ -z "${CANDORD_ALT:-}" ] || [ -x "$CANDORD_ALT" ] ||
	{ echo "web_bench: CANDORD_ALT=$CANDORD_ALT is not a program" >&2; exit 1; }
work=$(mktemp -d /tmp/candor-webbench.XXXXXX)
chmod 755 "$work"
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cd "$work"
[ -z "${KEEP:-}" ] || echo "web_bench: working in $work (kept)"
freeport() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
smtp_port=$(freeport)
web_port=$(freeport)
static_port=$(freeport)
q() { sqlite3 -cmd ".timeout 5000" candor.db "$1"; }
load() { sed 's/ .*//' /proc/loadavg; }

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
# the store's secret), and SENDS orders due for the daemon to send
secret=$(q "SELECT hex(value) FROM meta WHERE key = 'token_secret'")
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
rm messages.sql
q "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $SENDS)
INSERT INTO orders (order_id, first_name, name, email, locale, items, purchased, delivered, status)
SELECT 'B' || i, 'Cust' || i, 'Customer ' || i, 'c' || i || '@example.org', 'en',
       '[{\"name\":\"Sencha 100 g\",\"quantity\":2}]',
       unixepoch('now', '-12 days'), unixepoch('now', '-8 days'), 'delivered' FROM n;
PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
cp candor.db base.db

# Each request to the next token (one thread walks the list), so every
# POST suppresses an address as a real unsubscribe would
cat > post.lua <<'EOF'
local tokens = {}
local i = 0
function init(args)
  for line in io.lines("tokens.txt") do tokens[#tokens + 1] = line end
end
function request()
  i = i % #tokens + 1
  return wrk.format("POST", "/u/" .. tokens[i],
    { ["Content-Type"] = "application/x-www-form-urlencoded" }, "List-Unsubscribe=One-Click")
end
EOF

# wrk's figures, latencies in ms
rate() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
total() { sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$1"; }
ms() { awk '{ v = $1; u = $1; sub(/[0-9.]+/, "", u); v += 0
	if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
	printf "%.2f", v }'; }
pct() { sed -n "s/^ *$2% *\([0-9.]*[a-z]*\).*/\1/p" "$1" | ms; }
maxl() { sed -n 's/^ *Latency *[0-9][0-9.]*[a-z]* *[0-9][0-9.]*[a-z]* *\([0-9][0-9.]*[a-z]*\).*/\1/p' "$1" | ms; }
errs() {
	s=$(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' "$1" |
		awk '{ print $1 + $2 + $3 + $4 }')
	n=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$1")
	echo $((${s:-0} + ${n:-0}))
}
sent() { q "SELECT count(*) FROM messages WHERE order_id LIKE 'B%' AND sent_at IS NOT NULL"; }
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# case NAME CANDORD SENDING: one measured window; appends a line of
# figures to results (name per_s p50 p99 max lost sent_per_s load)
run_case() {
	name=$1 bin=$2 sending=$3
	rm -f candor.db-wal candor.db-shm
	cp base.db candor.db
	"$bin" -c candor.conf --web 2>"$name.web.log" &
	web=$!
	pids="$pids $web"
	i=0
	until curl -s -o /dev/null "http://127.0.0.1:$web_port/healthz" || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
	daemon=
	if [ "$sending" = 1 ]; then
		"$bin" -c candor.conf 2>"$name.daemon.log" &
		daemon=$!
		pids="$pids $daemon"
		i=0
		until [ "$(sent)" -gt 100 ] || [ $i -gt 300 ]; do sleep 0.1; i=$((i + 1)); done
	fi
	la=$(load)
	s0=$(sent)
	c0=$(cpu $web)
	attached=
	if [ -n "${ATTACH:-}" ]; then
		$ATTACH $web > "$name.attach" 2>&1 &
		attached=$!
		sleep 1
	fi
	wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s post.lua "http://127.0.0.1:$web_port" > "$name.out" 2>&1 &
	wrk=$!
	# the daemon's progress, second by second, while wrk runs
	: > "$name.sent"
	while kill -0 $wrk 2>/dev/null; do
		echo "$(sent) $(stat -c %s candor.db-wal 2>/dev/null || echo 0) $(cpu $wrk)" >> "$name.sent"
		sleep 1
	done
	wait $wrk
	[ -z "$attached" ] || { kill -INT $attached; wait $attached 2>/dev/null || true; }
	s1=$(sent)
	c1=$(cpu $web)
	answered=$(curl -s "http://127.0.0.1:$web_port/metrics" |
		sed -n 's/^candor_web_requests_total{route="unsubscribe",code="200"} //p')
	kill $web $daemon
	wait $web $daemon 2>/dev/null || true
	supp=$(q "SELECT count(*) FROM suppressions WHERE email LIKE 'w%@example.org'")
	events=$(q "SELECT count(*) FROM events WHERE kind = 'unsubscribed'")
	requests=$(total "$name.out")
	# lost: an error wrk saw, a request wrk counted that the endpoint
	# did not answer 200, a 200 whose address is not suppressed once
	lost=$(errs "$name.out")
	[ "${answered:-0}" -ge "$requests" ] || lost=$((lost + requests - ${answered:-0}))
	want=${answered:-0}
	[ "$want" -le "$TOKENS" ] || want=$TOKENS
	[ "$supp" -ge "$want" ] || lost=$((lost + want - supp))
	[ "$events" = "$supp" ] || lost=$((lost + 1))
	walmax=$(awk '$2 > m { m = $2 } END { printf "%.1f", m / 1048576 }' "$name.sent")
	wrkcpu=$(awk '{ c = $3 } END { printf "%.1f", c / 100 }' "$name.sent")
	persec=$(awk 'NR > 1 { d = $1 - p; if (min == "" || d < min) min = d } { p = $1 } END { print min + 0 }' "$name.sent")
	sps=$(awk -v a="$s0" -v b="$s1" -v t="$SECS" 'BEGIN { printf "%.0f", (b - a) / t }')
	echo "$name $(rate "$name.out") $(pct "$name.out" 50) $(pct "$name.out" 99) $(maxl "$name.out") $lost $sps $la" >> results
	printf 'web_bench: %-12s %7s/s p50 %6s p99 %7s max %7s ms, lost %s; %s answered 200, %s suppressed; cpu web %ss wrk %ss; WAL up to %s MB' \
		"$name" "$(rate "$name.out")" "$(pct "$name.out" 50)" "$(pct "$name.out" 99)" \
		"$(maxl "$name.out")" "$lost" "${answered:-0}" "$supp" \
		"$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.1f", (b - a) / 100 }')" "$wrkcpu" "$walmax"
	[ "$sending" = 1 ] && printf '; candord sent %s (%s/s, slowest second %s)' "$((s1 - s0))" "$sps" "$persec"
	printf '; load %s\n' "$la"
	if [ "$requests" -gt "$TOKENS" ]; then
		echo "web_bench: $name: more requests than tokens: some POSTs were repeats (raise TOKENS)" >&2
	fi
	if [ "$sending" = 1 ] && [ "$(sent)" -ge "$SENDS" ]; then
		echo "web_bench: $name: candord ran out of orders before the window ended (raise SENDS)" >&2
	fi
}

run_static() {
	"$STATIC" "$static_port" "$top/README.md" &
	static=$!
	pids="$pids $static"
	i=0
	until curl -s -o /dev/null "http://127.0.0.1:$static_port/" || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
	la=$(load)
	wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "http://127.0.0.1:$static_port/README.md" > static.out 2>&1
	kill $static
	wait $static 2>/dev/null || true
	echo "static $(rate static.out) $(pct static.out 50) $(pct static.out 99) $(maxl static.out) $(errs static.out) 0 $la" >> results
	printf 'web_bench: %-12s %7s/s p50 %6s p99 %7s max %7s ms; load %s\n' static "$(rate static.out)" \
		"$(pct static.out 50)" "$(pct static.out 99)" "$(maxl static.out)" "$la"
}

echo "web_bench: wrk -t1 -c$CONNS -d${SECS}s on $(nproc) cores, $TOKENS tokens, $SENDS orders to send, $ROUNDS round(s)${CANDORD_ALT:+; alt = $CANDORD_ALT}"
: > results
r=0
while [ $r -lt "$ROUNDS" ]; do
	r=$((r + 1))
	run_case idle "$CANDORD" 0
	run_case sending "$CANDORD" 1
	if [ -n "${CANDORD_ALT:-}" ]; then
		run_case alt-idle "$CANDORD_ALT" 0
		run_case alt-sending "$CANDORD_ALT" 1
	fi
	run_static
done

# the median of each case's rounds, column by column
med() { awk -v n="$1" -v c="$2" '$1 == n { print $c }' results | sort -g |
	awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]
		else if (NR) printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2; else print 0 }'; }
sum() { awk -v n="$1" -v c="$2" '$1 == n { s += $c } END { print s + 0 }' results; }
if [ -n "${CANDORD_ALT:-}" ]; then
	echo "web_bench: alt: idle_per_s=$(med alt-idle 2) idle_p99_ms=$(med alt-idle 4) per_s=$(med alt-sending 2) p99_ms=$(med alt-sending 4) max_ms=$(med alt-sending 5) lost=$(sum alt-sending 6)"
fi
lost=$(( $(sum idle 6) + $(sum sending 6) ))
[ "$lost" = 0 ] || echo "web_bench: REQUESTS LOST or answered with an error" >&2
posts=$(med sending 2)
static=$(med static 2)
echo "posts_per_s=$posts p50_ms=$(med sending 3) p99_ms=$(med sending 4) max_ms=$(med sending 5) lost=$(sum sending 6)" \
	"idle_per_s=$(med idle 2) idle_p50_ms=$(med idle 3) idle_p99_ms=$(med idle 4) idle_max_ms=$(med idle 5) idle_lost=$(sum idle 6)" \
	"sent_per_s=$(med sending 7) static_per_s=$static static_p99_ms=$(med static 4)" \
	"ratio=$(awk -v a="$posts" -v b="$static" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') load=$(load)"
[ "$lost" = 0 ]
