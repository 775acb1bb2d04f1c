#!/usr/bin/env python3
"""abuse_client.py: the hostile clients of test_abuse_limits.sh.

Each subcommand plays one attack against a running mignetd on loopback
(a connection flood from one address, large bodies, trickling requests,
junk on the agent port, a forged log line) and prints one JSON object
with what it saw; the shell script asserts on it.  It only connects to
the addresses it is given.
"""
import json
import os
import resource
import select
import socket
import sys
import time


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, 65536), hard))


def connect_from(src, host, port, blocking=False):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, 0))
    s.setblocking(blocking)
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    return s


def http_request(host, port, method, path, body=None, timeout=5.0):
    """One request on a new connection: the whole answer (bytes)."""
    s = socket.create_connection((host, port), timeout=timeout)
    head = "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" % (
        method, path)
    if body is not None:
        head += ("Content-Type: application/json\r\nContent-Length: %d\r\n"
                 % len(body))
    s.sendall(head.encode() + b"\r\n" + (body or b""))
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data


def http_get(host, port, path):
    """One GET on a new connection: (status, seconds)."""
    t0 = time.monotonic()
    data = http_request(host, port, "GET", path)
    dt = time.monotonic() - t0
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, dt


def flood(host, port, src, n, seconds, probe_host, paths, n_probe):
    """Keeps n connections from src open (reconnecting what the server
    closes) for 'seconds'; meanwhile GETs 'paths' from probe_host."""
    raise_nofile()
    socks = {}
    opened = closed = 0

    def top_up():
        nonlocal opened
        while len(socks) < n:
            try:
                s = connect_from(src, host, port)
            except OSError:
                return
            socks[s.fileno()] = s
            opened += 1

    top_up()
    # The authenticated client runs in its own process, so the flood loop
    # does not slow it down.
    rfd, wfd = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(rfd)
        for s in socks.values():
            s.close()
        time.sleep(0.5)
        lat, statuses = [], []
        interval = max(0.01, (seconds - 1.5) / max(n_probe, 1))
        for i in range(n_probe):
            t = time.monotonic()
            try:
                st, dt = http_get(probe_host, port, paths[i % len(paths)])
            except OSError:
                st, dt = 0, 5.0
            statuses.append(st)
            lat.append(dt * 1000.0)
            time.sleep(max(0.0, interval - (time.monotonic() - t)))
        os.write(wfd, json.dumps([lat, statuses]).encode())
        os._exit(0)
    os.close(wfd)
    poller = select.poll()
    for fd in socks:
        poller.register(fd, select.POLLIN)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for fd, ev in poller.poll(20):
            s = socks.pop(fd, None)
            if s is None:
                continue
            poller.unregister(fd)
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if data:
                socks[fd] = s
                poller.register(fd, select.POLLIN)
                continue
            s.close()
            closed += 1
        if len(socks) < n:
            before = set(socks)
            top_up()
            for fd in set(socks) - before:
                poller.register(fd, select.POLLIN)
    out = b""
    while True:
        d = os.read(rfd, 65536)
        if not d:
            break
        out += d
    os.waitpid(child, 0)
    lat, statuses = json.loads(out)
    for s in socks.values():
        s.close()
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else None
    print(json.dumps({"opened": opened, "closed_by_server": closed,
                      "probes": len(lat),
                      "probes_ok": sum(1 for x in statuses if x == 200),
                      "p50_ms": lat[len(lat) // 2] if lat else None,
                      "p99_ms": p99}))


def bodies(host, port, srcs, n, size):
    """n connections (spread over srcs) each POST a 'size'-byte body."""
    raise_nofile()
    head = ("POST /v1/vms HTTP/1.1\r\nHost: x\r\nContent-Type: "
            "application/json\r\nContent-Length: %d\r\n\r\n" % size).encode()
    chunk = b"x" * 65536
    conns = []
    for i in range(n):
        s = connect_from(srcs[i % len(srcs)], host, port, blocking=True)
        s.settimeout(10)
        s.sendall(head)
        conns.append([s, 0, b""])
    # Send the bodies as far as the server takes them.
    for c in conns:
        c[0].setblocking(False)
    end = time.monotonic() + 15
    active = list(conns)
    while active and time.monotonic() < end:
        nxt = []
        for c in active:
            s = c[0]
            try:
                while c[1] < size:
                    c[1] += s.send(chunk[:min(len(chunk), size - c[1])])
            except BlockingIOError:
                nxt.append(c)
                continue
            except OSError:
                continue
        for c in conns:
            try:
                d = c[0].recv(4096)
                c[2] += d
            except (BlockingIOError, OSError):
                pass
        active = [c for c in nxt if not c[2]]
        time.sleep(0.01)
    answered = {}
    for c in conns:
        s = c[0]
        s.setblocking(True)
        s.settimeout(5)
        try:
            while True:
                d = s.recv(4096)
                if not d:
                    break
                c[2] += d
        except OSError:
            pass
        s.close()
        data = c[2]
        st = data.split(b" ", 2)[1].decode() if data.startswith(
            b"HTTP/") else "none"
        if st == "413" and b'"too_large"' not in data:
            st = "413-not-json"
        answered[st] = answered.get(st, 0) + 1
    print(json.dumps({"answers": answered,
                      "body_bytes_sent": sum(c[1] for c in conns)}))


def trickle(host, port, n, timeout_s):
    """n clients send a request one byte a second: seconds until each was
    closed by the server (or None when it never was)."""
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"y" * 200
    conns = [socket.create_connection((host, port)) for _ in range(n)]
    t0 = time.monotonic()
    closed_at = [None] * n
    sent = 0
    while time.monotonic() - t0 < timeout_s and None in closed_at:
        for i, s in enumerate(conns):
            if closed_at[i] is not None:
                continue
            try:
                s.send(req[sent:sent + 1])
            except OSError:
                closed_at[i] = time.monotonic() - t0
        sent += 1
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            live = [s for i, s in enumerate(conns) if closed_at[i] is None]
            if not live:
                break
            r, _, _ = select.select(live, [], [], deadline - time.monotonic())
            for s in r:
                i = conns.index(s)
                try:
                    d = s.recv(4096)
                except OSError:
                    d = b""
                if not d:
                    closed_at[i] = time.monotonic() - t0
    for s in conns:
        s.close()
    print(json.dumps({"closed_after_s": closed_at,
                      "bytes_sent_each": sent}))


def junk(host, port, n_lines):
    """Lines of an unknown type on the agent port before any hello: each
    is answered with an error and the session stays, so only a cap on its
    output closes it."""
    s = socket.create_connection((host, port), timeout=5)
    line = b'{"type":"no_such_type"}\n'
    sent = 0
    got = b""
    closed = False
    try:
        while sent < n_lines and not closed:
            s.sendall(line * 50)
            sent += 50
            while select.select([s], [], [], 0.01)[0]:
                d = s.recv(65536)
                if not d:
                    closed = True
                    break
                got += d
        s.settimeout(3)
        while not closed:
            d = s.recv(65536)
            if not d:
                closed = True
            got += d
    except socket.timeout:
        pass
    except OSError:
        closed = True
    s.close()
    print(json.dumps({"lines_sent": sent, "closed": closed,
                      "reply_bytes": len(got),
                      "reply_lines": got.count(b"\n")}))


def inject(host, port, rest_port):
    """A registered node's session sends an error whose message holds a
    newline and a whole forged log line."""
    body = json.dumps({"id": "inj", "address": "198.18.0.9"}).encode()
    data = http_request(host, rest_port, "POST", "/v1/nodes", body)
    answer = json.loads(data.split(b"\r\n\r\n", 1)[1] or b"{}")
    hello = {"type": "hello", "node": "inj", "proto": 1}
    if "token" in answer:
        hello["token"] = answer["token"]
    a = socket.create_connection((host, port), timeout=5)
    a.sendall((json.dumps(hello) + "\n").encode())
    welcome = a.recv(65536)
    forged = ("x\nts=2026-01-01T00:00:00.000Z level=error comp=core "
              "event=forged_line")
    a.sendall((json.dumps({"type": "error", "code": "bad",
                           "message": forged}) + "\n").encode())
    time.sleep(0.3)
    a.close()
    print(json.dumps({"welcomed": b'"welcome"' in welcome}))


def main():
    cmd = sys.argv[1]
    a = sys.argv[2:]
    if cmd == "flood":
        flood(a[0], int(a[1]), a[2], int(a[3]), float(a[4]), a[5],
              a[6].split(","), int(a[7]))
    elif cmd == "bodies":
        bodies(a[0], int(a[1]), a[2].split(","), int(a[3]), int(a[4]))
    elif cmd == "trickle":
        trickle(a[0], int(a[1]), int(a[2]), float(a[3]))
    elif cmd == "junk":
        junk(a[0], int(a[1]), int(a[2]))
    elif cmd == "inject":
        inject(a[0], int(a[1]), int(a[2]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
