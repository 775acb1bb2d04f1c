#!/usr/bin/env bash
# test_cli.sh: every `mignet` command against the real mignetd (real HTTP
# on loopback, a real SQLite file), with two test agents that must receive
# exactly the install / relay / delete of a migration.
#
# Also checks the exit codes scripts rely on: 2 usage, 3 unreachable or
# timed out, 4 controller error (with its code), 5 malformed answer.  Skips
# (77) only while mignetd is not built.  Everything runs on 127.0.0.1 and
# is stopped by PID on exit.
set -euo pipefail

: "${MIGNET_BUILD_DIR:?set MIGNET_BUILD_DIR to the build directory}"
: "${MIGNET_SOURCE_DIR:?set MIGNET_SOURCE_DIR to the source directory}"
if [ ! -x "$MIGNET_BUILD_DIR/mignetd" ]; then
    echo "SKIP: mignetd is not built yet"
    exit 77
fi
# shellcheck source=lib.sh
source "$MIGNET_SOURCE_DIR/tests/integration/lib.sh"

MIGNET=$MIGNET_BUILD_DIR/mignet
AGENT=$MIGNET_BUILD_DIR/mignet-test-agent
[ -x "$MIGNET" ] || fail "no mignet at $MIGNET"
[ -x "$AGENT" ] || fail "no mignet-test-agent at $AGENT"
command -v python3 >/dev/null || fail "python3 is needed for fake servers"

# mig WANT ARGS...: runs mignet; its exit code must be WANT.  Output in
# $T/out and $T/err.
mig() {
    local want=$1; shift
    local rc=0
    "$MIGNET" "$@" >"$T/out" 2>"$T/err" || rc=$?
    if [ "$rc" != "$want" ]; then
        fail "mignet $* -> exit $rc, want $want
stdout: $(cat "$T/out")
stderr: $(cat "$T/err")"
    fi
}
out_has() { grep -Eq -- "$1" "$T/out" || fail "stdout lacks /$1/: $(cat "$T/out")"; }
err_has() { grep -Eq -- "$1" "$T/err" || fail "stderr lacks /$1/: $(cat "$T/err")"; }

# A test agent that also polls the gateway (lib.sh's start_agent).
start_polling_agent() {
    local node=$1; shift
    start_agent "$node" --gateway "$URL" --refresh-ms 100 "$@"
}

# ---- Help and usage (no controller needed) ----
mig 0 --help
for word in "node add" "vm create" "vm migrate" "migration show" tasks map \
            MIGNET_URL "  3  controller unreachable"; do
    out_has "$word"
done
for group in node vm migration vswitch; do
    mig 0 "$group" --help
    out_has "Usage: mignet $group COMMAND"
done
for cmd in "node add" "node list" "node show" "node cordon" \
           "node uncordon" "node drain" "node delete" "vm create" "vm list" \
           "vm show" "vm update" "vm delete" "vm migrate" "migration show" \
           "vswitch create" "vswitch list" "vswitch show" "vswitch flows" \
           "vswitch delete" "vswitch migrate" tasks map; do
    # shellcheck disable=SC2086
    mig 0 $cmd --help
    out_has "^Usage: mignet $cmd"
    # shellcheck disable=SC2086
    mig 0 $cmd -h
done
mig 0 vm migrate --help
out_has "--to NODE +destination node \(required\)"
# Help speaks to the operator, not of design documents (issue 17).
for cmd in "" "node add" "vm create" "vm update" "vm migrate" \
           "binding list" "binding show" "fabric show" "migration show"; do
    # shellcheck disable=SC2086
    mig 0 $cmd --help
    if grep -nE 'seed 0|Table 1|\(I[0-9]|DESIGN|§' "$T/out"; then
        fail "mignet $cmd --help names internals"
    fi
done
for bin in mignetd mignet-agent; do
    "$MIGNET_BUILD_DIR/$bin" --help >"$T/out" 2>&1 || true
    if grep -nE 'seed 0|Table 1|\(I[0-9]|DESIGN|§' "$T/out"; then
        fail "$bin --help names internals"
    fi
done
# The CLI refuses what the API refuses, before asking it (exit 2, no
# controller needed): the bounds are the API's (mignet/limits.h).
mig 2 node add n9 --address 198.18.0.9 --refresh-ms 5
err_has "--refresh-ms must be a number from 10 to 3600000"
mig 2 vm create v9 --mac 02:00:00:00:00:09 --node n1 --vlan 4095
err_has "--vlan must be a number from 0 to 4094"
mig 2 vm create v9 --mac 01:00:00:00:00:09 --node n1
err_has "--mac must be a unicast MAC"
mig 2 vm migrate v9 --to n2 --switchover later
err_has "--switchover must be"
mig 2
err_has "Usage: mignet"
mig 2 vm
err_has "'vm' needs a command"
mig 2 vm frob
err_has "unknown command 'vm frob'"
mig 2 vm migrate vm1
err_has "missing --to NODE"
mig 2 vm show a b
mig 2 tasks --bogus
mig 2 --url ftp://127.0.0.1:1 tasks
err_has "bad controller URL"

# ---- Unreachable: nothing listens (a port we bound and released) ----
FREE_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mig 3 --url "http://127.0.0.1:$FREE_PORT" tasks
err_has "cannot reach the controller at http://127.0.0.1:$FREE_PORT"
MIGNET_URL="http://127.0.0.1:$FREE_PORT" mig 3 vm list

# ---- The real controller ----
start_mignetd d1
export MIGNET_URL=$URL

mig 0 node add n1 --address 198.18.0.1 --refresh-ms 200 \
    --token-out "$T/token-n1"
out_has "^id: +n1$"
grep -q "mgn_" "$T/out" && fail "token printed with --token-out"
[ "$(stat -c %a "$T/token-n1")" = 600 ] || fail "token file not 0600"
grep -Eq '^mgn_[A-Za-z0-9_-]{43}$' "$T/token-n1" || fail "token form"
# Without --token-out the token is printed, once.
mig 0 node add n2 --address 198.18.0.2
out_has "^token: +mgn_[A-Za-z0-9_-]{43}$"
sed -n 's/^token: *//p' "$T/out" >"$T/token-n2"
mig 0 node show n2
grep -q "mgn_" "$T/out" && fail "node show shows the token"
out_has "^token_set: +yes$"
mig 4 node add n1 --address 198.18.0.1
err_has "controller error 409 duplicate_node"
mig 2 node add bad/name --address 198.18.0.9
err_has "node id 'bad/name' must be"
# What the CLI lets through, the API takes (refresh 10 ms is its minimum).
mig 0 node add n9 --address 198.18.0.9 --refresh-ms 10
mig 0 node delete n9
mig 2 node add n3 --address 198.18.0.3 --refresh-ms soon

start_polling_agent n1
A1=$AGENT_PID
start_polling_agent n2 --refresh-msg
A2=$AGENT_PID
eventually "agents connected" state n1 '.welcomed and .resyncs == 1'
eventually "agent n2 connected" state n2 '.welcomed and .resyncs == 1'

mig 0 node list
out_has "^ID +ADDRESS +CONNECTED"
out_has "^n1 +198\.18\.0\.1 +yes +active"
out_has "^n2 +198\.18\.0\.2 +yes +active"
mig 0 --json node list
[ "$(jq '.nodes | length' "$T/out")" = 2 ] || fail "json node list"
mig 0 node show n2
out_has "^connected: +yes$"
# One time format: durations in seconds, times RFC 3339 UTC with ms.
out_has "^refresh: +2\.0 s$"
grep -Eq '^[a-z_.]*unix_ms:' "$T/out" && fail "raw *_unix_ms in node show"
mig 0 --json node show n2
jq -e '.refresh_ms == 2000' "$T/out" >/dev/null \
    || fail "--json lost refresh_ms"
mig 4 node show nope
err_has "controller error 404 unknown_node"

# VMs.
mig 0 vm create vm1 --mac 02:00:00:00:00:01 --ip 198.18.1.1 --vni 100 \
    --node n1
out_has "^epoch: +1$"
mig 4 vm create vm1 --mac 02:00:00:00:00:01 --ip 198.18.1.1 --vni 100 \
    --node n1
err_has "409 duplicate_vm"
mig 2 vm create vm2 --mac zz --ip 198.18.1.2 --vni 100 --node n1
err_has "--mac must be a unicast MAC"
# The controller's own 422 still comes through (a body the CLI cannot
# build: curl sends it).
curl -s -o "$T/out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d '{"id":"vm2","mac":"zz","node":"n1"}' "$URL/v1/vms" >"$T/code"
[ "$(cat "$T/code")" = 422 ] || fail "API took a bad MAC: $(cat "$T/code")"
[ "$(jq -r .error.code "$T/out")" = invalid_mac ] || fail "invalid_mac"
mig 4 vm create vm2 --mac 02:00:00:00:00:02 --ip 198.18.1.2 --vni 100 \
    --node nowhere
err_has "unknown_node"
# Neither --vni nor --vlan: the API takes it (untagged), so does the CLI.
mig 0 vm create vm0 --mac 02:00:00:00:00:0f --ip 198.18.1.15 --node n2
out_has "^vni: +0$"
# Exactly vm1's MAC, IP and VNI: 409 duplicate_address naming vm1...
mig 4 vm create vmdup --mac 02:00:00:00:00:01 --ip 198.18.1.1 --vni 100 \
    --node n2
err_has "controller error 409 duplicate_address: VM vm1 has this MAC"
mig 4 --json vm create vmdup --mac 02:00:00:00:00:0e --ip 198.18.1.1 \
    --vni 100 --node n2
[ "$(jq -r .error.code "$T/out")" = duplicate_address ] \
    || fail "json duplicate_address"
mig 4 vm show vmdup
# ...another network (VNI 101) is no duplicate; --allow-duplicate lets it
# through where it is one.
mig 0 vm create vmdup --mac 02:00:00:00:00:01 --ip 198.18.1.1 --vni 101 \
    --node n2
mig 0 vm delete vmdup
mig 0 vm create vmdup --mac 02:00:00:00:00:01 --ip 198.18.1.1 --vni 100 \
    --node n2 --allow-duplicate
mig 0 vm delete vmdup
# PATCH onto another VM's address: refused the same way.
mig 4 vm update vm0 --vni 100 --ip 198.18.1.1
err_has "409 duplicate_address"
mig 0 vm delete vm0
mig 0 vm create vm2 --mac 02:00:00:00:00:02 --ip 198.18.1.2 --vlan 12 \
    --node n2 --port 7
eventually "n1 holds vm1" state n1 \
    '.entries[] | select(.vm == "vm1" and .epoch == 1 and .vni == 100)'
eventually "n2 holds vm2" state n2 \
    '.entries[] | select(.vm == "vm2" and .vlan == 12 and .port == 7)'

mig 0 vm list
out_has "^vm1 +n1 +1 +02:00:00:00:00:01 +198\.18\.1\.1 +100 +0 "
out_has "^vm2 +n2 +1 +02:00:00:00:00:02 +198\.18\.1\.2 +0 +12 "
mig 0 vm show vm1
out_has "^ip: +198\.18\.1\.1$"
mig 4 vm show ghost
err_has "404 unknown_vm"

mig 0 vm update vm1 --ip 198.18.1.11
mig 0 vm show vm1
out_has "^ip: +198\.18\.1\.11$"
out_has "^epoch: +1$"
eventually "n1 got the update" state n1 \
    '.entries[] | select(.vm == "vm1" and .ip == "198.18.1.11")'
mig 2 vm update vm1
err_has "nothing to update"
mig 4 vm update ghost --ip 198.18.1.12
err_has "404 unknown_vm"

mig 0 map
out_has "^map version [0-9]+"
out_has "^vm1 +n1 +1 "
mig 0 --json map
MAP_V=$(jq -r .version "$T/out")
[ "$MAP_V" -ge 2 ] || fail "map version $MAP_V"

# A migration: install on n2, relay then delete on n1.
mig 0 vm migrate vm1 --to n2 --from n1
out_has "^migration [0-9]+: vm1 -> n2 at epoch 2$"
# No deadline the core does not keep (issue 17: "deleted within 4250 ms").
grep -q "within" "$T/out" && fail "migrate promises a deadline"
out_has "deleted, after the deletion delay of$"
out_has "^[0-9.]+ s counted from the switch-over once both nodes confirmed"
MIG=$(sed -n 's/^migration \([0-9]*\):.*/\1/p' "$T/out")
mig 4 vm migrate vm1 --to n2
err_has "409 same_node"
mig 4 vm migrate vm1 --to n1 --from n1
err_has "409 wrong_source"
mig 4 vm migrate vm1 --to nowhere
err_has "404 unknown_node"
mig 4 vm migrate ghost --to n1
err_has "404 unknown_vm"

eventually "n2 holds vm1 at epoch 2" state n2 \
    '.entries[] | select(.vm == "vm1" and .epoch == 2)'
eventually "n1 dropped vm1" state n1 '[.entries[].vm] == []'
grep -q '^recv {"type":"relay",.*"vm":"vm1","epoch":1,.*"target":"n2","target_address":"198.18.0.2","target_epoch":2}$' \
    "$T/agent-n1.trace" || fail "n1 got no relay for vm1"
grep -q '^recv {"type":"delete",.*"vm":"vm1","epoch":1,' \
    "$T/agent-n1.trace" || fail "n1 got no delete for vm1"
grep -q '^recv {"type":"install",.*"vm":"vm1","epoch":2,' \
    "$T/agent-n2.trace" || fail "n2 got no install for vm1"
# Relay before delete, each acknowledged.
RELAY_LINE=$(grep -n '^recv {"type":"relay",.*"vm":"vm1"' "$T/agent-n1.trace" | head -1 | cut -d: -f1)
DELETE_LINE=$(grep -n '^recv {"type":"delete",.*"vm":"vm1"' "$T/agent-n1.trace" | head -1 | cut -d: -f1)
[ "$RELAY_LINE" -lt "$DELETE_LINE" ] || fail "delete before relay on n1"
eventually "n1 acknowledged everything" state n1 '.acked_seq == .last_seq'
# n2 reports refreshes by message.
grep -q '^send {"type":"refresh","version":[0-9]*}$' "$T/agent-n2.trace" \
    || fail "n2 sent no refresh message"
# n1 polls with node= and its token as the bearer: the polls themselves
# are its refreshes (a poll without the token would count for nothing).
grep -q '^send {"type":"refresh"' "$T/agent-n1.trace" \
    && fail "n1 refreshed by message"
n1_refreshed() {
    "$MIGNET" --json node show n1 >"$T/n1.json" 2>/dev/null \
        && [ "$(jq '.refresh.count' "$T/n1.json")" -ge 2 ]
}
eventually "n1's token polls counted as refreshes" n1_refreshed

eventually "migration cleaned" bash -c \
    "'$MIGNET' migration show $MIG | grep -Eq '^phase: +cleaned$'"
mig 0 migration show "$MIG"
out_has "^vm: +vm1$"
out_has "^to: +n2$"
# The timeline: each phase reached, its RFC 3339 time, the offset from the
# start, in the order they happened.
TS='20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
out_has "^timeline:$"
out_has "^  preparing +$TS +\+0\.0 s$"
for phase in relaying cleaning cleaned; do
    out_has "^  $phase +$TS +\+[0-9.]+ s$"
done
sed -n 's/^  \([a-z]*\) .*/\1/p' "$T/out" | tr '\n' ' ' >"$T/phases"
grep -Eq '^preparing (prepared )?(switched )?(activated )?relaying cleaning cleaned $' \
    "$T/phases" || fail "timeline order: $(cat "$T/phases")"
grep -Eq 'unix_ms' "$T/out" && fail "raw *_unix_ms in migration show"
# The offsets grow as the phases follow each other.
sed -n 's/^  [a-z]* .* +\([0-9.]*\) s$/\1/p' "$T/out" \
    | sort -c -g || fail "timeline offsets not in order"
mig 0 --json migration show "$MIG"
[ "$(jq -r .phase "$T/out")" = cleaned ] || fail "json migration phase"
mig 4 migration show 999
err_has "404 unknown_migration"
mig 2 migration show first

mig 0 tasks
out_has "^VM +NODE +EPOCH +KIND +DUE$"
mig 0 --json tasks
jq -e '.tasks | type == "array"' "$T/out" >/dev/null || fail "json tasks"

mig 0 map --since "$MAP_V"
out_has "changes since $MAP_V"
out_has "^vm1 +n2 +2 "
mig 2 map --since -3

# Delete: the current node drops it.
mig 0 vm delete vm1
out_has "^deleted vm vm1$"
mig 4 vm show vm1
err_has "404 unknown_vm"
mig 4 vm delete vm1
err_has "404 unknown_vm"
eventually "n2 dropped vm1" state n2 '[.entries[].vm] == ["vm2"]'

# --json prints the controller's error body too.
mig 4 --json vm show ghost
[ "$(jq -r .error.code "$T/out")" = unknown_vm ] || fail "json error body"

# A reconnecting agent is resynchronised to exactly its desired state.
stop_pid "$A2" TERM
[ "$STOP_RC" = 0 ] || fail "test agent exit $STOP_RC on SIGTERM"
start_polling_agent n2
A2=$AGENT_PID
eventually "n2 resynced" state n2 \
    '.resyncs == 1 and ([.entries[].vm] == ["vm2"])'

# The agents saw no protocol violation and no error from the controller.
state n1 '.violation_count == 0 and .errors == 0' \
    || fail "agent n1: $(jq -c .violations "$T/agent-n1.json")"
state n2 '.violation_count == 0 and .errors == 0' \
    || fail "agent n2: $(jq -c .violations "$T/agent-n2.json")"

# An unknown node is turned away.
"$AGENT" --controller "$AGENT_ADDR" --node stranger --once \
    --log "$T/agent-stranger.trace" --state "$T/agent-stranger.json" \
    2>>"$T/agent-stranger.log" && fail "unknown node accepted"
grep -q '^recv {"type":"error","code":"unknown_node"' \
    "$T/agent-stranger.trace" || fail "no unknown_node error"

# ---- Log lines an operator needs (issue 17) ----
# A lease that ends names its VM, node and address.
mig 0 vm create vml --mac 02:00:00:00:00:31 --vni 7 --node n1
mig 0 binding set vml --ip 198.18.1.31 --type dynamic --lease 1
# (A 1 s lease shown within 50 ms of its start reads "in 1.0 s".)
out_has "^expires: +$TS \(in (0\.[0-9]|1\.0) s\)$"
eventually "lease_ended logged with its VM" grep -Eq \
    'level=info comp=core event=lease_ended vm=vml node=n1 ip=198\.18\.1\.31$' \
    "$T/d1.log"
mig 0 vm delete vml
# An agent that cannot reach the gateway warns (once, not at every poll),
# and says so at info when it reaches it again.
GW_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo mgn_unused >"$T/token-gw"
chmod 600 "$T/token-gw"
"$MIGNET_BUILD_DIR/mignet-agent" --node gw1 --token-file "$T/token-gw" \
    --ofp "unix:$T/no-bridge.mgmt" --controller "127.0.0.1:$FREE_PORT" \
    --gateway "http://127.0.0.1:$GW_PORT" --refresh-ms 50 \
    --refresh-jitter 0 >"$T/agent-gw.out" 2>"$T/agent-gw.log" &
PIDS+=("$!")
eventually "gateway_unreachable warned" grep -Eq \
    "level=warn comp=agent event=gateway_unreachable node=gw1 gateway=http://127.0.0.1:$GW_PORT .*failures=1 " \
    "$T/agent-gw.log"
sleep 1 # some 20 more failed polls
[ "$(grep -c 'event=gateway_unreachable' "$T/agent-gw.log")" = 1 ] \
    || fail "gateway failures logged more than once: $(cat "$T/agent-gw.log")"
# Its controller is not there either: warned once too, not at debug only.
[ "$(grep -c 'level=warn comp=agent event=channel_connect_failed node=gw1 .*failures=1 ' "$T/agent-gw.log")" = 1 ] \
    || fail "channel failure not warned once: $(cat "$T/agent-gw.log")"
mkdir -p "$T/gw/v1"
echo '{"version":0,"full":true,"entries":[]}' >"$T/gw/v1/map"
python3 -u -m http.server --bind 127.0.0.1 --directory "$T/gw" "$GW_PORT" \
    >"$T/gw.out" 2>"$T/gw.log" &
PIDS+=("$!")
eventually "gateway_reachable logged" grep -Eq \
    'level=info comp=agent event=gateway_reachable node=gw1 .*failures=[0-9]+ down_ms=[0-9]+' \
    "$T/agent-gw.log"

# ---- The agent channel over TLS ----
if command -v openssl >/dev/null; then
    for name in ctl other; do
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
            -nodes -keyout "$T/$name.key" -out "$T/$name.pem" -days 1 \
            -subj "/CN=mignet-$name" -addext "subjectAltName=IP:127.0.0.1" \
            2>/dev/null || fail "openssl req"
    done
    start_mignetd tls --agent-tls-cert "$T/ctl.pem" \
        --agent-tls-key "$T/ctl.key"
    mig 0 --url "$URL" node add t1 --address 198.18.0.5 \
        --token-out "$T/token-t1"
    mig 0 --url "$URL" vm create tvm --mac 02:00:00:00:00:05 \
        --ip 198.18.1.5 --vni 5 --node t1
    start_polling_agent t1 --tls-ca "$T/ctl.pem"
    eventually "t1 over TLS" state t1 \
        '.entries[] | select(.vm == "tvm" and .epoch == 1)'
    grep -q '^event connected .* tls$' "$T/agent-t1.trace" \
        || fail "t1 did not use TLS"
    # A certificate the agent does not trust, and plain TCP, both fail.
    "$AGENT" --controller "$AGENT_ADDR" --node t1 --once \
        --token-file "$T/token-t1" \
        --tls-ca "$T/other.pem" --log "$T/agent-t1-bad.trace" \
        2>>"$T/agent-t1-bad.log" && fail "untrusted certificate accepted"
    grep -q 'certificate verify failed' "$T/agent-t1-bad.trace" \
        || fail "no verification failure logged"
    "$AGENT" --controller "$AGENT_ADDR" --node t1 --once \
        --token-file "$T/token-t1" \
        --log "$T/agent-t1-plain.trace" 2>>"$T/agent-t1-plain.log" \
        && fail "plain TCP accepted by a TLS controller"
    grep -q '^recv ' "$T/agent-t1-plain.trace" \
        && fail "plain TCP agent received a message"
fi

# ---- Malformed and missing answers from something that is not mignetd ----
mkdir -p "$T/www/v1"
echo 'this is not json' >"$T/www/v1/tasks"
echo '{"count": 3}' >"$T/www/v1/vms"
python3 -u -m http.server --bind 127.0.0.1 --directory "$T/www" 0 \
    >"$T/www.out" 2>"$T/www.log" &
PIDS+=("$!")
eventually "fake server" grep -q 'port' "$T/www.out"
FAKE=http://127.0.0.1:$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$T/www.out")
mig 5 --url "$FAKE" tasks
err_has "malformed answer"
mig 5 --url "$FAKE" vm list
err_has "unexpected answer"
mig 4 --url "$FAKE" node show n1
err_has "controller answered 404"

# A controller that accepts but never answers: --timeout ends it (exit 3).
python3 -u -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1])
time.sleep(60)' >"$T/mute.out" &
PIDS+=("$!")
eventually "mute server" grep -q '[0-9]' "$T/mute.out"
mig 3 --url "http://127.0.0.1:$(cat "$T/mute.out")" --timeout 300 tasks
err_has "timed out"

echo "PASS test_cli"
