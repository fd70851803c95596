#!/bin/sh
# pg_nodes_bench.sh - throughput of several candord sending at once from
# one PostgreSQL store (a server of its own on loopback,
# tests/integration/pglib.sh) against one Postfix smtp-sink: N due orders
# sent by 1, 2 and 4 nodes ("candord --once" each, started together, each
# in its own directory, 4 connections each), as a ratio to one candord on
# SQLite sending the same orders to the same sink. Every run must send
# all N, each once.
#
# Last line: sqlite_msgs_per_s=... pg1_msgs_per_s=... pg2_msgs_per_s=...
#   pg4_msgs_per_s=... ratio1=... ratio2=... ratio4=... (pgK / sqlite)
# Usage: bench/pg_nodes_bench.sh [ORDERS]   (default 20000; run from the build dir)
set -eu
N=${1:-20000}
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${BUILD:-$(pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/pglib.sh"
for tool in smtp-sink sqlite3; do
	command -v $tool >/dev/null || { echo "pg_nodes_bench: $tool is missing (scripts/install-deps)" >&2; exit 1; }
done
cd "$WORK"
start_postgres "$WORK/pg" || { echo "pg_nodes_bench: PostgreSQL would not start" >&2; exit 1; }
port=$(free_port)
smtp-sink -u nobody -m 1000 "127.0.0.1:$port" 1000 &
bg_started $!
sleep 0.5

# conf DIR STORE: a node's configuration in DIR/candor.conf
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
}

now=$(date +%s)
{
	echo "order_id,first_name,name,email,locale,items,purchased,delivered,status"
	awk -v n="$N" -v p=$((now - 12 * 86400)) -v d=$((now - 8 * 86400)) 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "B%d,Cust%d,Customer %d,c%d@example.org,en,\"[{\"\"name\"\":\"\"Sencha 100 g\"\",\"\"quantity\"\":2},{\"\"name\"\":\"\"Teapot\"\",\"\"quantity\"\":1}]\",%d,%d,delivered\n", i, i, i, i, p, d
	}'
} > orders.csv

# run K DIR...: the K nodes in DIRS at once; prints the seconds until the last ends
run() {
	k=$1
	shift
	s=$(date +%s.%N)
	pids=
	for d in "$@"; do
		(cd "$d" && exec "$CANDORD" -c candor.conf --once 2> candord.log) &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p"; done
	e=$(date +%s.%N)
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f\n", e - s }'
}

pgstore="store = { engine = \"postgresql\"; host = \"127.0.0.1\"; port = $PG_PORT; user = \"candor\";
  password_file = \"$PG_DIR/pw\"; database = \"candor\"; sslmode = \"disable\"; };"
conf sqlite ""
"$CANDORCTL" -c sqlite/candor.conf init >/dev/null
"$CANDORCTL" -c sqlite/candor.conf import orders orders.csv >/dev/null
t_sqlite=$(run 1 sqlite)
sent=$(sqlite3 sqlite/candor.db "SELECT count(*) FROM messages WHERE state = 'sent'")
[ "$sent" -eq "$N" ] || { echo "pg_nodes_bench: SQLite sent $sent of $N" >&2; exit 1; }
for k in 1 2 4; do conf "pg$k" "$pgstore"; done
"$CANDORCTL" -c pg1/candor.conf init >/dev/null
line="orders=$N connections_per_node=4"
figures="sqlite_msgs_per_s=$(awk -v n="$N" -v t="$t_sqlite" 'BEGIN { printf "%.0f", n / t }')"
ratios=
for k in 1 2 4; do
	psql_candor "SET client_min_messages = warning; TRUNCATE messages, events, waiting, scan_state, order_changes, orders CASCADE" >/dev/null
	"$CANDORCTL" -c pg1/candor.conf import orders orders.csv >/dev/null
	dirs=
	for j in $(seq 1 $k); do
		conf "pg$k-$j" "$pgstore"
		dirs="$dirs pg$k-$j"
	done
	# shellcheck disable=SC2086
	t=$(run $k $dirs)
	got=$(psql_candor "SELECT count(*) || ' ' || count(DISTINCT order_id) FROM messages WHERE state = 'sent'")
	[ "$got" = "$N $N" ] || { echo "pg_nodes_bench: $k nodes sent $got of $N" >&2; exit 1; }
	line="$line pg${k}_s=$t"
	figures="$figures pg${k}_msgs_per_s=$(awk -v n="$N" -v t="$t" 'BEGIN { printf "%.0f", n / t }')"
	ratios="$ratios ratio$k=$(awk -v a="$t_sqlite" -v b="$t" 'BEGIN { printf "%.2f", a / b }')"
done
echo "$line sqlite_s=$t_sqlite"
echo "load average:$(uptime | sed 's/.*load average://')"
echo "$figures$ratios"
