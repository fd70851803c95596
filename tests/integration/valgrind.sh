#!/bin/sh
# valgrind.sh - no leak and no memory error in the daemon's life: a cycle
# that sends 50 mails, a good reload, a broken reload, SIGTERM, and a
# cycle that sends over SMTP, and one that reads the inbox over IMAPS.
. "${top_srcdir:-.}/tests/integration/lib.sh"

command -v valgrind >/dev/null || skip_all "valgrind not installed"
command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI not installed"
ldd "$CANDORD" | grep -q libasan && skip_all "sanitizer build (ASan checks leaks there)"
cd "$WORK" || exit 1

VG="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99"
write_config candor.conf
"$CANDORCTL" -c candor.conf init >/dev/null
add_orders candor.db 1 50
sqlite3 candor.db "UPDATE orders SET name = 'Jürgen \"J\" Ünal', locale = 'de-DE'"

$VG "$CANDORD" -c candor.conf --once 2>once.log
check "one cycle under valgrind: no leak, no error" [ $? -eq 0 ]
check "... and it sent the 50 mails" [ "$(ls outbox | wc -l)" -eq 50 ]

add_orders candor.db 100 5
$VG "$CANDORD" -c candor.conf 2>daemon.log &
pid=$!
bg_started $pid
wait_for daemon.log "cycle done" 30
kill -HUP $pid
wait_for daemon.log "configuration reloaded" 30
echo 'poll_intervl = "1m";' >> candor.conf
kill -HUP $pid
wait_for daemon.log "reload failed" 30
kill -TERM $pid
wait_exit $pid 30
check "reloads and SIGTERM under valgrind: no leak, no error" [ "$exit_status" = 0 ]
grep '==' daemon.log | sed 's/^/# /'

# the SMTP path: libcurl's multi interface, retries kept in the database
if command -v smtp-sink >/dev/null; then
	start_sink sink
	write_config smtp.conf "smtp = { url = \"smtp://127.0.0.1:$SINK_PORT\"; connections = 3; };"
	sed -i 's/^transport = "outbox";/transport = "smtp";/; s/^database = .*/database = "smtp.db";/' smtp.conf
	"$CANDORCTL" -c smtp.conf init >/dev/null
	add_orders smtp.db 1 30
	$VG "$CANDORD" -c smtp.conf --once 2>smtp.log
	check "a cycle over SMTP under valgrind: no leak, no error" [ $? -eq 0 ]
	check "... and it sent the 30 mails" [ "$(sqlite3 smtp.db "SELECT count(*) FROM messages WHERE state = 'sent'")" -eq 30 ]
	grep '==' smtp.log | sed 's/^/# /'
	stop_sink
fi

# the report, every format, on the store the first cycles filled
sqlite3 candor.db "INSERT INTO feedback(order_id, rating, comment, received)
  SELECT order_id, 1 + rowid % 5, 'the box arrived damaged', sent_at + 60 FROM messages WHERE rowid % 3 = 0"
sed '/poll_intervl/d' candor.conf > report.conf   # the broken reload's line
for f in text json csv html; do
	$VG "$CANDORCTL" -c report.conf report --format $f >/dev/null 2>report.$f.log ||
		{ grep '==' report.$f.log | sed 's/^/# /'; false; }
	check "candorctl report --format $f under valgrind: no leak, no error" [ $? -eq 0 ]
done

# the inbox: IMAPS to a real Dovecot, a bounce, a reply, broken MIME
if command -v dovecot >/dev/null && start_dovecot "$WORK/dovecot"; then
	write_config imap.conf "imap = { url = \"imaps://127.0.0.1:$IMAPS_PORT\"; username = \"shop\";
  password_file = \"$WORK/dovecot/pw\"; ca_file = \"$WORK/dovecot/cert.pem\"; };"
	sed -i 's/^database = .*/database = "imap.db";/' imap.conf
	"$CANDORCTL" -c imap.conf init >/dev/null
	add_orders imap.db 1 2
	"$CANDORD" -c imap.conf --once 2>/dev/null
	t1=$(sqlite3 imap.db "SELECT token FROM messages WHERE order_id = 'o1'")
	printf 'From: c1@example.org\nTo: feedback+%s@shop.example\nSubject: Re: hi\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nSch=F6n\n' "$t1" > r.eml
	t2=$(sqlite3 imap.db "SELECT token FROM messages WHERE order_id = 'o2'")
	printf 'From: MAILER-DAEMON@x.example\nTo: feedback+%s@shop.example\nSubject: Undelivered Mail\nX-Failed-Recipients: c2@example.org\n\nThis is a permanent error.\n c2@example.org: 550 5.1.1 user unknown\n' "$t2" > b.eml
	printf 'From: x@y\nContent-Type: multipart/mixed; boundary="z\n\n--z\n\xff\n' > m.eml
	imap_tool append INBOX r.eml b.eml m.eml
	$VG "$CANDORD" -c imap.conf --once 2>imap.log
	check "a tracking cycle over IMAPS under valgrind: no leak, no error" [ $? -eq 0 ]
	check "... and it recorded the reply and the bounce" [ "$(sqlite3 imap.db "SELECT count(*) FROM events WHERE kind IN ('replied', 'bounced')")" -eq 2 ]
	grep '==' imap.log | sed 's/^/# /'
fi

done_testing
