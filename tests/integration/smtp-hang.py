#!/usr/bin/python3
"""An SMTP server for candor's tests that misbehaves on purpose.

Usage: smtp-hang.py DIR [--hang STAGE] [--after N] [--delay SECONDS]
                        [--reset-in-data BYTES] [--rcvbuf BYTES]

Listens on 127.0.0.1 on a free port and writes it to DIR/port. Speaks
just enough SMTP for libcurl (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT).

--hang STAGE   stop answering - the connection stays open, nothing more is
               said - at STAGE: "greeting" (no banner), "mail", "rcpt",
               "data" (no 354), "dot" (the whole message and its final dot
               read, no reply) or "quit"; with --after N, only once N
               messages have been accepted.
--delay S      wait S seconds before accepting each message.
--reset-in-data BYTES
               after the 354, read BYTES of the message and reset the
               connection (RST), before any final dot.
--rcvbuf BYTES a small receive buffer, so a client cannot write a large
               message into the kernel ahead of the server.

DIR/events.log gets one line per event, "EPOCH-SECONDS CONN EVENT", the
events being connect, MAIL, RCPT, DATA, DOT, ACCEPT, HANG-<stage>,
RESET and QUIT. DIR/received.log gets "MESSAGE-ID<TAB>RECIPIENTS" per
accepted message. Runs until killed.
"""
import asyncio
import os
import re
import socket
import struct
import sys
import time


class Server:
    def __init__(self, out, hang=None, after=0, delay=0.0, reset=None):
        self.out = out
        self.hang = hang
        self.after = after
        self.delay = delay
        self.reset = reset
        self.accepted = 0
        self.conns = 0

    def event(self, conn, what):
        with open(os.path.join(self.out, "events.log"), "a") as f:
            f.write("%.3f %d %s\n" % (time.time(), conn, what))

    def hangs(self, stage):
        return self.hang == stage and self.accepted >= self.after

    async def stall(self, conn, stage, reader):
        self.event(conn, "HANG-" + stage)
        # say nothing more; read (and drop) whatever comes until the
        # client goes
        while await reader.read(65536):
            pass
        self.event(conn, "gone")

    async def handle(self, reader, writer):
        self.conns += 1
        conn = self.conns
        self.event(conn, "connect")
        try:
            await self.session(conn, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.event(conn, "gone")
        finally:
            try:
                writer.close()
            except Exception:
                pass

    async def session(self, conn, reader, writer):
        if self.hangs("greeting"):
            return await self.stall(conn, "greeting", reader)
        writer.write(b"220 hang.test ESMTP\r\n")
        await writer.drain()
        mail_from, rcpts = None, []
        while True:
            line = await reader.readline()
            if not line:
                self.event(conn, "gone")
                return
            cmd = line.decode("latin-1").strip()
            verb = cmd.split(" ", 1)[0].split(":", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                writer.write(b"250-hang.test\r\n250-8BITMIME\r\n250 SIZE 100000000\r\n")
            elif verb == "MAIL":
                self.event(conn, "MAIL")
                if self.hangs("mail"):
                    return await self.stall(conn, "mail", reader)
                mail_from, rcpts = cmd, []
                writer.write(b"250 2.1.0 Ok\r\n")
            elif verb == "RCPT":
                self.event(conn, "RCPT")
                if self.hangs("rcpt"):
                    return await self.stall(conn, "rcpt", reader)
                m = re.search(r"<([^>]*)>", cmd)
                rcpts.append(m.group(1) if m else cmd)
                writer.write(b"250 2.1.5 Ok\r\n")
            elif verb == "DATA":
                self.event(conn, "DATA")
                if self.hangs("data"):
                    return await self.stall(conn, "data", reader)
                writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                await writer.drain()
                if self.reset is not None:
                    await reader.readexactly(self.reset)
                    self.event(conn, "RESET")
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
                    sock.close()
                    return
                body = await reader.readuntil(b"\r\n.\r\n")
                self.event(conn, "DOT")
                if self.hangs("dot"):
                    return await self.stall(conn, "dot", reader)
                if self.delay:
                    await asyncio.sleep(self.delay)
                m = re.search(rb"(?im)^message-id:\s*(\S+)", body)
                self.accepted += 1
                with open(os.path.join(self.out, "received.log"), "a") as f:
                    f.write("%s\t%s\n" % (m.group(1).decode() if m else "-", ",".join(rcpts)))
                self.event(conn, "ACCEPT")
                writer.write(b"250 2.0.0 Ok: queued\r\n")
            elif verb == "RSET":
                mail_from, rcpts = None, []
                writer.write(b"250 2.0.0 Ok\r\n")
            elif verb == "NOOP":
                writer.write(b"250 2.0.0 Ok\r\n")
            elif verb == "QUIT":
                self.event(conn, "QUIT")
                if self.hangs("quit"):
                    return await self.stall(conn, "quit", reader)
                writer.write(b"221 2.0.0 Bye\r\n")
                await writer.drain()
                return
            else:
                writer.write(b"502 5.5.2 Error: command not recognized\r\n")
            await writer.drain()


async def main():
    out = sys.argv[1]
    args = sys.argv[2:]
    kw = {}
    rcvbuf = None
    while args:
        if args[0] == "--hang":
            kw["hang"] = args[1]
        elif args[0] == "--after":
            kw["after"] = int(args[1])
        elif args[0] == "--delay":
            kw["delay"] = float(args[1])
        elif args[0] == "--reset-in-data":
            kw["reset"] = int(args[1])
        elif args[0] == "--rcvbuf":
            rcvbuf = int(args[1])
        else:
            sys.exit("unknown argument " + args[0])
        args = args[2:]
    srv = Server(out, **kw)
    sock = socket.socket()
    if rcvbuf:
        # set before listen(): accepted sockets inherit it, and the window
        # the client sees stays small
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = await asyncio.start_server(srv.handle, sock=sock)
    with open(os.path.join(out, "port.tmp"), "w") as f:
        f.write("%d\n" % sock.getsockname()[1])
    os.rename(os.path.join(out, "port.tmp"), os.path.join(out, "port"))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
