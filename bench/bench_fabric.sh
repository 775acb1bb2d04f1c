#!/usr/bin/env bash
# bench_fabric.sh: the planner inside mignetd, and plans' flows on real
# Open vSwitch.
#   1. planning latency inside mignetd: a k=16 fat-tree topology file
#      (1,024 hosts; no switches connected), N migrations between random
#      hosts through the REST API, each planned with a 1 GiB VM, 20,000
#      dirty pages/s and a 4 s deadline (path additions), and N route-only
#      migrations; the figure is the plan's own `planning_us` (inside the
#      daemon, around the planner call) and the mignet_plan_seconds
#      histogram.  Baseline in the same run: bench_planner's in-process
#      figure for the same kind of plan is printed by `bench_planner`;
#      here the REST round trip of the migrate call is shown beside it.
#   2. install latency (root + Open vSwitch): the seed-002 fabric as OVS
#      bridges (tests/e2e/seed002_bed.sh); M plans of 1 path (3 switches,
#      12 flows) and M of 2 paths (4 switches, 18 flows); each plan's
#      `install_ms`, from sending its flows to the last barrier reply.
#      Baseline in the same run: `mignet-ofctl bench` on one bridge: K
#      single flow + barrier round trips.
# Usage: bench/bench_fabric.sh [N=400] [M=40]   (part 2 needs root)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-400}
M=${2:-40}
"$root/scripts/build.sh" >/dev/null
B=$root/build
export MIGNET_BUILD_DIR=$B MIGNET_SOURCE_DIR=$root

pct() { # FILE P: the P-th percentile of the numbers in FILE
    sort -g "$1" | awk -v p="$2" '{a[NR]=$1} END {
        i = int((NR - 1) * p / 100) + 1; printf "%.1f", a[i] }'
}

# ---- 1. planning latency inside mignetd (no root) ----
T=$(mktemp -d "${TMPDIR:-/tmp}/mignet-bf.XXXXXX")
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

k=16
h=$((k / 2))
{
    # Names and ports as fabric_fat_tree() (docs/planner.md, "Builders").
    d=1
    for ((c = 1; c <= h * h; c++)); do echo "switch c$c dpid=$((d++))"; done
    for ((p = 1; p <= k; p++)); do
        for ((i = 1; i <= h; i++)); do echo "switch a${p}_$i dpid=$((d++))"; done
        for ((i = 1; i <= h; i++)); do echo "switch e${p}_$i dpid=$((d++))"; done
    done
    for ((p = 1; p <= k; p++)); do
        for ((i = 1; i <= h; i++)); do
            for ((j = 1; j <= h; j++)); do
                echo "link a${p}_$i:$((h + j)) c$(((i - 1) * h + j)):$p 1gbit"
                echo "link e${p}_$i:$((h + j)) a${p}_$j:$i 1gbit"
                echo "host h${p}_${i}_$j e${p}_$i:$j 10gbit"
            done
        done
    done
} >"$T/k16.topo"
"$B/mignetd" --listen 127.0.0.1:0 --agent-listen 127.0.0.1:0 \
    --state-dir "$T/state" --fabric "$T/k16.topo" --log-level warn \
    --prepare-timeout-ms 1 --plan-cpu-free-pct 50 \
    >"$T/ready" 2>"$T/log" &
PID=$!
for _ in $(seq 1 100); do
    grep -q 'mignetd ready' "$T/ready" && break
    sleep 0.05
done
URL=http://$(sed -n 's/.* rest=\([^ ]*\).*/\1/p' "$T/ready")
post() { curl -sf -X POST -H 'Content-Type: application/json' "$URL$1" -d "$2"; }
# 64 nodes on distinct edge switches of every pod, one VM each.
nodes=()
for ((p = 1; p <= k; p++)); do
    for i in 1 5; do
        n=h${p}_$(( (i + p) % h + 1 ))_$i
        nodes+=("$n")
        post /v1/nodes "{\"id\":\"$n\",\"address\":\"198.18.$p.$((i * 10 + p % 10))\"}" >/dev/null
    done
done
for ((v = 0; v < ${#nodes[@]}; v++)); do
    mac=$(printf '02:00:00:00:03:%02x' "$v")
    post /v1/vms "{\"id\":\"v$v\",\"mac\":\"$mac\",\"vni\":1,
        \"ip\":\"198.19.0.$((v + 1))\",\"node\":\"${nodes[$v]}\"}" >/dev/null
done
declare -A at
for ((v = 0; v < ${#nodes[@]}; v++)); do at[$v]=$v; done
run_plans() { # N BODY-EXTRA OUT
    local n=$1 extra=$2 out=$3 i v to t0 t1
    : >"$out"
    : >"$out.rtt"
    for ((i = 0; i < n; i++)); do
        v=$((RANDOM % ${#nodes[@]}))
        to=$((RANDOM % ${#nodes[@]}))
        [ "$to" = "${at[$v]}" ] && to=$(( (to + 1) % ${#nodes[@]} ))
        t0=$(date +%s%N)
        post "/v1/vms/v$v/migrate" "{\"to\":\"${nodes[$to]}\"$extra}" \
            >"$T/ans" || { echo "migrate refused" >&2; continue; }
        t1=$(date +%s%N)
        at[$v]=$to
        jq -r '.plan.planning_us' "$T/ans" >>"$out"
        jq -r '.plan.paths | length' "$T/ans" >>"$out.paths"
        echo $(( (t1 - t0) / 1000 )) >>"$out.rtt"
    done
}
run_plans "$N" ',"memory_mb":1024,"dirty_pages_per_s":20000,"deadline_ms":4000' "$T/full"
run_plans "$N" '' "$T/route"
echo "== planning inside mignetd: k=16 fat-tree (1,344 nodes, 3,072 links)"
printf '%-34s %6s %8s %8s %8s %10s\n' "plans" n "p50 us" "p99 us" "max us" "paths/plan"
for x in full route; do
    printf '%-34s %6s %8s %8s %8s %10s\n' \
        "$([ $x = full ] && echo 'seed-004 loop, 4 s deadline' || echo 'route only (dr)')" \
        "$(wc -l <"$T/$x")" "$(pct "$T/$x" 50)" "$(pct "$T/$x" 99)" \
        "$(pct "$T/$x" 100)" \
        "$(awk '{s+=$1} END {printf "%.2f", s/NR}' "$T/$x.paths")"
done
printf '%-34s %6s %8s %8s %8s\n' "REST round trip (curl, full plan)" \
    "$(wc -l <"$T/full.rtt")" "$(pct "$T/full.rtt" 50)" \
    "$(pct "$T/full.rtt" 99)" "$(pct "$T/full.rtt" 100)"
curl -sf "$URL/metrics" | grep -E '^mignet_plan(s_total|_seconds_(sum|count))'
kill "$PID"
wait "$PID" 2>/dev/null || true
PID=

# ---- 2. install latency on Open vSwitch (root) ----
if [ "$(id -u)" -ne 0 ] || ! command -v ovs-vswitchd >/dev/null; then
    echo "(install latency skipped: needs root and Open vSwitch)"
    exit 0
fi
trap - EXIT
rm -rf "$T"
. "$root/tests/e2e/lib.sh"
tb_require
. "$root/tests/e2e/fabric_lib.sh"
. "$root/tests/e2e/seed002_bed.sh"
# Each migration relays 200 ms later and is cleaned 2 s after that: its
# flows stay long enough to be confirmed, and a VM can move again.
{ sb_start --prepare-timeout-ms 200 --delay-floor-ms 2000 \
    --delay-ceiling-ms 2000; } 2>/dev/null
for src in 4 5 6; do sb_vm "b$src" "$src" 2>/dev/null; done
: >"$TB_DIR/i1"
: >"$TB_DIR/i2"
loc=(0 0 0 0 4 5 6)
for ((i = 0; i < 2 * M; i++)); do
    src=$((4 + i % 3))
    from=${loc[$src]}
    to=$(( from > 3 ? from - 3 : from + 3 ))
    if ((i < M)); then extra=(); out=i1; else
        extra=(--memory-mb 12 --dirty-pages-per-s 275 --deadline-ms 3000)
        out=i2
    fi
    mig=$(sb_migrate "b$src" "$to" "${extra[@]}" | jq -r .migration)
    loc[$src]=$to
    fb_wait_plan "$mig" installed 10 2>/dev/null
    fb_get "/v1/migrations/$mig" | jq -r '.plan.install.install_ms' \
        >>"$TB_DIR/$out"
    sleep 0.1 # the VM's migration relays before the VM moves again
done
echo "== barrier-confirmed install on Open vSwitch (seed-002 fabric)"
printf '%-34s %6s %8s %8s %8s\n' "plan" n "p50 ms" "p99 ms" "max ms"
printf '%-34s %6s %8s %8s %8s\n' "1 path: 3 switches, 12 flows" \
    "$(wc -l <"$TB_DIR/i1")" "$(pct "$TB_DIR/i1" 50)" \
    "$(pct "$TB_DIR/i1" 99)" "$(pct "$TB_DIR/i1" 100)"
printf '%-34s %6s %8s %8s %8s\n' "2 paths: 4 switches, 18 flows" \
    "$(wc -l <"$TB_DIR/i2")" "$(pct "$TB_DIR/i2" 50)" \
    "$(pct "$TB_DIR/i2" 99)" "$(pct "$TB_DIR/i2" 100)"
echo "-- baseline: mignet-ofctl bench on s1 (one flow + barrier, 200x)"
"$B/mignet-ofctl" "unix:$FB_RUN/s1.mgmt" bench 12 200 2>&1 | tail -4
echo "-- mignetd's durable commit of each migrate batch (the same loop pass"
echo "   reads the barrier replies after it):"
fb_get /metrics | grep -E '^mignet_(store_commit|fabric_install)_seconds_(sum|count)'
