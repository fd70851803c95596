#!/bin/sh
# sources.sh - the sql order source against real servers: a MariaDB and a
# PostgreSQL of our own on loopback, WooCommerce's HPOS tables created as
# WooCommerce does, orders with its real status values. First pickup
# with `since` (no mail for a 2019 order), `sources --test` writing
# nothing, incremental pickup, a status change after a mail went out (a
# refund stops the reminder), trashed and deleted orders, a row with a
# broken e-mail skipped without blocking the cursor, a review rated 1
# starting the apology, an order deleted outright in the shop (cancelled
# before its reminder; an imported order is not the source's to judge),
# a wrong password (logged once, no password in the
# log), TLS verified, the server killed mid-poll and restarted, candord
# killed -9 mid-poll (the cursor committed with its rows: none lost, none
# twice); then PostgreSQL with the same preset (stopped between polls and
# in the middle of a backfill, candord killed -9 mid-poll, an order
# deleted) and with the shop's own query.
. "${top_srcdir:-.}/tests/integration/lib.sh"
. "$SRCDIR/tests/integration/dbservers.sh"

command -v mariadbd >/dev/null || skip_all "mariadb-server is not installed (scripts/install-deps)"
[ -x "$PG_BIN/initdb" ] || skip_all "postgresql is not installed (scripts/install-deps)"
cd "$WORK" || exit 1
# TLS with a certificate for 127.0.0.1 that only our own CA file vouches for
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext "subjectAltName=IP:127.0.0.1" -keyout my-key.pem -out my-cert.pem >/dev/null 2>&1
MY_OPTS="--ssl-cert=$WORK/my-cert.pem --ssl-key=$WORK/my-key.pem"
start_mariadb "$WORK/my" || skip_all "mariadb would not start (see its log above)"

ago() { date -u -d "-$1" +"%Y-%m-%d %H:%M:%S"; }
q() { sqlite3 candor.db "$1"; }

# woo_order ID STATUS EMAIL CREATED-AGO UPDATED-AGO: an order as
# WooCommerce writes it, with a billing address and two line items
woo_order() {
	cat <<EOS
INSERT INTO wp_wc_orders (id, status, currency, type, total_amount, customer_id, billing_email,
  date_created_gmt, date_updated_gmt) VALUES ($1, '$2', 'EUR', 'shop_order', 42.50, 7, '$3',
  '$(ago "$4")', '$(ago "$5")');
INSERT INTO wp_wc_order_addresses (order_id, address_type, first_name, last_name, country)
  VALUES ($1, 'billing', 'Ann', 'Buyer$1', 'DE');
INSERT INTO wp_wc_order_operational_data (order_id, date_completed_gmt)
  VALUES ($1, $( [ "$2" = wc-completed ] && echo "'$(ago "$5")'" || echo NULL));
INSERT INTO wp_woocommerce_order_items (order_item_name, order_item_type, order_id)
  VALUES ('Green Tea', 'line_item', $1);
INSERT INTO wp_woocommerce_order_itemmeta (order_item_id, meta_key, meta_value)
  VALUES ((SELECT max(order_item_id) FROM wp_woocommerce_order_items), '_qty', '2'),
         ((SELECT max(order_item_id) FROM wp_woocommerce_order_items), '_product_id', '55');
INSERT INTO wp_woocommerce_order_items (order_item_name, order_item_type, order_id)
  VALUES ('Flat rate', 'shipping', $1);
EOS
}
woo_status() {
	echo "UPDATE wp_wc_orders SET status = '$2', date_updated_gmt = '$(ago "$3")' WHERE id = $1;"
}

my_root -e "CREATE DATABASE woo; CREATE USER 'candor'@'127.0.0.1' IDENTIFIED BY 'shop-db-s3cret';"
my_root woo < "$SRCDIR/tests/data/sources/woocommerce.sql"
# exactly the read-only grants README documents
sed 's/ON wordpress\./ON woo./' "$SRCDIR/tests/data/sources/grants-woocommerce.sql" | my_root
{
	woo_order 1 wc-completed old@example.org "2400 days" "2399 days"
	woo_order 2 wc-completed ann@example.org "3 days" "2 days"
	woo_order 3 wc-processing bob@example.org "1 day" "1 day"
	woo_order 4 wc-completed "broken@" "1 day" "20 hours"
	woo_order 5 wc-completed cid@example.org "1 day" "10 hours"
	woo_order 6 wc-completed dan@example.org "1 day" "9 hours"
	# a shop's value is as hostile as a file's: a line break in a name
	echo "UPDATE wp_wc_order_addresses SET first_name = CONCAT('Dan', CHAR(13), CHAR(10), 'Bcc: x@evil.example') WHERE order_id = 6;"
} | my_root woo
printf 'shop-db-s3cret\n' > woo.pw
chmod 600 woo.pw

src_conf() { # src_conf FILE DRIVER PORT PASSWORD-FILE [EXTRA]
	write_config "$1" "sources = ( { name = \"woo\"; type = \"sql\"; driver = \"$2\";
  preset = \"woocommerce\"; host = \"127.0.0.1\"; port = $3; user = \"candor\";
  password_file = \"$4\"; database = \"woo\"; tls = \"none\"; timeout = \"5s\"; ${5:-} } );"
	sed -i 's/trigger = "delivered"; delay = "7d"; expire = "30d";/trigger = "shipped"; delay = "0s"; expire = "30d"; reminder = "1h"; reminder_template = "review_reminder";/' "$1"
	sed -i 's/^campaigns = ($/campaigns = (\n  { name = "apology"; trigger = "negative_feedback"; delay = "0s"; expire = "60d"; max_rating = 2;\n    variants = ( { name = "A"; template = "apology"; } ); },/' "$1"
}
src_conf candor.conf mariadb "$MY_PORT" "$WORK/woo.pw"
"$CANDORCTL" -c candor.conf init >/dev/null
"$CANDORCTL" -c candor.conf check-config >/dev/null 2>&1
check "a sources section validates" [ $? -eq 0 ]

# ---- sources --test: one poll, nothing written
"$CANDORCTL" -c candor.conf sources --test woo > test.out 2>&1
check "sources --test works" [ $? -eq 0 ]
check "--test shows a mapped order with items and locale" \
	grep -q '^order 2: ann@example.org (Ann Buyer2) status shipped locale de-DE country DE total 42.50 EUR .*items \[{"name":"Green Tea","quantity":2}\]' test.out
check "--test shows the broken e-mail as a problem with its key" grep -q '^problem: 4: invalid email "broken@"' test.out
check "--test writes nothing" [ "$(q 'SELECT count(*) FROM orders')" -eq 0 ]
check "--test keeps the 2019 order out (since)" sh -c '! grep -q "^order 1:" test.out'

# ---- first pickup: only what a campaign could still mail
"$CANDORD" -c candor.conf --once 2>run1.log
check "candord --once with a source exits 0" [ $? -eq 0 ]
check "first pickup takes the recent orders" [ "$(q "SELECT group_concat(order_id) FROM (SELECT order_id FROM orders ORDER BY order_id)")" = "2,3,5,6" ]
check "no order from 2019, no mail for it" [ "$(q "SELECT count(*) FROM messages WHERE order_id = '1'")" -eq 0 ]
check "the bad row is logged with its key" grep -q 'source woo: row 4 skipped: invalid email' run1.log
check "a shop's name is cleaned as an import's is (one line)" \
	[ "$(q "SELECT first_name FROM orders WHERE order_id='6'")" = "Dan Bcc: x@evil.example" ]
check "statuses mapped (completed: shipped, processing: paid)" \
	[ "$(q "SELECT status FROM orders WHERE order_id='2'")/$(q "SELECT status FROM orders WHERE order_id='3'")" = "shipped/paid" ]
check "requests went out for the shipped orders" [ "$(q "SELECT count(*) FROM messages WHERE kind='request' AND campaign='review'")" -eq 3 ]
check "the cursor passed the bad row" [ "$(q "SELECT key FROM source_cursors WHERE source='woo' AND stream='orders'")" = 6 ]
"$CANDORCTL" -c candor.conf sources > list.out
check "candorctl sources shows state, rows and cursor" \
	grep -q '^woo  *sql  *ok .* 5  *1  *0  orders=.*/6' list.out

# ---- incremental: a new order, a refund after the mail, a trashed and a
# deleted order, a review rated 1
{
	woo_order 7 wc-completed eve@example.org "2 hours" "1 hour"
	woo_order 8 wc-completed gus@example.org "2 hours" "50 minutes"
	woo_status 5 wc-refunded "30 minutes"
	woo_status 6 trash "29 minutes"
	echo "DELETE FROM wp_wc_orders WHERE id = 3;"
	echo "INSERT INTO wp_comments (comment_post_ID, comment_author, comment_author_email,
	  comment_date, comment_date_gmt, comment_content, comment_type)
	  VALUES (55, 'Ann', 'ann@example.org', '$(ago "5 minutes")', '$(ago "5 minutes")', 'Stale tea.', 'review');
	INSERT INTO wp_commentmeta (comment_id, meta_key, meta_value) VALUES (LAST_INSERT_ID(), 'rating', '1');"
} | my_root woo
"$CANDORD" -c candor.conf --once 2>run2.log
check "incremental pickup takes the new order" [ "$(q "SELECT status FROM orders WHERE order_id='7'")" = shipped ]
check "a refund is picked up" [ "$(q "SELECT status FROM orders WHERE order_id='5'")" = refunded ]
check "a trashed order is cancelled" [ "$(q "SELECT status FROM orders WHERE order_id='6'")" = cancelled ]
check "a deleted order stays as it was" [ "$(q "SELECT status FROM orders WHERE order_id='3'")" = paid ]
check "the review is feedback of order 2" [ "$(q "SELECT rating FROM feedback WHERE order_id='2'")" = 1 ]
check "a rating of 1 starts the apology, nothing imported" [ "$(q "SELECT count(*) FROM messages WHERE order_id='2' AND campaign='apology'")" -eq 1 ]
check "order 8 got its request" [ "$(q "SELECT count(*) FROM messages WHERE order_id='8' AND kind='request'")" -eq 1 ]
check "orders are marked with the source that read them" [ "$(q "SELECT source FROM orders WHERE order_id='8'")" = woo ]
# order 8 deleted outright in the shop while its reminder is still to go;
# an imported order the shop never had (no source) is not the source's to judge
echo "DELETE FROM wp_wc_orders WHERE id = 8;" | my_root woo
q "INSERT INTO orders (order_id, email, shipped, status) VALUES ('M-1', 'mo@example.org', unixepoch('now', '-1 hour'), 'shipped')"
"$CANDORCTL" -c candor.conf sources --test woo > gone.out 2>&1
check "--test shows the deleted order and cancels nothing" \
	sh -c "grep -q '^gone: order 8 is no longer in the shop' gone.out && [ \"\$(sqlite3 candor.db \"SELECT status FROM orders WHERE order_id='8'\")\" = shipped ]"
CANDOR_NOW=$(( $(date +%s) + 7200 )) "$CANDORD" -c candor.conf --once 2>run3.log
check "the refunded order gets no reminder" [ "$(q "SELECT count(*) FROM messages WHERE order_id='5' AND kind='reminder'")" -eq 0 ]
check "the cancelled order gets no reminder" [ "$(q "SELECT count(*) FROM messages WHERE order_id='6' AND kind='reminder'")" -eq 0 ]
check "an order still shipped gets its reminder" [ "$(q "SELECT count(*) FROM messages WHERE order_id='7' AND kind='reminder'")" -eq 1 ]
check "an order deleted in the shop is cancelled" [ "$(q "SELECT status FROM orders WHERE order_id='8'")" = cancelled ]
check "the deleted order gets no reminder" [ "$(q "SELECT count(*) FROM messages WHERE order_id='8' AND kind='reminder'")" -eq 0 ]
check "the deletion is an event and logged" \
	sh -c "[ \"\$(sqlite3 candor.db \"SELECT count(*) FROM events WHERE order_id='8' AND kind='order_deleted'\")\" -eq 1 ] && grep -q 'source woo: order 8 was deleted in the shop' run3.log"
check "an imported order the shop never had is left alone (and mailed)" \
	[ "$(q "SELECT status FROM orders WHERE order_id='M-1'")/$(q "SELECT count(*) FROM messages WHERE order_id='M-1'")" = shipped/1 ]

# ---- a poll with nothing new reads nothing and writes no order
before=$(q "SELECT max(seq) FROM order_changes")
"$CANDORD" -c candor.conf --once 2>/dev/null
check "a poll with nothing changed writes no order" [ "$(q "SELECT max(seq) FROM order_changes")" = "$before" ]

# ---- the settle window: a long shop transaction commits a row whose
# change time is behind rows read meanwhile. A transaction held open on
# MariaDB writes order 20 (changed 20 s ago); order 21 (changed 5 s ago)
# commits and is read, moving the cursor past 20's time; then 20 commits.
# With the default window (60 s) the next poll takes 20, and 21, read
# again, is not processed twice; with settle = "0s" 20 is lost.
for v in late late0; do
	src_conf $v.conf mariadb "$MY_PORT" "$WORK/woo.pw" "feedback = false; recheck = 0; $( [ $v = late0 ] && echo 'settle = "0s";')"
	sed -i "s|^database = .*|database = \"$v.db\";|" $v.conf
	"$CANDORCTL" -c $v.conf init >/dev/null
	"$CANDORD" -c $v.conf --once 2>/dev/null
done
mkfifo tx.fifo
my_root woo < tx.fifo > tx.out 2>&1 &
TXPID=$!
bg_started $TXPID
exec 3>tx.fifo
{ echo "BEGIN;"; woo_order 20 wc-completed late@example.org "1 hour" "20 seconds"; } >&3
i=0
while [ "$(my_root -N -e "SELECT count(*) FROM information_schema.innodb_trx WHERE trx_rows_modified > 0")" -eq 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
# (without items: reading the item ids would wait for the open transaction's locks)
my_root woo -e "INSERT INTO wp_wc_orders (id, status, currency, type, total_amount, customer_id,
  billing_email, date_created_gmt, date_updated_gmt) VALUES (21, 'wc-completed', 'EUR', 'shop_order',
  9.50, 0, 'next@example.org', '$(ago "1 hour")', '$(ago "5 seconds")')"
check "settle: a transaction is open with order 20, invisible to others" \
	[ "$(my_root woo -N -e 'SELECT count(*) FROM wp_wc_orders WHERE id = 20')" -eq 0 ]
"$CANDORD" -c late.conf --once 2>late1.log
"$CANDORD" -c late0.conf --once 2>/dev/null
check "settle: the later order is read, the cursor past order 20's time" \
	[ "$(sqlite3 late.db "SELECT count(*) FROM orders WHERE order_id = '21'")/$(sqlite3 late.db "SELECT key FROM source_cursors WHERE stream = 'orders'")" = 1/21 ]
echo "COMMIT;" >&3
exec 3>&-
wait $TXPID
sleep 1 # a second rewrite of order 21 would show in its updated time
changes=$(sqlite3 late.db "SELECT updated FROM orders WHERE order_id = '21'")
rows=$(sqlite3 late.db "SELECT rows FROM source_status")
"$CANDORD" -c late.conf --once 2>late2.log
"$CANDORD" -c late0.conf --once 2>/dev/null
check "settle: the row committed late, behind the cursor, is taken with its items" \
	[ "$(sqlite3 late.db "SELECT status || ' ' || items FROM orders WHERE order_id = '20'")" = 'shipped [{"name":"Green Tea","quantity":2}]' ]
check "settle: and mailed once" [ "$(sqlite3 late.db "SELECT count(*) FROM messages WHERE order_id = '20'")" -eq 1 ]
check "settle: rows read again in the window are not processed again (one row taken)" \
	[ "$(sqlite3 late.db "SELECT updated FROM orders WHERE order_id = '21'")/$(sqlite3 late.db "SELECT rows FROM source_status")" = "$changes/$((rows + 1))" ]
check "settle = 0s: the late row is lost (what the window is for)" \
	[ "$(sqlite3 late0.db "SELECT count(*) FROM orders WHERE order_id = '20'")" -eq 0 ]
rows=$(sqlite3 late.db "SELECT rows FROM source_status")
"$CANDORD" -c late.conf --once 2>late3.log
check "settle: a further poll takes nothing again" [ "$(sqlite3 late.db "SELECT rows FROM source_status")" = "$rows" ]

# ---- a wrong password: logged once with the source's name, shown, sending goes on
printf 'wrong-password\n' > bad.pw
chmod 600 bad.pw
src_conf bad.conf mariadb "$MY_PORT" "$WORK/bad.pw"
sed -i 's|^database = .*|database = "bad.db";|' bad.conf
"$CANDORCTL" -c bad.conf init >/dev/null
sqlite3 bad.db "INSERT INTO orders (order_id, email, shipped, status) VALUES ('s1', 's1@example.org', unixepoch('now', '-1 day'), 'shipped')"
timeout 20 "$CANDORD" -c bad.conf 2>bad.log &
BADPID=$!
bg_started $BADPID
wait_for bad.log "cycle done" 10
sleep 1
kill $BADPID 2>/dev/null
wait $BADPID 2>/dev/null
check "a wrong password is logged with the source's name" grep -q "source woo: cannot connect: Access denied" bad.log
check "it is logged once" [ "$(grep -c 'source woo: cannot connect' bad.log)" -eq 1 ]
check "no password in the log" sh -c '! grep -q "wrong-password\|shop-db-s3cret" bad.log'
check "sending goes on while the source fails" [ "$(sqlite3 bad.db "SELECT count(*) FROM messages WHERE state='sent'")" -eq 1 ]
"$CANDORCTL" -c bad.conf sources > badlist.out
check "candorctl sources shows it failing with the reason" \
	sh -c "grep -q '^woo .* failing ' badlist.out && grep -q 'last error: cannot connect: Access denied' badlist.out"

# ---- TLS: verified by default, against the system's CAs or tls_ca
src_conf tls.conf mariadb "$MY_PORT" "$WORK/woo.pw"
sed -i 's/tls = "none";/tls = "required"; tls_ca = "'"$(echo "$WORK" | sed 's/[\/&]/\\&/g')"'\/my-cert.pem";/' tls.conf
"$CANDORCTL" -c tls.conf sources --test woo > tls.out 2>&1
check "TLS verified against tls_ca works" grep -q '^woo: .* rows read' tls.out
sed -i 's/ tls_ca = "[^"]*";//' tls.conf
"$CANDORCTL" -c tls.conf sources --test woo > tls2.out 2>&1
check "a certificate nobody vouches for is refused by default" sh -c "! grep -q '^woo: .* rows read' tls2.out && grep -qi 'cannot connect' tls2.out"

# ---- a backfill: the server killed mid-poll and restarted, then candord
# killed -9 mid-poll; every order exactly once
N=30000
my_root woo -e "INSERT INTO wp_wc_orders (id, status, currency, type, total_amount, customer_id,
  billing_email, date_created_gmt, date_updated_gmt)
  SELECT 1000 + seq, 'wc-processing', 'EUR', 'shop_order', 10, 0, concat('b', seq, '@example.org'),
  '$(ago "5 days")', '$(ago "4 days")' + INTERVAL seq SECOND FROM seq_1_to_$N;"
src_conf big.conf mariadb "$MY_PORT" "$WORK/woo.pw" 'batch = 200; poll_interval = "1s"; feedback = false;'
sed -i 's|^database = .*|database = "big.db";|' big.conf
"$CANDORCTL" -c big.conf init >/dev/null
"$CANDORD" -c big.conf 2>big.log &
BIGPID=$!
bg_started $BIGPID
i=0
while [ "$(sqlite3 big.db "SELECT count(*) FROM orders" 2>/dev/null || echo 0)" -lt 2000 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill_mariadb
wait_for big.log "source woo: .*retrying" 10
check "the server killed mid-poll: the source fails, logged" grep -q "source woo: .*retrying in" big.log
taken=$(sqlite3 big.db "SELECT count(*) FROM orders")
check "orders taken before the kill stay" [ "$taken" -ge 2000 ]
start_mariadb "$WORK/my"
wait_for big.log "source woo: working again" 30
check "after the restart the source works again" grep -q "source woo: working again" big.log
# kill -9 candord mid-poll
i=0
while [ "$(sqlite3 big.db "SELECT count(*) FROM orders" 2>/dev/null || echo 0)" -lt 8000 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $BIGPID
wait $BIGPID 2>/dev/null
cur=$(sqlite3 big.db "SELECT key FROM source_cursors WHERE source='woo' AND stream='orders'")
n=$(sqlite3 big.db "SELECT count(*) FROM orders WHERE CAST(order_id AS INTEGER) > 1000")
check "after kill -9 the cursor covers exactly the orders written ($n, cursor $cur)" [ "$n" -eq "$((cur - 1000))" ]
"$CANDORD" -c big.conf --once 2>>big.log
check "a restart reads on from the cursor: all $N orders" [ "$(sqlite3 big.db "SELECT count(*) FROM orders WHERE CAST(order_id AS INTEGER) > 1000")" -eq $N ]
rows=$(sqlite3 big.db "SELECT rows - bad FROM source_status WHERE source='woo'")
check "no order processed twice (rows taken $rows = orders stored)" [ "$rows" -eq "$(sqlite3 big.db "SELECT count(*) FROM orders")" ]

# ---- PostgreSQL: the same preset, the shop's own query, the server stopped
start_postgres "$WORK/pg" || skip_all "postgresql would not start (see its log above)"
pg_root -c "CREATE ROLE candor LOGIN PASSWORD 'shop-db-s3cret'" -c "CREATE DATABASE woo"
pg_root -d woo -f "$SRCDIR/tests/data/sources/woocommerce-pg.sql"
{
	woo_order 2 wc-completed ann@example.org "3 days" "2 days"
	woo_order 4 wc-completed "broken@" "1 day" "20 hours"
	woo_order 5 wc-completed cid@example.org "1 day" "10 hours"
	woo_order 9 wc-completed old@example.org "2400 days" "2399 days"
} | sed 's/(SELECT max(order_item_id) FROM wp_woocommerce_order_items)/currval(pg_get_serial_sequence('"'"'wp_woocommerce_order_items'"'"', '"'"'order_item_id'"'"'))/' | pg_root -d woo
pg_root -d woo -c "GRANT SELECT ON ALL TABLES IN SCHEMA public TO candor"
src_conf pg.conf postgresql "$PG_PORT" "$WORK/woo.pw"
sed -i 's|^database = .*|database = "pg.db";|' pg.conf
"$CANDORCTL" -c pg.conf init >/dev/null
"$CANDORD" -c pg.conf --once 2>pg.log
check "PostgreSQL: first pickup with since" [ "$(sqlite3 pg.db "SELECT group_concat(order_id) FROM (SELECT order_id FROM orders ORDER BY order_id)")" = "2,5" ]
check "PostgreSQL: the broken e-mail is reported and skipped" grep -q 'source woo: row 4 skipped: invalid email' pg.log
echo "$(woo_status 2 wc-refunded '1 minute')" | pg_root -d woo
"$CANDORD" -c pg.conf --once 2>>pg.log
check "PostgreSQL: incremental pickup" [ "$(sqlite3 pg.db "SELECT status FROM orders WHERE order_id='2'")" = refunded ]
pg_root -d woo -c "DELETE FROM wp_wc_orders WHERE id = 5"
CANDOR_NOW=$(( $(date +%s) + 7200 )) "$CANDORD" -c pg.conf --once 2>>pg.log
check "PostgreSQL: an order deleted in the shop is cancelled, no reminder" \
	[ "$(sqlite3 pg.db "SELECT status FROM orders WHERE order_id='5'")/$(sqlite3 pg.db "SELECT count(*) FROM messages WHERE order_id='5' AND kind='reminder'")" = cancelled/0 ]
kill_postgres
"$CANDORD" -c pg.conf --once 2>pg-down.log
check "PostgreSQL stopped: the source fails, the cycle goes on" sh -c "grep -q 'source woo: cannot connect' pg-down.log && grep -q 'cycle done' pg-down.log"
check "PostgreSQL starts again" start_postgres "$WORK/pg"
echo "$(woo_order 10 wc-completed fay@example.org '1 hour' '0 seconds')" \
	| sed 's/(SELECT max(order_item_id) FROM wp_woocommerce_order_items)/currval(pg_get_serial_sequence('"'"'wp_woocommerce_order_items'"'"', '"'"'order_item_id'"'"'))/' | pg_root -d woo
"$CANDORD" -c pg.conf --once 2>>pg.log
check "PostgreSQL restarted: the source picks up again" [ "$(sqlite3 pg.db "SELECT status FROM orders WHERE order_id='10'")" = shipped ]

# a backfill with PostgreSQL stopped mid-poll and started again
N2=20000
pg_root -d woo -c "INSERT INTO wp_wc_orders (id, status, currency, type, total_amount, customer_id,
  billing_email, date_created_gmt, date_updated_gmt)
  SELECT 1000 + g, 'wc-processing', 'EUR', 'shop_order', 10, 0, 'p' || g || '@example.org',
  timestamp '$(ago "5 days")', timestamp '$(ago "4 days")' + g * interval '1 second'
  FROM generate_series(1, $N2) g;"
src_conf pgbig.conf postgresql "$PG_PORT" "$WORK/woo.pw" 'batch = 100; poll_interval = "1s"; feedback = false;'
sed -i 's|^database = .*|database = "pgbig.db";|' pgbig.conf
"$CANDORCTL" -c pgbig.conf init >/dev/null
"$CANDORD" -c pgbig.conf 2>pgbig.log &
PGBIG=$!
bg_started $PGBIG
i=0
while [ "$(sqlite3 pgbig.db "SELECT count(*) FROM orders" 2>/dev/null || echo 0)" -lt 1000 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill_postgres
wait_for pgbig.log "source woo: .*retrying" 10
check "PostgreSQL stopped mid-poll: the source fails, logged" grep -q "source woo: .*retrying in" pgbig.log
start_postgres "$WORK/pg"
# then candord killed -9 mid-poll, reading from PostgreSQL
i=0
while [ "$(sqlite3 pgbig.db "SELECT count(*) FROM orders WHERE CAST(order_id AS INTEGER) > 1000" 2>/dev/null || echo 0)" -lt 8000 ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $PGBIG
wait $PGBIG 2>/dev/null
cur=$(sqlite3 pgbig.db "SELECT key FROM source_cursors WHERE source='woo' AND stream='orders'")
n=$(sqlite3 pgbig.db "SELECT count(*) FROM orders WHERE CAST(order_id AS INTEGER) > 1000")
check "PostgreSQL: after kill -9 the cursor covers exactly the orders written ($n, cursor $cur)" [ "$n" -eq "$((cur - 1000))" ]
"$CANDORD" -c pgbig.conf --once 2>>pgbig.log
check "PostgreSQL back: the backfill completes, every order once" \
	[ "$(sqlite3 pgbig.db "SELECT count(*) FROM orders WHERE CAST(order_id AS INTEGER) > 1000")" -eq $N2 ]
check "PostgreSQL back: rows taken = orders stored" \
	[ "$(sqlite3 pgbig.db "SELECT rows - bad FROM source_status")" -eq "$(sqlite3 pgbig.db "SELECT count(*) FROM orders")" ]

printf 'wrong\n' > pgbad.pw
chmod 600 pgbad.pw
src_conf pgbad.conf postgresql "$PG_PORT" "$WORK/pgbad.pw"
"$CANDORCTL" -c pgbad.conf sources --test woo > pgbad.out 2>&1
check "PostgreSQL: a wrong password fails --test with the reason" grep -q 'password authentication failed' pgbad.out

# the shop's own query, the cursor bound (a quote in the data is data)
pg_root -d woo -c "CREATE TABLE shop_orders (no text PRIMARY KEY, mail text, state text,
  changed timestamp NOT NULL, shipped_at timestamp);
  CREATE INDEX shop_orders_changed ON shop_orders (changed, no);
  GRANT SELECT ON shop_orders TO candor;
  INSERT INTO shop_orders VALUES ('A-1', 'o''neil@example.org', 'shipped', now() - interval '1 hour', now() - interval '1 hour'),
   ('A-2', 'pat@example.org', 'delivered', now() - interval '30 minutes', NULL),
   ('A-3', 'x@example.org', 'lost', now() - interval '20 minutes', NULL);"
write_config own.conf "sources = ( { name = \"own\"; type = \"sql\"; driver = \"postgresql\";
  host = \"127.0.0.1\"; port = $PG_PORT; user = \"candor\"; password_file = \"$WORK/woo.pw\";
  database = \"woo\"; tls = \"none\";
  query = \"SELECT no AS order_id, mail AS email, state AS status, shipped_at AS shipped,
    changed AS cursor_time, no AS cursor_key FROM shop_orders
    WHERE (changed, no) > (:cursor_time, :cursor_key) ORDER BY changed, no LIMIT :limit\"; } );"
sed -i 's|^database = .*|database = "own.db";|' own.conf
"$CANDORCTL" -c own.conf init >/dev/null
"$CANDORCTL" -c own.conf sources --test own > own.out 2>&1
check "own query: --test maps its rows" grep -q "^order A-1: o'neil@example.org status shipped" own.out
check "own query: an unknown status is a problem" grep -q '^problem: A-3: unknown status "lost"' own.out
"$CANDORD" -c own.conf --once 2>own.log
check "own query: orders taken" [ "$(sqlite3 own.db "SELECT group_concat(order_id) FROM (SELECT order_id FROM orders ORDER BY order_id)")" = "A-1,A-2" ]
write_config own2.conf "sources = ( { name = \"own\"; type = \"sql\"; driver = \"postgresql\";
  database = \"woo\"; query = \"SELECT * FROM shop_orders WHERE no = :order\"; } );"
"$CANDORCTL" -c own2.conf check-config > own2.out 2>&1
check "own query: an unknown parameter is a config error" sh -c "[ $? -eq 78 ] && grep -q 'unknown parameter :order' own2.out"

done_testing
