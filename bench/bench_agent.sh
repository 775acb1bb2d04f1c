#!/usr/bin/env bash
# bench_agent.sh: mignet-agent on real Open vSwitch.
#   1. instruction latency: N migrations one at a time between two nodes;
#      each agent reports the time from receiving an instruction to Open
#      vSwitch's barrier reply confirming its flows (p50/p99);
#   2. full resync: V VMs placed on n2 give n1 two flows each (forwarding
#      by the map + ARP answer); n1's agent is restarted and timed from its
#      start until a barrier confirms a table holding all of them
#      (connect, resync, map poll, compute, install).
# Baseline in the same run: `mignet-ofctl bench` on the same bed, with no
# agent logic: one batch of 2V flows + barrier, and N single flow_mod +
# barrier round trips.
# Usage: bench/bench_agent.sh [N=300] [V=5000]   (root; builds first)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-300}
V=${2:-5000}
"$root/scripts/build.sh"
export MIGNET_BUILD_DIR=$root/build MIGNET_SOURCE_DIR=$root
. "$root/tests/e2e/lib.sh"
tb_require
. "$root/tests/e2e/flows.sh"
. "$root/tests/e2e/mig_lib.sh"
exec 3>&1
{
tb_init
tb_hosts_up 2
MIG_REFRESH=(0 1000 1000 1000)
mig_start mignet
} 2>/dev/null

# 1. Migrations one at a time (the agents confirm each with a barrier).
for i in $(seq 1 20); do
    mignet_cli vm create "lat$i" --mac "$(printf '02:00:00:02:00:%02x' "$i")" \
        --ip "198.19.0.$i" --vni 100 --node n1 >/dev/null
done
for i in $(seq 1 "$N"); do
    v=$(( (i - 1) % 20 + 1 ))
    to=$(( (i / 20) % 2 == 0 ? 2 : 1 ))
    mignet_cli vm migrate "lat$v" --to "n$to" >/dev/null 2>&1 || true
    sleep 0.02
done
sleep 1
# lat_ms NODE QUANTILE: the agent's instruction latency in milliseconds.
lat_ms() {
    mig_metric "$1" \
        "mignet_agent_instruction_latency_seconds{quantile=\"$2\"}" |
        awk '{ printf "%.3f", $1 * 1000 }'
}
p50_1=$(lat_ms 1 0.5)
p99_1=$(lat_ms 1 0.99)
p50_2=$(lat_ms 2 0.5)
p99_2=$(lat_ms 2 0.99)
n_1=$(mig_metric 1 mignet_agent_instruction_latency_seconds_count)

# 2. V VMs on n2; restart n1's agent and time its full table.
seq 1 "$V" | xargs -P 4 -I{} sh -c '
    i={}; "$0" --url "$1" vm create "bulk$i" \
      --mac "$(printf "02:00:00:03:%02x:%02x" $((i / 256)) $((i % 256)))" \
      --ip "198.19.$((1 + i / 250)).$((i % 250 + 1))" --vni 100 \
      --node n2 >/dev/null' "$MIG_BUILD/mignet" "$MIG_URL"
sleep 3
kill -TERM "${MIG_AGENT_PID[1]}"
sleep 0.5
t_start=$(tb_now_ms)
"$MIG_BUILD/mignet-agent" --node n1 --ofp "unix:$(tb_mgmt_sock 1)" \
    --controller "$MIG_AGENTS" --gateway "$MIG_URL" --refresh-ms 1000 \
    --metrics "127.0.0.1:${MIG_METRICS[1]}" >"$TB_DIR/agent1b.log" 2>&1 &
echo $! >>"$TB_DIR/pids"
# From the process start to Open vSwitch confirming (barrier) a table
# with every VM's flows: connect, resync, map poll, compute, install.
confirmed=0
for _ in $(seq 1 400); do
    confirmed=$(mig_metric 1 mignet_agent_flows_confirmed 2>/dev/null || true)
    [ -n "$confirmed" ] && [ "$confirmed" -ge $((2 * V)) ] && break
    sleep 0.01
done
t_done=$(tb_now_ms)
mods=$(mig_metric 1 mignet_agent_biggest_batch_flow_mods)
secs=$(mig_metric 1 mignet_agent_biggest_batch_seconds)
flows=$(mig_metric 1 mignet_agent_flows_confirmed)
# 3. Instruction latency again, now that n1 holds a 10,000-flow table (its
#    restarted agent's latency samples are all from this phase).
for i in $(seq 1 "$N"); do
    v=$(( (i - 1) % 20 + 1 ))
    to=$(( (i / 20) % 2 == 0 ? 1 : 2 ))
    mignet_cli vm migrate "lat$v" --to "n$to" >/dev/null 2>&1 || true
    sleep 0.02
done
sleep 1
big_p50=$(lat_ms 1 0.5)
big_p99=$(lat_ms 1 0.99)
# The longest the restarted n1 agent's loop was held (resync included).
stall_ms=$(mig_metric 1 mignet_agent_loop_stall_max_seconds |
    awk '{ printf "%.3f", $1 * 1000 }')

# Baseline last (its flows are not the agents').
ofctl_base=$("$MIG_BUILD/mignet-ofctl" "unix:$(tb_mgmt_sock 2)" \
    bench "$((2 * V))" "$N" 2>/dev/null | tail -n 2 | tr '\n' ' ')

cat >&3 <<JSON
{"migrations": $N, "instructions_confirmed_n1": $n_1,
 "instruction_to_barrier_ms": {"n1": {"p50": $p50_1, "p99": $p99_1},
                               "n2": {"p50": $p50_2, "p99": $p99_2}},
 "instruction_to_barrier_ms_with_big_table": {"n1": {"p50": $big_p50,
     "p99": $big_p99}},
 "loop_stall_max_ms_n1": $stall_ms,
 "baseline_ofctl_bench": "$ofctl_base",
 "resync": {"vms": $V, "flows_confirmed": $flows,
            "agent_start_to_table_confirmed_ms": $((t_done - t_start)),
            "biggest_batch_flow_mods": $mods, "biggest_batch_seconds": $secs}}
JSON
