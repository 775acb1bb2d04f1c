#!/usr/bin/env bash
# test_mig_naive.sh: the baseline mignet exists to beat, on the same bed as
# test_mig_single.sh: mignetd with --strategy naive deletes vm1's
# configuration on the source as soon as the destination has it, with no
# relay.  Senders whose nodes have not refreshed their map yet keep sending
# to n1, so probes are lost after the pause -- the loss mignet removes.
# Needs root and Open vSwitch (else exit 77).
# ctest: serial (its assertions depend on timing)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tb_require
. "$here/flows.sh"
. "$here/mig_lib.sh"

mig_bed naive
report=$TB_DIR/report.json
moves() {
    mig_migrate 1 n2
    RELAY_FLOWS=$(mig_flows 1 $DP_K_RELAY vm1 | wc -l)
}
mig_traffic 7 "$report" moves
jq -c '.senders[] | {sender, sent, received, missing_in_window,
    missing_outside_window}' "$report"
tb_expect "no relay on n1 (naive)" "$RELAY_FLOWS" -eq 0
tb_expect "probes sent" "$(mig_total "$report" sent)" -eq $((3 * MIG_RATE * 7))
tb_expect "naive loses probes after the pause" \
    "$(mig_total "$report" missing_outside_window)" -gt 0
mig_wait_cleaned "$MIG_LAST" 20
tb_finish
