#!/usr/bin/env bash
# test_mig_pingpong.sh: vm1 goes n1 -> n2 and back to n1 while the first
# migration's deletion on n1 is still pending (I4).  mignet must run that
# pending deletion before installing the new placement, so the VM is never
# deleted on the node it came back to: no probe lost outside the pauses,
# vm1 delivered on n1 at the end, nothing of it left on n2.
# Needs root and Open vSwitch (else exit 77).
# ctest: serial (its assertions depend on timing)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tb_require
. "$here/flows.sh"
. "$here/mig_lib.sh"

# Hold early release 3 s after the last acknowledgement, so the first
# migration's deletion is certainly still pending at the second move.
MIG_MIGNETD_ARGS="--inflight-ms 3000"
mig_bed mignet
report=$TB_DIR/report.json
moves() {
    mig_migrate 1 n2
    FIRST=$MIG_LAST
    sleep 1.2
    PENDING=$(mignet_cli --json tasks |
        jq '[.tasks[] | select(.vm == "vm1" and .node == "n1" and
             .kind == "delete")] | length')
    mig_migrate 1 n1
    SECOND=$MIG_LAST
}
mig_traffic 8 "$report" moves
jq -c '.senders[] | {sender, sent, received, missing_in_window,
    missing_outside_window, duplicated}' "$report"
tb_expect "n1's deletion was pending at the return" "$PENDING" -eq 1
tb_expect "probes sent" "$(mig_total "$report" sent)" -eq $((3 * MIG_RATE * 8))
tb_expect "lost outside the pauses" \
    "$(mig_total "$report" missing_outside_window)" -eq 0
mig_wait_cleaned "$FIRST" 20
mig_wait_cleaned "$SECOND" 20
tb_expect "vm1 delivered on n1 after both cleanups" \
    "$(mig_flows 1 $DP_K_LOCAL vm1 | wc -l)" -eq 3
tb_expect "vm1 local flows left on n2" \
    "$(mig_flows 2 $DP_K_LOCAL vm1 | wc -l)" -eq 0
tb_expect "vm1 relay flows left anywhere" \
    "$(( $(mig_flows 1 $DP_K_RELAY vm1 | wc -l) +
        $(mig_flows 2 $DP_K_RELAY vm1 | wc -l) ))" -eq 0
tb_vm_exec 2 busybox ping -c 2 -W 1 "$(tb_vm_ip 1)" >/dev/null 2>&1 &&
    ok=1 || ok=0
tb_expect "vm2 reaches vm1 back on n1" "$ok" -eq 1
tb_finish
