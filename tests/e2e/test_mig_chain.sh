#!/usr/bin/env bash
# test_mig_chain.sh: vm1 goes n1 -> n2 -> n3 inside the deletion delay
# (I5).  n1's pending relay must be retargeted to n3 -- no two-hop relay --
# and no probe may be lost outside the pauses.
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
    sleep 1.0
    mig_migrate 1 n3
    SECOND=$MIG_LAST
    N1_TO_N3=$(mig_flows 1 $DP_K_RELAY vm1 |
        grep -c 'set_field:198.18.0.3->tun_dst' || true)
    N1_TO_N2=$(mig_flows 1 $DP_K_RELAY vm1 |
        grep -c 'set_field:198.18.0.2->tun_dst' || true)
    N2_TO_N3=$(mig_flows 2 $DP_K_RELAY vm1 |
        grep -c 'set_field:198.18.0.3->tun_dst' || true)
}
mig_traffic 8 "$report" moves
jq -c '.senders[] | {sender, sent, received, missing_in_window,
    missing_outside_window, duplicated}' "$report"
tb_expect "n1's relay retargeted to n3" "$N1_TO_N3" -ge 2
tb_expect "n1's relay no longer points at n2" "$N1_TO_N2" -eq 0
tb_expect "n2 relays to n3" "$N2_TO_N3" -ge 2
tb_expect "probes sent" "$(mig_total "$report" sent)" -eq $((3 * MIG_RATE * 8))
tb_expect "lost outside the pauses" \
    "$(mig_total "$report" missing_outside_window)" -eq 0
mig_wait_cleaned "$FIRST" 20
mig_wait_cleaned "$SECOND" 20
tb_expect "vm1 delivered on n3" "$(mig_flows 3 $DP_K_LOCAL vm1 | wc -l)" -eq 3
for h in 1 2; do
    tb_expect "vm1 local+relay flows left on n$h" \
        "$(( $(mig_flows $h $DP_K_LOCAL vm1 | wc -l) +
            $(mig_flows $h $DP_K_RELAY vm1 | wc -l) ))" -eq 0
done
tb_finish
