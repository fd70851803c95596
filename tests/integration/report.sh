#!/bin/sh
# report.sh - A/B reports on a generated store of 50,000 orders: a planted
# difference between two variants must be found (and the same rates in
# another campaign must not), in every format; the HTML page is opened in
# headless Chromium and a screenshot taken; the automatic winner decides
# and the next orders all go with it; assignment through the real
# pipeline is stable and balanced. What a marketer reads: the range and
# the generation time, reasons in words of the shop's language, each
# campaign named once, a 0% bar as an empty track, the rate over time,
# per locale, and reminders apart from first requests.
. "${top_srcdir:-.}/tests/integration/lib.sh"

command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI not installed"
cd "$WORK" || exit 1

write_config candor.conf
# two campaigns with variants A (control) and B; "same" has no real difference
sed -i '/^campaigns = (/,$d' candor.conf
cat >> candor.conf <<'EOF'
campaigns = (
  { name = "review"; trigger = "delivered"; delay = "7d"; expire = "30d";
    variants = ( { name = "A"; template = "review_request"; },
                 { name = "B"; template = "review_request"; } ); },
  { name = "same"; trigger = "shipped"; delay = "7d"; expire = "30d";
    variants = ( { name = "A"; template = "review_request"; },
                 { name = "B"; template = "review_request"; } ); },
  { name = "apology"; trigger = "negative_feedback"; delay = "0s"; expire = "60d";
    variants = ( { name = "warm"; template = "apology"; } ); },
  { name = "quiet"; trigger = "delivered"; delay = "7d"; expire = "30d";
    variants = ( { name = "A"; template = "review_request"; },
                 { name = "Z"; template = "review_request"; } ); },
  { name = "nudge"; trigger = "delivered"; delay = "7d"; expire = "30d";
    reminder = "5d"; reminder_template = "review_reminder";
    variants = ( { name = "N"; template = "review_request"; } ); }
);
EOF
"$CANDORCTL" -c candor.conf init >/dev/null

# 50,000 orders mailed long ago by both campaigns, arms by order parity;
# "review": A gets feedback from 10.0% of delivered, B from 12.5%;
# "same" splits the orders another way, so its arms get equal rates;
# 2% bounce; negative comments about three reasons
sqlite3 -bail candor.db <<'EOF' || not_ok "the generated store could not be made"
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)
INSERT INTO orders(order_id, email, delivered, shipped, status)
SELECT 'o' || i, 'c' || i || '@example.org', 1700000000 + i * 60, 1700000000 + i * 60, 'delivered' FROM n;
INSERT INTO messages(order_id, campaign, variant, state, recipient, created, updated, sent_at)
SELECT order_id, 'review', CASE WHEN rowid % 2 THEN 'A' ELSE 'B' END, 'sent', email,
       delivered + 604800, delivered + 604800, delivered + 604800 FROM orders;
-- "same" splits the same orders another way: half of each review arm each
INSERT INTO messages(order_id, campaign, variant, state, recipient, created, updated, sent_at)
SELECT order_id, 'same', CASE WHEN (rowid / 2) % 2 THEN 'A' ELSE 'B' END, 'sent', email,
       shipped + 604800, shipped + 604800, shipped + 604800 FROM orders;
INSERT INTO events(message, order_id, kind, detail, at)
SELECT id, order_id, 'bounced', 'hard 5.1.1 user_unknown: -', sent_at + 60 FROM messages WHERE (id * 37) % 100 < 2;
INSERT INTO feedback(order_id, rating, comment, source, received)
SELECT m.order_id, 1 + (m.id * 13) % 5,
       CASE (m.id * 7) % 3 WHEN 0 THEN 'the parcel arrived late and damaged' WHEN 1 THEN 'the handle broke after a week'
       ELSE 'wrong item, I ordered green tea' END, 'shop', m.sent_at + 86400
FROM messages m WHERE m.campaign = 'review' AND NOT EXISTS (SELECT 1 FROM events e WHERE e.message = m.id)
AND (m.id * 7919) % 1000 < CASE WHEN m.variant = 'B' THEN 125 ELSE 100 END;
COMMIT;
EOF
# "quiet": 6,000 orders of their own over 21 days; variant Z gets no
# feedback at all; A gets it only from de-DE orders (written de-DE for A,
# de_de for Z) mailed in the first half, so 50% there, 0% elsewhere.
# "nudge": 2,000 orders over 93 days, a reminder to every second one;
# 500 answer the request before any reminder, 500 after the reminder.
sqlite3 -bail candor.db <<'EOF' || not_ok "the planted locales, days and reminders could not be made"
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)
INSERT INTO orders(order_id, email, locale, delivered, status)
SELECT 'q' || i, 'q' || i || '@example.org',
       CASE i % 6 WHEN 0 THEN 'de_de' WHEN 3 THEN 'de-DE' WHEN 1 THEN 'en' WHEN 4 THEN 'en' ELSE NULL END,
       1700000000 + i * 300, 'delivered' FROM n;
INSERT INTO messages(order_id, campaign, variant, state, recipient, created, updated, sent_at)
SELECT order_id, 'quiet', CASE WHEN CAST(substr(order_id, 2) AS INTEGER) % 2 THEN 'A' ELSE 'Z' END,
       'sent', email, delivered + 604800, delivered + 604800, delivered + 604800
FROM orders WHERE order_id LIKE 'q%';
INSERT INTO feedback(order_id, rating, comment, source, received)
SELECT m.order_id, 5, 'fine', 'shop', m.sent_at + 3600 FROM messages m
WHERE m.campaign = 'quiet' AND CAST(substr(m.order_id, 2) AS INTEGER) % 6 = 3
AND CAST(substr(m.order_id, 2) AS INTEGER) <= 3000;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
INSERT INTO orders(order_id, email, delivered, status)
SELECT 'n' || i, 'n' || i || '@example.org', 1690000000 + i * 4000, 'delivered' FROM n;
INSERT INTO messages(order_id, campaign, variant, state, recipient, created, updated, sent_at)
SELECT order_id, 'nudge', 'N', 'sent', email, delivered + 604800, delivered + 604800, delivered + 604800
FROM orders WHERE order_id LIKE 'n%';
INSERT INTO messages(order_id, campaign, variant, kind, state, recipient, created, updated, sent_at)
SELECT order_id, 'nudge', 'N', 'reminder', 'sent', recipient, sent_at + 432000, sent_at + 432000,
       sent_at + 432000 FROM messages WHERE campaign = 'nudge' AND CAST(substr(order_id, 2) AS INTEGER) % 2 = 0;
INSERT INTO feedback(order_id, rating, comment, source, received)
SELECT order_id, 5, 'fine', 'shop', sent_at + 3600 FROM messages WHERE campaign = 'nudge'
AND ((kind = 'request' AND CAST(substr(order_id, 2) AS INTEGER) % 4 = 1)
  OR (kind = 'reminder' AND CAST(substr(order_id, 2) AS INTEGER) % 4 = 0));
COMMIT;
EOF

"$CANDORCTL" -c candor.conf report > report.txt
check "report exits 0" [ $? -eq 0 ]
check "the planted difference is found: B gets more feedback than A" grep -q "B gets more feedback than A (p = " report.txt
check "... and the equal campaign is not called different" \
	sh -c "sed -n '/^Campaign same/,/^Campaign apology/p' report.txt | grep -q 'no difference detected yet: about [0-9]* more deliveries per arm are needed to detect a 20% lift with 80% power'"
check "negative feedback is broken down by reason, in words" grep -q "Shipping and delivery" report.txt
"$CANDORCTL" -c candor.conf report --format json > report.json
check "JSON: B's rate beats A's with p below 0.001" "$SYSPY" -c "
import json, sys
r = json.load(open('report.json'))
c = [c for c in r['campaigns'] if c['campaign'] == 'review'][0]
a, b = c['variants']
assert a['control'] and not b['control']
assert abs(a['rate'] - 0.100) < 0.005 and abs(b['rate'] - 0.125) < 0.005, (a['rate'], b['rate'])
assert b['p_value'] < 0.001 and a['ci_low'] < a['rate'] < a['ci_high']
assert a['delivered'] == a['sent'] - a['bounced']
"
check "JSON: the figures match an independent computation" "$SYSPY" -c "
import json, math
r = json.load(open('report.json'))
b = [c for c in r['campaigns'] if c['campaign'] == 'review'][0]['variants']
k1, n1, k2, n2 = b[0]['feedback'], b[0]['delivered'], b[1]['feedback'], b[1]['delivered']
p = (k1 + k2) / (n1 + n2); z = (k2 / n2 - k1 / n1) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
assert abs(b[1]['p_value'] - math.erfc(abs(z) / math.sqrt(2))) < 1e-12
zz = 1.959963984540054; q = k2 / n2; d = 1 + zz * zz / n2
lo = (q + zz * zz / (2 * n2)) / d - zz * math.sqrt(q * (1 - q) / n2 + zz * zz / (4 * n2 * n2)) / d
assert abs(b[1]['ci_low'] - lo) < 1e-12
"
"$CANDORCTL" -c candor.conf report --format csv > report.csv
check "CSV: a header and one row per variant" [ "$(wc -l < report.csv)" -eq 9 ]
check "--campaign picks one" sh -c "'$CANDORCTL' -c candor.conf report --campaign same --format csv | wc -l | grep -qx 3"
check "--since leaves older messages out" sh -c "'$CANDORCTL' -c candor.conf report --since 2030-01-01 --format csv | grep '^review,A' | cut -d, -f4 | grep -qx 0"
check "an unknown campaign is a usage error" sh -c "'$CANDORCTL' -c candor.conf report --campaign nope 2>/dev/null; [ \$? -eq 64 ]"
check "a bad date is a usage error" sh -c "'$CANDORCTL' -c candor.conf report --since 1.2.2026 2>/dev/null; [ \$? -eq 64 ]"

CANDOR_NOW=1800000000 "$CANDORCTL" -c candor.conf report --format html > report.html
check "HTML: one page with an SVG chart per campaign and the verdict" \
	sh -c "[ \$(grep -c '<svg' report.html) -ge 2 ] && grep -q 'B gets more feedback than A' report.html && ! grep -q '<script\|src=\|href=' report.html"
# ---- what a marketer reads --------------------------------------------------
check "HTML: the range covered and when the report was made" \
	sh -c "grep -q 'mails sent 2023-07-29 to 2023-12-26 (UTC); report generated 2027-01-15 08:00 UTC' report.html &&
	       grep -q 'Covers all messages' report.html"
check "HTML: reasons in words, no identifiers" \
	sh -c "grep -q '<td>Wrong or missing item</td>' report.html && grep -q '<td>Shipping and delivery</td>' report.html &&
	       ! grep -q 'not_as_described\|wrong_item\|product_quality' report.html"
check "HTML: each campaign named once, an apology said so in words" \
	sh -c "grep -q '<h2>apology</h2>' report.html && ! grep -q '(apology)\|Campaign apology' report.html &&
	       grep -q 'Apologies after negative feedback' report.html"
sed -n '/<h2>quiet<\/h2>/,/<\/section>/p' report.html > quiet.html
sed -n '/<h2>quiet<\/h2>/,/^<\/svg>/p' report.html > quiet-bars.html
check "HTML: a variant at 0% is an empty track with its 0.0% label and no whisker" \
	sh -c "[ \$(grep -c 'class=\"track\"' quiet-bars.html) -eq 2 ] && [ \$(grep -c 'class=\"bar\"' quiet-bars.html) -eq 1 ] &&
	       [ \$(grep -c 'class=\"whisker\"' quiet-bars.html) -eq 1 ] && grep -q '>0.0%</text>' quiet-bars.html"
check "HTML: every bar and whisker stays on its track" "$SYSPY" -c "
import re
for x in re.findall(r'<line x1=\"(\d+)\" y1=\"\d+\" x2=\"(\d+)\"', ''.join(re.findall(r'<g class=\"whisker\".*?</g>', open('report.html').read()))):
    assert 110 <= int(x[0]) <= int(x[1]) <= 570, x
for w in re.findall(r'class=\"bar\" x=\"110\" y=\"\d+\" width=\"(\d+)\"', open('report.html').read()):
    assert 0 < int(w) <= 460, w
"
check "HTML: a time series per campaign with deliveries, one line per variant" \
	sh -c "[ \$(grep -c 'class=\"series\"' report.html) -eq 4 ] && [ \$(grep -c '<polyline' quiet.html) -eq 2 ] &&
	       grep -q 'per day of sending' quiet.html && sed -n '/<h2>nudge<\/h2>/,/<\/section>/p' report.html | grep -q 'per week of sending'"
check "HTML: results per locale, de_de and de-DE as one" \
	sh -c "grep -q 'class=\"locales\"' quiet.html && [ \$(grep -c '<tr><td>de-DE</td>' quiet.html) -eq 1 ] &&
	       grep -q '<tr><td>unknown</td>' quiet.html"
check "HTML: reminders apart from first requests" \
	sh -c "sed -n '/<h2>nudge<\/h2>/,/<\/section>/p' report.html |
	       grep -q '<table class=\"reminders\">.*' && sed -n '/<h2>nudge<\/h2>/,/<\/section>/p' report.html |
	       grep -q '<tr><td>N</td><td>1000</td><td>1000</td><td>500</td><td>50.00%</td></tr>'"
CANDOR_NOW=1800000000 "$CANDORCTL" -c candor.conf report --format json > report.json
check "JSON: the range, the generation time, reasons with ids and words" "$SYSPY" -c "
import json
r = json.load(open('report.json'))
assert r['first_sent'] == 1690608800 and r['last_sent'] == 1703604800, (r['first_sent'], r['last_sent'])
assert r['generated'] == 1800000000 and r['until'] is None and r['locale'] == 'en'
labels = {x['reason']: x['label'] for x in r['reasons']}
assert labels['wrong_item'] == 'Wrong or missing item' and labels['other'] == 'Other', labels
assert {x['reason']: x['count'] for x in r['reasons']} == r['negative_reasons']
"
check "JSON: the rate over time per variant, per day over 21 days, summing to the totals" "$SYSPY" -c "
import json
c = {c['campaign']: c for c in json.load(open('report.json'))['campaigns']}
q = c['quiet']; s = q['series']
assert s['unit'] == 'day' and s['step_days'] == 1 and len(s['points']) == 22, (s['unit'], len(s['points']))
for k, v in enumerate(q['variants']):
    assert sum(p['variants'][k]['delivered'] for p in s['points']) == v['delivered']
    assert sum(p['variants'][k]['feedback'] for p in s['points']) == v['feedback']
a = [(p['start'], p['variants'][0]['rate']) for p in s['points']]
assert all(0.25 < r < 0.42 for d, r in a if d < '2023-12-02'), a
assert all(r == 0 for d, r in a if d > '2023-12-02'), a
assert all(p['variants'][1]['rate'] == 0 for p in s['points'])
"
check "JSON: per week from Mondays when the mails span 93 days" "$SYSPY" -c "
import json, datetime
c = {c['campaign']: c for c in json.load(open('report.json'))['campaigns']}
s = c['nudge']['series']
assert s['unit'] == 'week' and s['step_days'] == 7 and 13 <= len(s['points']) <= 15, (s['unit'], len(s['points']))
assert all(datetime.date.fromisoformat(p['start']).weekday() == 0 for p in s['points'])
assert sum(p['variants'][0]['sent'] for p in s['points']) == 2000
"
check "JSON: per locale, the planted 50% for de-DE and 0% elsewhere" "$SYSPY" -c "
import json
c = {c['campaign']: c for c in json.load(open('report.json'))['campaigns']}
l = {x['locale']: {v['variant']: v for v in x['variants']} for x in c['quiet']['locales']}
assert sorted(l, key=str) == sorted(['de-DE', 'en', None], key=str), l.keys()
assert l['de-DE']['A']['sent'] == 1000 and l['de-DE']['Z']['sent'] == 1000
assert l['de-DE']['A']['rate'] == 0.5 and l['en']['A']['rate'] == 0 and l[None]['A']['feedback'] == 0
assert l['de-DE']['Z']['rate'] == 0
assert sum(x['A']['sent'] for x in l.values()) == c['quiet']['variants'][0]['sent'] == 3000
"
check "JSON: reminders apart: 1,000 sent, 500 answered after one; first requests stay 2,000" "$SYSPY" -c "
import json
c = {c['campaign']: c for c in json.load(open('report.json'))['campaigns']}
n = c['nudge']; v = n['variants'][0]
assert v['sent'] == 2000 and v['feedback'] == 1000, (v['sent'], v['feedback'])
assert v['reminder'] == {'sent': 1000, 'delivered': 1000, 'feedback': 500, 'rate': 0.5}, v['reminder']
assert n['reminders_sent'] == 1000 and c['quiet']['variants'][0]['reminder']['sent'] == 0
"
check "CSV: reminder columns at the end, the old ones unchanged" \
	sh -c "head -1 report.csv | grep -q '^campaign,variant,control,sent,.*,click_p_value,reminder_sent,reminder_delivered,reminder_feedback,reminder_rate\$' &&
	       grep -q '^nudge,N,1,2000,.*,1000,1000,500,0.500000\$' report.csv"
"$CANDORCTL" -c candor.conf report --until 2023-11-30 --format json > until.json
check "--until leaves later messages out and is shown" "$SYSPY" -c "
import json
r = json.load(open('until.json'))
assert r['until'] == 1701388800 and r['last_sent'] < 1701388800, r['last_sent']
a = [c for c in r['campaigns'] if c['campaign'] == 'review'][0]['variants'][0]
assert 0 < a['sent'] < 25000, a['sent']
"
check "... and says so in the header" sh -c "'$CANDORCTL' -c candor.conf report --since 2023-11-01 --until 2023-11-30 | head -1 | grep -qx 'candor report: messages made from 2023-11-01 to 2023-11-30'"
check "--until before --since is a usage error" sh -c "'$CANDORCTL' -c candor.conf report --since 2023-12-01 --until 2023-11-01 2>/dev/null; [ \$? -eq 64 ]"
sed 's/name = "Test Shop";/&\n  locale = "de-AT";/' candor.conf > de.conf
"$CANDORCTL" -c de.conf report --format html > de.html
check "shop.locale = \"de-AT\": reasons in German, the ids kept in JSON" \
	sh -c "grep -q '<td>Falscher oder fehlender Artikel</td>' de.html && grep -q '<td>Versand und Lieferung</td>' de.html &&
	       '$CANDORCTL' -c de.conf report --format json | '$SYSPY' -c \"
import json, sys
r = json.load(sys.stdin)
assert r['locale'] == 'de-AT' and 'wrong_item' in r['negative_reasons']
assert [x['label'] for x in r['reasons'] if x['reason'] == 'wrong_item'] == ['Falscher oder fehlender Artikel']
\""
sed 's/name = "Test Shop";/&\n  locale = "de\/..";/' candor.conf > badloc.conf
"$CANDORCTL" -c badloc.conf check-config >/dev/null 2>badloc.err
rc=$?
check "a shop.locale that is no language tag is a configuration error (78) naming the line" \
	sh -c "[ $rc -eq 78 ] && grep -q 'badloc.conf:[0-9]*: shop.locale: \"de/..\" is not a language tag' badloc.err"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$CHROMIUM" ]; then
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$WORK/chromium" --window-size=1000,1400 \
		--screenshot="$WORK/report.png" "file://$WORK/report.html" >chromium.log 2>&1
	check "headless Chromium renders the HTML report to a screenshot" "$SYSPY" -c "
import struct, zlib
d = open('$WORK/report.png', 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n'
w, h = struct.unpack('>II', d[16:24])
assert (w, h) == (1000, 1400), (w, h)
# not a blank page: decode and count the pixels that are not white
raw, i = b'', 8
while i < len(d):
    n, t = struct.unpack('>I4s', d[i:i + 8])
    if t == b'IDAT':
        raw += d[i + 8:i + 8 + n]
    i += 12 + n
px = zlib.decompress(raw)
assert sum(1 for b in px if b < 200) > 20000, 'the page is (nearly) blank'
"
	# the first campaign's line chart is drawn: pixels of the control's
	# line colour (#4a6fa5), which nothing else on the page uses
	cat > pixels.py <<'EOF'
import struct, sys, zlib
d = open(sys.argv[1], 'rb').read()
w, h, depth, kind = struct.unpack('>IIBB', d[16:26])
assert depth == 8 and kind in (2, 6), (depth, kind)
bpp = 3 if kind == 2 else 4
raw, i = b'', 8
while i < len(d):
    n, t = struct.unpack('>I4s', d[i:i + 8])
    if t == b'IDAT':
        raw += d[i + 8:i + 8 + n]
    i += 12 + n
raw = zlib.decompress(raw)
stride, prev, hits = w * bpp, bytearray(w * bpp), 0
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        if abs(line[x] - 0x4a) < 12 and abs(line[x + 1] - 0x6f) < 12 and abs(line[x + 2] - 0xa5) < 12:
            hits += 1
    prev = line
assert hits > 300, 'no line chart in the screenshot (%d pixels of its colour)' % hits
EOF
	check "... and the screenshot shows the line chart of the rate over time" "$SYSPY" pixels.py "$WORK/report.png"
	cp "$WORK/report.png" "${top_builddir:-.}/report-screenshot.png" 2>/dev/null
else
	not_ok "chromium is not installed (scripts/install-deps installs it)"
fi

# the automatic winner: min 1,000 per arm at 1%
sed -i 's/{ name = "review"; trigger = "delivered"; delay = "7d"; expire = "30d";/&\n    auto_winner = { min_per_arm = 1000; significance = "1%"; };/' candor.conf
sed -i 's/{ name = "same"; trigger = "shipped"; delay = "7d"; expire = "30d";/&\n    auto_winner = { min_per_arm = 1000; significance = "1%"; };/' candor.conf
add_orders candor.db 900001 40
"$CANDORD" -c candor.conf --once 2>winner.log
check "the automatic winner is decided and logged with its figures" grep -q "campaign review: variant B wins: 12.* feedback among .* (p = .*); the rest of the campaign goes with B" winner.log
check "... the next orders all go with B" [ "$(sqlite3 candor.db "SELECT count(*) FROM messages WHERE order_id LIKE 'o9000__' AND campaign = 'review' AND variant = 'B'")" -eq 40 ]
check "... while the campaign without a difference has no winner" sh -c "! grep -q 'campaign same: variant' winner.log"
check "the report names the winner" sh -c "'$CANDORCTL' -c candor.conf report --campaign review | grep -q 'winner chosen: B'"

# assignment through the real pipeline: stable, and roughly balanced
write_config real.conf
sed -i 's/^database = .*/database = "real.db";/; s/directory = "outbox"/directory = "outbox-real"/' real.conf
sed -i 's/variants = ( { name = "A"; template = "review_request"; } );/variants = ( { name = "A"; template = "review_request"; }, { name = "B"; template = "review_request"; weight = 3; } );/' real.conf
"$CANDORCTL" -c real.conf init >/dev/null
add_orders real.db 1 2000
"$CANDORD" -c real.conf --once 2>/dev/null
b=$(sqlite3 real.db "SELECT count(*) FROM messages WHERE variant = 'B'")
check "weights 1:3 over 2,000 orders: B gets 1,500 ± 100 ($b)" between 1400 "$b" 1600
sqlite3 real.db "SELECT order_id || '=' || variant FROM messages ORDER BY order_id" > first.txt
sqlite3 real.db "DELETE FROM events; DELETE FROM messages; DELETE FROM scan_state; DELETE FROM waiting;"
"$CANDORD" -c real.conf --once 2>/dev/null
sqlite3 real.db "SELECT order_id || '=' || variant FROM messages ORDER BY order_id" > second.txt
check "the same orders get the same variants again" cmp -s first.txt second.txt

sed 's/significance = "1%"/significance = "150%"/' candor.conf > bad.conf
"$CANDORCTL" -c bad.conf check-config >/dev/null 2>bad.err
check "a significance level out of range is a configuration error (78)" [ $? -eq 78 ]
check "... naming file, line and setting" grep -q "bad.conf:[0-9]*: campaigns\[0\].auto_winner: significance \"150%\"" bad.err
done_testing
