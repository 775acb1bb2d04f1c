"""gw_relay.py: a stand-in gateway for the agent's map polls.

Listens on a free loopback port (printed first) and relays each request
to mignetd's REST (HOST PORT) and its answer back.  --hold FLAG: until
file FLAG exists, connections are accepted and never answered.
--trickle N: each answer goes back in N parts 0.1 s apart (a slow one)."""
import argparse
import os
import socket
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("host")
ap.add_argument("port", type=int)
ap.add_argument("--hold")
ap.add_argument("--trickle", type=int, default=1)
args = ap.parse_args()

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
held = []


def relay(c):
    req = b""
    while b"\r\n\r\n" not in req:
        d = c.recv(65536)
        if not d:
            c.close()
            return
        req += d
    u = socket.create_connection((args.host, args.port))
    u.sendall(req)
    ans = b""
    while True:
        d = u.recv(65536)
        if not d:
            break
        ans += d
    u.close()
    step = max(1, -(-len(ans) // args.trickle))
    try:
        for i in range(0, len(ans), step):
            c.sendall(ans[i:i + step])
            if args.trickle > 1:
                time.sleep(0.1)
    except OSError:
        pass
    c.close()


while True:
    c, _ = s.accept()
    if args.hold and not os.path.exists(args.hold):
        held.append(c)
    else:
        threading.Thread(target=relay, args=(c,), daemon=True).start()
