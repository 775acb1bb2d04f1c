#!/usr/bin/env python3
"""fake_chan.py: a scripted mignetd agent channel for one agent session.

Listens on 127.0.0.1 (an ephemeral port, printed first), answers the
agent's hello with welcome and a resync holding the lines of the file
given with --resync (one instruction a line, seq numbers as written),
then, each time the file given with --send grows, sends its new lines
(a line "DROP" closes the session instead: the agent reconnects).
Every line the agent sends is appended to --log.  With --token, a hello
must carry that token (as mignetd checks it), else it is answered
'unauthorized' and the session closed.  A test stops it by PID.  Used by tests/integration/test_agent_activate.sh and
test_agent_relay_back.sh."""
import argparse
import json
import os
import select
import socket

ap = argparse.ArgumentParser()
ap.add_argument("--node", default="n1")
ap.add_argument("--resync", required=True)
ap.add_argument("--send", required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--token", default=None)
args = ap.parse_args()

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(4)
print(s.getsockname()[1], flush=True)

conn, buf, sent = None, b"", 0


def send(obj_or_line):
    line = obj_or_line if isinstance(obj_or_line, str) else json.dumps(
        obj_or_line, separators=(",", ":"))
    conn.sendall(line.encode() + b"\n")


while True:
    rd = [s] + ([conn] if conn else [])
    r, _, _ = select.select(rd, [], [], 0.05)
    if s in r:
        if conn:
            conn.close()
        conn, buf = s.accept()[0], b""
    if conn and conn in r:
        data = conn.recv(65536)
        if not data:
            conn.close()
            conn = None
            continue
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            with open(args.log, "ab") as f:
                f.write(line + b"\n")
            msg = json.loads(line)
            if msg.get("type") == "hello" and args.token is not None \
                    and msg.get("token") != args.token:
                send({"type": "error", "code": "unauthorized",
                      "message": "the token is not the node's"})
                conn.close()
                conn = None
                break
            if msg.get("type") == "hello":
                send({"type": "welcome", "node": args.node,
                      "map_version": 0, "heartbeat_ms": 60000})
                lines = [l for l in open(args.resync).read().splitlines()
                         if l.strip()]
                send({"type": "resync_begin", "seq": 0})
                for l in lines:
                    send(l)
                send({"type": "resync_end", "seq": len(lines)})
                sent = os.path.getsize(args.send)
    if conn and os.path.exists(args.send):
        size = os.path.getsize(args.send)
        if size > sent:
            with open(args.send) as f:
                f.seek(sent)
                for l in f.read().splitlines():
                    if l.strip() == "DROP":
                        conn.close()
                        conn = None
                        break
                    if l.strip():
                        send(l)
            sent = size
