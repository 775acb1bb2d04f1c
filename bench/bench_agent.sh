#!/usr/bin/env bash
# bench_agent.sh: mignet-agent on real Open vSwitch.
#   1. instruction latency: N migrations one at a time between two nodes;
#      each agent reports the time from receiving an instruction to Open
#      vSwitch's barrier reply confirming its flows (p50/p99);
#   2. full resync: V VMs placed on n2 give n1 two flows each (forwarding
#      by the map + ARP answer); n1's agent is restarted and timed from its
#      start until a barrier confirms a table holding all of them
#      (connect, resync, map poll, compute, install).
#   3. the instruction latency again with that table (~2V flows on n1);
#   4. V2 VMs in all (about 2 x V2 flows, ~100,000 by default): n1's
#      agent restarted and timed again, and 5. the latency with that
#      table ("resync_huge", "..._with_huge_table"; V2 <= V skips them).
# Baseline in the same run: `mignet-ofctl bench` on the same bed, with no
# agent logic: one batch of 2V flows + barrier, and N single flow_mod +
# barrier round trips.
# Usage: bench/bench_agent.sh [N=300] [V=5000] [V2=50000] (root; builds)
# BENCH_LOG_DIR=DIR: the restarted n1 agent logs at debug level (each
# confirmed instruction's wait, build and switch times) and the agents'
# logs are copied to DIR.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-300}
V=${2:-5000}
V2=${3:-50000}
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

# create_vms FROM TO: VMs bulkFROM..bulkTO on n2, over four keep-alive
# HTTP connections (a process per VM would take minutes for 50,000).
create_vms() {
    local from=$1 to=$2 k pids=()
    for k in 0 1 2 3; do
        awk -v from="$from" -v to="$to" -v k="$k" -v url="$MIG_URL" '
        BEGIN {
            for (i = from + k; i <= to; i += 4) {
                printf "url = \"%s/v1/vms\"\n", url
                print "header = \"Content-Type: application/json\""
                printf "data = \"{\\\"id\\\":\\\"bulk%d\\\",", i
                printf "\\\"mac\\\":\\\"02:00:00:03:%02x:%02x\\\",",
                    int(i / 256), i % 256
                printf "\\\"ip\\\":\\\"198.19.%d.%d\\\",",
                    1 + int(i / 250), i % 250 + 1
                print "\\\"vni\\\":100,\\\"node\\\":\\\"n2\\\"}\""
                print "output = \"/dev/null\""
                if (i + 4 <= to) print "next"
            }
        }' >"$TB_DIR/create$k.curl"
        curl -s -K "$TB_DIR/create$k.curl" &
        pids+=($!)
    done
    wait "${pids[@]}" # not the agents and mignetd, also children
}
# restart_n1 FLOWS TRIES: restarts n1's agent; RESTART_MS becomes the
# milliseconds from its start until Open vSwitch confirms (barrier) a
# table of FLOWS flows: connect, resync, map poll, compute, install.
restart_n1() {
    kill -TERM "${MIG_AGENT_PID[1]}"
    sleep 0.5
    local t_start t_done confirmed=0 i
    t_start=$(tb_now_ms)
    "$MIG_BUILD/mignet-agent" --node n1 --token-file "$TB_DIR/token-n1" \
        --ofp "unix:$(tb_mgmt_sock 1)" \
        --controller "$MIG_AGENTS" --gateway "$MIG_URL" --refresh-ms 1000 \
        ${BENCH_LOG_DIR:+--log-level debug} \
        --metrics "127.0.0.1:${MIG_METRICS[1]}" \
        >>"$TB_DIR/agent1b.log" 2>&1 &
    MIG_AGENT_PID[1]=$!
    echo $! >>"$TB_DIR/pids"
    for i in $(seq 1 "$2"); do
        confirmed=$(mig_metric 1 mignet_agent_flows_confirmed 2>/dev/null ||
            true)
        [ -n "$confirmed" ] && [ "$confirmed" -ge "$1" ] && break
        sleep 0.01
    done
    t_done=$(tb_now_ms)
    RESTART_MS=$((t_done - t_start))
}
# migrate_all TO_FIRST: N migrations one at a time.
migrate_all() {
    local i v to
    for i in $(seq 1 "$N"); do
        v=$(( (i - 1) % 20 + 1 ))
        to=$(( (i / 20) % 2 == 0 ? $1 : 3 - $1 ))
        mignet_cli vm migrate "lat$v" --to "n$to" >/dev/null 2>&1 || true
        sleep 0.02
    done
    sleep 1
}

# 1. Migrations one at a time (the agents confirm each with a barrier).
for i in $(seq 1 20); do
    mignet_cli vm create "lat$i" --mac "$(printf '02:00:00:02:00:%02x' "$i")" \
        --ip "198.19.0.$i" --vni 100 --node n1 >/dev/null
done
migrate_all 2
# lat_ms NODE QUANTILE: the agent's instruction latency in milliseconds.
lat_ms() {
    mig_metric "$1" \
        "mignet_agent_instruction_latency_seconds{quantile=\"$2\"}" |
        awk '{ printf "%.3f", $1 * 1000 }'
}
p50_1=$(lat_ms 1 0.5)
max_1=$(lat_ms 1 1)
p99_1=$(lat_ms 1 0.99)
p50_2=$(lat_ms 2 0.5)
p99_2=$(lat_ms 2 0.99)
n_1=$(mig_metric 1 mignet_agent_instruction_latency_seconds_count)

# 2. V VMs on n2; restart n1's agent and time its full table.
create_vms 1 "$V"
sleep 3
restart_n1 $((2 * V)) 400
start_ms=$RESTART_MS
mods=$(mig_metric 1 mignet_agent_biggest_batch_flow_mods)
secs=$(mig_metric 1 mignet_agent_biggest_batch_seconds)
flows=$(mig_metric 1 mignet_agent_flows_confirmed)
# 3. Instruction latency again, now that n1 holds a 10,000-flow table (its
#    restarted agent's latency samples are all from this phase).
migrate_all 1
big_p50=$(lat_ms 1 0.5)
big_p99=$(lat_ms 1 0.99)
big_max=$(lat_ms 1 1)
# stalls_over LE: how many of the restarted n1 agent's loop stall probes
# came later than LE seconds (its loop_stall histogram; a stall is the
# loop held, or the agent not scheduled at all).
stalls_over() {
    curl -sf "http://127.0.0.1:${MIG_METRICS[1]}/metrics" |
        awk -v le="mignet_agent_loop_stall_seconds_bucket{le=\"$1\"}" '
        $1 == le { n = $2 }
        $1 == "mignet_agent_loop_stall_seconds_count" { all = $2 }
        END { print all - n }'
}
# The longest the restarted n1 agent's loop was held (resync included).
stall_ms=$(mig_metric 1 mignet_agent_loop_stall_max_seconds |
    awk '{ printf "%.3f", $1 * 1000 }')
stalls_5=$(stalls_over 0.005)
stalls_10=$(stalls_over 0.01)

# 4. V2 VMs in all (about 2 x V2 flows on n1): restart n1's agent again,
#    time its table, and 5. the instruction latency with that table.
huge_start_ms=0 huge_flows=0 huge_p50=0 huge_p99=0 huge_stall_ms=0 huge_max=0
huge_stalls_5=0 huge_stalls_10=0
if [ "$V2" -gt "$V" ]; then
    create_vms $((V + 1)) "$V2"
    sleep 5
    restart_n1 $((2 * V2)) 3000
    huge_start_ms=$RESTART_MS
    huge_flows=$(mig_metric 1 mignet_agent_flows_confirmed)
    migrate_all 2
    huge_p50=$(lat_ms 1 0.5)
    huge_p99=$(lat_ms 1 0.99)
    huge_max=$(lat_ms 1 1)
    huge_stall_ms=$(mig_metric 1 mignet_agent_loop_stall_max_seconds |
        awk '{ printf "%.3f", $1 * 1000 }')
    huge_stalls_5=$(stalls_over 0.005)
    huge_stalls_10=$(stalls_over 0.01)
fi

# Baseline last (its flows are not the agents').
ofctl_base=$("$MIG_BUILD/mignet-ofctl" "unix:$(tb_mgmt_sock 2)" \
    bench "$((2 * V))" "$N" 2>/dev/null | tail -n 2 | tr '\n' ' ')

if [ -n "${BENCH_LOG_DIR:-}" ]; then
    mkdir -p "$BENCH_LOG_DIR" && cp "$TB_DIR"/agent*.log "$BENCH_LOG_DIR"/
fi
cat >&3 <<JSON
{"migrations": $N, "instructions_confirmed_n1": $n_1,
 "instruction_to_barrier_ms": {"n1": {"p50": $p50_1, "p99": $p99_1,
                                      "max": $max_1},
                               "n2": {"p50": $p50_2, "p99": $p99_2}},
 "instruction_to_barrier_ms_with_big_table": {"n1": {"p50": $big_p50,
     "p99": $big_p99, "max": $big_max}},
 "loop_stall_max_ms_n1": $stall_ms,
 "loop_stalls_n1": {"over_5ms": $stalls_5, "over_10ms": $stalls_10},
 "baseline_ofctl_bench": "$ofctl_base",
 "resync": {"vms": $V, "flows_confirmed": $flows,
            "agent_start_to_table_confirmed_ms": $start_ms,
            "biggest_batch_flow_mods": $mods, "biggest_batch_seconds": $secs},
 "resync_huge": {"vms": $V2, "flows_confirmed": $huge_flows,
                 "agent_start_to_table_confirmed_ms": $huge_start_ms,
                 "loop_stall_max_ms": $huge_stall_ms,
                 "loop_stalls": {"over_5ms": $huge_stalls_5,
                                 "over_10ms": $huge_stalls_10}},
 "instruction_to_barrier_ms_with_huge_table": {"n1": {"p50": $huge_p50,
     "p99": $huge_p99, "max": $huge_max}}}
JSON
