#!/bin/sh
# pg_smtp_bench.sh - one candord's whole pipeline (schedule, render,
# check, compose, send over SMTP, record) for N due orders with
# "candord --once" against Postfix's smtp-sink, once on an SQLite store
# and once on a PostgreSQL store (a server of its own on loopback,
# tests/integration/pglib.sh), the same orders, the same sink.
#
# Last line: sqlite_msgs_per_s=... pg_msgs_per_s=... ratio=... (pg / sqlite)
# Usage: bench/pg_smtp_bench.sh [ORDERS]   (default 20000; run from the build dir)
set -eu
N=${1:-20000}
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${BUILD:-$(pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/pglib.sh"
for tool in smtp-sink sqlite3; do
	command -v $tool >/dev/null || { echo "pg_smtp_bench: $tool is missing (scripts/install-deps)" >&2; exit 1; }
done
cd "$WORK"
start_postgres "$WORK/pg" || { echo "pg_smtp_bench: PostgreSQL would not start" >&2; exit 1; }
port=$(free_port)
smtp-sink -u nobody -m 1000 "127.0.0.1:$port" 1000 &
bg_started $!
sleep 0.5

# conf DIR STORE: the bench's configuration in DIR/candor.conf
conf() {
	mkdir -p "$1"
	cat > "$1/candor.conf" <<EOC
database = "candor.db";
templates = "$SRCDIR/templates"; packs = "$SRCDIR/etc/packs";
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
$2
EOC
	"$CANDORCTL" -c "$1/candor.conf" init >/dev/null
}

# the orders, as CSV: both stores import the same file
now=$(date +%s)
{
	echo "order_id,first_name,name,email,locale,items,purchased,delivered,status"
	i=1
	awk -v n="$N" -v p=$((now - 12 * 86400)) -v d=$((now - 8 * 86400)) 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "B%d,Cust%d,Customer %d,c%d@example.org,en,\"[{\"\"name\"\":\"\"Sencha 100 g\"\",\"\"quantity\"\":2},{\"\"name\"\":\"\"Teapot\"\",\"\"quantity\"\":1}]\",%d,%d,delivered\n", i, i, i, i, p, d
	}'
} > orders.csv

# run DIR: candord --once there; prints the seconds it took
run() {
	"$CANDORCTL" -c "$1/candor.conf" import orders orders.csv >/dev/null
	s=$(date +%s.%N)
	"$CANDORD" -c "$1/candor.conf" --once 2> "$1/candord.log"
	e=$(date +%s.%N)
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f\n", e - s }'
}

conf sqlite ""
conf pg "store = { engine = \"postgresql\"; host = \"127.0.0.1\"; port = $PG_PORT; user = \"candor\";
  password_file = \"$PG_DIR/pw\"; database = \"candor\"; sslmode = \"disable\"; };"
t_sqlite=$(run sqlite)
t_pg=$(run pg)
sent_sqlite=$(sqlite3 sqlite/candor.db "SELECT count(*) FROM messages WHERE state = 'sent'")
sent_pg=$(psql_candor "SELECT count(*) FROM messages WHERE state = 'sent'")
[ "$sent_sqlite" -eq "$N" ] && [ "$sent_pg" -eq "$N" ] ||
	{ echo "pg_smtp_bench: sent $sent_sqlite (SQLite) and $sent_pg (PostgreSQL) of $N" >&2; exit 1; }
awk -v n="$N" -v a="$t_sqlite" -v b="$t_pg" 'BEGIN {
	printf "orders=%d sqlite_s=%.2f pg_s=%.2f connections=4\n", n, a, b
	printf "sqlite_msgs_per_s=%.0f pg_msgs_per_s=%.0f ratio=%.2f\n", n / a, n / b, a / b
}'
