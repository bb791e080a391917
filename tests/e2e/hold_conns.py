#!/usr/bin/env python3
# Hold N keep-alive HTTP connections to ADDR:80 and change them on command,
# for the live-count test (tests/e2e/test_counts.sh).
#
#   usage: hold_conns.py ADDR N CONTROL STATUS [MAX_SECONDS]
#
# Every live connection sends a request each 0.5 s and reads the answers,
# so its flow stays established and fresh in the load balancer. Commands,
# one a line on the FIFO CONTROL:
#   close K  close K live connections (the client's FIN)
#   idle K   K live connections ask "Connection: close" once more and then
#            never send again nor close: nginx ends them (its FIN goes to
#            the client directly), the load balancer only sees them go quiet
#   quit     close everything and exit
# STATUS gets a line per event: "open N", "closed K", "idle K", and
# "errors E" when a live connection failed (E so far).
# Bounded: exits after MAX_SECONDS (default 300) whatever happens.
import os
import selectors
import socket
import sys
import time

addr, n, control, status = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
deadline = time.monotonic() + (int(sys.argv[5]) if len(sys.argv) > 5 else 300)
KEEP = b"GET / HTTP/1.1\r\nHost: xlbt\r\n\r\n"
LAST = b"GET / HTTP/1.1\r\nHost: xlbt\r\nConnection: close\r\n\r\n"
TICK = 0.5


def report(line):
    with open(status, "a") as f:
        f.write(line + "\n")


sel = selectors.DefaultSelector()
live, idle = [], {}  # idle: socket -> saw EOF
answered = set()
errors = 0


def drop(s):
    global errors
    errors += 1
    if s in live:
        live.remove(s)
    sel.unregister(s)
    s.close()


def on_read(s):
    try:
        data = s.recv(65536)
    except OSError:
        drop(s)
        return
    if s in idle:
        if not data:  # nginx closed it: hold the socket, never close it
            idle[s] = True
            sel.unregister(s)
        return
    if not data:  # a live connection must not end
        drop(s)
        return
    answered.add(s)


for i in range(n):
    s = socket.create_connection((addr, 80), timeout=5)
    s.setblocking(False)
    s.sendall(KEEP)
    live.append(s)
    sel.register(s, selectors.EVENT_READ)

fd = os.open(control, os.O_RDWR | os.O_NONBLOCK)  # RDWR: no EOF when writers come and go
sel.register(fd, selectors.EVENT_READ)
opened = False
reported_errors = 0
idle_wanted = 0
pending = b""
next_tick = time.monotonic() + TICK
while time.monotonic() < deadline:
    for key, _ in sel.select(timeout=max(0.0, next_tick - time.monotonic())):
        if key.fileobj != fd:
            on_read(key.fileobj)
            continue
        pending += os.read(fd, 4096)
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            cmd = line.decode().split()
            if not cmd:
                continue
            if cmd[0] == "quit":
                sys.exit(0)
            k = int(cmd[1])
            chosen, live[:] = live[:k], live[k:]
            for s in chosen:
                if cmd[0] == "close":
                    sel.unregister(s)
                    s.close()
                else:
                    idle[s] = False
                    s.sendall(LAST)
            if cmd[0] == "close":
                report("closed %d" % len(chosen))
            else:
                idle_wanted += len(chosen)
    if not opened and len(answered) == n:
        opened = True
        report("open %d" % n)
    if idle_wanted and sum(idle.values()) == idle_wanted:
        report("idle %d" % idle_wanted)
        idle_wanted = 0
    if time.monotonic() >= next_tick:
        next_tick += TICK
        for s in list(live):
            try:
                s.send(KEEP)
            except OSError:
                drop(s)
        if errors != reported_errors:
            reported_errors = errors
            report("errors %d" % errors)
