#!/usr/bin/python3
"""qmp.py: the smallest QMP client the QEMU end-to-end tests need (stdlib
only).  Runs QMP commands on a QEMU monitor socket and prints each return
as one JSON line, or follows a monitor and appends every event, with its
wall-clock time in ms ("ms", from QEMU's own timestamp), to a file.

  qmp.py SOCK 'NAME' 'NAME={"arg": 1}' ...   commands in order; exit 1 on
                                             the first error (printed)
  qmp.py SOCK --events FILE                  until QEMU closes the socket;
                                             on event E, runs the script
                                             FILE.on.E once if it exists
                                             (renamed FILE.on.E.fired)
"""
import json
import os
import socket
import subprocess
import sys
import time


def connect(path, wait_s=10.0):
    deadline = time.monotonic() + wait_s
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Monitor:
    def __init__(self, path):
        self.sock = connect(path)
        self.buf = b""
        greeting = self.read()
        if "QMP" not in greeting:
            raise RuntimeError("not a QMP monitor: %r" % greeting)

    def read(self):
        """The next JSON message, or None at EOF."""
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line) if line.strip() else self.read()

    def command(self, name, args=None, on_event=None):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self.read()
            if r is None:
                raise RuntimeError("monitor closed during %s" % name)
            if "event" in r:
                if on_event:
                    on_event(r)
                continue
            if "error" in r:
                raise RuntimeError("%s: %s" % (name, r["error"]))
            return r.get("return")


def event_line(ev):
    ts = ev.get("timestamp", {})
    ev["ms"] = ts.get("seconds", 0) * 1000 + ts.get("microseconds", 0) / 1000
    return json.dumps(ev, sort_keys=True)


def follow(path, out):
    mon = Monitor(path)
    with open(out, "a") as f:
        def write(ev):
            f.write(event_line(ev) + "\n")
            f.flush()
            hook = "%s.on.%s" % (out, ev.get("event"))
            try:
                os.rename(hook, hook + ".fired")
            except OSError:
                return
            subprocess.Popen(["/bin/sh", hook + ".fired"])
        mon.command("qmp_capabilities", on_event=write)
        f.write(json.dumps({"event": "_FOLLOWING",
                            "ms": time.time() * 1000}) + "\n")
        f.flush()
        while True:
            ev = mon.read()
            if ev is None:
                return 0
            if "event" in ev:
                write(ev)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    if argv[2] == "--events":
        if len(argv) != 4:
            sys.stderr.write(__doc__)
            return 2
        return follow(argv[1], argv[3])
    mon = Monitor(argv[1])
    mon.command("qmp_capabilities")
    for spec in argv[2:]:
        name, _, args = spec.partition("=")
        try:
            ret = mon.command(name, json.loads(args) if args else None)
        except (RuntimeError, ValueError) as e:
            sys.stderr.write("qmp: %s\n" % e)
            return 1
        print(json.dumps(ret, sort_keys=True))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, RuntimeError) as e:
        sys.stderr.write("qmp: %s\n" % e)
        sys.exit(1)
