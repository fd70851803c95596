#!/bin/sh
# config.sh - bad configuration through the real programs: every case
# exits 78 (EX_CONFIG) and names file, line and setting; check-config
# prints the effective configuration with the secret masked.
. "${top_srcdir:-.}/tests/integration/lib.sh"

cd "$WORK" || exit 1
# let "nobody" into the directory, so only the files' own modes decide
chmod 755 "$WORK"

# as_nobody CMD...: run without root's power to read anything, so the
# "unreadable" cases are real.
as_nobody() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
	else
		"$@"
	fi
}

# expect78 DESCRIPTION PATTERN FILE: both programs refuse FILE with 78
# and print PATTERN.
expect78() {
	"$CANDORD" -c "$3" --once 2>d.err
	rc_d=$?
	"$CANDORCTL" -c "$3" check-config >/dev/null 2>c.err
	rc_c=$?
	if [ $rc_d -eq 78 ] && [ $rc_c -eq 78 ] && grep -q -- "$2" d.err && grep -q -- "$2" c.err; then
		ok "$1"
	else
		not_ok "$1"
		diag "candord exit $rc_d, candorctl exit $rc_c, wanted 78 and: $2"
		sed 's/^/# /' d.err
	fi
}

# bad DESCRIPTION PATTERN SED-EXPRESSION|APPEND: a broken copy of a good file
bad() {
	write_config bad.conf
	case $3 in
	s/*|s\|*) sed -i "$3" bad.conf ;;
	*) printf '%s\n' "$3" >> bad.conf ;;
	esac
	expect78 "$1" "$2" bad.conf
}

write_config good.conf
"$CANDORCTL" -c good.conf check-config >eff.conf 2>check.err
check "check-config accepts a good file" [ $? -eq 0 ]
check "... says it is valid" grep -q "good.conf is valid" check.err
check "... prints the effective configuration with defaults" grep -q 'connect_timeout = "20s";' eff.conf
check "the printed configuration is valid itself" sh -c "'$CANDORCTL' -c eff.conf check-config >/dev/null 2>&1"

sed -e "s|^templates = .*|templates = \"$SRCDIR/templates\";|" -e "s|^packs = .*|packs = \"$SRCDIR/etc/packs\";|" "$SRCDIR/etc/candor.conf.example" > example.conf
"$CANDORCTL" -c example.conf check-config >/dev/null 2>example.err
check "the shipped candor.conf.example is valid (with the shipped templates)" [ $? -eq 0 ]
sed 's/^/# /' example.err

expect78 "a missing file" "nope.conf: cannot read: No such file or directory" nope.conf
: > empty.conf
expect78 "an empty file" "empty.conf: shop: missing required group" empty.conf
head -c 4096 "$CANDORD" > binary.conf
expect78 "a binary file" "binary.conf:[0-9]*: " binary.conf
mkdir adir.conf
expect78 "a directory" "adir.conf: is a directory" adir.conf
write_config secret.conf
chmod 600 secret.conf
as_nobody "$CANDORCTL" -c "$WORK/secret.conf" check-config >/dev/null 2>unread.err
check "an unreadable file exits 78" [ $? -eq 78 ]
check "... saying permission denied" grep -q "secret.conf: cannot read: Permission denied" unread.err

bad "an unknown setting, with a suggestion" "bad.conf:20: databse: unknown setting (did you mean 'database'?)" 'databse = "x.db";'
bad "an unknown nested setting" "bad.conf:8: shop.domian: unknown setting (did you mean 'domain'?)" 's/domain =/domian =/'
bad "a wrong type" "bad.conf:4: poll_interval: expected a string" 's/poll_interval = "10s"/poll_interval = 10/'
bad "a bad duration" "bad.conf:16: campaigns\[0\].delay: bad duration \"7 days\"" 's/delay = "7d"/delay = "7 days"/'
bad "a bad rate" "bad.conf:12: limits.global_rate: bad rate \"200/hr\"" 's|global_rate = ""|global_rate = "200/hr"|'
bad "a bad choice" "bad.conf:3: transport: \"carrier-pigeon\" is not one of" 's/transport = "outbox"/transport = "carrier-pigeon"/'
bad "a syntax error" "bad.conf:20: syntax error" 'smtp = { url = = 1; };'
bad "an unknown time zone" "bad.conf:9: shop.timezone: unknown time zone" 's|from = "feedback@shop.example";|& timezone = "Moon/Tranquility";|'

printf 's3cret\n' > pw.txt
chmod 644 pw.txt
bad "a world-readable password_file" "bad.conf:20: smtp.password_file: .*pw.txt is readable by every user" "smtp = { username = \"u\"; password_file = \"$WORK/pw.txt\"; };"
: > empty-pw.txt
chmod 600 empty-pw.txt
bad "an empty password_file" "bad.conf:20: smtp.password_file: .*empty-pw.txt is empty" "smtp = { username = \"u\"; password_file = \"$WORK/empty-pw.txt\"; };"
bad "a missing password_file" "bad.conf:20: smtp.password_file: cannot read .*nothing.txt: No such file" "smtp = { password_file = \"$WORK/nothing.txt\"; };"
bad "a world-readable imap.password_file" "bad.conf:20: imap.password_file: .*pw.txt is readable by every user" "imap = { url = \"imaps://h\"; username = \"u\"; password_file = \"$WORK/pw.txt\"; };"
bad "an imap.url that is not imap:// or imaps://" "bad.conf:20: imap.url: \"pop3://h\" must start with imap:// or imaps://" 'imap = { url = "pop3://h"; username = "u"; };'
bad "an imap.url without a username" "bad.conf:20: imap.username: is needed with imap.url" 'imap = { url = "imaps://h"; };'
# libconfig keeps 32 bits of a plain integer: the number as written is checked
bad "a daily_cap that would wrap to 100" "bad.conf:[0-9]*: limits.daily_cap: 4294967396 is out of range" 's/daily_cap = 0;/daily_cap = 4294967396;/'
bad "connections that would wrap to 2" "bad.conf:20: smtp.connections: 4294967298 is out of range (1 to 64)" 'smtp = { connections = 4294967298; };'
bad "a number past 64 bits" "bad.conf:20: smtp.connections: 100000000000000000000 is out of range" 'smtp = { connections = 100000000000000000000; };'
bad "a negative cap" "bad.conf:[0-9]*: limits.per_customer: -1 is out of range (0 to 1000)" 's/^limits = {/limits = { per_customer = -1;/'
bad "an unknown tracking setting" "bad.conf:20: tracking.soft_bounce: unknown setting" 'tracking = { soft_bounce = 3; };'
chmod 600 pw.txt
write_config pwok.conf "smtp = { username = \"u\"; password_file = \"$WORK/pw.txt\"; };"
chmod 644 pwok.conf
as_nobody "$CANDORCTL" -c "$WORK/pwok.conf" check-config >/dev/null 2>pw.err
check "an unreadable password_file exits 78" [ $? -eq 78 ]
check "... naming file, line and setting" grep -q "pwok.conf:19: smtp.password_file: cannot read .*pw.txt: Permission denied" pw.err
chmod 640 pw.txt
"$CANDORCTL" -c pwok.conf check-config >pw.out 2>&1
check "a private password_file is accepted" [ $? -eq 0 ]
check "... and the password is masked" sh -c "! grep -q s3cret pw.out && grep -q '\\*\\*\\*\\*' pw.out"

# A marketer may read the store but not the SMTP secret: status and
# report work, what sends does not.
chmod 600 pw.txt
mkdir -p mkt && chown nobody mkt 2>/dev/null
write_config mkt.conf "smtp = { username = \"u\"; password_file = \"$WORK/pw.txt\"; };"
sed -i "s|^database = .*|database = \"$WORK/mkt/candor.db\";|" mkt.conf
chmod 644 mkt.conf
as_nobody "$CANDORCTL" -c "$WORK/mkt.conf" init >/dev/null 2>mkt.err
check "init runs without reading the SMTP secret" [ $? -eq 0 ]
as_nobody "$CANDORCTL" -c "$WORK/mkt.conf" status >/dev/null 2>>mkt.err
check "... and so does status" [ $? -eq 0 ]
as_nobody "$CANDORCTL" -c "$WORK/mkt.conf" report >/dev/null 2>>mkt.err
check "... and so does report" [ $? -eq 0 ]
as_nobody "$CANDORCTL" -c "$WORK/mkt.conf" send-test nobody@shop.example >/dev/null 2>mkt-send.err
check "send-test still needs the secret" sh -c "grep -q 'smtp.password_file: cannot read .*pw.txt: Permission denied' mkt-send.err"
sed 's/^/# /' mkt.err

write_config paths.conf
"$CANDORCTL" -c paths.conf check-config >/dev/null 2>paths.err
check "check-config prints the paths it uses" \
	sh -c "grep -q '^  config file  *paths.conf\$' paths.err && grep -q '^  store  *sqlite $WORK/candor.db\$' paths.err &&
	       grep -q '^  templates  *$SRCDIR/templates\$' paths.err && grep -q '^  packs  *$SRCDIR/etc/packs\$' paths.err &&
	       grep -q '^  model  *$SRCDIR/etc/packs/model.bin\$' paths.err"
write_config tpl.conf
sed -i 's/template = "review_request"/template = "no_such_set"/' tpl.conf
expect78 "a missing template set names the config line and setting" \
	"tpl.conf:17: campaigns\[0\].variants\[0\].template: template set \"no_such_set\" not found" tpl.conf
# ... and comes with the other errors, not after they are fixed
sed -i 's/delay = "7d"/delay = "7 days"/; s/^  { name = "review";/  { name = "apology"; trigger = "negative_feedback"; delay = "0s"; expire = "60d";\n    variants = ( { name = "A"; template = "apology"; },\n                 { name = "B"; template = "no_such_apology"; } ); },\n&/' tpl.conf
"$CANDORCTL" -c tpl.conf check-config >/dev/null 2>c.err
"$CANDORD" -c tpl.conf --once 2>d.err
check "a missing set is reported together with the other config errors" \
	sh -c "for f in c.err d.err; do grep -q 'delay: bad duration' \$f &&
	       grep -q 'tpl.conf:[0-9]*: campaigns\\[0\\].variants\\[1\\].template: template set \"no_such_apology\" not found' \$f &&
	       grep -q 'campaigns\\[1\\].variants\\[0\\].template: template set \"no_such_set\" not found' \$f || exit 1; done"
sed 's/^/# /' c.err
write_config rem.conf
sed -i 's/delay = "7d"; expire = "30d";/delay = "7d"; expire = "30d"; reminder = "3d"; reminder_template = "no_reminder_set";/' rem.conf
expect78 "a missing reminder set names its setting" \
	"rem.conf:[0-9]*: campaigns\[0\].reminder_template: template set \"no_reminder_set\" not found" rem.conf
mkdir -p t/broken/default
printf 'Hi {{name}\n' > t/broken/default/subject.mustache
printf 'Body {{#a}}\n' > t/broken/default/text.mustache
write_config tpl2.conf
sed -i "s|templates = \"[^\"]*\"|templates = \"$WORK/t\"|; s/template = \"review_request\"/template = \"broken\"/" tpl2.conf
expect78 "a broken template names file, line and column" "t/broken/default/text.mustache:1: column 6: section is never closed: 'a'" tpl2.conf

done_testing
