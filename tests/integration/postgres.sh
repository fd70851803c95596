#!/bin/sh
# postgres.sh - candor on a real PostgreSQL server (Debian's, started by
# initdb and pg_ctl in the work directory, on loopback, TLS checked):
# init, import, cycles to the outbox with reminders and apologies, the
# same scenario on SQLite giving the same messages and report; every
# store verb, the due plans on indexes, a lost connection and a late
# commit (test_store_engines against the server); candorctl migrate
# with counts and checksums, a half-migrated store refused; the server
# restarting under a running daemon; two daemons on one store sending
# together, the leads moving when one is killed; the store section's errors.
. "${top_srcdir:-.}/tests/integration/lib.sh"
. "$SRCDIR/tests/integration/pglib.sh"

command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI not installed (scripts/install-deps)"
[ -x "$PG_BIN/initdb" ] || skip_all "PostgreSQL server not installed (scripts/install-deps)"
cd "$WORK" || exit 1
start_postgres "$WORK/pg" || skip_all "PostgreSQL would not start (see above)"

DAY=86400
T0=$(date +%s)
export CANDOR_NOW=$T0

BUILDDIR=${CANDORD%/candord}

# conf FILE STORE: candor.conf with the store section STORE ("": SQLite's
# file), reminders, an apology campaign and a cap of two mails a customer
conf() {
	cat > "$1" <<EOC
database = "candor.db";
templates = "$SRCDIR/templates"; packs = "$SRCDIR/etc/packs";
transport = "outbox";
poll_interval = "10s";
log_level = "info";
shop = { name = "Test Shop"; domain = "shop.example"; from = "feedback@shop.example"; };
outbox = { directory = "outbox"; };
limits = { global_rate = ""; daily_cap = 0; domain_rate = ""; per_customer = 2;
  per_customer_period = "90d"; };
send_window = { start = "00:00"; end = "24:00";
  weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]; };
campaigns = (
  { name = "review"; trigger = "delivered"; delay = "7d"; expire = "30d";
    reminder = "5d"; reminder_template = "review_reminder";
    variants = ( { name = "A"; template = "review_request"; weight = 1; },
                 { name = "B"; template = "review_request"; weight = 1; } ); },
  { name = "apology"; trigger = "negative_feedback"; delay = "0s"; expire = "60d";
    max_rating = 2; variants = ( { name = "A"; template = "apology"; } ); }
);
$2
EOC
}

cat > orders.csv <<EOF
order_id,email,first_name,channel,delivered,status
o1,c1@example.org,Ann,web,$((T0 - 8 * DAY)),delivered
o2,c2@example.org,Ben,web,$((T0 - 9 * DAY)),delivered
o3,Twice@Example.org,Cy,web,$((T0 - 10 * DAY)),delivered
o4,twice@example.org,Cy,web,$((T0 - 11 * DAY)),delivered
o5,twice@EXAMPLE.org,Cy,web,$((T0 - 12 * DAY)),delivered
o6,c6@example.org,Dee,amazon,$((T0 - 8 * DAY)),delivered
ret,r@example.org,Eve,web,$((T0 - 8 * DAY)),returned
old,o@example.org,Fay,web,$((T0 - 40 * DAY)),delivered
early,e@example.org,Gus,web,$((T0 - 2 * DAY)),delivered
sup,Blocked@Example.org,Hal,web,$((T0 - 8 * DAY)),delivered
EOF
cat > feedback.csv <<EOF
order_id,rating,received,comment
o2,1,$((T0 - 3600)),the box arrived broken
o6,5,$((T0 - 3600)),lovely
EOF

# scenario CONF: the same story on whichever store CONF names
scenario() {
	"$CANDORCTL" -c "$1" init >"$1.init" 2>&1 &&
	"$CANDORCTL" -c "$1" import orders "$WORK/orders.csv" >/dev/null &&
	"$CANDORCTL" -c "$1" import feedback "$WORK/feedback.csv" >/dev/null &&
	"$CANDORCTL" -c "$1" suppress --reason blocked blocked@EXAMPLE.org >/dev/null &&
	"$CANDORD" -c "$1" --once 2>"$1.once1" &&
	"$CANDORD" -c "$1" --once 2>"$1.once2" &&
	CANDOR_NOW=$((T0 + 6 * DAY)) "$CANDORD" -c "$1" --once 2>"$1.once3"
}

# ---- the scenario on PostgreSQL ------------------------------------------
mkdir sq pgs
conf pgs/candor.conf "$(store_conf)"
conf sq/candor.conf ""
scenario pgs/candor.conf
check "PostgreSQL: init, import, three cycles exit 0" [ $? -eq 0 ]
check "init names the server, never the password" \
	sh -c "grep -q 'postgresql://candor@127.0.0.1:$PG_PORT/candor: schema version' pgs/candor.conf.init &&
	       ! grep -q '$PG_PASSWORD' pgs/candor.conf.init"
"$CANDORCTL" -c pgs/candor.conf init > init2.out 2>&1
check "init again keeps the secret" grep -q "token secret kept" init2.out
check "the schema version is in meta" \
	[ "$(psql_candor "SELECT convert_from(value, 'UTF8') FROM meta WHERE key = 'schema_version'")" = 5 ]
check "the first cycle sent what was due" grep -q "cycle done: [1-9][0-9]* due, [1-9][0-9]* sent" pgs/candor.conf.once1
check "the second sent nothing again" grep -q "cycle done: 0 due, 0 sent" pgs/candor.conf.once2
check "six days later: the reminders" grep -q "reminder sent" pgs/candor.conf.once3
check "the apology answered the bad feedback" \
	[ "$(psql_candor "SELECT count(*) FROM messages WHERE campaign = 'apology' AND state = 'sent'")" -eq 1 ]
check "per-customer cap across case: two of three orders mailed" \
	[ "$(psql_candor "SELECT count(*) FROM messages WHERE lower(recipient) = 'twice@example.org'")" -eq 2 ]
check "returned, expired and suppressed orders got nothing" \
	[ "$(psql_candor "SELECT count(*) FROM messages WHERE order_id IN ('ret','old','sup')")" -eq 0 ]
check "an order delivered two days ago waited for its delay" \
	sh -c "! grep -q 'order early:' pgs/candor.conf.once1 && grep -q 'order early: request sent' pgs/candor.conf.once3"
# preview on PostgreSQL: the same rules in its dialect (the address is
# suppressed in another case; o6 is a marketplace order)
pgpv() { CANDOR_NOW=$((T0 + 6 * DAY)) "$CANDORCTL" -c pgs/candor.conf preview "$@" >/dev/null 2>pv.err; echo $?; }
check "PostgreSQL preview: a returned order is never sent (exit 3)" \
	sh -c "[ $(pgpv --order ret) -eq 3 ] && grep -q 'status returned' pv.err"
check "... a suppressed address, whatever its case (exit 3)" \
	sh -c "[ $(pgpv --order sup) -eq 3 ] && grep -q 'address is suppressed' pv.err"
check "... an expired order (exit 3)" [ "$(pgpv --order old)" -eq 3 ]
check "... a reminder a marketplace forbids (exit 3)" \
	sh -c "[ $(pgpv --order o6 --reminder) -eq 3 ] && grep -q 'channel gets no reminder\\|left feedback' pv.err"
check "... a reminder already made (exit 3)" \
	sh -c "[ $(pgpv --order o1 --reminder) -eq 3 ] && grep -q 'reminder was made already' pv.err"
check "... an apology already made (exit 3)" [ "$(pgpv --campaign apology --order o2)" -eq 3 ]
check "each message has its life cycle in events" \
	[ "$(psql_candor "SELECT count(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM events e
	    WHERE e.message = m.id AND e.kind = 'sent')")" -eq 0 ]
check "the outbox holds every mail once" \
	[ "$(ls pgs/outbox | wc -l)" -eq "$(psql_candor "SELECT count(*) FROM messages")" ]

# ---- the same story on SQLite gives the same messages and report ---------
(cd sq && scenario candor.conf)
check "SQLite: the same scenario runs" [ $? -eq 0 ]
sqlite3 sq/candor.db "SELECT order_id, campaign, kind, variant, state, lower(recipient) FROM messages
  ORDER BY order_id, campaign, kind" > sq.messages
psql_candor "SELECT order_id, campaign, kind, variant, state, lower(recipient) FROM messages
  ORDER BY order_id COLLATE \"C\", campaign, kind" > pg.messages
check "both engines made the same messages, states and variants" cmp -s sq.messages pg.messages
[ -s pg.messages ] || diag "no messages on PostgreSQL"
cmp -s sq.messages pg.messages || diff sq.messages pg.messages | sed 's/^/# /'
(cd sq && "$CANDORCTL" -c candor.conf report --format json) > sq.report 2>&1
"$CANDORCTL" -c pgs/candor.conf report --format json > pg.report 2>&1
check "and the same report" cmp -s sq.report pg.report
"$CANDORCTL" -c pgs/candor.conf status | grep -v '^database' > pg.status
(cd sq && "$CANDORCTL" -c candor.conf status) | grep -v '^database' > sq.status
check "and the same status" cmp -s sq.status pg.status
"$CANDORCTL" -c pgs/candor.conf inbox > pg.inbox 2>&1
(cd sq && "$CANDORCTL" -c candor.conf inbox) > sq.inbox 2>&1
check "and the same mails left for a human (candorctl inbox)" cmp -s sq.inbox pg.inbox
"$CANDORCTL" -c pgs/candor.conf history o2 > pg.history 2>&1
check "history reads the order, its messages and events" \
	sh -c "grep -q 'the box arrived broken' pg.history && grep -q 'apology/A request: sent' pg.history"
"$CANDORCTL" -c pgs/candor.conf suppress --list > pg.supp
check "the suppression list keeps the address as written" grep -q "^blocked@EXAMPLE.org	blocked" pg.supp

# ---- every verb, the plans, a lost connection (test_store_engines) --------
pg_as $PG_ADMIN -d postgres -c "CREATE DATABASE engines OWNER candor" >/dev/null
CANDOR_TEST_PG="host=127.0.0.1 port=$PG_PORT user=candor dbname=engines sslmode=require password=$PG_PASSWORD" \
	CMOCKA_MESSAGE_OUTPUT=TAP "$BUILDDIR/tests/unit/test_store_engines" > engines.tap 2> engines.err
n=0
while read -r line; do
	case $line in
	"ok "*) ok "store verbs on PostgreSQL: ${line#ok * - }"; n=$((n + 1)) ;;
	"not ok "*) not_ok "store verbs on PostgreSQL: ${line#not ok * - }"; n=$((n + 1)) ;;
	esac
done < engines.tap
check "test_store_engines ran its PostgreSQL tests" [ "$n" -ge 16 ]
[ "$n" -ge 16 ] || sed 's/^/# /' engines.tap engines.err

# ---- candorctl migrate --to postgresql -----------------------------------
pg_as $PG_ADMIN -d postgres -c "CREATE DATABASE mig OWNER candor" >/dev/null
conf mig.conf "$(store_conf | sed 's/database = "candor"/database = "mig"/')"
sed -i "s|^database = .*|database = \"$WORK/sq/candor.db\";|" mig.conf
"$CANDORCTL" -c mig.conf migrate --to postgresql > migrate.out 2>&1
check "migrate copies the SQLite store" [ $? -eq 0 ]
check "... every table counted, checksummed and verified" \
	sh -c "[ \$(grep -c ' verified\$' migrate.out) -eq 12 ] && grep -q 'counts and checksums equal' migrate.out"
check "... the counts are the source's" \
	[ "$(awk '$1 == "messages" { print $2 }' migrate.out)" -eq "$(sqlite3 sq/candor.db 'SELECT count(*) FROM messages')" ]
mig_sql() { PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -X -q -A -t \
	"host=127.0.0.1 port=$PG_PORT user=candor dbname=mig sslmode=require" -c "$1"; }
mig_sql "SELECT order_id, campaign, kind, variant, state, lower(recipient) FROM messages
  ORDER BY order_id COLLATE \"C\", campaign, kind" > mig.messages
check "the messages arrived as they were" cmp -s sq.messages mig.messages
check "the token secret came along (old mails' tokens still match)" \
	[ "$(sqlite3 sq/candor.db "SELECT hex(value) FROM meta WHERE key = 'token_secret'")" = \
	  "$(mig_sql "SELECT upper(encode(value, 'hex')) FROM meta WHERE key = 'token_secret'")" ]
"$CANDORCTL" -c mig.conf migrate --to postgresql > migrate2.out 2>&1
check "a second migrate refuses a database that is not empty" [ $? -eq 65 ]
CANDOR_NOW=$((T0 + 6 * DAY)) "$CANDORD" -c mig.conf --once 2> mig.once
check "candord on the migrated store sends nothing twice" grep -q "cycle done: 0 due, 0 sent" mig.once
printf 'order_id,email,delivered,status\nnew1,n1@example.org,%s,delivered\n' $((T0 - 8 * DAY)) > new.csv
"$CANDORCTL" -c mig.conf import orders new.csv >/dev/null
CANDOR_NOW=$((T0 + DAY)) "$CANDORD" -c mig.conf --once 2> mig.once2
check "... and new orders get new ids after the copied ones" \
	sh -c "grep -q 'order new1: request sent' mig.once2 &&
	       [ '$(mig_sql "SELECT id > (SELECT max(id) FROM messages WHERE order_id <> 'new1')
	                     FROM messages WHERE order_id = 'new1'")' = t ]"

# a copy that cannot be verified is not committed, and the store refuses to open
cp sq/candor.db bad.db
sqlite3 bad.db "INSERT INTO replies(order_id, kind, body, received) VALUES ('o1', 'reply', 'a' || char(0) || 'b', 1)"
pg_as $PG_ADMIN -d postgres -c "CREATE DATABASE mig2 OWNER candor" >/dev/null
conf mig2.conf "$(store_conf | sed 's/database = "candor"/database = "mig2"/')"
sed -i "s|^database = .*|database = \"$WORK/bad.db\";|" mig2.conf
"$CANDORCTL" -c mig2.conf migrate --to postgresql > migrate3.out 2>&1
check "a table whose checksum differs fails the migrate" [ $? -eq 1 ]
check "... and names it" grep -q "replies: copied 1 rows with checksum" migrate3.out
"$CANDORD" -c mig2.conf --once 2> half.log
check "candord refuses the half-migrated store" sh -c "[ $? -ne 0 ] && grep -q 'half-migrated store' half.log"
"$CANDORCTL" -c mig2.conf status > half.status 2>&1
check "... so does candorctl" grep -q "half-migrated store" half.status
sqlite3 bad.db "DELETE FROM replies WHERE body LIKE 'a%'"
"$CANDORCTL" -c mig2.conf migrate --to postgresql > migrate4.out 2>&1
check "once fixed, migrate again finishes and the store opens" \
	sh -c "[ $? -eq 0 ] && '$CANDORCTL' -c mig2.conf status >/dev/null"

# ---- the server restarts under a running daemon -----------------------------
cd pgs || exit 1
"$CANDORD" -c candor.conf 2> daemon.log &
DPID=$!
bg_started $DPID
wait_for daemon.log "cycle done" 10
pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w restart >/dev/null 2>&1
check "the server restarted" pg_as "$PG_BIN/pg_isready" -q -h "$PG_DIR" -p "$PG_PORT"
psql_candor "INSERT INTO orders(order_id, email, delivered, status)
  VALUES ('after', 'after@example.org', $((T0 - 8 * DAY)), 'delivered')"
kill -HUP $DPID
check "the daemon reconnects and sends what came in meanwhile" wait_for daemon.log "order after: request sent" 15
check "... once" [ "$(psql_candor "SELECT count(*) FROM messages WHERE order_id = 'after'")" -eq 1 ]
kill -TERM $DPID
wait_exit $DPID 10
check "... and stops cleanly" [ "$exit_status" = 0 ]
cd .. || exit 1

# ---- two daemons on one store: both send, leads move when one dies ------
mkdir pgs2
cp pgs/candor.conf pgs2/candor.conf
(cd pgs && exec "$CANDORD" -c candor.conf 2> a.log) &
APID=$!
bg_started $APID
wait_for pgs/a.log "cycle done" 10
(cd pgs2 && exec "$CANDORD" -c candor.conf 2> b.log) &
BPID=$!
bg_started $BPID
check "a second daemon on the same database leaves the inbox, sources and watch to the first" \
	wait_for pgs2/b.log "another candord leads the watch on interrupted sends" 10
wait_for pgs2/b.log "cycle done" 10
psql_candor "INSERT INTO orders(order_id, email, delivered, status)
  SELECT 'lead' || i, 'lead' || i || '@example.org', $((T0 - 8 * DAY)), 'delivered'
  FROM generate_series(1, 200) i"
kill -HUP $APID $BPID
i=0
while [ $i -lt 40 ] && [ "$(psql_candor "SELECT count(*) FROM messages WHERE order_id LIKE 'lead%'")" -lt 200 ]; do
	sleep 0.25
	i=$((i + 1))
done
check "both daemons send: 200 orders, one message each" \
	[ "$(psql_candor "SELECT count(*) || ' ' || count(DISTINCT order_id) FROM messages WHERE order_id LIKE 'lead%'")" = "200 200" ]
check "... not all from one of them" \
	sh -c "grep -q 'order lead[0-9]*: request sent' pgs/a.log && grep -q 'order lead[0-9]*: request sent' pgs2/b.log"
kill -9 $APID
wait $APID 2>/dev/null
psql_candor "INSERT INTO orders(order_id, email, delivered, status)
  VALUES ('lead0', 'lead0@example.org', $((T0 - 8 * DAY)), 'delivered')"
i=0
while [ $i -lt 20 ] && ! grep -q "now leads the watch" pgs2/b.log; do
	kill -HUP $BPID
	sleep 0.5
	i=$((i + 1))
done
check "killed with -9, the first daemon's leads move to the other" grep -q "this candord now leads the watch on interrupted sends" pgs2/b.log
check "... which sends what came in since" wait_for pgs2/b.log "order lead0: request sent" 10
check "... and nothing twice" \
	[ "$(psql_candor "SELECT count(*) FROM messages WHERE order_id LIKE 'lead%'")" -eq 201 ]
kill -TERM $BPID
wait_exit $BPID 10

# ---- the store section's errors ------------------------------------------
write_config bad1.conf 'store = { engine = "sqlite"; host = "db.example"; };'
"$CANDORCTL" -c bad1.conf check-config > bad1.out 2>&1
check "a PostgreSQL setting with engine sqlite is an error with its line" \
	grep -q "bad1.conf:[0-9]*: store.host: is for engine \"postgresql\"" bad1.out
write_config bad2.conf 'store = { engine = "postgresql"; conninfo = "host=db password=hunter2 dbname=c"; };'
"$CANDORCTL" -c bad2.conf check-config > bad2.out 2>&1
check "a password in conninfo is refused" grep -q "store.conninfo: holds a password" bad2.out
write_config bad3.conf 'store = { engine = "postgresql"; sslmode = "maybe"; database = "c"; };'
"$CANDORCTL" -c bad3.conf check-config > bad3.out 2>&1
check "an unknown sslmode is an error" grep -q 'store.sslmode: "maybe" is not one of' bad3.out
printf 'wrong-password\n' > wrong.pw
chmod 600 wrong.pw
write_config bad4.conf "$(store_conf | sed "s|password_file = \"[^\"]*\"|password_file = \"$WORK/wrong.pw\"|")"
"$CANDORCTL" -c bad4.conf status > bad4.out 2>&1
check "a wrong password: libpq's reason, and no password shown" \
	sh -c "grep -q 'password authentication failed' bad4.out && ! grep -q wrong-password bad4.out"
chmod 644 wrong.pw
"$CANDORCTL" -c bad4.conf status > bad5.out 2>&1
check "a password file every user may read is refused" grep -q "readable by every user" bad5.out
write_config bad6.conf "$(store_conf | sed 's|ca_file = "[^"]*"|ca_file = ""|')"
"$CANDORCTL" -c bad6.conf status > bad6.out 2>&1
check "verify-full checks the server's certificate against the CAs" \
	sh -c "grep -q 'cannot connect to PostgreSQL' bad6.out"
"$CANDORCTL" -c pgs/candor.conf check-config > cc.out 2>/dev/null
check "check-config prints the store section, no password" \
	sh -c "grep -q 'engine = \"postgresql\"' cc.out && ! grep -q '$PG_PASSWORD' cc.out"

done_testing
