#!/bin/sh
# crash.sh - a crash loses at most what is in flight, and never doubles a
# send. 2,000 due orders, candord as a daemon with smtp.connections = 2,
# killed with SIGKILL twenty times at random moments and restarted each
# time, then one last undisturbed run, against a real SMTP server
# (aiosmtpd) that logs every Message-ID it accepts. The figures:
#   duplicates          Message-IDs or recipients the server got twice (0)
#   never_sent          due orders the server never got; at most
#                       connections x kills (each kill may leave one
#                       message per connection "sending", never resent)
#   sent_not_at_server  rows the database calls sent that the server
#                       does not have (0)
# and after every kill the rows it left "sending" are at most
# smtp.connections. Then a full disk mid-cycle: what the database cannot
# record stays "sending", at most one per connection, and the log says
# "sent" only for what it recorded. CRASH_SEED=N repeats a run's moments.
. "${top_srcdir:-.}/tests/integration/lib.sh"

command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI not installed"
"$SYSPY" -c 'import aiosmtpd' 2>/dev/null || skip_all "python3-aiosmtpd not installed"
cd "$WORK" || exit 1
q() { sqlite3 candor.db "$1"; }
ORDERS=2000
CONNECTIONS=2
KILLS=20
SEED=${CRASH_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}

# a little slower than loopback allows (2 ms per mail), so the kills
# land while mail is moving
start_smtp_server srv --delay 0.002 || skip_all "aiosmtpd did not start"
write_config candor.conf "smtp = { url = \"smtp://127.0.0.1:$SMTP_PORT\"; connections = $CONNECTIONS; };"
sed -i 's/^transport = "outbox";/transport = "smtp";/' candor.conf
"$CANDORCTL" -c candor.conf init >/dev/null
add_orders candor.db 1 $ORDERS

# KILLS moments from 0 to 0.45 s after each start's first mail reaches
# the server (a busy machine can take longer than that to start at all)
awk -v seed="$SEED" -v n=$KILLS 'BEGIN { srand(seed); for (i = 0; i < n; i++) printf "%.2f\n", rand() * 0.45 }' > delays
: > runs.log
kills=0 worst=0 midsend=0
while read -r delay; do
	before=$(q "SELECT count(*) FROM messages WHERE state = 'sending'")
	sent_before=$(wc -l < srv/received.log 2>/dev/null || echo 0)
	"$CANDORD" -c candor.conf 2>>runs.log &
	pid=$!
	i=0
	while [ "$(cat srv/received.log 2>/dev/null | wc -l)" -le "$sent_before" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	sleep "$delay"
	kill -KILL $pid 2>/dev/null && kills=$((kills + 1))
	wait $pid 2>/dev/null
	left=$(($(q "SELECT count(*) FROM messages WHERE state = 'sending'") - before))
	[ "$left" -gt "$worst" ] && worst=$left
	[ "$(wc -l < srv/received.log 2>/dev/null || echo 0)" -gt "$sent_before" ] && midsend=$((midsend + 1))
done < delays
# the last run, undisturbed, finishes what is left
"$CANDORD" -c candor.conf --once 2>>runs.log

cut -f1 srv/received.log | sort > got.ids
cut -f2 srv/received.log | sort > got.rcpts
q "SELECT '<' || message_id || '>' FROM messages WHERE state = 'sent'" | sort > sent.ids
q "SELECT '<' || message_id || '>' FROM messages WHERE state = 'sending'" | sort > sending.ids
dups=$(($(sort got.ids | uniq -d | wc -l) + $(uniq -d got.rcpts | wc -l)))
never=$(($ORDERS - $(sort -u got.rcpts | wc -l)))
sent_missing=$(comm -23 sent.ids got.ids | wc -l)
bound=$((CONNECTIONS * kills))
diag "seed $SEED: $kills kills ($midsend while mail moved); duplicates $dups; never sent $never (bound $CONNECTIONS x $kills = $bound); sent but not at the server $sent_missing; at most $worst left 'sending' by one kill"
diag "states: $(q "SELECT group_concat(state || '=' || n, ' ') FROM (SELECT state, count(*) n FROM messages GROUP BY state)")"
echo "# crash_kills=$kills duplicates=$dups never_sent=$never never_sent_bound=$bound sent_not_at_server=$sent_missing max_sending_per_kill=$worst connections=$CONNECTIONS seed=$SEED"

check "candord was killed $KILLS times" [ "$kills" -eq "$KILLS" ]
check "most kills landed while mail was moving ($midsend)" [ "$midsend" -ge $((KILLS / 2)) ]
check "no duplicates: no Message-ID and no recipient twice at the server" [ "$dups" -eq 0 ]
check "never sent: $never orders, at most connections x kills ($bound)" [ "$never" -le "$bound" ]
check "every row the database calls sent, the server has" [ "$sent_missing" -eq 0 ]
check "no kill left more than smtp.connections rows 'sending' ($worst)" [ "$worst" -le "$CONNECTIONS" ]
check "every due order has exactly one message" \
	[ "$(q "SELECT count(DISTINCT order_id) || ' ' || count(*) FROM messages")" = "$ORDERS $ORDERS" ]
check "every message ended sent, or 'sending' after a kill" \
	[ "$(q "SELECT count(*) FROM messages WHERE state NOT IN ('sent','sending')")" -eq 0 ]
check "what the server has beyond 'sent' was left in 'sending' by a kill" sh -c "
	comm -13 sent.ids got.ids > extra.ids
	[ -z \"\$(comm -23 extra.ids sending.ids)\" ]"
check "the never-sent orders are exactly the 'sending' rows the server lacks" \
	[ "$(comm -23 sending.ids got.ids | wc -l)" -eq "$never" ]
# ---- a full disk mid-cycle: what the database cannot record stays
# 'sending' (one per connection at most), and the log never says "sent"
# for it. A trigger stands in for the full disk: every write of an event
# - each hand-off and each outcome writes one - fails from then on.
start_smtp_server full --delay 0.005 || skip_all "aiosmtpd did not start"
write_config full.conf "smtp = { url = \"smtp://127.0.0.1:$SMTP_PORT\"; connections = $CONNECTIONS; };"
sed -i 's/^transport = "outbox";/transport = "smtp";/; s/^database = .*/database = "full.db";/' full.conf
"$CANDORCTL" -c full.conf init >/dev/null
add_orders full.db 1 300
"$CANDORD" -c full.conf --once 2>full.log &
pid=$!
wait_for full/received.log . 10
i=0
while [ "$(wc -l < full/received.log)" -lt 60 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sqlite3 -cmd '.timeout 5000' full.db "CREATE TRIGGER disk_full BEFORE INSERT ON events
	BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
wait $pid
full_rc=$?
fq() { sqlite3 full.db "$1"; }
stuck=$(fq "SELECT count(*) FROM messages WHERE state = 'sending'")
diag "full disk: candord exited $full_rc; $(fq "SELECT count(*) FROM messages WHERE state = 'sent'") sent, $stuck left 'sending', $(wc -l < full/received.log) at the server"
check "full disk: the cycle fails, saying so" sh -c "[ $full_rc -ne 0 ] && grep -q 'disk is full' full.log"
check "full disk: at most smtp.connections rows left 'sending' ($stuck)" [ "$stuck" -le "$CONNECTIONS" ]
check "full disk: the log says 'sent' only for rows recorded sent" \
	[ "$(grep -c ': request sent <' full.log)" -eq "$(fq "SELECT count(*) FROM messages WHERE state = 'sent'")" ]
check "full disk: what could not be recorded is said, per message" \
	[ "$(grep -c 'but the database could not record it' full.log)" -ge "$stuck" ]
fq "DROP TRIGGER disk_full"
"$CANDORD" -c full.conf --once 2>>full.log
check "full disk: once there is room, the rest go, none twice" sh -c "
	[ -z \"\$(cut -f1 full/received.log | sort | uniq -d)\" ] &&
	[ \$(sqlite3 full.db \"SELECT count(*) FROM messages WHERE state = 'sent'\") -eq \$((300 - $stuck)) ]"

if [ -s sending.ids ]; then
	check "a restart reports the messages a kill left in 'sending'" \
		grep -q "was being sent when candord stopped; it is not sent again" runs.log
else
	ok "no kill left a message in 'sending' this time"
fi
done_testing
