#!/usr/bin/env bash
# test_mig_update.sh: vm1's configuration is updated on n2 between its
# migration and the deletion on n1 (I3): the deletion removes exactly the
# snapshot taken when vm1 left n1, never the new configuration, and no
# probe is lost outside the pause.  The update pins vm1's OpenFlow port
# explicitly (the agent had found it by name), so traffic is unaffected.
# Needs root and Open vSwitch (else exit 77).
# ctest: serial (its assertions depend on timing)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tb_require
. "$here/flows.sh"
. "$here/mig_lib.sh"

mig_bed mignet
report=$TB_DIR/report.json
port=$(tb_vm_ofport 1)
moves() {
    mig_migrate 1 n2
    sleep 0.3
    mignet_cli vm update vm1 --port "$port" >/dev/null
    SNAP_PORT=$(mignet_cli --json tasks | jq -r '[.tasks[] |
        select(.vm == "vm1" and .node == "n1")] | length')
}
mig_traffic 7 "$report" moves
jq -c '.senders[] | {sender, sent, received, missing_in_window,
    missing_outside_window}' "$report"
tb_expect "deletion on n1 pending after the update" "$SNAP_PORT" -eq 1
tb_expect "lost outside the pause" \
    "$(mig_total "$report" missing_outside_window)" -eq 0
tb_expect "vm1's configuration on n2 carries the update" \
    "$(mignet_cli --json vm show vm1 | jq .port)" -eq "$port"
mig_wait_cleaned "$MIG_LAST" 20
tb_expect "n1 holds nothing of vm1 (snapshot deleted)" \
    "$(( $(mig_flows 1 $DP_K_LOCAL vm1 | wc -l) +
        $(mig_flows 1 $DP_K_RELAY vm1 | wc -l) ))" -eq 0
tb_expect "n2 still delivers vm1 with the updated configuration" \
    "$(mig_flows 2 $DP_K_LOCAL vm1 | grep -c "output:$port")" -eq 2
tb_vm_exec 3 busybox ping -c 2 -W 1 "$(tb_vm_ip 1)" >/dev/null 2>&1 &&
    ok=1 || ok=0
tb_expect "vm3 reaches vm1 after cleanup" "$ok" -eq 1
tb_finish
