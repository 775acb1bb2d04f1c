#!/usr/bin/env python3
"""fake_qmp.py: a scripted QEMU source (and optionally destination) QMP
server for test_mignet_qemu.sh: a test double, so each MIGRATION event
sequence can be played without a guest.

The source models a pre-copy: RAM 'remaining' falls by 16 MiB per 20 ms
tick while max-bandwidth is above 1000 B/s (QEMU makes no progress at a
few bytes/s) down to what the guest keeps dirtying (16 KiB); it stops the
VM and completes once the remaining RAM is small and downtime-limit is at
least 100 ms.  Scenarios: complete (that model), idle (a guest that dirties
nothing: completes as soon as the RAM is sent, whatever the downtime
limit), cancel and fail (end so 150 ms after setup), external (the
migration starts on its own 200 ms after the client enabled events),
running (a migration already active when the client connects; it
progresses once the client enabled events).  The
destination (--dst) sends RESUME after the source completed.  Every
command and event goes to --log, one line each."""
import argparse
import json
import os
import socket
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--src", required=True)
ap.add_argument("--dst")
ap.add_argument("--log", required=True)
ap.add_argument("--scenario", default="complete",
                choices=["complete", "idle", "cancel", "fail", "external",
                         "running"])
args = ap.parse_args()

MIB = 1 << 20
lock = threading.RLock()
st = {"status": "none", "remaining": 64 * MIB, "bw": 128 * MIB,
      "dt": 300, "events": False, "setup_at": None, "ended": False}
conns = {"src": None, "dst": None}


def log(line):
    with open(args.log, "a") as f:
        f.write(line + "\n")


def send(role, obj):
    c = conns[role]
    if c is not None:
        try:
            c.sendall((json.dumps(obj) + "\r\n").encode())
        except OSError:
            pass


def event(role, name, data=None):
    t = time.time()
    ev = {"event": name, "timestamp": {"seconds": int(t),
                                       "microseconds": int(t % 1 * 1e6)}}
    if data is not None:
        ev["data"] = data
    log("event %s %s%s" % (role, name,
                           " " + data["status"] if data else ""))
    send(role, ev)


def migration(status):
    st["status"] = status
    if st["events"]:
        event("src", "MIGRATION", {"status": status})


def start():
    st["setup_at"] = time.time()
    migration("setup")
    migration("active")


def complete():
    event("src", "STOP")
    st["remaining"] = 0
    migration("completed")
    st["ended"] = True
    event("dst", "RESUME")


def tick():
    """One 20 ms step of the model (called with the lock held)."""
    if st["status"] != "active" or st["ended"] or not st["events"]:
        return
    if args.scenario in ("cancel", "fail"):
        if time.time() - st["setup_at"] > 0.15:
            migration("cancelled" if args.scenario == "cancel" else "failed")
            st["ended"] = True
        return
    if st["bw"] > 1000:
        floor = 0 if args.scenario == "idle" else 16384
        st["remaining"] = max(st["remaining"] - 16 * MIB, floor)
        if st["remaining"] == 0 or (st["remaining"] <= 16384
                                    and st["dt"] >= 100):
            complete()


def ticker():
    while True:
        time.sleep(0.02)
        with lock:
            tick()


def answer(role, msg):
    cmd = msg.get("execute")
    a = msg.get("arguments", {})
    log("qmp %s %s %s" % (role, cmd, json.dumps(a, sort_keys=True)))
    ret = {}
    if cmd == "query-migrate-parameters":
        ret = {"max-bandwidth": st["bw"], "downtime-limit": st["dt"]}
    elif cmd == "migrate-set-parameters":
        st["bw"] = a.get("max-bandwidth", st["bw"])
        st["dt"] = a.get("downtime-limit", st["dt"])
    elif cmd == "migrate-set-capabilities":
        st["events"] = True
        if args.scenario == "external":
            threading.Timer(0.2, lambda: start_locked()).start()
    elif cmd == "query-migrate":
        ret = {"status": st["status"]}
        if st["status"] != "none":
            ret["ram"] = {"remaining": st["remaining"]}
        if st["status"] == "completed":
            ret["downtime"] = 3
    elif cmd == "migrate":
        send(role, {"return": {}})
        start()
        return
    elif cmd == "migrate_cancel":
        if st["status"] == "active":
            migration("cancelled")
            st["ended"] = True
    send(role, {"return": ret})


def start_locked():
    with lock:
        start()


def serve(role, path):
    if os.path.exists(path):
        os.unlink(path)
    ls = socket.socket(socket.AF_UNIX)
    ls.bind(path)
    ls.listen(1)
    c, _ = ls.accept()
    with lock:
        conns[role] = c
        send(role, {"QMP": {"version": {"qemu": {"major": 7, "minor": 2,
                                                 "micro": 0}},
                            "capabilities": ["oob"]}})
    buf = b""
    while True:
        d = c.recv(65536)
        if not d:
            break
        buf += d
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            with lock:
                answer(role, json.loads(line))
    with lock:
        conns[role] = None


if args.scenario == "running":
    st["status"] = "active"
    st["setup_at"] = time.time()
threading.Thread(target=ticker, daemon=True).start()
if args.dst:
    threading.Thread(target=serve, args=("dst", args.dst),
                     daemon=True).start()
serve("src", args.src)
