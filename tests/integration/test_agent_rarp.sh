#!/usr/bin/env bash
# test_agent_rarp.sh: a `rarp` switch-over through the real pieces --
# mignetd, two mignet-agents with --ovsdb, one private Open vSwitch with a
# bridge per node (br-a for n1, br-b for n2).  vm1 has an iface_id (an
# interface UUID, as libvirt sets it); it runs on n1 on port "vnet-a1"
# and its destination port on n2 is "tap-b1", both with that iface-id
# (one Open vSwitch: each agent must take the one on its own bridge).
# The migration is `prepared` with no delivery on n2; a RARP
# from tap-b1 makes n2's agent activate at once and report `activated`,
# and mignetd switches over (activated_unix_ms set, relaying or later).
# A forged `activated` (wrong epoch, unknown VM) is answered with an error
# and changes nothing.  The RARP comes while mignetd's disk is slow
# (slow_disk.c: each fsync 400 ms): the source's relay must not wait for
# the commit -- from the frame at n2's agent to the relay confirmed on n1
# well under one fsync -- and the disk must have been that slow.
# Everything stopped by PID.
source "$(dirname "$0")/lib.sh"
SRC=${MIGNET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/integration/ovs_lib.sh"
ovs_require

ovs_start rarpA
trap ovs_and_lib_cleanup EXIT
ip netns exec "$OVS_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1
ovs_add_bridge br-a
ovs_add_bridge br-b
IFID=3c5d1e2f-8a9b-4c0d-9e1f-2a3b4c5d6e7f
ovs_vsctl add-port br-a vnet-a1 -- set interface vnet-a1 type=internal \
        external_ids:iface-id=$IFID \
    -- add-port br-b tap-b1 -- set interface tap-b1 type=internal \
        external_ids:iface-id=$IFID
ip netns exec "$OVS_NS" ip link set tap-b1 up
A1=$(ovs_vsctl get interface vnet-a1 ofport)
B1=$(ovs_vsctl get interface tap-b1 ofport)

# mignetd on a disk made slow just before the RARP (slow_disk.c).
SLOW_MS=400
MIGNET_SLOW_DISK_FLAG=$T/slow_disk \
    LD_PRELOAD=$MIGNET_BUILD_DIR/slow_disk.so \
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
    start_mignetd rarp --heartbeat-ms 1000 --log-level debug
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":500}'
ok POST /v1/nodes 201 '{"id":"n2","address":"198.18.0.2","refresh_ms":500}'
ok POST /v1/nodes 201 '{"id":"n3","address":"198.18.0.3","refresh_ms":500}'
ok POST /v1/vms 201 '{"id":"vm1","mac":"02:00:00:00:00:01",
    "ip":"198.18.1.1","vni":100,"node":"n1","iface_id":"'"$IFID"'"}'
for n in 1 2; do
    br=br-$(tr 12 ab <<<"$n")
    "$MIGNET_BUILD_DIR/mignet-agent" --node "n$n" --token-file "$T/token-n$n" \
        --ofp "unix:$OVS_T/$br.mgmt" --ovsdb "unix:$OVS_T/db.sock" \
        --controller "$AGENT_ADDR" --gateway "$URL" --refresh-ms 200 \
        --log-level debug >"$T/agent$n.out" 2>>"$T/agent$n.log" &
    PIDS+=("$!")
done

flows_of() {
    ovs-ofctl -O OpenFlow13 --no-stats dump-flows "unix:$OVS_T/$1.mgmt"
}
flows_b() { flows_of br-b; }
delivers_a1() { flows_of br-a | grep "table=20" | grep -q "output:$A1\b"; }
delivers_b1() { flows_b | grep "table=20" | grep -q "output:$B1\b"; }
watched_b1() {
    flows_b | grep -v "table=[1-9]" | grep "in_port=$B1\b" |
        grep -q "actions=CONTROLLER:65535$"
}
phase() { api GET /v1/migrations/1; json .phase; }
is_phase() { [ "$(phase)" = "$1" ]; }
switched() {
    api GET /v1/migrations/1
    [ "$(json .activated_unix_ms)" != null ] &&
        grep -qE '^(relaying|cleaning|cleaned)$' <<<"$(json .phase)"
}
eventually "both agents connected" grep -q event=registered "$T/rarp.log"
OVS_WAIT_BR=br-a ovs_wait "n1 delivers vm1 to vnet-a1 (its iface-id)" \
    delivers_a1

ok POST /v1/vms/vm1/migrate 202 '{"to":"n2","switchover":"rarp"}'
EPOCH=$(json .epoch)
eventually "prepared (n2 confirmed its inactive copy)" is_phase prepared
eventually "tap-b1 watched on n2" watched_b1
delivers_b1 && fail "n2 delivers to vm1 before its activation"

# A report from n3 (authenticated, but no migration to it: forbidden)
# and one about no VM: errors, no switch-over.
python3 - "${AGENT_ADDR%:*}" "${AGENT_ADDR##*:}" "$EPOCH" "$(token n3)" \
    >"$T/forged" <<'PY'
import json, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
f = s.makefile("rwb")
def send(o):
    f.write(json.dumps(o).encode() + b"\n"); f.flush()
send({"type": "hello", "node": "n3", "proto": 1, "token": sys.argv[4]})
send({"type": "activated", "vm": "vm1", "epoch": int(sys.argv[3])})
send({"type": "activated", "vm": "nosuch", "epoch": 1})
errors = []
while len(errors) < 2:
    m = json.loads(f.readline())
    if m["type"] == "error":
        errors.append(m["code"])
print(" ".join(errors))
PY
[ "$(cat "$T/forged")" = "forbidden unknown_vm" ] ||
    fail "forged reports answered: $(cat "$T/forged")"
[ "$(phase)" = prepared ] || fail "a forged report moved the migration"

# QEMU's announce from the destination's port, on a slow disk.
echo "$SLOW_MS" >"$T/slow_disk"
ovs_send_rarp tap-b1 02:00:00:00:00:01
eventually "switched over on the RARP" switched
rm -f "$T/slow_disk"
delivers_b1 || fail "n2 does not deliver to tap-b1 after the activation"
grep -q "event=activated node=n2 vm=vm1 epoch=$EPOCH result=ok" \
    "$T/rarp.log" || fail "mignetd did not log the activation"
# How long from the frame at the agent to the report at mignetd (the
# flows' barrier in between), from the two logs' timestamps.
ts_of() { grep -m1 "$1" "$2" | sed 's/^ts=\([^ ]*\) .*/\1/'; }
# ms_between T0 T1 [DIGITS]: T1 - T0 in ms, rounded.
ms_between() {
    python3 - "$@" <<'PY'
import sys
from datetime import datetime
t = [datetime.strptime(a, "%Y-%m-%dT%H:%M:%S.%fZ") for a in sys.argv[1:3]]
d = (t[1] - t[0]).total_seconds() * 1000
print(round(d, int(sys.argv[3])) if len(sys.argv) > 3 else round(d))
PY
}
frame_to_core_ms=$(ms_between "$(ts_of event=activated_on_frame \
    "$T/agent2.log")" "$(ts_of "event=activated node=n2" "$T/rarp.log")" 1)
# The relay: frame at n2's agent -> relay confirmed by n1's barrier, with
# each commit taking SLOW_MS (were it held for the commit, >= SLOW_MS).
relay_seq=$(grep -m1 "event=instruction kind=relay node=n1 vm=vm1" \
    "$T/rarp.log" | sed -n 's/.* seq=\([0-9]*\).*/\1/p')
[ -n "$relay_seq" ] || fail "mignetd logged no relay to n1"
eventually "n1 confirmed the relay" grep -q \
    "event=instruction_confirmed node=n1 seq=$relay_seq " "$T/agent1.log"
frame_to_relay_ms=$(ms_between "$(ts_of event=activated_on_frame \
    "$T/agent2.log")" "$(ts_of "event=instruction_confirmed node=n1 \
seq=$relay_seq " "$T/agent1.log")")
[ "$frame_to_relay_ms" -lt $((SLOW_MS / 2)) ] ||
    fail "the relay waited for the commit: frame -> relay on n1" \
        "$frame_to_relay_ms ms, one fsync $SLOW_MS ms"
# ... and the disk was slow then: a commit over 0.25 s.
curl -sf "$URL/metrics" >"$T/metrics" || fail "GET /metrics"
bucket() {
    sed -n "s/^mignet_store_commit_seconds_bucket{le=\"$1\"} //p" \
        "$T/metrics"
}
[ "$(bucket 0.25)" -lt "$(bucket +Inf)" ] ||
    fail "no commit slower than 0.25 s: the slow disk was not in effect"
grep -q "comp=store event=commit_slow ms=[0-9]" "$T/rarp.log" ||
    fail "mignetd did not log its slow commits"
api GET /v1/migrations/1
echo "PASS: rarp switch-over on the destination's RARP: phase" \
    "$(json .phase); frame at n2's agent -> activated at mignetd" \
    "$frame_to_core_ms ms; -> relay confirmed on n1 $frame_to_relay_ms ms" \
    "(one fsync: $SLOW_MS ms)"
