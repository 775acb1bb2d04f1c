#!/usr/bin/env bash
# test_agent_nack.sh: negative acknowledgements (docs/agent-protocol.md)
# against the real mignetd.  A test agent that nacks every instruction, as
# if Open vSwitch refused its flows, keeps a migration to its node PREPARED
# (I9: a nack is no acknowledgement), and GET /v1/migrations/{id} and
# /metrics show the nack; a bad nack gets `invalid_seq`.  Loopback only;
# every process is stopped by PID on exit.
set -euo pipefail

: "${MIGNET_BUILD_DIR:?set MIGNET_BUILD_DIR to the build directory}"
: "${MIGNET_SOURCE_DIR:?set MIGNET_SOURCE_DIR to the source directory}"
# shellcheck source=lib.sh
source "$MIGNET_SOURCE_DIR/tests/integration/lib.sh"

AGENT=$MIGNET_BUILD_DIR/mignet-test-agent
[ -x "$AGENT" ] || fail "no mignet-test-agent at $AGENT"

mig_is() {
    api GET /v1/migrations/1
    [ "$STATUS" = 200 ] && [ "$(json "$1")" = true ]
}

# A prepare timeout long enough that only an acknowledgement could move
# the migration within the test.
start_mignetd nack --heartbeat-ms 1000 --prepare-timeout-ms 60000 \
    --delay-floor-ms 60000 --delay-ceiling-ms 60000
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":500}'
ok POST /v1/nodes 201 '{"id":"n2","address":"198.18.0.2","refresh_ms":500}'
ok POST /v1/nodes 201 '{"id":"n3","address":"198.18.0.3","refresh_ms":500}'
ok POST /v1/nodes 201 '{"id":"n4","address":"198.18.0.4","refresh_ms":500}'
ok POST /v1/vms 201 '{"id":"vm1","mac":"02:00:00:00:00:01","ip":"198.18.1.1","vni":100,"node":"n1"}'

start_agent n1
start_agent n2 --nack 5,6 # OFPET_FLOW_MOD_FAILED, OFPFMFC_BAD_TIMEOUT
start_agent n3
eventually "agents welcomed" bash -c "
    jq -e .welcomed '$T/agent-n1.json' && jq -e .welcomed '$T/agent-n2.json' &&
    jq -e .welcomed '$T/agent-n3.json'" >/dev/null
eventually "n1 acknowledged its resync" state n1 '.acked_seq >= 1'

# ---- a nacked install keeps the migration preparing ----
ok POST /v1/vms/vm1/migrate 202 '{"to":"n2"}'
# n2's test agent nacks every batch: its resync (which takes a seq of its
# own even when empty), then the install.
eventually "n2 nacked the install" state n2 '.nacks == 2 and .acked_seq == 0'
seq=$(jq .nacked_seq "$T/agent-n2.json")
eventually "n1 acknowledged the relay" \
    state n1 '.relays == 1 and .acked_seq == .last_seq'
eventually "the nack shows on the migration" mig_is \
    "(.nacks | length) == 1 and .nacks_total == 1"
[ "$(json '.nacks[0].node')" = n2 ] || fail "nack node: $BODY"
[ "$(json '.nacks[0].seq')" = "$seq" ] || fail "nack seq $seq: $BODY"
[ "$(json '.nacks[0].ofp_error.type')" = 5 ] || fail "ofp type: $BODY"
[ "$(json '.nacks[0].ofp_error.code')" = 6 ] || fail "ofp code: $BODY"
# The source acknowledged, the destination did not: still prepared, well
# after both answered.
sleep 0.5
api GET /v1/migrations/1
[ "$(json .phase)" = preparing ] || fail "a nack advanced it: $BODY"
ok GET /metrics 200
grep -q '^mignet_agent_nacks_total 2$' <<<"$BODY" \
    || fail "no nack counted: $(grep nack <<<"$BODY")"

# ---- an acknowledging destination moves the next migration on ----
ok POST /v1/vms 201 '{"id":"vm2","mac":"02:00:00:00:00:02","ip":"198.18.1.2","vni":100,"node":"n1"}'
ok POST /v1/vms/vm2/migrate 202 '{"to":"n3"}'
mig2_relaying() {
    api GET /v1/migrations/2
    [ "$(json .phase)" = relaying ] && [ "$(json '.nacks | length')" = 0 ]
}
eventually "migration 2 relaying, no nacks" mig2_relaying
api GET /v1/migrations/1
[ "$(json .phase)" = preparing ] || fail "migration 1 moved: $BODY"

# ---- a bad nack is refused and changes nothing (n4: no agent) ----
host=${AGENT_ADDR%:*}
port=${AGENT_ADDR##*:}
exec 5<>"/dev/tcp/$host/$port"
printf '{"type":"hello","node":"n4","proto":1,"token":"%s"}\n' "$(token n4)" >&5
printf '%s\n' '{"type":"nack","seq":99999,"ofp_error":{"type":5,"code":6}}' >&5
got=
for _ in $(seq 1 50); do
    IFS= read -r -t 3 LINE <&5 || fail "no answer to a bad nack"
    if [ "$(jq -r .type <<<"$LINE")" = error ]; then
        got=$(jq -r .code <<<"$LINE")
        break
    fi
done
[ "$got" = invalid_seq ] || fail "bad nack answered '$got'"
exec 5<&-
ok GET /metrics 200
grep -q '^mignet_agent_nacks_total 2$' <<<"$BODY" \
    || fail "a bad nack was counted: $(grep nack <<<"$BODY")"
echo "PASS: test_agent_nack"
