# dbservers.sh - MariaDB and PostgreSQL servers of the tests' own, on
# loopback in a temporary directory, from Debian's packages (installed by
# scripts/install-deps; their system services are never used). Sourced
# after lib.sh by the sources tests and benchmarks.

# start_mariadb DIR: a MariaDB on loopback port $MY_PORT, data in DIR,
# root by socket ($MY_SOCK); my_root runs the client as root. Safe to
# call again after stop_mariadb: it keeps the data. $MY_OPTS: more
# server options (TLS).
start_mariadb() {
	MY_DIR=$1
	# a temporary directory of its own: two servers bootstrapping at once
	# in /tmp trip over each other's temporary tables
	mkdir -p "$MY_DIR/tmp"
	: "${MY_PORT:=$(free_port)}"
	MY_SOCK=$MY_DIR/sock
	user=$(id -un)
	if [ ! -d "$MY_DIR/data/mysql" ]; then
		mariadb-install-db --no-defaults --datadir="$MY_DIR/data" --user="$user" \
			--tmpdir="$MY_DIR/tmp" \
			--auth-root-authentication-method=socket --skip-test-db \
			>"$MY_DIR/install.log" 2>&1 || { cat "$MY_DIR/install.log" >&2; return 1; }
	fi
	mariadbd --no-defaults --datadir="$MY_DIR/data" --tmpdir="$MY_DIR/tmp" --user="$user" \
		--bind-address=127.0.0.1 \
		--port="$MY_PORT" --socket="$MY_SOCK" --pid-file="$MY_DIR/pid" --skip-log-bin \
		--innodb-buffer-pool-size=${MY_POOL:-128M} --innodb-flush-log-at-trx-commit=2 \
		--secure-file-priv="$MY_DIR" --log-error="$MY_DIR/error.log" ${MY_OPTS:-} >/dev/null 2>&1 &
	MY_PID=$!
	bg_started $MY_PID
	i=0
	while ! mariadb --no-defaults -uroot -S "$MY_SOCK" -e 'SELECT 1' >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 $MY_PID 2>/dev/null; then
			cat "$MY_DIR/error.log" >&2
			return 1
		fi
		sleep 0.1
	done
}
my_root() { mariadb --no-defaults -uroot -S "$MY_SOCK" "$@"; }
stop_mariadb() { kill "$MY_PID" 2>/dev/null; wait "$MY_PID" 2>/dev/null; }
kill_mariadb() { kill -9 "$MY_PID" 2>/dev/null; wait "$MY_PID" 2>/dev/null; }

# The newest PostgreSQL's programs.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

# start_postgres DIR: a PostgreSQL on loopback port $PG_PORT, data in
# DIR, superuser "postgres" trusted on its socket only; pg_root runs psql
# as it. PostgreSQL refuses to run as root: as root the server runs as
# the package's postgres user (or nobody).
start_postgres() {
	PG_DIR=$1
	mkdir -p "$PG_DIR"
	chmod o+x "$WORK"
	: "${PG_PORT:=$(free_port)}"
	PG_AS=""
	if [ "$(id -u)" -eq 0 ]; then
		if id postgres >/dev/null 2>&1; then PG_AS=postgres; else PG_AS=nobody; fi
		chown "$PG_AS" "$PG_DIR"
	fi
	if [ ! -d "$PG_DIR/data" ]; then
		pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth-local=trust \
			--auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_DIR/init.log" 2>&1 ||
			{ cat "$PG_DIR/init.log" >&2; return 1; }
	fi
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 30 \
		-o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off ${PG_OPTS:-}" \
		start >/dev/null || { cat "$PG_DIR/log" >&2; return 1; }
	PG_STARTED=1
}
pg_as() { if [ -n "$PG_AS" ]; then runuser -u "$PG_AS" -- "$@"; else "$@"; fi; }
pg_root() { psql -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U postgres "$@"; }
stop_postgres() { pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1; }
kill_postgres() { pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1; }

# Stop what was started when the test ends (lib.sh's cleanup kills the
# background ones; pg_ctl's server is not one of them).
db_cleanup() {
	set +e # a bench runs with -e; every step here must run
	if [ -n "${PG_STARTED:-}" ]; then stop_postgres; fi
	# MariaDB writes as it shuts down: wait, or the work directory stays
	if [ -n "${MY_PID:-}" ]; then stop_mariadb; fi
	cleanup
}
trap db_cleanup EXIT
