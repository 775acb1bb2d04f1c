# seed002_bed.sh: the seed-002 experiment (§5.2, Fig. 6) as real Open
# vSwitch bridges for the planner's end-to-end tests, on fabric_lib.sh.
# Upper switches s1-s3 each cabled to lower switches s4 and s5 with veth
# pairs shaped to FB_RATE in both directions (tc tbf); hosts h1-h3 on s4
# ports 1-3 and h4-h6 on s5 ports 1-3 on unshaped veths, so the fabric
# links are what contends (docs/planner.md, "The seed-002 topology").
# The topology file names switches and hosts only: mignetd finds the
# links with LLDP and gives them FB_RATE (--fabric-link-mbit).  Nodes
# h1-h6 are registered with their addresses 198.18.0.1-6.
#
# Usage: sb_start [MIGNETD ARGS...]   (after tb_require and fabric_lib.sh)
# With SB_DIAL_IN=1 the switches dial in (Open vSwitch set-controller to
# mignetd's --fabric-listen unix socket) instead of mignetd connecting to
# their management sockets.

# shellcheck shell=bash

FB_RATE_MBIT=${FB_RATE_MBIT:-30}
# tbf needs a bucket of at least rate/HZ; 32 KiB covers HZ=250 at 30 Mbit.
FB_TBF_BURST=${FB_TBF_BURST:-32kb}

sb_start() {
    tb_init
    fb_ovs_start
    local topo=$TB_DIR/seed002.topo i c
    {
        echo "# seed 002: switches and hosts; links come from LLDP"
        for i in 1 2 3 4 5; do echo "switch s$i dpid=$i"; done
        for i in 1 2 3; do echo "host h$i s4:$i 1gbit"; done
        for i in 4 5 6; do echo "host h$i s5:$((i - 3)) 1gbit"; done
    } >"$topo"
    for i in 1 2 3 4 5; do fb_switch "s$i" "$i"; done
    for c in 1 2 3; do
        fb_link "s$c" 1 s4 $((c + 3)) "${FB_RATE_MBIT}mbit"
        fb_link "s$c" 2 s5 $((c + 3)) "${FB_RATE_MBIT}mbit"
    done
    for i in 1 2 3; do fb_host "h$i" "$i" s4 "$i"; done
    for i in 4 5 6; do fb_host "h$i" "$i" s5 $((i - 3)); done
    local swargs
    if [ "${SB_DIAL_IN:-0}" = 1 ]; then
        # Open vSwitch dials unix sockets only in its run directory.
        SB_LISTEN=$FB_RUN/mignetd-fabric.sock
        swargs=(--fabric-listen "unix:$SB_LISTEN")
    else
        mapfile -t swargs < <(fb_switch_args s1 s2 s3 s4 s5)
    fi
    fb_mignetd --fabric "$topo" "${swargs[@]}" \
        --fabric-link-mbit "$FB_RATE_MBIT" --fabric-lldp-ms 1000 "$@"
    if [ "${SB_DIAL_IN:-0}" = 1 ]; then
        for i in 1 2 3 4 5; do
            fb_vsctl set-controller "s$i" "unix:$SB_LISTEN"
        done
    fi
    fb_wait_connected 5 20
    fb_wait_links 6 20
    for i in 1 2 3 4 5 6; do fb_register "$i"; done
    tb_log "seed-002 fabric up: links ${FB_RATE_MBIT} Mbit/s, mignetd" \
        "at $FB_URL"
}

# sb_vm NAME HOST: a VM placed on node hHOST (its address is not used by
# the fabric: plans route between the nodes).
sb_vm() {
    local name=$1 h=$2 n
    n=$(( $(fb_get /v1/vms | jq '.vms | length') + 1 ))
    fb_cli vm create "$name" --mac "$(printf '02:00:00:00:02:%02x' "$n")" \
        --ip "198.18.1.$n" --vni 100 --node "h$h" >/dev/null
}

# sb_migrate VM TO ARGS...: migrates with `mignet vm migrate --json`,
# prints the answer.
sb_migrate() {
    local vm=$1 to=$2; shift 2
    fb_cli --json vm migrate "$vm" --to "h$to" "$@"
}

# sb_bulk_recv HOST PORT STREAMS REPORT: receiver in host HOST, waits
# until it listens; sets FB_BG_PID.
sb_bulk_recv() {
    local h=$1 port=$2 k=$3 report=$4 ready i
    ready=$TB_DIR/ready.$h.$port
    rm -f "$ready"
    fb_host_bg "$h" "$FB_BUILD/mignet-bulk" recv --port "$port" \
        --streams "$k" --bind "198.18.0.$h" --report "$report" \
        --ready-file "$ready" --timeout 120
    for ((i = 0; i < 100; i++)); do
        [ -e "$ready" ] && return 0
        sleep 0.05
    done
    tb_die "receiver on h$h:$port did not start"
}
