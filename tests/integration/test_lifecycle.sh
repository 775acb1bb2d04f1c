#!/usr/bin/env bash
# test_lifecycle.sh: a migration's lifecycle (docs/mignetd.md "Migration
# lifecycle") through the real mignetd, its REST API and CLI, with test
# agents on the channel: `manual` is prepared without touching the source
# or the gateway and switches on the call; abort before the switch-over
# removes only the destination's copy; the prepare deadline aborts; an
# abort after activation is refused; `cleaned` waits for the source's
# acknowledgement; a prepared migration survives kill -9 and the
# destination's resync holds its copy again.  Loopback only; every process
# is stopped by PID on exit.
set -euo pipefail

: "${MIGNET_BUILD_DIR:?set MIGNET_BUILD_DIR to the build directory}"
: "${MIGNET_SOURCE_DIR:?set MIGNET_SOURCE_DIR to the source directory}"
# shellcheck source=lib.sh
source "$MIGNET_SOURCE_DIR/tests/integration/lib.sh"

CLI=$MIGNET_BUILD_DIR/mignet
cli() { "$CLI" --url "$URL" "$@"; }
phase() { api GET "/v1/migrations/$1"; json .phase; }
is_phase() { [ "$(phase "$1")" = "$2" ]; }
map_node() {
    api GET /v1/map
    json ".entries[] | select(.vm == \"$1\") | .node"
}
# recv_count NODE TYPE: instructions of TYPE the test agent of NODE got.
recv_count() {
    grep '^recv ' "$T/agent-$1.trace" 2>/dev/null | cut -d' ' -f2- |
        jq -c "select(.type == \"$2\")" | wc -l
}

FLAGS=(--heartbeat-ms 1000 --prepare-timeout-ms 60000
       --delay-floor-ms 300 --delay-ceiling-ms 300)
start_mignetd life "${FLAGS[@]}"
for n in 1 2 3; do
    ok POST /v1/nodes 201 "{\"id\":\"n$n\",\"address\":\"198.18.0.$n\",\"refresh_ms\":500}"
done
for v in 1 2 3; do
    ok POST /v1/vms 201 "{\"id\":\"vm$v\",\"mac\":\"02:00:00:00:00:0$v\",\"ip\":\"198.18.1.$v\",\"vni\":100,\"node\":\"n1\"}"
done
AGENTS=()
for n in 1 2 3; do
    start_agent "n$n"
    AGENTS+=("$AGENT_PID")
done
eventually "agents welcomed" bash -c "
    jq -e .welcomed '$T/agent-n1.json' && jq -e .welcomed '$T/agent-n2.json' &&
    jq -e .welcomed '$T/agent-n3.json'" >/dev/null

# ---- manual: prepared, nothing else moves until the call ----
relays_n1=$(recv_count n1 relay)
out=$(cli vm migrate vm1 --to n2 --switchover manual)
grep -q "switch-over manual" <<<"$out" || fail "CLI migrate: $out"
api GET /v1/vms/vm1
mig=$(json .migration)
eventually "prepared" is_phase "$mig" prepared
api GET "/v1/migrations/$mig"
[ "$(json '[.switchover, .switched_unix_ms, .activated_unix_ms] | @csv')" \
    = '"manual",,' ] || fail "prepared view: $BODY"
[ "$(json '.prepare_deadline_unix_ms - .started_unix_ms')" = 600000 ] \
    || fail "default deadline: $BODY"
[ "$(map_node vm1)" = n1 ] || fail "the gateway moved before the switch-over"
[ "$(recv_count n1 relay)" = "$relays_n1" ] || fail "the source was told to relay"
# A second migration of it waits for this one.
api POST /v1/vms/vm1/migrate '{"to":"n3"}'
[ "$STATUS/$(json .error.code)" = 409/migration_in_progress ] \
    || fail "second migrate: $STATUS $BODY"

cli migration switchover "$mig" >/dev/null
[ "$(map_node vm1)" = n2 ] || fail "the gateway did not move"
eventually "relaying" is_phase "$mig" relaying
api GET "/v1/migrations/$mig"
[ "$(json '.activated_unix_ms >= .switched_unix_ms')" = true ] \
    || fail "activated: $BODY"
# After activation an abort is refused, and says why.
api POST "/v1/migrations/$mig/abort"
[ "$STATUS/$(json .error.code)" = 409/already_activated ] \
    || fail "abort after activation: $STATUS $BODY"
# cleaned only once n1's agent acknowledged the deletion.
eventually "cleaned" is_phase "$mig" cleaned
api GET "/v1/migrations/$mig"
[ "$(json '.cleaned_unix_ms >= .cleaning_unix_ms')" = true ] \
    || fail "cleaned before cleaning: $BODY"

# ---- rarp, aborted before the switch-over: the source keeps the VM ----
v_before=$(api GET /v1/map; json .version)
ok POST /v1/vms/vm2/migrate 202 '{"to":"n3","switchover":"rarp"}'
mig2=$(json .migration)
[ "$(json .phase)/$(json .switchover)" = preparing/rarp ] \
    || fail "migrate answer: $BODY"
eventually "prepared" is_phase "$mig2" prepared
deletes_n3=$(recv_count n3 delete)
out=$(cli migration abort "$mig2" --reason "migrate_cancel")
grep -q '"aborted"\|aborted' <<<"$out" || fail "CLI abort: $out"
api GET "/v1/migrations/$mig2"
[ "$(json '[.phase, .abort_reason] | @csv')" = '"aborted","migrate_cancel"' ] \
    || fail "aborted view: $BODY"
eventually "n3 told to delete its copy" \
    bash -c "[ \$(grep '^recv ' '$T/agent-n3.trace' | grep -c '\"delete\"') -gt $deletes_n3 ]"
[ "$(map_node vm2)" = n1 ] || fail "the gateway moved on an abort"
api GET /v1/map
[ "$(json .version)" = "$v_before" ] || fail "the map changed on an abort"
api GET /v1/vms/vm2
[ "$(json .node)" = n1 ] || fail "vm2 left n1: $BODY"
# Idempotent; a switch-over of an aborted migration is refused.
ok POST "/v1/migrations/$mig2/abort" 200
[ "$(json .abort_reason)" = migrate_cancel ] || fail "reason changed: $BODY"
api POST "/v1/migrations/$mig2/switchover"
[ "$STATUS/$(json .error.code)" = 409/migration_aborted ] \
    || fail "switchover after abort: $STATUS $BODY"
# Bad bodies change nothing.
api POST "/v1/migrations/$mig2/abort" '{"reason":""}'
[ "$STATUS" = 422 ] || fail "empty reason: $STATUS"
api POST "/v1/migrations/$mig2/abort" '{"why":"x"}'
[ "$STATUS" = 422 ] || fail "unknown field: $STATUS"
api POST /v1/vms/vm2/migrate '{"to":"n3","switchover":"later"}'
[ "$STATUS/$(json .error.code)" = 422/invalid_value ] || fail "mode: $BODY"
api POST /v1/vms/vm2/migrate '{"to":"n3","prepare_deadline_ms":5000}'
[ "$STATUS/$(json .error.code)" = 422/invalid_value ] \
    || fail "deadline with now: $BODY"
ok GET /v1/migrations/999 404
ok POST /v1/migrations/999/switchover 404
ok POST /v1/migrations/999/abort 404

# ---- the prepare deadline aborts ----
ok POST /v1/vms/vm2/migrate 202 '{"to":"n3","switchover":"manual","prepare_deadline_ms":1000}'
mig3=$(json .migration)
eventually "deadline abort" is_phase "$mig3" aborted
api GET "/v1/migrations/$mig3"
[ "$(json .abort_reason)" = prepare_deadline ] || fail "reason: $BODY"
ok GET /metrics 200
grep -q '^mignet_migrations_deadline_aborts_total 1$' <<<"$BODY" \
    || fail "deadline abort not counted"
grep -q '^mignet_migrations{phase="aborted"} 2$' <<<"$BODY" \
    || fail "aborted count: $(grep 'phase=' <<<"$BODY")"

# ---- kill -9 while prepared: the migration and its copy come back ----
ok POST /v1/vms/vm3/migrate 202 '{"to":"n2","switchover":"lossless"}'
mig4=$(json .migration)
eventually "prepared" is_phase "$mig4" prepared
before=$(api GET "/v1/migrations/$mig4"; json 'del(.plan)')
stop_pid "$MIGNETD_PID" 9
start_mignetd life "${FLAGS[@]}"
after=$(api GET "/v1/migrations/$mig4"; json 'del(.plan)')
[ "$before" = "$after" ] || fail "changed across kill -9: $before / $after"
# New agents on the restarted controller's port; n2's resync holds vm3's
# prepared copy (epoch 2) again.
for p in "${AGENTS[@]}"; do stop_pid "$p" TERM; done
for n in 1 2 3; do start_agent "n$n"; done
eventually "n2 resynced with the copy" grep -q \
    '^recv {"type":"install","seq":[0-9]*,"vm":"vm3","epoch":2,' \
    "$T/agent-n2.trace"
eventually "prepared again" is_phase "$mig4" prepared
[ "$(map_node vm3)" = n1 ] || fail "vm3 moved across the restart"
# lossless: the first call switches, the VM has not resumed: no deletion
# is scheduled, an abort reverts it to n1 with a new epoch.
ok POST "/v1/migrations/$mig4/switchover" 200
[ "$(map_node vm3)" = n2 ] || fail "lossless switch did not move it"
eventually "relaying" is_phase "$mig4" relaying
api GET /v1/tasks
[ "$(json "[.tasks[] | select(.vm == \"vm3\" and .kind == \"delete\")
            | .due_unix_ms] | @csv")" = '' ] \
    || fail "deletion scheduled before the VM resumed: $BODY"
ok POST "/v1/migrations/$mig4/abort" 200 '{"reason":"qemu failed"}'
[ "$(map_node vm3)" = n1 ] || fail "the revert did not move it back"
api GET /v1/vms/vm3
[ "$(json .node)/$(json .epoch)" = n1/3 ] || fail "vm3 after revert: $BODY"
echo "PASS: test_lifecycle"
