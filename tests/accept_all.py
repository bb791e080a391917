# A TCP listener on port 80 of every local address that accepts and closes
# each connection: enough to pass a tcp health check.
#   usage: python3 accept_all.py BACKLOG
import socket
import sys

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80))
s.listen(int(sys.argv[1]))
while True:
    s.accept()[0].close()
