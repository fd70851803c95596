#!/bin/sh
# templates.sh - templates from the outside: "candorctl render" errors,
# the shipped templates in every language through "candorctl preview",
# hostile customer data, the HTML raw-tag rule at load time, and locale
# fallback.
. "${top_srcdir:-.}/tests/integration/lib.sh"

command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI not installed"
cd "$WORK" || exit 1

# ---- candorctl render ------------------------------------------------
printf 'Hi {{name}}\n{{#items}}- {{.}}\n{{/items}}' > t.mustache
printf '{"name": "<Ann>", "items": ["a", "b"]}' > d.json
out=$("$CANDORCTL" render --template t.mustache --data d.json)
check "render prints the Mustache rendering" [ "$out" = "$(printf 'Hi &lt;Ann&gt;\n- a\n- b')" ]
out=$("$CANDORCTL" render --text --template t.mustache --data d.json)
check "render --text does not escape" [ "$(echo "$out" | head -1)" = "Hi <Ann>" ]
printf '{\n "name": "x",\n "items": [1, 2\n}' > bad.json
"$CANDORCTL" render --template t.mustache --data bad.json 2>err; rc=$?
check "broken JSON: exit 65" [ $rc -eq 65 ]
check "... naming file and line" grep -q "bad.json:4: column 1:" err
printf 'line one\n  {{#open}} never closed' > bad.mustache
"$CANDORCTL" render --template bad.mustache --data d.json 2>err; rc=$?
check "unclosed section: exit 65" [ $rc -eq 65 ]
check "... with file, line and column" grep -q "bad.mustache:2: column 3: section is never closed: 'open'" err
printf '{{> ../../etc/passwd}}' > esc.mustache
"$CANDORCTL" render --template esc.mustache --partials . --data d.json 2>err; rc=$?
check "a partial name cannot leave the directory" sh -c "[ $rc -eq 65 ] && grep -q 'a partial name may hold only' err"
"$CANDORCTL" render --template nope.mustache --data d.json 2>err; rc=$?
check "missing template file: exit 1 with its name" sh -c "[ $rc -eq 1 ] && grep -q 'nope.mustache: cannot open' err"
"$CANDORCTL" render --data d.json 2>/dev/null; rc=$?
check "render without --template is a usage error" [ $rc -eq 64 ]
check "render --help" sh -c "'$CANDORCTL' render --help | grep -q -- '--partials DIR'"

# ---- the shipped templates, every language --------------------------
write_config candor.conf "$(cat <<'EOC'
channels = (
  { name = "web"; feedback_url = "https://shop.example/review?order={order}"; },
  { name = "amazon"; feedback_url = "https://www.amazon.de/gp/feedback?order={order}";
    review_url = "https://www.amazon.de/review/create-review?asin={product}"; }
);
EOC
)"
sed -i 's/^  from = "feedback@shop.example";/&\n  support = "help@shop.example";\n  footer = "Test Shop, 1 Test Street";\n  footer_html = "<p class=\\"addr\\">Test Shop<\/p>";\n  unsubscribe_url = "https:\/\/shop.example\/u?t={token}";/' candor.conf
sed -i 's/^campaigns = ($/campaigns = (\n  { name = "apology"; trigger = "negative_feedback"; delay = "0s"; expire = "60d";\n    variants = ( { name = "A"; template = "apology"; } ); },/' candor.conf
sed -i 's/delay = "7d"; expire = "30d";/delay = "7d"; expire = "30d"; reminder = "3d"; reminder_template = "review_reminder";/' candor.conf
"$CANDORCTL" -c candor.conf check-config >/dev/null 2>err
check "the configuration with all shipped sets is valid" [ $? -eq 0 ] || cat err
"$CANDORCTL" -c candor.conf init >/dev/null
sqlite3 candor.db <<'EOS'
INSERT INTO orders(order_id, channel, first_name, name, email, locale, items, purchased, delivered, status) VALUES
 ('en', 'web', 'Ann', 'Ann A', 'en@x.example', 'en-GB', '[{"name":"Tea","quantity":2}]', 1780000000, unixepoch('now','-8 days'), 'delivered'),
 ('de', 'web', 'Bea', 'Bea B', 'de@x.example', 'de-AT', '[{"name":"Tee","quantity":1}]', 1780000000, unixepoch('now','-8 days'), 'delivered'),
 ('fr', 'web', 'Cé', 'Cé C', 'fr@x.example', 'fr', '[]', 1780000000, unixepoch('now','-8 days'), 'delivered'),
 ('es', 'web', 'Dan', 'Dan D', 'es@x.example', 'es-MX', '[]', 1780000000, unixepoch('now','-8 days'), 'delivered'),
 ('ru', 'web', 'Ева', 'Ева Е', 'ru@x.example', 'ru', '[]', 1780000000, unixepoch('now','-8 days'), 'delivered'),
 ('zs', 'web', '伟', '王伟', 'zs@x.example', 'zh-Hans-CN', '[]', 1780000000, unixepoch('now','-8 days'), 'delivered'),
 ('zt', 'web', '美', '陳美', 'zt@x.example', 'zh-Hant-TW', '[]', 1780000000, unixepoch('now','-8 days'), 'delivered'),
 ('zz', 'web', 'Zed', 'Zed Z', 'zz@x.example', 'sw-KE', '[]', 1780000000, unixepoch('now','-8 days'), 'delivered'),
 ('it', 'web', 'Ugo', 'Ugo U', 'it@x.example', 'it-IT', '[{"name":"Tè","quantity":1}]', 1780000000, unixepoch('now','-8 days'), 'delivered'),
 ('pt', 'web', 'Rui', 'Rui R', 'pt@x.example', 'pt-BR', '[]', 1780000000, unixepoch('now','-8 days'), 'delivered'),
 ('nl', 'web', 'Bas', 'Bas B', 'nl@x.example', 'nl-BE', '[]', 1780000000, unixepoch('now','-8 days'), 'delivered'),
 ('pl', 'web', 'Ola', 'Ola O', 'pl@x.example', 'pl', '[]', 1780000000, unixepoch('now','-8 days'), 'delivered'),
 ('sv', 'web', 'Åsa', 'Åsa Å', 'sv@x.example', 'sv-SE', '[]', 1780000000, unixepoch('now','-8 days'), 'delivered'),
 ('ja', 'web', '花子', '山田花子', 'ja@x.example', 'ja-JP', '[]', 1780000000, unixepoch('now','-8 days'), 'delivered'),
 ('tr', 'web', 'Ece', 'Ece E', 'tr@x.example', 'tr-TR', '[]', 1780000000, unixepoch('now','-8 days'), 'delivered'),
 ('am', 'amazon', 'Amy', 'Amy A', 'am@x.example', 'en', '[{"name":"Mug","quantity":1,"sku":"B0&x=1"}]', 1780000000, unixepoch('now','-8 days'), 'delivered'),
 ('anon', 'web', NULL, NULL, 'anon@x.example', 'en', '[]', NULL, unixepoch('now','-8 days'), 'delivered'),
 ('evil', 'web', '<script>alert(1)</script>{{shop.name}}', 'Eve',
  'evil@x.example', 'en', '[{"name":"<img src=x onerror=alert(1)>","quantity":1}]', 1780000000, unixepoch('now','-8 days'), 'delivered');
EOS
# sqlite3 has no E'' strings: put the CRLF in with char()
sqlite3 candor.db "UPDATE orders SET name = 'Eve' || char(13,10) || 'Bcc: all@victim.example' WHERE order_id = 'evil'"

for pair in en:default de:de fr:fr es:es ru:ru zs:zh-Hans zt:zh-Hant zz:default \
	it:it pt:pt nl:nl pl:pl sv:sv ja:ja tr:tr; do
	o=${pair%%:*} loc=${pair#*:}
	"$CANDORCTL" -c candor.conf preview --campaign review --order "$o" >"mail.$o" 2>"report.$o"; rc=$?
	check "preview $o: would be sent (exit 0)" [ $rc -eq 0 ]
	check "... review_request/$loc chosen for its locale" grep -q "^template:  review_request/$loc\$" "report.$o"
	check "... no empty value" grep -q "^empty:     none" "report.$o"
	"$CANDORCTL" -c candor.conf preview --campaign review --order "$o" --reminder >/dev/null 2>"report.r$o"
	check "... its reminder: review_reminder/$loc, nothing empty" \
		sh -c "grep -q '^template:  review_reminder/$loc\$' report.r$o && grep -q '^empty:     none' report.r$o"
done
# feedback: what the apologies answer (and what stops a request)
sqlite3 candor.db <<'EOS'
INSERT INTO feedback(order_id, rating, comment, received) VALUES
 ('de', 1, 'Das Paket kam zwei Wochen zu spät.', unixepoch('now','-1 days')),
 ('ru', 2, 'Прислали не тот цвет, не хватает крышки.', unixepoch('now','-1 days')),
 ('zs', 1, '质量太差，用了一天就坏了。', unixepoch('now','-1 days')),
 ('en', 2, 'Customer service never replied to my emails.', unixepoch('now','-1 days')),
 ('it', 1, 'Il pacco è arrivato con due settimane di ritardo.', unixepoch('now','-1 days')),
 ('pt', 1, 'Veio a cor errada.', unixepoch('now','-1 days')),
 ('nl', 2, 'Het ging na een dag kapot.', unixepoch('now','-1 days')),
 ('pl', 1, 'Paczka przyszła zniszczona.', unixepoch('now','-1 days')),
 ('sv', 2, 'Kundtjänst svarade aldrig.', unixepoch('now','-1 days')),
 ('ja', 1, '一日で壊れました。', unixepoch('now','-1 days')),
 ('tr', 1, 'Yanlış ürün geldi.', unixepoch('now','-1 days'));
EOS
for pair in de:de:shipping ru:ru:wrong_item zs:zh-Hans:product_quality en:default:service \
	it:it pt:pt nl:nl pl:pl sv:sv ja:ja tr:tr; do
	o=${pair%%:*} rest=${pair#*:} loc=${rest%%:*}
	"$CANDORCTL" -c candor.conf preview --campaign apology --order "$o" --parts >"apology.$o" 2>"areport.$o"
	check "apology $o: apology/$loc, nothing empty" \
		sh -c "grep -q '^template:  apology/$loc\$' areport.$o && grep -q '^empty:     none' areport.$o"
done
check "the German apology speaks to the late parcel" grep -q "Ihr Paket kam zu spät" apology.de
check "the Russian apology speaks to the wrong item" grep -q "Вы получили не то, что заказывали" apology.ru
check "the Chinese apology speaks to the quality problem" grep -q "商品损坏或不能正常使用" apology.zs
check "the English apology speaks to the service" grep -q "We did not treat you as we should have" apology.en
check "... and quotes the customer" grep -q '"Customer service never replied to my emails."' apology.en
check "the Italian apology says sorry" grep -q "^Ci dispiace. Non è l'esperienza" apology.it

# every message parses and decodes; check what a customer would see
cat > inspect.py <<'PY'
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
part = sys.argv[2]
if part == 'headers':
    print('\n'.join('%s: %s' % (k, v) for k, v in m.items()))
else:
    print(m.get_body(preferencelist=(part,)).get_content())
PY
inspect() { python3 inspect.py "$@"; }
check "German subject decodes" sh -c "python3 inspect.py mail.de headers | grep -q '^Subject: Wie ist Ihre Bestellung de bei Test Shop angekommen?'"
check "Chinese text part decodes" sh -c "python3 inspect.py mail.zs plain | grep -q '伟，您好'"
check "the Japanese request greets by name" sh -c "python3 inspect.py mail.ja plain | grep -q '^花子様'"
check "the footer and the one-click link are in the text" \
	sh -c "python3 inspect.py mail.en plain | grep -q '^Test Shop, 1 Test Street' && python3 inspect.py mail.en plain | grep -q 'https://shop.example/u?t='"
check "the admin's footer_html goes into HTML unescaped" sh -c "python3 inspect.py mail.en html | grep -q '<p class=\"addr\">Test Shop</p>'"
check "List-Unsubscribe-Post is there with the https URL" \
	sh -c "python3 inspect.py mail.en headers | grep -q '^List-Unsubscribe-Post: List-Unsubscribe=One-Click' && python3 inspect.py mail.en headers | grep -q '^List-Unsubscribe: <https://shop.example/u?t='"
"$CANDORCTL" -c candor.conf preview --campaign review --order am >mail.am 2>/dev/null
check "marketplace links: product review URL with the SKU percent-encoded" \
	sh -c "python3 inspect.py mail.am plain | grep -q 'https://www.amazon.de/review/create-review?asin=B0%26x%3D1'"
"$CANDORCTL" -c candor.conf preview --campaign review --order anon --parts >mail.anon 2>report.anon
check "no first name: 'Hello,' and nothing reported empty" \
	sh -c "grep -q '^Hello,\$' mail.anon && grep -q '^empty:     none' report.anon"

# hostile customer data
"$CANDORCTL" -c candor.conf preview --campaign review --order evil >mail.evil 2>report.evil; rc=$?
check "hostile order: still a valid mail (exit 0)" [ $rc -eq 0 ]
check "... CRLF in the name adds no header" sh -c "! grep -qi '^Bcc:' mail.evil && ! python3 inspect.py mail.evil headers | grep -qi '^Bcc'"
check "... HTML in the name is escaped in the HTML part" \
	sh -c "python3 inspect.py mail.evil html | grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' && ! python3 inspect.py mail.evil html | grep -q '<script>'"
check "... and in item names" sh -c "python3 inspect.py mail.evil html | grep -q '&lt;img src=x onerror=alert(1)&gt;'"
check "... a value holding {{ is printed, not evaluated" sh -c "python3 inspect.py mail.evil plain | grep -qF '</script>{{shop.name}},'"

# a template with an empty value: preview tells the marketer
mkdir -p tpl/nick/default
printf 'Hi {{customer.nickname}}\n' > tpl/nick/default/subject.mustache
printf 'Hi {{customer.nickname}}, your {{order.colour}} order\n' > tpl/nick/default/text.mustache
sed -e "s|^templates = \"[^\"]*\";|templates = \"$WORK/tpl\";|" -e 's/template = "review_request"/template = "nick"/' \
	-e '/^  { name = "apology"/,/^    variants = ( { name = "A"; template = "apology"; } ); },$/d' \
	-e 's/ reminder = "3d"; reminder_template = "review_reminder";//' candor.conf > nick.conf
"$CANDORCTL" -c nick.conf preview --order en --parts >mail.nick 2>report.nick
check "preview names the empty values" grep -q "^empty:     customer.nickname, order.colour (3 in all)" report.nick
check "... and shows what the customer would see" grep -q "^Hi , your  order" mail.nick

# {{{ }}} of a customer value in an HTML template stops the load
printf '<p>{{{customer.name}}}</p>\n' > tpl/nick/default/html.mustache
"$CANDORCTL" -c nick.conf check-config >/dev/null 2>err; rc=$?
check "raw customer value in HTML: check-config fails (78)" [ $rc -eq 78 ]
check "... naming file, line, column and the rule" \
	grep -q "tpl/nick/default/html.mustache:1: column 4: an HTML template may print only values marked safe unescaped" err
printf '<p>{{{shop.footer_html}}}</p>\n' > tpl/nick/default/html.mustache
"$CANDORCTL" -c nick.conf check-config >/dev/null 2>err
check "... while the admin's footer_html may be raw" [ $? -eq 0 ]
printf '{{> missing_part}}\n' > tpl/nick/default/html.mustache
"$CANDORCTL" -c nick.conf check-config >/dev/null 2>err
check "a partial that does not exist stops the load" grep -q "html.mustache:1: column 1: no such partial: 'missing_part'" err

# A variant with fewer locales than its control: said at load and in
# check-config; send-test can send a sample of either variant
cp -R "$SRCDIR/templates" lg && chmod -R u+w lg
mkdir -p lg/plain/default lg/plain/de
printf 'How was order {{order.id}}?\n' > lg/plain/default/subject.mustache
printf 'Hello, how was it?\n' > lg/plain/default/text.mustache
cp lg/plain/default/*.mustache lg/plain/de/
write_config lg.conf
sed -i -e "s|^templates = \"[^\"]*\";|templates = \"$WORK/lg\";|" \
	-e 's/variants = ( { name = "A"; template = "review_request"; } );/variants = ( { name = "A"; template = "review_request"; },\n      { name = "B"; template = "plain"; } );/' lg.conf
"$CANDORCTL" -c lg.conf check-config >/dev/null 2>lg.err; rc=$?
check "check-config warns of a variant with fewer locales than its control (still valid)" \
	sh -c "[ $rc -eq 0 ] && grep -q '^candorctl: warning: lg.conf:[0-9]*: campaigns\\[0\\].variants\\[1\\].template: variant \"B\" (set \"plain\") lacks locales es, fr, it, ja, nl, pl, pt, ru, sv, tr, zh-Hans, zh-Hant that the control \"A\"' lg.err"
check "... not of the locales it has" sh -c "! grep -q 'lacks locales de' lg.err"
"$CANDORCTL" -c lg.conf init >/dev/null
"$CANDORD" -c lg.conf --once 2>lg.log
check "candord warns of it at load" grep -q "warning: .*variant \"B\" (set \"plain\") lacks locales es, fr" lg.log
"$CANDORCTL" -c lg.conf send-test --variant B --locale fr me@shop.example >st.out 2>&1; rc=$?
check "send-test --variant B sends variant B's sample" \
	sh -c "[ $rc -eq 0 ] && grep -q '^sample of campaign review, variant B (template plain/default' st.out"
check "... its mail in the outbox" sh -c "grep -l 'Hello, how was it?' outbox/*.eml | xargs grep -l 'me@shop.example' | grep -q ."
"$CANDORCTL" -c lg.conf send-test --variant A --locale fr me@shop.example >st.out 2>&1
check "send-test --variant A: the control, in French" grep -q "^sample of campaign review, variant A (template review_request/fr" st.out
"$CANDORCTL" -c lg.conf send-test --variant Z me@shop.example >/dev/null 2>st.err; rc=$?
check "send-test --variant of no such variant: exit 64, naming those there are" \
	sh -c "[ $rc -eq 64 ] && grep -q 'has no variant \"Z\"; it has A, B' st.err"

done_testing
