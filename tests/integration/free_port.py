#!/usr/bin/python3
"""free_port.py [LEDGER]: prints a TCP port free on 127.0.0.1.

The port is chosen below the kernel's ephemeral range, so no outgoing
connection of another process (curl, etcd's peers, a parallel test) can be
given it between this choice and the daemon's bind; it is checked with a
bind; and when LEDGER (a file) is given, a port already handed out through
the same ledger is never handed out again, so one test's daemons never
share a port.  Exits 1 when no port is found."""
import os
import random
import socket
import sys


def ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def main():
    ledger = sys.argv[1] if len(sys.argv) > 1 else None
    used = set()
    if ledger and os.path.exists(ledger):
        with open(ledger) as f:
            used = {line.strip() for line in f}
    hi = ephemeral_low() - 1
    lo = max(1024, hi - 12000)
    for _ in range(500):
        port = random.randint(lo, hi)
        if str(port) in used:
            continue
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            s.close()
        if ledger:
            with open(ledger, "a") as f:
                f.write("%d\n" % port)
        print(port)
        return 0
    print("free_port.py: no free port", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
