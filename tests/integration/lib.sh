# lib.sh - TAP helpers and fixtures for candor's integration tests.
# Sourced by each test; needs top_srcdir and top_builddir (set by make).

: "${top_srcdir:=.}"
: "${top_builddir:=.}"
CANDORD=$(cd "$top_builddir" && pwd)/candord
CANDORCTL=$(cd "$top_builddir" && pwd)/candorctl
SRCDIR=$(cd "$top_srcdir" && pwd)
export TZ=UTC

tap_n=0
tap_failed=0

ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
# check DESCRIPTION COMMAND...: one test, passing when COMMAND succeeds
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
# between LOW VALUE HIGH: LOW < VALUE < HIGH
between() { [ "$1" -lt "$2" ] && [ "$2" -lt "$3" ]; }
diag() { printf '# %s\n' "$@"; }
done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}
skip_all() { echo "1..0 # SKIP $*"; exit 0; }

# A fresh work directory, removed at exit (kept when KEEP=1).
WORK=$(mktemp -d /tmp/candor-it.XXXXXX)
BG_PIDS=""
# bg_started PID: remember a background process so it is killed at exit.
bg_started() { BG_PIDS="$BG_PIDS $1"; }
cleanup() {
	for p in $BG_PIDS; do kill "$p" 2>/dev/null; done
	[ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

# write_config FILE [EXTRA]: a valid config using the outbox transport,
# no sending limits, and the shipped templates; EXTRA is appended.
write_config() {
	cat > "$1" <<EOC
database = "candor.db";
templates = "$SRCDIR/templates"; packs = "$SRCDIR/etc/packs";
transport = "outbox";
poll_interval = "10s";
log_level = "info";
shop = {
  name = "Test Shop";
  domain = "shop.example";
  from = "feedback@shop.example";
};
outbox = { directory = "outbox"; };
limits = { global_rate = ""; daily_cap = 0; domain_rate = ""; };
send_window = { start = "00:00"; end = "24:00";
  weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]; };
campaigns = (
  { name = "review"; trigger = "delivered"; delay = "7d"; expire = "30d";
    variants = ( { name = "A"; template = "review_request"; } ); }
);
${2:-}
EOC
}

# add_orders DB FIRST COUNT [DAYS_AGO]: COUNT delivered orders, due now.
add_orders() {
	sqlite3 "$1" <<EOS
WITH RECURSIVE n(i) AS (SELECT $2 UNION ALL SELECT i + 1 FROM n WHERE i < $2 + $3 - 1)
INSERT INTO orders (order_id, first_name, name, email, delivered, status)
SELECT 'o' || i, 'Cust' || i, 'Customer ' || i, 'c' || i || '@example.org',
       unixepoch('now', '-${4:-8} days'), 'delivered' FROM n;
EOS
}

count_sql() { sqlite3 "$1" "$2"; }

# wait_for FILE PATTERN [SECONDS]: until PATTERN shows up in FILE.
wait_for() {
	i=0
	while [ $i -lt $((${3:-10} * 10)) ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# wait_exit PID SECONDS: wait for PID to end; its status is in $exit_status.
wait_exit() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		exit_status=timeout
		return 1
	fi
	wait "$1"
	exit_status=$?
	return 0
}

# The system's Python, which has Debian's python3-aiosmtpd (a python3 from
# pyenv or a virtualenv earlier in PATH would not).
SYSPY=/usr/bin/python3
[ -x "$SYSPY" ] || SYSPY=python3

# start_smtp_server DIR [ARGS]: the recording aiosmtpd server
# (smtp-server.py) in DIR; sets SMTP_PORT.
start_smtp_server() {
	mkdir -p "$1"
	"$SYSPY" "$SRCDIR/tests/integration/smtp-server.py" "$@" >"$1/server.log" 2>&1 &
	bg_started $!
	SMTP_SERVER_PID=$!
	wait_for "$1/port" . 10 || return 1
	SMTP_PORT=$(cat "$1/port")
}

# start_sink DIR [SMTP-SINK OPTIONS]: Postfix's smtp-sink on a free port,
# recording what it receives in DIR (one file per mail); sets SINK_PORT.
start_sink() {
	dir=$1
	shift
	mkdir -p "$dir"
	# smtp-sink drops to nobody, who must reach the dump directory
	chmod 777 "$dir"
	chmod o+x "$WORK"
	SINK_PORT=$("$SYSPY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	smtp-sink -u nobody -d "$dir/%M." "$@" "127.0.0.1:$SINK_PORT" 100 >"$dir.log" 2>&1 &
	SINK_PID=$!
	bg_started $SINK_PID
	i=0
	while ! "$SYSPY" -c "import socket; socket.create_connection(('127.0.0.1', $SINK_PORT), 1)" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 50 ] && return 1
		sleep 0.1
	done
}
stop_sink() { kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; }

# free_port: a TCP port nobody listens on now.
free_port() {
	"$SYSPY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_dovecot DIR: a Dovecot of our own on loopback, IMAP with STARTTLS
# on $IMAP_PORT and IMAPS on $IMAPS_PORT, one user "shop" (password in
# $IMAP_PASSWORD, and in DIR/pw for candor), maildir under DIR, a
# self-signed certificate for 127.0.0.1 in DIR/cert.pem. Dovecot refuses
# root as login and mail user, so as root those are its own users and
# nobody; as anyone else, that user.
start_dovecot() {
	dir=$1
	mkdir -p "$dir/run" "$dir/state" "$dir/mail" "$dir/home"
	chmod o+x "$WORK"
	chmod 755 "$dir"
	IMAP_PORT=$(free_port)
	IMAPS_PORT=$(free_port)
	IMAP_PASSWORD=s3cret-imap
	printf '%s\n' "$IMAP_PASSWORD" > "$dir/pw"
	chmod 600 "$dir/pw"
	printf 'shop:{PLAIN}%s::::::\n' "$IMAP_PASSWORD" > "$dir/passwd"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1 || return 1
	if [ "$(id -u)" -eq 0 ]; then
		login_user=dovenull internal_user=dovecot mail_uid=nobody mail_gid=nogroup
		chown -R nobody:nogroup "$dir/mail" "$dir/home"
	else
		login_user=$(id -un) internal_user=$(id -un) mail_uid=$(id -u) mail_gid=$(id -g)
	fi
	cat > "$dir/dovecot.conf" <<EOD
protocols = imap
listen = 127.0.0.1
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = $login_user
default_internal_user = $internal_user
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:$dir/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/passwd
}
userdb {
  driver = static
  args = uid=$mail_uid gid=$mail_gid home=$dir/home/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service anvil {
  chroot =
}
protocol imap {
  mail_max_userip_connections = 100
}
EOD
	dovecot -F -c "$dir/dovecot.conf" >"$dir/stdout.log" 2>&1 &
	DOVECOT_PID=$!
	bg_started $DOVECOT_PID
	i=0
	while ! "$SYSPY" -c "import socket; socket.create_connection(('127.0.0.1', $IMAPS_PORT), 1)" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 $DOVECOT_PID 2>/dev/null; then
			cat "$dir/stdout.log" "$dir/dovecot.log" >&2 2>/dev/null
			return 1
		fi
		sleep 0.1
	done
	DOVECOT_DIR=$dir
}

# imap_tool COMMAND MAILBOX [FILE...]: tests/integration/imap-tool.py as "shop".
imap_tool() {
	"$SYSPY" "$SRCDIR/tests/integration/imap-tool.py" "$IMAPS_PORT" shop "$IMAP_PASSWORD" "$@"
}
