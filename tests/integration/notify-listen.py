#!/usr/bin/env python3
"""Listen on an sd_notify datagram socket and log each message, one
datagram per line with newlines shown as '|', until killed. This is the
real protocol systemd speaks: AF_UNIX SOCK_DGRAM."""
import os
import socket
import sys

path, log = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(log, "a", buffering=1) as out:
    out.write("listening\n")
    while True:
        data = s.recv(4096)
        out.write(data.decode("utf-8", "replace").replace("\n", "|") + "\n")
