#!/usr/bin/env bash
# bench_vnet.sh: tenant virtual switches (issue 14) on real Open vSwitch.
#   1. a tenant flow-mod -> barrier reply, N times one after the other,
#      from the same os-ken app (tests/e2e/lime_app.py, command "bench N"):
#      straight to Open vSwitch (host 4's br-int, the app in its namespace,
#      `set-controller`) and through mignet (the app as the controller of a
#      virtual switch whose VMs are on n1..n3: mignetd -> agents -> three
#      br-ints), p50/p99 (ms) of each, in the same run;
#   2. an ensemble of V VMs (default 10) on n1..n3 with F tenant flows
#      (default 1,000: command "install F", eth_dst matches, in_port
#      wildcarded, so each node holds one copy per local tenant port):
#      POST /v1/vswitches/ID/migrate moves all of them (switchover manual:
#      each VM moved by tb_vm_move with a 50 ms pause and switched at it);
#      time from the request to the old copies retired (every migration
#      cleaned and the tenant tables 40+41 of all nodes back to their
#      steady size), and the extra physical flows held during the move
#      (the peak of tables 40+41 over all nodes, sampled every 50 ms, minus
#      the steady size before the move).
# Part 1's straight half runs on any machine with Open vSwitch; the rest
# needs mignet's virtual switches (mignetd --help mentions them): without
# them the JSON says "mignet": null.
# Usage: bench/bench_vnet.sh [N=500] [V=10] [F=1000] (root)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-500}
V=${2:-10}
F=${3:-1000}
if [ -z "${MIGNET_BUILD_DIR:-}" ]; then
    "$root/scripts/build.sh"
    export MIGNET_BUILD_DIR=$root/build
fi
export MIGNET_SOURCE_DIR=$root
. "$root/tests/e2e/lib.sh"
tb_require
. "$root/tests/e2e/flows.sh"
. "$root/tests/e2e/mig_lib.sh"
. "$root/tests/e2e/lime_lib.sh"
lime_require
exec 3>&1
VNI=310
PORT=$((17300 + RANDOM % 100))
{
tb_init
tb_hosts_up 3
tb_host_add 4
} 2>/dev/null

# ---- 1a. straight: the app on host 4's br-int ----
h4=$(tb_ns_host 4)
lime_app_start straight "$PORT" "$h4" 2>/dev/null
tb_vsctl 4 set-controller br-int "tcp:127.0.0.1:$PORT"
lime_app_wait straight '.ev == "hello"' 20
straight=$(lime_app_cmd straight bench "$N")
tb_vsctl 4 del-controller br-int
lime_app_stop straight

mignetd_help=$("$MIG_BUILD/mignetd" --help 2>&1 || true)
if ! grep -qi 'vswitch\|vnet' <<<"$mignetd_help"; then
    jq -nc --argjson s "$straight" --argjson n "$N" \
        '{n: $n, straight: {p50_ms: $s.p50_ms, p99_ms: $s.p99_ms,
          max_ms: $s.max_ms}, mignet: null,
          note: "mignetd has no virtual switches: part 1 straight only"}' >&3
    exit 0
fi

# ---- 1b. through mignet ----
{
mig_start mignet
} 2>/dev/null
ports='{}'
for ((x = 1; x <= V; x++)); do
    h=$(( (x - 1) % 3 + 1 ))
    tb_vm_add "$x" "$h"
    mignet_cli vm create "vm$x" --mac "$(tb_vm_mac "$x")" \
        --ip "$(tb_vm_ip "$x")" --vni "$VNI" --node "n$h" >/dev/null
    ports=$(jq -c --arg v "vm$x" --argjson p "$x" '. + {($v): $p}' <<<"$ports")
done
lime_app_start tenant "$PORT" "" 2>/dev/null
curl -sf -H 'Content-Type: application/json' -d "$(jq -nc \
    --arg c "tcp:127.0.0.1:$PORT" --argjson vni "$VNI" --argjson p "$ports" \
    '{id: "bench", tenant: "t1", vni: $vni, controller: $c, ports: $p}')" \
    "$MIG_URL/v1/vswitches" >/dev/null || tb_die "POST /v1/vswitches failed"
lime_app_wait tenant '.ev == "hello"' 30
through=$(lime_app_cmd tenant bench "$N")

# ---- 2. ensemble of V VMs with F flows ----
tenant_flows() {   # physical tenant flows (tables 40 and 41), all nodes
    local h t n=0 c
    for h in 1 2 3; do
        for t in 40 41; do
            c=$(tb_ofctl "$h" dump-aggregate br-int "table=$t" |
                sed -n 's/.*flow_count=\([0-9]*\).*/\1/p')
            n=$((n + ${c:-0}))
        done
    done
    echo "$n"
}
install=$(LIME_CMD_TIMEOUT=120 lime_app_cmd tenant install "$F")
sleep 1
steady=$(tenant_flows)
sampler() {
    while :; do
        printf '%s %s\n' "$(tb_now_ms)" "$(tenant_flows)"
        sleep 0.05
    done
}
sampler >"$TB_DIR/samples" &
SAMPLER=$!
echo "$SAMPLER" >>"$TB_DIR/pids"
moves='{}'
for ((x = 1; x <= V; x++)); do
    h=$(( x % 3 + 1 ))  # the next node
    moves=$(jq -c --arg v "vm$x" --arg n "n$h" '. + {($v): $n}' <<<"$moves")
done
t0=$(tb_now_ms)
curl -sf -H 'Content-Type: application/json' \
    -d "{\"moves\": $moves, \"switchover\": \"manual\"}" \
    "$MIG_URL/v1/vswitches/bench/migrate" >"$TB_DIR/migrate.json" ||
    tb_die "POST migrate failed"
t_req=$(( $(tb_now_ms) - t0 ))
declare -A ID
for ((x = 1; x <= V; x++)); do
    ID[$x]=$(jq -r --arg v "vm$x" \
        '(.migrations // .)[$v] // (.migrations[]? | select(.vm == $v) | .id) // empty' \
        "$TB_DIR/migrate.json" | head -1)
    [ -n "${ID[$x]}" ] || tb_die "no migration id for vm$x"
done
_sw() { curl -sf -X POST "$MIG_URL/v1/migrations/$SW_ID/switchover" >/dev/null; }
{
for ((x = 1; x <= V; x++)); do
    h=$(jq -r --arg v "vm$x" '.[$v]' <<<"$moves")
    SW_ID=${ID[$x]} TB_MOVE_HOOK_AT=pause tb_vm_move "$x" "${h#n}" 50 _sw
done
t_moved=$(( $(tb_now_ms) - t0 ))
for ((x = 1; x <= V; x++)); do mig_wait_cleaned "${ID[$x]}" 120; done
} 2>/dev/null
t_cleaned=$(( $(tb_now_ms) - t0 ))
for _ in $(seq 1 600); do
    [ "$(tenant_flows)" -le "$steady" ] && break
    sleep 0.05
done
t_retired=$(( $(tb_now_ms) - t0 ))
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
peak=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$TB_DIR/samples")
after=$(tenant_flows)

jq -nc --argjson s "$straight" --argjson m "$through" --argjson n "$N" \
    --argjson v "$V" --argjson f "$F" --argjson inst "$install" \
    --argjson steady "$steady" --argjson peak "$peak" --argjson after "$after" \
    --argjson treq "$t_req" --argjson tmoved "$t_moved" \
    --argjson tclean "$t_cleaned" --argjson tret "$t_retired" \
    '{n: $n,
      straight: {p50_ms: $s.p50_ms, p99_ms: $s.p99_ms, max_ms: $s.max_ms},
      mignet: {p50_ms: $m.p50_ms, p99_ms: $m.p99_ms, max_ms: $m.max_ms},
      ensemble: {vms: $v, tenant_flows: $f, install_ms: $inst.ms,
        physical_flows_steady: $steady, physical_flows_peak: $peak,
        extra_flows_held: ($peak - $steady), physical_flows_after: $after,
        request_ms: $treq, all_moved_ms: $tmoved, all_cleaned_ms: $tclean,
        old_copies_retired_ms: $tret}}' >&3
