#!/usr/bin/python3
"""imap-tool.py - the test harness's own IMAP client (Python's imaplib):
put mails into the Dovecot the tests start, and look at what candor left.

  imap-tool.py PORT USER PASSWORD append MAILBOX FILE...
  imap-tool.py PORT USER PASSWORD recreate MAILBOX   (new UIDVALIDITY)
  imap-tool.py PORT USER PASSWORD flags MAILBOX      (one "UID FLAGS" line each)
  imap-tool.py PORT USER PASSWORD count MAILBOX
"""
import imaplib
import ssl
import sys
import time


def main():
    port, user, password, cmd, box = sys.argv[1:6]
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    m = imaplib.IMAP4_SSL("127.0.0.1", int(port), ssl_context=ctx)
    m.login(user, password)
    if cmd == "append":
        m.create(box)
        for path in sys.argv[6:]:
            with open(path, "rb") as f:
                data = f.read()
            typ, resp = m.append(box, None, imaplib.Time2Internaldate(time.time()), data)
            if typ != "OK":
                sys.exit("APPEND %s: %s" % (path, resp))
    elif cmd == "recreate":
        m.delete(box)
        typ, resp = m.create(box)
        if typ != "OK":
            sys.exit("CREATE: %s" % resp)
    elif cmd == "flags":
        m.select(box, readonly=True)
        typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
        for line in data:
            if line:
                print(line.decode())
    elif cmd == "count":
        typ, data = m.select(box, readonly=True)
        print(int(data[0]) if typ == "OK" else -1)
    m.logout()


if __name__ == "__main__":
    main()
