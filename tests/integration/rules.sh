#!/bin/sh
# rules.sh - the scheduling rules end to end, through candord --once on a
# real database with a fixed clock (CANDOR_NOW): the send window in each
# customer's zone, the country's zone as fallback, weekdays, the
# per-customer cap, the per-domain rate, no request after feedback, the
# apology after negative feedback, one reminder and when it is not sent.
. "${top_srcdir:-.}/tests/integration/lib.sh"

command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI not installed"
cd "$WORK" || exit 1
at() { date -u -d "$1" +%s; }
q() { sqlite3 candor.db "$1"; }
sent_to() { q "SELECT count(*) FROM messages WHERE order_id = '$1' AND kind = '${2:-request}' AND state = 'sent'"; }

write_config candor.conf
# the real default window (09:00-20:00, Monday to Saturday) and real caps
sed -i '/^send_window = {/,/weekdays = .*};$/d' candor.conf
sed -i 's/^limits = .*$/limits = { global_rate = ""; daily_cap = 0; domain_rate = "2\/hour"; per_customer = 2; };/' candor.conf
sed -i 's/^campaigns = ($/campaigns = (\n  { name = "apology"; trigger = "negative_feedback"; delay = "0s"; expire = "60d";\n    variants = ( { name = "A"; template = "apology"; } ); },/' candor.conf
sed -i 's/delay = "7d"; expire = "30d";/delay = "7d"; expire = "30d"; reminder = "3d"; reminder_template = "review_reminder";/' candor.conf
"$CANDORCTL" -c candor.conf check-config >/dev/null 2>check.err
check "the rules configuration is valid" [ $? -eq 0 ]
"$CANDORCTL" -c candor.conf init >/dev/null

# Wednesday 2026-06-10 03:00 UTC: 11:00 in Shanghai, 05:00 in Berlin,
# 23:00 (Tuesday) in New York.
NOW=$(at "2026-06-10 03:00")
D=$(at "2026-06-02 12:00")   # delivered 7.6 days earlier
sqlite3 candor.db <<EOS
INSERT INTO orders(order_id, email, timezone, country, delivered, status) VALUES
 ('sh', 'sh@a.example', 'Asia/Shanghai', 'CN', $D, 'delivered'),
 ('ny', 'ny@b.example', 'America/New_York', 'US', $D, 'delivered'),
 ('de', 'de@c.example', NULL, 'DE', $D, 'delivered'),
 ('cap1', 'same@d.example', 'Asia/Shanghai', NULL, $D, 'delivered'),
 ('cap2', 'SAME@d.example', 'Asia/Shanghai', NULL, $D, 'delivered'),
 ('cap3', 'same@d.example', 'Asia/Shanghai', NULL, $D, 'delivered'),
 ('dom1', 'a@e.example', 'Asia/Shanghai', NULL, $D, 'delivered'),
 ('dom2', 'b@e.example', 'Asia/Shanghai', NULL, $D, 'delivered'),
 ('dom3', 'c@e.example', 'Asia/Shanghai', NULL, $D, 'delivered'),
 ('fb', 'fb@f.example', 'Asia/Shanghai', NULL, $D, 'delivered'),
 ('bad', 'bad@g.example', 'Asia/Shanghai', NULL, $D, 'delivered'),
 ('good', 'good@h.example', 'Asia/Shanghai', NULL, $D, 'delivered');
INSERT INTO feedback(order_id, rating, comment, source, received) VALUES
 ('fb', 5, 'Great', 'shop', $D + 3600),
 ('bad', 1, 'The tin arrived dented', 'amazon', $(at "2026-06-09 20:00")),
 ('good', 4, 'Fine', 'amazon', $(at "2026-06-09 20:00"));
EOS

# before any mail: status plans the cycle, its own planned mails counted
# under the cap and the domain rate, so it says what the cycle will do
CANDOR_NOW=$NOW "$CANDORCTL" -c candor.conf status >status0.txt 2>&1
check "status before the first cycle predicts it (6 due now, 4 waiting)" \
	sh -c "grep -q '^due now  *6\$' status0.txt && grep -q '^waiting  *4\$' status0.txt &&
	       grep -q '^  per_customer  *1\$' status0.txt && grep -q '^  domain_rate  *1\$' status0.txt"
CANDOR_NOW=$NOW "$CANDORD" -c candor.conf --once --log-level debug 2>run1.log
check "one cycle at a fixed time exits 0" [ $? -eq 0 ]
check "inside the window in Shanghai: sent" [ "$(sent_to sh)" -eq 1 ]
check "23:00 in New York: waits" [ "$(q "SELECT count(*) FROM messages WHERE order_id='ny'")" -eq 0 ]
check "... and the log says why" grep -q "order ny: review request waits: outside the send window" run1.log
check "no time zone, country DE: 05:00 in Berlin, waits" [ "$(q "SELECT count(*) FROM messages WHERE order_id='de'")" -eq 0 ]
check "per-customer cap 2: two of three orders of one customer" \
	[ "$(q "SELECT count(*) FROM messages WHERE order_id LIKE 'cap%'")" -eq 2 ]
check "... counted whatever the address's case" grep -q "per-customer cap reached" run1.log
check "domain rate 2/hour: two of three mails to one domain" \
	[ "$(q "SELECT count(*) FROM messages WHERE recipient LIKE '%@e.example'")" -eq 2 ]
# What waits, and why: status, STATUS= and preview apply the daemon's rules
CANDOR_NOW=$NOW "$CANDORCTL" -c candor.conf status >status1.txt 2>&1
check "status counts the orders that wait (2 window, 1 cap, 1 domain rate)" \
	sh -c "grep -q '^waiting  *4\$' status1.txt && grep -q '^  window  *2\$' status1.txt &&
	       grep -q '^  per_customer  *1\$' status1.txt && grep -q '^  domain_rate  *1\$' status1.txt"
check "... and nothing due now" grep -q '^due now  *0$' status1.txt
check "the cycle's log line counts them too" \
	grep -q "cycle done: .*, 4 waiting (window 2, per_customer 1, domain_rate 1)" run1.log
python3 "$SRCDIR/tests/integration/notify-listen.py" "$WORK/notify.sock" notify.log \
	</dev/null >/dev/null 2>&1 &
bg_started $!
wait_for notify.log listening 5
NOTIFY_SOCKET="$WORK/notify.sock" CANDOR_NOW=$NOW "$CANDORD" -c candor.conf --once 2>/dev/null
check "STATUS= counts what waits, by reason" \
	wait_for notify.log "STATUS=idle, .* held, 4 waiting (window 2, per_customer 1, domain_rate 1)" 5
CANDOR_NOW=$NOW "$CANDORCTL" -c candor.conf preview --campaign review --order NOPE >/dev/null 2>pv.nope; rc=$?
check "preview of an unknown order is an error (2), not a verdict" sh -c "[ $rc -eq 2 ] && grep -q 'no order' pv.nope"
CANDOR_NOW=$NOW "$CANDORCTL" -c candor.conf preview --campaign review --order ny >/dev/null 2>pv.ny; rc=$?
check "preview of an order outside its send window: exit 4" [ $rc -eq 4 ]
check "... saying it waits for the window, and when it opens" \
	grep -q "^verdict:   WAITS: outside the send window; it opens 2026-06-10" pv.ny
CANDOR_NOW=$NOW "$CANDORCTL" -c candor.conf preview --campaign review --order cap3 >/dev/null 2>pv.cap3; rc=$?
check "preview of a capped customer's order: exit 4, the cap named" \
	sh -c "[ $rc -eq 4 ] && grep -q '^verdict:   WAITS: per-customer cap reached' pv.cap3"
CANDOR_NOW=$NOW "$CANDORCTL" -c candor.conf preview --campaign review --order dom3 >/dev/null 2>pv.dom3; rc=$?
check "preview under the domain rate: exit 4, the rate named" \
	sh -c "[ $rc -eq 4 ] && grep -q '^verdict:   WAITS: limits.domain_rate reached' pv.dom3"
CANDOR_NOW=$NOW "$CANDORCTL" -c candor.conf preview --campaign review --order fb >/dev/null 2>pv.fb; rc=$?
check "preview of an order with feedback: exit 3, saying so" \
	sh -c "[ $rc -eq 3 ] && grep -q '^verdict:   NOT SENT: the customer left feedback already' pv.fb"
CANDOR_NOW=$NOW "$CANDORCTL" -c candor.conf preview --campaign review --order sh >/dev/null 2>pv.sh; rc=$?
check "preview of an order already mailed: exit 3" \
	sh -c "[ $rc -eq 3 ] && grep -q '^verdict:   NOT SENT: this campaign made its message' pv.sh"
CANDOR_NOW=$((NOW + 3600)) "$CANDORD" -c candor.conf --once 2>run1b.log
check "an hour on, the domain rate lets the third through" [ "$(sent_to dom3)" -eq 1 ]
check "an order with feedback gets no request" [ "$(q "SELECT count(*) FROM messages WHERE order_id='fb' AND campaign='review'")" -eq 0 ]
check "negative feedback starts the apology" [ "$(q "SELECT count(*) FROM messages WHERE order_id='bad' AND campaign='apology' AND state='sent'")" -eq 1 ]
check "... and the apology quotes the customer's words" \
	sh -c "grep -l 'apology' /dev/null >/dev/null; python3 -c \"
import email,email.policy,glob,sys
for f in glob.glob('outbox/*.eml'):
    m=email.message_from_bytes(open(f,'rb').read(),policy=email.policy.default)
    if 'sorry' in m['Subject'].lower():
        sys.exit(0 if 'The tin arrived dented' in m.get_body().get_content() else 1)
sys.exit(1)\""
check "... and speaks to its reason (a dented tin: shipping)" \
	sh -c "python3 -c \"
import email,email.policy,glob,sys
for f in glob.glob('outbox/*.eml'):
    m=email.message_from_bytes(open(f,'rb').read(),policy=email.policy.default)
    if 'sorry' in m['Subject'].lower():
        t=m.get_body(preferencelist=('plain',)).get_content()
        sys.exit(0 if 'arrived late or damaged' in t and 'the carrier' in t else 1)
sys.exit(1)\""
check "a rating of 4 gets no apology" [ "$(q "SELECT count(*) FROM messages WHERE order_id='good' AND campaign='apology'")" -eq 0 ]
check "a negative feedback also stops the review request" [ "$(q "SELECT count(*) FROM messages WHERE order_id='bad' AND campaign='review'")" -eq 0 ]

# 10 hours later: 13:00 UTC is 09:00 in New York, 15:00 in Berlin
CANDOR_NOW=$((NOW + 36000)) "$CANDORD" -c candor.conf --once 2>run2.log
check "09:00 in New York: now sent" [ "$(sent_to ny)" -eq 1 ]
check "the country's zone: sent in Berlin's daytime" [ "$(sent_to de)" -eq 1 ]
check "the third order of the capped customer still waits" \
	[ "$(q "SELECT count(*) FROM messages WHERE order_id LIKE 'cap%'")" -eq 2 ]

# Reminders: three days after the requests, Saturday 2026-06-13 06:00 UTC
# (14:00 in Shanghai). 'sh' replied; 'dom1' left feedback.
q "INSERT INTO events(message, order_id, kind, at) SELECT id, order_id, 'replied', $NOW FROM messages WHERE order_id='sh'"
q "INSERT INTO feedback(order_id, rating, source, received) VALUES ('dom1', 5, 'amazon', $NOW)"
CANDOR_NOW=$(at "2026-06-13 06:00") "$CANDORD" -c candor.conf --once 2>run3.log
check "one reminder after the delay" [ "$(sent_to dom2 reminder)" -eq 1 ]
check "a reminder counts against the per-customer cap" [ "$(q "SELECT count(*) FROM messages WHERE order_id='cap1' AND kind='reminder'")" -eq 0 ]
check "no reminder after a reply" [ "$(q "SELECT count(*) FROM messages WHERE order_id='sh' AND kind='reminder'")" -eq 0 ]
check "no reminder after feedback" [ "$(q "SELECT count(*) FROM messages WHERE order_id='dom1' AND kind='reminder'")" -eq 0 ]
check "the reminder keeps the request's variant" \
	[ "$(q "SELECT count(DISTINCT variant) FROM messages WHERE order_id='dom2'")" -eq 1 ]
CANDOR_NOW=$(at "2026-06-15 06:00") "$CANDORD" -c candor.conf --once 2>run4.log
check "never a second reminder" [ "$(q "SELECT count(*) FROM messages WHERE order_id='dom2'")" -eq 2 ]
# Sunday is not a sending day: 2026-06-14 10:00 in Shanghai
before=$(q "SELECT count(*) FROM messages")
sqlite3 candor.db "INSERT INTO orders(order_id, email, timezone, delivered, status) VALUES ('sun', 'sun@i.example', 'Asia/Shanghai', $(at "2026-06-05 00:00"), 'delivered')"
CANDOR_NOW=$(at "2026-06-14 02:00") "$CANDORD" -c candor.conf --once 2>run5.log
check "no mail on a Sunday in the customer's zone" [ "$(q "SELECT count(*) FROM messages WHERE order_id='sun'")" -eq 0 ]
CANDOR_NOW=$(at "2026-06-15 01:00") "$CANDORD" -c candor.conf --once 2>run6.log
check "... and it goes at 09:00 Monday in Shanghai" [ "$(sent_to sun)" -eq 1 ]

# Suppressions: blocked by the shop, whatever the case of the address;
# lifting the block lets the order through on the next pass.
"$CANDORCTL" -c candor.conf suppress --reason blocked --detail "abusive" Rude@M.example >sup.txt
check "candorctl suppress blocks an address" grep -q "Rude@M.example: blocked" sup.txt
check "... and lists it" sh -c "'$CANDORCTL' -c candor.conf suppress --list | grep -q 'Rude@M.example	blocked'"
"$CANDORCTL" -c candor.conf suppress --reason spite x@y.example 2>/dev/null
check "an unknown reason is a usage error" [ $? -eq 64 ]
sqlite3 candor.db "INSERT INTO orders(order_id, email, timezone, delivered, status) VALUES ('rude', 'rude@m.example', 'Asia/Shanghai', $(at "2026-06-05 00:00"), 'delivered')"
CANDOR_NOW=$(at "2026-06-15 03:00") "$CANDORD" -c candor.conf --once 2>/dev/null
check "a blocked customer is never mailed" [ "$(q "SELECT count(*) FROM messages WHERE order_id='rude'")" -eq 0 ]
"$CANDORCTL" -c candor.conf suppress --remove RUDE@m.example >/dev/null
CANDOR_NOW=$(at "2026-06-15 03:10") "$CANDORD" -c candor.conf --once 2>/dev/null
check "after --remove the waiting order goes out" [ "$(sent_to rude)" -eq 1 ]
"$CANDORCTL" -c candor.conf suppress --remove nobody@m.example 2>err.txt
check "removing an address that is not suppressed says so" sh -c "[ $? -eq 1 ] && grep -q 'is not suppressed' err.txt"

# The pass reads only what is new since the last complete pass; orders
# that arrive late with old dates, or that waited, must still be found.
check "a complete pass leaves its position" [ "$(q "SELECT count(*) FROM scan_state WHERE campaign='review'")" -eq 2 ]
LATE=$(at "2026-06-15 02:00")
sqlite3 candor.db "INSERT INTO orders(order_id, email, timezone, delivered, status) VALUES ('late', 'late@j.example', 'Asia/Shanghai', $(at "2026-05-25 00:00"), 'delivered')"
CANDOR_NOW=$LATE "$CANDORD" -c candor.conf --once 2>run7.log
check "an order written later with an old delivery date is still found" [ "$(sent_to late)" -eq 1 ]
sqlite3 candor.db "INSERT INTO orders(order_id, email, timezone, delivered, status) VALUES ('old2', 'old2@k.example', 'Asia/Shanghai', $(at "2026-05-28 00:00"), 'open')"
CANDOR_NOW=$((LATE + 60)) "$CANDORD" -c candor.conf --once 2>/dev/null
sqlite3 candor.db "UPDATE orders SET status = 'delivered' WHERE order_id = 'old2'"
CANDOR_NOW=$((LATE + 120)) "$CANDORD" -c candor.conf --once 2>/dev/null
check "an order updated in place is seen again" [ "$(sent_to old2)" -eq 1 ]
check "the change log is trimmed once every campaign has seen it" \
	[ "$(q "SELECT count(*) FROM order_changes")" -le 2 ]
sqlite3 candor.db "INSERT INTO orders(order_id, email, timezone, delivered, status) VALUES ('d20', 'd20@l.example', 'Asia/Shanghai', $(at "2026-06-05 00:00"), 'delivered');
  DELETE FROM order_changes"
sed -i 's/delay = "7d"; expire = "30d"; reminder/delay = "8d"; expire = "30d"; reminder/' candor.conf
CANDOR_NOW=$((LATE + 180)) "$CANDORD" -c candor.conf --once 2>/dev/null
check "changed rules read the whole range again" [ "$(sent_to d20)" -eq 1 ]

# Preview says what stops an order, with the daemon's rules (Wednesday
# 2026-06-17 03:00 UTC, 11:00 in Shanghai; delay is 8 days by now)
T=$(at "2026-06-17 03:00")
sqlite3 candor.db <<EOS
INSERT INTO orders(order_id, email, timezone, delivered, status) VALUES
 ('pok', 'pok@p1.example', 'Asia/Shanghai', $T - 9 * 86400, 'delivered'),
 ('pref', 'pref@p2.example', 'Asia/Shanghai', $T - 9 * 86400, 'refunded'),
 ('psup', 'psup@p3.example', 'Asia/Shanghai', $T - 9 * 86400, 'delivered'),
 ('pnever', 'pnever@p4.example', 'Asia/Shanghai', NULL, 'shipped'),
 ('pold', 'pold@p5.example', 'Asia/Shanghai', $T - 40 * 86400, 'delivered'),
 ('psoon', 'psoon@p6.example', 'Asia/Shanghai', $T - 2 * 86400, 'delivered');
EOS
"$CANDORCTL" -c candor.conf suppress --reason blocked psup@p3.example >/dev/null
pv() { CANDOR_NOW=$T "$CANDORCTL" -c candor.conf preview --campaign review --order "$1" >/dev/null 2>"pv.$1"; echo $?; }
check "preview of a due order: would be sent (exit 0)" \
	sh -c "[ $(pv pok) -eq 0 ] && grep -q '^verdict:   would be sent' pv.pok"
check "preview of a refunded order: exit 3, naming the status" \
	sh -c "[ $(pv pref) -eq 3 ] && grep -q '^verdict:   NOT SENT: its status excludes it (status refunded)' pv.pref"
check "preview of a suppressed address: exit 3, saying so" \
	sh -c "[ $(pv psup) -eq 3 ] && grep -q '^verdict:   NOT SENT: the customer.s address is suppressed' pv.psup"
check "preview of an order that is never delivered: exit 3, no trigger date" \
	sh -c "[ $(pv pnever) -eq 3 ] && grep -q '^verdict:   NOT SENT: it has no date for the campaign.s trigger' pv.pnever"
check "preview of an expired order: exit 3" \
	sh -c "[ $(pv pold) -eq 3 ] && grep -q '^verdict:   NOT SENT: it is older than the campaign.s expire' pv.pold"
check "preview of an order not due yet: exit 4, with the time it becomes due" \
	sh -c "[ $(pv psoon) -eq 4 ] && grep -q '^verdict:   NOT YET: due at 2026-06-2' pv.psoon"
CANDOR_NOW=$T "$CANDORD" -c candor.conf --once 2>/dev/null
check "... and the daemon agrees: only the due one went" \
	[ "$(q "SELECT group_concat(order_id) FROM messages WHERE order_id LIKE 'p%'")" = pok ]

done_testing
