#!/bin/sh
# stop.sh - a stop is bounded whatever the SMTP server does. Against a
# server that stops answering at the greeting, MAIL, RCPT, DATA, after
# the final dot, or at QUIT (tests/integration/smtp-hang.py), candord
# gets SIGTERM while its transfers hang: it must exit 0 within
# smtp.stop_grace + 2 s, leave a message whose end never went "queued"
# (sent with the next cycle, same Message-ID) and one the server had whole
# "sending". After SIGTERM no new message is handed out. A connection
# reset in the middle of the message (before the final dot) defers it,
# and it is sent later.
. "${top_srcdir:-.}/tests/integration/lib.sh"

command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI not installed"
"$SYSPY" -c 'import asyncio' 2>/dev/null || skip_all "python3 not usable"
cd "$WORK" || exit 1
q() { sqlite3 candor.db "$1"; }
now() { date +%s.%N; }
# secs FROM TO: TO - FROM, in seconds with two decimals
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# within SECS LIMIT: SECS <= LIMIT
within() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# start_hang DIR ARGS...: smtp-hang.py in DIR; sets HANG_PORT
start_hang() {
	rm -rf "$1"
	mkdir -p "$1"
	"$SYSPY" "$SRCDIR/tests/integration/smtp-hang.py" "$@" >"$1/server.log" 2>&1 &
	HANG_PID=$!
	bg_started $HANG_PID
	wait_for "$1/port" . 10 || return 1
	HANG_PORT=$(cat "$1/port")
}
stop_hang() { kill "$HANG_PID" 2>/dev/null; wait "$HANG_PID" 2>/dev/null; }

# conf PORT [SMTP SETTINGS]
conf() {
	write_config candor.conf "smtp = { url = \"smtp://127.0.0.1:$1\"; connections = 2; ${2:-} };"
	sed -i 's/^transport = "outbox";/transport = "smtp";/' candor.conf
}
fresh_db() {
	rm -f candor.db candor.db-wal candor.db-shm
	"$CANDORCTL" -c candor.conf init >/dev/null
	add_orders candor.db 1 "${1:-6}"
}

GRACE=2
: > timings
# hung STAGE WANT-STATE [GRACE-SETTING]: the daemon against a server
# hanging at STAGE, SIGTERM once both connections hang there
hung() {
	stage=$1 want=$2 grace=${3:-$GRACE}
	start_hang "h-$stage" --hang "$stage" || { not_ok "$stage: server did not start"; return; }
	conf "$HANG_PORT" "stop_grace = \"${grace}s\";"
	fresh_db 6
	"$CANDORD" -c candor.conf 2>"d-$stage.log" &
	dpid=$!
	bg_started $dpid
	i=0
	n=2
	[ "$stage" = dot ] && n=1
	while [ "$(cat "h-$stage/events.log" 2>/dev/null | grep -c "HANG-$stage")" -lt $n ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.3
	t0=$(now)
	kill -TERM $dpid
	wait_exit $dpid $((grace + 10))
	t1=$(now)
	took=$(secs "$t0" "$t1")
	echo "$stage $took" >> timings
	diag "hung at $stage: SIGTERM to exit $took s (stop_grace ${grace}s)"
	check "$stage: SIGTERM exits 0 within stop_grace + 2 s ($took s)" \
		sh -c "[ '$exit_status' = 0 ] && awk -v a=$took -v b=$((grace + 2)) 'BEGIN { exit !(a <= b) }'"
	if [ "$stage" = dot ]; then
		# libcurl waits for the answer to a final dot inside one call, so
		# the other connection is held mid-message meanwhile
		dots=$(grep -c "HANG-dot" "h-$stage/events.log")
		check "dot: what the server had whole stays 'sending' ($dots), the other is queued" \
			[ "$(q "SELECT count(*) FROM messages WHERE state = 'sending'") $(q "SELECT count(*) FROM messages")" = "$dots 2" ]
		check "dot: ... none of them 'sent', nothing else written" \
			[ "$(q "SELECT count(*) FROM messages WHERE state NOT IN ('sending','queued')")" -eq 0 ]
	else
		check "$stage: hangs on both connections" [ "$(grep -c "HANG-$stage" "h-$stage/events.log")" -eq 2 ]
		check "$stage: the two in flight end '$want', nothing else was written" \
			[ "$(q "SELECT group_concat(state) FROM messages")" = "$want,$want" ]
	fi
	check "$stage: no connection after SIGTERM" \
		[ "$(awk -v t="$t0" '$1 > t && $3 == "connect"' "h-$stage/events.log" | wc -l)" -eq 0 ]
	stop_hang
}
hung greeting queued
check "... the reason says so" sh -c "sqlite3 candor.db \"SELECT reason FROM messages\" | grep -q 'stopped before the end of the message went'"
check "... and the log" grep -q "back in the queue (stopped)" d-greeting.log
hung mail queued
hung rcpt queued
hung data queued
# the queued ones go with the next cycle, with their Message-IDs
start_smtp_server ok || skip_all "aiosmtpd did not start"
conf "$SMTP_PORT"
q "SELECT '<' || message_id || '>' FROM messages" | sort > queued.ids
"$CANDORD" -c candor.conf --once 2>next.log
check "the next cycle sends the queued ones first, with their Message-IDs, and the rest" sh -c "
	cut -f1 ok/received.log | sort > got.ids
	[ \"\$(comm -23 queued.ids got.ids | wc -l)\" -eq 0 ] && [ \"\$(wc -l < got.ids)\" -eq 6 ]"
check "... all six sent" [ "$(q "SELECT count(*) FROM messages WHERE state = 'sent'")" -eq 6 ]
hung dot sending
check "... the reason says it may have arrived" sh -c "sqlite3 candor.db \"SELECT reason FROM messages\" | grep -q 'it may have arrived'"
# the default grace (5 s)
hung dot sending 5
# a server that answers everything but QUIT: after a stop, no QUIT
start_hang h-quit --hang quit || skip_all "server did not start"
conf "$HANG_PORT" "stop_grace = \"${GRACE}s\";"
fresh_db 6
"$CANDORD" -c candor.conf 2>d-quit.log &
dpid=$!
bg_started $dpid
i=0
while [ "$(cat h-quit/events.log 2>/dev/null | grep -c ACCEPT)" -lt 6 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 0.3
t0=$(now)
kill -TERM $dpid
wait_exit $dpid $((GRACE + 10))
took=$(secs "$t0" "$(now)")
echo "quit $took" >> timings
diag "a server that never answers QUIT: SIGTERM to exit $took s"
check "quit: SIGTERM exits 0 within stop_grace + 2 s ($took s), all six sent" \
	sh -c "[ '$exit_status' = 0 ] && awk -v a=$took -v b=$((GRACE + 2)) 'BEGIN { exit !(a <= b) }' &&
	       [ \"\$(sqlite3 candor.db \"SELECT count(*) FROM messages WHERE state = 'sent'\")\" -eq 6 ]"
# --once closes its connections with a QUIT, each answer awaited 2 s at most
t0=$(now)
add_orders candor.db 7 2
"$CANDORD" -c candor.conf --once 2>>d-quit.log
took=$(secs "$t0" "$(now)")
check "quit: --once against it ends within 2 s a connection ($took s)" within "$took" 6
stop_hang

# ---- after SIGTERM, nothing new is handed out --------------------------------
start_hang slow --delay 0.4 || skip_all "server did not start"
conf "$HANG_PORT" 'stop_grace = "5s";'
fresh_db 20
"$CANDORD" -c candor.conf 2>slow.log &
dpid=$!
bg_started $dpid
wait_for slow/events.log ACCEPT 10
t0=$(now)
kill -TERM $dpid
wait_exit $dpid 10
took=$(secs "$t0" "$(now)")
check "a slow server: SIGTERM lets the transfers in flight finish ($took s)" \
	sh -c "[ '$exit_status' = 0 ] && [ \"\$(sqlite3 candor.db \"SELECT count(*) FROM messages WHERE state <> 'sent'\")\" -eq 0 ]"
check "... and starts no new one" \
	[ "$(awk -v t="$t0" '$1 > t && $3 == "MAIL"' slow/events.log | wc -l)" -eq 0 ]
check "... the orders not handed out stay due, unwritten" \
	[ "$(q "SELECT count(*) FROM messages")" -lt 20 ]
stop_hang

# ---- a reset in the middle of the message, before the final dot -------------
# a big footer makes a mail that cannot all sit in the socket buffers
footer=$(awk 'BEGIN { for (i = 0; i < 12000; i++) printf "Tea House, 1 Tea Street, Teatown. "; }')
start_hang reset --reset-in-data 4000 --rcvbuf 4096 || skip_all "server did not start"
conf "$HANG_PORT"
printf 'shop = { name = "Test Shop"; domain = "shop.example"; from = "feedback@shop.example"; footer = "%s"; };\n' "$footer" >> candor.conf
sed -i '/^shop = {$/,/^};$/d' candor.conf
fresh_db 1
"$CANDORD" -c candor.conf --once 2>reset.log
check "a reset in the middle of the message, before its end: deferred" \
	[ "$(q "SELECT state FROM messages")" = deferred ]
check "... its bytes kept for the retry" [ "$(q "SELECT length(mail) > 300000 FROM messages")" = 1 ]
stop_hang
start_smtp_server ok2 || skip_all "aiosmtpd did not start"
sed -i "s|smtp://127.0.0.1:[0-9]*|smtp://127.0.0.1:$SMTP_PORT|" candor.conf
CANDOR_NOW=$(($(date +%s) + 600)) "$CANDORD" -c candor.conf --once 2>>reset.log
check "... and sent by the retry, with its Message-ID" sh -c "
	[ \"\$(sqlite3 candor.db \"SELECT state FROM messages\")\" = sent ] &&
	grep -qF \"<\$(sqlite3 candor.db \"SELECT message_id FROM messages\")>\" ok2/received.log"

echo "# stop_seconds $(awk '{ printf "%s=%s ", $1, $2 }' timings)grace=$GRACE"
done_testing
