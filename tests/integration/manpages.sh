#!/bin/sh
# manpages.sh - every man page renders without a troff warning at the
# widths admins read them at, and the synopses read as written.
. "${top_srcdir:-.}/tests/integration/lib.sh"

command -v groff >/dev/null || skip_all "groff not installed"
cd "$WORK" || exit 1
for page in "$SRCDIR"/man/*.[1-8]; do
	name=$(basename "$page")
	for width in 65 80 120; do
		out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -rLL="${width}n" -z "$page" 2>&1)
		if [ -z "$out" ]; then
			ok "$name renders at $width columns without a warning"
		else
			not_ok "$name renders at $width columns without a warning"
			diag "$out"
		fi
	done
done
LC_ALL=C.UTF-8 groff -man -Tutf8 -rLL=80n "$SRCDIR/man/candorctl.1" 2>/dev/null |
	sed 's/\x1b\[[0-9;]*m//g; s/.\x08//g' > ctl.txt
check "candorctl(1): each suppress form on its own line" \
	sh -c "grep -q '^ *suppress \[--reason r\] \[--detail text\] address\$' ctl.txt &&
	       grep -q '^ *suppress --remove address\$' ctl.txt && grep -q '^ *suppress --list\$' ctl.txt"
done_testing
