#!/usr/bin/env bash
# test_agent_slow_map.sh: the agent's first, whole map poll may take longer
# than the 1 s a delta poll gets (a 50,000-VM map is ~9 MB).  The gateway
# relays to mignetd but trickles every answer back over ~2.5 s, never
# silent for 1 s: the agent must still load the map (its version reaches
# mignetd's) with at most one poll started for it, where a 1 s deadline
# cut every answer short and asked again and again.  Real mignetd, real
# agent, a private Open vSwitch (ovs_lib.sh); everything stopped by PID.
source "$(dirname "$0")/lib.sh"
SRC=${MIGNET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/integration/ovs_lib.sh"
ovs_require
command -v python3 >/dev/null || fail "python3 is needed"

ovs_start slowmap
trap ovs_and_lib_cleanup EXIT
ovs_add_bridge br-int

start_mignetd sm --heartbeat-ms 5000
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":500}'
ok POST /v1/vms 201 '{"id":"vm1","mac":"02:00:00:00:00:01",
    "ip":"198.18.1.1","vni":100,"node":"n1"}'
# The gateway: each answer trickled back in 25 parts 0.1 s apart.
relay_gw_and_agent --trickle 25
metric() {
    curl -sf --max-time 10 "http://127.0.0.1:$MPORT/metrics" |
        awk -v n="$1" '$1 == n { print $2 }'
}

api GET /v1/map
want=$(json .version)
[ "$want" -ge 1 ] || fail "mignetd's map version is $want"
loaded=
for _ in $(seq 1 100); do
    if [ "$(metric mignet_agent_map_version 2>/dev/null)" = "$want" ]; then
        loaded=1
        break
    fi
    sleep 0.1
done
[ -n "$loaded" ] || fail "map not loaded in 10 s; polls: \
$(metric mignet_agent_gateway_polls_total), errors: \
$(metric mignet_agent_gateway_poll_errors_total)"
errors=$(metric mignet_agent_gateway_poll_errors_total)
[ "$errors" = 0 ] || fail "$errors polls cut short before the map loaded"
echo "PASS test_agent_slow_map"
