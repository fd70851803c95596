#!/bin/sh
# replies.sh - the regression guard of the reply classifier: "candorctl
# classify --stats" over the development sets of the replies corpus
# (tests/data/corpus/replies/ra and rc, and the shared other-author set),
# failing when fewer kinds come out right than today, when an unsubscribe
# request is missed, or when a reply is called an unsubscribe. The
# hold-out (rb) is not run here: its figures are reported, not tuned on.
. "${top_srcdir:-.}/tests/integration/lib.sh"

CORPUS=$SRCDIR/tests/data/corpus/replies
OTHER=${SHARED_DIR:-$SRCDIR/../shared}/corpus/replies-other-author
OTHER=$(cd "$OTHER" 2>/dev/null && pwd || echo "$OTHER")
cd "$WORK" || exit 1

# guard DIR MIN_KINDS: every figure of DIR's line, and the floor
guard() {
	line=$("$CANDORCTL" classify --stats "$1")
	rc=$?
	diag "$line"
	name=$(basename "$1")
	check "$name: every mail classified" [ $rc -eq 0 ]
	right=$(printf '%s\n' "$line" | sed -n 's/.*kinds right \([0-9]*\) .*/\1/p')
	caught=$(printf '%s\n' "$line" | sed -n 's/.*unsubscribe requests caught \([0-9]*\) of \([0-9]*\).*/\1 \2/p')
	replies=$(printf '%s\n' "$line" | sed -n 's/.*replies called unsubscribe \([0-9]*\) of.*/\1/p')
	others=$(printf '%s\n' "$line" | sed -n 's/.*other mail called unsubscribe \([0-9]*\),.*/\1/p')
	check "$name: at least $2 kinds right (${right:-?})" [ "${right:-0}" -ge "$2" ]
	# shellcheck disable=SC2086
	set -- $caught
	check "$name: every unsubscribe request caught ($1 of $2)" [ "${1:-0}" -eq "${2:--1}" ]
	check "$name: no reply called an unsubscribe (${replies:-?})" [ "${replies:--1}" -eq 0 ]
	check "$name: no other mail called an unsubscribe (${others:-?})" [ "${others:--1}" -eq 0 ]
}

guard "$CORPUS/ra" 115
guard "$CORPUS/rc" 110
if [ -f "$OTHER/expected.tsv" ]; then
	guard "$OTHER" 11
else
	diag "no other-author set at $OTHER"
fi

# the command's own contract
check "--list names the mails it gets wrong, and only those" \
	sh -c "[ \$('$CANDORCTL' classify --stats --list '$CORPUS/ra' | wc -l) -eq 1 ]"
mkdir -p mini
cp "$CORPUS/ra/reply-en-01.eml" "$CORPUS/ra/unsubscribe-en-01.eml" mini/
printf 'file\tkind\trecipient\nreply-en-01.eml\tother\t-\nunsubscribe-en-01.eml\tunsubscribe\t-\n' > mini/expected.tsv
check "a mislabelled mail is listed with what it got" sh -c "'$CANDORCTL' classify --stats --list mini | grep -q 'reply-en-01.eml	expected other -	got reply -'"
check "--min above the score fails" sh -c "! '$CANDORCTL' classify --stats --min 60 mini >/dev/null"
check "--min at the score passes" sh -c "'$CANDORCTL' classify --stats --min 50 mini >/dev/null"
check "--stats without a folder is a usage error (64)" sh -c "'$CANDORCTL' classify --stats 2>/dev/null; [ \$? -eq 64 ]"
check "a folder without expected.tsv fails" sh -c "! '$CANDORCTL' classify --stats '$WORK/nothing' >/dev/null 2>&1"
done_testing
