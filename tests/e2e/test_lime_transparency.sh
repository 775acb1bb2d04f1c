#!/usr/bin/env bash
# test_lime_transparency.sh: issue 14 (seed 001, LIME): a tenant's virtual
# switch is transparent to controllers nobody here wrote, through an
# ensemble migration of all its VMs.
#
# The controllers: an os-ken app of our own (tests/e2e/lime_app.py on
# Debian's python3-os-ken: learning switch with a mirror port, event log,
# statistics poller every 0.5 s) -- the tenant controller the assertions
# read -- and Open vSwitch's own learning switch, `ovs-testcontroller -O
# OpenFlow13`, unmodified, in a last run.  The traffic: tenant VMs vm1..vm4
# in a ring (each sends mignet-traffic probes to the next), vm5 and vm6 the
# mirror VMs (tap A: generation 0 of the app's flows, tap B: after its
# flip; tests/e2e/lime_tap.py).  Static ARP, IPv6 off (lime_vm_quiet): the
# probes are the only frames the VMs send.
#
# Runs (lime_check.py computes every figure; see there for definitions):
#  0. straight: the same app on a plain Open vSwitch bridge (host 4's
#     br-int, no mignet), twice (reference, then with the flip): the checker
#     itself must read all zeros on a real switch; ovs-testcontroller too.
#  1. ref: mignet's virtual switch "lime" (POST /v1/vswitches, VMs on
#     hosts 1..3), a fresh app, traffic, the flip mid-run, no move.
#  2. mig: a fresh app, the same traffic, an ensemble migration of all six
#     VMs to other nodes (POST /v1/vswitches/lime/migrate, switchover
#     manual: each VM is moved with tb_vm_move and switched at its pause
#     with POST /v1/migrations/ID/switchover), the flip issued during the
#     move (between vm2's and vm3's).  Last line: the issue's JSON:
#     {"packet_in_duplicates": 0, "extra_packet_in_keys": 0,
#      "counter_regressions": 0, "mixed_version_packets": 0,
#      "lost_outside_pause": 0, "counters_match_traffic": true}
#  3. tc: ovs-testcontroller takes the vswitch's controller port; the same
#     traffic through another ensemble move: every probe outside the pauses
#     arrives, ovs-testcontroller received no OFPT_ERROR.
# Needs root and Open vSwitch (else exit 77).
# ctest: serial (its assertions depend on timing)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tb_require
. "$here/flows.sh"
. "$here/mig_lib.sh"
. "$here/lime_lib.sh"
lime_require

RATE=${LIME_RATE:-200}
VNI=${LIME_VNI:-300}
TRAFFIC=(1 2 3 4)
TAP_A=5
TAP_B=6
ALL=(1 2 3 4 5 6)
LIME_RUNS="straight-ref straight straight-bad tc-straight ref mig tc"

tb_init
tb_hosts_up 3
tb_host_add 4

# ports_json VM...: {"X": tenant port}; PORT_OF maps a VM to its port.
ports_json() {
    local x first=1
    printf '{'
    for x in "$@"; do
        [ "$first" = 1 ] || printf ','
        first=0
        printf '"%s":%s' "$x" "$("$PORT_OF" "$x")"
    done
    printf '}\n'
}
straight_port() { tb_vm_ofport "$1"; }
tenant_port() { echo "$1"; }

# lime_dp_counts: "HOST:COUNTER VALUE" per host, the upcalls its datapath
# lost (dpctl/show's "lost:") and every drop counter of its vswitchd
# (coverage/show's "*drop*" totals: the datapath's and the pipeline's drop
# reasons), and UDP datagrams its namespace's kernel found no socket for
# (an overlay frame Open vSwitch handed to br-phy's own interface instead of
# decapsulating it would end there).  A diagnostic: a frame a datapath
# dropped is the bed's loss, not mignet's (a mirror copy lost there reads
# as a probe handled by neither version).  Sorted for join.
lime_dp_counts() {
    local h
    for h in $(tb_hosts); do
        printf '%s:dpctl_lost %s\n' "$h" "$(tb_appctl "$h" dpctl/show \
            2>/dev/null | sed -n 's/.*lost:\([0-9]*\).*/\1/p' | head -n 1)"
        tb_appctl "$h" coverage/show 2>/dev/null |
            awk -v h="$h" '$1 ~ /drop/ && $(NF-1) == "total:" {
                print h ":" $1, $NF }'
        ip netns exec "$(tb_ns_host "$h")" cat /proc/net/snmp 2>/dev/null |
            awk -v h="$h" '$1 == "Udp:" && $2 ~ /^[0-9]+$/ {
                print h ":udp_no_ports", $3 }'
    done | sort
}

# lime_dp_delta BEFORE AFTER: " HOST:COUNTER:DELTA" for each that grew.
lime_dp_delta() {
    join -a2 -e 0 -o 0,1.2,2.2 "$1" "$2" |
        awk '$3 != $2 { printf " %s:%s", $1, ($3 == "" ? "?" : $3 - $2) }'
}

# lime_run RUN APP MOVES_FN SECS [FLIP_AT_S]: one run of the ring with
# taps, the app's final poll, the counters around it; MOVES_FN (or ':')
# runs 1 s into the traffic; without moves the flip is issued at
# FLIP_AT_S.  Leaves the check's inputs in $(lime_dir RUN).
lime_run() {
    local run=$1 app=$2 moves=$3 secs=$4 flip_at=${5:-} d
    d=$(lime_dir "$run")
    mkdir -p "$d"
    : >"$d/vm-pauses"
    LIME_CUR_RUN=$run LIME_CUR_APP=$app
    # The first poll (the port counters' base) before any probe.
    lime_app_wait "$app" '.ev == "port_stats"' 20
    lime_counters_json "${ALL[@]}" >"$d/before.json"
    lime_dp_counts >"$d/dp-before"
    lime_tap_start "$TAP_A" "$d/tap-a"
    lime_tap_start "$TAP_B" "$d/tap-b"
    lime_underlay_start "$d"
    lime_ring_start "$run" "$RATE" "$secs" "${TRAFFIC[@]}"
    sleep 1
    if [ "$moves" != : ]; then
        "$moves"
    elif [ -n "$flip_at" ]; then
        sleep $((flip_at - 1))
        lime_app_cmd "$app" "${LIME_FLIP:-flip}" >"$d/flip.json"
    fi
    lime_ring_wait "$run"
    lime_app_final_stats "$app"
    lime_counters_json "${ALL[@]}" >"$d/after.json"
    lime_dp_counts >"$d/dp-after"
    tb_log "$run: the datapaths' lost upcalls and drops that grew" \
        "(host:counter:delta):$(lime_dp_delta "$d/dp-before" "$d/dp-after")"
    lime_tap_stop "$d/tap-a"
    lime_tap_stop "$d/tap-b"
    lime_underlay_stop "$d"
}

# lime_figures RUN APP REF_APP [--moved ...]: lime_check.py on a run.
lime_figures() {
    local run=$1 app=$2 ref=$3 d
    shift 3
    d=$(lime_dir "$run")
    lime_check --events "$(lime_dir "$app")/events.jsonl" \
        --ref-events "$(lime_dir "$ref")/events.jsonl" \
        --run-dir "$d" --ports "$(ports_json "${ALL[@]}")" \
        --before "$d/before.json" --after "$d/after.json" \
        --tap-a "$d/tap-a" --tap-b "$d/tap-b" --tap-vms "$TAP_A,$TAP_B" \
        --underlay $(lime_underlay_files "$d") \
        --vm-pauses "$d/vm-pauses" --details "$d/details.json" "$@" \
        >"$d/figures.json" || true
    tb_log "$run: $(cat "$d/figures.json")"
    tb_log "$run: $(jq -c '{packet_ins, run_keys, ref_keys, packet_outs,
        port_rx, vm_tx, probes_out, flow_packets, port_tx, vm_rx,
        flow_outputs, packet_out_deliveries, tags, underlay,
        tx_lost_in_pauses,
        tx_lost_bound, rest_flow_packets, problems}' "$d/details.json")"
}

# expect_six RUN: every figure of the run right (and details' problems).
expect_six() {
    local f d
    f=$(lime_dir "$1")/figures.json
    d=$(lime_dir "$1")/details.json
    tb_expect "$1: packet_in_duplicates" "$(jq .packet_in_duplicates "$f")" -eq 0
    tb_expect "$1: extra_packet_in_keys" "$(jq .extra_packet_in_keys "$f")" -eq 0
    tb_expect "$1: counter_regressions" "$(jq .counter_regressions "$f")" -eq 0
    tb_expect "$1: mixed_version_packets" "$(jq .mixed_version_packets "$f")" -eq 0
    tb_expect "$1: lost_outside_pause" "$(jq .lost_outside_pause "$f")" -eq 0
    tb_expect "$1: counters_match_traffic" \
        "$(jq -r 'if .counters_match_traffic then 1 else 0 end' "$f")" -eq 1
    tb_expect "$1: problems" "$(jq '.problems | length' "$d")" -eq 0
    tb_expect "$1: probes tagged by tap A" "$(jq '.tags.A // 0' "$d")" -gt 0
    tb_expect "$1: probes tagged by tap B" "$(jq '.tags.B // 0' "$d")" -gt 0
}

# ---- 0. straight: Open vSwitch alone (host 4), the checker on a real switch
# (LIME_STRAIGHT=0 skips it: for debugging mignet's side only.)
# The straight runs' VMs are 21..26 on host 4, mignet's 1..6 on n1..n3.
straight_swap() {
    TRAFFIC=(21 22 23 24); TAP_A=25; TAP_B=26; ALL=(21 22 23 24 25 26)
}
mignet_swap() {
    TRAFFIC=(1 2 3 4); TAP_A=5; TAP_B=6; ALL=(1 2 3 4 5 6)
}
if [ "${LIME_STRAIGHT:-1}" = 1 ]; then
straight_swap
for x in "${ALL[@]}"; do tb_vm_add "$x" 4; done
PORT_OF=straight_port
lime_vm_quiet "${ALL[@]}"
P_STRAIGHT=$(mig_free_port)
h4=$(tb_ns_host 4)
for run in straight-ref straight; do
    lime_app_start "$run" "$P_STRAIGHT" "$h4" \
        "$(tb_vm_ofport "$TAP_A"),$(tb_vm_ofport "$TAP_B")"
    tb_vsctl 4 set-controller br-int "tcp:127.0.0.1:$P_STRAIGHT"
    lime_app_wait "$run" '.ev == "hello"' 20
    lime_run "$run" "$run" : 4 2
    tb_vsctl 4 del-controller br-int
    lime_app_stop "$run"
done
# The checker's self-test: a wrong update (lime_app.py flip-bad: the
# learned flows deleted and added again without a mirror) must show as
# mixed-version packets and counter regressions.
LIME_FLIP=flip-bad
lime_app_start straight-bad "$P_STRAIGHT" "$h4" \
    "$(tb_vm_ofport "$TAP_A"),$(tb_vm_ofport "$TAP_B")"
tb_vsctl 4 set-controller br-int "tcp:127.0.0.1:$P_STRAIGHT"
lime_app_wait straight-bad '.ev == "hello"' 20
lime_run straight-bad straight-bad : 4 2
tb_vsctl 4 del-controller br-int
lime_app_stop straight-bad
LIME_FLIP=flip
lime_figures straight-ref straight-ref straight-ref
lime_figures straight straight straight-ref
lime_figures straight-bad straight-bad straight-ref
expect_six straight-ref
expect_six straight
tb_expect "self-test: a wrong update shows mixed-version packets" \
    "$(jq .mixed_version_packets "$(lime_dir straight-bad)/figures.json")" -gt 100
tb_expect "self-test: a wrong update shows counter regressions" \
    "$(jq .counter_regressions "$(lime_dir straight-bad)/figures.json")" -ge 4
# ovs-testcontroller straight: it learns, the probes arrive, no error.
tb_ofctl 4 del-flows br-int
lime_testctl_start tc-straight "$P_STRAIGHT" "$h4"
tb_vsctl 4 set-controller br-int "tcp:127.0.0.1:$P_STRAIGHT"
lime_testctl_wait tc-straight
lime_ring_start tc-straight "$RATE" 2 "${TRAFFIC[@]}"
lime_ring_wait tc-straight
tb_vsctl 4 del-controller br-int
lime_testctl_stop tc-straight
tb_expect "tc-straight: connected" "$(lime_testctl_connected tc-straight)" -ge 1
tb_expect "tc-straight: OFPT_ERRORs" "$(lime_testctl_errors tc-straight)" -eq 0
# The bed's reference, no mignet: Open vSwitch with ovs-testcontroller
# itself lost one probe of 400 to a VM once in our runs (learning), so
# up to 2 here; mignet's own tc run below allows none outside the pauses.
for x in "${TRAFFIC[@]}"; do
    tb_expect "tc-straight: vm$x lost" \
        "$(jq .total.missing "$(lime_dir tc-straight)/recv.$x.json")" -le 2
done
tb_expect "tc-straight: flows it installed" "$(lime_testctl_flows tc-straight)" -ge 4
fi

# ---- 1. ref: mignet's virtual switch, no move ----
mignet_swap
PORT_OF=tenant_port
# Nodes learn moves by the map push and refresh every 0.5 s: the tenant's
# traffic rides its own flows; the deletion delay stays short.
MIG_PUSH=1
MIG_REFRESH=(0 500 500 500)
mig_start mignet
# On any exit, mignet's view and every node's tenant tables, for the
# post-mortem (the run directory is kept when the test fails).
lime_diag() {
    curl -s -m 2 "$MIG_URL/v1/vswitches/lime/flows" >"$TB_DIR/diag-vswitch.json"
    curl -s -m 2 "$MIG_URL/v1/migrations" >"$TB_DIR/diag-migrations.json"
    curl -s -m 2 "$MIG_URL/metrics" | grep -i vnet >"$TB_DIR/diag-metrics.txt"
    local h
    for h in 1 2 3; do
        tb_ofctl "$h" dump-flows br-int >"$TB_DIR/diag-flows-n$h.txt" 2>&1
    done
}
tb_on_exit 'lime_diag || true'
HOST_OF=(0 1 2 3 1 2 3)          # index = VM: vm1 n1, vm2 n2, ... vm6 n3
for x in "${ALL[@]}"; do
    tb_vm_add "$x" "${HOST_OF[$x]}"
    mignet_cli vm create "vm$x" --mac "$(tb_vm_mac "$x")" \
        --ip "$(tb_vm_ip "$x")" --vni "$VNI" --node "n${HOST_OF[$x]}" >/dev/null
done
lime_vm_quiet "${ALL[@]}"
sleep 2   # refresh statistics for the dynamic delay (as mig_bed)
P_TENANT=$(mig_free_port)
lime_app_start ref "$P_TENANT" "" "$TAP_A,$TAP_B"
vs_body=$(jq -nc --arg c "tcp:127.0.0.1:$P_TENANT" --argjson vni "$VNI" \
    '{id: "lime", tenant: "t1", vni: $vni, controller: $c,
      ports: {vm1: 1, vm2: 2, vm3: 3, vm4: 4, vm5: 5, vm6: 6}}')
code=$(curl -s -o "$TB_DIR/vswitch.json" -w '%{http_code}' \
    -H 'Content-Type: application/json' -d "$vs_body" "$MIG_URL/v1/vswitches")
tb_expect "POST /v1/vswitches" "$code" -eq 201
[ "$code" = 201 ] || tb_finish
lime_app_wait ref '.ev == "hello"' 20
tb_expect "the tenant sees one switch with its six ports" \
    "$(jq -c 'select(.ev == "hello") | [.ports[] | select(. < 65280)] | length' \
        "$(lime_dir ref)/events.jsonl" | head -1)" -eq 6
lime_run ref ref : 6 3
curl -sf "$MIG_URL/v1/vswitches/lime/flows" >"$(lime_dir ref)/rest-flows.json"
lime_figures ref ref ref --rest-flows "$(lime_dir ref)/rest-flows.json"
expect_six ref

# ---- 2. mig: the same with an ensemble migration of all six ----
lime_app_stop ref
lime_app_start mig "$P_TENANT" "" "$TAP_A,$TAP_B"
lime_app_wait mig '.ev == "hello"' 30   # mignetd reconnects to the tenant

# ensemble_move MOVES_JSON ORDER... : POST migrate (manual switchover),
# then each VM of ORDER moves with tb_vm_move and is switched over at its
# pause; "flip" in ORDER issues the app's flow-mod (in the background,
# the next VM's move starting at once).
declare -A MIG_ID
ensemble_move() {
    local moves=$1 x h d
    shift
    d=$(lime_dir "$LIME_CUR_RUN")
    curl -sf -H 'Content-Type: application/json' \
        -d "{\"moves\": $moves, \"switchover\": \"manual\"}" \
        "$MIG_URL/v1/vswitches/lime/migrate" >"$d/migrate.json" ||
        tb_die "POST /v1/vswitches/lime/migrate failed"
    for x in "${ALL[@]}"; do
        MIG_ID[$x]=$(jq -r --arg v "vm$x" '.migrations[$v] // empty' \
            "$d/migrate.json")
        [ -n "${MIG_ID[$x]}" ] || tb_die "no migration id for vm$x in $(cat "$d/migrate.json")"
    done
    local flip_pid=
    for x in "$@"; do
        if [ "$x" = flip ]; then
            lime_app_cmd "$LIME_CUR_APP" flip >"$d/flip.json" &
            flip_pid=$!
            continue
        fi
        h=$(jq -r --arg v "vm$x" '.[$v]' <<<"$moves")
        h=${h#n}
        LIME_SW_ID=${MIG_ID[$x]} LIME_SW_VM=$x TB_MOVE_HOOK_AT=pause \
            TB_MOVE_READY=_lime_dst_ready \
            tb_vm_move "$x" "$h" "$MIG_PAUSE_MS" _lime_switchover
        printf '%s %s\n' "$x" "$(tail -1 "$TB_DIR/pauses")" >>"$d/vm-pauses"
    done
    if [ -n "$flip_pid" ]; then
        wait "$flip_pid" || tb_die "the flip failed"
    fi
}
# The bed's port appears at the pause (a real destination's tap exists from
# the start): the VM resumes once its tenant port delivers there too.
_lime_dst_ready() { _mig_dst_ready "$1" "$2" 1 8; }
_lime_switchover() {
    lime_vm_neighbors "$LIME_SW_VM" "${ALL[@]}"
    curl -sf -X POST "$MIG_URL/v1/migrations/$LIME_SW_ID/switchover" >/dev/null
}
moves_mig() {
    ensemble_move '{"vm1":"n2","vm2":"n3","vm3":"n1","vm4":"n3","vm5":"n3","vm6":"n1"}' \
        5 6 1 2 flip 3 4
}
lime_run mig mig moves_mig 10
# The old copies retired: every migration of the ensemble cleaned (the
# dynamic deletion delay; at most --delay-ceiling-ms, 120 s by default).
t_clean=$(tb_now_ms)
cleaned=0
while [ $(( $(tb_now_ms) - t_clean )) -lt "${LIME_CLEAN_S:-130}000" ]; do
    cleaned=$(curl -sf "$MIG_URL/v1/migrations" | jq --argjson ids \
        "$(printf '%s\n' "${MIG_ID[@]}" | jq -s -c .)" \
        '[.migrations[] | select(.id as $i | $ids | index($i))
          | select(.phase == "cleaned")] | length' || echo 0)
    [ "$cleaned" = "${#ALL[@]}" ] && break
    sleep 0.2
done
tb_log "mig: $cleaned of ${#ALL[@]} migrations cleaned $(( $(tb_now_ms) - t_clean )) ms after the traffic"
tb_expect "mig: migrations cleaned" "$cleaned" -eq "${#ALL[@]}"
# Final counters once the old copies are retired (their final stats in).
lime_app_final_stats mig
lime_counters_json "${ALL[@]}" >"$(lime_dir mig)/after.json"
curl -sf "$MIG_URL/v1/vswitches/lime/flows" >"$(lime_dir mig)/rest-flows.json"
lime_figures mig mig ref --moved --rest-flows "$(lime_dir mig)/rest-flows.json"
expect_six mig
# The flip came while the ensemble was split: a two-phase update, so the
# active version moved on (in place outside an ensemble: the ref run's).
tb_expect "mig: the active version moved on (two-phase update)" \
    "$(jq .active "$(lime_dir mig)/rest-flows.json")" -gt \
    "$(jq .active "$(lime_dir ref)/rest-flows.json")"
tb_expect "mig: no ensemble left" \
    "$(jq '.ensemble | length' "$(lime_dir mig)/rest-flows.json")" -eq 0
tb_expect "mig: the flip answered (barrier)" \
    "$(jq -r 'if .gen == 1 then 1 else 0 end' "$(lime_dir mig)/flip.json")" -eq 1

# ---- 3. tc: ovs-testcontroller, unmodified, through another move ----
lime_app_cmd mig clear >/dev/null
lime_app_stop mig
lime_testctl_start tc "$P_TENANT"
lime_testctl_wait tc
LIME_CUR_RUN=tc
mkdir -p "$(lime_dir tc)"
: >"$(lime_dir tc)/vm-pauses"
lime_ring_start tc "$RATE" 6 "${TRAFFIC[@]}"
sleep 1
ensemble_move '{"vm1":"n3","vm2":"n1","vm3":"n2","vm4":"n2","vm5":"n1","vm6":"n2"}' \
    1 2 3 4 5 6
lime_ring_wait tc
tb_expect "tc: connected" "$(lime_testctl_connected tc)" -ge 1
tb_expect "tc: OFPT_ERRORs received" "$(lime_testctl_errors tc)" -eq 0
tb_expect "tc: flows it installed" "$(lime_testctl_flows tc)" -ge 4
tc_lost=0
for x in "${TRAFFIC[@]}"; do
    r=$(lime_dir tc)/recv.$x.json
    tc_lost=$((tc_lost + $(jq .total.missing_outside_window "$r")))
    tb_expect "tc: vm$x received" "$(jq .total.received "$r")" -gt 0
done
tb_expect "tc: lost outside the pauses" "$tc_lost" -eq 0

# The issue's line: the figures of the migration run, last.
jq -c '{packet_in_duplicates, extra_packet_in_keys, counter_regressions,
    mixed_version_packets, lost_outside_pause, counters_match_traffic}' \
    "$(lime_dir mig)/figures.json" >"$TB_DIR/lime.json"
if [ "$TB_FAILURES" -ne 0 ]; then
    tb_log "$TB_FAILURES check(s) failed"
    jq -c . "$TB_DIR/lime.json" | sed 's/,"/, "/g; s/":/": /g'
    exit 1
fi
jq -c . "$TB_DIR/lime.json" | sed 's/,"/, "/g; s/":/": /g'
exit 0
