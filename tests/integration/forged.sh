#!/bin/sh
# forged.sh - bounces act only through proof, end to end: mail goes out by
# SMTP (aiosmtpd records each envelope sender: the VERP address
# bounces+TOKEN@), bounces come back through a real Dovecot. The audit's
# forged bounce - MAILER-DAEMON@evil.test to the shop's address, no token,
# "<c3@example.org>: ... 550 5.1.1 User unknown" - suppresses nobody, is
# noted on c3's message for a human and stays unmarked in the mailbox; a
# bounce to the VERP address, and one returning our Message-ID, do
# suppress.
. "${top_srcdir:-.}/tests/integration/lib.sh"

command -v dovecot >/dev/null || skip_all "dovecot is not installed (scripts/install-deps)"
command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI not installed"
"$SYSPY" -c 'import aiosmtpd' 2>/dev/null || skip_all "python3-aiosmtpd not installed"
cd "$WORK" || exit 1
start_dovecot "$WORK/dovecot" || skip_all "dovecot would not start (see its log above)"
D=$WORK/dovecot
start_smtp_server srv || skip_all "aiosmtpd did not start"
q() { sqlite3 candor.db "$1"; }

write_config candor.conf "smtp = { url = \"smtp://127.0.0.1:$SMTP_PORT\"; envelope_from = \"bounces@shop.example\"; };
imap = { url = \"imaps://127.0.0.1:$IMAPS_PORT\"; username = \"shop\"; password_file = \"$D/pw\";
  mailbox = \"Bounces\"; ca_file = \"$D/cert.pem\"; timeout = \"10s\"; };"
sed -i 's/^transport = "outbox";/transport = "smtp";/' candor.conf
"$CANDORCTL" -c candor.conf init >/dev/null
add_orders candor.db 1 3
imap_tool append Bounces
"$CANDORD" -c candor.conf --once 2>run.log
check "three requests went out" [ "$(q "SELECT count(*) FROM messages WHERE state = 'sent'")" -eq 3 ]
check "each with its own envelope sender, bounces+TOKEN@shop.example (VERP)" sh -c "
	sqlite3 candor.db \"SELECT '<' || message_id || '>	bounces+' || token || '@shop.example' FROM messages\" | sort > want
	cut -f1,6 srv/received.log | sort > got
	cmp -s want got"
tok() { q "SELECT token FROM messages WHERE order_id = '$1'"; }
mid() { q "SELECT message_id FROM messages WHERE order_id = '$1'"; }

# the audit's forged bounce, word for word
cat > forged.eml <<EOF
From: MAILER-DAEMON@evil.test
To: feedback@shop.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <forged1@evil.test>

This is the mail system at host evil.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<c3@example.org>: host mx.example.org said: 550 5.1.1 User unknown
EOF
# a real one: a DSN to the VERP address of c2's message, nothing returned
cat > verp.eml <<EOF
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
Delivered-To: bounces+$(tok o2)@shop.example
To: bounces+$(tok o2)@shop.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <b2@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BB"

--BB
Content-Type: text/plain

<c2@example.org>: host mx.example.org said: 550 5.1.1 User unknown

--BB
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; c2@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <c2@example.org>: User unknown

--BB--
EOF
# and one to the plain address that returns our Message-ID
cat > returned.eml <<EOF
From: MAILER-DAEMON@mx.example.org
To: feedback@shop.example
Subject: Delivery Status Notification (Failure)
Message-ID: <b1@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="CC"

--CC
Content-Type: text/plain

Delivery to c1@example.org failed permanently.

--CC
Content-Type: message/delivery-status

Final-Recipient: rfc822; c1@example.org
Action: failed
Status: 5.1.1

--CC
Content-Type: text/rfc822-headers

Message-ID: <$(mid o1)>
To: c1@example.org
Subject: How was your order?

--CC--
EOF
imap_tool append Bounces forged.eml verp.eml returned.eml
"$CANDORD" -c candor.conf --once 2>>run.log
check "the forged bounce suppresses nobody" \
	[ "$(q "SELECT count(*) FROM suppressions WHERE email = 'c3@example.org'")" -eq 0 ]
check "... is no 'bounced' event on c3's message" \
	[ "$(q "SELECT count(*) FROM events WHERE order_id = 'o3' AND kind = 'bounced'")" -eq 0 ]
check "... but is noted on it for a human" \
	[ "$(q "SELECT count(*) FROM events WHERE order_id = 'o3' AND kind = 'bounce_unproven' AND detail LIKE '%evil.test%'")" -eq 1 ]
check "... and the log says so" grep -q "carries no token of ours.*left in the mailbox for a human" run.log
check "the bounce to the VERP address suppresses c2" \
	[ "$(q "SELECT reason FROM suppressions WHERE email = 'c2@example.org'")" = hard_bounce ]
check "the bounce returning our Message-ID suppresses c1" \
	[ "$(q "SELECT reason FROM suppressions WHERE email = 'c1@example.org'")" = hard_bounce ]
imap_tool flags Bounces > flags.out
check "the proven two are marked \$Candor, the forged one is left unmarked" \
	[ "$(grep -c Candor flags.out) $(grep -vc Candor flags.out)" = "2 1" ]
# a reply to c3's request still counts: nothing was taken from c3
cat > reply.eml <<EOF
From: c3@example.org
To: feedback+$(tok o3)@shop.example
Subject: Re: How was your order?
Message-ID: <r3@example.org>

Lovely, thank you.
EOF
imap_tool append Bounces reply.eml
"$CANDORD" -c candor.conf --once 2>>run.log
check "c3 is still a customer: the reply is recorded" \
	[ "$(q "SELECT count(*) FROM replies WHERE order_id = 'o3'")" -eq 1 ]
done_testing
