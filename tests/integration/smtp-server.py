#!/usr/bin/python3
"""A recording SMTP server for candor's tests, on Python's aiosmtpd.

Usage: smtp-server.py DIR [--tls CERT KEY | --smtps CERT KEY] [--auth USER:PASSWORD]
                        [--delay SECONDS]

Listens on 127.0.0.1 on a free port and writes it to DIR/port. Every
message received is appended to DIR/received.log as one line
"MESSAGE-ID<TAB>RECIPIENTS<TAB>PEER-PORT<TAB>AUTH-USER<TAB>TLS<TAB>MAIL-FROM"
and its bytes saved as DIR/msg-N.eml. With --tls, STARTTLS is offered and
required; with --smtps, TLS starts with the connection; with --auth, AUTH
(PLAIN, LOGIN) is required, over TLS only. With --delay, each message
waits that long after its final dot before it is recorded and accepted
(a slower server, so a test's kills land mid-transfer).
Runs until killed.
"""
import asyncio
import email
import email.policy
import os
import ssl
import sys
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Recorder:
    def __init__(self, out, smtps=False, delay=0.0):
        self.out = out
        self.n = 0
        self.smtps = smtps
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        self.n += 1
        data = envelope.content
        msg = email.message_from_bytes(data, policy=email.policy.compat32)
        mid = (msg.get("Message-ID") or "-").strip()
        path = os.path.join(self.out, "msg-%d.eml" % self.n)
        with open(path, "wb") as f:
            f.write(data)
        user = getattr(session, "candor_user", "-")
        with open(os.path.join(self.out, "received.log"), "a") as f:
            f.write("%s\t%s\t%s\t%s\t%s\t%s\n" % (mid, ",".join(envelope.rcpt_tos),
                                                session.peer[1], user,
                                                "tls" if session.ssl or self.smtps else "plain",
                                                envelope.mail_from))
            f.flush()
        return "250 2.0.0 Ok: queued as %d" % self.n


def main():
    warnings.simplefilter("ignore", DeprecationWarning)
    out = sys.argv[1]
    args = sys.argv[2:]
    tls = None
    smtps = None
    auth = None
    delay = 0.0
    while args:
        if args[0] == "--tls":
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(args[1], args[2])
            args = args[3:]
        elif args[0] == "--smtps":
            smtps = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            smtps.load_cert_chain(args[1], args[2])
            args = args[3:]
        elif args[0] == "--auth":
            auth = args[1].split(":", 1)
            args = args[2:]
        elif args[0] == "--delay":
            delay = float(args[1])
            args = args[2:]
        else:
            sys.exit("unknown argument " + args[0])

    def authenticator(server, session, envelope, mechanism, data):
        ok = (isinstance(data, LoginPassword) and auth is not None and
              data.login.decode() == auth[0] and data.password.decode() == auth[1])
        if ok:
            session.candor_user = auth[0]
        return AuthResult(success=ok, handled=False)

    kw = {}
    if tls:
        kw.update(tls_context=tls, require_starttls=True)
    if smtps:
        kw.update(ssl_context=smtps)
    if auth:
        # aiosmtpd 1.4 does not count implicit TLS as TLS for AUTH; the
        # connection is encrypted from the first byte all the same
        kw.update(authenticator=authenticator, auth_required=True,
                  auth_require_tls=tls is not None)
    # a free port (aiosmtpd's start-up check cannot use port 0)
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ctl = Controller(Recorder(out, smtps is not None, delay), hostname="127.0.0.1", port=port,
                     **kw)
    ctl.start()
    with open(os.path.join(out, "port.tmp"), "w") as f:
        f.write("%d\n" % port)
    os.rename(os.path.join(out, "port.tmp"), os.path.join(out, "port"))
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        ctl.stop()


if __name__ == "__main__":
    main()
