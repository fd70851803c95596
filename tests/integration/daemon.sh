#!/bin/sh
# daemon.sh - candord's life cycle against a real SQLite file, a real
# outbox and a real sd_notify socket: one cycle, never twice, dry run,
# one instance per database, READY/STATUS/WATCHDOG, reload (good and
# broken), SIGTERM when idle and in the middle of a cycle, rate limits
# that survive a restart, journal priority prefixes.
. "${top_srcdir:-.}/tests/integration/lib.sh"

command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI not installed (scripts/install-deps)"
cd "$WORK" || exit 1

# ---- command line --------------------------------------------------------
check "candord --help exits 0 and documents --once" sh -c "'$CANDORD' --help | grep -q -- --once"
check "candord --version prints the version" sh -c "'$CANDORD' --version | grep -q '^candord [0-9]'"
"$CANDORD" --no-such-option >/dev/null 2>&1
check "an unknown option exits 64" [ $? -eq 64 ]
"$CANDORD" --log-level loud >/dev/null 2>&1
check "an unknown log level exits 64" [ $? -eq 64 ]
check "candorctl --help lists the commands" sh -c "'$CANDORCTL' --help | grep -q check-config"
check "candorctl status --help works" sh -c "'$CANDORCTL' status --help | grep -q Usage"

# ---- one cycle -----------------------------------------------------------
write_config candor.conf
"$CANDORD" -c candor.conf --help >help.out
check "candord --help prints the paths the configuration makes it use" \
	sh -c "grep -q '^  config file  *candor.conf\$' help.out && grep -q '^  store  *sqlite $WORK/candor.db\$' help.out &&
	       grep -q '^  templates  *$SRCDIR/templates\$' help.out && grep -q '^  packs  *$SRCDIR/etc/packs\$' help.out &&
	       grep -q '^  model  *$SRCDIR/etc/packs/model.bin\$' help.out"
"$CANDORD" --help -c nope.conf >help.out
check "... and the defaults, saying why, when the file does not load" \
	sh -c "grep -q '^  config file  *nope.conf\$' help.out && grep -q '^  packs .*(built-in default)' help.out &&
	       grep -q 'does not load: nope.conf: cannot read' help.out"
"$CANDORD" -c candor.conf --once 2>err.log
check "without a database candord exits 1" [ $? -eq 1 ]
check "... and says to run candorctl init" grep -q "candorctl init" err.log
check "candorctl init creates the database" sh -c "umask 022; '$CANDORCTL' -c candor.conf init | grep -q 'new token secret'"
check "... readable by its owner and group only" sh -c "stat -c %a candor.db | grep -qx 640"
check "candorctl init again keeps the secret" sh -c "'$CANDORCTL' init -c candor.conf | grep -q 'secret kept'"
add_orders candor.db 1 3
add_orders candor.db 100 1 2      # delivered 2 days ago: not due yet
sqlite3 candor.db "INSERT INTO orders(order_id, email, delivered, status) VALUES
  ('ret', 'r@example.org', unixepoch('now','-8 days'), 'returned'),
  ('old', 'o@example.org', unixepoch('now','-40 days'), 'delivered'),
  ('sup', 'blocked@example.org', unixepoch('now','-8 days'), 'delivered');
  INSERT INTO suppressions VALUES ('BLOCKED@example.org', 'blocked', 'abusive', 0);"
"$CANDORD" -c candor.conf --once 2>once.log
check "--once exits 0" [ $? -eq 0 ]
check "--once sent the 3 due orders to the outbox" [ "$(ls outbox | wc -l)" -eq 3 ]
check "the database records 3 sent" [ "$(count_sql candor.db "SELECT count(*) FROM messages WHERE state='sent'")" -eq 3 ]
check "returned, expired, suppressed and early orders got nothing" \
	[ "$(count_sql candor.db "SELECT count(*) FROM messages WHERE order_id IN ('ret','old','sup','o100')")" -eq 0 ]
check "each message has its life cycle in events" \
	[ "$(count_sql candor.db "SELECT count(*) FROM events WHERE kind IN ('rendered','sending','sent')")" -eq 6 ]
check "the log names order and Message-ID" grep -q "order o1: request sent <" once.log
"$CANDORD" -c candor.conf --once 2>/dev/null
check "a second --once sends nothing again" [ "$(ls outbox | wc -l)" -eq 3 ]
check "status counts by state" sh -c "'$CANDORCTL' -c candor.conf status | grep -q '^sent  *3'"
check "status shows the next due time" sh -c "'$CANDORCTL' -c candor.conf status | grep -q '^next due  *20'"

# ---- dry run ---------------------------------------------------------------
add_orders candor.db 10 2
"$CANDORD" -c candor.conf --once --dry-run 2>dry.log
check "--dry-run exits 0" [ $? -eq 0 ]
check "--dry-run writes the mails to the outbox" [ "$(ls outbox | wc -l)" -eq 5 ]
check "--dry-run records nothing" [ "$(count_sql candor.db "SELECT count(*) FROM messages")" -eq 3 ]
check "--dry-run says so" grep -q "dry run: nothing recorded" dry.log
check "--dry-run says it would send, per order" grep -q "order o[0-9]*: would send request <.*dry run" dry.log
check "--dry-run never says a request was sent" sh -c "! grep -q 'request sent' dry.log"
rm -f outbox/*
"$CANDORD" -c candor.conf --once 2>/dev/null
check "after a dry run the real run still sends" [ "$(ls outbox | wc -l)" -eq 2 ]

# ---- journal prefixes --------------------------------------------------------
: > journal.log
JOURNAL_STREAM=$(stat -c '%d:%i' journal.log) "$CANDORD" -c candor.conf --once 2>>journal.log
check "under systemd lines carry <N> priority prefixes" grep -q '^<5>started' journal.log
check "... and no program name" sh -c "! grep -q 'candord:' journal.log"

# ---- the long-running daemon, sd_notify ---------------------------------------
python3 "$SRCDIR/tests/integration/notify-listen.py" "$WORK/notify.sock" notify.log \
	</dev/null >/dev/null 2>&1 &
bg_started $!
wait_for notify.log listening 5
NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=1000000 \
	"$CANDORD" -c candor.conf --log-level debug 2>daemon.log &
dpid=$!
bg_started $dpid
check "the daemon starts" wait_for daemon.log "started" 5
check "READY=1 is sent with a STATUS" wait_for notify.log "READY=1|STATUS=idle, next due" 5
check "WATCHDOG=1 is sent while idle" wait_for notify.log "^WATCHDOG=1" 3
check "STATUS says what it is doing" wait_for notify.log "STATUS=idle, next due .*, 0 queued, 0 held" 5

"$CANDORD" -c candor.conf --once 2>second.log
rc=$?
check "a second candord on the same database exits 1" [ $rc -eq 1 ]
check "... saying another one runs, with its pid" grep -q "another candord (pid $dpid) is already running" second.log

cp candor.conf good.conf
sed -i 's/delay = "7d"/delay = "7 days"/' candor.conf
printf 'poll_intervl = "1m";\n' >> candor.conf
kill -HUP $dpid
check "a broken reload is logged with file and line" wait_for daemon.log "candor.conf:20: poll_intervl: unknown setting (did you mean 'poll_interval'?)" 5
check "... every error of it" grep -q "candor.conf:16: campaigns\[0\].delay: bad duration" daemon.log
check "... and says the old configuration stays" grep -q "still running with the previous configuration" daemon.log
check "... and STATUS says so" wait_for notify.log "STATUS=reload failed" 5
check "the daemon still runs after a broken reload" kill -0 $dpid
add_orders candor.db 20 1
write_config candor.conf 'limits = { global_rate = "100/hour"; domain_rate = ""; };'
sed -i 's/^limits = { global_rate = ""; daily_cap = 0; domain_rate = ""; };$//' candor.conf
kill -HUP $dpid
check "a good reload is applied" wait_for daemon.log "configuration reloaded" 5
check "RELOADING=1 then READY=1 is sent" wait_for notify.log "^RELOADING=1" 5
check "the reloaded daemon runs a cycle and sends" wait_for daemon.log "order o20: request sent" 5
kill -TERM $dpid
wait_exit $dpid 5
check "SIGTERM when idle exits 0 within 5 s" [ "$exit_status" = 0 ]
check "STOPPING=1 is sent" grep -q "^STOPPING=1" notify.log
check "the log says it stopped" grep -q "stopped" daemon.log

# ---- SIGTERM in the middle of a cycle -------------------------------------------
cp good.conf candor.conf
add_orders candor.db 1000 1500
rm -f outbox/*
"$CANDORD" -c candor.conf 2>busy.log &
dpid=$!
bg_started $dpid
wait_for busy.log "order o10[0-9][0-9]: request sent" 10
kill -TERM $dpid
wait_exit $dpid 5
check "SIGTERM during a cycle exits 0 within 5 s" [ "$exit_status" = 0 ]
sent=$(count_sql candor.db "SELECT count(*) FROM messages WHERE order_id >= 'o1000' AND order_id < 'o2500' AND length(order_id) = 5")
check "the cycle stopped early ($sent of 1500 sent)" between 0 "$sent" 1500
check "... and said so" grep -q "cycle stopped early" busy.log
check "no message is left half-done" [ "$(count_sql candor.db "SELECT count(*) FROM messages WHERE state <> 'sent'")" -eq 0 ]
check "every recorded send has its file" [ "$(ls outbox | wc -l)" -eq "$sent" ]
wd_before=$(grep -c '^WATCHDOG=1' notify.log)
NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=100000 "$CANDORD" -c candor.conf --once 2>/dev/null
sleep 0.2
wd_during=$(($(grep -c '^WATCHDOG=1' notify.log) - wd_before))
check "a long cycle keeps feeding the watchdog ($wd_during pings)" [ "$wd_during" -ge 3 ]
check "the next cycle sends the rest, none twice" \
	[ "$(count_sql candor.db "SELECT count(*) FROM messages WHERE length(order_id) = 5")" -eq 1500 ]
check "... one file per message" [ "$(ls outbox | wc -l)" -eq 1500 ]

# ---- rate limits persist across restarts -------------------------------------------
write_config limited.conf 'limits = { global_rate = "2/hour"; daily_cap = 0; domain_rate = ""; };'
sed -i 's/^limits = { global_rate = ""; daily_cap = 0; domain_rate = ""; };$//; s/candor.db/limited.db/; s/directory = "outbox"/directory = "outbox-limited"/' limited.conf
"$CANDORCTL" -c limited.conf init >/dev/null
add_orders limited.db 1 5
"$CANDORD" -c limited.conf --once 2>limit.log
check "global_rate caps one cycle" [ "$(count_sql limited.db "SELECT count(*) FROM messages")" -eq 2 ]
check "... and says which limit" grep -q "limits.global_rate reached" limit.log
"$CANDORD" -c limited.conf --once 2>/dev/null
check "a restart does not reset the rate" [ "$(count_sql limited.db "SELECT count(*) FROM messages")" -eq 2 ]
check "status counts what the global rate holds back" \
	sh -c "'$CANDORCTL' -c limited.conf status | grep -q '^  global_rate  *3\$'"
NOTIFY_SOCKET="$WORK/notify.sock" "$CANDORD" -c limited.conf --once 2>/dev/null
check "... and STATUS= says the rate is reached" wait_for notify.log "STATUS=idle, .*limits.global_rate reached" 5
CANDOR_NOW=$(($(date +%s) + 3601)) "$CANDORD" -c limited.conf --once 2>/dev/null
check "an hour later two more go" [ "$(count_sql limited.db "SELECT count(*) FROM messages")" -eq 4 ]

# ---- a crash leaves "sending": reported, never resent -----------------------------
sqlite3 candor.db "UPDATE messages SET state = 'sending' WHERE order_id = 'o1'"
before=$(ls outbox | wc -l)
"$CANDORD" -c candor.conf --once 2>crash.log
check "a message found in 'sending' is reported at start" grep -q "order o1: message <.*> was being sent when candord stopped; it is not sent again" crash.log
check "... and not sent again" [ "$(ls outbox | wc -l)" -eq "$before" ]
check "... and status points it out" sh -c "'$CANDORCTL' -c candor.conf status | grep -q 'never sends them again'"

done_testing
