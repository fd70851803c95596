#!/bin/sh
# report_bench.sh - how long `candorctl report` takes on a generated store
# of N orders (two campaigns of two variants, 2% bounces, feedback, a
# reminder to a third of the orders, five locales), in each format, best
# of five runs; against a peer in the same run: the sqlite3 CLI counting
# the same per-variant figures with one grouped query (the SQL a report
# cannot do without).
#
# Last line: report_ms=… html_ms=… json_ms=… peer_ms=… ratio=… (ratio:
#   the text report's time over the peer's)
# Usage: bench/report_bench.sh [ORDERS]   (default 50000; run from the build dir)
set -eu
N=${1:-50000}
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${BUILD:-$(pwd)}
. "$top_srcdir/tests/integration/lib.sh"
command -v sqlite3 >/dev/null || { echo "report_bench: sqlite3 is missing (scripts/install-deps)" >&2; exit 1; }
cd "$WORK"
write_config candor.conf
sed -i '/^campaigns = (/,$d' candor.conf
cat >> candor.conf <<'EOC'
campaigns = (
  { name = "review"; trigger = "delivered"; delay = "7d"; expire = "30d";
    reminder = "5d"; reminder_template = "review_reminder";
    variants = ( { name = "A"; template = "review_request"; },
                 { name = "B"; template = "review_request"; } ); },
  { name = "same"; trigger = "shipped"; delay = "7d"; expire = "30d";
    variants = ( { name = "A"; template = "review_request"; },
                 { name = "B"; template = "review_request"; } ); }
);
EOC
"$CANDORCTL" -c candor.conf init >/dev/null
sqlite3 -bail candor.db <<EOS
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO orders(order_id, email, locale, delivered, shipped, status)
SELECT 'o' || i, 'c' || i || '@example.org',
       CASE i % 5 WHEN 0 THEN 'de-DE' WHEN 1 THEN 'en' WHEN 2 THEN 'fr' WHEN 3 THEN 'de' ELSE NULL END,
       1700000000 + i * 60, 1700000000 + i * 60, 'delivered' FROM n;
INSERT INTO messages(order_id, campaign, variant, state, recipient, created, updated, sent_at)
SELECT order_id, 'review', CASE WHEN rowid % 2 THEN 'A' ELSE 'B' END, 'sent', email,
       delivered + 604800, delivered + 604800, delivered + 604800 FROM orders;
INSERT INTO messages(order_id, campaign, variant, state, recipient, created, updated, sent_at)
SELECT order_id, 'same', CASE WHEN (rowid / 2) % 2 THEN 'A' ELSE 'B' END, 'sent', email,
       shipped + 604800, shipped + 604800, shipped + 604800 FROM orders;
INSERT INTO messages(order_id, campaign, variant, kind, state, recipient, created, updated, sent_at)
SELECT order_id, 'review', variant, 'reminder', 'sent', recipient, sent_at + 432000, sent_at + 432000,
       sent_at + 432000 FROM messages WHERE campaign = 'review' AND id % 3 = 0;
INSERT INTO events(message, order_id, kind, detail, at)
SELECT id, order_id, 'bounced', 'hard 5.1.1 user_unknown: -', sent_at + 60 FROM messages WHERE (id * 37) % 100 < 2;
INSERT INTO feedback(order_id, rating, comment, source, received)
SELECT m.order_id, 1 + (m.id * 13) % 5, 'the parcel arrived late', 'shop', m.sent_at + 86400
FROM messages m WHERE m.campaign = 'review' AND m.kind = 'request'
AND NOT EXISTS (SELECT 1 FROM events e WHERE e.message = m.id)
AND (m.id * 7919) % 1000 < CASE WHEN m.variant = 'B' THEN 125 ELSE 100 END;
COMMIT;
EOS
ms() { # ms COMMAND...: the best of five wall-clock times in milliseconds
	best=""
	for _ in 1 2 3 4 5; do
		t0=$(date +%s%N)
		"$@" >/dev/null
		t=$(( ($(date +%s%N) - t0) / 1000000 ))
		[ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t
	done
	echo "$best"
}
peer_sql="SELECT m.campaign, m.variant, count(*), sum(b.id IS NOT NULL),
 sum(b.id IS NULL AND EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = m.order_id
  AND f.received > m.sent_at AND f.received <= m.sent_at + 2592000))
 FROM messages m LEFT JOIN events b ON b.id = (SELECT min(id) FROM events x
  WHERE x.message = m.id AND x.kind = 'bounced')
 WHERE m.kind = 'request' AND m.state = 'sent' GROUP BY 1, 2;"
text=$(ms "$CANDORCTL" -c candor.conf report)
html=$(ms "$CANDORCTL" -c candor.conf report --format html)
json=$(ms "$CANDORCTL" -c candor.conf report --format json)
peer=$(ms sqlite3 candor.db "$peer_sql")
[ "$peer" -gt 0 ] || peer=1
echo "orders=$N load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "report_ms=$text html_ms=$html json_ms=$json peer_ms=$peer ratio=$(awk "BEGIN { printf \"%.2f\", $text / $peer }")"
