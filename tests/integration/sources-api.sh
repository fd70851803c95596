#!/bin/sh
# sources-api.sh - the shopify and woocommerce sources against a shop's
# APIs served over HTTPS on loopback (shop-api.py, written from Shopify's
# Admin GraphQL and WooCommerce's REST v3 references) with a certificate
# only our own CA file vouches for. Covers `sources --test` (nothing
# written), a backfill over several pages, pages while orders change
# (page numbers shift; nothing may be skipped), an idle poll (one request,
# no order written), 429 with Retry-After, Shopify's cost throttle (both
# the THROTTLED answer and waiting before the bucket runs dry), a refused
# token (401/403: paused, said clearly, sending goes on), 500s, truncated
# and malformed JSON, a connection dropped mid-body, an oversized page
# (Content-Length and streamed), the shop's clock ahead of and behind
# candor's, an order refunded after its mail was queued (it does not go),
# a review rated 1 starting the apology, TLS verified, and no secret in
# any log.
. "${top_srcdir:-.}/tests/integration/lib.sh"

command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI not installed"
command -v openssl >/dev/null || skip_all "openssl not installed"
command -v smtp-sink >/dev/null || skip_all "smtp-sink (postfix) not installed"
cd "$WORK" || exit 1
q() { sqlite3 candor.db "$1"; }
NOW=$(date +%s)

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext "subjectAltName=IP:127.0.0.1" -keyout api-key.pem -out api-cert.pem >/dev/null 2>&1
mkdir shop
TOKEN=shpat_TOPSECRETshopifytoken0123
KEY=ck_TOPSECRETwookey4567
SECRET=cs_TOPSECRETwoosecret89
printf '%s\n' "$TOKEN" > shop/token
printf '%s\n' "$KEY" > shop/key
printf '%s\n' "$SECRET" > shop/secret
cp shop/token token.txt
cp shop/key key.txt
cp shop/secret secret.txt
chmod 600 token.txt key.txt secret.txt
"$SYSPY" "$SRCDIR/tests/integration/shop-api.py" "$WORK/shop" api-cert.pem api-key.pem \
	>shop.log 2>&1 &
bg_started $!
wait_for shop/port . 10 || skip_all "the test shop did not start (see shop.log)"
PORT=$(cat shop/port)

# gen FIRST COUNT STATUS UPDATED-AGO [SHIPPED-AGO]: orders as the shop
# keeps them, one a second apart, as a JSON list on stdout
cat > gen.py <<'EOF'
import json, sys, time
first, count, status, ago = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
shipped = int(sys.argv[5]) if len(sys.argv) > 5 else ago
now = int(time.time())
out = []
for i in range(first, first + count):
    o = {"id": 5000 + i, "number": 1000 + i, "email": "c%d@example.org" % i,
         "first": "Ann", "last": "Buyer%d" % i, "country": "DE", "status": status,
         "created": now - ago - 3600, "updated": now - ago + (i - first),
         "total": "42.50", "currency": "EUR",
         "items": [{"name": "Green Tea", "quantity": 2, "sku": "GT-1", "product_id": 55}]}
    if status in ("shipped", "delivered", "refunded", "returned"):
        o["shipped_at"] = now - shipped
    if status == "delivered":
        o["delivered_at"] = now - shipped + 60
    if i % 3 == 0:
        o["locale"] = "fr-FR"
    out.append(o)
print(json.dumps(out))
EOF
gen() { "$SYSPY" gen.py "$@"; }
# merge A.json B.json ...: one list
merge() { "$SYSPY" -c 'import json,sys; print(json.dumps([o for f in sys.argv[1:] for o in json.load(open(f))]))' "$@"; }
requests() { wc -l < shop/requests.log; }

conf() { # conf FILE SOURCE-SETTINGS [MORE CONFIG]
	write_config "$1" "sources = ( { $2 } );
${3:-}"
	sed -i 's/trigger = "delivered"; delay = "7d"; expire = "30d";/trigger = "shipped"; delay = "0s"; expire = "30d"; reminder = "1h"; reminder_template = "review_reminder";/' "$1"
	sed -i 's/^campaigns = ($/campaigns = (\n  { name = "apology"; trigger = "negative_feedback"; delay = "0s"; expire = "60d"; max_rating = 2;\n    variants = ( { name = "A"; template = "apology"; } ); },/' "$1"
}
SHOPIFY="name = \"shop\"; type = \"shopify\"; shop = \"127.0.0.1:$PORT\"; api_version = \"2025-07\";
  token_file = \"$WORK/token.txt\"; tls_ca = \"$WORK/api-cert.pem\"; timeout = \"10s\"; batch = 100;"
WOO="name = \"wc\"; type = \"woocommerce\"; url = \"https://127.0.0.1:$PORT\";
  key_file = \"$WORK/key.txt\"; secret_file = \"$WORK/secret.txt\"; tls_ca = \"$WORK/api-cert.pem\";
  timeout = \"10s\"; batch = 100;"

# ---- config ------------------------------------------------------------------------
conf candor.conf "$SHOPIFY"
"$CANDORCTL" -c candor.conf check-config > cc.out 2>&1
check "a shopify source validates (it was refused as unknown)" [ $? -eq 0 ]
conf bad.conf "name = \"wc\"; type = \"woocommerce\"; url = \"http://shop.example\"; key_file = \"k\"; secret_file = \"s\"; timeout = \"5m\"; max_response = \"lots\";"
"$CANDORCTL" -c bad.conf check-config > bad.out 2>&1
check "a woocommerce url over plain http is refused, with its line" \
	grep -q 'bad.conf:[0-9]*: .*url "http://shop.example" must be the shop.s https address' bad.out
check "a timeout past half the watchdog is refused" grep -q 'timeout must be between 1s and 60s' bad.out
check "a bad max_response is refused" grep -q 'max_response "lots" is not a size' bad.out
"$CANDORCTL" -c candor.conf init >/dev/null

# ---- sources --test: one request, nothing written -------------------------------------
gen 1 250 shipped 7200 > shop/orders.json
"$CANDORCTL" -c candor.conf sources --test shop > test.out 2>&1
check "sources --test works" [ $? -eq 0 ]
check "--test shows a mapped order (status, locale, items)" \
	grep -q '^order #1003: c3@example.org (Ann Buyer3) status shipped locale fr-FR country DE total 42.50 EUR .*items \[{"name":"Green Tea","quantity":2,"sku":"GT-1"}\]' test.out
check "--test: the locale from the country where Shopify has none" grep -q '^order #1001: .*locale de-DE' test.out
check "--test says more pages wait" grep -q '^shop: 100 rows read: 100 orders .*more rows wait' test.out
check "--test made one request" [ "$(requests)" -eq 1 ]
check "--test writes nothing" [ "$(q 'SELECT count(*) FROM orders')" -eq 0 ]
check "the request asks for orders updated since the window, sorted by update" \
	grep -q "POST /admin/api/2025-07/graphql.json q=updated_at:>='.*Z' first=100 after=None -> 200" shop/requests.log

# ---- backfill over pages, while orders change -------------------------------------------
# after the first page, order 5010 (on it) changes and moves to the end
gen 10 1 refunded 600 600 > shop/change.json
echo change > shop/faults
: > shop/requests.log
"$CANDORD" -c candor.conf --once 2>run1.log
check "candord --once with a shopify source exits 0" [ $? -eq 0 ]
check "the backfill took all 250 orders over three pages and more" \
	[ "$(q "SELECT count(*) FROM orders")" -eq 250 ]
check "the order that changed mid-backfill has its last status" \
	[ "$(q "SELECT status FROM orders WHERE order_id = '#1010'")" = refunded ]
check "requests went out for the shipped orders, none for the refunded one" \
	[ "$(q "SELECT count(*) FROM messages WHERE campaign = 'review' AND kind = 'request'")" -eq 249 ] &&
	[ "$(q "SELECT count(*) FROM messages WHERE order_id = '#1010'")" -eq 0 ]
check "the cursor is the last order's update time and id" \
	[ "$(q "SELECT key FROM source_cursors WHERE source = 'shop' AND stream = 'orders'")" = 5010 ]
"$CANDORCTL" -c candor.conf sources > list.out
# 251 rows: the order that changed was read twice
check "candorctl sources shows the shopify source, its rows and cursor" \
	grep -q '^shop  *shopify  *ok .* 251  *0  *0  orders=.*/5010' list.out

# ---- an idle poll: one request, no order written ------------------------------------------
before=$(q "SELECT max(seq) FROM order_changes")
n=$(requests)
"$CANDORD" -c candor.conf --once 2>idle.log
check "an idle poll is one request" [ "$(requests)" -eq $((n + 1)) ]
check "an idle poll writes no order" [ "$(q "SELECT max(seq) FROM order_changes")" = "$before" ]

# ---- 429 with Retry-After ----------------------------------------------------------------------
gen 300 3 shipped 500 > new.json
merge shop/orders.json new.json > o.json && mv o.json shop/orders.json
echo "429 2" > shop/faults
: > shop/requests.log
"$CANDORD" -c candor.conf --once 2>r429.log
check "after a 429 the orders still come" [ "$(q "SELECT count(*) FROM orders")" -eq 253 ]
gap=$(awk 'NR == 1 { t = $1 } NR == 2 { printf "%d", ($1 - t) * 1000 }' shop/requests.log)
check "the next request waits as Retry-After says (${gap} ms)" [ "${gap:-0}" -ge 1900 ]
check "the wait is logged as a throttle, not a failure" \
	sh -c "grep -q 'source shop: throttled by the shop (HTTP 429, Retry-After 2s)' r429.log && ! grep -q 'source shop:.*retrying' r429.log"

# ---- Shopify's cost throttle ----------------------------------------------------------------------
gen 310 2 shipped 450 > new.json
merge shop/orders.json new.json > o.json && mv o.json shop/orders.json
echo throttled > shop/faults
: > shop/requests.log
"$CANDORD" -c candor.conf --once 2>thr.log
gap=$(awk 'NR == 1 { t = $1 } NR == 2 { printf "%d", ($1 - t) * 1000 }' shop/requests.log)
check "a THROTTLED answer waits for the bucket (need 50 at 50/s: ${gap} ms)" \
	sh -c "[ ${gap:-0} -ge 1000 ] && [ \"\$(sqlite3 candor.db 'SELECT count(*) FROM orders')\" -eq 255 ]"
# a bucket of 400 restoring 100/s, pages costing 302: candor waits before
# the bucket runs dry instead of being refused
gen 400 250 shipped 400 > new.json
merge shop/orders.json new.json > o.json && mv o.json shop/orders.json
echo "400 100" > shop/bucket
: > shop/requests.log
"$CANDORD" -c candor.conf --once 2>bucket.log
rm shop/bucket
check "with a small bucket every page still comes" [ "$(q "SELECT count(*) FROM orders")" -eq 505 ]
check "... and candor waited for the bucket: never throttled" \
	sh -c "[ \$(wc -l < shop/requests.log) -ge 3 ] && ! grep -q THROTTLED shop/requests.log && ! grep -q 'Throttled' bucket.log"

# ---- faults: nothing of the failing page is written, the cursor stays ----------------------------
gen 700 2 shipped 100 > new.json
merge shop/orders.json new.json > o.json && mv o.json shop/orders.json
cursor() { q "SELECT time || '/' || key FROM source_cursors WHERE source = 'shop' AND stream = 'orders'"; }
fault() { # fault NAME FAULT LOG-PATTERN
	c0=$(cursor)
	echo "$2" > shop/faults
	"$CANDORD" -c candor.conf --once 2>fault.log
	check "$1: said clearly" grep -q "$3" fault.log
	check "$1: nothing written, the cursor stays" \
		sh -c "[ \"\$(sqlite3 candor.db 'SELECT count(*) FROM orders')\" -eq 505 ] && [ \"$(cursor)\" = \"$c0\" ]"
}
fault "HTTP 500" 500 "source shop: https://127.0.0.1:$PORT/admin/api/2025-07/graphql.json: the shop answered HTTP 500 (a server error); retrying in"
fault "truncated JSON" truncated "source shop: the shop's answer is not whole JSON: it ends after [0-9]* bytes (truncated)"
fault "malformed JSON" malformed "source shop: the shop's answer is malformed JSON at byte [0-9]*"
fault "a connection dropped mid-body" drop "source shop: .*: the connection broke during the answer"
fault "a page over max_response (Content-Length)" huge "the response is larger than max_response (50 MB): refused, not read"
sed -i "s|batch = 100;|batch = 100; max_response = \"1MB\";|" candor.conf
t0=$(date +%s)
fault "a streamed page over max_response" "stream 8" "the response is larger than max_response (1 MB): refused, not read"
check "... refused without reading it all" [ $(( $(date +%s) - t0 )) -lt 10 ]
sed -i 's| max_response = "1MB";||' candor.conf
"$CANDORD" -c candor.conf --once 2>ok.log
check "after the faults the orders come" [ "$(q "SELECT count(*) FROM orders")" -eq 507 ]

# ---- a refused token: paused, said clearly, sending goes on ----------------------------------------
printf 'shpat_WRONGtoken\n' > token.txt
q "INSERT INTO orders (order_id, email, shipped, status) VALUES ('o1', 'o1@example.org', unixepoch('now', '-1 hour'), 'shipped')"
NOTIFY=0
if "$SYSPY" "$SRCDIR/tests/integration/notify-listen.py" "$WORK/notify.sock" notify.log \
	</dev/null >/dev/null 2>&1 & then
	bg_started $!
	wait_for notify.log listening 5 && NOTIFY=1
fi
NOTIFY_SOCKET="$WORK/notify.sock" timeout 20 "$CANDORD" -c candor.conf 2>refused.log &
PID=$!
bg_started $PID
wait_for refused.log "cycle done" 10
check "a refused token is said clearly, with the source" \
	grep -q "source shop: the shop refused candor's credentials (HTTP 401 Unauthorized) at https://127.0.0.1:$PORT/admin/api/2025-07/graphql.json: check the token or key files .*polling paused; retrying in" refused.log
check "STATUS= shows it failing" wait_for notify.log "STATUS=.*sources: shop FAILING (the shop refused candor's credentials (HTTP 401" 5
check "sending goes on" [ "$(q "SELECT count(*) FROM messages WHERE order_id = 'o1' AND state = 'sent'")" -eq 1 ]
kill $PID 2>/dev/null
wait $PID 2>/dev/null
check "paused: the retry is a quarter hour away at least" \
	sh -c "grep -q 'polling paused; retrying in \\(9[0-9][0-9]\\|1[0-9][0-9][0-9]\\)s' refused.log"
"$CANDORCTL" -c candor.conf sources > list2.out
check "candorctl sources shows the refusal" grep -q "last error: .*HTTP 401 Unauthorized" list2.out
cp shop/token token.txt
echo 403 > shop/faults
"$CANDORD" -c candor.conf --once 2>r403.log
check "a 403 is said clearly too" grep -q "refused candor's credentials (HTTP 403 Forbidden)" r403.log

# ---- shipped, its mail queued, then refunded: the mail does not go --------------------------------
start_sink sink-busy -r RCPT || skip_all "smtp-sink did not start"
sed -i "s|^transport = \"outbox\";|transport = \"smtp\"; smtp = { url = \"smtp://127.0.0.1:$SINK_PORT\"; };|" candor.conf
gen 900 1 shipped 50 > new.json
merge shop/orders.json new.json > o.json && mv o.json shop/orders.json
"$CANDORD" -c candor.conf --once 2>queued.log
check "the shipped order's request waits, deferred" \
	[ "$(q "SELECT state FROM messages WHERE order_id = '#1900'")" = deferred ]
stop_sink
start_sink sink-ok || skip_all "smtp-sink did not start"
sed -i "s|smtp://127.0.0.1:[0-9]*|smtp://127.0.0.1:$SINK_PORT|" candor.conf
gen 900 1 refunded 50 > shop/change.json
"$SYSPY" -c 'import json; o = json.load(open("shop/orders.json")); c = json.load(open("shop/change.json"))[0]; c["updated"] += 5; print(json.dumps([x for x in o if x["id"] != c["id"]] + [c]))' > o.json && mv o.json shop/orders.json
CANDOR_NOW=$((NOW + 8 * 60)) "$CANDORD" -c candor.conf --once 2>refund.log
check "the refund is picked up" [ "$(q "SELECT status FROM orders WHERE order_id = '#1900'")" = refunded ]
check "the queued mail of the refunded order does not go" \
	sh -c "[ \"\$(sqlite3 candor.db \"SELECT state FROM messages WHERE order_id = '#1900'\")\" = failed ] && ! grep -rqs 'c900@example.org' sink-ok"
check "... saying why" grep -q "order #1900: message <.*> not sent: the order was refunded while the message waited" refund.log
CANDOR_NOW=$((NOW + 3 * 3600)) "$CANDORD" -c candor.conf --once 2>/dev/null
check "... and no reminder for it" [ "$(q "SELECT count(*) FROM messages WHERE order_id = '#1900' AND kind = 'reminder'")" -eq 0 ]
stop_sink

# ---- the shop's clock behind candor's, then ahead, by 3 hours ------------------------------------
# (a fresh store each: a shop's clock is off all along, not jumping)
fresh() { rm -f candor.db candor.db-wal candor.db-shm; conf candor.conf "$SHOPIFY"; "$CANDORCTL" -c candor.conf init >/dev/null; }
fresh
echo -10800 > shop/skew
gen 800 1 shipped 100 > shop/orders.json
"$CANDORD" -c candor.conf --once 2>/dev/null
gen 801 1 shipped 0 > new.json
merge shop/orders.json new.json > o.json && mv o.json shop/orders.json
"$CANDORD" -c candor.conf --once 2>/dev/null
check "the shop's clock behind: the first order and a change made now both come" \
	[ "$(q "SELECT count(*) FROM orders WHERE order_id IN ('#1800', '#1801')")" -eq 2 ]
fresh
echo 10800 > shop/skew
gen 810 1 shipped 0 > shop/orders.json
"$CANDORD" -c candor.conf --once 2>skew.log
check "clock skew: the order is taken" [ "$(q "SELECT count(*) FROM orders WHERE order_id = '#1810'")" -eq 1 ]
check "clock skew: its dates are not in candor's future" \
	[ "$(q "SELECT shipped <= unixepoch('now') AND purchased <= unixepoch('now') FROM orders WHERE order_id = '#1810'")" = 1 ]
check "clock skew: its request went now, not in 3 hours" \
	[ "$(q "SELECT count(*) FROM messages WHERE order_id = '#1810'")" -eq 1 ]
check "clock skew: noted in the log" grep -q "the shop's clock runs ahead of candor's" skew.log
before=$(q "SELECT max(seq) FROM order_changes")
"$CANDORD" -c candor.conf --once 2>/dev/null
check "clock skew: the cursor is in the shop's time: nothing read twice" \
	[ "$(q "SELECT max(seq) FROM order_changes")" = "$before" ]
rm shop/skew

# ---- WooCommerce: pages by number while orders change, reviews ---------------------------------------
rm -f candor.db candor.db-wal candor.db-shm
conf woo.conf "$WOO"
"$CANDORCTL" -c woo.conf init >/dev/null
gen 1 250 shipped 7200 > shop/orders.json
"$CANDORCTL" -c woo.conf sources --test wc > wtest.out 2>&1
check "woocommerce --test shows a mapped order (completed: shipped)" \
	grep -q '^order 5003: c3@example.org (Ann Buyer3) status shipped locale de-DE country DE total 42.50 EUR .*items \[{"name":"Green Tea","quantity":2,"sku":"GT-1"}\]' wtest.out
check "woocommerce --test writes nothing" [ "$(q 'SELECT count(*) FROM orders')" -eq 0 ]
# order 5050, on page 1, changes after page 1 is served: on page
# numbers, every later order shifts one page back and one would be lost
gen 50 1 refunded 0 > shop/change.json
echo change > shop/faults
: > shop/requests.log
"$CANDORD" -c woo.conf --once 2>w1.log
check "woocommerce: pages while an order changes lose nothing" [ "$(q "SELECT count(*) FROM orders")" -eq 250 ]
check "woocommerce: the changed order has its last status" [ "$(q "SELECT status FROM orders WHERE order_id = '5050'")" = refunded ]
check "woocommerce: modified_after, orderby=modified, order=asc, per_page=100, GMT" \
	grep -q "GET /wp-json/wc/v3/orders modified_after=.*&dates_are_gmt=true&orderby=modified&order=asc&per_page=100&page=1 -> 200" shop/requests.log
"$SYSPY" -c "import json, time; print(json.dumps([{'id': 77, 'product_id': 55, 'email': 'C3@example.org', 'rating': 1, 'review': 'Stale tea.', 'created': int(time.time()) - 60, 'status': 'hold'}, {'id': 78, 'product_id': 55, 'email': 'spam@example.org', 'rating': 5, 'created': int(time.time()) - 50, 'status': 'spam'}]))" > shop/reviews.json
"$CANDORD" -c woo.conf --once 2>w2.log
check "woocommerce: a review rated 1 is feedback of the customer's order" \
	[ "$(q "SELECT order_id || ':' || rating FROM feedback")" = "5003:1" ]
check "woocommerce: it starts the apology" [ "$(q "SELECT count(*) FROM messages WHERE order_id = '5003' AND campaign = 'apology'")" -eq 1 ]
check "woocommerce: the reviews' cursor" [ "$(q "SELECT key FROM source_cursors WHERE source = 'wc' AND stream = 'feedback'")" = 78 ]
printf 'ck_wrong\n' > key.txt
"$CANDORD" -c woo.conf --once 2>w401.log
check "woocommerce: a wrong key is said clearly" grep -q "source wc: the shop refused candor's credentials (HTTP 401 Unauthorized)" w401.log
cp shop/key key.txt

# ---- TLS is verified -----------------------------------------------------------------------------
sed "s|tls_ca = \"$WORK/api-cert.pem\";||" woo.conf > notls.conf
"$CANDORD" -c notls.conf --once 2>notls.log
check "a certificate no CA vouches for is refused" grep -qi "source wc: .*certificate" notls.log

# ---- no secret in any log -------------------------------------------------------------------------
check "no token, key or secret in any log or output" \
	sh -c "! grep -l 'TOPSECRET' *.log *.out 2>/dev/null | grep -q ."
"$CANDORCTL" -c candor.conf check-config > print.out 2>&1
check "the printed config shows no token" sh -c "! grep -q TOPSECRET print.out"

done_testing
