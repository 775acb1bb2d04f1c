# ha_lib.sh: an etcd cluster on loopback for the e2e bed's replicated
# mignetd (mig_lib.sh with MIG_REPLICAS=N, docs/ha.md).  Sourced by
# mig_lib.sh's mig_start when replicas are asked for, after lib.sh's
# tb_init: every member's PID goes to $TB_DIR/pids, so lib.sh's teardown
# stops it by PID (also when the test fails), its data and log stay under
# $TB_DIR.  Ports come from mig_free_port (this run's ledger).
# tests/integration/etcd_lib.sh is the integration tests' one-member
# starter; this one builds a cluster and speaks the bed's tb_* idiom.

# shellcheck shell=bash

source "$(dirname "${BASH_SOURCE[0]}")/../etcd_member.sh"

# ha_etcd_require: etcd must be installed.  A test bed runs as root only,
# where a missing package is a failure, not a skip (scripts/deps.sh test
# installs etcd-server).
ha_etcd_require() {
    command -v etcd >/dev/null 2>&1 ||
        tb_die "etcd is not installed (scripts/deps.sh test: etcd-server)"
}

# _ha_etcd_healthy PORT: the member on client PORT says it is healthy
# (which needs a quorum: the whole cluster is up).
_ha_etcd_healthy() {
    curl -sf -m 1 "http://127.0.0.1:$1/health" 2>/dev/null |
        grep -q '"health":"true"'
}

# ha_etcd_up N: starts an N-member etcd cluster on loopback (members
# e1..eN, data $TB_DIR/etcd-eI, log $TB_DIR/etcd-eI.log) and waits until
# every member is healthy.  Sets HA_STORE (mignetd's --store:
# etcd://127.0.0.1:P1,...), HA_ETCD_PID (member I at index I-1) and
# HA_ETCD_MS (the time it took).  Another set of ports is tried when a
# member does not come up (a port taken meanwhile by a parallel test).
ha_etcd_up() {
    local n=$1 try i cluster t0 ok
    local -a cport pport
    t0=$(tb_now_ms)
    for try in 1 2 3; do
        cluster="" HA_STORE="" HA_ETCD_PID=()
        for ((i = 1; i <= n; i++)); do
            cport[i]=$(mig_free_port)
            pport[i]=$(mig_free_port)
            cluster+="${cluster:+,}e$i=http://127.0.0.1:${pport[i]}"
            HA_STORE+="${HA_STORE:+,}127.0.0.1:${cport[i]}"
        done
        HA_STORE=etcd://$HA_STORE
        for ((i = 1; i <= n; i++)); do
            etcd_member "e$i" "$TB_DIR/etcd-e$i" "$TB_DIR/etcd-e$i.log" \
                "${cport[i]}" "${pport[i]}" "$cluster" \
                --initial-cluster-token "$TB_RUN-$try"
            HA_ETCD_PID+=("$!")
            echo $! >>"$TB_DIR/pids"
        done
        for _ in $(seq 1 200); do
            ok=1
            for ((i = 1; i <= n; i++)); do
                tb_pid_alive "${HA_ETCD_PID[i - 1]}" || { ok=0; break 2; }
                _ha_etcd_healthy "${cport[i]}" || { ok=0; break; }
            done
            [ "$ok" = 1 ] && break
            sleep 0.05
        done
        if [ "$ok" = 1 ]; then
            HA_ETCD_MS=$(($(tb_now_ms) - t0))
            tb_log "etcd: $n members healthy after $HA_ETCD_MS ms ($HA_STORE)"
            return 0
        fi
        for ((i = 1; i <= n; i++)); do
            tb_stop_pid "${HA_ETCD_PID[i - 1]}" etcd
        done
    done
    tb_die "etcd cluster of $n did not start: $(tail -3 "$TB_DIR/etcd-e1.log")"
}
