#!/bin/sh
# valgrind.sh - no leak and no memory error in the daemon's life: a cycle
# that sends 50 mails, a good reload, a broken reload, SIGTERM, and a
# cycle that sends over SMTP.
. "${top_srcdir:-.}/tests/integration/lib.sh"

command -v valgrind >/dev/null || skip_all "valgrind not installed"
command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI not installed"
ldd "$CANDORD" | grep -q libasan && skip_all "sanitizer build (ASan checks leaks there)"
cd "$WORK" || exit 1

VG="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99"
write_config candor.conf
"$CANDORCTL" -c candor.conf init >/dev/null
add_orders candor.db 1 50
sqlite3 candor.db "UPDATE orders SET name = 'Jürgen \"J\" Ünal', locale = 'de-DE'"

$VG "$CANDORD" -c candor.conf --once 2>once.log
check "one cycle under valgrind: no leak, no error" [ $? -eq 0 ]
check "... and it sent the 50 mails" [ "$(ls outbox | wc -l)" -eq 50 ]

add_orders candor.db 100 5
$VG "$CANDORD" -c candor.conf 2>daemon.log &
pid=$!
bg_started $pid
wait_for daemon.log "cycle done" 30
kill -HUP $pid
wait_for daemon.log "configuration reloaded" 30
echo 'poll_intervl = "1m";' >> candor.conf
kill -HUP $pid
wait_for daemon.log "reload failed" 30
kill -TERM $pid
wait_exit $pid 30
check "reloads and SIGTERM under valgrind: no leak, no error" [ "$exit_status" = 0 ]
grep '==' daemon.log | sed 's/^/# /'

# the SMTP path: libcurl's multi interface, retries kept in the database
if command -v smtp-sink >/dev/null; then
	start_sink sink
	write_config smtp.conf "smtp = { url = \"smtp://127.0.0.1:$SINK_PORT\"; connections = 3; };"
	sed -i 's/^transport = "outbox";/transport = "smtp";/; s/^database = .*/database = "smtp.db";/' smtp.conf
	"$CANDORCTL" -c smtp.conf init >/dev/null
	add_orders smtp.db 1 30
	$VG "$CANDORD" -c smtp.conf --once 2>smtp.log
	check "a cycle over SMTP under valgrind: no leak, no error" [ $? -eq 0 ]
	check "... and it sent the 30 mails" [ "$(sqlite3 smtp.db "SELECT count(*) FROM messages WHERE state = 'sent'")" -eq 30 ]
	grep '==' smtp.log | sed 's/^/# /'
	stop_sink
fi

done_testing
