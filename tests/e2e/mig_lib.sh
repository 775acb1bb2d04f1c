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
# Extra environment of mignetd (VAR=VALUE words, word-split), e.g. a slow
# disk: "LD_PRELOAD=build/slow_disk.so MIGNET_SLOW_DISK_FLAG=FILE"
# (tests/integration/slow_disk.c; FILE holds the ms each fsync waits; add
# ASAN_OPTIONS=verify_asan_link_order=0 with a sanitizer build).
MIG_MIGNETD_ENV=${MIG_MIGNETD_ENV:-}
# Map push (docs/agent-protocol.md): off unless MIG_PUSH=1, so that nodes
# learn a move by their polls and stay stale for a while, which is what
# most scenarios here are about; MIG_PUSH_MS is the push interval.
MIG_PUSH=${MIG_PUSH:-0}
MIG_PUSH_MS=${MIG_PUSH_MS:-10}

# Replicas (docs/ha.md): MIG_REPLICAS=N runs N mignetd replicas
# (--replica r0..), lease MIG_LEASE_TTL_S, on an etcd cluster of
# MIG_ETCD_MEMBERS members on loopback (ha_lib.sh); the agents get every
# replica's channel and gateway, the CLI every URL.  0 (the default): one
# mignetd on SQLite, as every test had before.
MIG_REPLICAS=${MIG_REPLICAS:-0}
MIG_LEASE_TTL_S=${MIG_LEASE_TTL_S:-2}
MIG_ETCD_MEMBERS=${MIG_ETCD_MEMBERS:-3}
MIG_R_REST=()
MIG_R_CHAN=()
MIG_R_PID=()

mignet_cli() { "$MIG_BUILD/mignet" --url "$MIG_URL" "$@"; }

# mig_free_port: a free TCP port on loopback, below the ephemeral range and
# never one this run was given before (free_port.py's ledger).
mig_free_port() {
    python3 "$(dirname "${BASH_SOURCE[0]}")/../integration/free_port.py" \
        "${TB_DIR:?tb_setup first}/.ports" || tb_die "no free port"
}

# _mig_common: the mignetd flags every daemon of the bed gets, in the
# array MIG_COMMON.
_mig_common() {
    # shellcheck disable=SC2206 # MIG_MIGNETD_ARGS is word-split on purpose
    MIG_COMMON=(--strategy "$MIG_STRATEGY" --heartbeat-ms 500
        --log-level info
        --push-interval-ms "$([ "$MIG_PUSH" = 1 ] && echo "$MIG_PUSH_MS" || echo 0)"
        ${MIG_MIGNETD_ARGS:-})
}

# _mig_mignetd: (re)starts mignetd on MIG_REST/MIG_AGENT_PORT with the
# state directory of this run; appends to its log.
_mig_mignetd() {
    local mark
    mark=$(grep -c "mignetd ready" "$TB_DIR/mignetd.log" 2>/dev/null || true)
    _mig_common
    # shellcheck disable=SC2086 # VAR=VALUE words
    env $MIG_MIGNETD_ENV "$MIG_BUILD/mignetd" --listen "127.0.0.1:$MIG_REST" \
        --agent-listen "127.0.0.1:$MIG_AGENT_PORT" \
        --state-dir "$TB_DIR/state" "${MIG_COMMON[@]}" \
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

# _mig_replica I: (re)starts replica rI on its ports (MIG_R_REST[I],
# MIG_R_CHAN[I]) and the run's etcd store; appends to
# $TB_DIR/mignetd-rI.log and waits until it leads or follows (its
# "mignetd ready" or "mignetd following" line).  A replica started while
# another leads comes up as a follower, as systemd's restart would.
_mig_replica() {
    local i=$1 log=$TB_DIR/mignetd-r$1.log mark n
    mark=$(grep -c "^mignetd \(ready\|following\)" "$log" 2>/dev/null || true)
    _mig_common
    "$MIG_BUILD/mignetd" --listen "127.0.0.1:${MIG_R_REST[i]}" \
        --agent-listen "127.0.0.1:${MIG_R_CHAN[i]}" \
        --state-dir "$TB_DIR/state-r$i" --store "$HA_STORE" \
        --store-max-txn-ops 10000 --replica "r$i" \
        --lease-ttl-s "$MIG_LEASE_TTL_S" "${MIG_COMMON[@]}" \
        >>"$log" 2>&1 &
    MIG_R_PID[i]=$!
    echo $! >>"$TB_DIR/pids"
    for _ in $(seq 1 100); do
        n=$(grep -c "^mignetd \(ready\|following\)" "$log" || true)
        [ "${n:-0}" -gt "${mark:-0}" ] && return 0
        tb_pid_alive "${MIG_R_PID[i]}" || break
        sleep 0.05
    done
    return 1
}

# mig_restart_replica I: starts replica rI again (after it was killed) on
# the same ports.
mig_restart_replica() {
    _mig_replica "$1" ||
        tb_die "replica r$1 did not restart: $(tail -5 "$TB_DIR/mignetd-r$1.log")"
}

# mig_role I: replica rI's role from its /healthz (leader, follower; empty
# when it does not answer).
mig_role() {
    curl -s -m 1 "http://127.0.0.1:${MIG_R_REST[$1]}/healthz" 2>/dev/null |
        sed -n 's/.*"role": *"\([a-z]*\)".*/\1/p' || true
}

# mig_leader: true when exactly one replica leads; then MIG_LEADER is its
# index, MIG_MIGNETD_PID its PID, MIG_AGENT_PORT its channel, and MIG_URL
# lists its URL first (the CLI tries the others next).
mig_leader() {
    local i n=0 lead=
    for ((i = 0; i < MIG_REPLICAS; i++)); do
        if [ "$(mig_role "$i")" = leader ]; then lead=$i; n=$((n + 1)); fi
    done
    [ "$n" = 1 ] || return 1
    MIG_LEADER=$lead
    MIG_MIGNETD_PID=${MIG_R_PID[lead]}
    MIG_REST=${MIG_R_REST[lead]}
    MIG_AGENT_PORT=${MIG_R_CHAN[lead]}
    MIG_URL=http://127.0.0.1:$MIG_REST
    for ((i = 0; i < MIG_REPLICAS; i++)); do
        [ "$i" = "$lead" ] || MIG_URL+=",http://127.0.0.1:${MIG_R_REST[i]}"
    done
}

# mig_wait_leader [TIMEOUT_S]: polls until one replica leads (mig_leader);
# sets MIG_LEADER_MS, the time it was seen.
mig_wait_leader() {
    local t=${1:-10} i
    for ((i = 0; i < t * 20; i++)); do
        if mig_leader; then
            MIG_LEADER_MS=$(tb_now_ms)
            return 0
        fi
        sleep 0.05
    done
    tb_die "no replica leads after ${t}s"
}

# mig_kill_leader: SIGKILL to the leading replica (MIG_LEADER).  Sets
# MIG_KILLED (its index) and MIG_KILLED_MS.
mig_kill_leader() {
    MIG_KILLED=$MIG_LEADER
    kill -KILL "${MIG_R_PID[MIG_KILLED]}"
    MIG_KILLED_MS=$(tb_now_ms)
    tb_log "leader r$MIG_KILLED killed (pid ${MIG_R_PID[MIG_KILLED]})"
}

# _mig_replicas_start: the etcd cluster and MIG_REPLICAS replicas; one of
# them leads.  Sets MIG_CONTROLLERS and MIG_GATEWAYS (every replica, in
# the same order: the agents' gateway follows their channel).
_mig_replicas_start() {
    local i try
    . "$(dirname "${BASH_SOURCE[0]}")/ha_lib.sh"
    ha_etcd_require
    ha_etcd_up "$MIG_ETCD_MEMBERS"
    MIG_CONTROLLERS="" MIG_GATEWAYS=""
    for ((i = 0; i < MIG_REPLICAS; i++)); do
        mkdir -p "$TB_DIR/state-r$i"
        for try in 1 2 3 4 5; do
            MIG_R_REST[i]=$(mig_free_port)
            MIG_R_CHAN[i]=$(mig_free_port)
            _mig_replica "$i" && break
            [ "$try" = 5 ] && tb_die "replica r$i did not start:" \
                "$(tail -5 "$TB_DIR/mignetd-r$i.log")"
        done
        MIG_CONTROLLERS+="${MIG_CONTROLLERS:+,}127.0.0.1:${MIG_R_CHAN[i]}"
        MIG_GATEWAYS+="${MIG_GATEWAYS:+,}http://127.0.0.1:${MIG_R_REST[i]}"
    done
    mig_wait_leader 10
    tb_log "replicas r0..r$((MIG_REPLICAS - 1)) on etcd, r$MIG_LEADER leads"
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
            --controller "${MIG_CONTROLLERS:-127.0.0.1:$MIG_AGENT_PORT}" \
            --gateway "${MIG_GATEWAYS:-$MIG_URL}" \
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
        [ "$MIG_REPLICAS" -gt 0 ] && { _mig_replicas_start; break; }
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
# MOVES_FN runs 0.8 s after they start.  MIG_RECV_ARGS: more receiver
# flags (e.g. "--max-listed 100000").
mig_traffic() {
    local secs=$1 report=$2 moves=$3 rpid s spids=()
    # shellcheck disable=SC2086 # MIG_RECV_ARGS is word-split on purpose
    tb_recv_start 1 5000 "$report" --senders 3 --slack-ms "$MIG_SLACK_MS" \
        --duration $((secs + 10)) ${MIG_RECV_ARGS:-}
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
