#!/usr/bin/env bash
# test_mig_restart.sh: mignetd is killed with SIGKILL in the middle of a
# migration's deletion delay, with real agents on real Open vSwitch, and
# restarted on the same state directory and ports.  The data plane keeps
# forwarding while the controller is away (flows stay in Open vSwitch);
# the agents reconnect and are resynchronised; the pending deletion is
# neither lost nor run early (I7); no probe is lost outside the pause.
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
moves() {
    mig_migrate 1 n2
    DUE=$(mignet_cli --json tasks | jq '[.tasks[] |
        select(.vm == "vm1" and .kind == "delete")][0].due_unix_ms')
    kill -KILL "$MIG_MIGNETD_PID"
    KILLED_MS=$(tb_now_ms)
    sleep 1.0
    # Still the relay's job meanwhile: the flows are in the switch.
    RELAY_DURING=$(mig_flows 1 $DP_K_RELAY vm1 | wc -l)
    mig_restart_mignetd
    RESTARTED_MS=$(tb_now_ms)
}
mig_traffic 8 "$report" moves
jq -c '.senders[] | {sender, sent, received, missing_in_window,
    missing_outside_window}' "$report"
tb_expect "relay flows stayed while mignetd was down" "$RELAY_DURING" -ge 2
tb_expect "lost outside the pause" \
    "$(mig_total "$report" missing_outside_window)" -eq 0
mig_wait_cleaned "$MIG_LAST" 30
cleaned=$(mignet_cli --json migration show "$MIG_LAST" | jq .cleaned_unix_ms)
# The deletion ran at its due time or, if released early by every node's
# acknowledgement after the restart, after the restart -- never while the
# controller was down, and never before the move was acknowledged.
tb_expect "deletion not before the restart" "$cleaned" -ge "$RESTARTED_MS"
tb_expect "deletion not after its due time + 2 s" "$cleaned" -le \
    $((DUE + 2000))
tb_expect "agents reconnected (3 connected)" \
    "$(mignet_cli --json node list | jq '[.nodes[] |
        select(.connected)] | length')" -eq 3
tb_expect "vm1 flows left on n1" \
    "$(( $(mig_flows 1 $DP_K_LOCAL vm1 | wc -l) +
        $(mig_flows 1 $DP_K_RELAY vm1 | wc -l) ))" -eq 0
tb_expect "vm1 delivered on n2" "$(mig_flows 2 $DP_K_LOCAL vm1 | wc -l)" -eq 3
tb_finish
