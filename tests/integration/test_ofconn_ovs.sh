#!/usr/bin/env bash
# test_ofconn_ovs.sh: mignet's OpenFlow stack (lib/ofconn.c + the ofp13
# codec, through tools/mignet-ofctl) against a real ovs-vswitchd with the
# userspace datapath in a private namespace and run directory: handshake
# and features, flows added and confirmed by a barrier, read back with flow
# statistics (compared with what was sent and with ovs-ofctl's own view),
# switch errors reported per barrier, port statistics, deletion.  Every
# process it starts is stopped by PID (tests/integration/ovs_lib.sh).
set -euo pipefail

BUILD=${MIGNET_BUILD_DIR:?MIGNET_BUILD_DIR not set}
SRC=${MIGNET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
OFCTL=$BUILD/mignet-ofctl
DUMP=$BUILD/mignet-ofp-dump
. "$SRC/tests/integration/ovs_lib.sh"
ovs_require
[ -x "$OFCTL" ] && [ -x "$DUMP" ] || { echo "FAIL: build the tools"; exit 1; }

fail() { echo "FAIL: $*" >&2; exit 1; }

ovs_start ofconn
ovs_add_bridge br0 0000000000000abc
ovs_vsctl add-port br0 p1 -- set interface p1 type=internal ofport_request=1
ovs_vsctl add-port br0 p2 -- set interface p2 type=internal ofport_request=2
BR=unix:$OVS_T/br0.mgmt

# Handshake, features and port descriptions.
out=$("$OFCTL" "$BR" show)
echo "$out"
grep -q '^dpid=0x0000000000000abc n_tables=254 ' <<<"$out" || fail "features"
grep -q 'port=1 name="p1"' <<<"$out" || fail "port p1 missing"
grep -q 'port=2 name="p2"' <<<"$out" || fail "port p2 missing"
grep -q 'port=LOCAL name="br0"' <<<"$out" || fail "LOCAL port missing"

# Flows of every shape the agent uses, in mignet's text form.
flows=(
    "table=0 priority=100 in_port=1,eth_dst=02:00:00:00:00:01 actions=output:2"
    "table=0 priority=300 eth_type=0x0806,arp_op=1,arp_tpa=198.18.0.10 actions=move:eth_src[0..47]->eth_dst[0..47],set_field:02:00:00:00:00:0a->eth_src,set_field:2->arp_op,move:arp_sha[0..47]->arp_tha[0..47],move:arp_spa[0..31]->arp_tpa[0..31],set_field:02:00:00:00:00:0a->arp_sha,set_field:198.18.0.10->arp_spa,output:IN_PORT"
    "table=0 priority=200 cookie=0x77 eth_type=0x0800,ipv4_dst=198.18.0.7,tunnel_id=0x64 actions=set_field:0x65->tunnel_id,set_field:02:00:00:00:00:07->eth_dst,output:2"
    "table=1 priority=200 cookie=0x1234 idle_timeout=30 hard_timeout=300 flags=send_flow_rem eth_type=0x0800,ip_proto=17,ipv4_src=198.18.1.0/24,ipv4_dst=198.18.0.0/16,udp_src=53,udp_dst=4789 actions=set_field:0x5->tunnel_id,push_vlan:0x8100,set_field:0x1005->vlan_vid,output:3,write_metadata:0x1/0xff,goto_table:2"
    "table=2 priority=10 in_port=2,eth_type=0x0800,vlan_vid=0x1005,ip_proto=6,tcp_dst=80/0xfff0 actions=pop_vlan,dec_ttl,clear_actions,write_actions(output:CONTROLLER:128)"
    "table=3 priority=1 actions=drop"
)
out=$("$OFCTL" "$BR" add-flows "${flows[@]}")
echo "$out"
grep -qx "barrier: ${#flows[@]} sent, 0 errors" <<<"$out" || fail "add-flows"

# Read back through flow statistics: exactly the flows sent, byte for byte
# in meaning (OVS re-encodes them; our decoder prints its encoding).
"$OFCTL" "$BR" dump-flows --no-stats | sort >"$OVS_T/got"
printf '%s\n' "${flows[@]}" | sort >"$OVS_T/want"
if ! diff -u "$OVS_T/want" "$OVS_T/got"; then
    fail "flows read back differ from flows sent"
fi

# Open vSwitch's own view agrees (its names for the same things).
theirs=$(ovs-ofctl -O OpenFlow13 dump-flows "$BR")
echo "$theirs"
for frag in \
    "priority=100,in_port=1,dl_dst=02:00:00:00:00:01 actions=output:2" \
    "priority=300,arp,arp_tpa=198.18.0.10,arp_op=1 actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:02:00:00:00:00:0a->eth_src" \
    "cookie=0x77," \
    "priority=200,ip,tun_id=0x64,nw_dst=198.18.0.7 actions=set_field:0x65->tun_id,set_field:02:00:00:00:00:07->eth_dst,output:2" \
    "table=1," \
    "priority=200,udp,nw_src=198.18.1.0/24,nw_dst=198.18.0.0/16,tp_src=53,tp_dst=4789 actions=set_field:0x5->tun_id,push_vlan:0x8100,set_field:4101->vlan_vid,output:3,write_metadata:0x1/0xff,goto_table:2" \
    "priority=10,tcp,in_port=2,dl_vlan=5,tp_dst=0x50/0xfff0 actions=pop_vlan,dec_ttl,clear_actions,write_actions(CONTROLLER:128)" \
    "table=3, n_packets=0, n_bytes=0, priority=1 actions=drop"; do
    grep -qF -- "$frag" <<<"$theirs" || fail "ovs-ofctl lacks: $frag"
done
[ "$(grep -c 'cookie=' <<<"$theirs")" -eq "${#flows[@]}" ] || fail "flow count"

# A filtered read uses the request's match.
n=$("$OFCTL" "$BR" dump-flows --no-stats "eth_type=0x0806" | wc -l)
[ "$n" -eq 1 ] || fail "dump-flows eth_type=0x0806 gave $n flows"

# The switch refuses two of three: the barrier reports both, by xid.
set +e
out=$("$OFCTL" "$BR" add-flows \
    "table=5 priority=7 flags=check_overlap in_port=1 actions=output:2" \
    "table=5 priority=7 flags=check_overlap eth_type=0x0800 actions=output:1" \
    "table=5 priority=8 in_port=2 actions=group:5")
rc=$?
set -e
echo "$out"
[ $rc -eq 1 ] || fail "refused flows: exit $rc, want 1"
grep -q 'code=OFPFMFC_OVERLAP' <<<"$out" || fail "no OVERLAP error"
grep -q 'code=OFPBAC_BAD_OUT_GROUP' <<<"$out" || fail "no BAD_OUT_GROUP error"
grep -qx 'barrier: 3 sent, 2 errors' <<<"$out" || fail "barrier result"

# Port statistics decode (both ports and LOCAL).
out=$("$OFCTL" "$BR" dump-ports)
echo "$out"
grep -q 'ports=3: ' <<<"$out" || fail "port stats"

# Deletion: a strict subset, then everything.
"$OFCTL" "$BR" del-flows "eth_type=0x0806" >/dev/null
n=$("$OFCTL" "$BR" dump-flows --no-stats | wc -l)
# The flows sent, less the ARP responder, plus the one accepted in table 5.
[ "$n" -eq $(( ${#flows[@]} - 1 + 1 )) ] || fail "after deleting ARP: $n flows"
"$OFCTL" "$BR" del-flows >/dev/null
n=$("$OFCTL" "$BR" dump-flows --no-stats | wc -l)
[ "$n" -eq 0 ] || fail "after deleting all: $n flows"
[ "$(ovs-ofctl -O OpenFlow13 dump-flows "$BR" | grep -c cookie=)" -eq 0 ] \
    || fail "ovs-ofctl still sees flows"

# A socket nobody listens on is a connection failure, not a hang.
set +e
"$OFCTL" "unix:$OVS_T/nope.mgmt" show 2>/dev/null
rc=$?
set -e
[ $rc -eq 3 ] || fail "missing socket: exit $rc, want 3"
echo "PASS"
