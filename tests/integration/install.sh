#!/bin/sh
# install.sh - "make install" into a DESTDIR twice, as an admin upgrading
# would: a template the shop edited is kept (the new default beside it as
# .dist), the shop's own template set survives "make uninstall", and the
# shipped files go.
. "${top_srcdir:-.}/tests/integration/lib.sh"

BUILD=$(cd "$top_builddir" && pwd)
DEST="$WORK/root"
command -v make >/dev/null || skip_all "make not installed"
make -s -C "$BUILD" install DESTDIR="$DEST" >"$WORK/install1.out" 2>&1
check "make install into a DESTDIR" [ $? -eq 0 ]
tpl=$(find "$DEST" -type d -name templates | head -1)
check "the templates are installed" [ -f "$tpl/review_request/default/text.mustache" ]
echo "Edited by the shop" >> "$tpl/review_request/default/text.mustache"
mkdir -p "$tpl/our_own/en"
echo "Our own words" > "$tpl/our_own/en/text.mustache"
make -s -C "$BUILD" install DESTDIR="$DEST" >"$WORK/install2.out" 2>&1
check "a second make install succeeds" [ $? -eq 0 ]
check "... keeps the shop's edit" grep -q "Edited by the shop" "$tpl/review_request/default/text.mustache"
check "... puts the new default beside it as .dist" \
	cmp -s "$SRCDIR/templates/review_request/default/text.mustache" "$tpl/review_request/default/text.mustache.dist"
check "... and says so" grep -q "kept your .*review_request/default/text.mustache" "$WORK/install2.out"
make -s -C "$BUILD" uninstall DESTDIR="$DEST" >"$WORK/uninstall.out" 2>&1
check "make uninstall succeeds" [ $? -eq 0 ]
check "... leaves the shop's own set" [ -f "$tpl/our_own/en/text.mustache" ]
check "... leaves the edited template" grep -q "Edited by the shop" "$tpl/review_request/default/text.mustache"
check "... removes the .dist copy" [ ! -e "$tpl/review_request/default/text.mustache.dist" ]
check "... removes the templates as shipped" [ ! -e "$tpl/review_request/de/text.mustache" ]
check "... and the programs" sh -c "! find '$DEST' -name candord -type f | grep -q ."
done_testing
