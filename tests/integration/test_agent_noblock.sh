#!/usr/bin/env bash
# test_agent_noblock.sh: mignet-agent never waits on the network in its
# event loop.  Its gateway is a local listener that accepts and never
# answers: the agent must keep serving /metrics *while* a poll is in
# flight (a blocking poll is always over when /metrics can answer), its
# polls must end and be retried, its channel and OpenFlow session must
# come up meanwhile, and the loop-stall histogram must show no long
# stall.  A second agent's controller never completes a connect: its
# loop must not stall either.  Then the listener starts relaying to
# mignetd: the agent's map refreshes and its `refresh` report reaches
# mignetd.  Real mignetd, real
# agent, a private Open vSwitch (ovs_lib.sh); everything stopped by PID.
# ctest: serial (its assertions depend on timing)
source "$(dirname "$0")/lib.sh"
SRC=${MIGNET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/integration/ovs_lib.sh"
ovs_require
command -v python3 >/dev/null || fail "python3 is needed"

ovs_start noblock
trap ovs_and_lib_cleanup EXIT
ovs_add_bridge br-int

# wait_for WHAT 'SHELL CODE': the code (evaluated again each time)
# succeeds within 30 s.
wait_for() {
    local what=$1 end=$((SECONDS + 30))
    while [ $SECONDS -lt $end ]; do
        if eval "$2"; then return 0; fi
        sleep 0.1
    done
    if [ -f "$T/m" ]; then
        grep -E '^mignet_agent_(gateway|loop_stall_max)' "$T/m" >&2 || true
    fi
    fail "$what: not within 30 s"
}

# Push off: the map must come through the (stalled) gateway poll only.
start_mignetd nb --heartbeat-ms 5000 --push-interval-ms 0
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":500}'
ok POST /v1/vms 201 '{"id":"vm1","mac":"02:00:00:00:00:01",
    "ip":"198.18.1.1","vni":100,"node":"n1"}'
# The gateway: accepts every connection; answers none until $T/open
# exists, then relays each request to mignetd's REST and its answer back.
relay_gw_and_agent --hold "$T/open"

# fetch [PORT]: an agent's /metrics (default: n1's) into $T/m; from_m
# NAME: a sample of it; metric NAME [PORT]: both.
fetch() {
    curl -sf --max-time 10 "http://127.0.0.1:${1:-$MPORT}/metrics" >"$T/m"
}
from_m() { awk -v n="$1" '$1 == n { print $2 }' "$T/m"; }
metric() { fetch "${2:-}" && from_m "$1"; }
# no_stall [PORT]: no loop stall of 0.5 s or more (a blocking poll or
# connect holds the loop 1 s each time).
no_stall() {
    fetch "${1:-}" || fail "no /metrics"
    local count under
    count=$(from_m mignet_agent_loop_stall_seconds_count)
    [ "$count" -gt 0 ] || fail "no loop-stall samples"
    under=$(from_m 'mignet_agent_loop_stall_seconds_bucket{le="0.5"}')
    [ "$under" = "$count" ] ||
        fail "loop stalled: $under of $count under 0.5 s"
    echo "loop stall max $(from_m mignet_agent_loop_stall_max_seconds) s," \
        "$count samples"
}
polls() { metric mignet_agent_gateway_polls_total; }
wait_for "agent's /metrics" '[ -n "$(polls 2>/dev/null)" ]'

# ---- a gateway that never answers ----
# A poll in flight is visible: started (polls_total) but not ended
# (errors_total; nothing can succeed yet).  A blocking poll would always
# be over by the time the loop serves /metrics.
in_flight() {
    fetch || return 1
    [ "$(from_m mignet_agent_gateway_polls_total)" -gt \
      "$(from_m mignet_agent_gateway_poll_errors_total)" ]
}
wait_for "/metrics answered during a poll" in_flight
# Polls end (1 s deadline) and are retried.
wait_for "polls ended and retried" \
    '[ "$(metric mignet_agent_gateway_poll_errors_total)" -ge 3 ]'
# The channel and the OpenFlow session came up meanwhile.
wait_for "channel welcomed" \
    '[ "$(metric mignet_agent_channel_connected)" = 1 ]'
wait_for "OpenFlow up" '[ "$(metric mignet_agent_openflow_connected)" = 1 ]'
[ "$(metric mignet_agent_map_version)" = 0 ] || fail "map without gateway"
api GET /v1/nodes/n1
[ "$(json .map_version)" = 0 ] || fail "refresh reported: $BODY"
no_stall
grep -q '^mignet_agent_loop_stall_seconds_bucket{le="+Inf"} ' "$T/m" ||
    fail "no +Inf bucket"

# ---- a controller whose connects never complete ----
# Its listen queue is full (one connection it never accepts), so a new
# connect hangs.  Agent n2 (no Open vSwitch) must time its connects out,
# retry them, and keep its loop (and polls) going meanwhile.
python3 -u -c '
import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
c = socket.create_connection(s.getsockname())
print(s.getsockname()[1])
time.sleep(600)' >"$T/jam.out" 2>>"$T/jam.log" &
PIDS+=("$!")
wait_for "jammed listener" 'grep -q "^[0-9]" "$T/jam.out"'
MPORT2=$(free_port)
save_token n2 mgn_never-checked # the jammed listener never reads it
"$MIGNET_BUILD_DIR/mignet-agent" --node n2 --token-file "$T/token-n2" \
    --ofp "unix:$T/no-bridge.mgmt" \
    --controller "127.0.0.1:$(head -n 1 "$T/jam.out")" --gateway "$GW" \
    --refresh-ms 200 --metrics "127.0.0.1:$MPORT2" --log-level debug \
    >"$T/agent2.out" 2>>"$T/agent2.log" &
PIDS+=("$!")
wait_for "n2's connects timed out and retried" \
    '[ "$(grep -c "channel_connect_failed.*timed out" "$T/agent2.log")" \
       -ge 3 ]'
wait_for "n2's polls go on" \
    '[ "$(metric mignet_agent_gateway_poll_errors_total "$MPORT2")" -ge 3 ]'
no_stall "$MPORT2"

# ---- the gateway answers: the refresh happens ----
touch "$T/open"
api GET /v1/map
want=$(json .version)
[ "$want" -ge 1 ] || fail "mignetd's map version is $want"
wait_for "agent holds map v$want" \
    '[ "$(metric mignet_agent_map_version)" = "$want" ]'
node_version() { api GET /v1/nodes/n1; [ "$(json .map_version)" = "$want" ]; }
wait_for "refresh $want reported to mignetd" node_version
[ "$(json .refresh.count)" -ge 1 ] || fail "refresh not counted: $BODY"

echo "PASS test_agent_noblock"
