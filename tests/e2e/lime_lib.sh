# lime_lib.sh: tenant controllers nobody here wrote, on the real Open
# vSwitch test bed (lib.sh) -- issue 14 (seed 001, LIME: tenant virtual
# switches).  Sourced by tests/e2e/test_lime_transparency.sh and
# bench/bench_vnet.sh, after lib.sh (and mig_lib.sh for the mignet parts).
#
# - lime_app_start NAME PORT [NETNS] [MIRRORS]: our os-ken app
#   (tests/e2e/lime_app.py: learning switch + event log + statistics
#   poller) listening on 127.0.0.1:PORT (in NETNS when given: a host
#   namespace, for Open vSwitch "straight"); its log is
#   $TB_DIR/lime/NAME/events.jsonl.  lime_app_cmd NAME WORDS... runs a
#   command of the app (flip, stats, bench N, install N, uninstall) and
#   prints its JSON answer.  lime_app_stop NAME.
# - lime_testctl_start NAME PORT [NETNS]: `ovs-testcontroller -O
#   OpenFlow13`, unmodified (Debian openvswitch-testcontroller), with every
#   OpenFlow message logged (vconn:dbg) to $TB_DIR/lime/NAME/tc.log;
#   lime_testctl_errors NAME counts the OFPT_ERRORs it received.
# - lime_vm_quiet X...: static ARP between the given VMs (IPv6 is already
#   off in every namespace of the bed: tb_netns_add), so the only frames a
#   VM ever sends are the probes of mignet-traffic: nothing else reaches
#   the switch, and counters can be compared with the probes exactly.
# - lime_vm_counters X: "RX TX" packets of VM X's eth0 (kernel counters).
# - lime_tap_start X FILE: tests/e2e/lime_tap.py in VM X: every probe that
#   reaches X's eth0 (any MAC) as "SENDER SEQ KIND" lines.  lime_tap_stop.
# - lime_underlay_start DIR: lime_tap.py --vxlan on every host's br-phy
#   interface (DIR/underlay.N): probes inside overlay frames that Open
#   vSwitch handed to the host's kernel instead of decapsulating them.
#   lime_underlay_stop DIR; lime_underlay_files DIR lists the files.
# - lime_ring_start RUN RATE SECS VM...: the tenant's traffic: every VM
#   sends to the next one in the list (the last to the first), each VM
#   receives from one; receivers' reports $TB_DIR/lime/RUN/recv.X.json,
#   senders' summaries $TB_DIR/send.RUN-X.json (sender ids 1000*k + X).
#   lime_ring_wait RUN waits for all of them.

# shellcheck shell=bash

LIME_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIME_PY=${LIME_PY:-/usr/bin/python3}
LIME_SLACK_MS=${LIME_SLACK_MS:-50}

# lime_require: exit 77 unless root and Open vSwitch (lib.sh's rule); the
# controllers' packages are part of the test set (scripts/deps.sh test):
# missing, they are a failure, not a skip.
lime_require() {
    tb_require
    "$LIME_PY" -c 'import os_ken' 2>/dev/null ||
        tb_die "$LIME_PY has no os_ken (scripts/deps.sh test: python3-os-ken)"
    command -v ovs-testcontroller >/dev/null 2>&1 ||
        tb_die "ovs-testcontroller missing (scripts/deps.sh test: openvswitch-testcontroller)"
    command -v jq >/dev/null 2>&1 || tb_die "jq missing"
}

lime_dir() { printf '%s/lime/%s' "$TB_DIR" "$1"; }

# _lime_wait_listen PORT NETNS: until something listens on 127.0.0.1:PORT.
_lime_wait_listen() {
    local port=$1 ns=${2:-} i
    for ((i = 0; i < 200; i++)); do
        if [ -n "$ns" ]; then
            ip netns exec "$ns" ss -Hltn "sport = :$port" | grep -q . &&
                return 0
        else
            ss -Hltn "sport = :$port" | grep -q . && return 0
        fi
        sleep 0.05
    done
    return 1
}

lime_app_start() {
    local name=$1 port=$2 ns=${3:-} mirrors=${4:-} d
    d=$(lime_dir "$name")
    mkdir -p "$d/ctl"
    : >"$d/events.jsonl"
    local cmd=(env LIME_LOG="$d/events.jsonl" LIME_CTL="$d/ctl"
               LIME_MIRRORS="$mirrors" "$LIME_PY" -m os_ken.cmd.manager
               --ofp-listen-host 127.0.0.1 --ofp-tcp-listen-port "$port"
               --log-file "$d/osken.log" "$LIME_HERE/lime_app.py")
    if [ -n "$ns" ]; then
        ip netns exec "$ns" "${cmd[@]}" >>"$d/osken.out" 2>&1 &
    else
        "${cmd[@]}" >>"$d/osken.out" 2>&1 &
    fi
    echo $! >"$d/pid"
    echo $! >>"$TB_DIR/pids"
    echo 0 >"$d/ncmd"
    _lime_wait_listen "$port" "$ns" ||
        tb_die "os-ken app $name not listening on $port: $(tail -5 "$d/osken.out")"
    tb_log "os-ken app $name on 127.0.0.1:$port${ns:+ in $ns}"
}

lime_app_stop() {
    local d
    d=$(lime_dir "$1")
    tb_stop_pid "$(cat "$d/pid" 2>/dev/null)"
}

# lime_app_wait NAME JQ_FILTER [SECONDS]: until an event of the app's log
# matches (jq -e on each line).
lime_app_wait() {
    local d i
    d=$(lime_dir "$1")
    for ((i = 0; i < ${3:-20} * 20; i++)); do
        # (no `| grep -q`: with pipefail jq's SIGPIPE would fail it)
        [ -n "$(jq -c "select($2)" "$d/events.jsonl" 2>/dev/null |
            head -n 1)" ] && return 0
        sleep 0.05
    done
    tb_die "app $1: no event matching '$2' after ${3:-20}s"
}

# lime_app_cmd NAME WORDS...: prints the app's answer (JSON).
lime_app_cmd() {
    local name=$1 d n i
    shift
    d=$(lime_dir "$name")
    n=$(( $(cat "$d/ncmd") + 1 ))
    echo "$n" >"$d/ncmd"
    printf '%s\n' "$*" >"$d/ctl/cmd.$n.tmp"
    mv "$d/ctl/cmd.$n.tmp" "$d/ctl/cmd.$n"
    for ((i = 0; i < ${LIME_CMD_TIMEOUT:-60} * 50; i++)); do
        if [ -e "$d/ctl/done.$n" ]; then
            cat "$d/ctl/done.$n"
            return 0
        fi
        sleep 0.02
    done
    tb_die "app $name: command '$*' not done"
}

# lime_app_final_stats NAME: a final poll (the app's "stats"), repeated
# until two in a row show the same totals (flow packets, port rx and tx),
# at most LIME_SETTLE_POLLS (8) times 0.6 s apart: the switch's counters
# trail the traffic by a statistics round or two, longer on a loaded
# machine.  The checker reads the last final poll.
lime_app_final_stats() {
    local name=$1 log prev='' cur i
    log=$(lime_dir "$name")/events.jsonl
    for ((i = 0; i < ${LIME_SETTLE_POLLS:-8}; i++)); do
        sleep 0.6
        lime_app_cmd "$name" stats >/dev/null
        cur=$(jq -sc '[ (map(select(.ev == "flow_stats" and .final))
                             | last | [.flows[].packets] | add),
                        (map(select(.ev == "port_stats" and .final))
                             | last | [.ports[] | .rx, .tx] | add) ]' \
              "$log")
        [ "$cur" = "$prev" ] && return 0
        prev=$cur
    done
    tb_log "app $name: counters still moving after $i polls: $cur"
}

lime_testctl_start() {
    local name=$1 port=$2 ns=${3:-} d
    d=$(lime_dir "$name")
    mkdir -p "$d"
    local cmd=(ovs-testcontroller -O OpenFlow13 --unixctl="$d/tc.ctl"
               -vconsole:off -vvconn:file:dbg -vrconn:file:dbg
               --log-file="$d/tc.log" "ptcp:$port:127.0.0.1")
    if [ -n "$ns" ]; then
        ip netns exec "$ns" "${cmd[@]}" >>"$d/tc.out" 2>&1 &
    else
        "${cmd[@]}" >>"$d/tc.out" 2>&1 &
    fi
    echo $! >"$d/pid"
    echo $! >>"$TB_DIR/pids"
    _lime_wait_listen "$port" "$ns" ||
        tb_die "ovs-testcontroller not listening on $port: $(tail -5 "$d/tc.out")"
    tb_log "ovs-testcontroller $name on 127.0.0.1:$port${ns:+ in $ns}"
}

lime_testctl_stop() { tb_stop_pid "$(cat "$(lime_dir "$1")/pid" 2>/dev/null)"; }

# OFPT_ERROR messages ovs-testcontroller received (vconn:dbg logs every
# message as "received: OFPT_..."), and the connection count.
lime_testctl_errors() {
    grep -c 'received: OFPT_ERROR' "$(lime_dir "$1")/tc.log" || true
}
# Learned flows it sent (its table-miss has priority 0, learned ones 1).
lime_testctl_flows() {
    grep -c 'sent (Success): OFPT_FLOW_MOD .*ADD priority=1,' \
        "$(lime_dir "$1")/tc.log" || true
}
# lime_testctl_wait NAME: until ovs-testcontroller has a switch and has
# sent its table-miss flow (before that a secure bridge drops everything).
lime_testctl_wait() {
    local f i
    f=$(lime_dir "$1")/tc.log
    for ((i = 0; i < 300; i++)); do
        grep -q 'sent (Success): OFPT_FLOW_MOD .*ADD priority=0 actions=CONTROLLER' \
            "$f" 2>/dev/null && { sleep 0.2; return 0; }
        sleep 0.05
    done
    tb_die "ovs-testcontroller $1: no switch after 15 s"
}
lime_testctl_connected() {
    grep -c 'received: OFPT_FEATURES_REPLY' "$(lime_dir "$1")/tc.log" || true
}

# lime_vm_neighbors X VM...: X's static ARP entries for the other VMs
# again: a VM's link going down (tb_vm_pause) flushes its neighbour table,
# while a real VM's ARP cache moves with its memory.
lime_vm_neighbors() {
    local x=$1 y
    shift
    for y in "$@"; do
        [ "$x" = "$y" ] && continue
        ip -n "$(tb_ns_vm "$x")" neigh replace "$(tb_vm_ip "$y")" \
            lladdr "$(tb_vm_mac "$y")" dev eth0 nud permanent
    done
}

lime_vm_quiet() {
    local x y
    for x in "$@"; do
        for y in "$@"; do
            [ "$x" = "$y" ] && continue
            ip -n "$(tb_ns_vm "$x")" neigh replace "$(tb_vm_ip "$y")" \
                lladdr "$(tb_vm_mac "$y")" dev eth0 nud permanent
        done
        # IPv6 is off (tb_netns_add); no gratuitous ARP on link up either.
        ip netns exec "$(tb_ns_vm "$x")" sysctl -q -w \
            net.ipv4.conf.eth0.arp_notify=0 >/dev/null
    done
}

lime_vm_counters() {
    ip -n "$(tb_ns_vm "$1")" -j -s link show eth0 |
        jq -r '.[0].stats64 | "\(.rx.packets) \(.tx.packets)"'
}

# lime_counters_json VM...: {"X": {"rx": R, "tx": T}, ...}
lime_counters_json() {
    local x rx tx first=1
    printf '{'
    for x in "$@"; do
        read -r rx tx <<<"$(lime_vm_counters "$x")"
        [ "$first" = 1 ] || printf ','
        first=0
        printf '"%s":{"rx":%s,"tx":%s}' "$x" "$rx" "$tx"
    done
    printf '}\n'
}

# lime_cap_start NETNS FILE TAP_ARGS...: lime_tap.py in NETNS, ready.
lime_cap_start() {
    local ns=$1 file=$2 ready i
    shift 2
    ready=$file.ready
    rm -f "$ready"
    tb_ns_bg "$ns" "$LIME_PY" "$LIME_HERE/lime_tap.py" "$@" "$file" "$ready"
    echo "$TB_BG_PID" >"$file.pid"
    for ((i = 0; i < 100; i++)); do
        [ -e "$ready" ] && return 0
        sleep 0.05
    done
    tb_die "capture $file did not start"
}

lime_tap_start() {
    lime_cap_start "$(tb_ns_vm "$1")" "$2" eth0
}

lime_tap_stop() {
    local file=$1 pid i
    pid=$(cat "$file.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do
        tb_pid_alive "$pid" || break
        sleep 0.05
    done
    grep -q '^# frames' "$file" || tb_die "tap $file did not finish"
}

lime_underlay_start() {
    local h
    for h in $(tb_hosts); do
        lime_cap_start "$(tb_ns_host "$h")" "$1/underlay.$h" --vxlan br-phy
    done
}

lime_underlay_files() {
    local h
    for h in $(tb_hosts); do
        printf '%s\n' "$1/underlay.$h"
    done
}

lime_underlay_stop() {
    local f
    for f in $(lime_underlay_files "$1"); do
        lime_tap_stop "$f"
    done
}

# lime_ring_start RUN RATE SECS VM...
lime_ring_start() {
    local run=$1 rate=$2 secs=$3 d i n x dst
    shift 3
    d=$(lime_dir "$run")
    mkdir -p "$d"
    local vms=("$@")
    n=${#vms[@]}
    LIME_RING_PIDS=()
    for ((i = 0; i < n; i++)); do
        x=${vms[$i]}
        tb_recv_start "$x" 5000 "$d/recv.$x.json" --senders 1 \
            --slack-ms "$LIME_SLACK_MS" --duration $((secs + 20)) \
            --linger-ms 1500 --max-listed 1000000
        LIME_RING_PIDS+=("$TB_BG_PID")
    done
    for ((i = 0; i < n; i++)); do
        x=${vms[$i]}
        dst=${vms[$(((i + 1) % n))]}
        tb_send_start "$x" "$dst" 5000 "$rate" "$secs" "$(lime_sender_id "$run" "$x")"
        LIME_RING_PIDS+=("$TB_BG_PID")
    done
    echo "${vms[*]}" >"$d/ring"
}

# Sender id of VM X in run RUN (the run's ordinal * 1000 + X; RUN's
# ordinal is its position in LIME_RUNS).
lime_sender_id() {
    local run=$1 x=$2 i=1 r
    for r in ${LIME_RUNS:-}; do
        [ "$r" = "$run" ] && break
        i=$((i + 1))
    done
    echo $((i * 1000 + x))
}

lime_ring_wait() {
    local run=$1 p d x
    for p in "${LIME_RING_PIDS[@]}"; do
        tb_wait "$p" 60
    done
    d=$(lime_dir "$run")
    for x in $(cat "$d/ring"); do
        [ -s "$d/recv.$x.json" ] || tb_die "no report from vm$x's receiver"
        cp "$TB_DIR/send.$(lime_sender_id "$run" "$x").json" "$d/send.$x.json"
    done
}

# lime_check ARGS...: tests/e2e/lime_check.py (the figures), see there.
lime_check() {
    "$LIME_PY" "$LIME_HERE/lime_check.py" "$@"
}
