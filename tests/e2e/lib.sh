# lib.sh: the real-Open-vSwitch test bed, sourced by tests/e2e/test_*.sh
# and the demo.  It builds H emulated hosts (network namespaces, each with its
# own ovsdb-server + ovs-vswitchd on the userspace datapath, an integration
# bridge br-int with a flow-based VXLAN port, and an underlay bridge br-phy
# on a Linux-bridge "fabric"), VMs (namespaces on a host's br-int through a
# veth) and a "move VM" primitive with a pause.  It must never touch the root
# namespace's interfaces or routes, never kill a process it did not start
# (everything is stopped by the PID in its own pidfile), and it tears down
# everything on exit, also on failure.
#
# Usage (in a bash test):
#   . "$MIGNET_SOURCE_DIR/tests/e2e/lib.sh"
#   tb_require                  # exit 77 unless root and OVS are present
#   tb_init                     # run id, temp dir, fabric, trap EXIT
#   tb_host_add 1; tb_host_add 2; tb_tnl_neigh_all
#   tb_vm_add 1 1; tb_vm_add 2 2
#   tb_ofctl 1 add-flow br-int "table=0,priority=0,actions=drop"
#   tb_vm_move 1 2 300          # VM 1 to host 2, unreachable for 300 ms
#
# Names: host N is namespace ${TB_RUN}-hN with underlay address 198.18.0.N/24
# on br-phy (MAC 02:00:00:00:00:NN); VM X is namespace ${TB_RUN}-vX with
# eth0 = 198.18.1.X/24, MAC 02:00:00:00:01:XX (XX = X in hex), attached as
# port "vmX" with ofport 100+X on br-int; the VXLAN port is "vxlan0",
# ofport 1.  N and X are 1..250.

# shellcheck shell=bash

TB_VXLAN_OFPORT=1
TB_VM_OFPORT_BASE=100
TB_UNDERLAY_MTU=9000

tb_log() {
    printf '[tb %s] %s\n' "$(date +%T.%3N)" "$*" >&2
}

tb_die() {
    tb_log "FATAL: $*"
    exit 1
}

# Wall-clock milliseconds (the clock the traffic tool reports in).
tb_now_ms() {
    date +%s%3N
}

# Exits 77 (ctest SKIP_RETURN_CODE) unless this can run: root and Open
# vSwitch's daemons present.  Anything else missing is a real failure.
tb_require() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: needs root (network namespaces)" >&2
        exit 77
    fi
    local b
    for b in ovs-vswitchd ovsdb-server; do
        if ! command -v "$b" >/dev/null 2>&1 &&
            [ ! -x "/usr/sbin/$b" ]; then
            echo "SKIP: $b not installed" >&2
            exit 77
        fi
    done
    PATH=$PATH:/usr/sbin:/sbin
    for b in ovs-vsctl ovs-ofctl ovs-appctl ovsdb-tool ip ethtool; do
        command -v "$b" >/dev/null 2>&1 || tb_die "$b not found"
    done
}

# tb_init [RUN_ID]: creates the per-run directory and the fabric namespace,
# and arms the EXIT trap.  RUN_ID (default: random) prefixes every name.
tb_init() {
    if [ -n "${TB_DIR:-}" ]; then
        tb_die "tb_init called twice"
    fi
    local i want=${1:-}
    TB_RUN=$want
    for ((i = 0; i < 20 && ${#want} == 0; i++)); do
        TB_RUN=mn$(printf '%04x' $(( (RANDOM ^ $$ ^ i) & 0xffff )))
        [ -e "/run/netns/$TB_RUN-fab" ] || break
    done
    [ ! -e "/run/netns/$TB_RUN-fab" ] || tb_die "run id $TB_RUN in use"
    TB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mignet-$TB_RUN.XXXXXX")
    TB_FAB=$TB_RUN-fab
    TB_CLEANUP_HOOKS=()
    TB_TORN_DOWN=0
    : >"$TB_DIR/netns"
    : >"$TB_DIR/pids"
    : >"$TB_DIR/hosts"
    : >"$TB_DIR/pauses"
    mkdir -p "$TB_DIR/vm"
    trap 'tb_teardown' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    tb_log "run $TB_RUN in $TB_DIR"

    tb_netns_add "$TB_FAB"
    ip -n "$TB_FAB" link add br0 type bridge
    ip -n "$TB_FAB" link set br0 mtu "$TB_UNDERLAY_MTU" up
}

# Creates namespace NS (recorded for teardown) with IPv6 off and lo up.
tb_netns_add() {
    local ns=$1
    ip netns add "$ns" || tb_die "cannot create netns $ns"
    printf '%s\n' "$ns" >>"$TB_DIR/netns"
    ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 >/dev/null
    ip -n "$ns" link set lo up
}

tb_ns_host() { printf '%s-h%s' "$TB_RUN" "$1"; }
tb_ns_vm()   { printf '%s-v%s' "$TB_RUN" "$1"; }
tb_host_dir() { printf '%s/h%s' "$TB_DIR" "$1"; }
tb_host_ip() { printf '198.18.0.%d' "$1"; }
tb_host_mac() { printf '02:00:00:00:00:%02x' "$1"; }
tb_vm_ip() { printf '198.18.1.%d' "$1"; }
tb_vm_mac() { printf '02:00:00:00:01:%02x' "$1"; }
tb_vm_ofport() { echo $((TB_VM_OFPORT_BASE + $1)); }
# Host number VM X is attached to now (empty while detached).
tb_vm_host() { cat "$TB_DIR/vm/$1/host" 2>/dev/null; }
tb_hosts() { cat "$TB_DIR/hosts"; }

# Commands against host N's Open vSwitch (run inside its namespace).
tb_vsctl() {
    local n=$1; shift
    ip netns exec "$(tb_ns_host "$n")" ovs-vsctl --timeout=10 \
        --db="unix:$(tb_host_dir "$n")/run/db.sock" "$@"
}
tb_appctl() {
    local n=$1; shift
    ovs-appctl --timeout=10 \
        -t "$(tb_host_dir "$n")/run/ovs-vswitchd.ctl" "$@"
}
# tb_ofctl N CMD BRIDGE ARGS...: ovs-ofctl -O OpenFlow13 on host N's
# bridge, through its management socket.
tb_ofctl() {
    local n=$1 cmd=$2 br=$3; shift 3
    ovs-ofctl -O OpenFlow13 --timeout=10 "$cmd" \
        "unix:$(tb_host_dir "$n")/run/$br.mgmt" "$@"
}
# The OpenFlow management socket of host N's bridge (default br-int).
tb_mgmt_sock() {
    printf '%s/run/%s.mgmt' "$(tb_host_dir "$1")" "${2:-br-int}"
}
tb_host_exec() { local n=$1; shift; ip netns exec "$(tb_ns_host "$n")" "$@"; }
tb_vm_exec() { local x=$1; shift; ip netns exec "$(tb_ns_vm "$x")" "$@"; }

# Runs a command in the background inside VM X, as a child of this shell
# (so `wait` gives its status); sets TB_BG_PID, which teardown stops.
tb_vm_bg() {
    local x=$1; shift
    tb_ns_bg "$(tb_ns_vm "$x")" "$@"
}

# tb_ns_bg NETNS CMD...: CMD in the background in NETNS; its PID in
# TB_BG_PID and in the bed's pid list (killed at teardown).
tb_ns_bg() {
    local ns=$1; shift
    ip netns exec "$ns" "$@" &
    TB_BG_PID=$!
    printf '%s\n' "$TB_BG_PID" >>"$TB_DIR/pids"
}

tb_tx_off() {
    local ns=$1 dev=$2
    ip netns exec "$ns" ethtool -K "$dev" tx off >/dev/null 2>&1 ||
        tb_die "ethtool -K $dev tx off failed in $ns"
}

# tb_host_add N: host namespace, its own ovsdb-server and ovs-vswitchd,
# br-phy on the fabric with 198.18.0.N/24, br-int with the VXLAN port.
tb_host_add() {
    local n=$1
    [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 250 ] ||
        tb_die "bad host number '$n'"
    local ns dir
    ns=$(tb_ns_host "$n")
    dir=$(tb_host_dir "$n")
    mkdir -p "$dir/run" "$dir/db" "$dir/log"
    tb_netns_add "$ns"
    printf '%s\n' "$n" >>"$TB_DIR/hosts"

    # Underlay wire: created inside the fabric namespace, its peer born in
    # the host namespace; nothing ever exists in the root namespace.
    ip -n "$TB_FAB" link add "h$n" mtu "$TB_UNDERLAY_MTU" type veth \
        peer name uplink mtu "$TB_UNDERLAY_MTU" netns "$ns"
    ip -n "$TB_FAB" link set "h$n" master br0 up
    tb_tx_off "$TB_FAB" "h$n"
    tb_tx_off "$ns" uplink
    ip -n "$ns" link set uplink up

    local env=(env OVS_RUNDIR="$dir/run" OVS_DBDIR="$dir/db"
               OVS_LOGDIR="$dir/log")
    ovsdb-tool create "$dir/db/conf.db" \
        /usr/share/openvswitch/vswitch.ovsschema
    ip netns exec "$ns" "${env[@]}" ovsdb-server "$dir/db/conf.db" \
        --remote="punix:$dir/run/db.sock" \
        --pidfile="$dir/run/ovsdb-server.pid" \
        --unixctl="$dir/run/ovsdb-server.ctl" \
        --log-file="$dir/log/ovsdb-server.log" \
        --detach --no-chdir -vconsole:off 2>>"$dir/log/start.err" ||
        tb_die "ovsdb-server failed on host $n: $(cat "$dir/log/start.err")"
    tb_vsctl "$n" --no-wait init
    ip netns exec "$ns" "${env[@]}" ovs-vswitchd "unix:$dir/run/db.sock" \
        --pidfile="$dir/run/ovs-vswitchd.pid" \
        --unixctl="$dir/run/ovs-vswitchd.ctl" \
        --log-file="$dir/log/ovs-vswitchd.log" \
        --disable-system $(tb_route_flag) --detach --no-chdir -vconsole:off \
        2>>"$dir/log/start.err" ||
        tb_die "ovs-vswitchd failed on host $n: $(cat "$dir/log/start.err")"

    tb_vsctl "$n" \
        -- add-br br-phy \
        -- set bridge br-phy datapath_type=netdev fail_mode=standalone \
           other_config:hwaddr="$(tb_host_mac "$n")" \
           other_config:disable-in-band=true \
        -- add-port br-phy uplink \
        -- add-br br-int \
        -- set bridge br-int datapath_type=netdev fail_mode=secure \
           other_config:disable-in-band=true protocols=OpenFlow13 \
        -- add-port br-int vxlan0 \
        -- set interface vxlan0 type=vxlan ofport_request=$TB_VXLAN_OFPORT \
           options:remote_ip=flow options:key=flow ||
        tb_die "bridge set-up failed on host $n"
    ip -n "$ns" addr add "$(tb_host_ip "$n")/24" dev br-phy
    ip -n "$ns" link set br-phy up
    ip -n "$ns" link set br-int up
    tb_underlay_route "$n"
}

# The underlay route of Open vSwitch's native tunnelling.  By default
# ovs-vswitchd does not mirror the kernel's routing table
# (--disable-system-route) and is given the underlay's route itself: when
# it mirrors the table, every interface change in the host's namespace (a
# VM port added or removed) makes it flush and re-read the table, and
# between the two the tunnel's receive side has no address: VXLAN frames
# that arrive then are not decapsulated but handed to br-phy's kernel
# interface, which drops them (UdpNoPorts).  Seen as a few lost probes per
# port change (docs/dataplane.md).  TB_SYSTEM_ROUTE=1 keeps the mirror.
tb_route_flag() {
    [ "${TB_SYSTEM_ROUTE:-0}" = 1 ] || printf '%s' --disable-system-route
}
# ovs-vswitchd learns br-phy's address asynchronously; until it has, the
# route is refused ("Error while inserting route", seen once in a CI run):
# it is tried again for up to 2 s.
tb_underlay_route() {
    [ "${TB_SYSTEM_ROUTE:-0}" = 1 ] && return 0
    local i
    for i in $(seq 1 20); do
        tb_appctl "$1" ovs/route/add 198.18.0.0/24 br-phy >/dev/null 2>&1 &&
            return 0
        sleep 0.1
    done
    tb_appctl "$1" ovs/route/add 198.18.0.0/24 br-phy >/dev/null ||
        tb_die "ovs/route/add failed on host $1"
}

# Tells every host's native tunnelling the MAC of every other host's
# underlay address (it would also learn them by ARP snooping).
tb_tnl_neigh_all() {
    local a b
    for a in $(tb_hosts); do
        for b in $(tb_hosts); do
            [ "$a" = "$b" ] && continue
            tb_appctl "$a" tnl/arp/set br-phy "$(tb_host_ip "$b")" \
                "$(tb_host_mac "$b")" >/dev/null
        done
    done
}

# tb_vswitchd_restart N: stops host N's ovs-vswitchd (by its pidfile) and
# starts it again on the same database, as an upgrade or a crash would.
# Bridges come back from the database; flows do not (whoever programs
# them must notice and reinstall); the underlay address on br-phy and the
# tunnel neighbours are set again.
tb_vswitchd_restart() {
    local n=$1 ns dir
    ns=$(tb_ns_host "$n")
    dir=$(tb_host_dir "$n")
    tb_stop_pid "$(cat "$dir/run/ovs-vswitchd.pid" 2>/dev/null)" ovs-vswitchd
    rm -f "$dir/run/br-int.mgmt" "$dir/run/br-phy.mgmt"
    ip netns exec "$ns" env OVS_RUNDIR="$dir/run" OVS_DBDIR="$dir/db" \
        OVS_LOGDIR="$dir/log" ovs-vswitchd "unix:$dir/run/db.sock" \
        --pidfile="$dir/run/ovs-vswitchd.pid" \
        --unixctl="$dir/run/ovs-vswitchd.ctl" \
        --log-file="$dir/log/ovs-vswitchd.log" \
        --disable-system $(tb_route_flag) --detach --no-chdir -vconsole:off \
        2>>"$dir/log/start.err" ||
        tb_die "ovs-vswitchd restart failed on host $n"
    local i
    for ((i = 0; i < 100; i++)); do
        [ -S "$dir/run/br-int.mgmt" ] && break
        sleep 0.05
    done
    ip -n "$ns" addr replace "$(tb_host_ip "$n")/24" dev br-phy
    ip -n "$ns" link set br-phy up
    ip -n "$ns" link set br-int up
    tb_underlay_route "$n"
    tb_tnl_neigh_all
}

# tb_hosts_up H: hosts 1..H and their tunnel neighbours.
tb_hosts_up() {
    local n
    for ((n = 1; n <= $1; n++)); do
        tb_host_add "$n"
    done
    tb_tnl_neigh_all
}

# tb_vm_add X N: VM X (namespace, eth0 with its address and MAC), attached
# to host N's br-int.
tb_vm_add() {
    local x=$1 n=$2
    [[ $x =~ ^[0-9]+$ ]] && [ "$x" -ge 1 ] && [ "$x" -le 250 ] ||
        tb_die "bad VM number '$x'"
    local vns hns
    vns=$(tb_ns_vm "$x")
    hns=$(tb_ns_host "$n")
    tb_netns_add "$vns"
    mkdir -p "$TB_DIR/vm/$x"
    ip -n "$hns" link add "vm$x" type veth peer name eth0 netns "$vns"
    ip -n "$vns" link set eth0 address "$(tb_vm_mac "$x")"
    ip -n "$vns" addr add "$(tb_vm_ip "$x")/24" dev eth0
    tb_tx_off "$vns" eth0
    ip -n "$vns" link set eth0 up
    tb_vm_attach "$x" "$n"
}

# Plugs VM X's host-side veth (already in host N's namespace) into br-int.
tb_vm_attach() {
    local x=$1 n=$2 hns
    hns=$(tb_ns_host "$n")
    tb_tx_off "$hns" "vm$x"
    ip -n "$hns" link set "vm$x" up
    tb_vsctl "$n" add-port br-int "vm$x" \
        -- set interface "vm$x" ofport_request="$(tb_vm_ofport "$x")" \
           external_ids:iface-id="vm$x" \
           external_ids:attached-mac="$(tb_vm_mac "$x")" ||
        tb_die "cannot attach vm$x to host $n"
    printf '%s\n' "$n" >"$TB_DIR/vm/$x/host"
}

# Unplugs VM X from its host's br-int and moves the host-side veth end into
# host N's namespace (not yet attached there).
tb_vm_detach_to() {
    local x=$1 n=$2 old
    old=$(tb_vm_host "$x")
    [ -n "$old" ] || tb_die "vm$x is not attached"
    tb_vsctl "$old" del-port br-int "vm$x" ||
        tb_die "cannot detach vm$x from host $old"
    ip -n "$(tb_ns_host "$old")" link set "vm$x" netns "$(tb_ns_host "$n")"
    : >"$TB_DIR/vm/$x/host"
}

# The VM stops existing on the network (as a paused VM): its link goes down.
tb_vm_pause() {
    ip -n "$(tb_ns_vm "$1")" link set eth0 down
}

tb_vm_resume() {
    ip -n "$(tb_ns_vm "$1")" link set eth0 up
}

# tb_vm_move X N PAUSE_MS [CMD...]: live-migrates VM X to host N.  The VM
# is unreachable for at least PAUSE_MS: its link goes down, its port moves
# from the old host's br-int to host N's, CMD (if any: e.g. installing the
# destination's flows) runs, and the link comes back once PAUSE_MS have
# passed.  With TB_MOVE_HOOK_AT=pause, CMD runs as the VM pauses, before
# its port moves (as a hypervisor's VM manager calls at the stop, while
# the source's tap still exists and the destination's is ready); the
# function TB_MOVE_READY (if set), called with X N once the port is on
# host N, waits until the network delivers there before the VM resumes
# (a real destination's tap exists from the start of the migration; the
# bed's port only appears now).  Appends "START_MS END_MS" (wall clock) of the actual pause to
# $TB_DIR/pauses, the traffic tool's window file.
tb_vm_move() {
    local x=$1 n=$2 pause=$3; shift 3
    local old t0 t1 left
    old=$(tb_vm_host "$x")
    [ -n "$old" ] || tb_die "vm$x is not attached"
    [ "$old" != "$n" ] || tb_die "vm$x is already on host $n"
    t0=$(tb_now_ms)
    tb_vm_pause "$x"
    if [ $# -gt 0 ] && [ "${TB_MOVE_HOOK_AT:-attach}" = pause ]; then
        "$@" || tb_die "move hook '$*' failed"
    fi
    tb_vm_detach_to "$x" "$n"
    tb_vm_attach "$x" "$n"
    if [ $# -gt 0 ] && [ "${TB_MOVE_HOOK_AT:-attach}" != pause ]; then
        "$@" || tb_die "move hook '$*' failed"
    elif [ $# -gt 0 ] && [ -n "${TB_MOVE_READY:-}" ]; then
        "$TB_MOVE_READY" "$x" "$n" || tb_die "$TB_MOVE_READY failed"
    fi
    left=$((pause - ($(tb_now_ms) - t0)))
    if [ "$left" -gt 0 ]; then
        sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"
    fi
    tb_vm_resume "$x"
    t1=$(tb_now_ms)
    printf '%s %s\n' "$t0" "$t1" >>"$TB_DIR/pauses"
    tb_log "vm$x moved host $old -> $n, paused $((t1 - t0)) ms" \
        "(asked $pause)"
}

# True while PID runs (a zombie waiting for a slow reaper counts as gone:
# detached daemons are reparented to PID 1).
tb_pid_alive() {
    local state
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' \
        "/proc/$1/status" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# Sends TERM to PID if it is alive and still runs COMM (guards against a
# reused PID), waits up to 3 s, then KILL.
tb_stop_pid() {
    local pid=$1 comm=${2:-}
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    tb_pid_alive "$pid" || return 0
    if [ -n "$comm" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "$comm" ]
    then
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || return 0
    local i
    for ((i = 0; i < 60; i++)); do
        tb_pid_alive "$pid" || return 0
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
}

# tb_teardown: stops every recorded process by PID, deletes every recorded
# namespace (their veths go with them), removes the run directory unless
# the run failed or TB_KEEP=1.  Safe to call more than once.
tb_teardown() {
    local rc=$?
    [ -n "${TB_DIR:-}" ] && [ -d "$TB_DIR" ] || return "$rc"
    if [ "${TB_TORN_DOWN:-0}" = 1 ]; then
        return "$rc"
    fi
    TB_TORN_DOWN=1
    set +e
    local h pid ns
    for h in "${TB_CLEANUP_HOOKS[@]}"; do
        eval "$h"
    done
    while read -r pid; do
        tb_stop_pid "$pid"
    done <"$TB_DIR/pids"
    for h in "$TB_DIR"/h*; do
        [ -d "$h/run" ] || continue
        tb_stop_pid "$(cat "$h/run/ovs-vswitchd.pid" 2>/dev/null)" \
            ovs-vswitchd
        tb_stop_pid "$(cat "$h/run/ovsdb-server.pid" 2>/dev/null)" \
            ovsdb-server
    done
    while read -r ns; do
        [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
    done <"$TB_DIR/netns"
    : >"$TB_DIR/netns"
    : >"$TB_DIR/pids"
    if [ "$rc" -ne 0 ] || [ "${TB_KEEP:-0}" = 1 ]; then
        tb_log "kept $TB_DIR for inspection (exit $rc)"
    else
        rm -rf "$TB_DIR"
    fi
    return "$rc"
}

# Registers shell code to run first at teardown (e.g. stopping a daemon).
tb_on_exit() {
    TB_CLEANUP_HOOKS+=("$1")
}

# ---- traffic (tools/mignet-traffic) ----

# Path of the mignet-traffic binary of this build; fails if not built.
tb_traffic_bin() {
    local b=${MIGNET_BUILD_DIR:-${MIGNET_SOURCE_DIR:-.}/build}/mignet-traffic
    [ -x "$b" ] || tb_die "mignet-traffic not built ($b)"
    echo "$b"
}

# tb_recv_start X PORT REPORT [ARGS...]: receiver in VM X on UDP PORT,
# report to REPORT, pause windows from $TB_DIR/pauses; waits until bound.
# Sets TB_BG_PID.
tb_recv_start() {
    local x=$1 port=$2 report=$3; shift 3
    local bin ready i
    bin=$(tb_traffic_bin)
    ready=$TB_DIR/ready.$port.$x
    rm -f "$ready" "$report"
    tb_vm_bg "$x" "$bin" recv --port "$port" --report "$report" \
        --ready-file "$ready" --window-file "$TB_DIR/pauses" "$@"
    for ((i = 0; i < 100; i++)); do
        [ -e "$ready" ] && return 0
        sleep 0.05
    done
    tb_die "receiver in vm$x did not start"
}

# tb_send_start X DST_VM PORT RATE SECONDS ID: sender in VM X to DST_VM;
# its own summary goes to $TB_DIR/send.ID.json.  Sets TB_BG_PID.
tb_send_start() {
    local x=$1 dst=$2 port=$3 rate=$4 secs=$5 id=$6 bin
    bin=$(tb_traffic_bin)
    tb_vm_bg "$x" sh -c 'exec "$@" >"$0"' "$TB_DIR/send.$id.json" \
        "$bin" send --dst "$(tb_vm_ip "$dst"):$port" --rate "$rate" \
        --duration "$secs" --id "$id"
}

# tb_wait PID [SECONDS]: waits for a background child of this shell and
# returns its status; fails the run on timeout.
tb_wait() {
    local pid=$1 secs=${2:-30} i
    for ((i = 0; i < secs * 20; i++)); do
        if ! tb_pid_alive "$pid"; then
            wait "$pid"
            return $?
        fi
        sleep 0.05
    done
    tb_die "process $pid still running after ${secs}s"
}

# ---- checks ----

TB_FAILURES=0

# tb_expect DESCRIPTION ACTUAL OP EXPECTED (OP: -eq -ne -gt -ge -lt -le):
# prints the result, counts a failure, never exits.
tb_expect() {
    local what=$1 actual=$2 op=$3 expected=$4
    if [[ $actual =~ ^-?[0-9]+$ ]] && [ "$actual" "$op" "$expected" ]; then
        printf 'ok   %s: %s %s %s\n' "$what" "$actual" "$op" "$expected"
    else
        printf 'FAIL %s: %s, expected %s %s\n' "$what" "$actual" "$op" \
            "$expected"
        TB_FAILURES=$((TB_FAILURES + 1))
    fi
}

# Exits 1 if any tb_expect failed, else 0 (teardown runs from the trap).
tb_finish() {
    if [ "$TB_FAILURES" -ne 0 ]; then
        tb_log "$TB_FAILURES check(s) failed"
        exit 1
    fi
    tb_log "all checks passed"
    exit 0
}
