#!/usr/bin/env python3
# How long xlbd takes to answer "status" while it walks its connection
# tables, for tests/e2e/test_counts.sh:
#
#   usage: ctl_latency.py SOCK SECONDS
#
# Asks every 5 ms over one connection until a walk that started after the
# first answer is complete (two more walks), or SECONDS pass. Prints
# "walked 1 answers N max_ms X p99_ms Y walk_ms W entries E slices S
# max_slice_us U" (walked 0: no complete walk in time).
import json
import socket
import sys
import time

sock, seconds = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
f = s.makefile("rwb")
deadline = time.monotonic() + seconds
times, first, walk = [], None, {}
while time.monotonic() < deadline:
    t0 = time.monotonic()
    f.write(b'{"cmd":"status"}\n')
    f.flush()
    reply = json.loads(f.readline())
    times.append(time.monotonic() - t0)
    walk = reply["flow_walk"]
    if first is None:
        first = walk["walks"]
    if walk["walks"] >= first + 2:
        break
    time.sleep(0.005)
times.sort()
print("walked %d answers %d max_ms %.1f p99_ms %.1f walk_ms %d entries %d slices %d max_slice_us %d"
      % (walk["walks"] >= first + 2, len(times), times[-1] * 1e3,
         times[int(len(times) * 0.99)] * 1e3, walk["last_ms"], walk["last_entries"],
         walk["last_slices"], walk["last_max_slice_us"]))
