#!/bin/sh
# systemd.sh - the shipped unit: the settings the daemon relies on, and a
# systemd-analyze security exposure of 2.0 or lower ("OK").
. "${top_srcdir:-.}/tests/integration/lib.sh"

unit="$top_builddir/systemd/candord.service"
[ -f "$unit" ] || skip_all "systemd/candord.service not built"

for key in "Type=notify" "User=candor" "StateDirectory=candor" "ConfigurationDirectory=candor" \
	   "WatchdogSec=" "ExecReload=/bin/kill -HUP \$MAINPID" "RestartPreventExitStatus=78"; do
	check "the unit sets $key" grep -q "^$key" "$unit"
done
check "the unit names the installed candord" grep -q "^ExecStart=/.*/candord -c /.*/candor/candor.conf$" "$unit"

if command -v systemd-analyze >/dev/null; then
	score=$(systemd-analyze security --offline=true "$unit" 2>/dev/null |
		sed -n 's/.*Overall exposure level for candord.service: \([0-9.]*\).*/\1/p')
	diag "systemd-analyze security exposure: $score"
	check "systemd-analyze security rates it 2.0 or lower (got $score)" \
		awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }'
else
	ok "# SKIP systemd-analyze not installed"
fi
# the web endpoint's units: socket-activated, loopback, no password files
wunit="$top_builddir/systemd/candor-web.service"
wsock="$top_srcdir/systemd/candor-web.socket"
check "candor-web.service runs candord --web" grep -q "^ExecStart=/.*/candord --web -c /.*/candor/candor.conf$" "$wunit"
check "... as candor, sharing the state directory" sh -c "grep -q '^User=candor' '$wunit' && grep -q '^StateDirectory=candor' '$wunit'"
check "... seeing none of the password files" sh -c "grep -q '^TemporaryFileSystem=/.*/candor:ro' '$wunit' && grep -q '^BindReadOnlyPaths=/.*/candor/candor.conf$' '$wunit'"
check "... with no network of its own" grep -q "^PrivateNetwork=yes" "$wunit"
check "candor-web.socket listens on loopback" grep -q "^ListenStream=127.0.0.1:" "$wsock"
if command -v systemd-analyze >/dev/null; then
	wscore=$(systemd-analyze security --offline=true "$wunit" 2>/dev/null |
		sed -n 's/.*Overall exposure level for candor-web.service: \([0-9.]*\).*/\1/p')
	diag "systemd-analyze security exposure of candor-web.service: $wscore"
	check "systemd-analyze security rates candor-web 2.0 or lower (got $wscore)" \
		awk -v s="$wscore" 'BEGIN { exit !(s != "" && s <= 2.0) }'
else
	ok "# SKIP systemd-analyze not installed"
fi
check "sysusers.d snippet creates the candor user" grep -q "^u candor " "$top_srcdir/systemd/candor-sysusers.conf"
check "tmpfiles.d snippet creates the state directory" grep -q "^d /var/lib/candor 0750 candor candor" "$top_srcdir/systemd/candor-tmpfiles.conf"

done_testing
