#!/bin/sh
# api_bench.sh - the shopify source's figures against the test shop's
# Admin GraphQL API over HTTPS on loopback (tests/integration/shop-api.py):
# a backfill of N orders by `candord --once` (pages of 250, each mapped
# and written with its cursor), against curl fetching the very same pages
# (the request bodies candor sent, replayed over one reused connection) in
# the same run; then the idle poll of a running candord: requests per
# poll, and database writes while it is idle (PRAGMA data_version seen by
# another connection).
#
# Last line: orders_per_s=… curl_orders_per_s=… ratio=… (candor's time
#   over curl's) idle_requests_per_poll=… idle_db_writes=… load=…
# Usage: bench/api_bench.sh [ORDERS]   (default 100000; run from the build dir)
set -eu
N=${1:-100000}
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${BUILD:-$(pwd)}
. "$top_srcdir/tests/integration/lib.sh"
for tool in sqlite3 curl openssl; do
	command -v $tool >/dev/null || { echo "api_bench: $tool is missing" >&2; exit 1; }
done
cd "$WORK"
now() { date +%s.%N; }
load() { uptime | sed 's/.*load average: //; s/,//g' | awk '{ print $1 }'; }

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext "subjectAltName=IP:127.0.0.1" -keyout key.pem -out cert.pem >/dev/null 2>&1
mkdir shop
TOKEN=shpat_bench0123456789
printf '%s\n' "$TOKEN" > shop/token
printf '%s\n' "$TOKEN" > token.txt
chmod 600 token.txt
# N paid orders (nothing becomes due: the figure is the intake's), one a
# second apart over the last days
"$SYSPY" - "$N" > shop/orders.json <<'EOF'
import json, sys, time
n, now = int(sys.argv[1]), int(time.time())
print(json.dumps([{"id": 100000 + i, "number": 1000 + i, "email": "c%d@example.org" % i,
                   "first": "Ann", "last": "Buyer%d" % i, "country": "DE", "status": "paid",
                   "created": now - n - 7200 + i, "updated": now - n - 3600 + i,
                   "total": "42.50", "currency": "EUR", "locale": "de-DE" if i % 2 else None,
                   "items": [{"name": "Green Tea", "quantity": 2, "sku": "GT-1"},
                             {"name": "Teapot", "quantity": 1, "sku": "TP-9"}]}
                  for i in range(n)]))
EOF
touch shop/warm
"$SYSPY" "$top_srcdir/tests/integration/shop-api.py" "$WORK/shop" cert.pem key.pem >shop.log 2>&1 &
bg_started $!
wait_for shop/port . 120 || { echo "api_bench: the shop did not start" >&2; cat shop.log >&2; exit 1; }
PORT=$(cat shop/port)
URL="https://127.0.0.1:$PORT/admin/api/2025-07/graphql.json"

write_config candor.conf "sources = ( { name = \"shop\"; type = \"shopify\";
  shop = \"127.0.0.1:$PORT\"; token_file = \"$WORK/token.txt\"; tls_ca = \"$WORK/cert.pem\";
  batch = 250; since = \"60d\"; poll_interval = \"1s\"; } );"
sed -i 's|^log_level = .*|log_level = "notice";|' candor.conf
"$CANDORCTL" -c candor.conf init >/dev/null

# ---- the backfill, and curl fetching the same pages ------------------------------
touch shop/record
L1=$(load)
t0=$(now)
${CANDORD_WRAP:-} "$CANDORD" -c candor.conf --once 2>backfill.log
t1=$(now)
rm shop/record
got=$(sqlite3 candor.db "SELECT count(*) FROM orders")
[ "$got" -eq "$N" ] || { echo "api_bench: $got of $N orders" >&2; tail -5 backfill.log >&2; exit 1; }
mkdir shop/bodies
split -l 1 -a 6 -d shop/bodies.jsonl shop/bodies/
pages=$(ls shop/bodies | wc -l)
{
	sep=""
	for f in shop/bodies/*; do
		printf '%surl = "%s"\nheader = "X-Shopify-Access-Token: %s"\n' "$sep" "$URL" "$TOKEN"
		printf 'cacert = "cert.pem"\nheader = "Expect:"\nheader = "Content-Type: application/json"\ndata-binary = "@%s"\noutput = "/dev/null"\n' "$f"
		sep="next
"
	done
} > curl.conf
t2=$(now)
curl -sS --cacert cert.pem -K curl.conf >/dev/null || { echo "api_bench: curl failed" >&2; exit 1; }
t3=$(now)
L2=$(load)
RATE=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
CRATE=$(awk -v n="$N" -v a="$t2" -v b="$t3" 'BEGIN { printf "%.0f", n / (b - a) }')
RATIO=$(awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN { printf "%.2f", (b - a) / (d - c) }')
echo "backfill: $N orders in $pages pages: candord $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s ($RATE orders/s), curl $(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%.2f", b - a }') s ($CRATE orders/s); load $L1 / $L2" >&2

# ---- idle polls of a running candord ------------------------------------------
# started, left to settle (its first poll records the source's state),
# then watched for 6 s by another connection
: > shop/requests.log
"$CANDORD" -c candor.conf 2>idle.log &
D=$!
bg_started $D
sleep 3
"$SYSPY" - candor.db 6 > idle.out <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
v0 = db.execute("PRAGMA data_version").fetchone()[0]
t0 = time.time()
time.sleep(float(sys.argv[2]))
v1 = db.execute("PRAGMA data_version").fetchone()[0]
print("window %.3f %.3f" % (t0, time.time()))
print("writes", v1 - v0)
EOF
kill $D
wait $D 2>/dev/null || true
set -- $(awk '/^window/ { print $2, $3 }' idle.out)
REQS=$(awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b && /graphql.json/' shop/requests.log | wc -l)
WRITES=$(awk '/^writes/ { print $2 }' idle.out)
SECS=$(awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", b - a }')
echo "idle: $REQS requests in $SECS s at poll_interval 1s (one per poll); the store written $WRITES time(s) meanwhile" >&2
echo "orders_per_s=$RATE curl_orders_per_s=$CRATE ratio=$RATIO idle_requests=$REQS idle_seconds=$SECS idle_db_writes=$WRITES load=$L2"
