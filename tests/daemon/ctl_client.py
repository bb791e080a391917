#!/usr/bin/env python3
# Control-socket clients that misbehave on purpose, for test_daemon.sh:
#
#   ctl_client.py halfclose SOCK PID N
#       send N status requests, shut down the sending side and do not read
#       for 2 s; print the CPU seconds xlbd (PID) used meanwhile, then read
#       and print how many replies arrive: "cpu 0.01 replies N"
#   ctl_client.py idle SOCK DEADLINE
#       one connection that sends nothing, another that asks for status
#       every 0.5 s; print after how many seconds xlbd closed the silent one
#       (or "never" by DEADLINE s) and whether the other is still served:
#       "closed 5.4 served yes"
#   ctl_client.py crowd SOCK N CMD...
#       N connections, each served one status request and then left idle;
#       while they are held, run CMD (at most 5 s) and print how many of
#       the N were served and CMD's exit code and time: "held 64 rc 0 in 0.01"
#   ctl_client.py trickle SOCK SECONDS
#       send one status request a byte at a time over SECONDS; print whether
#       it was answered: "served yes"
#   ctl_client.py evict SOCK N
#       a root client asks once, then a non-root process (uid 65534) opens N
#       connections; print whether the root client is still served after
#       them: "served yes"
import json
import os
import select
import socket
import subprocess
import sys
import time


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime, fields 14 and 15 of the whole line
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def read_lines(s, want, deadline):
    buf = b""
    while buf.count(b"\n") < want and time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], max(0, deadline - time.monotonic()))
        if not r:
            break
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf.split(b"\n")[: buf.count(b"\n")]


def halfclose(path, pid, n):
    s = connect(path)
    s.sendall(b'{"cmd":"status"}\n' * n)
    s.shutdown(socket.SHUT_WR)
    before = cpu_seconds(pid)
    time.sleep(2)  # the slow reader: what is measured is xlbd meanwhile
    used = cpu_seconds(pid) - before
    lines = read_lines(s, n, time.monotonic() + 10)
    ok = sum(1 for line in lines if json.loads(line).get("ok") is True)
    print(f"cpu {used:.2f} replies {ok}")


def idle(path, deadline_s):
    silent = connect(path)
    busy = connect(path)
    start = time.monotonic()
    deadline = start + deadline_s
    closed = None
    while time.monotonic() < deadline:
        r, _, _ = select.select([silent], [], [], 0.5)
        if r and silent.recv(1) == b"":
            closed = time.monotonic() - start
            break
        busy.sendall(b'{"cmd":"status"}\n')
        if not read_lines(busy, 1, time.monotonic() + 5):
            print("closed early served no")
            return
    busy.sendall(b'{"cmd":"status"}\n')
    served = bool(read_lines(busy, 1, time.monotonic() + 5))
    when = f"{closed:.1f}" if closed is not None else "never"
    print(f"closed {when} served {'yes' if served else 'no'}")


def crowd(path, n, cmd):
    held = []
    for _ in range(n):
        try:
            s = connect(path)
            s.sendall(b'{"cmd":"status"}\n')
            if read_lines(s, 1, time.monotonic() + 5):
                held.append(s)
        except OSError:  # turned away: not held
            pass
    start = time.monotonic()
    try:
        rc = subprocess.run(cmd, timeout=5, stdout=subprocess.DEVNULL).returncode
    except subprocess.TimeoutExpired:
        rc = "timeout"
    print(f"held {len(held)} rc {rc} in {time.monotonic() - start:.2f}")


def trickle(path, seconds):
    req = b'{"cmd":"status"}\n'
    s = connect(path)
    gap = seconds / len(req)
    for i in range(len(req)):
        try:
            s.sendall(req[i:i + 1])
        except OSError:
            break
        time.sleep(gap)  # the slow typist itself, not a wait for a condition
    served = any(json.loads(line).get("ok") for line in read_lines(s, 1, time.monotonic() + 5))
    print(f"served {'yes' if served else 'no'}")


def evict(path, n):
    root = connect(path)
    root.sendall(b'{"cmd":"status"}\n')
    read_lines(root, 1, time.monotonic() + 5)
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child == 0:
        os.setgid(65534)
        os.setuid(65534)
        held = []
        for _ in range(n):
            try:
                held.append(connect(path))
            except OSError:
                pass
        os.write(ready_w, b"x")
        time.sleep(5)  # hold them while the parent asks; killed before
        os._exit(0)
    os.read(ready_r, 1)
    try:
        root.sendall(b'{"cmd":"status"}\n')
        served = bool(read_lines(root, 1, time.monotonic() + 5))
    except OSError:
        served = False
    os.kill(child, 9)
    os.waitpid(child, 0)
    print(f"served {'yes' if served else 'no'}")


if __name__ == "__main__":
    if sys.argv[1] == "halfclose":
        halfclose(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "idle":
        idle(sys.argv[2], float(sys.argv[3]))
    elif sys.argv[1] == "crowd":
        crowd(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    elif sys.argv[1] == "trickle":
        trickle(sys.argv[2], float(sys.argv[3]))
    elif sys.argv[1] == "evict":
        evict(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(f"usage: {sys.argv[0]} halfclose SOCK PID N | idle SOCK DEADLINE | crowd SOCK N CMD... | trickle SOCK SECONDS | evict SOCK N")
