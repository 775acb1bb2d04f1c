#!/usr/bin/env bash
# test_agent_vnet.sh: a tenant virtual switch on a real Open vSwitch
# (docs/dataplane.md "Tenant virtual switches", docs/agent-protocol.md
# vnet_*).  A scripted agent channel (fake_chan.py) holds vm1 and vm2 on
# n1 and pushes switch vs1 (VNI 100, tenant ports 1 = vm1, 2 = vm2):
# tenant flow 1 sends what enters at port 1 to port 2, flow 2 sends what
# enters at port 2 to the controller.  The agent must install the
# dispatch (table 20), the tenant flows (table 40) and the directed
# delivery (table 30) and acknowledge the push after its barrier; a frame
# from vm1 must reach vm2 (and nothing else), a frame from vm2 must come
# back as vnet_packet_in {port 2, id 2}; a vnet_packet_out to port 1 must
# reach vm1; the counters come every --vnet-stats-ms (a port's tx: what
# Open vSwitch delivered to its VM's interface since); one more tenant
# flow costs one flow_mod, and so does changing one of 1,000; a full push
# deletes what it does not list; a flow that does not decode is nacked; the
# flip to version 1 moves the dispatch to table 41; vnet_drop of version
# 0 sends its final counters, then deletes its flows and is acknowledged.
# A private Open vSwitch (ovs_lib.sh); everything stopped by PID.
source "$(dirname "$0")/lib.sh"
SRC=${MIGNET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/integration/ovs_lib.sh"
. "$SRC/tests/integration/fake_chan_lib.sh"
ovs_require

chan_bed_start vnet
ovs_vsctl add-port br-int vm1 -- set interface vm1 type=internal \
    -- add-port br-int vm2 -- set interface vm2 type=internal
# No IPv6 chatter: the frames at each port are the test's alone.
for v in vm1 vm2; do
    ip netns exec "$OVS_NS" sysctl -qw "net.ipv6.conf.$v.disable_ipv6=1"
    ip netns exec "$OVS_NS" ip link set "$v" up
done
V1=$(ovs_vsctl get interface vm1 ofport)
V2=$(ovs_vsctl get interface vm2 ofport)

CFG1='"mac":"02:00:00:00:01:01","ip":"198.18.1.1","vni":100'
CFG2='"mac":"02:00:00:00:01:02","ip":"198.18.1.2","vni":100'
cat >"$T/resync" <<JSON
{"type":"install","seq":1,"vm":"vm1","epoch":1,$CFG1}
{"type":"install","seq":2,"vm":"vm2","epoch":1,$CFG2}
JSON
MPORT=$(free_port)
chan_agent_start --vnet-stats-ms 200 --metrics "127.0.0.1:$MPORT"
ovs_wait "the resync acknowledged" grep -q '"type":"ack","seq":2' \
    "$T/chan.log"

# The hex of an OpenFlow 1.3 FLOW_MOD (ADD, table 0): priority PRIO,
# in_port IN (0: any), table_id TABLE, apply-actions output to each PORT
# (max_len 0xffff).
flow_hex() {
    python3 - "$@" <<'PY'
import struct, sys
prio, in_port, table = (int(x, 0) for x in sys.argv[1:4])
ports = [int(x, 0) for x in sys.argv[4:]]
oxm = struct.pack("!II", 0x80000004, in_port) if in_port else b""
match = struct.pack("!HH", 1, 4 + len(oxm)) + oxm
match += b"\0" * (-len(match) % 8)
acts = b"".join(struct.pack("!HHIH6x", 0, 16, p, 0xffff) for p in ports)
insts = struct.pack("!HH4x", 4, 8 + len(acts)) + acts if ports else b""
body = struct.pack("!QQBBHHHIIIH2x", 0, 0, table, 0, 0, 0, prio,
                   0xffffffff, 0xffffffff, 0xffffffff, 0) + match + insts
print((struct.pack("!BBHI", 4, 14, 8 + len(body), 7) + body).hex())
PY
}
# A UDP frame from VM $1 (1 or 2) to VM $2 on vm$1's port.
send_frame() {
    ip netns exec "$OVS_NS" python3 - "$1" "$2" <<'PY'
import socket, struct, sys
a, b = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("vm%d" % a, 0))
payload = b"mignet-vnet-test"
udp = struct.pack("!HHHH", 4000, 5000, 8 + len(payload), 0) + payload
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                 bytes([198, 18, 1, a]), bytes([198, 18, 1, b]))
eth = bytes([2, 0, 0, 0, 1, b]) + bytes([2, 0, 0, 0, 1, a]) + b"\x08\x00"
s.send(eth + ip + udp)
PY
}
# What Open vSwitch sent out of VM $1's port.
rx() {
    ovs-ofctl -O OpenFlow13 dump-ports "unix:$OVS_T/br-int.mgmt" \
        "$(ovs_vsctl get interface "$1" ofport)" |
        sed -n 's/.*tx pkts=\([0-9]*\).*/\1/p'
}
# VM $1's port sent more than $2 packets (evaluated at every try).
rx_above() { [ "$(rx "$1")" -gt "$2" ]; }
flows() {
    ovs-ofctl -O OpenFlow13 --no-stats dump-flows "unix:$OVS_T/br-int.mgmt"
}
push() { printf '%s\n' "$@" >>"$T/send"; }
# mignetd's vnet module numbers its pushes from 2^62 (never an
# instruction's seq): each is acknowledged exactly.
S=4611686018427387904
acked() { grep -q "\"type\":\"ack\",\"seq\":$1\b" "$T/chan.log"; }
VS='"vswitch":"vs1"'
# Port tx counts from here: what the interfaces had before is not the
# switch's (the agent reads a base before its first flows).
sleep 0.3
base1=$(rx vm1)
base2=$(rx vm2)

push "{\"type\":\"vnet_begin\",$VS,\"vni\":100,\"active\":0,\"seq\":$((S + 3)),\"full\":true}" \
    "{\"type\":\"vnet_port\",$VS,\"port\":1,\"vm\":\"vm1\",\"key\":15728641}" \
    "{\"type\":\"vnet_port\",$VS,\"port\":2,\"vm\":\"vm2\",\"key\":15728642}" \
    "{\"type\":\"vnet_flow\",$VS,\"id\":1,\"version\":0,\"ofp\":\"$(flow_hex 10 1 0 2)\"}" \
    "{\"type\":\"vnet_flow\",$VS,\"id\":2,\"version\":0,\"ofp\":\"$(flow_hex 10 2 0 0xfffffffd)\"}" \
    "{\"type\":\"vnet_end\",$VS,\"seq\":$((S + 3))}"
ovs_wait "the push acknowledged" acked $((S + 3))
F=$(flows)
echo "$F" | grep "table=20" | grep "priority=400" | grep "in_port=$V1" |
    grep -q "write_metadata:0x1,goto_table:40" || fail "no dispatch of port 1"
echo "$F" | grep "table=20" | grep "priority=400" | grep "in_port=$V2" |
    grep -q "write_metadata:0x2,goto_table:40" || fail "no dispatch of port 2"
echo "$F" | grep "table=40" | grep "metadata=0x1/0xffffffff" |
    grep -q "actions=output:$V2" || fail "tenant flow 1 not compiled"
echo "$F" | grep "table=40" | grep "metadata=0x2/0xffffffff" |
    grep -q "actions=CONTROLLER:65535" || fail "tenant flow 2 not compiled"
echo "$F" | grep "table=30" | grep "priority=250" | grep "tun_id=0xf00001" |
    grep -q "actions=output:$V1" || fail "no directed delivery to port 1"
[ "$(echo "$F" | grep -c "table=4[01]")" = 2 ] || fail "tenant flows: $F"

# A frame from vm1 reaches vm2 through tenant flow 1.
r2=$(rx vm2)
r1=$(rx vm1)
send_frame 1 2
ovs_wait "vm1's frame at vm2" rx_above vm2 "$r2"
sleep 0.2
[ "$(rx vm1)" = "$r1" ] || fail "vm1 got a frame back"
grep -q vnet_packet_in "$T/chan.log" && fail "a packet-in for flow 1"

# A frame from vm2 goes to the tenant's controller.
send_frame 2 1
ovs_wait "vnet_packet_in" grep -q \
    '"type":"vnet_packet_in","vswitch":"vs1","port":2,"id":2,"version":0' \
    "$T/chan.log"
grep '"type":"vnet_packet_in"' "$T/chan.log" | grep -q \
    '"frame":"020000000101020000000102080045' || fail "packet-in frame"

# A packet-out to tenant port 1 reaches vm1.
r1=$(rx vm1)
push "{\"type\":\"vnet_packet_out\",$VS,\"port\":1,\"frame\":\"020000000101020000000102080045000014000100004011000000c6120102c6120101\"}"
ovs_wait "the packet-out at vm1" rx_above vm1 "$r1"

# Counters: tenant flow 1 for port 1, and port 1's rx, come by themselves.
ovs_wait "vnet_fstat of flow 1" grep -q \
    '"type":"vnet_fstat","vswitch":"vs1","id":1,"version":0,"port":1,"packets":1,' \
    "$T/chan.log"
ovs_wait "vnet_pstat of port 1" grep -q \
    '"type":"vnet_pstat","vswitch":"vs1","port":1,"packets":1,' \
    "$T/chan.log"
grep -q '"type":"vnet_stats_end","vswitch":"vs1","seq":0}' "$T/chan.log" ||
    fail "no periodic vnet_stats_end"
# Each port's tx is what Open vSwitch delivered to its VM's interface
# since the switch began: vm1 the packet-out, vm2 vm1's frame.
last_ptx() {
    grep -o "\"type\":\"vnet_ptx\",\"vswitch\":\"vs1\",\"port\":$1,\"packets\":[0-9]*" \
        "$T/chan.log" | tail -n 1 | sed 's/.*://'
}
ptx_is_ovs() {
    [ "$(last_ptx 1)" = $(($(rx vm1) - base1)) ] &&
        [ "$(last_ptx 2)" = $(($(rx vm2) - base2)) ]
}
ovs_wait "vnet_ptx equal to the interfaces' tx" ptx_is_ovs
[ "$(last_ptx 1)" -ge 1 ] && [ "$(last_ptx 2)" -ge 1 ] ||
    fail "port tx: $(last_ptx 1) $(last_ptx 2)"

# One tenant flow more costs one flow_mod (an upsert push).
push "{\"type\":\"vnet_begin\",$VS,\"vni\":100,\"active\":0,\"seq\":$((S + 4))}" \
    "{\"type\":\"vnet_port\",$VS,\"port\":1,\"vm\":\"vm1\",\"key\":15728641}" \
    "{\"type\":\"vnet_port\",$VS,\"port\":2,\"vm\":\"vm2\",\"key\":15728642}" \
    "{\"type\":\"vnet_flow\",$VS,\"id\":3,\"version\":0,\"ofp\":\"$(flow_hex 5 1 0 0xfffffff8)\"}" \
    "{\"type\":\"vnet_end\",$VS,\"seq\":$((S + 4))}"
ovs_wait "the upsert acknowledged" acked $((S + 4))
grep -q "event=flows_synced node=n1 added=1 modified=0 deleted=0" \
    "$T/agent.log" || fail "the upsert was not one flow_mod"
flows | grep "table=40" | grep "priority=5" | grep -q "actions=IN_PORT" ||
    fail "tenant flow 3 (IN_PORT) not compiled"

# 1,000 tenant flows in one push, then one of them changed: one flow_mod.
t0=$(date +%s%3N)
python3 - "$S" >>"$T/send" <<'PY'
import struct, sys
seq = int(sys.argv[1]) + 10
vs = '"vswitch":"vs1"'
def flow_hex(prio, in_port, udp_dst, port):
    oxm = struct.pack("!II", 0x80000004, in_port)
    oxm += struct.pack("!IH", 0x80000a02, 0x0800)
    oxm += struct.pack("!IB", 0x80001401, 17)
    oxm += struct.pack("!IH", 0x80001e02, udp_dst)
    match = struct.pack("!HH", 1, 4 + len(oxm)) + oxm
    match += b"\0" * (-len(match) % 8)
    acts = struct.pack("!HHIH6x", 0, 16, port, 0)
    insts = struct.pack("!HH4x", 4, 8 + len(acts)) + acts
    body = struct.pack("!QQBBHHHIIIH2x", 0, 0, 0, 0, 0, 0, prio,
                       0xffffffff, 0xffffffff, 0xffffffff, 0) + match + insts
    return (struct.pack("!BBHI", 4, 14, 8 + len(body), 7) + body).hex()
print('{"type":"vnet_begin",%s,"vni":100,"active":0,"seq":%d}' % (vs, seq))
print('{"type":"vnet_port",%s,"port":1,"vm":"vm1","key":15728641}' % vs)
print('{"type":"vnet_port",%s,"port":2,"vm":"vm2","key":15728642}' % vs)
for i in range(1000):
    print('{"type":"vnet_flow",%s,"id":%d,"version":0,"ofp":"%s"}'
          % (vs, 100 + i, flow_hex(20, 1, 10000 + i, 2)))
print('{"type":"vnet_end",%s,"seq":%d}' % (vs, seq))
PY
ovs_wait "1,000 tenant flows acknowledged" acked $((S + 10))
push_ms=$(( $(date +%s%3N) - t0 ))
[ "$(flows | grep -c "table=40")" = 1003 ] || fail "not 1,003 tenant flows"
push "{\"type\":\"vnet_begin\",$VS,\"vni\":100,\"active\":0,\"seq\":$((S + 11))}" \
    "{\"type\":\"vnet_port\",$VS,\"port\":1,\"vm\":\"vm1\",\"key\":15728641}" \
    "{\"type\":\"vnet_port\",$VS,\"port\":2,\"vm\":\"vm2\",\"key\":15728642}" \
    "{\"type\":\"vnet_flow\",$VS,\"id\":600,\"version\":0,\"ofp\":\"$(flow_hex 20 1 0 0xfffffff8)\"}" \
    "{\"type\":\"vnet_end\",$VS,\"seq\":$((S + 11))}"
ovs_wait "the change of one of 1,000 acknowledged" acked $((S + 11))
last_sync=$(grep "event=flows_synced" "$T/agent.log" | tail -n 1)
case $last_sync in
    *"added=1 modified=0 deleted=1 "*) ;; # its match changed: a new key
    *"added=0 modified=1 deleted=0 "*) ;;
    *) fail "one tenant flow of 1,000 changed: $last_sync" ;;
esac
push "{\"type\":\"vnet_begin\",$VS,\"vni\":100,\"active\":0,\"seq\":$((S + 12)),\"full\":true}" \
    "{\"type\":\"vnet_port\",$VS,\"port\":1,\"vm\":\"vm1\",\"key\":15728641}" \
    "{\"type\":\"vnet_port\",$VS,\"port\":2,\"vm\":\"vm2\",\"key\":15728642}" \
    "{\"type\":\"vnet_flow\",$VS,\"id\":1,\"version\":0,\"ofp\":\"$(flow_hex 10 1 0 2)\"}" \
    "{\"type\":\"vnet_flow\",$VS,\"id\":2,\"version\":0,\"ofp\":\"$(flow_hex 10 2 0 0xfffffffd)\"}" \
    "{\"type\":\"vnet_flow\",$VS,\"id\":3,\"version\":0,\"ofp\":\"$(flow_hex 5 1 0 0xfffffff8)\"}" \
    "{\"type\":\"vnet_end\",$VS,\"seq\":$((S + 12))}"
ovs_wait "back to three tenant flows" acked $((S + 12))
[ "$(flows | grep -c "table=40")" = 3 ] || fail "the full push kept others"

# A tenant flow that does not decode (table 1): nacked, nothing changes.
push "{\"type\":\"vnet_begin\",$VS,\"vni\":100,\"active\":0,\"seq\":$((S + 5))}" \
    "{\"type\":\"vnet_flow\",$VS,\"id\":4,\"version\":0,\"ofp\":\"$(flow_hex 5 1 1 2)\"}" \
    "{\"type\":\"vnet_end\",$VS,\"seq\":$((S + 5))}"
ovs_wait "the bad flow nacked" grep -q \
    '"type":"nack","seq":'$((S + 5))',"ofp_error":{"type":5,"code":2}' "$T/chan.log"
[ "$(flows | grep -c "table=4[01]")" = 3 ] || fail "the nacked push changed flows"

# The flip: version 1's copy of flow 1 in table 41, then active 1.
push "{\"type\":\"vnet_begin\",$VS,\"vni\":100,\"active\":0,\"seq\":$((S + 6))}" \
    "{\"type\":\"vnet_port\",$VS,\"port\":1,\"vm\":\"vm1\",\"key\":15728641}" \
    "{\"type\":\"vnet_port\",$VS,\"port\":2,\"vm\":\"vm2\",\"key\":15728642}" \
    "{\"type\":\"vnet_flow\",$VS,\"id\":1,\"version\":1,\"ofp\":\"$(flow_hex 10 1 0 2)\"}" \
    "{\"type\":\"vnet_end\",$VS,\"seq\":$((S + 6))}" \
    "{\"type\":\"vnet_begin\",$VS,\"vni\":100,\"active\":1,\"seq\":$((S + 7))}" \
    "{\"type\":\"vnet_port\",$VS,\"port\":1,\"vm\":\"vm1\",\"key\":15728641}" \
    "{\"type\":\"vnet_port\",$VS,\"port\":2,\"vm\":\"vm2\",\"key\":15728642}" \
    "{\"type\":\"vnet_end\",$VS,\"seq\":$((S + 7))}"
ovs_wait "the flip acknowledged" acked $((S + 7))
flows | grep "table=20" | grep "in_port=$V1" |
    grep -q "write_metadata:0x100000001,goto_table:41" || fail "no flip"
r2=$(rx vm2)
send_frame 1 2
ovs_wait "vm1's frame at vm2 through version 1" rx_above vm2 "$r2"

# vnet_drop of version 0: final counters (flow 1 of version 0 carried
# one frame), then its flows go, then the ack.
push "{\"type\":\"vnet_drop\",$VS,\"version\":0,\"seq\":$((S + 8))}"
ovs_wait "the drop acknowledged" acked $((S + 8))
grep -q '"type":"vnet_stats_end","vswitch":"vs1","seq":'$((S + 8))',"final":true}' \
    "$T/chan.log" || fail "no final vnet_stats_end for the drop"
final_line=$(grep -n '"seq":'$((S + 8))',"final":true' "$T/chan.log" |
    cut -d: -f1)
ack_line=$(grep -n '"type":"ack","seq":'$((S + 8)) "$T/chan.log" |
    cut -d: -f1)
[ "$final_line" -lt "$ack_line" ] || fail "the drop was acked before its counters"
[ "$(flows | grep -c "table=40")" = 0 ] || fail "version 0's flows stayed"
[ "$(flows | grep -c "table=41")" = 1 ] || fail "version 1's flow went"

# vnet_remove: everything of the switch goes.
push "{\"type\":\"vnet_remove\",$VS,\"seq\":$((S + 9))}"
ovs_wait "the removal acknowledged" acked $((S + 9))
[ -z "$(flows | grep -E "table=4[01]|priority=400|priority=250")" ] ||
    fail "the switch's flows stayed"
metric() {
    curl -sf --max-time 5 "http://127.0.0.1:$MPORT/metrics" |
        awk -v n="mignet_agent_$1" '$1 == n { print $2 }'
}
[ "$(metric vnet_packet_ins_total)" = 1 ] || fail "vnet_packet_ins_total"
[ "$(metric vnet_packet_outs_total)" = 1 ] || fail "vnet_packet_outs_total"
[ "$(metric vnet_pushes_refused_total)" = 1 ] || fail "vnet_pushes_refused"
[ "$(metric vnet_switches)" = 0 ] || fail "vnet_switches after the removal"
echo "1,000 tenant flows pushed and acknowledged in ${push_ms} ms"
echo "PASS: vs1 compiled (dispatch, tenant tables, delivery), frames" \
    "forwarded and punted, packet-out, counters, one flow_mod per tenant" \
    "flow, a bad flow nacked, the flip, drop with final counters, removal"
