#!/usr/bin/env python3
# Open TCP connections from SRC to ADDR:80 as fast as possible for SECONDS,
# for the rate-limit test (tests/e2e/test_limits.sh).
#
#   usage: open_fast.py SRC ADDR SECONDS [INFLIGHT] [GAP_MS]
#
# Up to INFLIGHT (default 32) connects at once, each a fresh socket; one
# not answered within 0.3 s is abandoned before the kernel retransmits its
# SYN (at 1 s), so every SYN the balancer sees is a new flow. GAP_MS > 0:
# one connect at a time, GAP_MS apart (a polite client). Prints
# "attempts N accepted M interval_ms T": T from the first SYN to the last.
import errno
import selectors
import socket
import sys
import time

src, addr, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
inflight = int(sys.argv[4]) if len(sys.argv) > 4 else 32
gap = (int(sys.argv[5]) if len(sys.argv) > 5 else 0) / 1000.0
if gap:
    inflight = 1
WAIT = 0.3
sel = selectors.DefaultSelector()
attempts = accepted = 0
first = last = None
start = time.monotonic()
next_at = start
pending = {}


def launch(now):
    global attempts, first, last
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.bind((src, 0))
    err = s.connect_ex((addr, 80))
    if err not in (0, errno.EINPROGRESS):
        s.close()
        return
    attempts += 1
    first = now if first is None else first
    last = now
    pending[s] = now
    sel.register(s, selectors.EVENT_WRITE)


while True:
    now = time.monotonic()
    if now - start < seconds:
        while len(pending) < inflight and now >= next_at:
            launch(now)
            next_at = now + gap if gap else now
    elif not pending:
        break
    for key, _ in sel.select(timeout=0.01):
        s = key.fileobj
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            accepted += 1
        sel.unregister(s)
        del pending[s]
        s.close()
    now = time.monotonic()
    for s, t in list(pending.items()):
        if now - t > WAIT:
            sel.unregister(s)
            del pending[s]
            s.close()
    if now - start > seconds + 5:  # bounded whatever happens
        break
print("attempts %d accepted %d interval_ms %d" %
      (attempts, accepted, int(((last or 0) - (first or 0)) * 1000)))
