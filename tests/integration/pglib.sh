# pglib.sh - a PostgreSQL server of the test's own, for tests that source
# lib.sh first. Debian's server binaries, a cluster made by initdb in a
# directory under $WORK, listening on a free loopback port and a socket
# in that directory, TLS on with a self-signed certificate for
# 127.0.0.1. PostgreSQL refuses to run as root: as root the cluster
# belongs to the "postgres" user (the package makes it), else to whoever
# runs the test.

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

# pg_as CMD...: CMD as the cluster's owner.
pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# start_postgres DIR: the server; sets PG_PORT, PG_DIR (socket and
# certificate there), PG_PASSWORD (of the role "candor", also in
# DIR/pw, mode 600), and PG_ADMIN, a psql command line as superuser.
# The database "candor" belongs to "candor".
start_postgres() {
	PG_DIR=$1
	[ -x "$PG_BIN/initdb" ] || { echo "no PostgreSQL server binaries (scripts/install-deps)" >&2; return 1; }
	if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
		echo "running as root and there is no postgres user" >&2
		return 1
	fi
	mkdir -p "$PG_DIR"
	chmod o+x "$WORK"
	PG_PORT=$(free_port)
	PG_PASSWORD=s3cret-pg
	printf '%s\n' "$PG_PASSWORD" > "$PG_DIR/pw"
	chmod 600 "$PG_DIR/pw"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$PG_DIR/key.pem" -out "$PG_DIR/cert.pem" >/dev/null 2>&1 || return 1
	[ "$(id -u)" -eq 0 ] && chown -R postgres "$PG_DIR"
	chmod 700 "$PG_DIR"
	chmod 600 "$PG_DIR/key.pem"
	chmod 711 "$PG_DIR"
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
		--no-sync >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
	cat >> "$PG_DIR/data/postgresql.conf" <<EOC
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
ssl = on
ssl_cert_file = '$PG_DIR/cert.pem'
ssl_key_file = '$PG_DIR/key.pem'
max_connections = 50
EOC
	# the superuser over the socket only; candor over TCP with its password
	cat > "$PG_DIR/data/pg_hba.conf" <<EOH
local all postgres trust
host all candor 127.0.0.1/32 scram-sha-256
EOH
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 start >/dev/null 2>&1 ||
		{ cat "$PG_DIR/server.log" >&2; return 1; }
	PG_STARTED=1
	trap 'stop_postgres; cleanup' EXIT
	PG_ADMIN="$PG_BIN/psql -X -q -v ON_ERROR_STOP=1 -h $PG_DIR -p $PG_PORT -U postgres"
	pg_as $PG_ADMIN -d postgres -c "CREATE ROLE candor LOGIN PASSWORD '$PG_PASSWORD'" \
		-c "CREATE DATABASE candor OWNER candor" >/dev/null || return 1
	# candor reads its password file as the user running the test
	[ "$(id -u)" -eq 0 ] && chown root "$PG_DIR/pw"
	return 0
}

# stop_postgres: stop it now (also done at exit).
stop_postgres() {
	[ "${PG_STARTED:-0}" = 1 ] || return 0
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
	PG_STARTED=0
}

# psql_candor SQL: run SQL as "candor" on its database, unaligned output.
psql_candor() {
	PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
		"host=127.0.0.1 port=$PG_PORT user=candor dbname=candor sslmode=require" -c "$1"
}

# store_conf: the store section for the test's server, as candor.conf
# takes it (TLS checked against the test's certificate).
store_conf() {
	cat <<EOS
store = { engine = "postgresql"; host = "127.0.0.1"; port = $PG_PORT; user = "candor";
  password_file = "$PG_DIR/pw"; database = "candor"; sslmode = "verify-full";
  ca_file = "$PG_DIR/cert.pem"; };
EOS
}
