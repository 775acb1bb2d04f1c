#!/usr/bin/env bash
# test_qemu_boot.sh: the QEMU test bed with today's mignet.  A real guest
# (tests/e2e/guest: Debian kernel, busybox, probe-echo) boots on h1 as VM
# vm1 managed by mignet; probes from vm3 on h3 reach it; then a real QMP
# live migration h1 -> h2 over the hosts' migration link (back again if
# the guest crashed at the resume), with `mignet vm migrate` (now mode)
# called the moment the source QEMU reports STOP.
# Asserts probe-echo (the guest's receiver, run on the host first) counts
# crafted probes right, the guest got every probe before, answers on h2
# after, and lost nothing later than 1 s after the resume; prints the real
# pause (source STOP -> destination RESUME, from the QMP event timestamps),
# QEMU's own downtime figure and the loss inside and outside the pause.
# Needs root, Open vSwitch and QEMU.
# ctest: serial (its assertions depend on timing)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tb_require
. "$here/flows.sh"
. "$here/mig_lib.sh"
. "$here/qemu_lib.sh"
qm_require
qm_guest_build

tb_init
tb_hosts_up 3
mig_start mignet
qm_miglink 1 2
mig_vm 3 3

# The guest's receiver, on the host first: its counts of crafted probes.
echo_json=$(qm_echo_selftest 3)
tb_log "probe-echo on crafted probes: $echo_json"
tb_expect "probe-echo: distinct" "$(jq .received <<<"$echo_json")" -eq 4
tb_expect "probe-echo: duplicates" "$(jq .duplicates <<<"$echo_json")" -eq 1
tb_expect "probe-echo: sent (end probe)" "$(jq .sent <<<"$echo_json")" -eq 7
tb_expect "probe-echo: invalid" "$(jq .invalid <<<"$echo_json")" -eq 1
tb_expect "probe-echo: reflected (copies and end)" \
    "$(jq .reflected <<<"$echo_json")" -eq 6
tb_expect "probe-echo: missing 2, 4, 6" \
    "$([ "$(jq -r .missing <<<"$echo_json")" = "2-2,4-4,6-6" ] &&
       echo 0 || echo 1)" -eq 0
qm_vm_create 1 1
t0=$(tb_now_ms)
qm_start src 1 1
qm_wait_ready 1 3 60
tb_expect "guest boot to network-ready, ms" $(($(tb_now_ms) - t0)) -lt 60000

# Probes reach the guest through mignet's flows, and come back.
qm_measure_latency 1
tb_expect "probes at the guest before any migration, lost" "$QM_R_LOST" -eq 0
tb_expect "probes back at the collector" "$QM_R_BACK" -eq "$QM_R_SENT"

# A real live migration, with today's single call at the source's STOP.
# Under TCG the guest kernel now and then oopses at the resume (a list
# corruption in its scheduler, seen once in a CI run; QEMU-NOTES): as in
# test_qemu_migrate, such a run is reported and tried again, never
# counted -- from wherever mignet then has vm1.  A guest that does not
# answer without having crashed still fails the test.
FROM=1 TO=2 SRC=src DST=dst RUN=2 TRY=0
migrate_now() {
    qm_on_event "$SRC" STOP "$MIG_BUILD/mignet" --url "$MIG_URL" --json \
        vm migrate vm1 --to "n$TO"
    qm_migrate "$SRC" "$DST"
    qm_note_pause "$SRC" "$DST"
    STATUS=$(qm_wait_migration "$SRC" 60)
    MIG_ID=$(qm_on_event_wait "$SRC" STOP | jq -r .migration)
    CALL_MS=$(cat "$(qm_dir "$SRC")/on.STOP.t1")
}
for (( ; ; )); do
    MIG_ID=
    qm_start_incoming "$DST" 1 "$TO" "$FROM"
    qm_probe_run 1 "$RUN" 1000 5 migrate_now && break
    qm_crashed "$DST" ||
        tb_die "run $RUN: vm1 does not answer on h$TO, and did not crash"
    TRY=$((TRY + 1))
    tb_log "run $RUN: the guest crashed at the resume (retry $TRY):" \
        "$(grep -m1 -E 'Kernel panic|Oops|BUG' "$(qm_dir "$DST")/serial.log")"
    [ "$TRY" -le 2 ] || tb_die "the guest crashed 3 times"
    for ((i = 0; i < 200; i++)); do
        case $([ -n "$MIG_ID" ] && mig_phase "$MIG_ID" || echo none) in
            cleaned|aborted|none) break ;;
        esac
        sleep 0.1
    done
    qm_stop "$SRC"
    qm_stop "$DST"
    node=$(mignet_cli --json vm show vm1 | jq -r .node)
    FROM=${node#n} TO=$((3 - ${node#n})) RUN=$((RUN + 1))
    SRC=src$((TRY + 1)) DST=dst$((TRY + 1))
    qm_start "$SRC" 1 "$FROM"
    qm_wait_ready 1 3 60
done
stop=$(qm_event_ms "$SRC" STOP)
resume=$(qm_event_ms "$DST" RESUME)
downtime=$(qm_downtime_ms "$SRC")
tb_log "QMP: STOP $stop, mignet answered +$((CALL_MS - stop)) ms," \
    "RESUME +$((resume - stop)) ms; QEMU's downtime $downtime ms"
tb_expect "migration status completed" \
    "$([ "$STATUS" = completed ] && echo 0 || echo 1)" -eq 0
tb_expect "real pause (STOP -> RESUME), ms" "$QM_R_PAUSE_MS" -gt 0
tb_expect "guest did not crash" "$(qm_crashed "$DST" && echo 1 || echo 0)" -eq 0
tb_expect "probes sent" "$QM_R_SENT" -eq 5000
# Today's single call races the resume (the issue's point): losses
# outside the pause are reported, not asserted; the network must follow.
tb_expect "probes lost later than 1 s after the resume" "$QM_R_LATE" -eq 0
tb_expect "duplicates at the guest" "$QM_R_DUPS" -eq 0
tb_log "mignet migration $MIG_ID: $(mig_phase "$MIG_ID")"
mig_wait_cleaned "$MIG_ID" 30
qm_wait_ready 1 3 10
tb_expect "vm1's local flows left on n$FROM" \
    "$(mig_flows "$FROM" "$DP_K_LOCAL" vm1 | wc -l)" -eq 0
printf '{"pause_ms": %d, "qemu_downtime_ms": %d, "sent": %d, "lost": %d, "lost_outside_pause": %d, "duplicates": %d}\n' \
    "$QM_R_PAUSE_MS" "$downtime" "$QM_R_SENT" "$QM_R_LOST" "$QM_R_OUTSIDE" \
    "$QM_R_DUPS"
tb_finish
