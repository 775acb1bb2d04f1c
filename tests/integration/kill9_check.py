#!/usr/bin/env python3
"""kill9_check.py: judges test_kill9.sh's kill -9 cycles.

Reads the migrations, VMs and tasks mignetd holds after the cycles, the
migrations the load was answered 202 for, and the restart times, and
counts deletions run early (before a full delay after the later of the
switch to relaying and the last restart before the deletion: the restart
rule with no agent acknowledging) and changes lost (an answered migration
missing or different, a task or migration left unfinished).  Prints one
JSON line; exits 1 when anything is early or lost."""
import json
import sys


def main():
    migs = json.load(open(sys.argv[1]))       # [migration objects]
    accepted = [l.split() for l in open(sys.argv[2]) if l.strip()]
    restarts = sorted(int(l) for l in open(sys.argv[3]) if l.strip())
    tasks = json.load(open(sys.argv[4]))["tasks"]
    cycles = int(sys.argv[5])
    by_id = {m["id"]: m for m in migs}
    early, lost, returned, deleted = 0, 0, 0, 0
    problems = []
    for m in migs:
        x = m.get("cleaning_unix_ms")
        if m["phase"] not in ("cleaning", "cleaned"):
            lost += 1
            problems.append("migration %d left %s" % (m["id"], m["phase"]))
            continue
        deleted += 1
        # A VM that came back to this source before the deletion makes it
        # run at once (I4): not early.
        back = [o for o in migs if o["vm"] == m["vm"] and o["id"] > m["id"]
                and o["to"] == m["from"]
                and o["started_unix_ms"] <= x]
        if back:
            returned += 1
            continue
        last = max([r for r in restarts if r <= x] or [0])
        bound = max(m["relaying_unix_ms"], last) + m["delay_ms"]
        if x < bound:
            early += 1
            problems.append("migration %d deleted at %d, %d ms before %d"
                            % (m["id"], x, bound - x, bound))
    for mid, vm, to in accepted:
        m = by_id.get(int(mid))
        if not m or m["vm"] != vm or m["to"] != to:
            lost += 1
            problems.append("answered migration %s (%s -> %s) lost"
                            % (mid, vm, to))
    if tasks:
        lost += len(tasks)
        problems.append("%d tasks left" % len(tasks))
    print(json.dumps({"test": "kill9_cycles", "cycles": cycles,
                      "migrations": len(migs), "answered": len(accepted),
                      "deleted": deleted, "returned": returned,
                      "early": early, "lost": lost}))
    for p in problems[:20]:
        print(p, file=sys.stderr)
    return 1 if early or lost else 0


if __name__ == "__main__":
    sys.exit(main())
