#!/usr/bin/env bash
# test_mig_single.sh: one live migration of vm1 from n1 to n2 through
# mignet (mignetd + agents on real Open vSwitch), under sequenced UDP from
# VMs on all three hosts.  Asserts: no probe lost outside the VM's pause;
# relay flows on the source during the deletion delay, carrying packets;
# none of vm1's old flows on the source after cleanup; the destination
# delivers.  Needs root and Open vSwitch (else exit 77).
# ctest: serial (its assertions depend on timing)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tb_require
. "$here/flows.sh"
. "$here/mig_lib.sh"

mig_bed mignet
report=$TB_DIR/report.json
moves() {
    mig_migrate 1 n2
    RELAY_FLOWS=$(mig_flows 1 $DP_K_RELAY vm1 | wc -l)
    RELAY_TO_N2=$(mig_flows 1 $DP_K_RELAY vm1 |
        grep -c 'set_field:198.18.0.2->tun_dst' || true)
}
mig_traffic 7 "$report" moves
jq -c '.senders[] | {sender, sent, received, missing_in_window,
    missing_outside_window, duplicated}' "$report"
tb_expect "relay flows on n1 during the delay" "$RELAY_FLOWS" -ge 2
tb_expect "relay flows point at n2" "$RELAY_TO_N2" -ge 2
tb_expect "probes sent" "$(mig_total "$report" sent)" -eq $((3 * MIG_RATE * 7))
tb_expect "lost outside the pause" \
    "$(mig_total "$report" missing_outside_window)" -eq 0
tb_expect "duplicates" "$(mig_total "$report" duplicated)" -eq 0
mig_wait_cleaned "$MIG_LAST" 20
# Stale senders (vm4 on n1 itself, vm3 on n3) reached vm1 through n1.
tb_expect "packets relayed by n1 (agent metric)" \
    "$(mig_metric 1 mignet_agent_relayed_packets_total)" -gt 0
tb_expect "n1's agent saw no OpenFlow errors" \
    "$(mig_metric 1 mignet_agent_openflow_errors_total)" -eq 0
tb_expect "vm1 local flows left on n1" \
    "$(mig_flows 1 $DP_K_LOCAL vm1 | wc -l)" -eq 0
tb_expect "vm1 relay flows left on n1" \
    "$(mig_flows 1 $DP_K_RELAY vm1 | wc -l)" -eq 0
tb_expect "vm1 delivered on n2 (classify + 2 deliveries)" \
    "$(mig_flows 2 $DP_K_LOCAL vm1 | wc -l)" -eq 3
tb_expect "no pending tasks" \
    "$(mignet_cli --json tasks | jq '.tasks | length')" -eq 0
tb_finish
