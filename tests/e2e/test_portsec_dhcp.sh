#!/usr/bin/env bash
# test_portsec_dhcp.sh: DHCP snooping and port security end to end on real
# Open vSwitch (seed 003), with a real DHCP server (dnsmasq, VM 250, a
# trusted port) and real DHCP clients (busybox udhcpc).  The agents send
# the ACKs they see up to mignetd (--dhcp-snoop controller, or agent with
# PS_SNOOP=agent: test_portsec_agent.sh), which creates the binding; the
# node then lets only the bound MAC and IP out of the VM's port.
# Asserts: before DHCP a VM may only do DHCP; after it, its traffic flows;
# a spoofed source IP and a spoofed source MAC are dropped and counted in
# the flow statistics (and the agent's metric); a second VM cannot use the
# first one's address (dropped on the wire, 409 from the API); the binding
# has every Table 1 field.  Reports the ACK -> enforcement latency.  Needs
# root and Open vSwitch (else exit 77).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tb_require
command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] ||
    { echo "SKIP: dnsmasq not installed (scripts/deps.sh)" >&2; exit 77; }
. "$here/flows.sh"
. "$here/mig_lib.sh"
. "$here/portsec_lib.sh"

snoop=${PS_SNOOP:-controller}
MIG_AGENT_ARGS="--dhcp-snoop $snoop"
tb_init
tb_hosts_up 3
mig_start mignet
ps_dhcp_server 1
ps_vm_dhcp 1 1 # the DHCP client
mig_vm 2 2     # a VM with an address given by hand (not filtered)
ps_vm_dhcp 3 1 # the would-be thief
mig_wait_connected 2 250

# Unbound, without an address: only DHCP may leave the port.
ps_wait_flows 1 1 3
tb_expect "vm1 unbound: no binding yet" "$(ps_binding 1 id | wc -c)" -eq 0

t0=$(tb_now_ms)
ip1=$(ps_dhcp 1)
tb_log "vm1 leased $ip1 (snooping: $snoop)"
ps_wait_binding 1
ps_wait_flows 1 1 6
t1=$(tb_now_ms)
tb_log "DHCP + binding + flows in $((t1 - t0)) ms"
[[ $ip1 == 198.18.1.* ]] || tb_die "vm1 leased $ip1"
origin=controller
[ "$snoop" = agent ] && origin=agent
b=$(mignet_cli --json binding show vm1)
echo "$b"
tb_expect "binding ip is the lease" \
    "$([ "$(jq -r .ip <<<"$b")" = "$ip1" ] && echo 1 || echo 0)" -eq 1
tb_expect "binding origin $origin" \
    "$([ "$(jq -r .origin <<<"$b")" = "$origin" ] && echo 1 || echo 0)" -eq 1
tb_expect "binding type dynamic" \
    "$([ "$(jq -r .type <<<"$b")" = dynamic ] && echo 1 || echo 0)" -eq 1
tb_expect "binding mac is vm1's" \
    "$([ "$(jq -r .mac <<<"$b")" = "$(tb_vm_mac 1)" ] && echo 1 || echo 0)" \
    -eq 1
tb_expect "binding node n1" \
    "$([ "$(jq -r .node <<<"$b")" = n1 ] && echo 1 || echo 0)" -eq 1
tb_expect "binding server is dnsmasq" \
    "$([ "$(jq -r .server <<<"$b")" = "$(tb_vm_ip 250)" ] && echo 1 ||
        echo 0)" -eq 1
tb_expect "binding lease (s)" "$(jq -r .lease <<<"$b")" -eq 120
exp=$(jq -r .expires_unix_ms <<<"$b")
tb_expect "expiry no earlier than the lease from the request" \
    "$((exp - t0))" -ge 120000
tb_expect "expiry no later than the lease from the binding" \
    "$((exp - t1))" -le 120000
tb_expect "binding port_status up" \
    "$(jq -r '.port_status == "up" and .port_security == "untrust"' \
        <<<"$b" | grep -c true)" -eq 1
tb_expect "the VM shows its binding" \
    "$(mignet_cli --json vm show vm1 | jq -r .binding.id)" \
    -eq "$(jq -r .id <<<"$b")"
tb_expect "the VM's IP is the lease" \
    "$(mignet_cli --json vm show vm1 | jq -r .ip | grep -c "^$ip1\$")" -eq 1

# After DHCP the VM's traffic flows, both ways (vm2 answers ARP for vm1's
# new address once its node's map has it).
ps_wait_ping 1 "$(tb_vm_ip 2)"
tb_expect "vm1 -> vm2 pings answered" "$(ps_ping 1 "$(tb_vm_ip 2)" 3)" -eq 3
ps_wait_ping 2 "$ip1"
tb_expect "vm2 -> vm1 pings answered" "$(ps_ping 2 "$ip1" 3)" -eq 3

# A spoofed source IP from vm1: dropped and counted.
ps_neigh 1 "$(tb_vm_ip 2)" "$(tb_vm_mac 2)"
tb_vm_exec 1 ip addr add 198.18.1.77/32 dev eth0
sleep 0.6 # the counters of earlier packets are in
d0=$(ps_drops 1 1)
tb_expect "spoofed IP: pings answered" \
    "$(ps_ping 1 "$(tb_vm_ip 2)" 5 198.18.1.77)" -eq 0
d1=$(ps_drops_at_least 1 1 $((d0 + 5)))
tb_expect "spoofed IP: drops counted" "$((d1 - d0))" -ge 5
tb_vm_exec 1 ip addr del 198.18.1.77/32 dev eth0
tb_expect "legit traffic still flows" "$(ps_ping 1 "$(tb_vm_ip 2)" 2)" -eq 2

# A spoofed source MAC (the bound IP): dropped and counted.
tb_vm_exec 1 ip link set eth0 address 02:00:00:00:01:99
# A new address flushes the neighbour table: put the entry back, so the
# pings themselves (not ARP) meet the port security.
ps_neigh 1 "$(tb_vm_ip 2)" "$(tb_vm_mac 2)"
sleep 0.6
d2=$(ps_drops 1 1)
tb_expect "spoofed MAC: pings answered" \
    "$(ps_ping 1 "$(tb_vm_ip 2)" 5)" -eq 0
d3=$(ps_drops_at_least 1 1 $((d2 + 5)))
tb_expect "spoofed MAC: drops counted" "$((d3 - d2))" -ge 5
tb_vm_exec 1 ip link set eth0 address "$(tb_vm_mac 1)"
tb_expect "vm1 again with its MAC" "$(ps_ping 1 "$(tb_vm_ip 2)" 2)" -eq 2

# A second VM cannot use the first one's address: on the wire (its port
# is unbound: DHCP only) nor through the API.
tb_vm_exec 3 ip addr add "$ip1/24" dev eth0
ps_neigh 3 "$(tb_vm_ip 2)" "$(tb_vm_mac 2)"
sleep 0.6
d4=$(ps_drops 1 3)
tb_expect "vm3 with vm1's address: pings answered" \
    "$(ps_ping 3 "$(tb_vm_ip 2)" 5)" -eq 0
d5=$(ps_drops_at_least 1 3 $((d4 + 5)))
tb_expect "vm3 with vm1's address: drops counted" "$((d5 - d4))" -ge 5
rc=0
out=$(mignet_cli binding set vm3 --ip "$ip1" 2>&1) || rc=$?
echo "$out"
tb_expect "API refuses vm1's address for vm3 (exit 4)" "$rc" -eq 4
tb_expect "... with ip_conflict" "$(grep -c 'error 409 ip_conflict' <<<"$out")" \
    -eq 1
tb_vm_exec 3 ip addr flush dev eth0
ip3=$(ps_dhcp 3)
ps_wait_binding 3
ps_wait_flows 1 3 6
tb_expect "vm3 leased another address" \
    "$([ "$ip3" != "$ip1" ] && echo 1 || echo 0)" -eq 1
ps_wait_ping 3 "$(tb_vm_ip 2)"
tb_expect "vm3's traffic flows with its own lease" \
    "$(ps_ping 3 "$(tb_vm_ip 2)" 2)" -eq 2
tb_expect "bindings listed" \
    "$(mignet_cli --json binding list | jq '.bindings | length')" -eq 3
mignet_cli binding list

# The agent counts the drops from the flow statistics it polls.
drops=$((d1 - d0 + d3 - d2 + d5 - d4))
for _ in $(seq 1 30); do
    [ "$(mig_metric 1 mignet_agent_spoof_drops_total)" -ge "$drops" ] &&
        break
    sleep 0.1
done
tb_expect "agent spoof-drop metric" \
    "$(mig_metric 1 mignet_agent_spoof_drops_total)" -ge "$drops"
tb_expect "ACKs timed to enforcement" \
    "$(mig_metric 1 mignet_agent_dhcp_ack_to_enforced_seconds_count)" -ge 2
curl -sf "http://127.0.0.1:${MIG_METRICS[1]}/metrics" |
    grep -E 'dhcp_ack_to_enforced|spoof_drops|dhcp_(punts|sent|bad)|snooped'
curl -sf "$MIG_URL/metrics" | grep -E '^mignet_(bindings|dhcp|binding_)'
tb_expect "controller counts bindings by type" \
    "$(curl -sf "$MIG_URL/metrics" |
        awk '$1 == "mignet_bindings{type=\"dynamic\"}" { print $2 }')" -eq 2
tb_expect "n1's agent saw no OpenFlow errors" \
    "$(mig_metric 1 mignet_agent_openflow_errors_total)" -eq 0
tb_finish
