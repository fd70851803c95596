#!/bin/sh
# imap_bench.sh - issue 7's figure end to end: N mails (replies, bounces,
# auto-replies, unsubscribes) in a real Dovecot on loopback, read by one
# "candord --once" over IMAPS: fetched, classified, matched, recorded,
# marked. No peer: the target is 500 mails a second.
#
# Last line: imap_msgs_per_s=... mails=...
# Usage: bench/imap_bench.sh [MAILS]   (default 2000; run from the build dir)
set -eu
N=${1:-2000}
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${BUILD:-$(pwd)}
command -v dovecot >/dev/null || { echo "imap_bench: dovecot is missing (scripts/install-deps)" >&2; exit 1; }
. "$top_srcdir/tests/integration/lib.sh"
cd "$WORK"
start_dovecot "$WORK/dovecot" || { echo "imap_bench: dovecot would not start" >&2; exit 1; }
write_config candor.conf "imap = { url = \"imaps://127.0.0.1:$IMAPS_PORT\"; username = \"shop\";
  password_file = \"$WORK/dovecot/pw\"; ca_file = \"$WORK/dovecot/cert.pem\"; idle = false; };"
sed -i 's/log_level = "info"/log_level = "notice"/' candor.conf
"$CANDORCTL" -c candor.conf init >/dev/null
sqlite3 candor.db "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $N - 1)
INSERT INTO messages(order_id, campaign, variant, state, recipient, message_id, token, created, updated, sent_at)
SELECT 'W' || i, 'review', 'A', 'sent', 'customer' || i || '@example.org',
       'aaaa.' || printf('%032x', i) || '@shop.example', printf('%032x', i), 1, 1, 1 FROM n;"
mkdir mails
"$SYSPY" - "$N" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n):
    tok = "%032x" % i
    k = i % 5
    if k in (0, 1):
        m = ("From: customer%d@example.org\r\nTo: feedback+%s@shop.example\r\nSubject: Re: your tea\r\n"
             "Message-ID: <r%d@example.org>\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
             "Content-Transfer-Encoding: quoted-printable\r\n\r\nSch=F6n, danke.\r\n" % (i, tok, i))
    elif k == 2:
        m = ("From: MAILER-DAEMON@mx.example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n"
             "Message-ID: <b%d@mx.example.org>\r\nMIME-Version: 1.0\r\n"
             "Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n"
             "--r\r\nContent-Type: text/plain\r\n\r\nundeliverable\r\n--r\r\n"
             "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
             "Final-Recipient: rfc822; customer%d@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
             "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n--r\r\n"
             "Content-Type: text/rfc822-headers\r\n\r\nMessage-ID: <aaaa.%s@shop.example>\r\n\r\n--r--\r\n"
             % (i, i, tok))
    elif k == 3:
        m = ("From: customer%d@example.org\r\nTo: feedback+%s@shop.example\r\n"
             "Subject: Out of Office\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <a%d@example.org>\r\n\r\n"
             "Away.\r\n" % (i, tok, i))
    else:
        m = ("From: customer%d@example.org\r\nTo: feedback+u-%s@shop.example\r\nSubject: unsubscribe\r\n"
             "Message-ID: <u%d@example.org>\r\n\r\nunsubscribe\r\n" % (i, tok, i))
    open("mails/%06d.eml" % i, "w").write(m)
PY
imap_tool append INBOX mails/*.eml
start=$("$SYSPY" -c 'import time; print(time.monotonic())')
"$CANDORD" -c candor.conf --once 2>run.log
end=$("$SYSPY" -c 'import time; print(time.monotonic())')
grep "inbox:" run.log >&2 || { cat run.log >&2; exit 1; }
read_n=$(sed -n 's/.*inbox: \([0-9]*\) read.*/\1/p' run.log)
[ "$read_n" -eq "$N" ] || { echo "imap_bench: read $read_n of $N" >&2; exit 1; }
"$SYSPY" -c "print('imap_msgs_per_s=%.0f mails=%d' % ($N / ($end - $start), $N))"
