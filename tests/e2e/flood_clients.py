#!/usr/bin/env python3
"""Connections that see only their handshake before the flood (test_flood.sh).

usage: flood_clients.py ADDR PORT N PATH GO_FILE OUT_FILE TIMEOUT

Opens N TCP connections to ADDR:PORT and prints "connected N". Once
GO_FILE exists, sends each one "GET PATH" and reads the answer to its
end. Writes one line per connection to OUT_FILE:
"STATUS BODY_BYTES SHA256 BACKEND ERROR" ("-" where there is none).
Everything is bounded by TIMEOUT seconds.
"""
import hashlib
import os
import selectors
import socket
import sys
import time


def main():
    addr, port, n, path, go, out, timeout = sys.argv[1:8]
    port, n, end = int(port), int(n), time.monotonic() + float(timeout)
    conns = []
    for _ in range(n):
        s = socket.create_connection((addr, port), timeout=5)
        conns.append(s)
    print("connected", len(conns), flush=True)
    while not os.path.exists(go):
        if time.monotonic() > end:
            sys.exit("flood_clients: no go before the timeout")
        time.sleep(0.05)

    sel = selectors.DefaultSelector()
    state = {}
    req = f"GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n".encode()
    for i, s in enumerate(conns):
        s.sendall(req)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
        state[i] = {"buf": b"", "err": "-"}
    left = len(conns)
    while left and time.monotonic() < end:
        for key, _ in sel.select(timeout=0.5):
            st = state[key.data]
            try:
                chunk = key.fileobj.recv(65536)
            except OSError as e:
                chunk, st["err"] = b"", type(e).__name__
            if chunk:
                st["buf"] += chunk
                continue
            sel.unregister(key.fileobj)
            key.fileobj.close()
            left -= 1
    with open(out, "w") as f:
        for i in range(len(conns)):
            buf, err = state[i]["buf"], state[i]["err"]
            head, _, body = buf.partition(b"\r\n\r\n")
            lines = head.decode(errors="replace").split("\r\n")
            status = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "-"
            backend = next((l.split(":", 1)[1].strip() for l in lines[1:]
                            if l.lower().startswith("x-backend:")), "-")
            if err == "-" and i in [k.data for k in sel.get_map().values()]:
                err = "timeout"
            f.write(f"{status} {len(body)} {hashlib.sha256(body).hexdigest()} {backend} {err}\n")


if __name__ == "__main__":
    main()
