# lib.sh: helpers for integration tests that run the real mignetd.
#
# Source it from a test; it starts daemons on ephemeral loopback ports with
# a state directory under a per-test temporary directory, and an EXIT trap
# stops every process it started (by PID) and removes the directory.  It
# never touches anything outside that directory and loopback.
set -euo pipefail

: "${MIGNET_BUILD_DIR:?set MIGNET_BUILD_DIR to the build directory}"
MIGNETD=${MIGNETD:-$MIGNET_BUILD_DIR/mignetd}
[ -x "$MIGNETD" ] || { echo "no mignetd at $MIGNETD" >&2; exit 1; }
for tool in curl jq; do
    command -v "$tool" >/dev/null || {
        echo "$tool is needed (scripts/deps.sh test)" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/mignet-it.XXXXXX")
PIDS=()
# stop_all RC: stops every process started (by PID), shows the logs when
# RC is not 0, removes $T (kept after a failure with MIGNET_KEEP=1).
stop_all() {
    local p f
    for p in "${PIDS[@]}"; do
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ "$1" -ne 0 ]; then
        for f in "$T"/*.log; do
            [ -f "$f" ] || continue
            echo "---- $f (last 30 lines)" >&2
            tail -n 30 "$f" >&2
        done
        if [ "${MIGNET_KEEP:-0}" = 1 ]; then
            echo "MIGNET_KEEP=1: the failed test's files stay in $T" >&2
            return
        fi
    fi
    rm -rf "$T"
}
cleanup() {
    local rc=$?
    if [ "$rc" -eq 0 ] && ! check_answers; then
        rc=1
    fi
    stop_all $rc
    exit $rc
}

# Every answer api() receives is recorded in $T/answers and checked
# against docs/api.yaml once, when the test ends (api_validate.py, one
# python run a test): a mismatch fails the test.  API_CHECK=0 records
# nothing (a test of answers the contract does not describe, e.g. a fake
# server's).
API_CHECK=${API_CHECK:-1}
API_SPEC=${API_SPEC:-${MIGNET_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." \
    && pwd)}/docs/api.yaml}
check_answers() {
    [ -s "$T/answers" ] || return 0
    local py=/usr/bin/python3
    "$py" -c 'import jsonschema, yaml' 2>/dev/null || {
        echo "FAIL: python3-jsonschema and python3-yaml are needed" \
             "(scripts/deps.sh test)" >&2; return 1; }
    "$py" "$(dirname "${BASH_SOURCE[0]}")/api_validate.py" "$API_SPEC" \
        --log "$T/answers" >&2
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# free_port: a TCP port free on 127.0.0.1, below the ephemeral range and
# never one this test was given before (free_port.py, ledger $T/.ports).
free_port() {
    python3 "$(dirname "${BASH_SOURCE[0]}")/free_port.py" "$T/.ports" ||
        fail "no free port"
}

# start_mignetd NAME [ARGS...]: starts mignetd with state dir $T/NAME and
# sets MIGNETD_PID, URL (http://ADDR:PORT) and AGENT_ADDR (ADDR:PORT).
start_mignetd() {
    local name=$1; shift
    local out=$T/$name.ready
    : >"$out"
    "$MIGNETD" --listen 127.0.0.1:0 --agent-listen 127.0.0.1:0 \
        --state-dir "$T/$name" "$@" >"$out" 2>>"$T/$name.log" &
    MIGNETD_PID=$!
    PIDS+=("$MIGNETD_PID")
    local i
    for i in $(seq 1 100); do
        if grep -q '^mignetd ready ' "$out"; then
            break
        fi
        kill -0 "$MIGNETD_PID" 2>/dev/null || fail "mignetd $name exited"
        sleep 0.05
    done
    grep -q '^mignetd ready ' "$out" || fail "mignetd $name not ready"
    [ "$(wc -l <"$out")" -eq 1 ] || fail "ready output is not one line"
    URL=http://$(sed -n 's/.* rest=\([^ ]*\).*/\1/p' "$out")
    AGENT_ADDR=$(sed -n 's/.* agents=\([^ ]*\).*/\1/p' "$out")
}

# stop_pid PID SIGNAL: signals PID and waits for it; sets STOP_RC.
stop_pid() {
    kill -"$2" "$1"
    STOP_RC=0
    wait "$1" 2>/dev/null || STOP_RC=$?
    local keep=()
    for p in "${PIDS[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

# api METHOD PATH [BODY [CONTENT_TYPE]]: one real HTTP request; sets
# STATUS, BODY and CTYPE (the answer's Content-Type).  With a BODY the
# content type defaults to application/json; "-" sends none.  A BODY of
# @FILE sends the file.  API_HEADERS (an array) adds curl -H arguments.
# A node added (POST /v1/nodes, 201) leaves its token in $T/token-ID
# (mode 0600), which start_agent gives the agent.
API_HEADERS=()
api() {
    local method=$1 path=$2
    local args=(-s -o "$T/body" -D "$T/headers" -w '%{http_code}'
                -X "$method" "${API_HEADERS[@]+"${API_HEADERS[@]}"}")
    if [ $# -ge 3 ]; then
        local ct=${4-application/json}
        if [ "$ct" = "-" ]; then
            args+=(-H 'Content-Type:')
        else
            args+=(-H "Content-Type: $ct")
        fi
        args+=(--data-binary "$3")
    fi
    : >"$T/body" # curl leaves the file alone when there is no body
    STATUS=$(curl "${args[@]}" "$URL$path") || fail "curl $method $path"
    BODY=$(cat "$T/body")
    CTYPE=$(sed -n 's/^[Cc]ontent-[Tt]ype: *\([^\r]*\).*/\1/p' \
            "$T/headers")
    if [ "$API_CHECK" = 1 ]; then
        local names
        names=$(sed -n 's/^\([A-Za-z0-9-]*\):.*/\1/p' "$T/headers" \
                | tr 'A-Z\n' 'a-z,')
        { printf '@@ %s %s %s %s %s %s\n' "$method" "$path" "$STATUS" \
              "$(stat -c %s "$T/body")" "${names:-,}" "${CTYPE:--}"
          cat "$T/body"; echo; } >>"$T/answers"
    fi
    if [ "$method" = POST ] && [ "${path%%\?*}" = /v1/nodes ] \
        && [ "$STATUS" = 201 ]; then
        save_token "$(jq -r .id <<<"$BODY")" "$(jq -r .token <<<"$BODY")"
    fi
}

# save_token NODE TOKEN: keeps a node's token in $T/token-NODE (0600).
save_token() {
    [ -n "$2" ] && [ "$2" != null ] || fail "no token for node $1"
    (umask 077 && printf '%s\n' "$2" >"$T/token-$1")
}

# token NODE: the node's token saved by api or save_token.
token() { cat "$T/token-$1"; }

# json FILTER: applies a jq filter to the last BODY.
json() { jq -r "$1" <<<"$BODY"; }

# ok METHOD PATH STATUS [BODY]: a request that must succeed with STATUS.
ok() {
    local want=$3
    if [ $# -ge 4 ]; then api "$1" "$2" "$4"; else api "$1" "$2"; fi
    [ "$STATUS" = "$want" ] || fail "$1 $2 -> $STATUS, want $want: $BODY"
}

# eventually DESCRIPTION COMMAND...: retries COMMAND for up to 10 s.
eventually() {
    local what=$1; shift
    local i
    for i in $(seq 1 200); do
        if "$@" 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    fail "timed out waiting for: $what"
}

# must_refuse WHAT EXPECTED ARGS...: mignetd with ARGS (state dir
# $T/refused) exits non-zero within 10 s (REFUSE_TIMEOUT), never ready,
# with EXPECTED on stderr.
must_refuse() {
    local what=$1 want=$2; shift 2
    local rc=0
    timeout "${REFUSE_TIMEOUT:-10}" "$MIGNETD" --state-dir "$T/refused" "$@" \
        >"$T/refused.out" 2>"$T/refused.err" || rc=$?
    [ $rc -ne 0 ] && [ $rc -ne 124 ] ||
        fail "$what: mignetd did not refuse (exit $rc)"
    grep -qF -- "$want" "$T/refused.err" ||
        fail "$what: stderr lacks '$want': $(cat "$T/refused.err")"
    ! grep -q '^mignetd ready' "$T/refused.out" ||
        fail "$what: mignetd said ready"
}

# state NODE FILTER: applies a jq filter to a test agent's state file.
state() { jq -e "$2" "$T/agent-$1.json" >/dev/null; }

# start_agent NODE [ARGS...]: a test agent (mignet-test-agent) for NODE
# on $AGENT_ADDR with the node's token ($T/token-NODE, if there is one),
# logging to $T/agent-NODE.*; sets AGENT_PID.
start_agent() {
    local node=$1; shift
    local cred=()
    [ -f "$T/token-$node" ] && cred=(--token-file "$T/token-$node")
    "$MIGNET_BUILD_DIR/mignet-test-agent" --controller "$AGENT_ADDR" \
        --node "$node" "${cred[@]+"${cred[@]}"}" \
        --log "$T/agent-$node.trace" \
        --state "$T/agent-$node.json" --reconnect-ms 100 "$@" \
        2>>"$T/agent-$node.log" &
    AGENT_PID=$!
    PIDS+=("$AGENT_PID")
}

# start_real_agent NODE: the real mignet-agent for NODE, without Open
# vSwitch (its OpenFlow socket does not exist; it keeps retrying) but with
# its channel, its gateway polls and its /metrics on a free port, MPORT;
# logs to $T/agent.log.  Sets AGENT_PID.
start_real_agent() {
    MPORT=$(free_port)
    "$MIGNET_BUILD_DIR/mignet-agent" --node "$1" --token-file "$T/token-$1" \
        --ofp "unix:$T/no-bridge.mgmt" \
        --controller "$AGENT_ADDR" --gateway "$URL" --refresh-ms 200 \
        --metrics "127.0.0.1:$MPORT" >"$T/agent.out" 2>>"$T/agent.log" &
    AGENT_PID=$!
    PIDS+=("$AGENT_PID")
}
