# mig_lib.sh: live migrations driven through mignet itself on the real
# Open vSwitch test bed (lib.sh): mignetd, one mignet-agent per host
# (OpenFlow 1.3 to its bridge), VMs created and migrated with the `mignet`
# command line exactly as a VM manager would, sequenced UDP measuring every
# lost packet.  Sourced by tests/e2e/test_mig_*.sh and scripts/demo.sh.
#
# Everything started here is recorded for lib.sh's teardown (by PID).
# Hosts: h1..h3 = nodes n1..n3 with map refresh 1 s, 2 s, 4 s, so stale
# senders exist.  VM 1 (vm1) is the one that moves and receives; vm2 on
# n2, vm3 on n3 and vm4 on n1 send to it.

# shellcheck shell=bash

MIG_BUILD=${MIGNET_BUILD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
MIG_REFRESH=(0 1000 2000 4000) # per node, index = host number
MIG_RATE=${MIG_RATE:-300}       # probes/s per sender
MIG_PAUSE_MS=${MIG_PAUSE_MS:-300}
MIG_SLACK_MS=${MIG_SLACK_MS:-50}
MIG_METRICS=()
MIG_AGENT_PID=()
# Extra mignet-agent flags (word-split), e.g. "--dhcp-snoop agent".
MIG_AGENT_ARGS=${MIG_AGENT_ARGS:-}
# Map push (docs/agent-protocol.md): off unless MIG_PUSH=1, so that nodes
# learn a move by their polls and stay stale for a while, which is what
# most scenarios here are about; MIG_PUSH_MS is the push interval.
MIG_PUSH=${MIG_PUSH:-0}
MIG_PUSH_MS=${MIG_PUSH_MS:-10}

mignet_cli() { "$MIG_BUILD/mignet" --url "$MIG_URL" "$@"; }

# mig_free_port: a free TCP port on loopback, below the ephemeral range and
# never one this run was given before (free_port.py's ledger).
mig_free_port() {
    python3 "$(dirname "${BASH_SOURCE[0]}")/../integration/free_port.py" \
        "${TB_DIR:?tb_setup first}/.ports" || tb_die "no free port"
}

# _mig_mignetd: (re)starts mignetd on MIG_REST/MIG_AGENT_PORT with the
# state directory of this run; appends to its log.
_mig_mignetd() {
    local mark
    mark=$(grep -c "mignetd ready" "$TB_DIR/mignetd.log" 2>/dev/null || true)
    "$MIG_BUILD/mignetd" --listen "127.0.0.1:$MIG_REST" \
        --agent-listen "127.0.0.1:$MIG_AGENT_PORT" \
        --state-dir "$TB_DIR/state" --strategy "$MIG_STRATEGY" \
        --heartbeat-ms 500 --log-level info \
        --push-interval-ms "$([ "$MIG_PUSH" = 1 ] && echo "$MIG_PUSH_MS" || echo 0)" \
        ${MIG_MIGNETD_ARGS:-} \
        >>"$TB_DIR/mignetd.log" 2>&1 &
    MIG_MIGNETD_PID=$!
    echo $! >>"$TB_DIR/pids"
    for _ in $(seq 1 100); do
        [ "$(grep -c "mignetd ready" "$TB_DIR/mignetd.log")" -gt "${mark:-0}" ] &&
            return 0
        tb_pid_alive "$MIG_MIGNETD_PID" || break
        sleep 0.05
    done
    return 1
}

# mig_restart_mignetd: starts mignetd again (after it was killed) on the
# same ports and state.
mig_restart_mignetd() {
    _mig_mignetd || tb_die "mignetd did not restart: $(tail -5 "$TB_DIR/mignetd.log")"
}

# _mig_agent H: starts host H's agent with the node's token
# ($TB_DIR/token-nH, from mig_start's node add; a new metrics port each
# time); appends to its log and waits for it to be ready.
_mig_agent() {
    local h=$1 try mark
    for try in 1 2 3 4 5; do
        mark=$(grep -c "mignet-agent ready" "$TB_DIR/agent$h.log" \
            2>/dev/null || true)
        MIG_METRICS[$h]=$(mig_free_port)
        "$MIG_BUILD/mignet-agent" --node "n$h" \
            --token-file "$TB_DIR/token-n$h" \
            --ofp "unix:$(tb_mgmt_sock "$h")" \
            --ovsdb "unix:$(tb_host_dir "$h")/run/db.sock" \
            --controller "127.0.0.1:$MIG_AGENT_PORT" --gateway "$MIG_URL" \
            --refresh-ms "${MIG_REFRESH[$h]}" --refresh-jitter 0.1 \
            --stats-ms 100 --metrics "127.0.0.1:${MIG_METRICS[$h]}" \
            --log-level info ${MIG_AGENT_ARGS:-} \
            >>"$TB_DIR/agent$h.log" 2>&1 &
        MIG_AGENT_PID[$h]=$!
        echo $! >>"$TB_DIR/pids"
        local ready
        for _ in $(seq 1 40); do
            # The background shell may not have created the log yet.
            ready=$(grep -c "mignet-agent ready" "$TB_DIR/agent$h.log" \
                2>/dev/null || true)
            [ "${ready:-0}" -gt "${mark:-0}" ] && return 0
            tb_pid_alive "${MIG_AGENT_PID[$h]}" || break
            sleep 0.05
        done
    done
    tb_die "agent n$h did not start: $(tail -3 "$TB_DIR/agent$h.log")"
}

# mig_restart_agent H: stops host H's agent by PID and starts it again.
mig_restart_agent() {
    tb_stop_pid "${MIG_AGENT_PID[$1]}" mignet-agent
    _mig_agent "$1"
}

# mig_start STRATEGY: mignetd + agents for hosts 1..3.
mig_start() {
    local h
    MIG_STRATEGY=$1
    mkdir -p "$TB_DIR/state"
    # A port found free may be taken by a parallel test before mignetd
    # binds it: try other ports.
    local try
    for try in 1 2 3 4 5; do
        MIG_REST=$(mig_free_port)
        MIG_AGENT_PORT=$(mig_free_port)
        MIG_URL=http://127.0.0.1:$MIG_REST
        _mig_mignetd && break
        [ "$try" = 5 ] &&
            tb_die "mignetd did not start: $(tail -5 "$TB_DIR/mignetd.log")"
    done
    local agents=$MIG_AGENT_PORT strategy=$MIG_STRATEGY
    for h in 1 2 3; do
        mignet_cli node add "n$h" --address "$(tb_host_ip "$h")" \
            --refresh-ms "${MIG_REFRESH[$h]}" \
            --token-out "$TB_DIR/token-n$h" >/dev/null
        _mig_agent "$h"
    done
    MIG_AGENTS=127.0.0.1:$agents
    tb_log "mignetd ($strategy) at $MIG_URL, agents for n1..n3"
}

# mig_metric H NAME: a metric of host H's agent.
mig_metric() {
    curl -sf "http://127.0.0.1:${MIG_METRICS[$1]}/metrics" |
        awk -v n="$2" '$1 == n { print $2 }'
}

# mig_vm X HOST: creates VM X on HOST in the bed and in mignet.
mig_vm() {
    local x=$1 h=$2
    tb_vm_add "$x" "$h"
    mignet_cli vm create "vm$x" --mac "$(tb_vm_mac "$x")" \
        --ip "$(tb_vm_ip "$x")" --vni 100 --node "n$h" >/dev/null
}

# mig_wait_connected VM...: every pair can ping (the agents' flows work).
mig_wait_connected() {
    local a b ok
    for _ in $(seq 1 40); do
        ok=1
        for a in "$@"; do
            for b in "$@"; do
                [ "$a" = "$b" ] && continue
                tb_vm_exec "$a" busybox ping -c 1 -W 1 "$(tb_vm_ip "$b")" \
                    >/dev/null 2>&1 || { ok=0; break 2; }
            done
        done
        [ "$ok" = 1 ] && return 0
        sleep 0.25
    done
    tb_die "VMs $* not connected through the agents' flows"
}

# mig_phase ID: the migration's phase.
mig_phase() { mignet_cli --json migration show "$1" | jq -r .phase; }

# mig_migrate X NODE: the VM manager's switch-over: the VM pauses, mignet
# is told, the VM resumes on NODE once the network is ready there (phase
# relaying, i.e. both agents confirmed by barrier), after at least the
# pause.  Records the migration id in MIG_LAST.
mig_migrate() {
    local x=$1 node=$2 h=${2#n}
    _mig_switch() {
        MIG_LAST=$(mignet_cli --json vm migrate "vm$MIG_X" --to "$MIG_NODE" |
            jq -r .migration)
        local p
        for _ in $(seq 1 100); do
            p=$(mig_phase "$MIG_LAST")
            [ "$p" != preparing ] && break
            sleep 0.02
        done
        echo "$MIG_LAST" >"$TB_DIR/last-migration"
    }
    MIG_X=$x MIG_NODE=$node tb_vm_move "$x" "$h" "$MIG_PAUSE_MS" _mig_switch
    MIG_LAST=$(cat "$TB_DIR/last-migration")
    tb_log "vm$x -> $node: migration $MIG_LAST ($(mig_phase "$MIG_LAST"))"
}

# _mig_dst_ready X H [KIND...]: host H's br-int delivers to VM X's port
# (its flows of each cookie KIND, default 1 = LOCAL, output there), e.g.
# before the VM resumes (TB_MOVE_READY).  A tenant VM's port also needs
# kind 8 (its directed delivery from the overlay: docs/vswitch.md).
_mig_dst_ready() {
    local x=$1 h=$2 port kind cookie i
    shift 2
    [ $# -gt 0 ] || set -- 1
    port=$(tb_vm_ofport "$x")
    for kind in "$@"; do
        cookie=$(dp_cookie "$kind" "vm$x")
        for ((i = 0; i < 400; i++)); do
            dp_flows "$h" "$cookie" | grep -q "output:$port\b" && break
            sleep 0.005
        done
        if [ "$i" -ge 400 ]; then
            tb_log "vm$x: no delivery (kind $kind) to port $port on host $h after 2 s"
            return 1
        fi
    done
}
export TB_MOVE_READY=${TB_MOVE_READY:-_mig_dst_ready}

# mig_wait_cleaned ID [TIMEOUT_S]
mig_wait_cleaned() {
    local id=$1 t=${2:-20}
    for _ in $(seq 1 $((t * 10))); do
        [ "$(mig_phase "$id")" = cleaned ] && return 0
        sleep 0.1
    done
    tb_die "migration $id not cleaned after ${t}s"
}

# mig_table H: host H's whole br-int table, sorted, without counters.
mig_table() {
    tb_ofctl "$1" dump-flows br-int --no-stats | sed 's/^ *//' | sort
}

# mig_flows H KIND VM: flows of that kind for VM on host H
# (kinds: 1 local, 2 relay, 3 remote; docs/dataplane.md cookies).
mig_flows() {
    local h=$1 kind=$2 vm=$3 cookie
    cookie=$(dp_cookie "$kind" "$vm")
    dp_flows "$h" "$cookie"
}

# mig_traffic SECONDS REPORT MOVES_FN: receiver in vm1, senders vm2..vm4;
# MOVES_FN runs 0.8 s after they start.
mig_traffic() {
    local secs=$1 report=$2 moves=$3 rpid s spids=()
    tb_recv_start 1 5000 "$report" --senders 3 --slack-ms "$MIG_SLACK_MS" \
        --duration $((secs + 10))
    rpid=$TB_BG_PID
    for s in 2 3 4; do
        tb_send_start "$s" 1 5000 "$MIG_RATE" "$secs" "$s"
        spids+=("$TB_BG_PID")
    done
    sleep 0.8
    "$moves"
    for s in "${spids[@]}"; do
        tb_wait "$s" $((secs + 15))
    done
    tb_wait "$rpid" 20
    [ -s "$report" ] || tb_die "no traffic report in $report"
}

# mig_total REPORT FIELD
mig_total() { jq -r ".total.$2" "$1"; }

# mig_bed STRATEGY: the whole set-up: 3 hosts, mignet, 4 VMs connected.
mig_bed() {
    tb_init
    tb_hosts_up 3
    mig_start "$1"
    mig_vm 1 1
    mig_vm 2 2
    mig_vm 3 3
    mig_vm 4 1
    mig_wait_connected 1 2 3 4
    # Let every agent refresh a few times so the controller has measured
    # refresh statistics (the dynamic delay is made of them).
    sleep 2
}
