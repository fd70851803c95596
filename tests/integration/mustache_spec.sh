#!/bin/sh
# mustache_spec.sh - the official Mustache spec (../shared/conformance)
# through "candorctl render"; one TAP line per spec test.
. "${top_srcdir:-.}/tests/integration/lib.sh"

SPEC=${SHARED_DIR:-$SRCDIR/../shared}/conformance/mustache-spec
[ -d "$SPEC" ] || skip_all "no Mustache spec at $SPEC"
python3 "$SRCDIR/tests/integration/mustache_spec.py" "$CANDORCTL" "$SPEC"
exit $?
