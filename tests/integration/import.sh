#!/bin/sh
# import.sh - candorctl import on real files into a real database:
# candor's CSV, a Shopify export, WooCommerce exports, JSON Lines, feedback; re-import updates
# in place; a bad row changes nothing unless --skip-bad, which writes the
# rejected rows untouched; history shows the result.
. "${top_srcdir:-.}/tests/integration/lib.sh"

command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI not installed"
cd "$WORK" || exit 1
DATA="$SRCDIR/tests/data"
write_config candor.conf
"$CANDORCTL" -c candor.conf init >/dev/null
q() { sqlite3 candor.db "$1"; }

check "import --help explains --skip-bad" sh -c "'$CANDORCTL' import --help | grep -q -- --skip-bad"
"$CANDORCTL" -c candor.conf import orders >/dev/null 2>&1
check "import without a file is a usage error (64)" [ $? -eq 64 ]
"$CANDORCTL" -c candor.conf import orders "$WORK/none.csv" 2>err.txt
check "a missing file exits 1 with its name" sh -c "[ $? -eq 1 ] && grep -q 'none.csv: cannot read: No such file' err.txt"

"$CANDORCTL" -c candor.conf import orders "$DATA/orders-generic.csv" >out.txt
check "candor's CSV imports" grep -q "3 rows (generic CSV): 3 orders written, 3 new" out.txt
check "quoted commas and quotes survive" [ "$(q "SELECT name FROM orders WHERE order_id='A-3'")" = 'Иван "Ваня" Петров' ]
check "items are stored as JSON" [ "$(q "SELECT json_extract(items, '\$[0].name') FROM orders WHERE order_id='A-1'")" = "Sencha, 100 g" ]
check "dates with zones become UTC seconds" [ "$(q "SELECT delivered FROM orders WHERE order_id='A-1'")" = 1793871000 ]
"$CANDORCTL" -c candor.conf import orders "$DATA/orders-generic.csv" >out.txt
check "re-importing updates, never duplicates" sh -c "grep -q '3 orders written, 0 new' out.txt && [ \$(sqlite3 candor.db 'SELECT count(*) FROM orders') -eq 3 ]"
# WooCommerce's status words, as its exports write them, in candor's CSV
printf 'order_id,email,status\nW-1,w1@example.org,processing\nW-2,w2@example.org,completed\nW-3,w3@example.org,on-hold\nW-4,w4@example.org,refunded\nW-5,w5@example.org,cancelled\nW-6,w6@example.org,failed\nW-7,w7@example.org,wc-completed\nW-8,w8@example.org,On hold\nW-9,w9@example.org,Pending payment\n' > woo.csv
"$CANDORCTL" -c candor.conf import orders --skip-bad woo-rejected.csv woo.csv >out.txt 2>err.txt
check "WooCommerce status words import" grep -q '8 orders written, 8 new, 1 rows rejected' out.txt
check "... processing/completed/on-hold/refunded/cancelled/failed map as documented" \
	[ "$(q "SELECT group_concat(status, ',') FROM (SELECT status FROM orders WHERE order_id LIKE 'W-%' ORDER BY order_id)")" = "paid,shipped,open,refunded,cancelled,cancelled,shipped,open" ]
check "... and a word WooCommerce does not have is still an error with its line" \
	grep -q 'woo.csv:10: unknown status "Pending payment"' err.txt
printf 'order_id,email,status,delivered\nOLD-1,old@example.org,delivered,2019-03-01\n' > old.csv
"$CANDORCTL" -c candor.conf import orders old.csv >out.txt
check "an order delivered years ago is said never to be mailed" \
	grep -q 'campaign "review" (trigger = "delivered"): 0 orders can be mailed; 1 never: delivered more than expire (30d) ago' out.txt
printf 'order_id,email,status,delivered\nA-2,wei@example.org,delivered,2026-11-20\n' > update.csv
"$CANDORCTL" -c candor.conf import orders update.csv >/dev/null
check "a re-import changes status and dates in place" [ "$(q "SELECT status || ',' || delivered || ',' || name FROM orders WHERE order_id='A-2'")" = "delivered,1795132800,王伟" ]

"$CANDORCTL" -c candor.conf import orders "$DATA/orders-shopify.csv" >out.txt 2>err.txt
check "a Shopify export with a bad order imports nothing (65)" [ $? -eq 65 ]
check "... and names the line and the reason" grep -q "orders-shopify.csv:7: missing email" err.txt
check "... and says nothing was imported" grep -q "nothing was imported" err.txt
check "... and wrote nothing" [ "$(q "SELECT count(*) FROM orders WHERE channel='shopify'")" -eq 0 ]
"$CANDORCTL" -c candor.conf import orders --skip-bad rejected.csv "$DATA/orders-shopify.csv" >out.txt 2>/dev/null
check "--skip-bad imports the good Shopify orders" grep -q "5 rows (Shopify CSV): 3 orders written, 3 new, 1 rows rejected" out.txt
check "line items of one order are merged" [ "$(q "SELECT json_array_length(items) FROM orders WHERE order_id='#1001'")" -eq 2 ]
check "Shopify status: fulfilled -> shipped" [ "$(q "SELECT status FROM orders WHERE order_id='#1001'")" = shipped ]
check "Shopify status: refunded" [ "$(q "SELECT status FROM orders WHERE order_id='#1003'")" = refunded ]
check "the first name comes from the shipping name" [ "$(q "SELECT first_name FROM orders WHERE order_id='#1002'")" = Ayumu ]
# A Shopify export has no delivery date and no locale: the import says
# what the campaigns will make of it instead of leaving it silent
check "the summary says the delivered trigger never mails a Shopify export" \
	grep -q 'campaign "review" (trigger = "delivered"): 0 orders can be mailed; 2 never: no delivered date (a Shopify export has none' out.txt
check "... refunded or cancelled orders are counted apart" grep -q '1 order returned, refunded or cancelled: never mailed' out.txt
check "... and an unconfigured channel is named" \
	grep -q 'channel "shopify" (3 orders) is not in the config.s channels: its mails carry no feedback link' out.txt
check "the locale comes from the shipping country" [ "$(q "SELECT locale FROM orders WHERE order_id='#1002'")" = ja-JP ]
check "... and the summary says for how many" grep -q 'locale taken from the country for 3 orders' out.txt
printf 'order_id,email,locale,country,status\nQ-1,q@example.org,fr-CA,CA,paid\n' > q1.csv
printf 'order_id,email,country,status\nQ-1,q@example.org,CA,shipped\n' > q2.csv
"$CANDORCTL" -c candor.conf import orders q1.csv >/dev/null && "$CANDORCTL" -c candor.conf import orders q2.csv >/dev/null
check "a re-import without a locale keeps the stored one (no country default over it)" \
	[ "$(q "SELECT locale || ',' || status FROM orders WHERE order_id='Q-1'")" = "fr-CA,shipped" ]
sed -n 1p "$DATA/orders-shopify.csv" | sed '1s/^\xEF\xBB\xBF//' > want.csv
sed -n 7p "$DATA/orders-shopify.csv" >> want.csv
check "the rejected file has the header and the bad row, byte for byte" cmp -s want.csv rejected.csv

# a Shopify order whose first row is broken is rejected with all its rows
python3 - "$DATA/orders-shopify.csv" <<'PY'
import sys
header = open(sys.argv[1], 'rb').read().split(b'\r\n')[0].lstrip(b'\xef\xbb\xbf')
n = header.count(b',') + 1
def row(*cells):
    cells = list(cells) + [b''] * (n - len(cells))
    return b','.join(cells) + b'\r\n'
first = row(b'#2001', b'bad@example.com', b'paid', b'', b'fulfilled', b'', b'', b'USD', b'', b'',
            b'', b'5.00', b'', b'', b'', b'2025-05-15 12:00:00 -0400', b'1', b'Bad \xff tea')
cont = row(b'#2001', b'bad@example.com', b'', b'', b'', b'', b'', b'', b'', b'', b'', b'', b'', b'',
           b'', b'', b'1', b'Extra tea')
open('split.csv', 'wb').write(header + b'\r\n' + first + cont)
PY
"$CANDORCTL" -c candor.conf import orders --skip-bad split-rej.csv split.csv >out.txt 2>err.txt
check "a Shopify order with a broken first row is not imported in part" \
	sh -c "grep -q '0 orders written' out.txt && [ \$(wc -l < split-rej.csv) -eq 3 ] && grep -q 'split.csv:2: not valid UTF-8' err.txt && [ \$(sqlite3 candor.db \"SELECT count(*) FROM orders WHERE order_id='#2001'\") -eq 0 ]"

# WooCommerce: the three plugin layouts (headers from the conformance
# README), with invented rows, hostile ones among them
WA="$DATA/orders-woo-algolplus.csv" WT="$DATA/orders-woo-webtoffee.csv" WS="$DATA/orders-woo-skyverge.csv"
"$CANDORCTL" -c candor.conf import orders "$WA" >out.txt 2>err.txt
check "a WooCommerce per-item export with 2 bad orders is read, and imports nothing (65)" \
	sh -c "[ $? -eq 65 ] && grep -q '4 bad row(s); nothing was imported' err.txt && [ \$(sqlite3 candor.db \"SELECT count(*) FROM orders WHERE order_id BETWEEN '1001' AND '1006'\") -eq 0 ]"
check "... names the first line of an order without email" grep -q "orders-woo-algolplus.csv:8: missing email" err.txt
check "... and the line of a broken quantity" grep -q 'orders-woo-algolplus.csv:11: Quantity: bad quantity "two"' err.txt
"$CANDORCTL" -c candor.conf import orders --skip-bad woo-a-rej.csv "$WA" >out.txt 2>/dev/null
check "the AlgolPlus layout (BOM, CRLF) is recognised and its rows grouped into orders" \
	grep -q "10 rows (WooCommerce CSV (Advanced Order Export)): 4 orders written, 4 new, 4 rows rejected" out.txt
check "... its line items with commas and quotes in their names" \
	[ "$(q "SELECT json_extract(items, '\$[1].name') || '/' || json_extract(items, '\$[0].quantity') || '/' || json_extract(items, '\$[0].sku') FROM orders WHERE order_id='1001'")" = 'Teapot "Kyoto", cast iron/2/T-100' ]
check "... a row that leaves the order's columns blank continues the order above" \
	[ "$(q "SELECT json_array_length(items) || '/' || json_extract(items, '\$[1].name') || '/' || json_extract(items, '\$[1].quantity') FROM orders WHERE order_id='1002'")" = "2/Gift box large/3" ]
check "... a | in a product name stays" [ "$(q "SELECT json_extract(items, '\$[0].name') FROM orders WHERE order_id='1003'")" = "Cup | white" ]
check "... the status labels map (Processing, On hold, Pending payment, Refunded)" \
	[ "$(q "SELECT group_concat(status, ',') FROM (SELECT status FROM orders WHERE order_id IN ('1001','1002','1003','1006') ORDER BY order_id)")" = "paid,open,open,refunded" ]
check "... names, email, country, locale, total and date from the billing columns" \
	[ "$(q "SELECT first_name || '/' || name || '/' || email || '/' || country || '/' || locale || '/' || total || '/' || purchased FROM orders WHERE order_id='1001'")" = "Ann/Ann Smith/Ann.Smith@example.com/CA/en-CA/48.90/1793628300" ]
sed -n 1p "$WA" | sed '1s/^\xEF\xBB\xBF//' > want.csv
sed -n '8,11p' "$WA" >> want.csv
check "... the rejected file has the header and every row of the two bad orders, byte for byte" cmp -s want.csv woo-a-rej.csv

"$CANDORCTL" -c candor.conf import orders --skip-bad woo-t-rej.csv "$WT" >out.txt 2>err.txt
check "the WebToffee layout (line_item_N) is recognised" \
	grep -q "4 rows (WooCommerce CSV (WebToffee)): 2 orders written, 2 new, 2 rows rejected" out.txt
check "... line_item cells give names, quantities and SKUs (a | inside a name, tax_data JSON and meta after it)" \
	[ "$(q "SELECT items FROM orders WHERE order_id='2001'")" = '[{"name":"Tea | Green","quantity":2,"sku":"T-G"},{"name":"Cup, \"Kyoto\"","quantity":1}]' ]
check "... billing email before the account's, WPML language as locale, currency, customer id" \
	[ "$(q "SELECT email || '/' || locale || '/' || currency || '/' || customer_id || '/' || country FROM orders WHERE order_id='2001'")" = "Lena.Vogel@example.de/de/EUR/7/AT" ]
check "... a guest's customer 0 is no customer, a line break in a name a space" \
	[ "$(q "SELECT coalesce(customer_id, 'none') || '/' || first_name || '/' || status FROM orders WHERE order_id='2004'")" = "none/Ann Marie/cancelled" ]
check "... an order without any email and a negative quantity are refused with their lines" \
	sh -c "grep -q 'orders-woo-webtoffee.csv:3: missing email' err.txt && grep -q 'orders-woo-webtoffee.csv:4: line_item_2: bad quantity \"-1\"' err.txt"

"$CANDORCTL" -c candor.conf import orders --skip-bad woo-s-rej.csv "$WS" >out.txt 2>err.txt
check "the older layout (line_items) is recognised" \
	grep -q "3 rows (WooCommerce CSV (Customer/Order CSV Export)): 2 orders written, 2 new, 1 rows rejected" out.txt
check "... its items split on ;name: and |sku: keep a ; and a | inside names" \
	[ "$(q "SELECT items FROM orders WHERE order_id='3001'")" = '[{"name":"Tea; green","quantity":2,"sku":"T1"},{"name":"Cup|B","quantity":1,"sku":"C1"}]' ]
check "... an order without items is imported, on-hold is open" [ "$(q "SELECT status || '/' || customer_id FROM orders WHERE order_id='3002'")" = "open/12" ]
check "... and a line_items cell that is none is refused" grep -q 'orders-woo-skyverge.csv:4: line_items does not start with name: ("Tea x 2")' err.txt
sqlite3 candor.db "DELETE FROM orders WHERE order_id='2001'"
"$CANDORCTL" -c candor.conf import orders "$WT" >/dev/null 2>err.txt
check "without --skip-bad a WooCommerce export with bad rows is refused whole, good orders too" \
	sh -c "[ $? -eq 65 ] && grep -q '2 bad row(s)' err.txt && [ \$(sqlite3 candor.db \"SELECT count(*) FROM orders WHERE order_id='2001'\") -eq 0 ]"
printf 'order_id,order_number,status,billing_email,line_item_1\n5001,5001,completed,x@example.org,name:Tea|product_id:1|quantity:2\n' > woo-min.csv
"$CANDORCTL" -c candor.conf import orders woo-min.csv >out.txt
check "a snake_case export with few columns is read too; completed is shipped" \
	sh -c "grep -q 'WooCommerce CSV (WebToffee)' out.txt && [ \"\$(sqlite3 candor.db \"SELECT status || '/' || json_extract(items, '\\\$[0].quantity') FROM orders WHERE order_id='5001'\")\" = shipped/2 ]"

"$CANDORCTL" -c candor.conf import orders "$DATA/orders-bad.csv" >/dev/null 2>err.txt
check "bad rows exit 65" [ $? -eq 65 ]
for want in "orders-bad.csv:3: invalid email" "orders-bad.csv:4: missing order_id" \
	    "orders-bad.csv:5: unknown status \"lost\"" "orders-bad.csv:6: bad date in delivered" \
	    "orders-bad.csv:7: 3 fields, but the header has 4" "orders-bad.csv:9: not valid UTF-8" \
	    "orders-bad.csv:10: a quoted field is never closed"; do
	check "reported: $want" grep -qF "$want" err.txt
done
check "and nothing of that file was imported" [ "$(q "SELECT count(*) FROM orders WHERE order_id LIKE 'B-%'")" -eq 0 ]
"$CANDORCTL" -c candor.conf import orders --skip-bad rej.csv "$DATA/orders-bad.csv" >/dev/null 2>&1
check "--skip-bad imports the 2 good rows" [ "$(q "SELECT count(*) FROM orders WHERE order_id LIKE 'B-%'")" -eq 2 ]
check "--skip-bad writes the 7 bad rows and the header" [ "$(wc -l < rej.csv)" -eq 8 ]
check "... byte for byte (the broken UTF-8 row too)" sh -c "grep -c \"\$(printf 'bad\\377\\376utf8')\" rej.csv | grep -q 1"

"$CANDORCTL" -c candor.conf import orders "$DATA/orders.jsonl" >out.txt
check "JSON Lines import" grep -q "2 rows (JSON Lines): 2 orders written, 2 new" out.txt
check "JSON items and numeric dates" [ "$(q "SELECT json_extract(items,'\$[0].name') || ',' || (SELECT delivered FROM orders WHERE order_id='J-2') FROM orders WHERE order_id='J-1'")" = "Tea,1794000000" ]
printf '{"order_id":"J-3","email":"a@example.org","colour":"red"}\nnot json\n' > bad.jsonl
"$CANDORCTL" -c candor.conf import orders bad.jsonl 2>err.txt
check "bad JSON Lines exit 65 with line numbers" sh -c "[ $? -eq 65 ] && grep -q 'bad.jsonl:1: unknown key \"colour\"' err.txt && grep -q 'bad.jsonl:2: not a JSON object' err.txt"
cat "$DATA/orders.jsonl" | "$CANDORCTL" -c candor.conf import orders - >out.txt
check "standard input works" grep -q "<stdin>\|^-: 2 rows" out.txt

"$CANDORCTL" -c candor.conf import feedback "$DATA/feedback.csv" >out.txt
check "feedback imports, with a comment spanning lines" sh -c "grep -q '2 feedback entries written, 2 new' out.txt && [ \"\$(sqlite3 candor.db \"SELECT comment FROM feedback WHERE order_id='A-2'\")\" = \"\$(printf 'Arrived broken,\\nbox crushed')\" ]"
"$CANDORCTL" -c candor.conf import feedback "$DATA/feedback.csv" >out.txt
check "re-importing feedback adds nothing" grep -q "0 new" out.txt
printf 'order_id,rating,received\nA-1,6,2026-11-12\nZZZ,3,2026-11-12\n' > badfb.csv
"$CANDORCTL" -c candor.conf import feedback badfb.csv 2>err.txt
check "feedback rating and unknown orders are checked" sh -c "[ $? -eq 65 ] && grep -q 'badfb.csv:2: rating must be' err.txt && grep -q 'badfb.csv:3: unknown order \"ZZZ\"' err.txt"

printf 'order_id,emial\n1,a@example.org\n' > typo.csv
"$CANDORCTL" -c candor.conf import orders typo.csv 2>err.txt
check "an unknown column is named" sh -c "[ $? -eq 65 ] && grep -q 'typo.csv:1: unknown column \"emial\"' err.txt"
: > empty.csv
"$CANDORCTL" -c candor.conf import orders empty.csv 2>err.txt
check "an empty file is an error" grep -q "empty file" err.txt

"$CANDORCTL" -c candor.conf history A-2 >hist.txt
check "history shows the order and its feedback" sh -c "grep -q 'order A-2 (amazon)' hist.txt && grep -q '1/5 from amazon: Arrived broken' hist.txt"
"$CANDORCTL" -c candor.conf history NOPE 2>err.txt
check "history of an unknown order says so" sh -c "[ $? -eq 1 ] && grep -q 'no order \"NOPE\"' err.txt"

done_testing
