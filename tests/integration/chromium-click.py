#!/usr/bin/env python3
"""chromium-click.py - open a page in headless Chromium, screenshot it,
click an element with a real mouse event (the page runs no script), wait
for the next page, screenshot that and print its text.

Usage: chromium-click.py CHROMIUM URL SELECTOR BEFORE.png AFTER.png

Speaks the DevTools protocol over --remote-debugging-pipe (file
descriptors 3 and 4, NUL-terminated JSON), so it needs nothing beyond the
Python standard library and Debian's chromium.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time


class Browser:
    def __init__(self, chromium, profile):
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        # the child's fd 3 reads our commands, its fd 4 writes answers
        def fds():
            r, w = os.dup(to_child_r), os.dup(from_child_w)   # above 4
            os.dup2(r, 3)
            os.dup2(w, 4)
        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--remote-debugging-pipe", "--user-data-dir=" + profile,
             "--window-size=900,700", "--no-first-run", "--no-default-browser-check",
             "about:blank"],
            preexec_fn=fds, close_fds=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self.from_child, 1 << 16)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=None, timeout=90, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, name, session, timeout=90):
        deadline = time.time() + timeout
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == name and m.get("sessionId") == session:
                    del self.events[i]
                    return m
            self.events.append(self._read_message(deadline))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def screenshot(b, s, path):
    shot = b.call("Page.captureScreenshot", s, format="png")
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def main():
    chromium, url, selector, before, after = sys.argv[1:6]
    with tempfile.TemporaryDirectory() as profile:
        b = Browser(chromium, profile)
        try:
            target = b.call("Target.createTarget", url="about:blank")["targetId"]
            s = b.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            b.call("Page.enable", s)
            b.call("Page.navigate", s, url=url)
            b.wait_event("Page.loadEventFired", s)
            screenshot(b, s, before)
            doc = b.call("DOM.getDocument", s)["root"]["nodeId"]
            node = b.call("DOM.querySelector", s, nodeId=doc, selector=selector)["nodeId"]
            if not node:
                print("no element matches %s" % selector, file=sys.stderr)
                return 1
            quad = b.call("DOM.getBoxModel", s, nodeId=node)["model"]["content"]
            x = (quad[0] + quad[2]) / 2
            y = (quad[1] + quad[5]) / 2
            for kind in ("mousePressed", "mouseReleased"):
                b.call("Input.dispatchMouseEvent", s, type=kind, x=x, y=y, button="left",
                       clickCount=1)
            b.wait_event("Page.loadEventFired", s)
            screenshot(b, s, after)
            doc = b.call("DOM.getDocument", s)["root"]["nodeId"]
            html = b.call("DOM.getOuterHTML", s, nodeId=doc)["outerHTML"]
            print(html)
        finally:
            b.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
