#!/bin/sh
# walkthrough.sh - what a newcomer does after a fresh clone, scripted:
# make install into a DESTDIR, candor.conf written from the installed
# example (only paths and the send window changed), check-config and init
# by the admin, an import and a dry run as the daemon's user, then
# preview, status and report as a marketer: a non-root user in group
# candor who cannot read the SMTP secret. Run as root it switches users
# with setpriv; the group "candor" is the system's when it exists, else
# a number no one else has.
. "${top_srcdir:-.}/tests/integration/lib.sh"

BUILD=$(cd "$top_builddir" && pwd)
DEST="$WORK/root"
cd "$WORK" || exit 1
command -v make >/dev/null || skip_all "make not installed"

make -s -C "$BUILD" install DESTDIR="$DEST" >install.log 2>&1
check "make install into a DESTDIR" [ $? -eq 0 ]
CTL=$(find "$DEST" -type f -name candorctl | head -1)
DAEMON=$(find "$DEST" -type f -name candord | head -1)
EXAMPLE=$(find "$DEST" -type f -name candor.conf.example | head -1)
ETC=$(dirname "$EXAMPLE")
check "the programs and the example are installed" sh -c "[ -x '$CTL' ] && [ -x '$DAEMON' ] && [ -f '$EXAMPLE' ]"
"$DAEMON" --help >help.txt
check "candord --help names the config path the build reads" \
	grep -q "${ETC#"$DEST"}/candor.conf" help.txt

if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	CU=$(id -u candor 2>/dev/null || echo 64917)
	CG=$(getent group candor | cut -d: -f3)
	CG=${CG:-64917}
	as_candor() { setpriv --reuid="$CU" --regid="$CG" --clear-groups -- "$@"; }
	as_marketer() { setpriv --reuid=nobody --regid=nogroup --groups="$CG" -- "$@"; }
else
	as_candor() { "$@"; }
	as_marketer() { "$@"; }
fi

# the admin: candor.conf from the example; the secret readable by candor only
mkdir -p var/outbox
echo "s3cret-smtp" > "$ETC/smtp.password"
chmod 0600 "$ETC/smtp.password"
sed -e "s|\"/var/lib/candor/candor.db\"|\"$WORK/var/candor.db\"|" \
    -e "s|\"/etc/candor/templates\"|\"$ETC/templates\"|" \
    -e "s|\"/etc/candor/packs\"|\"$ETC/packs\"|" \
    -e "s|\"/var/lib/candor/outbox\"|\"$WORK/var/outbox\"|" \
    -e "/^smtp = {/,/^};/s|^  password_file = \"\";|  password_file = \"$ETC/smtp.password\";|" \
    -e 's|^  start = "09:00";|  start = "00:00";|' -e 's|^  end = "20:00";|  end = "24:00";|' \
    -e 's|\["mon", "tue", "wed", "thu", "fri", "sat"\]|["sun", "mon", "tue", "wed", "thu", "fri", "sat"]|' \
    "$EXAMPLE" > "$ETC/candor.conf"
check "the paths were found in the example" sh -c "grep -q '$WORK/var/candor.db' '$ETC/candor.conf' && grep -q '$ETC/smtp.password' '$ETC/candor.conf'"
CONF="$ETC/candor.conf"
"$CTL" -c "$CONF" check-config >check.txt 2>&1
check "check-config accepts the example with its paths set" [ $? -eq 0 ]
"$CTL" -c "$CONF" init >init.txt 2>&1
check "the admin creates the database" [ $? -eq 0 ]
if [ "$(id -u)" -eq 0 ]; then
	chown -R "$CU:$CG" var && chmod 0750 var
	chown "root:$CG" "$CONF" && chmod 0640 "$CONF"
	chown "$CU:$CG" "$ETC/smtp.password" && chmod 0600 "$ETC/smtp.password"
	chmod 0755 "$WORK" "$DEST" 2>/dev/null
fi
check "the database is not world-readable" sh -c "[ \$(stat -c %a var/candor.db | cut -c3) = 0 ]"

# the daemon's user: orders in, one dry run
now=$(date -u +%s)
{
	echo "order_id,email,first_name,locale,country,delivered,status,items"
	echo "W-1,anna@example.org,Anna,de-DE,DE,$((now - 8 * 86400)),delivered,\"[{\"\"name\"\":\"\"Tea\"\",\"\"quantity\"\":1}]\""
	echo "W-2,bob@example.org,Bob,,GB,$((now - 9 * 86400)),completed,[]"
	echo "W-3,cy@example.org,Cy,en-US,US,$((now - 9 * 86400)),refunded,[]"
} > orders.csv
chmod 0644 orders.csv
as_candor "$CTL" -c "$CONF" import orders "$WORK/orders.csv" >import.txt 2>&1
check "candor's user imports the orders" grep -q "3 orders written, 3 new" import.txt
as_candor "$DAEMON" -c "$CONF" --once --dry-run >dry.txt 2>&1
check "a dry run exits 0" [ $? -eq 0 ]
check "... writes the two due mails to the outbox" [ "$(ls var/outbox | grep -c '\.eml$')" -eq 2 ]
as_marketer "$CTL" -c "$CONF" status >status0.txt 2>&1
check "... and records nothing (status: nothing sent, two due)" \
	sh -c "[ $? -eq 0 ] && grep -Eq '^sent +0$' status0.txt && grep -Eq '^due now +2$' status0.txt"

# the marketer: preview, status, report; no access to the SMTP secret
if [ "$(id -u)" -eq 0 ]; then
	check "the marketer cannot read the SMTP password" sh -c "! $(command -v setpriv) --reuid=nobody --regid=nogroup --groups=$CG -- cat '$ETC/smtp.password' >/dev/null 2>&1"
fi
as_marketer "$CTL" -c "$CONF" preview --order W-1 >preview.txt 2>preview.err
check "the marketer previews an order's mail" sh -c "grep -q '^Subject:' preview.txt && grep -qi 'would be sent' preview.err"
as_marketer "$CTL" -c "$CONF" preview --order W-3 >/dev/null 2>refunded.err
check "... and a refunded order is not 'would be sent'" sh -c "! grep -qi 'would be sent' refunded.err"
as_marketer "$CTL" -c "$CONF" status >status.txt 2>&1
check "the marketer reads the status" [ $? -eq 0 ]
as_marketer "$CTL" -c "$CONF" report --format html >report.html 2>report.err
check "the marketer reads the report" sh -c "[ -s report.html ] && grep -q '</html>' report.html"
if [ "$(id -u)" -eq 0 ]; then
	as_marketer "$CTL" -c "$CONF" import orders "$WORK/orders.csv" >/dev/null 2>mimport.err
	check "... but cannot write orders (the database is 0640)" [ $? -ne 0 ]
fi
done_testing
