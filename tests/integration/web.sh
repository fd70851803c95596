#!/bin/sh
# web.sh - the web endpoint (candord --web) through curl against the real
# listener: the mails' links, one-click unsubscribe (RFC 8058, form and
# multipart, idempotent, through a proxy prefix), the confirmation page in
# each template language (a GET never unsubscribes) and its undo, click
# tracking with no open redirect, /metrics and /healthz and who may read
# them; hostile input (bad and forged tokens, other methods, long URLs,
# big bodies, slow clients, a flood from one address), each a plain 4xx
# and no write; socket activation; no mail password read; the page in
# headless Chromium (screenshot, the button clicked); and an unsubscribe
# by mail through a real Dovecot recorded the same way as one on the web.
. "${top_srcdir:-.}/tests/integration/lib.sh"

command -v curl >/dev/null || skip_all "curl is not installed"
command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI not installed (scripts/install-deps)"
cd "$WORK" || exit 1

PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
q() { sqlite3 -cmd ".timeout 5000" candor.db "$1"; }
tok() { q "SELECT token FROM messages WHERE order_id='$1'"; }
# code [CURL ARGS...] URL: the HTTP status
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
# new_port FILE...: a fresh port in the configs (another test may have
# taken the old one while no listener held it)
new_port() {
	old=$PORT
	PORT=$(free_port)
	BASE="http://127.0.0.1:$PORT"
	for f in "$@"; do sed -i "s/127.0.0.1:$old/127.0.0.1:$PORT/" "$f"; done
}
# up URL: wait until the listener answers (10 s at most)
up() {
	i=0
	until curl -s -o /dev/null "$1" || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
writes() { q "SELECT (SELECT count(*) FROM suppressions) || '/' || (SELECT count(*) FROM events)"; }

HTTP="http = { listen = \"127.0.0.1:$PORT\"; public_url = \"https://shop.example/candor/\";
  timeout = \"2s\"; rate_limit = \"\"; connections_per_address = 64; };
channels = (
  { name = \"web\"; feedback_url = \"https://shop.example/review?order={order}\";
    review_url = \"https://shop.example/p/{product}/review?o={order}\"; },
  { name = \"amazon\"; feedback_url = \"https://www.amazon.com/fb?o={order}\"; unsubscribe_url = \"\"; }
);"
write_config candor.conf "$HTTP"
"$CANDORCTL" -c candor.conf init >/dev/null

# one order per template language, plus an Amazon one and spares
i=0
for dir in "$SRCDIR"/templates/review_request/*/; do
	l=$(basename "$dir")
	i=$((i + 1))
	[ "$l" = default ] && l=en-US
	[ "$l" = zh-Hant ] && l=zh-TW
	q "INSERT INTO orders (order_id, first_name, name, email, locale, items, delivered, status)
	   VALUES ('L$i', 'C', 'Cust $i', 'l$i@example.org', '$l',
	   '[{\"name\":\"Tea\",\"sku\":\"T 1\",\"quantity\":1},{\"name\":\"Cup\",\"sku\":\"C-2\"}]',
	   unixepoch('now', '-8 days'), 'delivered')"
done
NLANG=$i
add_orders candor.db 1 8
q "UPDATE orders SET channel = 'amazon' WHERE order_id = 'o8'"
"$CANDORD" -c candor.conf --once 2>once.log
check "candord sent the mails" [ "$(q "SELECT count(*) FROM messages WHERE state='sent'")" -eq $((NLANG + 8)) ]
T1=$(tok o1)

# ---- what the mails carry -----------------------------------------------
m1=$(grep -l "$T1" outbox/*.eml | head -1)
check "List-Unsubscribe defaults to the endpoint under http.public_url" \
	grep -q "^List-Unsubscribe: <https://shop.example/candor/u/$T1>" "$m1"
check "... with List-Unsubscribe-Post (RFC 8058)" grep -q "^List-Unsubscribe-Post: List-Unsubscribe=One-Click" "$m1"
check "the review link goes through /c/TOKEN" grep -q "https://shop.example/candor/c/$T1" "$m1"
check "... and the channel's own URL is not in the mail" sh -c "! grep -q 'shop.example/review' '$m1'"
m8=$(grep -l "$(tok o8)" outbox/*.eml | head -1)
check "an Amazon order's mail has no tracking link" sh -c "! grep -q '/candor/c/' '$m8'"
check "... but Amazon's own link" grep -q "amazon.com/fb" "$m8"

# ---- start the listener ---------------------------------------------------
"$CANDORD" -c candor.conf --web 2>web.log &
WEB=$!
bg_started $WEB
up "$BASE/healthz"
check "candord --web listens on http.listen" [ "$(code "$BASE/healthz")" = 200 ]
check "/healthz says ok" sh -c "curl -s '$BASE/healthz' | grep -qx ok"

# ---- the confirmation page: a GET never unsubscribes ------------------------
before=$(writes)
curl -s -D page.h -o page.html "$BASE/u/$T1"
check "GET /u/TOKEN shows a page" grep -q '<button type="submit" id="unsubscribe">' page.html
check "... as HTML that runs no script (CSP)" grep -qi "^Content-Security-Policy: default-src 'none'" page.h
check "... and is never cached nor leaks its URL as a Referer" sh -c "grep -qi '^Cache-Control: no-store' page.h && grep -qi '^Referrer-Policy: no-referrer' page.h"
check "... with no script in it" sh -c "! grep -qi '<script' page.html"
check "... and the address partly hidden" sh -c "grep -q 'c•••@example.org' page.html && ! grep -q 'c1@example.org' page.html"
for n in $(seq 1 5); do curl -s -o /dev/null "$BASE/u/$T1"; done
check "GETs (link scanners, previews) write nothing" [ "$(writes)" = "$before" ]

langs_ok=1
i=0
for dir in "$SRCDIR"/templates/review_request/*/; do
	l=$(basename "$dir")
	i=$((i + 1))
	want=$l
	[ "$l" = default ] && want=en
	curl -s "$BASE/u/$(tok L$i)" > lang.html
	if ! grep -q "<html lang=\"$want\">" lang.html; then
		langs_ok=0
		diag "locale $l: page not in $want"
	fi
	[ "$l" != default ] && grep -q ">Unsubscribe<" lang.html && { langs_ok=0; diag "locale $l: English words"; }
done
check "the page speaks each of the $NLANG template languages" [ $langs_ok = 1 ]

# ---- one-click POST -------------------------------------------------------
T2=$(tok o2)
check "POST List-Unsubscribe=One-Click answers 200" \
	[ "$(code -X POST -d 'List-Unsubscribe=One-Click' "$BASE/u/$T2")" = 200 ]
check "... suppresses the address" [ "$(q "SELECT reason FROM suppressions WHERE email='c2@example.org'")" = unsubscribed ]
check "... and records the event on the message" \
	[ "$(q "SELECT count(*) FROM events e JOIN messages m ON m.id = e.message WHERE m.order_id='o2' AND e.kind='unsubscribed'")" -eq 1 ]
after=$(writes)
for n in 1 2 3; do code -X POST -d 'List-Unsubscribe=One-Click' "$BASE/u/$T2" >/dev/null; done
check "repeating it answers 200 and changes nothing (idempotent)" sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -X POST -d List-Unsubscribe=One-Click '$BASE/u/$T2')\" = 200 ] && [ '$(writes)' = '$after' ]"
T3=$(tok o3)
check "multipart/form-data (RFC 8058's SHOULD) works too" \
	[ "$(code -X POST -F 'List-Unsubscribe=One-Click' "$BASE/u/$T3")" = 200 ]
check "... and suppresses" [ "$(q "SELECT count(*) FROM suppressions WHERE email='c3@example.org'")" -eq 1 ]
T4=$(tok o4)
check "a proxy that keeps the public path (/candor/u/TOKEN) is understood" \
	[ "$(code -X POST -d 'List-Unsubscribe=One-Click' "$BASE/candor/u/$T4")" = 200 ]
T5=$(tok o5)
before=$(writes)
check "a POST without the One-Click body is 400" [ "$(code -X POST "$BASE/u/$T5")" = 400 ]
check "a POST with another body is 400" [ "$(code -X POST -d 'List-Unsubscribe=Yes' "$BASE/u/$T5")" = 400 ]
check "... and neither wrote anything" [ "$(writes)" = "$before" ]

# ---- undo -----------------------------------------------------------------
curl -s "$BASE/u/$T2" > done.html
check "the page of an unsubscribed address offers to undo" grep -q 'id="undo"' done.html
check "POST undo=1 lifts the suppression" [ "$(code -X POST -d 'undo=1' "$BASE/u/$T2")" = 200 ]
check "... the address is no longer suppressed" [ "$(q "SELECT count(*) FROM suppressions WHERE email='c2@example.org'")" -eq 0 ]
check "... and 'resubscribed' is recorded" [ "$(q "SELECT count(*) FROM events WHERE kind='resubscribed'")" -eq 1 ]
code -X POST -d 'List-Unsubscribe=One-Click' "$BASE/u/$T2" >/dev/null
check "unsubscribing again after an undo records a new event" \
	[ "$(q "SELECT count(*) FROM events e JOIN messages m ON m.id = e.message WHERE m.order_id='o2' AND e.kind='unsubscribed'")" -eq 2 ]
q "UPDATE suppressions SET at = at - 8 * 86400 WHERE email='c3@example.org'"
check "after http.undo_window an undo is refused (410)" [ "$(code -X POST -d 'undo=1' "$BASE/u/$T3")" = 410 ]
check "... and the suppression stays" [ "$(q "SELECT count(*) FROM suppressions WHERE email='c3@example.org'")" -eq 1 ]
q "INSERT INTO suppressions(email, reason, at) VALUES ('c6@example.org', 'hard_bounce', unixepoch())"
check "a suppression for another reason (a bounce) is not lifted by the page" \
	sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -X POST -d undo=1 '$BASE/u/$(tok o6)')\" = 410 ] && [ \"\$(sqlite3 -cmd '.timeout 5000' candor.db \"SELECT reason FROM suppressions WHERE email='c6@example.org'\")\" = hard_bounce ]"

# ---- clicks ---------------------------------------------------------------
T7=$(tok o7)
loc() { curl -s -o /dev/null -w '%{redirect_url}' --max-time 10 "$1"; }
check "GET /c/TOKEN redirects (302)" [ "$(code "$BASE/c/$T7")" = 302 ]
check "... to the order's channel URL computed on the server" [ "$(loc "$BASE/c/$T7")" = "https://shop.example/review?order=o7" ]
check "... and records 'clicked' once per message" \
	[ "$(q "SELECT count(*) FROM events e JOIN messages m ON m.id = e.message WHERE m.order_id='o7' AND e.kind='clicked'")" -eq 1 ]
check "/c/TOKEN/N goes to item N's review URL (values percent-encoded)" \
	[ "$(loc "$BASE/c/$(tok L1)/1")" = "https://shop.example/p/T%201/review?o=L1" ]
check "/c/TOKEN/N for an item the order lacks is 404" [ "$(code "$BASE/c/$(tok L1)/7")" = 404 ]
check "no open redirect: a URL in the query is ignored" \
	[ "$(loc "$BASE/c/$T7?url=https://evil.example/&next=//evil.example")" = "https://shop.example/review?order=o7" ]
check "no open redirect: a URL in the path is 404" [ "$(code "$BASE/c/https://evil.example/")" = 404 ]
check "no open redirect: a path after the token is 404" [ "$(code "$BASE/c/$T7/..%2F..%2Fevil")" = 404 ]
check "an Amazon order's token is no click link (404)" [ "$(code "$BASE/c/$(tok o8)")" = 404 ]
"$CANDORCTL" -c candor.conf report --format json > report.json 2>/dev/null
check "the report counts the clicked mails per variant" grep -q '"clicked": *2' report.json
check "... with the click rate and its statistics" sh -c "grep -q '\"click_rate\"' report.json && grep -q '\"click_ci_high\"' report.json"
"$CANDORCTL" -c candor.conf report > report.txt 2>/dev/null
check "... in the text report too" grep -q "clicks .* 2 clicked" report.txt

# ---- hostile input ----------------------------------------------------------
before=$(writes)
bad_ok=1
for t in "" abc "$(echo "$T5" | tr a-f A-F)" "${T5}0" "$(echo "$T5" | cut -c1-31)" \
	 "$(echo "$T5" | cut -c1-31)g" "../../etc/passwd" "$T5/extra" "%00$T5"; do
	c=$(code -X POST -d 'List-Unsubscribe=One-Click' "$BASE/u/$t")
	[ "$c" = 404 ] || { bad_ok=0; diag "token '$t': $c"; }
done
check "malformed tokens are 404" [ $bad_ok = 1 ]
forged=$(printf '%s' "forged-$T5" | sha256sum | cut -c1-32)
check "a well-formed token we never made is 404" \
	[ "$(code -X POST -d 'List-Unsubscribe=One-Click' "$BASE/u/$forged")" = 404 ]
# a row whose token does not verify under the secret (the database was
# written by someone else): not acted upon
q "UPDATE messages SET token = '$forged' WHERE order_id = 'o5'"
check "a stored token that fails the HMAC check is 404" \
	[ "$(code -X POST -d 'List-Unsubscribe=One-Click' "$BASE/u/$forged")" = 404 ]
check "... and the log says so" grep -q "order o5: the stored token does not verify" web.log
q "UPDATE messages SET token = '$T5' WHERE order_id = 'o5'"
meth_ok=1
for m in PUT DELETE PATCH OPTIONS TRACE HEAD CONNECT BREW; do
	if [ "$m" = HEAD ]; then c=$(code -I "$BASE/u/$T5"); else c=$(code -X "$m" "$BASE/u/$T5"); fi
	case $c in 4??) ;; *) meth_ok=0; diag "method $m: $c";; esac
done
check "methods other than GET and POST are a 4xx" [ $meth_ok = 1 ]
check "... PUT is 405" [ "$(code -X PUT "$BASE/u/$T5")" = 405 ]
check "POST to /c/ or /metrics is 405" sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -X POST '$BASE/c/$T7')\" = 405 ] && [ \"\$(curl -s -o /dev/null -w '%{http_code}' -X POST '$BASE/metrics')\" = 405 ]"
long=$(head -c 3000 /dev/zero | tr '\0' a)
check "a long URL is 414" [ "$(code "$BASE/u/$long")" = 414 ]
huge=$(head -c 100000 /dev/zero | tr '\0' a)
c=$(code "$BASE/u/$huge")
check "a 100 kB URL is a 4xx ($c)" sh -c "case $c in 4??) exit 0;; esac; exit 1"
head -c 1000000 /dev/zero > big.bin
# In session 12's CI (make -j2, beside other tests) this failed in both
# runs, in one flavour or the other, and never alone (12 runs):
# likely no answer in time. A try with no HTTP answer (000) is made
# again, up to three; any answer must be 413; the status is in the name.
for i in 1 2 3; do
	c=$(code -X POST --data-binary @big.bin "$BASE/u/$T5")
	[ "$c" != 000 ] && break
done
check "a 1 MB body is 413 ($c, try $i)" [ "$c" = 413 ]
c=$(code -H "X-Long: $huge" "$BASE/healthz")
check "100 kB of headers is a 4xx ($c)" sh -c "case $c in 4??) exit 0;; esac; exit 1"
check "a request line that is not HTTP is refused" sh -c "printf 'HELLO\r\n\r\n' | timeout 5 \"$SYSPY\" -c \"
import socket, sys
s = socket.create_connection(('127.0.0.1', $PORT), 3)
s.sendall(sys.stdin.buffer.read())
d = s.recv(100)
assert d == b'' or d.startswith(b'HTTP/1.1 4'), d\""
check "nothing hostile wrote anything" [ "$(writes)" = "$before" ]

# slow clients: 40 connections that send half a request and wait; the
# timeout (2s) closes them and others are served meanwhile
"$SYSPY" - "$PORT" <<'EOF' >slow.log 2>&1 &
import socket, sys, time
conns = []
for i in range(40):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 3)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    conns.append(s)
time.sleep(5)
closed = 0
for s in conns:
    s.settimeout(1)
    try:
        if s.recv(100) == b"":
            closed += 1
    except socket.timeout:
        pass
    except OSError:
        closed += 1
print("closed", closed)
EOF
SLOW=$!
sleep 1
check "while slow clients hang, others are served" [ "$(code "$BASE/healthz")" = 200 ]
wait $SLOW
check "... and the slow ones are cut off after http.timeout" grep -q "closed 40" slow.log
check "the listener is still alive after all that" sh -c "kill -0 $WEB && [ \"\$(curl -s -o /dev/null -w '%{http_code}' '$BASE/healthz')\" = 200 ]"

# ---- /metrics ---------------------------------------------------------------
curl -s "$BASE/metrics" > metrics.txt
check "/metrics answers loopback in Prometheus text" grep -q '^candor_messages{state="sent"} [0-9]' metrics.txt
check "... with sends" grep -q '^candor_sends_total [0-9]' metrics.txt
check "... cycle duration and last success" sh -c "grep -q '^candor_cycle_duration_seconds [0-9.]*$' metrics.txt && grep -q '^candor_last_success_timestamp_seconds{what=\"cycle\"} [0-9]' metrics.txt && grep -q '^candor_lag_seconds{what=\"cycle\"} [0-9]' metrics.txt"
check "... held mails by rule" grep -q '^# TYPE candor_held_messages gauge' metrics.txt
check "... and its own requests" grep -q '^candor_web_requests_total{route="unsubscribe",code="200"} [0-9]' metrics.txt
check "a request through a proxy (X-Forwarded-For) may not read /metrics" \
	[ "$(code -H 'X-Forwarded-For: 203.0.113.9' "$BASE/metrics")" = 403 ]
check "... nor /healthz" [ "$(code -H 'Forwarded: for=203.0.113.9' "$BASE/healthz")" = 403 ]

kill $WEB
wait $WEB 2>/dev/null
check "SIGTERM stops it" sh -c "! kill -0 $WEB 2>/dev/null"

# ---- bursts of one-click POSTs, and a crash in the middle of one -------------
# Concurrent POSTs are written in batches (web.c) while a thread of the
# store checkpoints aside (db_sqlite.c); a 200 must still mean that the
# suppression is in the database, whatever happens to the process next.
add_orders candor.db 100 400
"$CANDORD" -c candor.conf --once 2>burst.log
q "SELECT token FROM messages WHERE order_id GLOB 'o[12][0-9][0-9]'" > burst1.tok
q "SELECT token FROM messages WHERE order_id GLOB 'o[34][0-9][0-9]'" > burst2.tok
cat > burst.py <<'EOF'
# burst.py PORT TOKENS OUT PID KILL_AFTER: POST one-click to every token
# from 32 threads on keep-alive connections; after KILL_AFTER answers of
# 200 (0: never) SIGKILL the endpoint. OUT: the tokens answered 200.
import http.client, os, signal, sys, threading
port, tokens, out = int(sys.argv[1]), open(sys.argv[2]).read().split(), sys.argv[3]
pid, kill_after = int(sys.argv[4]), int(sys.argv[5])
lock, ok, other = threading.Lock(), [], []
def worker(mine):
    c = None
    for t in mine:
        try:
            c = c or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("POST", "/u/" + t, body="List-Unsubscribe=One-Click",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
            r = c.getresponse()
            r.read()
            with lock:
                (ok if r.status == 200 else other).append(t)
                if r.status == 200 and len(ok) == kill_after:
                    os.kill(pid, signal.SIGKILL)
        except Exception:
            with lock:
                other.append(t)
            c = None
threads = [threading.Thread(target=worker, args=(tokens[i::32],)) for i in range(32)]
for t in threads: t.start()
for t in threads: t.join()
open(out, "w").write("".join(t + "\n" for t in ok))
print(len(ok), len(other))
EOF
# burst_writes FILE: addresses suppressed/unsubscribe events of its tokens
burst_writes() {
	in=$(sed "s/.*/'&'/" "$1" | paste -sd, -)
	q "SELECT (SELECT count(*) FROM suppressions WHERE email IN
	     (SELECT recipient FROM messages WHERE token IN ($in))) || '/' ||
	   (SELECT count(*) FROM events e JOIN messages m ON m.id = e.message
	     WHERE e.kind = 'unsubscribed' AND m.token IN ($in))"
}
check "(400 more mails sent for the bursts)" [ "$(cat burst1.tok burst2.tok | wc -l)" -eq 400 ]
new_port candor.conf
"$CANDORD" -c candor.conf --web 2>burst-web.log &
WEB=$!
bg_started $WEB
up "$BASE/healthz"
"$SYSPY" burst.py "$PORT" burst1.tok burst1.ok $WEB 0 > burst1.out
check "200 concurrent one-click POSTs are all answered 200 ($(cat burst1.out))" [ "$(cat burst1.out)" = "200 0" ]
check "... every address is suppressed, with one event each" [ "$(burst_writes burst1.ok)" = "200/200" ]
"$SYSPY" burst.py "$PORT" burst2.tok burst2.ok $WEB 100 > burst2.out
wait $WEB 2>/dev/null
nok=$(wc -l < burst2.ok)
check "killed (SIGKILL) in the middle of a burst, after $nok answers of 200" \
	sh -c "[ $nok -ge 100 ] && ! kill -0 $WEB 2>/dev/null"
check "... every POST answered 200 before is suppressed, with one event" [ "$(burst_writes burst2.ok)" = "$nok/$nok" ]
"$CANDORD" -c candor.conf --web 2>burst-web2.log &
WEB=$!
bg_started $WEB
up "$BASE/healthz"
"$SYSPY" burst.py "$PORT" burst2.tok burst2b.ok $WEB 0 > burst2b.out
check "started again, it answers the whole burst 200 (the done ones idempotently)" [ "$(cat burst2b.out)" = "200 0" ]
check "... and each address is suppressed once" [ "$(burst_writes burst2.tok)" = "200/200" ]
kill $WEB
wait $WEB 2>/dev/null

# ---- a second listener: a token for /metrics, a low per-address limit ---------
printf 'metrics-token-0123456789abcdef\n' > metrics.token
chmod 600 metrics.token
new_port candor.conf
write_config limited.conf "http = { listen = \"127.0.0.1:$PORT\"; metrics_token_file = \"metrics.token\";
  rate_limit = \"20/minute\"; };"
"$CANDORD" -c limited.conf --web 2>limited.log &
WEB=$!
bg_started $WEB
up "$BASE/nothing"
check "with a metrics token, loopback alone may not read /metrics" [ "$(code "$BASE/metrics")" = 403 ]
check "... a wrong token may not" [ "$(code -H 'Authorization: Bearer metrics-token-0123456789abcdeX' "$BASE/metrics")" = 403 ]
check "... the token may" [ "$(code -H 'Authorization: Bearer metrics-token-0123456789abcdef' "$BASE/metrics")" = 200 ]
before=$(writes)
n429=0
for n in $(seq 1 40); do
	[ "$(code -X POST -d 'List-Unsubscribe=One-Click' "$BASE/u/$T5")" = 429 ] && n429=$((n429 + 1))
done
check "a flood from one address gets 429 ($n429 of 40)" [ $n429 -ge 15 ]
check "another client behind the proxy (X-Forwarded-For) is not limited by it" \
	[ "$(code -H 'X-Forwarded-For: 198.51.100.7' "$BASE/nothing")" = 404 ]
check "... and the flood wrote one unsubscribe at most" \
	[ "$(q "SELECT count(*) FROM events e JOIN messages m ON m.id = e.message WHERE m.order_id='o5' AND e.kind='unsubscribed'")" -le 1 ]
kill $WEB
wait $WEB 2>/dev/null

# ---- off by default; socket activation; no mail password ------------------------
write_config plain.conf
"$CANDORD" -c plain.conf --web 2>off.log
check "without http.listen nor a socket, --web exits 78" [ $? -eq 78 ]
check "... saying how to turn it on" grep -q "set http.listen" off.log
# a password file the web process cannot read: it never tries



write_config sa.conf "smtp = { url = \"smtp://127.0.0.1:2525\"; username = \"u\"; password_file = \"$WORK/smtp.gone\"; };"
"$CANDORCTL" -c sa.conf check-config >/dev/null 2>&1
check "(the sending daemon needs that password file)" [ $? -eq 78 ]
if command -v systemd-socket-activate >/dev/null; then
	new_port candor.conf
	systemd-socket-activate -l "127.0.0.1:$PORT" "$CANDORD" -c sa.conf --web 2>sa.log &
	SA=$!
	bg_started $SA
	sleep 0.3
	check "socket activation: the first request starts it and is answered" \
		[ "$(code -X POST -d 'List-Unsubscribe=One-Click' "$BASE/u/$(tok o7)")" = 200 ]
	check "... it never read the SMTP password file" sh -c "! grep -q 'password_file' sa.log"
	kill $SA 2>/dev/null
	wait $SA 2>/dev/null
else
	ok "# SKIP systemd-socket-activate not installed"
	ok "# SKIP systemd-socket-activate not installed"
fi

# ---- the page in a real browser ----------------------------------------------
new_port candor.conf
"$CANDORD" -c candor.conf --web 2>web2.log &
WEB=$!
bg_started $WEB
up "$BASE/healthz"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
nonblank() {
	"$SYSPY" -c "
import struct, zlib, sys
d = open(sys.argv[1], 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n'
w, h, depth, ctype = struct.unpack('>IIBB', d[16:26])
raw, i = b'', 8
while i < len(d):
    n, t = struct.unpack('>I4s', d[i:i + 8])
    if t == b'IDAT':
        raw += d[i + 8:i + 8 + n]
    i += 12 + n
px = zlib.decompress(raw)
dark = sum(1 for b in px if b < 120)
assert dark > 2000, 'the page is (nearly) blank: %d dark bytes' % dark
" "$1"
}
if [ -n "$CHROMIUM" ]; then
	T6=$(tok L2)
	timeout 120 "$SYSPY" "$SRCDIR/tests/integration/chromium-click.py" "$CHROMIUM" \
		"$BASE/u/$T6" '#unsubscribe' page.png done.png > clicked.html 2>chromium.log
	check "headless Chromium renders the confirmation page (screenshot not blank)" nonblank page.png
	check "clicking its button unsubscribes" \
		[ "$(q "SELECT detail FROM suppressions WHERE email='l2@example.org'")" = "web: confirmation page" ]
	check "... and shows the result with an undo button" grep -q 'id="undo"' clicked.html
	check "... screenshot of that page not blank either" nonblank done.png
	cp page.png "${top_builddir:-.}/web-confirm-screenshot.png" 2>/dev/null
	timeout 120 "$SYSPY" "$SRCDIR/tests/integration/chromium-click.py" "$CHROMIUM" \
		"$BASE/u/$T6" '#undo' done2.png undone.png > undone.html 2>>chromium.log
	check "the undo button works in the browser too" \
		[ "$(q "SELECT count(*) FROM suppressions WHERE email='l2@example.org'")" -eq 0 ]
else
	not_ok "chromium is not installed (scripts/install-deps installs it)"
fi
kill $WEB
wait $WEB 2>/dev/null

# ---- the inbox and the web suppress the same way -------------------------------
if command -v dovecot >/dev/null && start_dovecot "$WORK/dovecot"; then
	D=$WORK/dovecot
	cat >> candor.conf <<EOF
imap = { url = "imaps://127.0.0.1:$IMAPS_PORT"; username = "shop"; password_file = "$D/pw";
  mailbox = "Replies"; ca_file = "$D/cert.pem"; timeout = "10s"; };
EOF
	imap_tool append Replies
	cat > unsub.eml <<EOF
From: l3@example.org
To: feedback+u-$(tok L3)@shop.example
Subject: unsubscribe
Message-ID: <u-l3@example.org>

unsubscribe
EOF
	imap_tool append Replies unsub.eml
	"$CANDORD" -c candor.conf --once 2>>once.log
	new_port candor.conf
	"$CANDORD" -c candor.conf --web 2>web3.log &
	WEB=$!
	bg_started $WEB
	up "$BASE/healthz"
	code -X POST -d 'List-Unsubscribe=One-Click' "$BASE/u/$(tok L4)" >/dev/null
	kill $WEB
	wait $WEB 2>/dev/null
	same() {
		q "SELECT s.reason, (SELECT group_concat(e.kind) FROM events e WHERE e.message = m.id
		   AND e.kind NOT IN ('sending', 'sent')) FROM messages m JOIN suppressions s
		   ON s.email = m.recipient WHERE m.order_id = '$1'"
	}
	diag "by mail: $(same L3); on the web: $(same L4)"
	check "an unsubscribe by mail (Dovecot) is recorded" [ "$(same L3)" = "unsubscribed|unsubscribed" ]
	check "... exactly as one on the web: suppression reason and event" [ "$(same L3)" = "$(same L4)" ]
	q "INSERT INTO orders (order_id, email, delivered, status) VALUES
	   ('x3', 'l3@example.org', unixepoch('now', '-8 days'), 'delivered'),
	   ('x4', 'l4@example.org', unixepoch('now', '-8 days'), 'delivered')"
	"$CANDORD" -c candor.conf --once 2>>once.log
	check "... and neither address is mailed again" \
		[ "$(q "SELECT count(*) FROM messages WHERE order_id IN ('x3', 'x4')")" -eq 0 ]
else
	ok "# SKIP dovecot is not installed or would not start"
	ok "# SKIP dovecot"
	ok "# SKIP dovecot"
fi

done_testing
