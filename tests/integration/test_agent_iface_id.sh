#!/usr/bin/env bash
# test_agent_iface_id.sh: mignet-agent with --ovsdb finds a VM's port by
# Open vSwitch's external_ids:iface-id (as libvirt and OpenStack set it),
# not by its name.  A private Open vSwitch (ovs_lib.sh) whose bridge has
# a port "tap-a1" with iface-id vm1 and a port named "vm2" with none; real
# mignetd places vm1 and vm2 on n1; the agent must deliver vm1 to tap-a1
# and vm2 to the port named vm2 (the fallback), then follow the iface-id
# when it moves to another port at run time (the OVSDB monitor's update).
# Everything is stopped by PID.
source "$(dirname "$0")/lib.sh"
SRC=${MIGNET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/integration/ovs_lib.sh"
ovs_require

ovs_start ifidA
trap ovs_and_lib_cleanup EXIT
ovs_add_bridge br-int
OVS_WAIT_BR=br-int
ovs_vsctl add-port br-int tap-a1 -- set interface tap-a1 type=internal \
        external_ids:iface-id=vm1 \
    -- add-port br-int tap-a2 -- set interface tap-a2 type=internal \
    -- add-port br-int vm2 -- set interface vm2 type=internal
port_of() { ovs_vsctl get interface "$1" ofport; }

start_mignetd ifid --heartbeat-ms 1000
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":500}'
ok POST /v1/vms 201 '{"id":"vm1","mac":"02:00:00:00:00:01",
    "ip":"198.18.1.1","vni":100,"node":"n1"}'
ok POST /v1/vms 201 '{"id":"vm2","mac":"02:00:00:00:00:02",
    "ip":"198.18.1.2","vni":100,"node":"n1"}'
"$MIGNET_BUILD_DIR/mignet-agent" --node n1 --token-file "$T/token-n1" \
    --ofp "unix:$OVS_T/br-int.mgmt" --ovsdb "unix:$OVS_T/db.sock" \
    --controller "$AGENT_ADDR" --gateway "$URL" --refresh-ms 200 \
    --log-level debug >"$T/agent.out" 2>>"$T/agent.log" &
PIDS+=("$!")

flows() {
    ovs-ofctl -O OpenFlow13 --no-stats dump-flows "unix:$OVS_T/br-int.mgmt"
}
# delivers MAC PORT: table 30 delivers MAC to PORT; classifies PORT:
# table 0 takes PORT's traffic into the pipeline.
delivers() {
    flows | grep "table=30" | grep "dl_dst=$1" | grep -q "output:$2\b"
}
classifies() {
    # ovs-ofctl leaves out "table=0".
    flows | grep -v "table=[1-9]" | grep "in_port=$1\b" \
        | grep -q "goto_table:10"
}

A1=$(port_of tap-a1) A2=$(port_of tap-a2) V2=$(port_of vm2)
ovs_wait "vm1 delivered to tap-a1 (iface-id vm1)" \
    delivers 02:00:00:00:00:01 "$A1"
classifies "$A1" || fail "tap-a1's traffic is not classified"
ovs_wait "vm2 delivered to the port named vm2" \
    delivers 02:00:00:00:00:02 "$V2"
classifies "$A2" && fail "tap-a2 (no iface-id) is classified"
grep -q "event=ovsdb_connected" "$T/agent.log" || fail "no ovsdb connection"

# The iface-id moves to tap-a2 (a new port for the VM): the flows follow.
ovs_vsctl remove interface tap-a1 external_ids iface-id \
    -- set interface tap-a2 external_ids:iface-id=vm1
ovs_wait "vm1 delivered to tap-a2 after the move" \
    delivers 02:00:00:00:00:01 "$A2"
classifies "$A1" && fail "tap-a1 still classified after the move"
classifies "$A2" || fail "tap-a2 not classified after the move"
echo "PASS: iface-id ports: vm1 on tap-a1 ($A1) then tap-a2 ($A2)," \
    "vm2 by name ($V2)"
