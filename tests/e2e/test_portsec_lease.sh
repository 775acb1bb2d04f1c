#!/usr/bin/env bash
# test_portsec_lease.sh: leases end on time, across a crash of mignetd
# (seed 003; invariant I7 for the LEASE task).  Two dynamic bindings: one
# set through the API with a 6 s lease (the VM manager's; quick), one from
# a real DHCP exchange (dnsmasq's shortest lease, 2 min).  mignetd is
# killed with SIGKILL between both grants and the first expiry, and
# restarted on the same state.  Asserts: each binding is there at every
# look before its expiry and gone within 1.5 s after it (never early); the
# VM's port then lets only DHCP out again (spoofing its old address is
# dropped); the DHCP VM gets a new lease and its traffic flows again.
# Takes about 2.5 minutes.  Needs root and Open vSwitch (else exit 77).
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
ps_dhcp_server 1
ps_vm_dhcp 1 1
ps_vm_dhcp 5 1
mig_vm 2 2
mig_wait_connected 2 250

# The DHCP binding (2 min) ...
ip1=$(ps_dhcp 1)
ps_wait_binding 1
exp1=$(ps_binding 1 expires_unix_ms)
# ... and the manager's, with a 6 s lease, for an address vm5 sets itself.
mignet_cli binding set vm5 --ip "$(tb_vm_ip 5)" --type dynamic --lease 6 \
    >/dev/null
exp5=$(ps_binding 5 expires_unix_ms)
tb_vm_exec 5 ip addr add "$(tb_vm_ip 5)/24" dev eth0
ps_wait_flows 1 5 6
ps_wait_ping 5 "$(tb_vm_ip 2)"
ps_wait_ping 1 "$(tb_vm_ip 2)"
tb_expect "lease tasks pending" \
    "$(mignet_cli --json tasks | jq '[.tasks[] | select(.kind=="lease")] |
        length')" -eq 2
mignet_cli tasks

# Crash: SIGKILL, then a restart on the same state (and ports).
kill -9 "$MIG_MIGNETD_PID"
wait "$MIG_MIGNETD_PID" 2>/dev/null || true
tb_log "mignetd killed; restarting"
mig_restart_mignetd
tb_expect "bindings survived the crash" \
    "$(mignet_cli --json binding list | jq '.bindings | length')" -eq 3
tb_expect "... with their expiries" \
    "$(ps_binding 5 expires_unix_ms)" -eq "$exp5"

# ps_watch_expiry X EXP: polls X's binding until it is gone; checks it was
# never missing at a look that ended before EXP, and was gone at a look
# that ended within 1.5 s after EXP.
ps_watch_expiry() {
    local x=$1 exp=$2 early=0 gone=0 id t1
    while :; do
        id=$(ps_binding "$x" id)
        t1=$(tb_now_ms)
        if [ -z "$id" ]; then
            gone=$t1
            break
        fi
        [ "$t1" -gt $((exp + 10000)) ] && break
        sleep 0.05
    done
    [ "$gone" -gt 0 ] && [ "$gone" -lt "$exp" ] && early=1
    tb_expect "vm$x's binding gone (not kept past its lease)" \
        "$([ "$gone" -gt 0 ] && echo 1 || echo 0)" -eq 1
    tb_expect "vm$x's binding not removed early" "$early" -eq 0
    tb_expect "vm$x's binding removed within 1.5 s of its expiry (ms)" \
        "$((gone - exp))" -le 1500
    tb_log "vm$x: lease ended at $exp, seen gone at $gone" \
        "(+$((gone - exp)) ms)"
}

ps_watch_expiry 5 "$exp5"
ps_wait_flows 1 5 3 # DHCP only again
ps_neigh 5 "$(tb_vm_ip 2)" "$(tb_vm_mac 2)"
sleep 0.6
d0=$(ps_drops 1 5)
tb_expect "vm5 after its lease: pings answered" \
    "$(ps_ping 5 "$(tb_vm_ip 2)" 5)" -eq 0
tb_expect "vm5 after its lease: drops counted" \
    "$(($(ps_drops_at_least 1 5 $((d0 + 5))) - d0))" -ge 5
tb_expect "vm5's address left the VM's configuration" \
    "$(mignet_cli --json vm show vm5 | jq -r .ip | grep -c '^0.0.0.0$')" -eq 1
tb_expect "lease expiries (since the restart)" \
    "$(curl -sf "$MIG_URL/metrics" |
        awk '$1 == "mignet_bindings_lease_expiries_total" { print $2 }')" \
    -eq 1

tb_log "waiting for vm1's DHCP lease to end ($(( (exp1 - $(tb_now_ms)) / 1000 )) s)"
ps_watch_expiry 1 "$exp1"
ps_wait_flows 1 1 3
ps_neigh 1 "$(tb_vm_ip 2)" "$(tb_vm_mac 2)"
tb_expect "vm1 after its lease: pings answered" \
    "$(ps_ping 1 "$(tb_vm_ip 2)" 3)" -eq 0
# A new DHCP exchange binds it again.
ip1b=$(ps_dhcp 1)
ps_wait_binding 1
ps_wait_flows 1 1 6
ps_wait_ping 1 "$(tb_vm_ip 2)"
tb_expect "vm1 bound again after a new lease" \
    "$(ps_binding 1 ip | grep -c "^$ip1b\$")" -eq 1
tb_expect "n1's agent saw no OpenFlow errors" \
    "$(mig_metric 1 mignet_agent_openflow_errors_total)" -eq 0
tb_finish
