#!/usr/bin/env bash
# test_agent_ovs_restart.sh: Open vSwitch restarts under a running agent.
# Its flows are gone when it comes back; the agent must notice the lost
# OpenFlow connection, reconnect, and reinstall exactly the table it had
# (full resync), after which VMs reach each other again and a migration
# through the restarted node loses nothing outside the pause.
# Needs root and Open vSwitch (else exit 77).
# ctest: serial (its assertions depend on timing)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tb_require
. "$here/flows.sh"
. "$here/mig_lib.sh"

mig_bed mignet
before=$(mig_table 2)
n_before=$(printf '%s\n' "$before" | grep -c cookie=)
connects=$(mig_metric 2 mignet_agent_openflow_connects_total)
tb_vswitchd_restart 2
tb_expect "flows on n2 right after the restart (none)" \
    "$(mig_table 2 | grep -c cookie= || true)" -eq 0
for _ in $(seq 1 60); do
    [ "$(mig_table 2 | grep -c cookie= || true)" -ge "$n_before" ] && break
    sleep 0.1
done
after=$(mig_table 2)
tb_expect "n2's table before the restart had flows" "$n_before" -gt 10
if [ "$before" = "$after" ]; then same=1; else
    same=0; diff <(echo "$before") <(echo "$after") >&2 || true
fi
tb_expect "the agent reinstalled exactly the same table" "$same" -eq 1
tb_expect "agent reconnected to OVS once" \
    "$(mig_metric 2 mignet_agent_openflow_connects_total)" -eq \
    $((connects + 1))
mig_wait_connected 1 2 3 4

report=$TB_DIR/report.json
moves() { mig_migrate 1 n2; }
mig_traffic 6 "$report" moves
tb_expect "lost outside the pause after the restart" \
    "$(mig_total "$report" missing_outside_window)" -eq 0
mig_wait_cleaned "$MIG_LAST" 20
tb_expect "vm1 delivered on the restarted n2" \
    "$(mig_flows 2 $DP_K_LOCAL vm1 | wc -l)" -eq 3
tb_finish
