#!/usr/bin/env bash
# test_agent_relay_back.sh: a VM migrating back to a node that still
# relays its old snapshot, on a real Open vSwitch.  A scripted agent
# channel (fake_chan.py) holds vm1's snapshot at epoch 1 relaying to n2,
# then sends the inactive, watched install of epoch 3 (vm1 comes back):
# the relay flows must stay under the inactive copy and carry a stale
# local sender's frame, the old snapshot's delete must be refused and
# change nothing, a resync that rebuilds the same state must leave the
# relay flows untouched, a relay of epoch 1 must retarget them, and vm1's
# first frame must replace them by local delivery.  A private Open
# vSwitch (ovs_lib.sh); everything stopped by PID.
source "$(dirname "$0")/lib.sh"
SRC=${MIGNET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/integration/ovs_lib.sh"
. "$SRC/tests/integration/fake_chan_lib.sh"
ovs_require

chan_bed_start rbkA
ovs_vsctl add-port br-int vm1 -- set interface vm1 type=internal \
    -- add-port br-int vm2 -- set interface vm2 type=internal \
    -- add-port br-int vxlan0 -- set interface vxlan0 type=vxlan \
    options:remote_ip=flow options:key=flow
ip netns exec "$OVS_NS" ip link set vm1 up
ip netns exec "$OVS_NS" ip link set vm2 up
V1=$(ovs_vsctl get interface vm1 ofport)

CFG1='"mac":"02:00:00:00:00:01","ip":"198.18.1.1","vni":100'
CFG2='"mac":"02:00:00:00:00:02","ip":"198.18.1.2","vni":100'
SNAP='{"type":"install","seq":2,"vm":"vm1","epoch":1,'"$CFG1"'}
{"type":"relay","seq":3,"vm":"vm1","epoch":1,'"$CFG1"',"target":"n2","target_address":"198.18.0.2","target_epoch":2}'
BACK='"vm":"vm1","epoch":3,'"$CFG1"',"inactive":true,"activate_on_frame":true'
cat >"$T/resync" <<JSON
{"type":"install","seq":1,"vm":"vm2","epoch":1,$CFG2}
$SNAP
JSON
chan_agent_start

flows() {
    ovs-ofctl -O OpenFlow13 dump-flows "unix:$OVS_T/br-int.mgmt"
}
# relays TABLE ADDR: vm1's relay flow in TABLE tunnels to ADDR.
relays() {
    flows | grep "table=$1" | grep "dl_dst=02:00:00:00:00:01" |
        grep -q "set_field:$2->tun_dst"
}
both_relay() { relays 20 "$1" && relays 30 "$1"; }
delivers() { flows | grep "table=30" | grep -q "output:$1\b"; }
watched() {
    flows | grep -v "table=[1-9]" | grep "in_port=$1\b" |
        grep -q "actions=CONTROLLER:65535$"
}
acked() { grep -q "\"type\":\"ack\",\"seq\":$1}" "$T/chan.log"; }
# The packets vm1's table-20 relay flow carried.
relay_packets() {
    flows | grep "table=20" | grep "dl_dst=02:00:00:00:00:01" |
        grep -o "n_packets=[0-9]*" | cut -d= -f2
}
# A frame from vm2 (a local sender with a stale map) to vm1's MAC.
send_to_vm1() {
    ip netns exec "$OVS_NS" python3 - <<'PY'
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("vm2", 0))
dst = bytes.fromhex("020000000001")
src = bytes.fromhex("020000000002")
s.send(dst + src + b"\x08\x00" + b"\x00" * 46)
PY
}

ovs_wait "the resync acknowledged" acked 3
ovs_wait "vm1's snapshot relays to n2" both_relay 198.18.0.2

# vm1 migrates back: the inactive install of epoch 3.
echo "{\"type\":\"install\",\"seq\":4,$BACK}" >>"$T/send"
ovs_wait "the inactive install acknowledged" acked 4
ovs_wait "vm1's port watched" watched "$V1"
both_relay 198.18.0.2 || fail "the relay went with the inactive install"
delivers "$V1" && fail "the inactive copy is delivered to"
send_to_vm1
carried() { [ "$(relay_packets)" -ge 1 ]; }
ovs_wait "the relay carried vm2's frame" carried

# The old snapshot's pending deletion: refused, nothing changes.
echo '{"type":"delete","seq":5,"vm":"vm1","epoch":1,'"$CFG1"'}' \
    >>"$T/send"
ovs_wait "the delete acknowledged" acked 5
grep -q '"type":"refused","seq":5,"vm":"vm1","epoch":1,"held_epoch":3' \
    "$T/chan.log" || fail "the delete of epoch 1 was not refused"
both_relay 198.18.0.2 || fail "the refused delete removed the relay"

# A new session: the resync sends the snapshot, then the inactive
# install -- the same state, the relay flows untouched (their counters
# stay).
{
    cat "$T/resync"
    echo "{\"type\":\"install\",\"seq\":4,$BACK}"
} >"$T/resync.new"
mv "$T/resync.new" "$T/resync"
n_acks4() { grep -c '"type":"ack","seq":4}' "$T/chan.log" || true; }
echo DROP >>"$T/send"
resynced() { [ "$(n_acks4)" -ge 2 ]; }
ovs_wait "the second resync acknowledged" resynced
both_relay 198.18.0.2 || fail "the resync changed the relay"
[ "$(relay_packets)" -ge 1 ] || fail "the resync replaced the relay flow"
watched "$V1" || fail "the resync dropped the watch"

# A relay of epoch 1 retargets the inherited relay.
echo '{"type":"relay","seq":10,"vm":"vm1","epoch":1,'"$CFG1"',"target":"n3","target_address":"198.18.0.3","target_epoch":4}' \
    >>"$T/send"
ovs_wait "the retarget acknowledged" acked 10
ovs_wait "the relay retargeted to n3" both_relay 198.18.0.3
carried_n=$(relay_packets)

# vm1 resumes here: its RARP activates it, local delivery replaces the
# relay.
ovs_send_rarp vm1 02:00:00:00:00:01
ovs_wait "activated sent" grep -q \
    '{"type":"activated","vm":"vm1","epoch":3}' "$T/chan.log"
delivers "$V1" || fail "activated, but vm1 is not delivered to"
both_relay 198.18.0.3 && fail "the relay stayed after the activation"
relays 20 198.18.0.2 && fail "an old relay flow stayed"
echo "PASS: vm1's relay stayed under its inactive copy (carried" \
    "$carried_n frame(s)), survived a refused delete and a resync," \
    "was retargeted, and gave way to local delivery at the activation"
