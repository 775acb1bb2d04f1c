# abuse_lib.sh: helpers for the clock and store abuse tests (and
# test_kill9.sh), sourced after lib.sh.  durable_state prints the state a
# restart must keep, as one canonical JSON line; try_mignetd starts mignetd
# on a given state directory and tells whether it became ready or refused
# to start.

# durable_state N_MIG: VMs, tasks, nodes, the map and migrations 1..N_MIG
# from $URL, minus what is not durable state (connections, refresh
# statistics) and what a restart sets afresh (the due times of deletions
# and prepare tasks, the restart rule).
durable_state() {
    local n=$1 m
    {
        curl -sf "$URL/v1/vms" && curl -sf "$URL/v1/tasks" \
            && curl -sf "$URL/v1/nodes" && curl -sf "$URL/v1/map" \
            || fail "GET state"
        # A migration the store lost answers an error: a difference.
        for m in $(seq 1 "$n"); do
            curl -s "$URL/v1/migrations/$m" || fail "GET migration $m"
        done
    } | jq -cs '[(.[0].vms | sort_by(.id)),
                 ([.[1].tasks[] | del(.due_unix_ms)] | sort_by(.id)),
                 ([.[2].nodes[] | {id, address, refresh_ms, state, vms}]
                  | sort_by(.id)),
                 {version: .[3].version,
                  entries: (.[3].entries | sort_by(.vm))},
                 [.[4:][] | del(.prepare_deadline_unix_ms)]]'
}

# try_mignetd NAME DIR [ARGS...]: starts mignetd on state directory DIR,
# logging to $T/NAME.log.  TRY=ready (MIGNETD_PID and URL set) or
# TRY=exited (TRY_RC set) within 10 s.
try_mignetd() {
    local name=$1 dir=$2; shift 2
    local out=$T/$name.ready i
    : >"$out"
    "$MIGNETD" --listen 127.0.0.1:0 --agent-listen 127.0.0.1:0 \
        --state-dir "$dir" "$@" >"$out" 2>>"$T/$name.log" &
    MIGNETD_PID=$!
    PIDS+=("$MIGNETD_PID")
    TRY=
    for i in $(seq 1 200); do
        if grep -q '^mignetd ready ' "$out"; then
            TRY=ready
            URL=http://$(sed -n 's/.* rest=\([^ ]*\).*/\1/p' "$out")
            AGENT_ADDR=$(sed -n 's/.* agents=\([^ ]*\).*/\1/p' "$out")
            return 0
        fi
        if ! kill -0 "$MIGNETD_PID" 2>/dev/null; then
            TRY=exited
            TRY_RC=0
            wait "$MIGNETD_PID" 2>/dev/null || TRY_RC=$?
            return 0
        fi
        sleep 0.05
    done
    fail "mignetd $name neither ready nor exited"
}
