#!/usr/bin/env bash
# test_agent_activate.sh: activation on the VM's first frame, on a real
# Open vSwitch.  A scripted agent channel (fake_chan.py) holds vm1 on n1
# inactive with activate_on_frame; the agent must install no delivery
# for it and watch its port; a RARP (QEMU's announce) sent from vm1's
# port must make the agent deliver to vm1 at once, drop the watch, and
# send `activated {vm1, 5}` exactly once; a new channel session re-sends
# it (its resync still says inactive: the activation sticks) until an
# install without activate_on_frame arrives.  Then an inactive
# copy is deleted (an abort): its watch goes.  A private Open vSwitch
# (ovs_lib.sh); everything stopped by PID.
source "$(dirname "$0")/lib.sh"
SRC=${MIGNET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/integration/ovs_lib.sh"
. "$SRC/tests/integration/fake_chan_lib.sh"
ovs_require

chan_bed_start actA
ovs_vsctl add-port br-int vm1 -- set interface vm1 type=internal \
    -- add-port br-int vm2 -- set interface vm2 type=internal
ip netns exec "$OVS_NS" ip link set vm1 up
V1=$(ovs_vsctl get interface vm1 ofport)
V2=$(ovs_vsctl get interface vm2 ofport)

CFG1='"mac":"02:00:00:00:00:01","ip":"198.18.1.1","vni":100'
CFG2='"mac":"02:00:00:00:00:02","ip":"198.18.1.2","vni":100'
cat >"$T/resync" <<JSON
{"type":"install","seq":1,"vm":"vm1","epoch":5,$CFG1,"inactive":true,"activate_on_frame":true}
{"type":"install","seq":2,"vm":"vm2","epoch":3,$CFG2,"inactive":true,"activate_on_frame":true}
JSON
MPORT=$(free_port)
chan_agent_start --metrics "127.0.0.1:$MPORT"

flows() {
    ovs-ofctl -O OpenFlow13 --no-stats dump-flows "unix:$OVS_T/br-int.mgmt"
}
# table0 PORT: the table-0 flow (ovs-ofctl leaves out "table=0") on PORT.
table0() { flows | grep -v "table=[1-9]" | grep "in_port=$1\b"; }
# Delivery from local senders (table 20): an inactive copy takes only what
# the overlay brings (table 30), which nobody sends before the switch-over.
delivers() { flows | grep "table=20" | grep -q "output:$1\b"; }
n_activated() { grep -c '"type":"activated"' "$T/chan.log" || true; }
watched() { table0 "$1" | grep -q "actions=CONTROLLER:65535$"; }

ovs_wait "vm1's port watched" watched "$V1"
ovs_wait "the resync acknowledged" grep -q '"type":"ack","seq":2' \
    "$T/chan.log"
delivers "$V1" && fail "inactive vm1 is delivered to"
delivers "$V2" && fail "inactive vm2 is delivered to"
flows | grep "table=30" | grep -q "output:$V1\b" \
    || fail "inactive vm1 does not take what the overlay brings"
table0 "$V1" | grep -q goto_table && fail "inactive vm1's port is classified"
[ "$(n_activated)" = 0 ] || fail "activated before any frame"

# QEMU's announce: a RARP from vm1's MAC on vm1's port.
ovs_send_rarp vm1 02:00:00:00:00:01
ovs_wait "activated sent" grep -q \
    '{"type":"activated","vm":"vm1","epoch":5}' "$T/chan.log"
delivers "$V1" || fail "activated, but vm1 is not delivered to"
table0 "$V1" | grep -q "goto_table:10" || fail "vm1's port not classified"
watched "$V1" && fail "the watch stayed after the activation"
watched "$V2" || fail "vm2's watch went too"
grep -q "event=activated_on_frame node=n1 vm=vm1 epoch=5 port=$V1" \
    "$T/agent.log" || fail "no activation logged"
sleep 0.3
[ "$(n_activated)" = 1 ] || fail "activated sent $(n_activated) times"

# A new session (mignetd closed it): the resync still says inactive --
# the activation sticks, and the agent re-sends it until an install
# without activate_on_frame comes.
echo DROP >>"$T/send"
resent() { [ "$(n_activated)" -ge 2 ]; }
ovs_wait "activated re-sent after the reconnection" resent
delivers "$V1" || fail "vm1 lost its delivery over the reconnection"
echo '{"type":"install","seq":3,"vm":"vm1","epoch":5,'"$CFG1"'}' >>"$T/send"
ovs_wait "the switch-over install acknowledged" grep -q \
    '"type":"ack","seq":3' "$T/chan.log"

# Abort of vm2's inactive copy: its watch goes.
echo '{"type":"delete","seq":4,"vm":"vm2","epoch":3,'"$CFG2"'}' >>"$T/send"
ovs_wait "the delete acknowledged" grep -q '"type":"ack","seq":4' \
    "$T/chan.log"
watched "$V2" && fail "the aborted copy's watch stayed"
[ -z "$(table0 "$V2")" ] || fail "vm2's port still has a flow"
metric() {
    curl -sf --max-time 5 "http://127.0.0.1:$MPORT/metrics" |
        awk -v n="mignet_agent_$1" '$1 == n { print $2 }'
}
[ "$(metric activations_total)" = 1 ] || fail "activations_total"
[ "$(metric activated_sent_total)" = "$(n_activated)" ] ||
    fail "activated_sent_total $(metric activated_sent_total)"
[ "$(metric activation_punts_total)" -ge 1 ] || fail "no punt counted"
echo "PASS: vm1 activated on its RARP (port $V1), reported" \
    "$(n_activated) times (once per session), vm2's copy aborted"
