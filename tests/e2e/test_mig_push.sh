#!/usr/bin/env bash
# test_mig_push.sh: one live migration of vm1 from n1 to n2 with map push
# on (docs/agent-protocol.md, "Map push"): the demo's scenario, 3 senders
# at 1,000 probes/s and a 100 ms pause.  Every agent hears the move on its
# channel instead of at its next poll (1, 2, 4 s), and its barrier-
# confirmed map_ack releases n1's relay early.  Asserts: no probe lost
# outside the pause; the deletion released early and the migration
# cleaned within 1 s (polls alone take seconds here); far fewer packets
# relayed than without push (~2,000 on this bed; at most 500 asserted,
# issue 10's 100 logged); mignetd counted pushes
# and map acks.  Needs root and Open vSwitch (else exit 77).
# ctest: serial (its assertions depend on timing)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tb_require
. "$here/flows.sh"
MIG_PUSH=1 MIG_RATE=1000 MIG_PAUSE_MS=100
# The VM manager calls mignet as the VM stops, while the source port still
# exists (docs/agent-protocol.md, "Map push"; the relay then carries only
# what stale senders send until the push lands).
export TB_MOVE_HOOK_AT=pause
. "$here/mig_lib.sh"

mig_bed mignet
report=$TB_DIR/report.json
moves() { mig_migrate 1 n2; }
mig_traffic 5 "$report" moves
mig_wait_cleaned "$MIG_LAST" 20
mig=$(mignet_cli --json migration show "$MIG_LAST")
cleanup=$(jq '.cleaned_unix_ms - .started_unix_ms' <<<"$mig")
relayed=$(mig_metric 1 mignet_agent_relayed_packets_total)
tb_log "cleanup ${cleanup} ms, relayed by n1 ${relayed}," \
    "lost in the pause $(mig_total "$report" missing_in_window)"
tb_expect "lost outside the pause" \
    "$(mig_total "$report" missing_outside_window)" -eq 0
tb_expect "duplicates" "$(mig_total "$report" duplicated)" -eq 0
tb_expect "released early (1 = yes)" \
    "$(jq '.released_early | if . then 1 else 0 end' <<<"$mig")" -eq 1
tb_expect "cleanup ms" "$cleanup" -le 1000
# Push's effect, not a timing figure: polls alone relay 1,200-2,000 here.
# Issue 10's gate (<= 100 per migration) is a performance figure, measured
# by scripts/demo.sh (docs/PERFORMANCE.md); under CI's load this test saw
# 121 and 126 beside 19-49, so the test logs it and asserts a quarter.
tb_log "issue 10's gate, relayed <= 100: $([ "$relayed" -le 100 ] &&
    echo met || echo "not met ($relayed)")"
tb_expect "packets relayed by n1 (a quarter of polls alone)" "$relayed" -le 500
metrics=$(curl -sf "$MIG_URL/metrics")
tb_expect "map pushes" "$(awk '$1 == "mignet_map_pushes_total" { print $2 }' \
    <<<"$metrics")" -ge 3
tb_expect "map acks" "$(awk '$1 == "mignet_map_acks_total" { print $2 }' \
    <<<"$metrics")" -ge 3
tb_expect "agents subscribed" "$(awk '$1 == "mignet_agents_subscribed" {
    print $2 }' <<<"$metrics")" -eq 3
mv=$(jq .map_version <<<"$mig")
tb_expect "nodes acknowledged the move" "$(mignet_cli --json node list |
    jq "[.nodes[] | select(.map_version >= $mv)] | length")" -eq 3
tb_expect "vm1 relay flows left on n1" \
    "$(mig_flows 1 $DP_K_RELAY vm1 | wc -l)" -eq 0
tb_expect "n1's agent saw no OpenFlow errors" \
    "$(mig_metric 1 mignet_agent_openflow_errors_total)" -eq 0
tb_finish
