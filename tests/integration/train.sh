#!/bin/sh
# train.sh - scripts/train-compliance end to end on a small corpus: it
# trains from the features candor computes, writes a model that candor
# loads and scores as Python did (the script checks its regression rows
# itself), refuses a hold-out writer and names what is wrong in its
# arguments (a threshold the rules' yield_below would not lie below). The shipped model and regression set are never written.
. "${top_srcdir:-.}/tests/integration/lib.sh"

PY=/usr/bin/python3
"$PY" -c 'import sklearn' 2>/dev/null || skip_all "no python3-sklearn (scripts/install-deps installs it)"
cd "$WORK" || exit 1
SHARED=${SHARED_DIR:-$SRCDIR/../shared}
TRAIN="$SRCDIR/scripts/train-compliance"
before=$(cksum < "$SRCDIR/etc/packs/model.bin")

if "$PY" "$TRAIN" train --candorctl "$CANDORCTL" --shared "$SHARED" --writers ca,cc \
	--ngram-scale 20 -C 2 --threshold 2.14 --output "$WORK/m.bin" \
	--regression "$WORK/reg.tsv" --regression-rows 50 > train.out 2> train.err; then
	ok "trains on two writers"
else
	not_ok "train failed: $(tail -n 3 train.err)"
fi
grep -q "wrote $WORK/m.bin: [0-9]* features, threshold 2.14" train.out &&
	ok "says what it wrote" || not_ok "no summary: $(cat train.out)"
grep -q "differ from Python's by at most" train.out &&
	ok "candor reads the model back to Python's scores" || not_ok "no regression check: $(cat train.out)"
[ "$(wc -l < reg.tsv)" -ge 50 ] && ok "writes the regression rows asked for" ||
	not_ok "regression rows: $(wc -l < reg.tsv)"
[ "$(cksum < "$SRCDIR/etc/packs/model.bin")" = "$before" ] &&
	ok "the shipped model is untouched" || not_ok "the shipped model changed"

# the windows the script scores a row by (--windows): one per sentence
# a short text's windows start at, and each of those that holds a review
# act again without the closing "Thanks!" (no concept in it); none for a
# text without a word; after a "。" the next sentence starts after the
# whole mark (w3: the text, without 谢谢。, and 谢谢。: not a window of the
# mark's last bytes)
printf 'id\tlang\tlabel\tfamily\ttext\nw1\ten\thonest\trequest\tSorry it was late. Leave a review. Thanks!\nw2\ten\thonest\trequest\t!!! ...\nw3\tzh-Hans\tok\trequest\t请留下评价。谢谢。\n' > win.tsv
"$CANDORCTL" lint --features --windows --concepts "$SRCDIR/etc/model/concepts.conf" win.tsv > win.out 2> win.err
rc=$?
[ $rc -eq 0 ] && [ "$(cut -f1 win.out | grep -c '^w1#[0-9]')" -eq 5 ] && ! grep -q '^w2' win.out &&
	[ "$(cut -f1 win.out | grep -c '^w3#[0-9]')" -eq 3 ] &&
	ok "lint --features --windows: a window from each sentence, again without the closing line, none without a word" ||
	not_ok "windows: rc $rc, $(cut -f1 win.out | tr '\n' ' ') $(cat win.err)"
"$CANDORCTL" lint --windows win.tsv > /dev/null 2>&1
[ $? -eq 2 ] && ok "lint --windows without --features is a usage error" ||
	not_ok "lint --windows alone was not refused"

# the model alone (--pack model): the packs would hold the bribe anyway
printf 'Share your thoughts on the listing and we will upgrade you to Gold status.\n' > bribe.txt
printf 'Thank you for your order!\n' > thanks.txt
"$CANDORCTL" lint --packs-dir "$SRCDIR/etc/packs" --model "$WORK/m.bin" --pack model bribe.txt > lint.out 2>&1
[ $? -eq 1 ] && grep -q "model.incentive" lint.out && ok "the new model checks mail" ||
	not_ok "a bribe passed the new model: $(cat lint.out)"
"$CANDORCTL" lint --packs-dir "$SRCDIR/etc/packs" --model "$WORK/m.bin" --pack model thanks.txt > /dev/null 2>&1
[ $? -eq 0 ] && ok "... and passes a thank-you" || not_ok "a thank-you was held"

"$PY" "$TRAIN" train --candorctl "$CANDORCTL" --shared "$SHARED" --writers ca,ge \
	--output "$WORK/h.bin" --regression "$WORK/h.tsv" > hold.out 2> hold.err
rc=$?
[ $rc -ne 0 ] && grep -q "ge is a hold-out writer" hold.err && [ ! -e h.bin ] &&
	ok "refuses to train on a hold-out writer" || not_ok "hold-out writer: rc $rc, $(cat hold.err)"
"$PY" "$TRAIN" train --candorctl "$CANDORCTL" --shared "$SHARED" --writers ca,zz \
	--output "$WORK/z.bin" --regression "$WORK/z.tsv" > zz.out 2> zz.err
[ $? -ne 0 ] && grep -q "no writer zz" zz.err && ok "an unknown writer is a clear error" ||
	not_ok "unknown writer: $(cat zz.err)"
"$PY" "$TRAIN" train --candorctl "$CANDORCTL" --shared "$SHARED" --writers ca --decoys 0.5 \
	--decoy-concepts nosuch --output "$WORK/d.bin" --regression "$WORK/d.tsv" > d.out 2> d.err
[ $? -ne 0 ] && grep -q 'has no concept "nosuch"' d.err && ! grep -q Traceback d.err &&
	ok "an unknown --decoy-concepts name is a clear error" || not_ok "decoy concepts: $(cat d.err)"
"$PY" "$TRAIN" train --candorctl "$CANDORCTL" --shared "$SHARED" --writers ca \
	--threshold -6 --output "$WORK/y.bin" --regression "$WORK/y.tsv" > y.out 2> y.err
[ $? -ne 0 ] && grep -q "yield_below (-5) .* must lie below --threshold (-6)" y.err &&
	[ ! -e y.bin ] && ok "a threshold at or below yield_below is refused before training" ||
	not_ok "threshold below yield_below: $(cat y.err)"
done_testing
