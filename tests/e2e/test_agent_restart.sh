#!/usr/bin/env bash
# test_agent_restart.sh: mignet-agent restarts (stopped by PID, started
# again) under traffic to a VM on its node.  Open vSwitch keeps the
# agent's flows; the new agent reads them (flow statistics by cookie)
# instead of clearing them, and converges with the minimal diff once it
# knows its desired state: no packet to the node's VM is lost, and a
# restart into an unchanged state sends no flow mod at all.  Then again
# with mignetd frozen (SIGSTOP) for 1.5 s across the restart: the agent
# keeps the switch's flows until the resync and the map arrive (an agent
# that cleared its flows on connecting lost ~1.5 s of traffic here).
# Needs root and Open vSwitch (else exit 77).
# ctest: serial (its assertions depend on timing)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tb_require
. "$here/flows.sh"
MIG_RATE=${MIG_RATE:-1000} # 3,000 probes/s: a 1 ms gap shows
. "$here/mig_lib.sh"

mig_bed mignet
before=$(mig_table 1)
n_before=$(printf '%s\n' "$before" | grep -c cookie=)

# vm1 (on n1) receives from vm2 (n2), vm3 (n3) and vm4 (n1); n1's agent
# restarts 0.8 s in; the traffic goes on ~3 s after it is back.
report=$TB_DIR/report.json
restart() {
    mig_restart_agent 1
    local i
    for i in $(seq 1 50); do
        grep -q "event=flows_synced\|event=ofp_connected" \
            "$TB_DIR/agent1.log" && break
        sleep 0.1
    done
}
mig_traffic 4 "$report" restart
# The new agent has confirmed its table (its first barrier).
for _ in $(seq 1 50); do
    [ "$(mig_metric 1 mignet_agent_flow_batches_confirmed_total)" -ge 1 ] &&
        break
    sleep 0.1
done
after=$(mig_table 1)
tb_log "lost across the agent restart: $(mig_total "$report" missing)" \
    "of $(mig_total "$report" sent)"
tb_expect "n1's table had flows" "$n_before" -gt 10
tb_expect "probes sent" "$(mig_total "$report" sent)" -ge 12000
tb_expect "probes lost across the agent restart" \
    "$(mig_total "$report" missing)" -eq 0
tb_expect "the new agent read the flows n1 held" \
    "$(mig_metric 1 mignet_agent_flows_read)" -eq "$n_before"
tb_expect "flow mods sent by the new agent (state unchanged)" \
    "$(mig_metric 1 mignet_agent_flow_mods_total)" -eq 0
tb_expect "its batch was confirmed" \
    "$(mig_metric 1 mignet_agent_flow_batches_confirmed_total)" -ge 1
if [ "$before" = "$after" ]; then same=1; else
    same=0; diff <(echo "$before") <(echo "$after") >&2 || true
fi
tb_expect "n1's table is the same after the restart" "$same" -eq 1

# Again, with the desired state late: mignetd frozen across the restart.
report2=$TB_DIR/report2.json
restart_frozen() {
    kill -STOP "$MIG_MIGNETD_PID"
    mig_restart_agent 1
    sleep 1.5
    kill -CONT "$MIG_MIGNETD_PID"
}
mig_traffic 4 "$report2" restart_frozen
tb_log "lost across the agent restart with mignetd frozen 1.5 s:" \
    "$(mig_total "$report2" missing) of $(mig_total "$report2" sent)"
tb_expect "probes lost across the restart with mignetd frozen" \
    "$(mig_total "$report2" missing)" -eq 0
tb_expect "flow mods sent by that agent (state unchanged)" \
    "$(mig_metric 1 mignet_agent_flow_mods_total)" -eq 0
mig_wait_connected 1 2 3 4
tb_finish
