# portsec_lib.sh: port security and DHCP snooping (seed 003) on the real
# Open vSwitch test bed (lib.sh + mig_lib.sh): a real DHCP server (dnsmasq)
# in a VM namespace whose port is trusted, real DHCP clients (busybox
# udhcpc) in VM namespaces, bindings read back from mignetd, drops read
# from the flow statistics of table 10.  Sourced by test_portsec_*.sh after
# lib.sh, flows.sh and mig_lib.sh.
#
# Everything started here is recorded for lib.sh's teardown (by PID); every
# address is in 198.18.0.0/15.  The DHCP server is VM 250 (198.18.1.250,
# port "vm250"); it leases 198.18.1.100-149 and reserves 198.18.1.X for the
# MAC of VM X when asked (ps_dhcp_reserve), so the traffic helpers of
# lib.sh still find a DHCP VM at its usual address.

# shellcheck shell=bash

PS_K_PORTSEC=5     # cookie kind (pipeline.h PL_K_PORTSEC)
PS_T_PORTSEC=10    # table
PS_SERVER=250      # the DHCP server's VM number
PS_LEASE=${PS_LEASE:-2m}
PS_RESERVED=()

# ps_dhcp_reserve X...: the server will give VM X the address 198.18.1.X.
ps_dhcp_reserve() {
    local x
    for x in "$@"; do
        PS_RESERVED+=("--dhcp-host=$(tb_vm_mac "$x"),$(tb_vm_ip "$x")")
    done
}

# ps_dhcp_server HOST: VM 250 on HOST, known to mignet with a trusted
# static binding (its port is where DHCP answers may come from), running
# dnsmasq.
ps_dhcp_server() {
    local h=$1 x=$PS_SERVER dir
    dir=$TB_DIR/dnsmasq
    mkdir -p "$dir"
    tb_vm_add "$x" "$h"
    mignet_cli vm create "vm$x" --mac "$(tb_vm_mac "$x")" \
        --ip "$(tb_vm_ip "$x")" --vni 100 --node "n$h" >/dev/null
    mignet_cli binding set "vm$x" --ip "$(tb_vm_ip "$x")" \
        --port-security trust >/dev/null
    tb_vm_bg "$x" dnsmasq --keep-in-foreground --conf-file=/dev/null \
        --port=0 --interface=eth0 --bind-interfaces --no-ping \
        --dhcp-authoritative --user=root --group=root \
        --dhcp-range="198.18.1.100,198.18.1.149,255.255.255.0,$PS_LEASE" \
        "${PS_RESERVED[@]}" \
        --dhcp-leasefile="$dir/leases" --pid-file="$dir/dnsmasq.pid" \
        --log-dhcp --log-facility="$dir/dnsmasq.log"
    PS_DNSMASQ_PID=$TB_BG_PID
    local i
    for ((i = 0; i < 100; i++)); do
        [ -s "$dir/dnsmasq.pid" ] && return 0
        tb_pid_alive "$PS_DNSMASQ_PID" ||
            tb_die "dnsmasq exited: $(tail -5 "$dir/dnsmasq.log" 2>/dev/null)"
        sleep 0.05
    done
    tb_die "dnsmasq did not start"
}

# ps_vm_dhcp X HOST: VM X on HOST with no address; mignet knows its MAC
# only, so its port lets it do nothing but DHCP until it is bound.
ps_vm_dhcp() {
    local x=$1 h=$2
    tb_vm_add "$x" "$h"
    ip -n "$(tb_ns_vm "$x")" addr flush dev eth0
    mignet_cli vm create "vm$x" --mac "$(tb_vm_mac "$x")" --vni 100 \
        --node "n$h" >/dev/null
}

# The udhcpc script: sets the leased address, nothing else.
ps_udhcpc_script() {
    local f=$TB_DIR/udhcpc.sh
    if [ ! -x "$f" ]; then
        cat >"$f" <<'EOF'
#!/bin/sh
# udhcpc hook for the mignet test bed: the address only (no routes, no DNS).
case "$1" in
deconfig) ip addr flush dev "$interface" ;;
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    echo "$ip" >"$MIGNET_LEASE_FILE"
    ;;
esac
exit 0
EOF
        chmod +x "$f"
    fi
    echo "$f"
}

# ps_dhcp X: runs busybox udhcpc once in VM X (obtains a lease and quits:
# it never renews, so a migrated VM keeps its address without DHCP);
# prints the leased address.  Fails the run if there is no lease.
ps_dhcp() {
    local x=$1 script lease
    script=$(ps_udhcpc_script)
    lease=$TB_DIR/lease.$x
    rm -f "$lease"
    MIGNET_LEASE_FILE=$lease tb_vm_exec "$x" busybox udhcpc -i eth0 -f -q \
        -n -t 6 -T 1 -A 1 -s "$script" >"$TB_DIR/udhcpc.$x.log" 2>&1 ||
        tb_die "udhcpc in vm$x got no lease: $(tail -3 "$TB_DIR/udhcpc.$x.log")"
    [ -s "$lease" ] || tb_die "udhcpc in vm$x: no address set"
    cat "$lease"
}

# ps_binding X FIELD: a field of VM X's binding from mignetd ("" if none).
ps_binding() {
    local out
    out=$(mignet_cli --json binding show "vm$1" 2>/dev/null) || return 0
    jq -r ".$2 // empty" <<<"$out"
}

# ps_wait_binding X [SECONDS]: waits until VM X has a binding.
ps_wait_binding() {
    local x=$1 t=${2:-10}
    for _ in $(seq 1 $((t * 20))); do
        [ -n "$(ps_binding "$x" id)" ] && return 0
        sleep 0.05
    done
    tb_die "vm$x has no binding after ${t}s"
}

# ps_flows H X: the port-security flows of VM X on host H (table 10).
ps_flows() {
    dp_flows "$1" "$(dp_cookie "$PS_K_PORTSEC" "vm$2")" |
        grep " table=$PS_T_PORTSEC," || true
}

# ps_drops H X: packets the drop flows of VM X's port security on host H
# have counted (flow statistics).
ps_drops() {
    ps_flows "$1" "$2" | awk '
        / actions=drop/ && match($0, /n_packets=[0-9]+/) {
            s += substr($0, RSTART + 10, RLENGTH - 10)
        }
        END { print s + 0 }'
}

# ps_wait_flows H X N [SECONDS]: waits until VM X has N port-security
# flows on host H.
ps_wait_flows() {
    local h=$1 x=$2 n=$3 t=${4:-10}
    for _ in $(seq 1 $((t * 20))); do
        [ "$(ps_flows "$h" "$x" | wc -l)" -eq "$n" ] && return 0
        sleep 0.05
    done
    tb_log "flows of vm$x on h$h: $(ps_flows "$h" "$x")"
    tb_die "vm$x: not $n port-security flows on h$h after ${t}s"
}

# ps_ping X DST_IP [COUNT] [SRC_IP]: pings from VM X; prints the number of
# replies.
ps_ping() {
    local x=$1 dst=$2 n=${3:-3} src=${4:-} out
    local args=(-c "$n" -W 1 -i 0.2)
    [ -n "$src" ] && args+=(-I "$src")
    out=$(tb_vm_exec "$x" busybox ping "${args[@]}" "$dst" 2>/dev/null) ||
        true
    out=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' <<<"$out")
    echo "${out:-0}"
}

# ps_wait_ping X DST_IP [SECONDS]: waits until a ping from VM X is
# answered (e.g. the peer's node has refreshed its map).
ps_wait_ping() {
    local x=$1 dst=$2 t=${3:-10}
    for _ in $(seq 1 $((t * 2))); do
        [ "$(ps_ping "$x" "$dst" 1)" -eq 1 ] && return 0
        sleep 0.3
    done
    tb_die "vm$x cannot reach $dst after ${t}s"
}

# ps_drops_at_least H X MIN: the drop count of VM X on host H once it is
# at least MIN or 3 s have passed (Open vSwitch pushes datapath counters
# into flow statistics about every half second).
ps_drops_at_least() {
    local h=$1 x=$2 min=$3 d
    for _ in $(seq 1 30); do
        d=$(ps_drops "$h" "$x")
        [ "$d" -ge "$min" ] && break
        sleep 0.1
    done
    echo "$d"
}

# ps_neigh X IP MAC: a permanent neighbour entry in VM X, so that test
# packets leave without ARP (spoofed sources could not resolve).
ps_neigh() {
    tb_vm_exec "$1" ip neigh replace "$2" lladdr "$3" dev eth0 nud permanent
}
