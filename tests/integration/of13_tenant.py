#!/usr/bin/python3
"""of13_tenant.py: a tiny OpenFlow 1.3 tenant controller for tests.

Usage: of13_tenant.py PORT LOG

Listens on 127.0.0.1:PORT (mignetd dials it, as a switch dials its
controller), and on each connection: HELLO (version bitmap 1.3), answers
ECHO, asks FEATURES, then adds two flows -- the table-miss flow (priority
0, empty match, output CONTROLLER) and "in_port=1 -> output:2" (priority
100, cookie 0xab) -- sends one flow-mod outside the tenant's slice (table
1, which must come back as an OFPT_ERROR) and a BARRIER.  Every message
it receives is appended to LOG as one JSON line ({"type": N, "xid": X,
plus "datapath_id" for FEATURES_REPLY and "err_type"/"err_code" for
ERROR}).  Standard library only.
"""
import json
import socket
import struct
import sys

OFP_VERSION = 4
HELLO, ERROR, ECHO_REQ, ECHO_REP = 0, 1, 2, 3
FEATURES_REQ, FEATURES_REP, FLOW_MOD = 5, 6, 14
BARRIER_REQ, BARRIER_REP = 20, 21
OFPP_CONTROLLER = 0xfffffffd
OFPP_ANY = 0xffffffff
NO_BUFFER = 0xffffffff


def msg(mtype, xid, body=b""):
    return struct.pack("!BBHI", OFP_VERSION, mtype, 8 + len(body), xid) + body


def match(oxms=b""):
    """An OXM match padded to 8 bytes."""
    m = struct.pack("!HH", 1, 4 + len(oxms)) + oxms
    return m + b"\0" * (-len(m) % 8)


def in_port(port):
    return struct.pack("!II", 0x80000000 | 4, port)


def apply_output(port, max_len=0):
    action = struct.pack("!HHIH6x", 0, 16, port, max_len)
    return struct.pack("!HH4x", 4, 8 + len(action)) + action


def flow_mod(xid, priority, m, insts, table=0, cookie=0):
    body = struct.pack("!QQBBHHHIIIH2x", cookie, 0, table, 0, 0, 0,
                       priority, NO_BUFFER, OFPP_ANY, OFPP_ANY, 0)
    return msg(FLOW_MOD, xid, body + m + insts)


def session(conn, log):
    conn.sendall(msg(HELLO, 1, struct.pack("!HHI", 1, 8, 1 << OFP_VERSION)))
    conn.sendall(msg(FEATURES_REQ, 2))
    conn.sendall(flow_mod(3, 0, match(), apply_output(OFPP_CONTROLLER,
                                                      0xffff)))
    conn.sendall(flow_mod(4, 100, match(in_port(1)), apply_output(2),
                          cookie=0xab))
    conn.sendall(flow_mod(5, 10, match(), apply_output(1), table=1))
    conn.sendall(msg(BARRIER_REQ, 6))
    buf = b""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        buf += data
        while len(buf) >= 8:
            _, mtype, length, xid = struct.unpack("!BBHI", buf[:8])
            if length < 8:
                return
            if len(buf) < length:
                break
            body, buf = buf[8:length], buf[length:]
            rec = {"type": mtype, "xid": xid}
            if mtype == ECHO_REQ:
                conn.sendall(msg(ECHO_REP, xid, body))
            elif mtype == FEATURES_REP and len(body) >= 8:
                rec["datapath_id"] = struct.unpack("!Q", body[:8])[0]
            elif mtype == ERROR and len(body) >= 4:
                rec["err_type"], rec["err_code"] = struct.unpack(
                    "!HH", body[:4])
            log.write(json.dumps(rec) + "\n")
            log.flush()


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(4)
    with open(path, "a", encoding="utf-8") as log:
        while True:
            conn, _ = srv.accept()
            try:
                session(conn, log)
            except OSError:
                pass
            finally:
                conn.close()


if __name__ == "__main__":
    main()
