#!/usr/bin/env python3
"""fake_mignetd.py: a stand-in for mignetd's migration endpoints, for
test_mignet_qemu.sh only (a test double: the lifecycle's real answers are
tested against mignetd itself).

Answers POST /v1/vms/ID/migrate, POST /v1/migrations/ID/switchover|abort
and GET /v1/migrations/ID with the contract's phases (preparing for the
first --prepare-polls GETs, then prepared; relaying from the second GET
after a switch-over; aborted after an abort), and appends one line per call
to --log ("http METHOD PATH BODY").  Writes its port to --port-file."""
import argparse
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--log", required=True)
ap.add_argument("--port-file", required=True)
ap.add_argument("--prepare-polls", type=int, default=2)
ap.add_argument("--refuse-migrate", action="store_true")
ap.add_argument("--never-confirm", action="store_true")
args = ap.parse_args()

lock = threading.Lock()
migs = {}


def log(line):
    with lock, open(args.log, "a") as f:
        f.write(line + "\n")


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def view(self, mid):
        m = migs[mid]
        return {"id": mid, "vm": m["vm"], "to": m["to"], "phase": m["phase"],
                "switchover": m["mode"]}

    def do_GET(self):
        log("http GET %s" % self.path)
        g = re.fullmatch(r"/v1/migrations/(\d+)", self.path)
        if not g or int(g.group(1)) not in migs:
            return self.answer(404, {"error": "unknown_migration"})
        mid = int(g.group(1))
        with lock:
            m = migs[mid]
            m["gets"] += 1
            if m["phase"] == "preparing" and m["gets"] > args.prepare_polls:
                m["phase"] = "prepared"
            elif m["phase"] == "switching":
                m["phase"] = "prepared_switching"
            elif (m["phase"] == "prepared_switching"
                  and not args.never_confirm):
                m["phase"] = "relaying"
        v = self.view(mid)
        if v["phase"] in ("switching", "prepared_switching"):
            v["phase"] = "prepared"
        return self.answer(200, v)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        log("http POST %s %s" % (self.path, body))
        g = re.fullmatch(r"/v1/vms/([^/]+)/migrate", self.path)
        if g:
            if args.refuse_migrate:
                return self.answer(409, {"error": "migration_in_progress"})
            req = json.loads(body)
            with lock:
                mid = len(migs) + 7
                migs[mid] = {"vm": g.group(1), "to": req["to"],
                             "mode": req.get("switchover", "now"),
                             "phase": "preparing", "gets": 0}
            v = self.view(mid)
            v["migration"] = mid
            return self.answer(201, v)
        g = re.fullmatch(r"/v1/migrations/(\d+)/(switchover|abort)",
                         self.path)
        if not g or int(g.group(1)) not in migs:
            return self.answer(404, {"error": "unknown_migration"})
        mid = int(g.group(1))
        with lock:
            m = migs[mid]
            if g.group(2) == "abort":
                m["phase"] = "aborted"
            elif m["phase"] in ("preparing", "prepared"):
                m["phase"] = "switching"
        return self.answer(200, self.view(mid))


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os  # noqa: E402
os.rename(args.port_file + ".tmp", args.port_file)
srv.serve_forever()
