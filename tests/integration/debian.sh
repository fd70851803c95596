#!/bin/sh
# debian.sh - the debian/ directory builds a package a Debian admin can
# install: dpkg-buildpackage from the dist tree, lintian with no error or
# warning, the files where Debian wants them (/etc/candor as conffiles,
# units in /lib/systemd/system, the system user and directories made by
# postinst), and the packaged programs run.
. "${top_srcdir:-.}/tests/integration/lib.sh"

for t in dpkg-buildpackage dh lintian fakeroot; do
	command -v "$t" >/dev/null || skip_all "$t not installed (scripts/install-deps)"
done
# one package build is enough: the sanitizer build checks the code, not this
ldd "$CANDORD" | grep -q libasan && skip_all "sanitizer build"
BUILD=$(cd "$top_builddir" && pwd)
cd "$WORK" || exit 1

make -s -C "$BUILD" distdir distdir="$WORK/candor-src" >distdir.log 2>&1
check "make distdir carries debian/" [ -x candor-src/debian/rules ]
(cd candor-src && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) \
	>build.log 2>&1
check "dpkg-buildpackage builds the package" [ $? -eq 0 ]
deb=$(ls candor_*_*.deb 2>/dev/null | head -1)
check "... a .deb" [ -n "$deb" ]
lintian --allow-root "$deb" >lintian.txt 2>&1
check "lintian: no error and no warning" sh -c "[ $? -eq 0 ] && ! grep -q '^[EW]:' lintian.txt"
[ -s lintian.txt ] && sed 's/^/# /' lintian.txt

dpkg-deb -c "$deb" | awk '{print $6}' >files.txt
dpkg-deb -e "$deb" control
for f in ./usr/sbin/candord ./usr/bin/candorctl ./etc/candor/candor.conf.example \
	./etc/candor/packs/generic.pack ./etc/candor/templates/review_request/default/text.mustache \
	./lib/systemd/system/candord.service ./lib/systemd/system/candor-web.socket \
	./usr/lib/sysusers.d/candor.conf ./usr/lib/tmpfiles.d/candor.conf \
	./usr/share/man/man8/candord.8.gz ./usr/share/man/man5/candor.conf.5.gz; do
	check "the package has $f" grep -qx "$f" files.txt
done
check "what is under /etc is a conffile (an admin's edit survives an upgrade)" \
	grep -qx /etc/candor/templates/review_request/default/text.mustache control/conffiles
check "postinst makes the system user before its directories" \
	sh -c "grep -n 'systemd-sysusers' control/postinst | head -1 | cut -d: -f1 >u; grep -n 'systemd-tmpfiles' control/postinst | head -1 | cut -d: -f1 >t; [ \$(cat u) -lt \$(cat t) ]"
check "the units are installed, not started (no config yet)" sh -c "! grep -q 'deb-systemd-invoke start' control/postinst"
dpkg-deb -x "$deb" root
check "the packaged candorctl runs" sh -c "root/usr/bin/candorctl --help | grep -q Usage"
check "... and reads /etc/candor by default" sh -c "root/usr/bin/candorctl --help | grep -q /etc/candor/candor.conf"
done_testing
