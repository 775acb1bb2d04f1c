# precopy_bed.sh: the pre-copy experiment's test bed (issue 15), sourced by
# bench/bench_precopy.sh and tests/e2e/test_precopy.sh, on top of
# tests/e2e/lib.sh (run ids, namespaces, teardown by PID) and
# tests/e2e/fabric_lib.sh (one Open vSwitch, userspace datapath, in a
# switch namespace).
#
# Hosts h1 (the migration's source), h2 (its destination) and h3 (the
# background flow's source) are namespaces.  Path P (1..PB_PATHS) is an
# OVS bridge "pP" with one NIC of each host (h3 on path 1 only), subnet
# 198.18.(P-1).0/24, host N at .N on ethP-1.  The link from the bridge to
# h2 (through a Linux bridge, see pb_nic) is the shaped link: its egress
# (the data direction) has a tbf at
# PB_RATE_MBIT with a queue of one bandwidth-delay product (a shallow
# switch buffer).  This kernel has no netem, so the round trip comes from
# bench/pc_delayline (a userspace fixed delay): OpenFlow rules send
# every frame from h2 (the ACK direction) through it before it reaches h1
# or h3, so every round trip through the path is PB_RTT_MS plus the
# queue, while the data direction stays in OVS and the kernel.  Two paths
# share nothing but the switch's CPU.  Nothing is created in the root namespace; lib.sh's teardown stops
# every process and deletes every namespace, also on failure.
#
# Usage (after tb_require; tb_init; fb_ovs_start):
#   PB_PATHS=2 PB_RATE_MBIT=100 PB_RTT_MS=10 pb_bed
#   pb_ssai 0                 # tcp_slow_start_after_idle in h1-h3
#   pb_mptcp                  # MPTCP limits and endpoints for path 2
#   pb_path_bytes P           # bytes path P's tbf has sent so far

# shellcheck shell=bash

PB_PATHS=${PB_PATHS:-2}
PB_RATE_MBIT=${PB_RATE_MBIT:-500}
PB_RTT_MS=${PB_RTT_MS:-10}
PB_MTU=${PB_MTU:-1500}
PB_TBF_BURST=${PB_TBF_BURST:-64kb}
# Niceness of the emulated network (ovs-vswitchd, the delay lines): a real
# switch has its own silicon; here it shares 2 cores with the engine and
# whatever else runs, and a switch that is scheduled late overflows its
# receive sockets and drops frames that no queue would have dropped.
PB_NICE=${PB_NICE:--10}
PB_DL_PIDS=()

pb_ns() { fb_host_ns "$1"; }
# pb_ip P N: host N's address on path P.
pb_ip() { printf '198.18.%d.%d' $(($1 - 1)) "$2"; }

# pb_nic P N: host N's NIC on path P: ethP-1 in the host, hNpP on the
# switch.  h2's NIC is the shaped link: OVS port h2pP is a veth into a
# Linux bridge lbP whose other port h2pP_w (tbf, pb_rate) leads to h2.  A
# frame crossing a veth is no longer charged to the socket that sent it,
# so the tbf queue is not capped by Open vSwitch's packet-socket send
# buffer (208 KiB by default: a third of the bandwidth-delay product at
# 500 Mbit/s and 10 ms, beyond which the switch dropped frames silently).
pb_nic() {
    local p=$1 n=$2 sw hns dev
    sw=$(fb_ns)
    hns=$(pb_ns "$n")
    dev="h${n}p${p}"
    if [ "$n" = 2 ]; then
        ip -n "$sw" link add "lb$p" type bridge || tb_die "bridge lb$p"
        ip -n "$sw" link set "lb$p" mtu "$PB_MTU" up
        ip -n "$sw" link add "$dev" mtu "$PB_MTU" type veth \
            peer name "${dev}_l" mtu "$PB_MTU" || tb_die "veth $dev"
        tb_tx_off "$sw" "${dev}_l"
        ip -n "$sw" link set "${dev}_l" master "lb$p" up
        dev="${dev}_w"
    fi
    ip -n "$sw" link add "$dev" mtu "$PB_MTU" type veth \
        peer name "eth$((p - 1))" mtu "$PB_MTU" netns "$hns" ||
        tb_die "veth $dev"
    ip -n "$hns" link set "eth$((p - 1))" address \
        "$(printf '02:00:00:00:%02x:%02x' "$p" "$n")"
    ip -n "$hns" addr add "$(pb_ip "$p" "$n")/24" dev "eth$((p - 1))"
    tb_tx_off "$hns" "eth$((p - 1))"
    tb_tx_off "$sw" "$dev"
    ip -n "$hns" link set "eth$((p - 1))" up
    ip -n "$sw" link set "$dev" up
    if [ "$n" = 2 ]; then
        ip -n "$sw" link set "$dev" master "lb$p" || tb_die "$dev in lb$p"
        dev="h${n}p${p}"
        ip -n "$sw" link set "$dev" up
    fi
    fb_vsctl add-port "p$p" "$dev" -- set interface "$dev" \
        ofport_request="$n" || tb_die "cannot attach $dev to p$p"
}

# pb_shape P: path P's delay line and flows (pb_rate sets the tbf).
# After add-port: Open vSwitch clears the root qdisc of a port it takes.
pb_shape() {
    local p=$1 sw n hosts=1
    sw=$(fb_ns)
    [ "$p" -ne 1 ] || hosts="1 3"
    # The delay line: bridge port dlPa (10) -> dlPa_i -> pc_delayline ->
    # dlPb_i -> bridge port dlPb (11).
    local x
    for x in a b; do
        ip -n "$sw" link add "dl$p$x" mtu "$PB_MTU" type veth \
            peer name "dl$p${x}_i" mtu "$PB_MTU" || tb_die "veth dl$p$x"
        tb_tx_off "$sw" "dl$p$x"
        tb_tx_off "$sw" "dl$p${x}_i"
        ip -n "$sw" link set "dl$p$x" up
        ip -n "$sw" link set "dl$p${x}_i" up
    done
    fb_vsctl add-port "p$p" "dl${p}a" -- set interface "dl${p}a" \
        ofport_request=10 -- add-port "p$p" "dl${p}b" \
        -- set interface "dl${p}b" ofport_request=11 ||
        tb_die "cannot attach the delay line of p$p"
    ip netns exec "$sw" "$FB_BUILD/pc_delayline" "dl${p}a_i" \
        "dl${p}b_i" "$PB_RTT_MS" 2>>"$TB_DIR/delayline.$p.log" &
    printf '%s\n' "$!" >>"$TB_DIR/pids"
    PB_DL_PIDS+=("$!")
    local flows=$TB_DIR/flows.p$p
    {
        for n in $hosts; do
            echo "priority=10,in_port=$n,actions=output:2"
            echo "priority=10,in_port=11,dl_dst=$(printf \
                '02:00:00:00:%02x:%02x' "$p" "$n"),actions=output:$n"
        done
        echo "priority=10,in_port=2,actions=output:10"
        echo "priority=5,in_port=11,actions=$(echo "$hosts" |
            sed 's/\([0-9]\)/output:\1/g; s/ /,/g')"
    } >"$flows"
    fb_ofctl add-flows "p$p" "$flows" || tb_die "flows on p$p"
}

# pb_bed: hosts h1-h3, PB_PATHS bridges, shaping; waits until h1 reaches
# h2 on every path.
pb_bed() {
    local p n sw
    sw=$(fb_ns)
    for n in 1 2 3; do
        tb_netns_add "$(pb_ns "$n")"
    done
    for ((p = 1; p <= PB_PATHS; p++)); do
        fb_switch "p$p" "$p"
        pb_nic "$p" 1
        pb_nic "$p" 2
        [ "$p" -ne 1 ] || pb_nic 1 3
        ip -n "$sw" link set "p$p" up 2>/dev/null || true
        pb_shape "$p"
    done
    pb_rate "$PB_RATE_MBIT"
    for ((p = 1; p <= PB_PATHS; p++)); do
        for ((n = 0; n < 50; n++)); do
            fb_host_exec 1 busybox ping -c1 -W1 -q "$(pb_ip "$p" 2)" \
                >/dev/null 2>&1 && break
            sleep 0.1
        done
        [ "$n" -lt 50 ] || tb_die "h1 does not reach h2 on path $p"
    done
    fb_host_exec 3 busybox ping -c1 -W2 -q "$(pb_ip 1 2)" >/dev/null 2>&1 ||
        tb_die "h3 does not reach h2"
    pb_renice
    tb_log "pre-copy bed: $PB_PATHS path(s), ${PB_RATE_MBIT} Mbit/s," \
        "RTT ${PB_RTT_MS} ms, MTU $PB_MTU"
}

# pb_ssai 0|1: net.ipv4.tcp_slow_start_after_idle inside h1-h3 only.
pb_ssai() {
    local n
    for n in 1 2 3; do
        fb_host_exec "$n" sysctl -q -w \
            "net.ipv4.tcp_slow_start_after_idle=$1" >/dev/null ||
            tb_die "sysctl in h$n"
    done
}

# pb_mptcp: h2 announces its path-2 address (signal endpoint); h1 accepts
# one announced address and opens one more subflow to it, so one MPTCP
# connection to h2's path-1 address has exactly one subflow per path.
# The receiver must listen on 0.0.0.0: the second subflow's MP_JOIN goes
# to h2's path-2 address, and a listener bound to the path-1 address
# answers it with a reset.
pb_mptcp() {
    local n
    for n in 1 2; do
        fb_host_exec "$n" sysctl -q -w net.mptcp.enabled=1 >/dev/null ||
            tb_die "MPTCP is not available in h$n"
        ip -n "$(pb_ns "$n")" mptcp endpoint flush
        ip -n "$(pb_ns "$n")" mptcp limits set subflow 1 \
            add_addr_accepted 1 || tb_die "ip mptcp limits in h$n"
    done
    ip -n "$(pb_ns 2)" mptcp endpoint add "$(pb_ip 2 2)" dev eth1 signal ||
        tb_die "ip mptcp endpoint in h2"
}

# pb_path_bytes P: bytes path P's shaped link (towards h2) has sent.
pb_path_bytes() {
    ip netns exec "$(fb_ns)" tc -s qdisc show dev "h2p${1}_w" |
        sed -n 's/^ *Sent \([0-9]*\) bytes.*/\1/p' | head -1
}

# pb_path_drops P: packets path P's tbf dropped (queue full).
pb_path_drops() {
    ip netns exec "$(fb_ns)" tc -s qdisc show dev "h2p${1}_w" |
        sed -n 's/.*(dropped \([0-9]*\),.*/\1/p' | head -1
}

# pb_mptcp_joins N: MPTCP subflows host N accepted or opened (MP_JOIN
# handshakes completed), from the namespace's own counters.
pb_mptcp_joins() {
    fb_host_exec "$1" cat /proc/net/netstat | awk '
        /^MPTcpExt:/ { if (!h) { for (i = 2; i <= NF; i++) k[i] = $i; h = 1 }
                       else { for (i = 2; i <= NF; i++) v[k[i]] = $i } }
        END { print (v["MPJoinAckRx"] + 0) + (v["MPJoinSynAckRx"] + 0) }'
}

# pb_wait_listen N PORT SECONDS: until something in host N listens on PORT.
pb_wait_listen() {
    local n=$1 port=$2 secs=${3:-10} i
    for ((i = 0; i < secs * 20; i++)); do
        if fb_host_exec "$n" ss -Hltn "sport = :$port" 2>/dev/null |
            grep -q LISTEN; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# pb_rate MBIT: every path's tbf to MBIT, its queue to one bandwidth-delay
# product at that rate (PB_RATE_MBIT follows).
pb_rate() {
    local p bdp
    PB_RATE_MBIT=$1
    bdp=$((PB_RATE_MBIT * 1000 * PB_RTT_MS / 8))
    [ "$bdp" -ge $((4 * PB_MTU)) ] || bdp=$((4 * PB_MTU))
    for ((p = 1; p <= PB_PATHS; p++)); do
        ip netns exec "$(fb_ns)" tc qdisc replace dev "h2p${p}_w" root tbf \
            rate "${PB_RATE_MBIT}mbit" burst "$PB_TBF_BURST" \
            limit "$bdp" || tb_die "tbf on h2p${p}_w"
    done
}

# pb_renice: the bed's own processes (ovs-vswitchd and ovsdb-server of the
# switch namespace, the delay lines) to PB_NICE; never anything else.
pb_renice() {
    local pid
    for pid in "$(cat "$FB_RUN/ovs-vswitchd.pid" 2>/dev/null)" \
        "${PB_DL_PIDS[@]}"; do
        [[ $pid =~ ^[0-9]+$ ]] || continue
        renice -n "$PB_NICE" -p "$pid" >/dev/null 2>&1 || true
    done
}

# pb_sock_drops: frames the switch's receive sockets dropped on the
# ports from h1 and h3 (Open vSwitch reads each port through an AF_PACKET
# socket; when it is scheduled late the socket's buffer overflows): the
# emulator's own losses, which no shaped queue made.
pb_sock_drops() {
    ip netns exec "$(fb_ns)" ss -0 -a -m 2>/dev/null | awk '
        $5 ~ /^\*:h[13]p[0-9]+$/ && match($0, /,d[0-9]+\)/) {
            n += substr($0, RSTART + 2, RLENGTH - 3) }
        END { print n + 0 }'
}
