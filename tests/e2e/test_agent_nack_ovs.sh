#!/usr/bin/env bash
# test_agent_nack_ovs.sh: Open vSwitch refuses a migration's flows and the
# real agent says so (DESIGN I9, docs/agent-protocol.md `nack`).  n2's
# delivery table is capped at the flows it holds (Flow_Table flow_limit,
# overflow_policy=refuse), so installing vm1 there fails with
# OFPET_FLOW_MOD_FAILED/OFPFMFC_TABLE_FULL: the migration must stay
# prepared and show n2's nack, mignetd must count it.  Once the cap is
# lifted the agent's resend is confirmed and the migration moves on.
# Needs root and Open vSwitch (else exit 77).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tb_require
. "$here/flows.sh"
MIG_MIGNETD_ARGS="--prepare-timeout-ms 40000"
. "$here/mig_lib.sh"

T_DELIVER=30 # PL_T_FROM_TUN: a VM placed here gets a delivery flow

tb_init
tb_hosts_up 2
mig_start mignet
mig_vm 1 1
mig_vm 2 2
mig_wait_connected 1 2

n30=$(tb_ofctl 2 dump-flows br-int "table=$T_DELIVER" | grep -c cookie= ||
    true)
tb_vsctl 2 -- --id=@ft create Flow_Table flow_limit="$n30" \
    overflow_policy=refuse -- set Bridge br-int "flow_tables:$T_DELIVER=@ft" \
    >/dev/null
tb_log "n2 table $T_DELIVER capped at $n30 flows"

# The VM's port moves to n2 (the agent delivers only to a plugged port),
# then mignet is told.
switch() {
    mignet_cli --json vm migrate vm1 --to n2 | jq -r .migration \
        >"$TB_DIR/mig-id"
}
tb_vm_move 1 2 0 switch
id=$(cat "$TB_DIR/mig-id")
show() { mignet_cli --json migration show "$id"; }
for _ in $(seq 1 100); do
    [ "$(show | jq '.nacks | length')" -ge 1 ] && break
    sleep 0.05
done
m=$(show)
tb_log "migration $id: $(jq -c '{phase, nacks}' <<<"$m")"
tb_expect "n2 nacked the install" "$(jq '.nacks | length' <<<"$m")" -ge 1
tb_expect "nacks from n2" \
    "$(jq '[.nacks[] | select(.node == "n2")] | length' <<<"$m")" -ge 1
tb_expect "ofp_error type FLOW_MOD_FAILED" \
    "$(jq '.nacks[0].ofp_error.type' <<<"$m")" -eq 5
tb_expect "ofp_error code TABLE_FULL" \
    "$(jq '.nacks[0].ofp_error.code' <<<"$m")" -eq 1
sleep 1
is_phase() { [ "$(mig_phase "$id")" = "$1" ] && echo 1 || echo 0; }
tb_expect "still preparing (a nack is no ack)" "$(is_phase preparing)" -eq 1
tb_expect "mignetd counted it" "$(curl -sf "$MIG_URL/metrics" |
    awk '$1 == "mignet_agent_nacks_total" { print $2 }')" -ge 1
tb_expect "n2's agent saw the OpenFlow error" \
    "$(mig_metric 2 mignet_agent_openflow_errors_total)" -ge 1
tb_expect "n2's agent counted a refused batch" \
    "$(mig_metric 2 mignet_agent_flow_batches_refused_total)" -ge 1

# The switch takes flows again: the agent's next sync (its map poll, every
# 2 s) sends its whole table and that batch is acknowledged.
confirmed_before=$(mig_metric 2 mignet_agent_flow_batches_confirmed_total)
tb_vsctl 2 clear Bridge br-int flow_tables
for _ in $(seq 1 100); do
    [ "$(mig_phase "$id")" != preparing ] && break
    sleep 0.1
done
tb_expect "relaying once the resend was confirmed" "$(is_phase relaying)" \
    -eq 1
tb_expect "vm1 delivered on n2" \
    "$(mig_flows 2 $DP_K_LOCAL vm1 | wc -l)" -ge 1
tb_expect "the resend was a confirmed batch" \
    "$(mig_metric 2 mignet_agent_flow_batches_confirmed_total)" -gt \
    "$confirmed_before"
tb_finish
