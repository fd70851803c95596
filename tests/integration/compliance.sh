#!/bin/sh
# compliance.sh - the checker from the outside: "candorctl lint" (exit
# codes, text and JSON, --pack, --channel, broken packs, the model's
# findings, --stats on a labelled corpus), templates that break a rule stop
# check-config and a reload, a model file that cannot be used stops the
# start (78) and a reload keeps the old one, a mail whose data breaks a
# rule is held and never sent, preview shows the verdict, and Amazon
# orders get no reminder.
. "${top_srcdir:-.}/tests/integration/lib.sh"

command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI not installed"
cd "$WORK" || exit 1
PACKS="$SRCDIR/etc/packs"
lint() { "$CANDORCTL" lint --packs-dir "$PACKS" "$@"; }

# ---- lint -------------------------------------------------------------
printf 'Thank you for your order.\nWe would love your honest review.\n' > clean.txt
lint clean.txt >out 2>err; rc=$?
check "clean text: exit 0" [ $rc -eq 0 ]
check "... and says so" grep -q "clean.txt: 0 findings" err
printf 'Thank you!\nLeave a review and get a $10 gift card.\n' > bad.txt
lint bad.txt >out 2>err; rc=$?
check "a bought review: exit 1" [ $rc -eq 1 ]
check "... text names file, line, column, rule" grep -q "^bad.txt:2:9: error generic.incentive: " out
check "... with a suggestion" grep -q "^  suggestion: Ask for honest feedback" out
printf 'Leave a review and get a $10 gift card.\nLeave a review and get a $10 gift card.\n' > twice.txt
lint twice.txt >out 2>err
check "the same violation on two lines: a finding on each" \
	sh -c "grep -q '^twice.txt:1:9: error generic.incentive' out && grep -q '^twice.txt:2:9: error generic.incentive' out"
lint --format json bad.txt >out.json 2>/dev/null
check "JSON output has the contract's fields" python3 -c "
import json,sys
d=json.load(open('out.json'))
f=d['findings'][0]
sys.exit(0 if set(f)>={'rule','severity','line','column','excerpt','message','suggestion'} and f['line']==2 and f['column']==9 and f['rule']=='generic.incentive' else 1)"
printf '亲，五星好评返现5元！\n' | lint --pack cn - >out 2>/dev/null; rc=$?
check "--pack cn on standard input finds 好评返现" sh -c "[ $rc -eq 1 ] && grep -q 'cn.cashback' out"
printf '亲，五星好评返现5元！\n' | lint --pack ftc - >/dev/null 2>&1
check "--pack ftc alone does not" [ $? -eq 0 ]
lint --pack nosuch bad.txt >/dev/null 2>err; rc=$?
check "an unknown pack: exit 2" sh -c "[ $rc -eq 2 ] && grep -q 'no compliance pack \"nosuch\"' err"
lint missing.txt >/dev/null 2>err
check "a missing file: exit 2" [ $? -eq 2 ]
lint --format xml bad.txt >/dev/null 2>&1
check "a bad option: exit 2" [ $? -eq 2 ]
printf '<p>Review us at https://www.amazon.com/review/x</p>\n<p>More at <a href="https://shop.example/">our shop</a></p>\n' > mail.html
lint mail.html >/dev/null 2>&1
check "an HTML file without --channel: links are not judged" [ $? -eq 0 ]
lint --channel amazon mail.html >out 2>/dev/null
check "--channel amazon: a link off Amazon is" grep -q "^mail.html:2:21: error amazon.links" out
mkdir badpacks
cp "$PACKS"/generic.pack badpacks/
printf 'name = "mine";\nterms = { t = { en = [ "x" ]; }; };\nrules = ( { id = "mine.x"; family = "other"; message = "m"; any = [ "t" ] } \n' > badpacks/mine.pack
"$CANDORCTL" lint --packs-dir badpacks bad.txt >/dev/null 2>err; rc=$?
check "a pack with a syntax error: exit 2, file and line" sh -c "[ $rc -eq 2 ] && grep -q 'badpacks/mine.pack:4: syntax error' err"
printf 'name = "mine";\nterms = { bribe = { en = [ "free lunch" ]; }; };\nrules = ( { id = "mine.lunch"; family = "incentive";\n  message = "no lunches"; near = [ "bribe", "review" ]; within = 40; } );\n' > badpacks/mine.pack
printf 'A review buys you a free lunch.\n' | "$CANDORCTL" lint --packs-dir badpacks - >out 2>/dev/null
check "a shop's own pack can use the shared term lists" grep -q "mine.lunch" out
# without --packs-dir: the configuration's packs (-c), else the build's own
write_config pk.conf
sed -i "s|packs = \"[^\"]*\";|packs = \"$WORK/badpacks\";|" pk.conf
printf 'A review buys you a free lunch.\n' | env -u CANDOR_PACKS "$CANDORCTL" -c pk.conf lint - >out 2>err; rc=$?
check "lint -c uses the configuration's packs" sh -c "[ $rc -eq 1 ] && grep -q 'mine.lunch' out"
env -u CANDOR_PACKS "$CANDORCTL" lint bad.txt >out 2>err; rc=$?
check "lint with neither -c nor --packs-dir, uninstalled: the source tree's packs" \
	sh -c "[ $rc -eq 1 ] && grep -q 'error generic\\.' out && ! grep -q 'mine.lunch' out"
check "lint --help names the packs it would use" \
	sh -c "env -u CANDOR_PACKS '$CANDORCTL' lint --help | grep -q '/etc/packs\.$'"

# ---- the learned model ---------------------------------------------------
printf 'Share your thoughts on the listing and we will upgrade you to Gold status.\n' > perk.txt
lint perk.txt >out 2>/dev/null; rc=$?
check "wording no rule names: the model holds it (exit 1)" [ $rc -eq 1 ]
check "... as model.incentive, with score and concepts" \
	grep -q '^perk.txt:1:1: error model.incentive: .*(score [01]\.[0-9][0-9]; .*platform "listing"' out
lint --no-model perk.txt >/dev/null 2>&1
check "... --no-model: the packs alone pass it" [ $? -eq 0 ]
lint --pack generic perk.txt >/dev/null 2>&1
check "... a --pack list without \"model\" leaves the model out" [ $? -eq 0 ]
lint --pack model perk.txt >/dev/null 2>&1
check "... --pack model: the model alone" [ $? -eq 1 ]
head -c 1000 "$PACKS/model.bin" > short.bin
lint --model short.bin perk.txt >/dev/null 2>err; rc=$?
check "a truncated model: lint exits 2 naming the file" sh -c "[ $rc -eq 2 ] && grep -q 'short.bin: compliance model truncated' err"

# ---- figures on a labelled corpus ------------------------------------------
printf 'id\tlang\tlabel\tfamily\ttext\n' > corpus.tsv
printf 'v1\ten\tviolation\tincentive\tLeave a review and get a $10 gift card.\n' >> corpus.tsv
printf 'v2\ten\tviolation\tpositive_only\tHi!\\nWe hope you are well.\n' >> corpus.tsv
printf 'o1\ten\tok\trequest\tWe would love your honest review.\n' >> corpus.tsv
printf 'v3\tde\tviolation\tgating\tZufrieden? Dann bewerten Sie uns. Nicht zufrieden? Dann schreiben Sie uns zuerst.\n' >> corpus.tsv
printf 'o2\tde\tok\tapology\tEs tut uns leid. Wir haben Ihnen den Betrag erstattet.\n' >> corpus.tsv
lint --stats corpus.tsv >stats.out 2>&1; rc=$?
check "--stats: exit 0" [ $rc -eq 0 ]
check "... figures by language" grep -Eq '^en +2 +1 +50\.0% +1 +0 +0\.0%$' stats.out
check "... and overall" grep -Eq '^all +3 +2 +66\.7% +2 +0 +0\.0%$' stats.out
check "... by family" grep -Eq '^positive_only +1 +0 +0\.0% +0 +0 +-$' stats.out
check "... which stage caught what" grep -q '^violations caught by the rules: [0-9]*, by the model: [0-9]*' stats.out
check "... and which flagged an honest text" grep -q '^honest texts flagged by the rules: 0, by the model: 0, by both: 0$' stats.out
printf 'id\tlang\tlabel\tfamily\ttext\nf1\ten\tok\trequest\tLeave a 5-star review and get a $10 gift card.\n' > flagged.tsv
lint --stats flagged.tsv >flagged.out 2>&1
check "... an honest text the packs hold counts for the rules" grep -q '^honest texts flagged by the rules: 1, by the model: 0, by both: 0$' flagged.out
check "... the misses listed" grep -q "^missed	v2	en	positive_only	Hi! We hope you are well." stats.out
check "... and a last line for scripts" grep -q '^recall=66.7 fpr=0.0 violations=3 caught=2 honest=2 flagged=0$' stats.out
lint --stats --no-misses corpus.tsv >stats.out 2>&1
check "--no-misses: the figures only" sh -c "! grep -q '^missed' stats.out && grep -q '^recall=' stats.out"
lint --stats nosuch.tsv >/dev/null 2>&1
check "--stats on a missing file: exit 2" [ $? -eq 2 ]

# ---- templates and mail ------------------------------------------------
# every shipped template, with the shipped packs and model: a retrained
# model that reads one as a violation stops every shop that uses it
held=""
for t in "$SRCDIR"/templates/*/*/*.mustache; do
	lint "$t" >/dev/null 2>&1 || held="$held ${t#"$SRCDIR"/}"
done
check "every shipped template passes the shipped checker${held:+ (held:$held)}" [ -z "$held" ]
mkdir -p tpl/bribe/default
printf 'How was order {{order.id}}?\n' > tpl/bribe/default/subject.mustache
printf 'Hi {{customer.first_name}},\n\nleave a review and we will send you a gift card!\n' > tpl/bribe/default/text.mustache
write_config candor.conf
sed -i "s|^templates = \"[^\"]*\";|templates = \"$WORK/tpl\";|; s/template = \"review_request\"/template = \"bribe\"/" candor.conf
"$CANDORCTL" -c candor.conf check-config >/dev/null 2>err; rc=$?
check "a template that buys reviews: check-config exits 78" [ $rc -eq 78 ]
check "... naming file, line, column, rule and campaign" \
	grep -q "tpl/bribe/default/text.mustache:3: column 9: generic.incentive (campaign review): " err
"$CANDORD" -c candor.conf --once 2>err; rc=$?
check "... and candord will not start (78)" [ $rc -eq 78 ]
printf 'Hi {{customer.first_name}},\n\nhow did {{#order.items}}{{name}} {{/order.items}}work out? Tell us in a review.\n' > tpl/bribe/default/text.mustache
"$CANDORCTL" -c candor.conf check-config >/dev/null 2>err
check "fixed, it loads" [ $? -eq 0 ]
"$CANDORCTL" -c candor.conf init >/dev/null
sqlite3 candor.db <<'EOS'
INSERT INTO orders(order_id, first_name, email, items, delivered, status) VALUES
 ('fine', 'Ann', 'ann@x.example', '[{"name":"Green tea","quantity":1}]', unixepoch('now','-8 days'), 'delivered'),
 ('sly', 'Bob', 'bob@x.example', '[{"name":"Tea - FREE GIFT CARD with every","quantity":1}]', unixepoch('now','-8 days'), 'delivered');
EOS
"$CANDORCTL" -c candor.conf preview --order sly --parts >pv.out 2>pv.err; rc=$?
check "preview: a product name that buys reviews is held (exit 1)" [ $rc -eq 1 ]
check "... and the verdict says why" grep -q "^verdict:   HELD: compliance: generic.incentive" pv.err
"$CANDORD" -c candor.conf --once 2>run.log
check "the daemon sends the honest one" [ "$(sqlite3 candor.db "SELECT state FROM messages WHERE order_id='fine'")" = sent ]
check "... holds the other, with the findings as reason" \
	[ "$(sqlite3 candor.db "SELECT state || ' ' || substr(reason, 1, 29) FROM messages WHERE order_id='sly'")" = "held compliance: generic.incentive" ]
check "... and nothing of it reached the outbox" sh -c "! grep -l 'bob@x.example' outbox/*.eml"

# ---- a reload with a bribing template is refused ----------------------------
"$CANDORD" -c candor.conf 2>daemon.log &
dpid=$!
bg_started $dpid
wait_for daemon.log "started" 5
cp tpl/bribe/default/text.mustache good.mustache
printf 'Hi,\n\nplease give us five stars!\n' > tpl/bribe/default/text.mustache
kill -HUP $dpid
check "a reload with a five-star request is refused, with file and line" \
	wait_for daemon.log "text.mustache:3: column 16: generic.positive_only (campaign review)" 5
check "... and the daemon keeps running on the previous templates" \
	sh -c "grep -q 'still running with the previous configuration' daemon.log && kill -0 $dpid"
cp good.mustache tpl/bribe/default/text.mustache
kill -HUP $dpid
check "fixed, the reload is applied" wait_for daemon.log "configuration reloaded" 5
cp candor.conf good.conf
echo "compliance_model = \"$WORK/short.bin\";" >> candor.conf
kill -HUP $dpid
check "a reload with a truncated model is refused, naming the file" \
	wait_for daemon.log "short.bin: compliance model truncated" 5
check "... and the daemon keeps running on the previous model" \
	sh -c "[ \$(grep -c 'still running with the previous configuration' daemon.log) -ge 2 ] && kill -0 $dpid"
cp good.conf candor.conf
kill -TERM $dpid
wait $dpid 2>/dev/null
"$CANDORD" -c candor.conf --once 2>/dev/null
check "... and runs with it" [ $? -eq 0 ]
echo 'compliance_model = "nosuch/model.bin";' >> candor.conf
"$CANDORD" -c candor.conf --once 2>err; rc=$?
check "a missing model: candord exits 78" [ $rc -eq 78 ]
check "... naming the file" grep -q "nosuch/model.bin: cannot read the compliance model" err
"$CANDORCTL" -c candor.conf check-config >/dev/null 2>err
check "... and check-config says so too" sh -c "[ \$? -eq 78 ] || grep -q 'nosuch/model.bin' err"
cp good.conf candor.conf

# ---- Amazon: one request per order ----------------------------------------
write_config amz.conf
sed -i 's|^database = .*|database = "amz.db";|; s/delay = "7d"; expire = "30d";/delay = "7d"; expire = "30d"; reminder = "3d"; reminder_template = "review_reminder";/' amz.conf
"$CANDORCTL" -c amz.conf init >/dev/null
sqlite3 amz.db <<'EOS'
INSERT INTO orders(order_id, channel, first_name, email, delivered, status) VALUES
 ('a1', 'amazon', 'Amy', 'amy@x.example', unixepoch('now','-12 days'), 'delivered'),
 ('w1', 'web', 'Wes', 'wes@x.example', unixepoch('now','-12 days'), 'delivered');
EOS
CANDOR_NOW=$(( $(date +%s) - 5 * 86400 )) "$CANDORD" -c amz.conf --once 2>/dev/null
"$CANDORD" -c amz.conf --once 2>/dev/null
check "web order: request and reminder" [ "$(sqlite3 amz.db "SELECT count(*) FROM messages WHERE order_id='w1'")" -eq 2 ]
check "Amazon order: the request only" [ "$(sqlite3 amz.db "SELECT group_concat(kind) FROM messages WHERE order_id='a1'")" = request ]
sed -i 's/^campaigns = ($/campaigns = (/; s/reminder_template = "review_reminder";/reminder_template = "review_reminder"; packs = ["generic"];/' amz.conf
"$CANDORD" -c amz.conf --once 2>/dev/null
check "without the amazon pack the campaign may remind Amazon buyers" \
	[ "$(sqlite3 amz.db "SELECT count(*) FROM messages WHERE order_id='a1'")" -eq 2 ]

done_testing
