# flows.sh: docs/dataplane.md's OpenFlow 1.3 pipeline written with
# ovs-ofctl, sourced after lib.sh.  It is the reference the agent's flows can
# be compared with, and lets tests prove the design without the agent.  It
# programs only bridges of the test bed (through tb_ofctl) and must stay
# exactly what docs/dataplane.md says: change both together.

# shellcheck shell=bash

DP_VNI=${DP_VNI:-100}
DP_TUN=$TB_VXLAN_OFPORT

# Cookie kinds (docs/dataplane.md §2).
DP_BASE=0
DP_PLACE=1
DP_RELAY=2
DP_REMOTE=3

# dp_cookie KIND VM EPOCH: kind << 56 | vm << 32 | epoch, as 0x%016x.
dp_cookie() {
    printf '0x%02x%06x%08x' "$1" $(($2 & 0xffffff)) $(($3 & 0xffffffff))
}

# Table 0 tunnel classification, table 2 for the VNI, table-miss drops.
dp_base() {
    local h=$1 t
    {
        echo "table=0,priority=100,in_port=$DP_TUN,actions=goto_table:2"
        echo "table=2,priority=100,tunnel_id=$DP_VNI,actions=goto_table:3"
        for t in 0 1 2 3 4; do
            echo "table=$t,priority=0,actions=drop"
        done
    } | tb_ofctl "$h" add-flows br-int -
}

# Table 4 responder on VM S's port for target VM T, under cookie C.
dp_responder() {
    local s=$1 t=$2 c=$3
    local ms mt is it
    ms=$(tb_vm_mac "$s"); mt=$(tb_vm_mac "$t")
    is=$(tb_vm_ip "$s"); it=$(tb_vm_ip "$t")
    echo "cookie=$c,table=4,priority=100,in_port=$(tb_vm_ofport "$s"),arp,\
arp_op=1,arp_tpa=$it,actions=set_field:$ms->eth_dst,set_field:$mt->eth_src,\
set_field:2->arp_op,set_field:$mt->arp_sha,set_field:$it->arp_spa,\
set_field:$ms->arp_tha,set_field:$is->arp_tpa,output:IN_PORT"
}

# dp_place H X EPOCH PEER...: the "install" instruction for VM X on host H
# at EPOCH; PEERs are the other VMs of the VNI (ARP responders).  Removes
# every relay of X on H first.
dp_place() {
    local h=$1 x=$2 e=$3; shift 3
    local c p m i t
    c=$(dp_cookie $DP_PLACE "$x" "$e")
    p=$(tb_vm_ofport "$x"); m=$(tb_vm_mac "$x"); i=$(tb_vm_ip "$x")
    tb_ofctl "$h" del-flows br-int \
        "cookie=$(dp_cookie $DP_RELAY "$x" 0)/0xffffffff00000000"
    {
        echo "cookie=$c,table=0,priority=100,in_port=$p,\
actions=set_field:$DP_VNI->tunnel_id,goto_table:1"
        echo "cookie=$c,table=1,priority=100,in_port=$p,dl_src=$m,ip,\
nw_src=$i,actions=goto_table:3"
        echo "cookie=$c,table=1,priority=100,in_port=$p,dl_src=$m,arp,\
arp_sha=$m,arp_spa=$i,actions=goto_table:4"
        echo "cookie=$c,table=3,priority=150,tunnel_id=$DP_VNI,dl_dst=$m,\
actions=output:$p"
        for t in "$@"; do
            [ "$t" = "$x" ] || dp_responder "$x" "$t" "$c"
        done
    } | tb_ofctl "$h" add-flows br-int -
}

# dp_remote H X EPOCH NODE: the map says VM X (at EPOCH) is on host NODE.
dp_remote() {
    local h=$1 x=$2 e=$3 node=$4
    tb_ofctl "$h" add-flow br-int "cookie=$(dp_cookie $DP_REMOTE "$x" "$e"),\
table=3,priority=100,tunnel_id=$DP_VNI,dl_dst=$(tb_vm_mac "$x"),\
actions=set_field:$(tb_host_ip "$node")->tun_dst,output:$DP_TUN"
}

# dp_remote_remove H X: the map places X on H itself: no remote flow.
dp_remote_remove() {
    tb_ofctl "$1" del-flows br-int \
        "cookie=$(dp_cookie $DP_REMOTE "$2" 0)/0xffffffff00000000"
}

# dp_relay H X EPOCH TARGET: the snapshot of X at EPOCH on H forwards to
# host TARGET (sent again with a new target on chains).
dp_relay() {
    local h=$1 x=$2 e=$3 target=$4 c m dst
    c=$(dp_cookie $DP_RELAY "$x" "$e")
    m=$(tb_vm_mac "$x")
    dst=$(tb_host_ip "$target")
    {
        echo "cookie=$c,table=3,priority=210,in_port=$DP_TUN,\
tunnel_id=$DP_VNI,dl_dst=$m,actions=set_field:$dst->tun_dst,output:IN_PORT"
        echo "cookie=$c,table=3,priority=200,tunnel_id=$DP_VNI,dl_dst=$m,\
actions=set_field:$dst->tun_dst,output:$DP_TUN"
    } | tb_ofctl "$h" add-flows br-int -
}

# dp_delete H X EPOCH: remove exactly the snapshot of X at EPOCH and its
# relay.
dp_delete() {
    local h=$1 x=$2 e=$3
    tb_ofctl "$h" del-flows br-int "cookie=$(dp_cookie $DP_PLACE "$x" "$e")/-1"
    tb_ofctl "$h" del-flows br-int "cookie=$(dp_cookie $DP_RELAY "$x" "$e")/-1"
}

# dp_flows H COOKIE: the flows of host H with exactly COOKIE, one a line.
dp_flows() {
    tb_ofctl "$1" dump-flows br-int "cookie=$2/-1" | grep -v '^OFPST_FLOW' ||
        true
}

# dp_packets H COOKIE: packets matched by the flows with COOKIE, summed.
dp_packets() {
    dp_flows "$1" "$2" |
        sed -n 's/.*n_packets=\([0-9]*\),.*/\1/p' |
        awk '{ s += $1 } END { print s + 0 }'
}
