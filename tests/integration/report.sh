#!/bin/sh
# report.sh - A/B reports on a generated store of 50,000 orders: a planted
# difference between two variants must be found (and the same rates in
# another campaign must not), in every format; the HTML page is opened in
# headless Chromium and a screenshot taken; the automatic winner decides
# and the next orders all go with it; assignment through the real
# pipeline is stable and balanced.
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
  { name = "sorry"; trigger = "negative_feedback"; delay = "0s"; expire = "60d";
    variants = ( { name = "warm"; template = "apology"; } ); }
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

"$CANDORCTL" -c candor.conf report > report.txt
check "report exits 0" [ $? -eq 0 ]
check "the planted difference is found: B gets more feedback than A" grep -q "B gets more feedback than A (p = " report.txt
check "... and the equal campaign is not called different" \
	sh -c "sed -n '/^Campaign same/,/^Campaign sorry/p' report.txt | grep -q 'no difference detected yet: about [0-9]* more deliveries per arm are needed to detect a 20% lift with 80% power'"
check "negative feedback is broken down by reason" grep -q "shipping" report.txt
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
check "CSV: a header and one row per variant" [ "$(wc -l < report.csv)" -eq 6 ]
check "--campaign picks one" sh -c "'$CANDORCTL' -c candor.conf report --campaign same --format csv | wc -l | grep -qx 3"
check "--since leaves older messages out" sh -c "'$CANDORCTL' -c candor.conf report --since 2030-01-01 --format csv | grep '^review,A' | cut -d, -f4 | grep -qx 0"
check "an unknown campaign is a usage error" sh -c "'$CANDORCTL' -c candor.conf report --campaign nope 2>/dev/null; [ \$? -eq 64 ]"
check "a bad date is a usage error" sh -c "'$CANDORCTL' -c candor.conf report --since 1.2.2026 2>/dev/null; [ \$? -eq 64 ]"

"$CANDORCTL" -c candor.conf report --format html > report.html
check "HTML: one page with an SVG chart per campaign and the verdict" \
	sh -c "[ \$(grep -c '<svg' report.html) -ge 2 ] && grep -q 'B gets more feedback than A' report.html && ! grep -q '<script\|src=\|href=' report.html"
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
