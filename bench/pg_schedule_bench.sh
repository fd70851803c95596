#!/bin/sh
# pg_schedule_bench.sh - the scheduling pass on PostgreSQL (the issue's
# "due pass at 1M orders / 1k due on PostgreSQL too"): a server of its
# own on loopback (tests/integration/pglib.sh), then bench/pg_schedule_bench
# against it. Its figure sits beside schedule_bench's pass_ms (SQLite).
#
# Last line: pg_pass_ms=... orders=... due=...
# Usage: bench/pg_schedule_bench.sh [ORDERS]   (default 1000000; run from the build dir)
set -eu
N=${1:-1000000}
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${BUILD:-$(pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/pglib.sh"
[ -x "$PG_BIN/initdb" ] || { echo "pg_schedule_bench: no PostgreSQL server (scripts/install-deps)" >&2; exit 1; }
BENCH=$top_builddir/bench/pg_schedule_bench
cd "$WORK"
start_postgres "$WORK/pg" || { echo "pg_schedule_bench: PostgreSQL would not start" >&2; exit 1; }
CANDOR_BENCH_PG="host=127.0.0.1 port=$PG_PORT user=candor dbname=candor sslmode=disable password=$PG_PASSWORD" \
	"$BENCH" "$N"
