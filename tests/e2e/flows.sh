# flows.sh: the integration-bridge pipeline of docs/dataplane.md (the one
# src/agent/pipeline.c computes) written with ovs-ofctl, sourced after
# lib.sh.  Tests use it to prove the design on real Open vSwitch without the
# agent, and as the reference the agent's flows can be compared with.  It
# programs only bridges of the test bed (through tb_ofctl) and must stay
# exactly what docs/dataplane.md and pipeline.c say: change them together.

# shellcheck shell=bash

DP_VNI=${DP_VNI:-100}
DP_TUN=$TB_VXLAN_OFPORT

# Tables and priorities (pipeline.h / pipeline.c).
DP_T_CLASSIFY=0
DP_T_PORTSEC=10
DP_T_FROM_VM=20
DP_T_FROM_TUN=30
DP_P_ARP=300
DP_P_LOCAL=200
DP_P_RELAY=150
DP_P_REMOTE=100
DP_P_CLASSIFY=100

# Cookie kinds.
DP_K_INFRA=0
DP_K_LOCAL=1
DP_K_RELAY=2
DP_K_REMOTE=3
DP_K_ARP=4

# 32-bit FNV-1a of a string (lib/util.c hash_str).
dp_hash() {
    local s=$1 h=2166136261 i c
    for ((i = 0; i < ${#s}; i++)); do
        printf -v c '%d' "'${s:i:1}"
        h=$(( ((h ^ c) * 16777619) & 0xffffffff ))
    done
    echo "$h"
}

# dp_cookie KIND [VM_NAME]: 0x4d47 << 48 | kind << 40 | hash(name).
dp_cookie() {
    local h=0
    [ -n "${2:-}" ] && h=$(dp_hash "$2")
    printf '0x4d47%02x%010x' "$1" "$h"
}

dp_name() { printf 'vm%s' "$1"; }

# Deletes VM X's flows of the given kinds on host H.
dp_del_kinds() {
    local h=$1 x=$2 k; shift 2
    for k in "$@"; do
        tb_ofctl "$h" del-flows br-int \
            "cookie=$(dp_cookie "$k" "$(dp_name "$x")")/-1"
    done
}

# The node-independent flows: drops, port security pass-through, tunnel
# classification.
dp_base() {
    local h=$1 c
    c=$(dp_cookie $DP_K_INFRA)
    tb_ofctl "$h" add-flows br-int - <<EOF
cookie=$c,table=$DP_T_CLASSIFY,priority=0,actions=drop
cookie=$c,table=$DP_T_FROM_VM,priority=0,actions=drop
cookie=$c,table=$DP_T_FROM_TUN,priority=0,actions=drop
cookie=$c,table=$DP_T_PORTSEC,priority=0,actions=goto_table:$DP_T_FROM_VM
cookie=$c,table=$DP_T_CLASSIFY,priority=$DP_P_CLASSIFY,in_port=$DP_TUN,actions=goto_table:$DP_T_FROM_TUN
EOF
}

# ARP responder for VM X (answers any VM of the VNI asking for X's IP).
dp_arp_flow() {
    local x=$1 m i
    m=$(tb_vm_mac "$x"); i=$(tb_vm_ip "$x")
    echo "cookie=$(dp_cookie $DP_K_ARP "$(dp_name "$x")"),\
table=$DP_T_FROM_VM,priority=$DP_P_ARP,tunnel_id=$DP_VNI,arp,arp_op=1,\
arp_tpa=$i,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],\
set_field:$m->eth_src,set_field:2->arp_op,\
move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],set_field:$m->arp_sha,\
move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],set_field:$i->arp_spa,\
output:IN_PORT"
}

# Each state change below adds its flows before deleting the VM's flows of
# other kinds (make-before-break): the kinds have distinct priorities, so
# the new flows take over at once and no packet meets an empty table.

# dp_local H X: VM X is placed on host H (an install the agent holds).
dp_local() {
    local h=$1 x=$2 c p m
    c=$(dp_cookie $DP_K_LOCAL "$(dp_name "$x")")
    p=$(tb_vm_ofport "$x"); m=$(tb_vm_mac "$x")
    {
        echo "cookie=$c,table=$DP_T_CLASSIFY,priority=$DP_P_CLASSIFY,\
in_port=$p,actions=set_field:$DP_VNI->tunnel_id,goto_table:$DP_T_PORTSEC"
        echo "cookie=$c,table=$DP_T_FROM_VM,priority=$DP_P_LOCAL,\
tunnel_id=$DP_VNI,dl_dst=$m,actions=output:$p"
        echo "cookie=$c,table=$DP_T_FROM_TUN,priority=$DP_P_LOCAL,\
tunnel_id=$DP_VNI,dl_dst=$m,actions=output:$p"
        dp_arp_flow "$x"
    } | tb_ofctl "$h" add-flows br-int -
    dp_del_kinds "$h" "$x" $DP_K_RELAY $DP_K_REMOTE
}

# dp_relay H X TARGET: the snapshot of X held on H relays to host TARGET
# (sent again with a new target on chains).
dp_relay() {
    local h=$1 x=$2 target=$3 c m dst
    c=$(dp_cookie $DP_K_RELAY "$(dp_name "$x")")
    m=$(tb_vm_mac "$x"); dst=$(tb_host_ip "$target")
    {
        echo "cookie=$c,table=$DP_T_FROM_VM,priority=$DP_P_RELAY,\
tunnel_id=$DP_VNI,dl_dst=$m,actions=set_field:$dst->tun_dst,output:$DP_TUN"
        echo "cookie=$c,table=$DP_T_FROM_TUN,priority=$DP_P_RELAY,\
tunnel_id=$DP_VNI,dl_dst=$m,actions=set_field:$dst->tun_dst,output:IN_PORT"
    } | tb_ofctl "$h" add-flows br-int -
    dp_del_kinds "$h" "$x" $DP_K_LOCAL $DP_K_ARP $DP_K_REMOTE
}

# dp_remote H X NODE: H's map places X on host NODE (and H holds nothing
# for X: a held install or relay wins over the map).
dp_remote() {
    local h=$1 x=$2 node=$3
    {
        echo "cookie=$(dp_cookie $DP_K_REMOTE "$(dp_name "$x")"),\
table=$DP_T_FROM_VM,priority=$DP_P_REMOTE,tunnel_id=$DP_VNI,\
dl_dst=$(tb_vm_mac "$x"),actions=set_field:$(tb_host_ip "$node")->tun_dst,\
output:$DP_TUN"
        dp_arp_flow "$x"
    } | tb_ofctl "$h" add-flows br-int -
    dp_del_kinds "$h" "$x" $DP_K_LOCAL $DP_K_RELAY
}

# dp_forget H X: H holds nothing for X and its map has no other place for
# it (e.g. after a delete, before the map moved on).
dp_forget() {
    dp_del_kinds "$1" "$2" $DP_K_LOCAL $DP_K_RELAY $DP_K_REMOTE $DP_K_ARP
}

# dp_flows H COOKIE: the flows of host H with exactly COOKIE, one a line.
dp_flows() {
    tb_ofctl "$1" dump-flows br-int "cookie=$2/-1" | grep -v '^OFPST_FLOW' ||
        true
}

# dp_packets H COOKIE [TABLE]: packets matched by those flows, summed.
dp_packets() {
    dp_flows "$1" "$2" | awk -v t="${3:-}" '
        t == "" || index($0, " table=" t ",") {
            if (match($0, /n_packets=[0-9]+/)) {
                s += substr($0, RSTART + 10, RLENGTH - 10)
            }
        }
        END { print s + 0 }'
}
