#!/bin/sh
# sources_bench.sh - the sql source's figures: a backfill of N WooCommerce
# (HPOS) orders by `candord --once`, from a MariaDB and from a PostgreSQL
# of the bench's own on loopback, each against the server's own export of
# the same rows (SELECT … INTO OUTFILE, COPY … TO) in the same run; a
# poll with nothing changed (one indexed query: the plan is checked); and
# candord's peak memory during the backfills.
#
# Last line: mariadb_rows_per_s=… mariadb_peer_rows_per_s=… mariadb_ratio=…
#   pg_rows_per_s=… pg_peer_rows_per_s=… pg_ratio=… idle_poll_ms=…
#   idle_poll_ms_pg=… peak_rss_mb=… load_mariadb=… load_pg=… ratio=…
#   (ratio: MariaDB's; load_*: the 1-minute load average as each backfill ended)
# Usage: bench/sources_bench.sh [ORDERS]   (default 1000000; run from the build dir)
set -eu
N=${1:-1000000}
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${BUILD:-$(pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/dbservers.sh"
for tool in mariadbd sqlite3 psql; do
	command -v $tool >/dev/null || { echo "sources_bench: $tool is missing (scripts/install-deps)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "sources_bench: /usr/bin/time is missing" >&2; exit 1; }
cd "$WORK"
now() { date +%s.%N; }
ago() { date -u -d "-$1" +"%Y-%m-%d %H:%M:%S"; }
start=$(ago "20 days")
printf 'bench-s3cret\n' > pw
chmod 600 pw

# the columns and joins of the preset, for the servers' own exports
PEER_SELECT="SELECT o.id, o.date_updated_gmt, o.billing_email, o.customer_id, b.first_name,
  b.last_name, COALESCE(NULLIF(s.country, ''), NULLIF(b.country, '')), o.total_amount, o.currency,
  o.date_created_gmt, d.date_completed_gmt, o.status
  FROM wp_wc_orders o
  LEFT JOIN wp_wc_order_addresses b ON b.order_id = o.id AND b.address_type = 'billing'
  LEFT JOIN wp_wc_order_addresses s ON s.order_id = o.id AND s.address_type = 'shipping'
  LEFT JOIN wp_wc_order_operational_data d ON d.order_id = o.id
  WHERE o.type = 'shop_order' ORDER BY o.date_updated_gmt, o.id"
PEER_ITEMS="SELECT i.order_id, i.order_item_name, q.meta_value FROM wp_woocommerce_order_items i
  LEFT JOIN wp_woocommerce_order_itemmeta q ON q.order_item_id = i.order_item_id AND q.meta_key = '_qty'
  WHERE i.order_item_type = 'line_item' ORDER BY i.order_id, i.order_item_id"

conf() { # conf NAME DRIVER PORT [EXTRA]
	write_config "$1.conf" "sources = ( { name = \"woo\"; type = \"sql\"; driver = \"$2\";
  preset = \"woocommerce\"; host = \"127.0.0.1\"; port = $3; user = \"candor\";
  password_file = \"$WORK/pw\"; database = \"woo\"; tls = \"none\"; since = \"60d\"; ${4:-} } );"
	sed -i "s|^database = .*|database = \"$1.db\";|; s|^log_level = .*|log_level = \"notice\";|; s/trigger = \"delivered\"/trigger = \"shipped\"/" "$1.conf"
	"$CANDORCTL" -c "$1.conf" init >/dev/null
}

# the 1-minute load average: the machine may be shared
load() { awk '{ print $1 }' /proc/loadavg; }

# backfill NAME: candord --once; sets RATE, RSS (MB) and LOAD (at its end)
backfill() {
	t0=$(now)
	/usr/bin/time -f "%M" -o "$1.rss" "$CANDORD" -c "$1.conf" --once 2>"$1.log"
	t1=$(now)
	got=$(sqlite3 "$1.db" "SELECT count(*) FROM orders")
	[ "$got" -eq "$N" ] || { echo "sources_bench: $1: $got of $N orders" >&2; tail -5 "$1.log" >&2; exit 1; }
	RATE=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
	RSS=$(awk -v k="$(cat "$1.rss")" 'BEGIN { printf "%.1f", k / 1024 }')
	LOAD=$(load)
	echo "$1: $N orders in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, peak RSS $RSS MB, load $LOAD" >&2
}

# idle NAME: a running candord polling every second over an unchanged
# database; the median of its polls' times (debug log), in ms
idle() {
	sed -i 's|^log_level = .*|log_level = "debug";|; s/since = "60d";/since = "60d"; poll_interval = "1s";/' "$1.conf"
	"$CANDORD" -c "$1.conf" 2>"$1-idle.log" &
	pid=$!
	sleep 8
	kill $pid
	wait $pid 2>/dev/null || true
	grep -o 'poll of 0 rows took [0-9]* ms' "$1-idle.log" | awk '{ print $6 }' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "-1"; else print v[int((NR + 1) / 2)] }'
}

# ---- MariaDB
MY_POOL=1G start_mariadb "$WORK/my"
my_root -e "CREATE DATABASE woo; CREATE USER 'candor'@'127.0.0.1' IDENTIFIED BY 'bench-s3cret';
  GRANT SELECT ON woo.* TO 'candor'@'127.0.0.1';"
my_root woo < "$top_srcdir/tests/data/sources/woocommerce.sql"
echo "loading $N orders into MariaDB…" >&2
my_root woo -e "
INSERT INTO wp_wc_orders (id, status, currency, type, total_amount, customer_id, billing_email,
  date_created_gmt, date_updated_gmt)
  SELECT seq, 'wc-processing', 'EUR', 'shop_order', 19.90, seq % 5000, concat('c', seq, '@example.org'),
  '$start' + INTERVAL seq DIV 100 SECOND, '$start' + INTERVAL seq DIV 100 SECOND FROM seq_1_to_$N;
INSERT INTO wp_wc_order_addresses (order_id, address_type, first_name, last_name, country)
  SELECT seq, 'billing', 'Ann', concat('Buyer', seq), 'DE' FROM seq_1_to_$N;
INSERT INTO wp_wc_order_operational_data (order_id, date_paid_gmt) SELECT seq, '$start' FROM seq_1_to_$N;
INSERT INTO wp_woocommerce_order_items (order_item_id, order_item_name, order_item_type, order_id)
  SELECT seq, 'Green Tea 100g', 'line_item', seq FROM seq_1_to_$N;
INSERT INTO wp_woocommerce_order_itemmeta (order_item_id, meta_key, meta_value)
  SELECT seq, '_qty', '2' FROM seq_1_to_$N;
ANALYZE TABLE wp_wc_orders, wp_wc_order_addresses, wp_wc_order_operational_data,
  wp_woocommerce_order_items, wp_woocommerce_order_itemmeta;" >/dev/null
# the peer first: it also warms the server's cache for both
t0=$(now)
my_root woo -e "$PEER_SELECT INTO OUTFILE '$WORK/my/orders.tsv'; $PEER_ITEMS INTO OUTFILE '$WORK/my/items.tsv';"
t1=$(now)
MY_PEER=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
conf my mariadb "$MY_PORT"
backfill my
MY_RATE=$RATE
MY_RSS=$RSS
MY_LOAD=$LOAD
plan=$(my_root woo -e "EXPLAIN SELECT o.id FROM wp_wc_orders o WHERE o.type = 'shop_order'
  AND o.date_updated_gmt >= NOW() AND (o.date_updated_gmt > NOW() OR o.id > 0)
  ORDER BY o.date_updated_gmt, o.id LIMIT 2000\G" | awk '$1 == "key:" { print $2 }')
MY_IDLE=$(idle my)
echo "MariaDB: an idle poll takes ${MY_IDLE} ms, the orders query uses index $plan" >&2
stop_mariadb

# ---- PostgreSQL
start_postgres "$WORK/pg"
pg_root -c "CREATE ROLE candor LOGIN PASSWORD 'bench-s3cret'" -c "CREATE DATABASE woo"
pg_root -d woo -f "$top_srcdir/tests/data/sources/woocommerce-pg.sql"
echo "loading $N orders into PostgreSQL…" >&2
pg_root -d woo -c "
INSERT INTO wp_wc_orders (id, status, currency, type, total_amount, customer_id, billing_email,
  date_created_gmt, date_updated_gmt)
  SELECT g, 'wc-processing', 'EUR', 'shop_order', 19.90, g % 5000, 'c' || g || '@example.org',
  timestamp '$start' + (g / 100) * interval '1 second', timestamp '$start' + (g / 100) * interval '1 second'
  FROM generate_series(1, $N) g;
INSERT INTO wp_wc_order_addresses (order_id, address_type, first_name, last_name, country)
  SELECT g, 'billing', 'Ann', 'Buyer' || g, 'DE' FROM generate_series(1, $N) g;
INSERT INTO wp_wc_order_operational_data (order_id, date_paid_gmt)
  SELECT g, timestamp '$start' FROM generate_series(1, $N) g;
INSERT INTO wp_woocommerce_order_items (order_item_id, order_item_name, order_item_type, order_id)
  SELECT g, 'Green Tea 100g', 'line_item', g FROM generate_series(1, $N) g;
INSERT INTO wp_woocommerce_order_itemmeta (order_item_id, meta_key, meta_value)
  SELECT g, '_qty', '2' FROM generate_series(1, $N) g;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO candor;" -c "VACUUM ANALYZE"
t0=$(now)
pg_root -d woo -c "COPY ($PEER_SELECT) TO '$WORK/pg/orders.tsv'" -c "COPY ($PEER_ITEMS) TO '$WORK/pg/items.tsv'"
t1=$(now)
PG_PEER=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
conf pg postgresql "$PG_PORT"
backfill pg
PG_RATE=$RATE
PG_RSS=$RSS
PG_LOAD=$LOAD
PG_IDLE=$(idle pg)
echo "PostgreSQL: an idle poll takes ${PG_IDLE} ms" >&2

awk -v n="$N" -v mr="$MY_RATE" -v mp="$MY_PEER" -v pr="$PG_RATE" -v pp="$PG_PEER" \
    -v mi="$MY_IDLE" -v pi="$PG_IDLE" -v r1="$MY_RSS" -v r2="$PG_RSS" -v plan="$plan" \
    -v l1="$MY_LOAD" -v l2="$PG_LOAD" 'BEGIN {
	printf "orders=%d mariadb_index=%s\n", n, plan
	printf "mariadb_rows_per_s=%d mariadb_peer_rows_per_s=%d mariadb_ratio=%.2f pg_rows_per_s=%d pg_peer_rows_per_s=%d pg_ratio=%.2f idle_poll_ms=%d idle_poll_ms_pg=%d peak_rss_mb=%.1f load_mariadb=%s load_pg=%s ratio=%.2f\n",
		mr, mp, mr / mp, pr, pp, pr / pp, mi, pi, (r1 > r2 ? r1 : r2), l1, l2, mr / mp
}'
