# fabric_lib.sh: a switched fabric on real Open vSwitch for the planner's
# tests, on top of lib.sh (run ids, namespaces, teardown by PID).  One
# ovsdb-server + ovs-vswitchd (userspace datapath) in a switch namespace
# hosts every fabric switch as a bridge; switches are cabled with veth
# pairs (optionally shaped with tc tbf, both directions) or patch ports;
# hosts are namespaces with one veth into a switch port; mignetd runs in
# the test's shell and reaches each bridge on its management socket
# (unix sockets cross namespaces).  Nothing touches the root namespace's
# interfaces or routes; every process is stopped by the PID in its
# pidfile; every namespace goes with lib.sh's teardown.
#
# Usage:
#   . "$here/lib.sh"; tb_require; . "$here/fabric_lib.sh"
#   tb_init; fb_ovs_start
#   fb_switch s1 1; fb_switch s4 4
#   fb_link s1 1 s4 4 30mbit        (veth, shaped) | fb_patch s1 1 s4 4
#   fb_host h1 1 s4 1               (198.18.0.1 on s4 port 1)
#   fb_mignetd --fabric F --fabric-switch ...   (FB_URL, FB_LOG)
#
# Host N has address 198.18.0.N/24, MAC 02:00:00:00:00:NN, namespace
# ${TB_RUN}-hN.  Switch S's OpenFlow socket is $FB_RUN/S.mgmt.

# shellcheck shell=bash

FB_BUILD=${MIGNET_BUILD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." &&
    pwd)/build}
FB_TBF_BURST=${FB_TBF_BURST:-16kb}
FB_TBF_LATENCY=${FB_TBF_LATENCY:-40ms}

fb_ns() { printf '%s-sw' "$TB_RUN"; }
fb_host_ns() { printf '%s-h%s' "$TB_RUN" "$1"; }

fb_vsctl() {
    ovs-vsctl --timeout=10 --db="unix:$FB_RUN/db.sock" "$@"
}

fb_ofctl() {
    local cmd=$1 br=$2; shift 2
    ovs-ofctl -O OpenFlow13 --timeout=10 "$cmd" "unix:$FB_RUN/$br.mgmt" "$@"
}

fb_stop_ovs() {
    tb_stop_pid "$(cat "$FB_RUN/ovs-vswitchd.pid" 2>/dev/null)" ovs-vswitchd
    tb_stop_pid "$(cat "$FB_RUN/ovsdb-server.pid" 2>/dev/null)" ovsdb-server
}

# fb_ovs_start: the switch namespace and its Open vSwitch.
fb_ovs_start() {
    local ns
    ns=$(fb_ns)
    FB_RUN=$TB_DIR/sw
    mkdir -p "$FB_RUN"
    tb_netns_add "$ns"
    tb_on_exit fb_stop_ovs
    local env=(env OVS_RUNDIR="$FB_RUN" OVS_DBDIR="$FB_RUN"
               OVS_LOGDIR="$FB_RUN")
    ovsdb-tool create "$FB_RUN/conf.db" \
        /usr/share/openvswitch/vswitch.ovsschema
    ip netns exec "$ns" "${env[@]}" ovsdb-server "$FB_RUN/conf.db" \
        --remote="punix:$FB_RUN/db.sock" \
        --pidfile="$FB_RUN/ovsdb-server.pid" \
        --unixctl="$FB_RUN/ovsdb-server.ctl" \
        --log-file="$FB_RUN/ovsdb-server.log" \
        --detach --no-chdir -vconsole:off 2>>"$FB_RUN/start.err" ||
        tb_die "ovsdb-server: $(cat "$FB_RUN/start.err")"
    fb_vsctl --no-wait init
    ip netns exec "$ns" "${env[@]}" ovs-vswitchd "unix:$FB_RUN/db.sock" \
        --pidfile="$FB_RUN/ovs-vswitchd.pid" \
        --unixctl="$FB_RUN/ovs-vswitchd.ctl" \
        --log-file="$FB_RUN/ovs-vswitchd.log" \
        --disable-system --detach --no-chdir -vconsole:off \
        2>>"$FB_RUN/start.err" ||
        tb_die "ovs-vswitchd: $(cat "$FB_RUN/start.err")"
}

# fb_switch NAME DPID: a bridge mignet programs (nothing forwards until
# flows exist).
fb_switch() {
    local name=$1 dpid=$2 i
    fb_vsctl add-br "$name" -- set bridge "$name" datapath_type=netdev \
        fail_mode=secure protocols=OpenFlow13 \
        other_config:disable-in-band=true \
        other_config:datapath-id="$(printf '%016x' "$dpid")" ||
        tb_die "cannot add bridge $name"
    for ((i = 0; i < 100; i++)); do
        [ -S "$FB_RUN/$name.mgmt" ] && return 0
        sleep 0.05
    done
    tb_die "$FB_RUN/$name.mgmt did not appear"
}

# fb_shape DEV RATE: tbf on DEV's egress inside the switch namespace.
fb_shape() {
    ip netns exec "$(fb_ns)" tc qdisc replace dev "$1" root tbf rate "$2" \
        burst "$FB_TBF_BURST" latency "$FB_TBF_LATENCY" ||
        tb_die "tc on $1 failed"
}

# fb_link A PA B PB [RATE]: a veth pair from port PA of A to port PB of B,
# both ends shaped to RATE (each direction) when given.
fb_link() {
    local a=$1 pa=$2 b=$3 pb=$4 rate=${5:-} ns da db
    ns=$(fb_ns)
    da="${a}p${pa}"
    db="${b}p${pb}"
    ip -n "$ns" link add "$da" type veth peer name "$db" ||
        tb_die "veth $da-$db"
    tb_tx_off "$ns" "$da"
    tb_tx_off "$ns" "$db"
    ip -n "$ns" link set "$da" up
    ip -n "$ns" link set "$db" up
    fb_vsctl add-port "$a" "$da" -- set interface "$da" \
        ofport_request="$pa" -- add-port "$b" "$db" -- \
        set interface "$db" ofport_request="$pb" ||
        tb_die "cannot cable $a:$pa-$b:$pb"
    # After add-port: Open vSwitch clears the root qdisc of a port it
    # takes over when the port has no QoS row.
    if [ -n "$rate" ]; then
        fb_shape "$da" "$rate"
        fb_shape "$db" "$rate"
    fi
}

# fb_shaped_bytes DEV: bytes the tbf on DEV has sent (0 if none).
fb_shaped_bytes() {
    ip netns exec "$(fb_ns)" tc -s qdisc show dev "$1" |
        sed -n 's/^ *Sent \([0-9]*\) bytes.*/\1/p' | head -1
}

# fb_patch A PA B PB: OVS patch ports between two bridges.
fb_patch() {
    local a=$1 pa=$2 b=$3 pb=$4 da db
    da="${a}p${pa}"
    db="${b}p${pb}"
    fb_vsctl add-port "$a" "$da" -- set interface "$da" type=patch \
        options:peer="$db" ofport_request="$pa" \
        -- add-port "$b" "$db" -- set interface "$db" type=patch \
        options:peer="$da" ofport_request="$pb" ||
        tb_die "cannot patch $a:$pa-$b:$pb"
}

# fb_host NAME N SWITCH PORT: host namespace with 198.18.0.N/24 on eth0,
# cabled to PORT of SWITCH.
fb_host() {
    local name=$1 n=$2 sw=$3 port=$4 hns ns dev
    hns=$(fb_host_ns "$n")
    ns=$(fb_ns)
    dev="${name}up"
    tb_netns_add "$hns"
    ip -n "$ns" link add "$dev" type veth peer name eth0 netns "$hns" ||
        tb_die "veth for $name"
    ip -n "$hns" link set eth0 address "$(printf '02:00:00:00:00:%02x' "$n")"
    ip -n "$hns" addr add "198.18.0.$n/24" dev eth0
    tb_tx_off "$hns" eth0
    tb_tx_off "$ns" "$dev"
    ip -n "$hns" link set eth0 up
    ip -n "$ns" link set "$dev" up
    fb_vsctl add-port "$sw" "$dev" -- set interface "$dev" \
        ofport_request="$port" || tb_die "cannot attach $name"
}

fb_host_exec() { local n=$1; shift; ip netns exec "$(fb_host_ns "$n")" "$@"; }

# fb_host_bg N CMD...: CMD in host N's namespace, in the background, as a
# child of this shell (recorded for teardown); sets FB_BG_PID.
fb_host_bg() {
    local n=$1; shift
    ip netns exec "$(fb_host_ns "$n")" "$@" &
    FB_BG_PID=$!
    printf '%s\n' "$FB_BG_PID" >>"$TB_DIR/pids"
}

# fb_mignetd ARGS...: mignetd on loopback (ports chosen by the kernel,
# read back from its ready line) with its state under TB_DIR; sets FB_URL
# and FB_LOG.
fb_mignetd() {
    local i
    FB_LOG=$TB_DIR/mignetd.log
    mkdir -p "$TB_DIR/state"
    "$FB_BUILD/mignetd" --listen 127.0.0.1:0 --agent-listen 127.0.0.1:0 \
        --state-dir "$TB_DIR/state" --log-level info "$@" >"$FB_LOG" 2>&1 &
    echo $! >>"$TB_DIR/pids"
    for ((i = 0; i < 100; i++)); do
        grep -q "mignetd ready" "$FB_LOG" && break
        sleep 0.05
    done
    grep -q "mignetd ready" "$FB_LOG" ||
        tb_die "mignetd did not start: $(tail -5 "$FB_LOG")"
    FB_URL=http://$(sed -n 's/^mignetd ready rest=\([^ ]*\).*/\1/p' "$FB_LOG")
}

# fb_switch_args S...: --fabric-switch flags for switches S...
fb_switch_args() {
    local s
    for s in "$@"; do
        printf -- '--fabric-switch\n%s=unix:%s/%s.mgmt\n' "$s" "$FB_RUN" "$s"
    done
}

fb_cli() { "$FB_BUILD/mignet" --url "$FB_URL" "$@"; }

# fb_get PATH: GET from mignetd, JSON on stdout.
fb_get() { curl -sf "$FB_URL$1"; }

# fb_wait_connected N SECONDS: until N fabric switches are connected.
fb_wait_connected() {
    local want=$1 secs=${2:-10} i n=0
    for ((i = 0; i < secs * 10; i++)); do
        n=$(fb_get /v1/fabric | jq '[.switches[] | select(.connected)]
            | length')
        [ "$n" -ge "$want" ] && return 0
        sleep 0.1
    done
    tb_die "only $n of $want switches connected"
}

# fb_wait_links N SECONDS: until LLDP has found N links.
fb_wait_links() {
    local want=$1 secs=${2:-10} i n=0
    for ((i = 0; i < secs * 10; i++)); do
        n=$(fb_get /v1/fabric | jq '.discovered | length')
        [ "$n" -ge "$want" ] && return 0
        sleep 0.1
    done
    tb_die "LLDP found $n of $want links"
}

# fb_wait_plan MIG STATE SECONDS: until migration MIG's flows are STATE
# (installed, released, ...).
fb_wait_plan() {
    local mig=$1 want=$2 secs=${3:-10} i s=
    for ((i = 0; i < secs * 20; i++)); do
        s=$(fb_get "/v1/migrations/$mig" | jq -r '.plan.install.state')
        [ "$s" = "$want" ] && return 0
        sleep 0.05
    done
    tb_die "migration $mig plan is '$s', not '$want'"
}

# fb_mig_flows SWITCH MIG: mignet's flows of migration MIG on SWITCH
# (cookie 0x6d67 | MIG << 8 | path).
fb_mig_flows() {
    local cookie
    cookie=$(printf '0x6d67%010x00' "$2")
    fb_ofctl dump-flows "$1" "cookie=$cookie/0xffffffffffffff00" |
        grep -c 'cookie=' || true
}

# fb_register N: node hN with address 198.18.0.N.
fb_register() {
    fb_cli node add "h$1" --address "198.18.0.$1" >/dev/null
}

# fb_path_flows SWITCH MIG PATH: mignet's flows of path PATH (0-based) of
# migration MIG on SWITCH.
fb_path_flows() {
    local cookie
    cookie=$(printf '0x6d67%010x%02x' "$2" "$3")
    fb_ofctl dump-flows "$1" "cookie=$cookie/-1" | grep -c 'cookie=' || true
}
