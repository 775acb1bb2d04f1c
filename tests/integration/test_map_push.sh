#!/usr/bin/env bash
# test_map_push.sh: map push on the agent channel (docs/agent-protocol.md,
# "Map push") against the real mignetd and test agents.  Subscribed agents
# (n1, n2) hear a migration's map change within the push interval without
# polling; a burst of changes reaches them in at most one push per
# interval; their version acks release the source's deletion early while
# their refresh statistics stay untouched; an agent that did not subscribe
# (n3, which polls) gets no push.  A bad subscribe or map_ack changes
# nothing.  Loopback only; every process is stopped by PID on exit.
# ctest: serial (its assertions depend on timing)
set -euo pipefail

: "${MIGNET_BUILD_DIR:?set MIGNET_BUILD_DIR to the build directory}"
: "${MIGNET_SOURCE_DIR:?set MIGNET_SOURCE_DIR to the source directory}"
# shellcheck source=lib.sh
source "$MIGNET_SOURCE_DIR/tests/integration/lib.sh"

[ -x "$MIGNET_BUILD_DIR/mignet-test-agent" ] || fail "no mignet-test-agent"

IV=400 # push interval (ms): long, so coalescing shows at shell speed
now_ms() { date +%s%3N; }
pushes() { grep -c '"type":"map_begin"' "$T/agent-$1.trace" || true; }
node() { api GET /v1/nodes; jq -r ".nodes[] | select(.id == \"$1\") | $2" \
    <<<"$BODY"; }

# Only an early release can clean a migration within the test.
start_mignetd push --push-interval-ms $IV --delay-floor-ms 60000 \
    --delay-ceiling-ms 60000 --inflight-ms 50
for i in 1 2 3; do
    ok POST /v1/nodes 201 \
        "{\"id\":\"n$i\",\"address\":\"198.18.0.$i\",\"refresh_ms\":500}"
done
ok POST /v1/vms 201 '{"id":"vm1","mac":"02:00:00:00:00:01","ip":"198.18.1.1","vni":100,"node":"n1"}'

start_agent n1 --subscribe
start_agent n2 --subscribe
start_agent n3 --gateway "$URL" --refresh-ms 100
eventually "agents welcomed" bash -c "
    jq -e .welcomed '$T/agent-n1.json' && jq -e .welcomed '$T/agent-n2.json' &&
    jq -e .welcomed '$T/agent-n3.json'" >/dev/null
# Subscribed from version 0: the first push is the whole map.
eventually "n1 got the map by push" state n1 '.map | length == 1'
eventually "n2 got the map by push" state n2 '.map | length == 1'
ok GET /metrics 200
grep -q '^mignet_agents_subscribed 2$' <<<"$BODY" \
    || fail "subscribed gauge: $(grep subscribed <<<"$BODY")"

# ---- a migration reaches subscribed agents within the interval ----
sleep 0.5 # a quiet interval: the next push may go at once
r1=$(node n1 .refresh.count)
r2=$(node n2 .refresh.count)
t0=$(now_ms)
ok POST /v1/vms/vm1/migrate 202 '{"to":"n2"}'
eventually "n1 holds the new location" state n1 \
    '(.map[] | select(.vm == "vm1") | .node) == "n2"'
t1=$(now_ms)
api GET /v1/migrations/1
mv=$(json .map_version)
[ "$mv" -gt 0 ] || fail "no map version in the migration: $BODY"
state n1 ".map_version >= $mv" || fail "n1 holds $(jq .map_version \
    "$T/agent-n1.json") < $mv" 
echo "push latency after the migration: $((t1 - t0)) ms (interval $IV ms)"
[ $((t1 - t0)) -le $((IV + 1000)) ] || fail "push took $((t1 - t0)) ms"
eventually "n2 holds it too" state n2 ".map_version >= $mv"

# ---- the version acks release the deletion early; no refresh counted ----
mig_cleaned() {
    api GET /v1/migrations/1
    [ "$(json .phase)" = cleaned ]
}
eventually "migration cleaned early" mig_cleaned
[ "$(json .released_early)" = true ] || fail "not released early: $BODY"
[ "$(node n1 .map_version)" -ge "$mv" ] || fail "n1 acked: $BODY"
[ "$(node n2 .map_version)" -ge "$mv" ] || fail "n2 acked: $BODY"
[ "$(node n1 .refresh.count)" = "$r1" ] || fail "n1 refreshes changed"
[ "$(node n2 .refresh.count)" = "$r2" ] || fail "n2 refreshes changed"
[ "$r1" = 0 ] && [ "$r2" = 0 ] || fail "refreshes $r1 $r2, want 0"
ok GET /metrics 200
acks=$(sed -n 's/^mignet_map_acks_total \([0-9]*\)$/\1/p' <<<"$BODY")
[ "${acks:-0}" -ge 2 ] || fail "map acks: $acks"

# ---- a burst: at most one push per node per interval ----
p1=$(pushes n1)
t0=$(now_ms)
for i in $(seq 10 39); do
    ok POST /v1/vms 201 "{\"id\":\"b$i\",\"mac\":\"02:00:00:00:01:$i\",\"ip\":\"198.18.2.$i\",\"vni\":100,\"node\":\"n2\"}"
done
t1=$(now_ms)
api GET /healthz
eventually "n1 holds the burst" state n1 '.map | length == 31'
sleep "0.$IV" # nothing more may come
n=$(( $(pushes n1) - p1 ))
most=$(( (t1 - t0) / IV + 2 ))
echo "burst: 30 changes in $((t1 - t0)) ms -> $n pushes to n1 (at most $most)"
[ "$n" -ge 1 ] && [ "$n" -le "$most" ] || fail "$n pushes for the burst"
[ "$n" -lt 30 ] || fail "no coalescing: $n pushes for 30 changes"

# ---- the agent that did not subscribe got none ----
[ "$(pushes n3)" = 0 ] || fail "n3 was pushed to"
state n3 '.map | length == 31' || eventually "n3 polled" state n3 \
    '.map | length == 31'

# ---- bad input changes nothing (n3's session: not subscribed) ----
host=${AGENT_ADDR%:*}
port=${AGENT_ADDR##*:}
ok POST /v1/nodes 201 '{"id":"n4","address":"198.18.0.4","refresh_ms":500}'
exec 5<>"/dev/tcp/$host/$port"
printf '{"type":"hello","node":"n4","proto":1,"token":"%s"}\n' "$(token n4)" >&5
# a map_ack before any subscribe, then a subscribe above the map's version
printf '%s\n' '{"type":"map_ack","version":1}' >&5
printf '%s\n' '{"type":"subscribe","version":999999}' >&5
codes=
for _ in $(seq 1 50); do
    IFS= read -r -t 3 LINE <&5 || break
    if [ "$(jq -r .type <<<"$LINE")" = error ]; then
        codes="$codes $(jq -r .code <<<"$LINE")"
        [ "$(wc -w <<<"$codes")" = 2 ] && break
    fi
done
exec 5<&-
[ "$codes" = " invalid_version invalid_version" ] || fail "answers:$codes"
[ "$(node n4 .map_version)" = 0 ] || fail "a bad map_ack acknowledged"
ok GET /metrics 200
grep -q '^mignet_agents_subscribed 2$' <<<"$BODY" || fail "bad subscribe kept"

# ---- push off: subscribe is answered push_disabled, agents still work ----
stop_pid "$MIGNETD_PID" TERM
start_mignetd push2 --push-interval-ms 0
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":500}'
: >"$T/agent-n9.trace"
"$MIGNET_BUILD_DIR/mignet-test-agent" --controller "$AGENT_ADDR" --node n1 \
    --token-file "$T/token-n1" --log "$T/agent-n9.trace" --state "$T/agent-n9.json" --subscribe \
    --reconnect-ms 100 2>>"$T/agent-n9.log" &
PIDS+=("$!")
eventually "push_disabled answered" grep -q '"code":"push_disabled"' \
    "$T/agent-n9.trace"
[ "$(grep -c '"type":"subscribe"' "$T/agent-n9.trace")" = 1 ] \
    || fail "subscribed more than once"

echo "PASS: test_map_push"
