#!/usr/bin/env python3
"""An application server of the L4+L7 site (scripts/site.sh).

Names itself in every reply (body and X-App header) and counts the
requests that reach it, so a test sees which app answered and whether a
proxy's cache kept a request away:
  GET /hits     the count so far, not counted itself
  GET /big      2 MiB of text (a large, compressible reply)
  GET anything  a page of about 8 KiB naming this app and the path
Pages are the same for the same app and path, and cacheable for 60 s.

usage: site_app.py NAME ADDR PORT
"""
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME, ADDR, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
hits = 0
lock = threading.Lock()


BIG = "".join(f"line {i:07d} of a large reply from {NAME}\n" for i in range(2 * 1024 * 1024 // 40))


def page(path):
    head = f"{NAME} {ADDR}: {path}\n"
    if path == "/big":
        return head + BIG
    return head + "".join(f"line {i:03d} of a page from {NAME}\n" for i in range(256))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive with the proxies

    def do_GET(self):
        global hits
        if self.path == "/hits":
            with lock:
                body = f"{hits}\n"
            cache = "no-store"
        else:
            with lock:
                hits += 1
            body = page(self.path[:200])
            cache = "public, max-age=60"
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", cache)
        self.send_header("X-App", NAME)
        self.end_headers()
        self.wfile.write(data)


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
