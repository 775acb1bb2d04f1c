#!/usr/bin/env bash
# test_dataplane_manual.sh: proves docs/dataplane.md on real Open vSwitch
# before any agent exists.  Three hosts, four VMs; the documented flows are
# installed by hand with ovs-ofctl (tests/e2e/flows.sh); VM 1 receives
# sequenced UDP from VMs on every host while it moves:
#   A. h1 -> h2 the mignet way: destination flows and a relay on the source
#      before the VM resumes, a stale node refreshed later, the snapshot
#      deleted at the end: no loss outside the pause window, relay flows
#      count packets from the tunnel and from local VMs, and nothing of the
#      snapshot is left afterwards;
#   B. h2 -> h3 the naive way (source flows deleted at once, no relay): the
#      same measurement must see losses after the pause.
# Needs root and Open vSwitch (else exit 77).  Everything it creates is torn
# down on exit, also on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tb_require
. "$here/flows.sh"

RATE=${RATE:-400}        # probes/s per sender
SECS=${SECS:-4}          # seconds each sender runs
PAUSE_MS=${PAUSE_MS:-300}
SLACK_MS=${SLACK_MS:-20} # probes in flight when the pause begins
VMS="1 2 3 4"

tb_init
t0=$(tb_now_ms)
tb_hosts_up 3
t_hosts=$(tb_now_ms)
tb_vm_add 1 1   # the VM that moves: receiver
tb_vm_add 4 1   # sender on the source host (local relay path)
tb_vm_add 2 2   # sender on the first destination
tb_vm_add 3 3   # sender on a host that stays stale (tunnel relay path)
tb_log "3 hosts up in $((t_hosts - t0)) ms, 4 VMs in" \
    "$(($(tb_now_ms) - t_hosts)) ms"

# Initial placement: each VM local on its host, remote (by the map)
# everywhere else.
place_all() {
    local h x
    for h in 1 2 3; do
        dp_base "$h"
    done
    for x in $VMS; do
        for h in 1 2 3; do
            if [ "$h" = "$(tb_vm_host "$x")" ]; then
                dp_local "$h" "$x"
            else
                dp_remote "$h" "$x" "$(tb_vm_host "$x")"
            fi
        done
    done
}
place_all

echo "== connectivity and ARP responder"
for a in $VMS; do
    for b in $VMS; do
        [ "$a" = "$b" ] && continue
        got=0
        tb_vm_exec "$a" busybox ping -c 1 -W 2 "$(tb_vm_ip "$b")" \
            >/dev/null 2>&1 && got=1
        tb_expect "ping vm$a -> vm$b" "$got" -eq 1
    done
done
# The neighbour entry must hold the MAC the responder put there.
mac=$(tb_vm_exec 3 ip neigh show "$(tb_vm_ip 1)" |
    awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')
tb_expect "vm3 learnt vm1's MAC from the flow responder" \
    "$([ "$mac" = "$(tb_vm_mac 1)" ] && echo 1 || echo 0)" -eq 1

# run_traffic PORT REPORT MOVE_FN: receiver in VM 1, senders in VMs 2-4,
# MOVE_FN runs 0.8 s after they start.
run_traffic() {
    local port=$1 report=$2 move=$3 rpid s spids=()
    tb_recv_start 1 "$port" "$report" --senders 3 --slack-ms "$SLACK_MS" \
        --duration $((SECS + 10))
    rpid=$TB_BG_PID
    for s in 2 3 4; do
        tb_send_start "$s" 1 "$port" "$RATE" "$SECS" "$s"
        spids+=("$TB_BG_PID")
    done
    sleep 0.8
    "$move"
    for s in "${spids[@]}"; do
        tb_wait "$s" $((SECS + 10))
    done
    tb_wait "$rpid" 15
    [ -s "$report" ] || tb_die "no report in $report"
}

# Sum of a field of the report's total.
total() { jq -r ".total.$2" "$1"; }

echo "== A: move vm1 h1 -> h2 with a relay (mignet)"
RELAY=$(dp_cookie $DP_K_RELAY vm1)
LOCAL=$(dp_cookie $DP_K_LOCAL vm1)
REMOTE=$(dp_cookie $DP_K_REMOTE vm1)
on_dst_a() {
    dp_local 2 1          # INSTALL on the destination
    dp_relay 1 1 2        # RELAY: the source's snapshot forwards to h2
}
move_a() {
    tb_vm_move 1 2 "$PAUSE_MS" on_dst_a
    sleep 1.2; dp_remote 3 1 2            # h3 (stale until now) refreshes
    RELAYED_TUN=$(dp_packets 1 "$RELAY" $DP_T_FROM_TUN)
    RELAYED_VM=$(dp_packets 1 "$RELAY" $DP_T_FROM_VM)
    sleep 0.2
    dp_remote 1 1 2       # DELETE of the relay; h1's map says h2
}
run_traffic 5001 "$TB_DIR/report-a.json" move_a
jq -c '.senders[] | {sender, sent, received, missing_in_window,
    missing_outside_window, duplicated, reordered}' "$TB_DIR/report-a.json"
ra=$TB_DIR/report-a.json
tb_expect "A: probes sent" "$(total "$ra" sent)" -eq $((3 * RATE * SECS))
tb_expect "A: every sender's end seen" \
    "$(jq '[.senders[] | select(.end_seen)] | length' "$ra")" -eq 3
tb_expect "A: losses outside the pause" \
    "$(total "$ra" missing_outside_window)" -eq 0
tb_expect "A: the pause lost packets (the window is real)" \
    "$(total "$ra" missing_in_window)" -gt 0
tb_expect "A: duplicates" "$(total "$ra" duplicated)" -eq 0
tb_expect "A: receiver socket drops (not the network's)" \
    "$(jq .receiver_drops "$ra")" -eq 0
# A sender descheduled for longer than the slack can make a pause loss
# look like one outside the window: say so when it happens.
tb_log "senders were at most" \
    "$(cat "$TB_DIR"/send.*.json | jq -s 'map(.late_max_us) | max')" \
    "us late (slack ${SLACK_MS} ms)"
tb_expect "A: relayed from the tunnel (stale h3)" "${RELAYED_TUN:-0}" -gt 0
tb_expect "A: relayed from local vm4" "${RELAYED_VM:-0}" -gt 0
tb_expect "A: relay flows left on h1" "$(dp_flows 1 "$RELAY" | wc -l)" -eq 0
tb_expect "A: local flows left on h1" "$(dp_flows 1 "$LOCAL" | wc -l)" -eq 0
tb_expect "A: h1 forwards vm1 to h2 by the map" \
    "$(dp_flows 1 "$REMOTE" | grep -c 'set_field:198.18.0.2->tun_dst')" \
    -eq 1
tb_expect "A: vm1 placed on h2 (classify + 2 deliveries)" \
    "$(dp_flows 2 "$LOCAL" | wc -l)" -eq 3

echo "== B: move vm1 h2 -> h3 without relay (naive)"
on_dst_b() {
    dp_local 3 1
    dp_forget 2 1          # delete at once, no relay
}
move_b() {
    tb_vm_move 1 3 "$PAUSE_MS" on_dst_b
    sleep 1.0; dp_remote 2 1 3            # h2 refreshes after 1.0 s
    sleep 0.5; dp_remote 1 1 3            # h1 after 1.5 s
}
run_traffic 5002 "$TB_DIR/report-b.json" move_b
rb=$TB_DIR/report-b.json
jq -c '.senders[] | {sender, sent, received, missing_in_window,
    missing_outside_window}' "$rb"
tb_expect "B: probes sent" "$(total "$rb" sent)" -eq $((3 * RATE * SECS))
tb_expect "B: naive loses packets after the pause" \
    "$(total "$rb" missing_outside_window)" -gt 0
tb_expect "B: vm3 (local to the new host) loses nothing after the pause" \
    "$(jq '.senders[] | select(.sender == 3) | .missing_outside_window' \
        "$rb")" -eq 0

tb_log "run took $(($(tb_now_ms) - t0)) ms before teardown"
tb_finish
