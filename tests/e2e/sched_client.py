#!/usr/bin/env python3
# HTTP clients for the scheduler suite (tests/e2e/test_sched.sh): each new
# connection is a new flow, and the backend that answered names itself
# (X-Backend: beN, scripts/topo.sh). Prints one JSON object at the end.
#
#   sched_client.py conns ADDR N [PATH] [PER_SECOND]
#       N connections one after the other (at most PER_SECOND a second):
#       {"be1": n, ..., "errors": e}
#   sched_client.py workers ADDR K SECONDS PATH PAUSE_MS SAMPLE_FILE
#       K threads, started over the first second, each looping until SECONDS:
#       connect, GET PATH, read it all, close, wait PAUSE_MS.
#       {"served": {"be1": n, ...}, "errors": e}.
#       While they run, every line "sample" appended to SAMPLE_FILE ("-":
#       none) is answered there with "busy be1 be1 - be2 ...": the backend
#       each worker is reading from.
#   sched_client.py hold ADDR K PATH STOP_FILE MAX_SECONDS
#       K keep-alive connections, each GETting PATH again and again until
#       STOP_FILE exists: {"on": {"be1": k, ...}, "bytes": b, "errors": e};
#       writes STOP_FILE.started once every connection has its first headers.
# Every connection has a 10 s timeout; every mode a deadline.
import json
import os
import socket
import sys
import threading
import time

TIMEOUT = 10
MAX_BODY = 64 << 20  # the suite's largest file is 4 MiB
FAILED = (OSError, KeyError, ValueError)  # a refused or cut connection, a bad answer


def request(path, keep=False):
    conn = b"keep-alive" if keep else b"close"
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: xlbt\r\nConnection: " + conn + b"\r\n\r\n"


def read_head(s, buf=b""):
    """A response's headers from s: (X-Backend, Content-Length, body bytes so far)."""
    while b"\r\n\r\n" not in buf:
        if len(buf) > 65536:
            raise OSError("headers too long")
        data = s.recv(65536)
        if not data:
            raise OSError("closed before the headers")
        buf += data
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 200"):
        raise OSError("status: " + lines[0])
    hdr = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdr[k.strip().lower()] = v.strip()
    length = int(hdr["content-length"])
    if not 0 <= length <= MAX_BODY:
        raise ValueError("content-length %d" % length)
    return hdr.get("x-backend", "?")[:16], length, body


def read_body(s, length, body):
    """The rest of a body of length bytes, of which body came with the headers: what follows it."""
    need = length - len(body)
    if need <= 0:
        return body[length:]
    while need > 0:
        data = s.recv(262144)
        if not data:
            raise OSError("closed with %d of %d bytes missing" % (need, length))
        if len(data) > need:
            return data[need:]
        need -= len(data)
    return b""


def one(addr, path, busy=None, slot=0):
    """A connection: GET path, read it all, close. The answering backend."""
    s = socket.create_connection((addr, 80), timeout=TIMEOUT)
    try:
        s.sendall(request(path))
        be, length, body = read_head(s)
        if busy is not None:
            busy[slot] = be
        read_body(s, length, body)
        return be
    finally:
        if busy is not None:
            busy[slot] = "-"
        s.close()


def count(d, k):
    d[k] = d.get(k, 0) + 1


def conns(addr, n, path="/", per_second=0.0):
    out = {"errors": 0}
    deadline = time.monotonic() + 120
    t0 = time.monotonic()
    for i in range(n):
        if time.monotonic() > deadline:
            out["errors"] += n - i
            break
        if per_second:
            wait = t0 + i / per_second - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        try:
            count(out, one(addr, path))
        except FAILED:
            out["errors"] += 1
    return out


def workers(addr, k, seconds, path, pause, sample_file):
    served, errors, lock = {}, [0], threading.Lock()
    busy = ["-"] * k
    end = time.monotonic() + seconds

    def loop(slot):
        time.sleep(slot / k)  # clients arrive over a second, not all at once
        while time.monotonic() < end:
            try:
                be = one(addr, path, busy, slot)
                with lock:
                    count(served, be)
            except FAILED:
                with lock:
                    errors[0] += 1
            if pause:
                time.sleep(pause)

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(k)]
    for t in threads:
        t.start()
    seen = 0
    while any(t.is_alive() for t in threads) and time.monotonic() < end + 2 * TIMEOUT:
        time.sleep(0.05)
        if sample_file == "-":
            continue
        try:
            with open(sample_file) as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        asks = lines.count("sample")
        if asks > seen:
            seen = asks
            with open(sample_file, "a") as f:
                f.write("busy " + " ".join(busy) + "\n")
    return {"served": served, "errors": errors[0]}


def hold(addr, k, path, stop_file, max_seconds):
    on, errors, total, lock = {}, [0], [0], threading.Lock()
    started = [0]
    end = time.monotonic() + max_seconds

    def loop():
        first = True
        try:
            s = socket.create_connection((addr, 80), timeout=TIMEOUT)
        except OSError:
            with lock:
                errors[0] += 1
                started[0] += 1
            return
        rest = b""
        try:
            while not os.path.exists(stop_file) and time.monotonic() < end:
                s.sendall(request(path, keep=True))
                be, n, body = read_head(s, rest)
                if first:
                    with lock:
                        count(on, be)
                        started[0] += 1
                    first = False
                rest = read_body(s, n, body)
                with lock:
                    total[0] += n
        except FAILED:
            with lock:
                errors[0] += 1
                if first:
                    started[0] += 1
        finally:
            s.close()

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(k)]
    for t in threads:
        t.start()
    marked = False
    while any(t.is_alive() for t in threads) and time.monotonic() < end + TIMEOUT:
        if not marked and started[0] == k:
            marked = True
            open(stop_file + ".started", "w").close()
        time.sleep(0.05)
    return {"on": on, "bytes": total[0], "errors": errors[0]}


def main(argv):
    mode, addr = argv[1], argv[2]
    if mode == "conns":
        out = conns(addr, int(argv[3]), argv[4] if len(argv) > 4 else "/",
                    float(argv[5]) if len(argv) > 5 else 0.0)
    elif mode == "workers":
        out = workers(addr, int(argv[3]), float(argv[4]), argv[5], float(argv[6]) / 1000, argv[7])
    elif mode == "hold":
        out = hold(addr, int(argv[3]), argv[4], argv[5], float(argv[6]))
    else:
        sys.exit("sched_client.py: unknown mode " + mode)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv)
