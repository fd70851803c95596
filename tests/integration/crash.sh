#!/bin/sh
# crash.sh - never twice, never lost: candord is killed with SIGKILL at
# many points while it sends 1500 mails to a real SMTP server (aiosmtpd,
# recording every Message-ID it accepts), and restarted each time. The
# server's own log must show no Message-ID and no recipient twice, and
# the database must account for every due order: sent, failed, held, or
# 'sending' after a crash (reported at start, never resent).
. "${top_srcdir:-.}/tests/integration/lib.sh"

command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI not installed"
"$SYSPY" -c 'import aiosmtpd' 2>/dev/null || skip_all "python3-aiosmtpd not installed"
cd "$WORK" || exit 1
q() { sqlite3 candor.db "$1"; }
ORDERS=1500

start_smtp_server srv || skip_all "aiosmtpd did not start"
write_config candor.conf "smtp = { url = \"smtp://127.0.0.1:$SMTP_PORT\"; connections = 3; };"
sed -i 's/^transport = "outbox";/transport = "smtp";/' candor.conf
"$CANDORCTL" -c candor.conf init >/dev/null
add_orders candor.db 1 $ORDERS

: > runs.log
kills=0
for delay in 0.03 0.1 0.06 0.15 0.04 0.12 0.08 0.02 0.18 0.05 0.09 0.03 0.14 0.07 0.05 \
	     0.11 0.02 0.16 0.06 0.13 0.04 0.1 0.07 0.03 0.2 0.08 0.12 0.05 0.03 0.15; do
	left=$(q "SELECT $ORDERS - count(*) FROM messages WHERE state <> 'deferred'")
	[ "$left" -gt 0 ] || break
	"$CANDORD" -c candor.conf --once 2>>runs.log &
	pid=$!
	sleep "$delay"
	if kill -KILL $pid 2>/dev/null; then
		kills=$((kills + 1))
	fi
	wait $pid 2>/dev/null
done
# the last runs, undisturbed, finish what is left
"$CANDORD" -c candor.conf --once 2>>runs.log
"$CANDORD" -c candor.conf --once 2>>runs.log
diag "$kills runs killed; states: $(q "SELECT group_concat(state || '=' || n, ' ') FROM (SELECT state, count(*) n FROM messages GROUP BY state)")"

check "candord was killed mid-run at least 10 times" [ "$kills" -ge 10 ]
check "the server never got a Message-ID twice" \
	[ -z "$(cut -f1 srv/received.log | sort | uniq -d)" ]
check "... nor a recipient twice" \
	[ -z "$(cut -f2 srv/received.log | sort | uniq -d)" ]
check "every due order has exactly one message" \
	[ "$(q "SELECT count(DISTINCT order_id) || ' ' || count(*) FROM messages")" = "$ORDERS $ORDERS" ]
check "every message ended sent, failed, held or sending-after-crash" \
	[ "$(q "SELECT count(*) FROM messages WHERE state NOT IN ('sent','failed','held','sending')")" -eq 0 ]
check "everything the database calls sent, the server has" sh -c "
	sqlite3 candor.db \"SELECT '<' || message_id || '>' FROM messages WHERE state = 'sent'\" | sort > sent.ids
	cut -f1 srv/received.log | sort > got.ids
	[ -z \"\$(comm -23 sent.ids got.ids)\" ]"
check "what the server has beyond that was left in 'sending' by a kill" sh -c "
	sqlite3 candor.db \"SELECT '<' || message_id || '>' FROM messages WHERE state = 'sending'\" | sort > sending.ids
	comm -13 sent.ids got.ids > extra.ids
	[ -z \"\$(comm -23 extra.ids sending.ids)\" ]"
if [ "$(q "SELECT count(*) FROM messages WHERE state = 'sending'")" -gt 0 ]; then
	check "a restart reports the messages a kill left in 'sending'" \
		grep -q "was being sent when candord stopped; it is not sent again" runs.log
else
	ok "no kill landed mid-transfer this time (nothing left in 'sending')"
fi
done_testing
