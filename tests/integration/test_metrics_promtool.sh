#!/usr/bin/env bash
# test_metrics_promtool.sh: the /metrics of the real mignetd and of the
# real mignet-agent pass `promtool check metrics` (HELP and TYPE on every
# family, base units, _total counters) with no problem reported.  The
# agent runs without Open vSwitch (its OpenFlow socket does not exist; it
# keeps retrying) but with its channel and gateway polls up.
source "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null ||
    fail "promtool is needed (scripts/deps.sh test: package prometheus)"

# check WHAT: stdin passes promtool with nothing to report.
check() {
    local out rc=0
    out=$(promtool check metrics 2>&1) || rc=$?
    [ $rc -eq 0 ] && [ -z "$out" ] ||
        fail "$1: promtool check metrics (exit $rc): $out"
}

# The checker itself: a family without HELP, an abbreviated unit and a
# counter without _total are problems.
printf '# TYPE x_latency_ms gauge\nx_latency_ms 1\n' >"$T/bad.prom"
if (check bad <"$T/bad.prom") 2>/dev/null; then
    fail "promtool accepted $(cat "$T/bad.prom")"
fi

start_mignetd prom
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":500}'
ok POST /v1/vms 201 '{"id":"vm1","mac":"02:00:00:00:00:01",
    "ip":"198.18.1.1","vni":100,"node":"n1"}'
start_real_agent n1

fetch() { curl -sf --max-time 10 "http://127.0.0.1:$MPORT/metrics" >"$T/m"; }
sample() { awk -v n="$1" '$1 == n { print $2 }' "$T/m"; }
# Wait for a welcomed channel and a map polled from the gateway.
for _ in $(seq 1 300); do
    if fetch && [ "$(sample mignet_agent_channel_connected)" = 1 ] &&
        [ "$(sample mignet_agent_map_version)" -ge 1 ]; then
        break
    fi
    sleep 0.1
done
[ "$(sample mignet_agent_channel_connected)" = 1 ] || fail "no channel"
[ "$(sample mignet_agent_map_version)" -ge 1 ] || fail "no map polled"

check mignet-agent <"$T/m"
grep -q '^mignet_agent_build_info{version="[0-9][^"]*"} 1$' "$T/m" ||
    fail "no mignet_agent_build_info"
grep -q '^# TYPE mignet_agent_loop_stall_seconds histogram$' "$T/m" ||
    fail "no loop-stall histogram"
grep -q '^# TYPE mignet_agent_map_acks_total counter$' "$T/m" ||
    fail "no map push counters"
if grep -E '^mignet_agent_[a-z_]*_ms[ {_]' "$T/m"; then
    fail "milliseconds left in the agent's metrics"
fi

curl -sf --max-time 10 "$URL/metrics" >"$T/d" || fail "mignetd /metrics"
[ -s "$T/d" ] || fail "mignetd's /metrics is empty"
check mignetd <"$T/d"
grep -q '^mignet_agents_subscribed 1$' "$T/d" ||
    fail "the agent did not subscribe to map push"

echo "PASS test_metrics_promtool"
