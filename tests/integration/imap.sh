#!/bin/sh
# imap.sh - response tracking against a real Dovecot on loopback: replies,
# bounces, auto-replies and unsubscribes delivered by IMAP APPEND, one
# tracking cycle, the database checked; then a forged unsubscribe, a
# mail for nobody, a broken MIME mail and a 10 MB one; a UIDVALIDITY
# reset; STARTTLS; a certificate nobody vouches for; a wrong password;
# IDLE waking the daemon; the server dropping the connection; a German
# "no more mails" in reply to a reminder, which stops every later mail
# to that customer, whatever the campaign.
. "${top_srcdir:-.}/tests/integration/lib.sh"

command -v dovecot >/dev/null || skip_all "dovecot is not installed (scripts/install-deps)"
cd "$WORK" || exit 1
start_dovecot "$WORK/dovecot" || skip_all "dovecot would not start (see its log above)"
D=$WORK/dovecot

imap_conf() {
	write_config candor.conf "imap = { url = \"$1\"; username = \"shop\"; password_file = \"$D/pw\";
  mailbox = \"Replies\"; ca_file = \"$D/cert.pem\"; timeout = \"10s\"; $2 };"
}
imap_conf "imaps://127.0.0.1:$IMAPS_PORT"
"$CANDORCTL" -c candor.conf init >/dev/null
add_orders candor.db 1 4
imap_tool append Replies
once() { "$CANDORD" -c candor.conf --once 2>>run.log; }
once
check "an empty inbox is no error" [ $? -eq 0 ]
q() { sqlite3 candor.db "$1"; }
check "four requests went out" [ "$(q "SELECT count(*) FROM messages WHERE state='sent'")" -eq 4 ]

tok() { q "SELECT token FROM messages WHERE order_id='$1'"; }
mid() { q "SELECT message_id FROM messages WHERE order_id='$1'"; }

# o1 replies, o2 bounces hard, o3 is away, o4 unsubscribes
cat > reply.eml <<EOF
From: Customer 1 <c1@example.org>
To: feedback+$(tok o1)@shop.example
Subject: Re: How was your order?
Message-ID: <r1@example.org>
In-Reply-To: <$(mid o1)>
Content-Type: text/plain; charset=utf-8

The tea was lovely, but the tin arrived dented.
EOF
cat > bounce.eml <<EOF
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
To: feedback@shop.example
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

--BB
Content-Type: text/rfc822-headers

Message-ID: <$(mid o2)>
To: c2@example.org
Subject: How was your order?

--BB--
EOF
cat > away.eml <<EOF
From: c3@example.org
To: feedback+$(tok o3)@shop.example
Subject: Automatic reply: How was your order?
Message-ID: <a3@example.org>
Auto-Submitted: auto-replied

I am away until Monday.
EOF
cat > unsub.eml <<EOF
From: c4@example.org
To: feedback+u-$(tok o4)@shop.example
Subject: unsubscribe
Message-ID: <u4@example.org>

unsubscribe
EOF
# not ours to act on: a "stop" without a token naming c1, a newsletter
cat > forged.eml <<EOF
From: c1@example.org
To: feedback@shop.example
Subject: stop
Message-ID: <f1@attacker.example>

STOP
EOF
cat > stray.eml <<EOF
From: news@vendor.example
To: feedback@shop.example
Subject: Our autumn catalogue
Message-ID: <n1@vendor.example>

Buy things.
EOF
printf 'From: c1@example.org\nTo: feedback+%s@shop.example\nSubject: Re: broken\nMessage-ID: <x1@example.org>\nContent-Type: multipart/mixed; boundary="never-closed\n\n--never-closed\nContent-Type: text/plain; charset=bogus-8\nContent-Transfer-Encoding: base64\n\n!!!not base64\xff\xfe\n' "$(tok o1)" > broken.eml
imap_tool append Replies reply.eml bounce.eml away.eml unsub.eml forged.eml stray.eml broken.eml
once
check "a tracking cycle over IMAPS exits 0" [ $? -eq 0 ]
check "the reply is an event on o1" [ "$(q "SELECT count(*) FROM events WHERE order_id='o1' AND kind='replied'")" -ge 1 ]
check "... and its text is kept for support" [ "$(q "SELECT count(*) FROM replies WHERE order_id='o1' AND body LIKE '%tin arrived dented%'")" -eq 1 ]
check "the hard bounce is an event on o2" [ "$(q "SELECT count(*) FROM events WHERE order_id='o2' AND kind='bounced' AND detail LIKE 'hard 5.1.1%'")" -eq 1 ]
check "... and suppresses c2" [ "$(q "SELECT reason FROM suppressions WHERE email='c2@example.org'")" = hard_bounce ]
check "the auto-reply is an event on o3" [ "$(q "SELECT count(*) FROM events WHERE order_id='o3' AND kind='auto_reply'")" -eq 1 ]
check "... and suppresses nobody" [ "$(q "SELECT count(*) FROM suppressions WHERE email='c3@example.org'")" -eq 0 ]
check "the unsubscribe suppresses c4" [ "$(q "SELECT reason FROM suppressions WHERE email='c4@example.org'")" = unsubscribed ]
check "a 'stop' without our token suppresses nobody" [ "$(q "SELECT count(*) FROM suppressions WHERE email='c1@example.org'")" -eq 0 ]
check "... and says so" grep -q "no token: nobody suppressed" run.log
"$CANDORCTL" -c candor.conf status > status.out
check "candorctl status counts the stop without a token" \
	grep -q "^unsubscribe requests without a valid token: 1 (1 of their senders not suppressed)" status.out
"$CANDORCTL" -c candor.conf inbox > inbox.out
check "candorctl inbox lists it with the reason and the words" \
	grep -q "	c1@example.org	unsubscribe request without a valid token: nobody suppressed	stop	STOP$" inbox.out
check "... and the stray newsletter, left for the same human" grep -q "	news@vendor.example	not an answer to one of our mails	" inbox.out
check "... and nothing it acted on" [ "$(wc -l < inbox.out)" -eq 2 ]
check "the broken MIME mail did not stop the loop (it counts as a reply to o1)" [ "$(q "SELECT count(*) FROM replies WHERE order_id='o1'")" -eq 2 ]
check "the log sums the inbox up" grep -q "inbox: 7 read: 2 replies, 1 hard and 0 soft bounces, 1 auto-replies, 2 unsubscribes, 0 complaints, 1 other; 2 matched nothing" run.log
imap_tool flags Replies > flags.out
check "matched mails carry \$Candor" [ "$(grep -c 'Candor' flags.out)" -eq 5 ]
check "the stray and the forged stop are left unmarked for a human" [ "$(grep -vc 'Candor' flags.out)" -eq 2 ]
check "nothing was deleted" [ "$(imap_tool count Replies)" -eq 7 ]
"$CANDORCTL" -c candor.conf history o1 > history.out
check "history shows the reply" grep -q "replied" history.out

events_before=$(q "SELECT count(*) FROM events")
once
check "a second cycle reads nothing again" [ "$(q "SELECT count(*) FROM events")" -eq "$events_before" ]

# a mailbox rebuilt with a new UIDVALIDITY and the same mails: re-read,
# counted once
imap_tool recreate Replies
imap_tool append Replies reply.eml bounce.eml away.eml unsub.eml
once
check "a new UIDVALIDITY is noticed" grep -q "new UIDVALIDITY" run.log
check "... and the same mails are not counted twice" [ "$(q "SELECT count(*) FROM events")" -eq "$events_before" ]
check "... yet they are marked" [ "$(imap_tool flags Replies | grep -c Candor)" -eq 4 ]

# a 10 MB mail: read up to imap.max_size, classified, recorded
{
	printf 'From: c1@example.org\nTo: feedback+%s@shop.example\nSubject: Re: photos\nMessage-ID: <big@example.org>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain\n\nPhotos of the dented tin attached.\n--XX\nContent-Type: image/jpeg\nContent-Transfer-Encoding: base64\n\n' "$(tok o1)"
	head -c 7500000 /dev/urandom | base64
	printf -- '--XX--\n'
} > big.eml
imap_tool append Replies big.eml
once
check "a 10 MB mail is read (its first imap.max_size bytes) and recorded" [ "$(q "SELECT count(*) FROM replies WHERE subject='Re: photos'")" -eq 1 ]
check "... and the log says how much was read" grep -q "classified from its first" run.log

# A German customer answers the reminder, in Latin-1 above the quote:
# "please, no more mails". Nothing goes to her again, in this campaign or
# another, for this order or a new one; a customer who did not ask gets
# all three mails.
write_config gde.conf "imap = { url = \"imaps://127.0.0.1:$IMAPS_PORT\"; username = \"shop\";
  password_file = \"$D/pw\"; mailbox = \"Kunden\"; ca_file = \"$D/cert.pem\"; timeout = \"10s\"; };"
sed -i 's/^database = .*/database = "gde.db";/
s/^limits = .*$/limits = { global_rate = ""; daily_cap = 0; domain_rate = ""; per_customer = 10; };/
s/delay = "7d"; expire = "30d";/delay = "7d"; expire = "30d"; reminder = "3d"; reminder_template = "review_reminder";/
s/^campaigns = ($/campaigns = (\n  { name = "followup"; trigger = "delivered"; delay = "20d"; expire = "60d";\n    variants = ( { name = "A"; template = "review_request"; } ); },/' gde.conf
"$CANDORCTL" -c gde.conf init >/dev/null
g() { sqlite3 gde.db "$1"; }
T0=$(date -u +%s)
DAY=86400
g "INSERT INTO orders(order_id, first_name, email, locale, country, delivered, status) VALUES
   ('de1', 'Jutta', 'jutta@example.de', 'de', 'DE', $T0 - 8 * $DAY, 'delivered'),
   ('ctl1', 'Carl', 'carl@example.org', 'en', 'GB', $T0 - 8 * $DAY, 'delivered')"
imap_tool append Kunden
gde_once() { CANDOR_NOW=$1 "$CANDORD" -c gde.conf --once 2>>gde.log; }
gde_once "$T0"
gde_once $((T0 + 3 * DAY + 3600))
check "the request and then the reminder went to both customers" \
	[ "$(g "SELECT count(*) FROM messages WHERE state = 'sent' AND campaign = 'review'")" -eq 4 ]
rtok=$(g "SELECT token FROM messages WHERE order_id = 'de1' AND kind = 'reminder'")
rmid=$(g "SELECT message_id FROM messages WHERE order_id = 'de1' AND kind = 'reminder'")
{
	printf 'From: Jutta Weber <jutta@example.de>\nTo: Test Shop <feedback+%s@shop.example>\n' "$rtok"
	printf 'Subject: AW: Eine kurze Frage zu Ihrer Bestellung de1\nMessage-ID: <jw1@example.de>\n'
	printf 'In-Reply-To: <%s>\nMIME-Version: 1.0\n' "$rmid"
	printf 'Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n'
	printf 'Guten Tag,\n\nbitte l=F6schen Sie meine Adresse, ich m=F6chte keine E-Mails mehr von Ihnen\n'
	printf 'bekommen.\n\nJutta Weber\n\nAm 12.11.2026 um 10:12 schrieb Test Shop <feedback@shop.example>:\n'
	printf '> Eine kurze Frage zu Ihrer Bestellung de1\n> Keine weiteren E-Mails von uns: https://shop.example/u/x\n'
} > gde-stop.eml
"$CANDORCTL" classify gde-stop.eml > gde-stop.out
check "classify reads her reply as a request to stop" grep -q '^unsubscribe	-	.*asks to stop' gde-stop.out
imap_tool append Kunden gde-stop.eml
gde_once $((T0 + 3 * DAY + 7200))
check "her reply suppresses her address" [ "$(g "SELECT reason FROM suppressions WHERE email = 'jutta@example.de'")" = unsubscribed ]
check "... as an event on the reminder she answered" \
	[ "$(g "SELECT count(*) FROM events e JOIN messages m ON m.id = e.message WHERE m.order_id = 'de1' AND m.kind = 'reminder' AND e.kind = 'unsubscribed'")" -eq 1 ]
g "INSERT INTO orders(order_id, first_name, email, locale, country, delivered, status) VALUES
   ('de2', 'Jutta', 'Jutta@Example.de', 'de', 'DE', $T0 + 3 * $DAY, 'delivered')"
gde_once $((T0 + 13 * DAY))
check "the other customer gets the next campaign's mail" \
	[ "$(g "SELECT count(*) FROM messages WHERE order_id = 'ctl1' AND campaign = 'followup' AND state = 'sent'")" -eq 1 ]
check "she gets nothing more: not the next campaign, not a request for her new order" \
	[ "$(g "SELECT count(*) FROM messages WHERE recipient = 'jutta@example.de' COLLATE NOCASE")" -eq 2 ]
check "... and nothing was sent to her after her reply" \
	[ "$(g "SELECT count(*) FROM messages WHERE recipient = 'jutta@example.de' COLLATE NOCASE AND sent_at > $T0 + 3 * $DAY + 3600")" -eq 0 ]

# STARTTLS on the plain port
imap_conf "imap://127.0.0.1:$IMAP_PORT" 'tls = "required";'
printf 'From: c1@example.org\nTo: feedback+%s@shop.example\nSubject: Re: again\nMessage-ID: <st@example.org>\n\nOne more thing.\n' "$(tok o1)" > starttls.eml
imap_tool append Replies starttls.eml
once
check "STARTTLS on imap:// reads the inbox" [ "$(q "SELECT count(*) FROM replies WHERE subject='Re: again'")" -eq 1 ]

# trust: without ca_file the self-signed certificate is refused
write_config candor.conf "imap = { url = \"imaps://127.0.0.1:$IMAPS_PORT\"; username = \"shop\"; password_file = \"$D/pw\"; mailbox = \"Replies\"; };"
: > trust.log
"$CANDORD" -c candor.conf --once 2>trust.log
check "an untrusted certificate fails --once" [ $? -ne 0 ]
check "... saying whose certificate and what to do" grep -q "certificate of 127.0.0.1 is not trusted.*imap.ca_file" trust.log
check "... and the sending still ran" grep -q "cycle done" trust.log

printf 'wrong\n' > badpw
chmod 600 badpw
write_config candor.conf "imap = { url = \"imaps://127.0.0.1:$IMAPS_PORT\"; username = \"shop\"; password_file = \"$WORK/badpw\"; mailbox = \"Replies\"; ca_file = \"$D/cert.pem\"; };"
"$CANDORD" -c candor.conf --once 2>badpw.log
check "a wrong password fails --once with the server's words" grep -q "IMAP login:.*\(failed\|Authentication\)" badpw.log

# the daemon: IDLE wakes it for new mail, and a dropped connection is
# picked up again
imap_conf "imaps://127.0.0.1:$IMAPS_PORT" 'move_to = "Done";'
sed -i 's/poll_interval = "10s"/poll_interval = "1h"/' candor.conf
"$CANDORD" -c candor.conf 2>daemon.log &
DAEMON=$!
bg_started $DAEMON
wait_for daemon.log "reading" 10
sleep 1
printf 'From: c3@example.org\nTo: feedback+%s@shop.example\nSubject: Re: back now\nMessage-ID: <idle1@example.org>\n\nBack from holiday: all good.\n' "$(tok o3)" > idle1.eml
imap_tool append Replies idle1.eml
i=0
while [ $i -lt 50 ] && [ "$(q "SELECT count(*) FROM replies WHERE subject='Re: back now'")" -eq 0 ]; do sleep 0.1; i=$((i + 1)); done
check "IDLE brings a new mail in within seconds (poll_interval is 1h)" [ "$(q "SELECT count(*) FROM replies WHERE subject='Re: back now'")" -eq 1 ]
check "... and move_to moved it" [ "$(imap_tool count Done)" -ge 1 ]
doveadm -c "$D/dovecot.conf" kick shop >/dev/null 2>&1
sleep 1
printf 'From: c3@example.org\nTo: feedback+%s@shop.example\nSubject: Re: after the drop\nMessage-ID: <idle2@example.org>\n\nStill here.\n' "$(tok o3)" > idle2.eml
imap_tool append Replies idle2.eml
i=0
while [ $i -lt 80 ] && [ "$(q "SELECT count(*) FROM replies WHERE subject='Re: after the drop'")" -eq 0 ]; do sleep 0.1; i=$((i + 1)); done
check "after the server drops the connection, new mail is still read" [ "$(q "SELECT count(*) FROM replies WHERE subject='Re: after the drop'")" -eq 1 ]
kill -TERM $DAEMON
wait_exit $DAEMON 5
check "the daemon stops cleanly" [ "$exit_status" = 0 ]
done_testing
