#!/bin/sh
# smtp.sh - delivery against real servers on loopback: Python's aiosmtpd
# (STARTTLS on a self-signed certificate, AUTH, recording every mail) and
# Postfix's smtp-sink (answers with faults on request). Covers success,
# 421/450/451/452 deferrals and their retry, 550/552/554 failures (5.1.1
# suppresses the address), a connection dropped before and after the
# message, TLS required but not offered, a certificate that does not
# verify, a wrong password and a refused sender (both pause sending),
# giving up after smtp.retry_for, and smtp.connections.
. "${top_srcdir:-.}/tests/integration/lib.sh"

command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI not installed"
command -v smtp-sink >/dev/null || skip_all "smtp-sink (postfix) not installed"
"$SYSPY" -c 'import aiosmtpd' 2>/dev/null || skip_all "python3-aiosmtpd not installed"
command -v openssl >/dev/null || skip_all "openssl not installed"
cd "$WORK" || exit 1
q() { sqlite3 candor.db "$1"; }
NOW=$(date +%s)

# smtp_config PORT [SMTP SETTINGS]: the test config, sending by SMTP
smtp_config() {
	write_config candor.conf "smtp = { url = \"smtp://127.0.0.1:$1\"; ${2:-} };"
	sed -i 's/^transport = "outbox";/transport = "smtp";/' candor.conf
}
fresh_db() {
	rm -f candor.db candor.db-wal candor.db-shm
	"$CANDORCTL" -c candor.conf init >/dev/null
	add_orders candor.db 1 "${1:-3}"
}
once() { "$CANDORD" -c candor.conf --once 2>>run.log; }

# ---- STARTTLS, AUTH, certificates ------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
	-subj /CN=localhost >/dev/null 2>&1
printf 's3cret\n' > pw
chmod 600 pw
start_smtp_server tlsd --tls cert.pem key.pem --auth shop:s3cret || skip_all "aiosmtpd did not start"
TLS_PORT=$SMTP_PORT
smtp_config $TLS_PORT "username = \"shop\"; password_file = \"$WORK/pw\"; tls = \"required\";"
fresh_db 3
: > run.log
once
check "certificate checks are on by default: a self-signed server pauses sending" \
	grep -q "sending paused" run.log
check "... and no message failed for it" [ "$(q "SELECT count(*) FROM messages WHERE state = 'failed'")" -eq 0 ]
check "... those that met it (one per connection) wait as deferred" \
	[ "$(q "SELECT count(*) FROM messages WHERE state = 'deferred'")" -ge 1 ]
"$CANDORCTL" -c candor.conf status > status.out
check "candorctl status says sending is paused" grep -q "^sending        PAUSED" status.out
once
check "while paused, a second run sends nothing" [ "$(q "SELECT count(*) FROM messages WHERE state = 'sending' OR state = 'sent'")" -eq 0 ]
smtp_config $TLS_PORT "username = \"shop\"; password_file = \"$WORK/pw\"; tls = \"required\"; verify_certificate = false;"
CANDOR_NOW=$((NOW + 16 * 60)) "$CANDORD" -c candor.conf --once 2>>run.log
check "after smtp.pause_retry it tries again: all 3 sent over STARTTLS with AUTH" \
	[ "$(awk -F'\t' '$4 == "shop" && $5 == "tls"' tlsd/received.log | wc -l)" -eq 3 ]
check "... the deferred one with its first Message-ID" \
	[ "$(q "SELECT count(*) FROM messages m WHERE state = 'sent'")" -eq 3 ]
check "the server's reply is kept" \
	[ "$(q "SELECT count(*) FROM messages WHERE server_reply LIKE '250 2.0.0 Ok: queued as %'")" -eq 3 ]
check "every Message-ID the server got is one candor recorded" sh -c "
	cut -f1 tlsd/received.log | tr -d '<>' | sort > got.ids
	sqlite3 candor.db \"SELECT message_id FROM messages WHERE state = 'sent'\" | sort > sent.ids
	cmp -s got.ids sent.ids"

"$CANDORCTL" -c candor.conf send-test --campaign review --locale de admin@shop.example >st.out 2>&1
check "send-test: accepted (exit 0)" [ $? -eq 0 ]
check "... shows the dialogue with STARTTLS and AUTH, password masked" \
	sh -c "grep -q '^C: STARTTLS' st.out && grep -q '^C: AUTH PLAIN \*\*\*\*' st.out && ! grep -q s3cret st.out && ! grep -q 'AHNob3AAczNjcmV0' st.out"
check "... and the server's verdict" grep -q "^outcome: accepted via smtp: 250 2.0.0 Ok" st.out
check "... the sample reached the server, for that address" \
	[ "$(grep -c 'admin@shop.example' tlsd/received.log)" -eq 1 ]
check "... and wrote nothing to the database" [ "$(q "SELECT count(*) FROM messages")" -eq 3 ]

start_smtp_server smtpsd --smtps cert.pem key.pem --auth shop:s3cret || skip_all "aiosmtpd did not start"
write_config candor.conf "smtp = { url = \"smtps://127.0.0.1:$SMTP_PORT\"; username = \"shop\"; password_file = \"$WORK/pw\"; verify_certificate = false; envelope_from = \"bounces@shop.example\"; };"
sed -i 's/^transport = "outbox";/transport = "smtp";/' candor.conf
fresh_db 2
once
check "smtps:// (TLS from the first byte) with AUTH: 2 sent" \
	[ "$(awk -F'\t' '$4 == "shop" && $5 == "tls"' smtpsd/received.log | wc -l)" -eq 2 ]
check "... with the envelope sender apart from From" \
	grep -q '^From: .*<feedback@shop.example>' smtpsd/msg-1.eml
check "... and each its own (VERP): bounces+TOKEN@, the message's token" sh -c "
	sqlite3 candor.db \"SELECT '<' || message_id || '>	bounces+' || token || '@shop.example' FROM messages\" | sort > want.verp
	cut -f1,6 smtpsd/received.log | sort > got.verp
	cmp -s want.verp got.verp"

printf 'wrong\n' > pw
fresh_db 2
: > run.log
once
check "a wrong password pauses sending" grep -q "sending paused.*[Ll]ogin" run.log
check "... and fails no message" [ "$(q "SELECT count(*) FROM messages WHERE state IN ('failed','sent')")" -eq 0 ]
printf 's3cret\n' > pw

start_smtp_server plaind || skip_all "aiosmtpd did not start"
smtp_config $SMTP_PORT "tls = \"required\";"
fresh_db 1
: > run.log
once
check "TLS required but not offered: sending pauses" grep -q "sending paused" run.log
check "... nothing reached the server" [ ! -s plaind/received.log ]
smtp_config $SMTP_PORT "connections = 3;"
fresh_db 60
: > run.log
CANDOR_NOW=$((NOW + 3600)) once
check "to loopback, plain SMTP by default: 60 sent" [ "$(wc -l < plaind/received.log)" -eq 60 ]
check "connections = 3: the burst used at most 3 connections, reused" \
	[ "$(cut -f3 plaind/received.log | sort -u | wc -l)" -le 3 ]

# ---- faults from smtp-sink ---------------------------------------------------
# fault NAME EXPECT-STATE SMTP-SINK-OPTIONS...: one order against a sink
# answering that way; its state must be EXPECT-STATE
fault() {
	name=$1 want=$2
	shift 2
	start_sink "sink-$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-')" "$@" ||
		{ not_ok "$name: smtp-sink did not start"; return; }
	smtp_config $SINK_PORT
	fresh_db 1
	: > run.log
	once
	got=$(q "SELECT state FROM messages")
	check "$name: $want (got $got)" [ "$got" = "$want" ]
	stop_sink
}
fault "421 to RCPT" deferred -Q RCPT
fault "450 to RCPT" deferred -r RCPT -b "450 4.2.0 Mailbox busy"
fault "451 to DATA" deferred -r DATA -b "451 4.3.0 Local error"
fault "452 to RCPT" deferred -r RCPT -b "452 4.2.2 Mailbox full"
check "... a deferred message keeps its bytes and a next attempt" \
	[ "$(q "SELECT length(mail) > 1000 AND next_attempt > created FROM messages")" = 1 ]
fault "550 5.1.1 to RCPT" failed -f RCPT -B "550 5.1.1 <c1@example.org>: User unknown"
check "... and the address is suppressed as a hard bounce" \
	[ "$(q "SELECT reason FROM suppressions WHERE email = 'c1@example.org'")" = hard_bounce ]
fault "552 to the message" failed -f . -B "552 5.3.4 Message too big"
check "... a 5xx that is not about the address suppresses nothing" \
	[ "$(q "SELECT count(*) FROM suppressions")" -eq 0 ]
fault "554 to the message" failed -f . -B "554 5.7.1 Rejected as spam"
check "... the server's words are kept" [ "$(q "SELECT server_reply FROM messages")" = "554 5.7.1 Rejected as spam" ]
fault "dropped before the message" deferred -q DATA
fault "dropped after the whole message" sending -q .
check "... it may have arrived: not sent again, and said so" \
	sh -c "sqlite3 candor.db \"SELECT reason FROM messages\" | grep -q 'it may have arrived, so it is not sent again'"
start_sink sink-slow -w 5
smtp_config $SINK_PORT "timeout = \"2s\";"
fresh_db 1
: > run.log
once
check "a server slower than smtp.timeout: deferred" [ "$(q "SELECT state FROM messages")" = deferred ]
check "... saying it timed out" sh -c "sqlite3 candor.db \"SELECT server_reply FROM messages\" | grep -qi 'timeout\|timed out'"
stop_sink
fault "a refused sender (5xx to MAIL FROM)" deferred -f MAIL
check "... pauses sending" grep -q "sending paused" run.log

# a deferred message is retried later, with the same bytes
start_sink sink-retry -r RCPT
smtp_config $SINK_PORT
fresh_db 1
: > run.log
once
mid=$(q "SELECT message_id FROM messages")
stop_sink
start_sink sink-ok
smtp_config $SINK_PORT
once
check "a retry before its time sends nothing" [ "$(q "SELECT state FROM messages")" = deferred ]
CANDOR_NOW=$((NOW + 8 * 60)) "$CANDORD" -c candor.conf --once 2>>run.log
check "after the backoff it is sent" [ "$(q "SELECT state || ' ' || attempts FROM messages")" = "sent 2" ]
check "... with the first attempt's Message-ID" grep -rqF "Message-ID: <$mid>" sink-ok
stop_sink

start_sink sink-always -r RCPT
smtp_config $SINK_PORT "retry_for = \"1h\";"
fresh_db 1
: > run.log
once
CANDOR_NOW=$((NOW + 2 * 3600)) "$CANDORD" -c candor.conf --once 2>>run.log
check "deferred past smtp.retry_for: failed, saying why" \
	sh -c "[ \"\$(sqlite3 candor.db \"SELECT state FROM messages\")\" = failed ] &&
	       sqlite3 candor.db \"SELECT reason FROM messages\" | grep -q '^gave up after 2 attempts'"
stop_sink

done_testing
