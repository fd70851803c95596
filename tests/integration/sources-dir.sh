#!/bin/sh
# sources-dir.sh - the directory source: a drop folder watched by a
# running candord. A file is taken once complete (renamed in, or closed
# after writing; one still being written waits), imported with
# import.c's formats (CSV, Shopify and WooCommerce CSV, JSON Lines,
# feedback by name) and
# moved to done/; bad rows go to rejected/NAME with NAME.errors beside
# it; a file that cannot be read at all goes to rejected/ whole; names
# being written (.part, .tmp, dot files) are left alone.
. "${top_srcdir:-.}/tests/integration/lib.sh"

cd "$WORK" || exit 1
mkdir incoming
write_config candor.conf "sources = ( { name = \"drop\"; type = \"directory\"; path = \"incoming\"; poll_interval = \"1s\"; } );"
"$CANDORCTL" -c candor.conf init >/dev/null
q() { sqlite3 candor.db "$1"; }
D=$SRCDIR/tests/data

cp "$D/orders-generic.csv" incoming/.orders.csv
"$CANDORCTL" -c candor.conf sources --test drop > test.out 2>&1
check "--test with nothing complete takes nothing" grep -q '^drop: 0 rows read' test.out

python3 "$SRCDIR/tests/integration/notify-listen.py" "$WORK/notify.sock" notify.log \
	</dev/null >/dev/null 2>&1 &
bg_started $!
wait_for notify.log listening 5
NOTIFY_SOCKET="$WORK/notify.sock" "$CANDORD" -c candor.conf 2>daemon.log &
PID=$!
bg_started $PID
wait_for daemon.log "started" 10
check "STATUS= shows the source" wait_for notify.log "STATUS=.*sources: drop ok" 10

mv incoming/.orders.csv incoming/orders.csv
i=0; while [ ! -f incoming/done/orders.csv ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "a file renamed in is taken and moved to done/" [ -f incoming/done/orders.csv ] && [ ! -f incoming/orders.csv ]
check "its orders are in the store" [ "$(q "SELECT group_concat(order_id) FROM (SELECT order_id FROM orders ORDER BY order_id)")" = "A-1,A-2,A-3" ]

# a file still being written is not taken until it is closed
(
	head -2 "$D/orders.jsonl"
	sleep 3
	tail -n +3 "$D/orders.jsonl"
) > incoming/orders.jsonl &
WRITER=$!
sleep 2
check "a file being written is left alone" [ -f incoming/orders.jsonl ] && [ "$(q "SELECT count(*) FROM orders WHERE order_id LIKE 'J-%'")" -eq 0 ]
wait $WRITER
i=0; while [ ! -f incoming/done/orders.jsonl ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "once closed it is taken whole (JSON Lines)" [ "$(q "SELECT count(*) FROM orders WHERE order_id LIKE 'J-%'")" -eq 2 ]

cp "$D/orders-bad.csv" incoming/orders-bad.csv.part
mv incoming/orders-bad.csv.part incoming/orders-bad.csv
i=0; while [ ! -f incoming/rejected/orders-bad.csv.errors ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "bad rows: the good ones are imported" [ "$(q "SELECT count(*) FROM orders WHERE order_id = 'B-1'")" -eq 1 ]
check "bad rows: the file goes to done/" [ -f incoming/done/orders-bad.csv ]
check "bad rows: they are in rejected/ with the header" sh -c "head -1 incoming/rejected/orders-bad.csv | grep -q '^order_id,email,status,delivered' && grep -q '^B-2,not-an-email' incoming/rejected/orders-bad.csv"
check "bad rows: the reasons in rejected/NAME.errors with their lines" grep -q 'orders-bad.csv:3: invalid email "not-an-email"' incoming/rejected/orders-bad.csv.errors

# a WooCommerce per-item export: its orders grouped, a bad order's rows
# rejected together
cp "$D/orders-woo-algolplus.csv" incoming/.woo.csv
mv incoming/.woo.csv incoming/woo.csv
i=0; while [ ! -f incoming/rejected/woo.csv.errors ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "a WooCommerce export dropped in is imported, one order per WooCommerce order" \
	sh -c "[ -f incoming/done/woo.csv ] && [ \"\$(sqlite3 candor.db \"SELECT json_array_length(items) FROM orders WHERE order_id='1002'\")\" = 2 ]"
check "... its bad orders' rows in rejected/ with the reasons" \
	sh -c "[ \$(grep -c '^100[45],' incoming/rejected/woo.csv) -eq 3 ] && grep -q 'woo.csv:8: missing email' incoming/rejected/woo.csv.errors"

printf 'this,is,not\nan,order,file\n' > incoming/junk.csv
i=0; while [ ! -f incoming/rejected/junk.csv.errors ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "an unreadable file goes to rejected/ whole" [ -f incoming/rejected/junk.csv ] && [ ! -f incoming/junk.csv ]
check "with the reason in junk.csv.errors" grep -q "unknown header" incoming/rejected/junk.csv.errors

cp "$D/feedback.csv" incoming/feedback-nov.csv
i=0; while [ ! -f incoming/done/feedback-nov.csv ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "a feedback file is feedback" [ "$(q "SELECT group_concat(order_id || ':' || rating) FROM (SELECT * FROM feedback ORDER BY order_id)")" = "A-1:5,A-2:1" ]

cp "$D/orders-generic.csv" incoming/orders.csv
i=0; while [ ! -f incoming/done/orders.csv.2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "the same name again is taken again, kept beside the first" [ -f incoming/done/orders.csv.2 ]
check "a file written in place is no error" sh -c "! grep -q 'source drop:.*retrying' daemon.log"
kill $PID
wait $PID 2>/dev/null

"$CANDORCTL" -c candor.conf sources > list.out
check "candorctl sources shows the folder's rows and files" grep -q '^drop  *directory  *ok .*files=.*/orders.csv' list.out

# inotify wakes the daemon: with a poll interval of an hour, a file
# renamed in or closed after writing is taken within moments (the poll
# stays, for what inotify cannot see)
mkdir wake
write_config wake.conf "sources = ( { name = \"wake\"; type = \"directory\"; path = \"wake\"; poll_interval = \"1h\"; } );"
sed -i 's|^database = .*|database = "wake.db";|' wake.conf
"$CANDORCTL" -c wake.conf init >/dev/null
"$CANDORD" -c wake.conf 2>wake.log &
WPID=$!
bg_started $WPID
wait_for wake.log "cycle done" 10
# CPU from here on: what it spends waiting (and taking two files), not
# its start (packs, model and templates: about 1 s under ASan)
cpu0=$(awk '{ print $14 + $15 }' /proc/$WPID/stat)
sleep 1
cp "$D/orders-generic.csv" wake/.orders.csv
t0=$(date +%s%N)
mv wake/.orders.csv wake/orders.csv
i=0; while [ ! -f wake/done/orders.csv ] && [ $i -lt 50 ]; do sleep 0.05; i=$((i + 1)); done
t1=$(date +%s%N)
check "inotify: a file renamed in is taken at once, not at the hourly poll ($(( (t1 - t0) / 1000000 )) ms)" \
	[ -f wake/done/orders.csv ]
cat "$D/orders.jsonl" > wake/orders.jsonl
i=0; while [ ! -f wake/done/orders.jsonl ] && [ $i -lt 50 ]; do sleep 0.05; i=$((i + 1)); done
check "inotify: a file closed after writing is taken at once" \
	[ "$(sqlite3 wake.db "SELECT count(*) FROM orders WHERE order_id LIKE 'J-%'")" -eq 2 ]
cpu=$(( $(awk '{ print $14 + $15 }' /proc/$WPID/stat) - cpu0 ))
check "inotify: the daemon does not spin while it waits ($cpu ticks)" [ "$cpu" -lt 100 ]
kill $WPID
wait $WPID 2>/dev/null

# a crash between the commit and the move: the file is recorded as
# taken, so it is only moved, not imported again
cp "$D/orders-generic.csv" incoming/again.csv
touch -d '1 minute ago' incoming/again.csv
q "INSERT INTO source_files (source, file, size, mtime, result, at) VALUES ('drop', 'again.csv',
   $(stat -c %s incoming/again.csv), $(stat -c %Y incoming/again.csv), 'done', 0)"
before=$(q "SELECT max(seq) FROM order_changes")
"$CANDORD" -c candor.conf --once 2>once.log
check "a file taken before a crash is moved, not imported twice" \
	sh -c "[ -f incoming/done/again.csv ] && [ \"\$(sqlite3 candor.db 'SELECT max(seq) FROM order_changes')\" = '$before' ]"

done_testing
