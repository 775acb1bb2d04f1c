#!/usr/bin/env bash
# test_store_etcd.sh: the etcd store backend against a real etcd (a
# one-member cluster on loopback, started here, stopped by PID by the EXIT
# trap even on failure).  (1) The store cases shared with the SQLite and
# memory backends, the transaction limit (ours and etcd's), the lease
# guard (test_store_etcd with MIGNET_TEST_ETCD).  (2) mignetd on etcd end
# to end: nodes, VMs, migrations; kill -9 while migrations prepare and
# again inside their deletion delays; each restart (on an empty state
# directory: the state is in etcd) shows the same state, and deletions run
# a full fresh delay after the restart, never before.  (3) A batch above
# --store-max-txn-ops is refused whole: the daemon answers 500, exits, and
# nothing of the batch is in etcd.  (5) Pipelined commits: answers wait for
# their batch's commit; a batch built on one that failed fails too.
# ctest: serial (its assertions depend on timing)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/abuse_lib.sh"
source "$(dirname "$0")/etcd_lib.sh"
need_etcd
start_etcd s1

# ---- (1) the store's own cases ----
out=$(MIGNET_TEST_ETCD=$ETCD_ADDR MIGNET_TEST_ETCD_MAX_OPS=$ETCD_MAX_TXN_OPS \
      "$MIGNET_BUILD_DIR/test_store_etcd" 2>&1) || {
    echo "$out" >&2; fail "test_store_etcd"; }
grep -q SKIPPED <<<"$out" && { echo "$out" >&2; fail "store cases skipped"; }
grep -q '^\[  PASSED  \] 17 test(s)' <<<"$out" \
    || { echo "$out" >&2; fail "store cases: not all ran"; }

# ---- (2) mignetd on etcd, kill -9, restart ----
now_ms() { date +%s%3N; }
STORE=(--store "etcd://127.0.0.1:1,$ETCD_ADDR" --store-prefix /it
       --store-max-txn-ops "$ETCD_MAX_TXN_OPS")
FLAGS=(--prepare-timeout-ms 3000 --delay-floor-ms 2000
       --delay-ceiling-ms 2000 --log-level warn "${STORE[@]}")
RUN=0
# restart: a new mignetd on a new, empty state directory.
restart() { RUN=$((RUN + 1)); start_mignetd "run$RUN" "${FLAGS[@]}"; }
restart
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":500}'
ok POST /v1/nodes 201 '{"id":"n2","address":"198.18.0.2","refresh_ms":500}'
for i in 1 2 3 4; do
    ok POST /v1/vms 201 "{\"id\":\"vm$i\",\"mac\":\"02:00:00:00:00:0$i\",\
\"ip\":\"198.18.1.$i\",\"vni\":$((100 + i)),\"node\":\"n1\"}"
done
ok PATCH /v1/vms/vm4 200 '{"port":7}'
N_MIG=0
for i in 1 2 3; do
    ok POST "/v1/vms/vm$i/migrate" 202 '{"to":"n2"}'
    N_MIG=$((N_MIG + 1))
done
ok DELETE /v1/vms/vm4 204
api GET /v1/tasks
[ "$(json '[.tasks[] | select(.kind == "prepare_timeout")] | length')" = 3 ] \
    || fail "expected 3 prepare timeouts: $BODY"
before=$(durable_state "$N_MIG")
stop_pid "$MIGNETD_PID" 9
restart
after=$(durable_state "$N_MIG")
[ "$before" = "$after" ] || {
    diff <(echo "$before") <(echo "$after") >&2 || true
    fail "state changed across kill -9 (preparing)"; }
api GET /v1/vms/vm4
[ "$STATUS" = 404 ] || fail "deleted vm4 came back: $STATUS $BODY"

# Relaying, deletions scheduled: kill -9 inside the delay.
deadline=$(( $(now_ms) + 8000 ))
while :; do
    api GET /v1/tasks
    [ "$(json '[.tasks[] | select(.kind == "delete" and .due_unix_ms)]
               | length')" = 3 ] && break
    [ "$(now_ms)" -lt $deadline ] || fail "deletions never scheduled: $BODY"
    sleep 0.1
done
before=$(durable_state "$N_MIG")
stop_pid "$MIGNETD_PID" 9
t_restart=$(now_ms)
restart
after=$(durable_state "$N_MIG")
[ "$before" = "$after" ] || {
    diff <(echo "$before") <(echo "$after") >&2 || true
    fail "state changed across kill -9 (relaying)"; }
deadline=$(( $(now_ms) + 8000 ))
while :; do
    api GET /v1/tasks
    [ "$(json '.tasks | length')" = 0 ] && break
    [ "$(now_ms)" -lt $deadline ] || fail "deletions did not run: $BODY"
    sleep 0.1
done
for m in 1 2 3; do
    api GET "/v1/migrations/$m"
    [ "$(json .phase)" = cleaning ] || fail "migration $m: $BODY"
    [ "$(json .cleaning_unix_ms)" -ge "$(json ".delay_ms + $t_restart")" ] \
        || fail "migration $m deleted before a fresh delay: $BODY"
done
# Another prefix is another, empty store.
stop_pid "$MIGNETD_PID" TERM
[ "$STOP_RC" = 0 ] || fail "SIGTERM exit code $STOP_RC"
start_mignetd other --store "etcd://$ETCD_ADDR" --store-prefix /it-other
api GET /v1/vms
[ "$(json '.vms | length')" = 0 ] || fail "prefix /it-other not empty: $BODY"
stop_pid "$MIGNETD_PID" TERM

# ---- (4) a restart whose restart rule writes more than one commit may
# hold: 30 prepared migrations (each deadline is written again at the
# restart), then --store-max-txn-ops 16.  mignetd cuts
# its batches (the rule runs a few tasks a batch) and starts; every task
# is there, none ran early.  (Before: one batch, refused, and mignetd
# could never start again on that store.) ----
BIG=(--store "etcd://$ETCD_ADDR" --store-prefix /it-big
     --prepare-timeout-ms 600000 --delay-floor-ms 100000 --log-level warn)
start_mignetd big1 "${BIG[@]}" --store-max-txn-ops "$ETCD_MAX_TXN_OPS"
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":500}'
ok POST /v1/nodes 201 '{"id":"n2","address":"198.18.0.2","refresh_ms":500}'
for i in $(seq 10 39); do
    ok POST /v1/vms 201 "{\"id\":\"big$i\",\"mac\":\"02:00:00:00:01:$i\",\
\"ip\":\"198.18.2.$i\",\"vni\":100,\"node\":\"n1\"}"
    ok POST "/v1/vms/big$i/migrate" 202 '{"to":"n2","switchover":"manual"}'
done
api GET /v1/tasks
tasks_before=$(json '[.tasks[] | [.kind, .vm]] | sort')
[ "$(json '.tasks | length')" -ge 30 ] || fail "expected 30 pending tasks: $BODY"
stop_pid "$MIGNETD_PID" 9
start_mignetd big2 "${BIG[@]}" --store-max-txn-ops 16
api GET /v1/tasks
[ "$(json '[.tasks[] | [.kind, .vm]] | sort')" = "$tasks_before" ] ||
    fail "tasks changed across a restart with small commits: $BODY"
api GET /metrics
commits=$(sed -n 's/^mignet_store_commits_total //p' <<<"$BODY")
[ "${commits:-0}" -ge 5 ] ||
    fail "the restart rule ran in $commits commits; 16 operations hold 2 tasks at most"
! grep -q 'event=etcd_batch_too_large' "$T/big2.log" ||
    fail "a batch over 16 operations was sent"
kill -0 "$MIGNETD_PID" || fail "mignetd big2 exited"
stop_pid "$MIGNETD_PID" TERM

# ---- (3) a batch above the limit: refused, nothing written ----
restart
api GET /v1/vms
vms_before=$BODY
stop_pid "$MIGNETD_PID" TERM
start_mignetd small --store "etcd://$ETCD_ADDR" --store-prefix /it \
    --store-max-txn-ops 2 --log-level warn
# (The store failing is a 500 docs/api.yaml leaves undocumented: not
# recorded for the contract check.)
API_CHECK=0 api POST /v1/vms/vm1/migrate '{"to":"n1"}'
store_failed_exit
grep -q 'event=etcd_batch_too_large' "$T/small.log" \
    || fail "no etcd_batch_too_large in the log"
restart
api GET /v1/vms
[ "$BODY" = "$vms_before" ] || fail "the refused batch left traces: $BODY"
api GET /v1/migrations/4
[ "$STATUS" = 404 ] || fail "refused migration 4 exists: $BODY"

# ---- (5) pipelined commits: an answer waits for its batch's commit,
# and a batch built while another was in flight fails with it.  etcd is
# frozen (SIGSTOP): A's commit hangs in flight while the loop, free,
# takes B into the next batch.  Neither is answered while etcd is frozen;
# then etcd dies: both are answered 500 (never 202), and mignetd exits
# non-zero.  (FLAGS has no --serial-commits: with it, B is never read and
# gets no answer at all, and this fails.) ----
restart
post_bg() { # VM OUTFILE: a migration to n1, its status into OUTFILE
    curl -s -o /dev/null -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' --data-binary '{"to":"n1"}' \
        "$URL/v1/vms/$1/migrate" >"$2" &
}
kill -STOP "$ETCD_PID"
post_bg vm1 "$T/a.status"; pa=$!
sleep 0.5
post_bg vm2 "$T/b.status"; pb=$!
sleep 0.5
[ ! -s "$T/a.status" ] && [ ! -s "$T/b.status" ] ||
    fail "answered while etcd was frozen: A=$(cat "$T/a.status") B=$(cat "$T/b.status")"
stop_pid "$ETCD_PID" 9
wait "$pa" || true
wait "$pb" || true
[ "$(cat "$T/a.status")" = 500 ] || fail "A (in flight) answered $(cat "$T/a.status")"
[ "$(cat "$T/b.status")" = 500 ] || fail "B (built on A) answered $(cat "$T/b.status")"
for i in $(seq 1 100); do
    kill -0 "$MIGNETD_PID" 2>/dev/null || break
    sleep 0.1
done
stop_pid "$MIGNETD_PID" 9 2>/dev/null || true
[ "$STOP_RC" != 0 ] || fail "mignetd exited 0 after its store failed"
grep -q 'event=commit_failed' "$T/run$RUN.log" || fail "no commit_failed logged"
echo "test_store_etcd: ok"
