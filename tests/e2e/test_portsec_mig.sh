#!/usr/bin/env bash
# test_portsec_mig.sh: a DHCP-bound VM live-migrates under traffic (seed
# 003 with seed 000's protocol) on real Open vSwitch.  vm1 gets its address
# from dnsmasq (controller snooping), then moves n1 -> n2 while vm2..vm4
# send to it and it sends to vm2.  Asserts: the binding's flows are on the
# target before the VM resumes; no probe lost outside the pause, in either
# direction; the VM keeps its address without running DHCP again; spoofed
# traffic is still dropped on the target; the source holds no binding
# flows after cleanup; a static update from the VM manager after the
# migration (FIG. 5, S330-S335) goes to the target only.  Needs root and
# Open vSwitch (else exit 77).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tb_require
command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] ||
    { echo "SKIP: dnsmasq not installed (scripts/deps.sh)" >&2; exit 77; }
. "$here/flows.sh"
. "$here/mig_lib.sh"
. "$here/portsec_lib.sh"

tb_init
tb_hosts_up 3
mig_start mignet
ps_dhcp_reserve 1
ps_dhcp_server 1
ps_vm_dhcp 1 1
mig_vm 2 2
mig_vm 3 3
mig_vm 4 1
ip1=$(ps_dhcp 1)
[ "$ip1" = "$(tb_vm_ip 1)" ] || tb_die "vm1 leased $ip1, not its reservation"
ps_wait_binding 1
ps_wait_flows 1 1 6
mig_wait_connected 1 2 3 4
acks0=$(grep -c "DHCPACK.*$(tb_vm_mac 1)" "$TB_DIR/dnsmasq/dnsmasq.log")
sleep 2 # refresh statistics for the dynamic delay

# The switch-over as a VM manager does it; before the VM resumes, count
# the binding's flows on the target.
switch() {
    local m p
    m=$(mignet_cli --json vm migrate vm1 --to n2 | jq -r .migration)
    for _ in $(seq 1 100); do
        p=$(mig_phase "$m")
        [ "$p" != preparing ] && break
        sleep 0.02
    done
    echo "$m" >"$TB_DIR/last-migration"
    ps_flows 2 1 | wc -l >"$TB_DIR/target-flows"
}
moves() {
    tb_vm_move 1 2 "$MIG_PAUSE_MS" switch
}
secs=7
r1=$TB_DIR/report-to-vm1.json
r2=$TB_DIR/report-from-vm1.json
tb_recv_start 1 5000 "$r1" --senders 3 --slack-ms "$MIG_SLACK_MS" \
    --duration $((secs + 10))
rp1=$TB_BG_PID
tb_recv_start 2 5001 "$r2" --senders 1 --slack-ms "$MIG_SLACK_MS" \
    --duration $((secs + 10))
rp2=$TB_BG_PID
spids=()
for s in 2 3 4; do
    tb_send_start "$s" 1 5000 "$MIG_RATE" "$secs" "$s"
    spids+=("$TB_BG_PID")
done
tb_send_start 1 2 5001 "$MIG_RATE" "$secs" 1
spids+=("$TB_BG_PID")
sleep 0.8
moves
for p in "${spids[@]}"; do
    tb_wait "$p" $((secs + 15))
done
tb_wait "$rp1" 20
tb_wait "$rp2" 20
MIG_LAST=$(cat "$TB_DIR/last-migration")
for r in "$r1" "$r2"; do
    jq -c '.senders[] | {sender, sent, received, missing_in_window,
        missing_outside_window, duplicated}' "$r"
done

tb_expect "binding flows on n2 before vm1 resumed" \
    "$(cat "$TB_DIR/target-flows")" -eq 6
tb_expect "to vm1: probes sent" "$(mig_total "$r1" sent)" \
    -eq $((3 * MIG_RATE * secs))
tb_expect "to vm1: lost outside the pause" \
    "$(mig_total "$r1" missing_outside_window)" -eq 0
tb_expect "from vm1: lost outside the pause" \
    "$(mig_total "$r2" missing_outside_window)" -eq 0
tb_expect "from vm1: received after the move (its binding on n2)" \
    "$(jq '.total.received' "$r2")" -gt $((MIG_RATE * secs / 2))

# The VM kept its address; nobody ran DHCP again.
tb_expect "vm1 still has its lease" \
    "$(tb_vm_exec 1 ip -4 -o addr show dev eth0 | grep -c " $ip1/")" -eq 1
tb_expect "no new DHCPACK for vm1" \
    "$(grep -c "DHCPACK.*$(tb_vm_mac 1)" "$TB_DIR/dnsmasq/dnsmasq.log")" \
    -eq "$acks0"
tb_expect "the binding moved to n2" \
    "$(ps_binding 1 node | grep -c '^n2$')" -eq 1

# Spoofing on the target: dropped and counted there.
ps_neigh 1 "$(tb_vm_ip 2)" "$(tb_vm_mac 2)"
tb_vm_exec 1 ip addr add 198.18.1.77/32 dev eth0
sleep 0.6
d0=$(ps_drops 2 1)
tb_expect "spoofed IP on n2: pings answered" \
    "$(ps_ping 1 "$(tb_vm_ip 2)" 5 198.18.1.77)" -eq 0
tb_expect "spoofed IP on n2: drops counted" \
    "$(($(ps_drops_at_least 2 1 $((d0 + 5))) - d0))" -ge 5
tb_vm_exec 1 ip addr del 198.18.1.77/32 dev eth0
tb_expect "vm1's own traffic flows on n2" \
    "$(ps_ping 1 "$(tb_vm_ip 2)" 3)" -eq 3

# Cleanup: the snapshot's DELETE takes the source's state, binding and all.
mig_wait_cleaned "$MIG_LAST" 20
tb_expect "vm1 binding flows left on n1" "$(ps_flows 1 1 | wc -l)" -eq 0
tb_expect "vm1 local flows left on n1" \
    "$(mig_flows 1 $DP_K_LOCAL vm1 | wc -l)" -eq 0
tb_expect "vm1 binding flows on n2" "$(ps_flows 2 1 | wc -l)" -eq 6

# S330-S335: the VM manager sends the updated configuration after the
# migration; it goes to the current node only.
mignet_cli binding set vm1 --ip "$ip1" --node n2 >/dev/null
tb_expect "binding now static, from the manager" \
    "$(mignet_cli --json binding show vm1 |
        jq -r '.type + "/" + .origin' | grep -c '^static/manager$')" -eq 1
ps_wait_flows 2 1 6
tb_expect "still no binding flows on n1" "$(ps_flows 1 1 | wc -l)" -eq 0
tb_expect "vm1's traffic still flows" "$(ps_ping 1 "$(tb_vm_ip 2)" 2)" -eq 2
tb_expect "lease task gone with the static update" \
    "$(mignet_cli --json tasks | jq '[.tasks[] | select(.kind=="lease")] |
        length')" -eq 0
tb_expect "n2's agent saw no OpenFlow errors" \
    "$(mig_metric 2 mignet_agent_openflow_errors_total)" -eq 0
tb_finish
