#!/usr/bin/env bash
# test_agent_failover.sh: the agent and the CLI given several addresses of
# mignetd (its replicas, issue 16), against real mignetd processes over
# loopback.  The real mignet-agent, given two controllers of which only
# the second is up, connects to the second (channel and gateway); when
# that one stops and mignetd comes up at the first address on the same
# state, the agent moves there by itself, within its reconnect interval,
# and the gateway follows.  The CLI, given a dead URL first, reaches the
# live one; a POST is sent once (the VM exists once); a list of dead
# URLs fails with the unreachable exit code naming the list.  Bad lists
# are refused at start.  (A replica answering 'not_leader' is covered by
# tests/unit/test_chan_client.c and test_addr_list.c: no mignetd sends it
# before leader election exists.)
source "$(dirname "$0")/lib.sh"

CLI=$MIGNET_BUILD_DIR/mignet
AGENT=$MIGNET_BUILD_DIR/mignet-agent
RA=$(free_port); CA=$(free_port); RB=$(free_port); CB=$(free_port)
URLS="http://127.0.0.1:$RA,http://127.0.0.1:$RB"
CTLS="127.0.0.1:$CA,127.0.0.1:$CB"

# replica NAME REST AGENTS: mignetd on fixed ports over the one state
# directory $T/state (only one runs at a time: the store is locked).
replica() {
    local name=$1 out=$T/$1.ready
    : >"$out"
    "$MIGNETD" --listen "127.0.0.1:$2" --agent-listen "127.0.0.1:$3" \
        --state-dir "$T/state" --heartbeat-ms 500 >"$out" \
        2>>"$T/$name.log" &
    MIGNETD_PID=$!
    PIDS+=("$MIGNETD_PID")
    eventually "mignetd $name ready" grep -q '^mignetd ready ' "$out"
    URL=http://127.0.0.1:$2
}

# ---- the CLI: a dead URL first ----
replica b "$RB" "$CB"
"$CLI" --url "$URLS" node add n1 --address 198.18.0.1 --refresh-ms 500 \
    --token-out "$T/token-n1" >"$T/cli.out" 2>"$T/cli.err" ||
    fail "node add through a list whose first URL is dead: $(cat "$T/cli.err")"
"$CLI" --url "$URLS" vm create vm1 --mac 02:00:00:00:00:01 \
    --ip 198.18.1.1 --vni 100 --node n1 >/dev/null 2>"$T/cli.err" ||
    fail "vm create: $(cat "$T/cli.err")"
ok GET /v1/vms 200
[ "$(json '.vms | length')" = 1 ] || fail "vm1 is not there once: $BODY"

rc=0
"$CLI" --url "http://127.0.0.1:$RA,http://127.0.0.1:$(free_port)" \
    node list >/dev/null 2>"$T/cli.err" || rc=$?
[ "$rc" -ne 0 ] || fail "node list with no live URL succeeded"
grep -q "cannot reach the controller at http://127.0.0.1:$RA,http" \
    "$T/cli.err" || fail "the error does not name the list: $(cat "$T/cli.err")"
rc=0
"$CLI" --url "http://127.0.0.1:$RB,,http://x" node list >/dev/null \
    2>"$T/cli.err" || rc=$?
[ "$rc" = 2 ] || fail "an empty URL in the list: exit $rc, want 2 (usage)"

# ---- bad lists refused at start by the agent ----
for bad in "127.0.0.1:$CA,127.0.0.1:$CA" "127.0.0.1:$CA," "no-port"; do
    rc=0
    "$AGENT" --node n1 --ofp "unix:$T/none" --controller "$bad" \
        --gateway "$URL" >/dev/null 2>"$T/agent-bad.err" || rc=$?
    [ "$rc" = 2 ] || fail "--controller '$bad': exit $rc, want 2"
done
rc=0
"$AGENT" --node n1 --ofp "unix:$T/none" --controller "$CTLS" \
    --gateway "http://127.0.0.1:$RA,https://127.0.0.1:$RB" >/dev/null \
    2>"$T/agent-bad.err" || rc=$?
[ "$rc" = 2 ] || fail "an https gateway in the list: exit $rc, want 2"

# ---- the agent: only the second replica is up ----
MPORT=$(free_port)
"$AGENT" --node n1 --token-file "$T/token-n1" --ofp "unix:$T/no-bridge.mgmt" \
    --controller "$CTLS" --gateway "$URLS" --refresh-ms 200 \
    --metrics "127.0.0.1:$MPORT" \
    >"$T/agent.out" 2>>"$T/agent.log" &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
connected() { api GET /v1/nodes/n1; [ "$(json .connected)" = true ]; }
eventually "n1 connected to the replica at :$CB" connected
grep -q "event=channel_connected node=n1 controller=127.0.0.1:$CB" \
    "$T/agent.log" || fail "no channel_connected to :$CB in the agent's log"
grep -q "event=gateway_selected node=n1 gateway=http://127.0.0.1:$RB" \
    "$T/agent.log" || fail "the gateway did not follow to :$RB"

# ---- the replica moves: b stops, mignetd comes up at a ----
stop_pid "$MIGNETD_PID" TERM
replica a "$RA" "$CA"
t0=$(date +%s%N)
eventually "n1 connected to the replica at :$CA" connected
ms=$((($(date +%s%N) - t0) / 1000000))
echo "the agent reached the new replica in $ms ms (reconnect 500 ms)"
[ "$ms" -le 3000 ] || fail "the agent took $ms ms to follow"
grep -q "event=channel_connected node=n1 controller=127.0.0.1:$CA" \
    "$T/agent.log" || fail "no channel_connected to :$CA"
grep -q "event=gateway_selected node=n1 gateway=http://127.0.0.1:$RA" \
    "$T/agent.log" || fail "the gateway did not follow to :$RA"
# Its gateway polls reach a: a second later, more polls and no new error.
metric() {
    curl -s "http://127.0.0.1:$MPORT/metrics" |
        sed -n "s/^mignet_agent_$1 //p"
}
p0=$(metric gateway_polls_total); e0=$(metric gateway_poll_errors_total)
sleep 1
p1=$(metric gateway_polls_total); e1=$(metric gateway_poll_errors_total)
echo "polls $p0 -> $p1, errors $e0 -> $e1"
[ "$p1" -ge $((p0 + 2)) ] || fail "the agent stopped polling: $p0 -> $p1"
[ "$e1" = "$e0" ] || fail "polls fail after the move: errors $e0 -> $e1"
kill -0 "$AGENT_PID" || fail "the agent exited"
echo "ok"
