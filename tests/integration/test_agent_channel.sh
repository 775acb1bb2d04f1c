#!/usr/bin/env bash
# test_agent_channel.sh: the agent channel (docs/agent-protocol.md) against
# a real mignetd over loopback TCP, with bash's /dev/tcp as the agent:
# registration and resync, instructions as a VM migrates, acknowledgements
# moving the migration on, refresh reports releasing the deletion early,
# protocol errors (fatal and not), replacement of a node's session, and
# heartbeats.  Then the same hello over TLS with a throwaway certificate.
source "$(dirname "$0")/lib.sh"

start_mignetd chan --heartbeat-ms 5000 --prepare-timeout-ms 60000 \
    --delay-floor-ms 60000 --delay-ceiling-ms 60000
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":500}'
ok POST /v1/nodes 201 '{"id":"n2","address":"198.18.0.2","refresh_ms":500}'
ok POST /v1/vms 201 '{"id":"vm1","mac":"02:00:00:00:00:01","ip":"198.18.1.1","vni":100,"node":"n1"}'

host=${AGENT_ADDR%:*}
port=${AGENT_ADDR##*:}

# agent_open FD: connects file descriptor FD to the agent port.
agent_open() { eval "exec $1<>/dev/tcp/$host/$port"; }
agent_close() { eval "exec $1<&-"; }
send() { printf '%s\n' "$2" >&"$1"; }
# hello NODE: the node's hello, with its token (lib.sh's token).
hello() {
    printf '{"type":"hello","node":"%s","proto":1,"token":"%s"}' "$1" \
        "$(token "$1")"
}
# recv FD: next non-heartbeat line into LINE (fails after 3 s).
recv() {
    while :; do
        IFS= read -r -t 3 LINE <&"$1" || fail "fd $1: no line (${2-})"
        [ "$(jq -r .type <<<"$LINE")" = heartbeat ] || return 0
    done
}
# expect_line FD JQ-PREDICATE
expect_line() {
    recv "$1" "$2"
    [ "$(jq -r "$2" <<<"$LINE")" = true ] || fail "fd $1: '$LINE' is not $2"
}
# expect_closed FD: the controller closed the session.
# Heartbeats queued before the close may still arrive.
expect_closed() {
    local extra rc
    while :; do
        rc=0
        IFS= read -r -t 3 extra <&"$1" 2>/dev/null || rc=$?
        [ $rc -eq 0 ] || break
        [ "$(jq -r .type <<<"$extra")" = heartbeat ] \
            || fail "fd $1 still open, got '$extra'"
    done
    [ $rc -le 128 ] || fail "fd $1 still open after 3 s"
}

# ---- registration and resync ----
agent_open 5
send 5 "$(hello n1)"
expect_line 5 '.type == "welcome" and .node == "n1" and .heartbeat_ms == 5000
               and .map_version == 1'
expect_line 5 '.type == "resync_begin"'
begin=$(jq .seq <<<"$LINE")
expect_line 5 ".type == \"install\" and .vm == \"vm1\" and .epoch == 1
               and .mac == \"02:00:00:00:00:01\" and .ip == \"198.18.1.1\"
               and .vni == 100 and .seq == $((begin + 1))"
# The resync takes a seq of its own: its ack confirms the whole state.
expect_line 5 ".type == \"resync_end\" and .seq == $((begin + 2))"
send 5 "{\"type\":\"ack\",\"seq\":$((begin + 2))}"

agent_open 6
send 6 "$(hello n2)"
expect_line 6 '.type == "welcome" and .node == "n2"'
expect_line 6 '.type == "resync_begin"'
b2=$(jq .seq <<<"$LINE")
expect_line 6 ".type == \"resync_end\" and .seq == $((b2 + 1))"

ok GET /v1/nodes/n1 200
[ "$(json .connected)" = true ] || fail "n1 not connected: $BODY"

# ---- a migration: install on the destination, relay on the source ----
ok POST /v1/vms/vm1/migrate 202 '{"to":"n2"}'
mig=$(json .migration)
expect_line 6 '.type == "install" and .vm == "vm1" and .epoch == 2'
s2=$(jq .seq <<<"$LINE")
expect_line 5 '.type == "relay" and .vm == "vm1" and .epoch == 1
               and .target == "n2" and .target_address == "198.18.0.2"
               and .target_epoch == 2'
s1=$(jq .seq <<<"$LINE")
ok GET "/v1/migrations/$mig" 200
[ "$(json .phase)" = preparing ] || fail "before acks: $BODY"
send 5 "{\"type\":\"ack\",\"seq\":$s1}"
send 6 "{\"type\":\"ack\",\"seq\":$s2}"
for _ in $(seq 1 50); do
    api GET "/v1/migrations/$mig"
    [ "$(json .phase)" = relaying ] && break
    sleep 0.05
done
[ "$(json .phase)" = relaying ] || fail "acks did not start relaying: $BODY"

# ---- every node reports the new map version: deletion released early ----
api GET /v1/map
v=$(json .version)
send 5 "{\"type\":\"refresh\",\"version\":$v}"
send 6 "{\"type\":\"refresh\",\"version\":$v}"
expect_line 5 '.type == "delete" and .vm == "vm1" and .epoch == 1'
sdel=$(jq .seq <<<"$LINE")
ok GET "/v1/migrations/$mig" 200
[ "$(json .phase)/$(json .released_early)" = cleaning/true ] \
    || fail "not released early: $BODY"
# Cleaned only once the source confirmed the deletion.
send 5 "{\"type\":\"ack\",\"seq\":$sdel}"
for _ in $(seq 1 50); do
    api GET "/v1/migrations/$mig"
    [ "$(json .phase)" = cleaned ] && break
    sleep 0.05
done
[ "$(json .phase)" = cleaned ] || fail "ack did not clean: $BODY"

# ---- errors that keep the session ----
send 5 '{"type":"ack","seq":999999}'
expect_line 5 '.type == "error" and .code == "invalid_seq"'
send 5 '{"type":"frobnicate"}'
expect_line 5 '.type == "error" and .code == "unknown_type"'
send 5 '{"type":"ack","seq":"x"}'
expect_line 5 '.type == "error" and .code == "bad_field"'
send 6 '{"type":"report","vm":"vm1","epoch":1}'
expect_line 6 '.type == "error" and .code == "stale_epoch"'
send 6 '{"type":"report","vm":"vm7","epoch":1}'
expect_line 6 '.type == "error" and .code == "unknown_vm"'
send 5 '{"type":"refresh","version":999999}'
expect_line 5 '.type == "error" and .code == "invalid_version"'

# ---- fatal errors close the session ----
agent_open 7
send 7 'this is not json'
expect_line 7 '.type == "error" and .code == "bad_json"'
expect_closed 7
agent_close 7
agent_open 7
send 7 '{"type":"ack","seq":1}'
expect_line 7 '.type == "error" and .code == "not_registered"'
expect_closed 7
agent_close 7
agent_open 7
send 7 '{"type":"hello","node":"n9","proto":1}'
expect_line 7 '.type == "error" and .code == "unknown_node"'
expect_closed 7
agent_close 7
agent_open 7
{ head -c 70000 /dev/zero | tr '\0' 'x' >&7; } 2>/dev/null || true
expect_line 7 '.type == "error" and .code == "too_long"'
expect_closed 7
agent_close 7

# ---- a second session for n2 replaces the first and gets the state ----
agent_open 8
send 8 "$(hello n2)"
expect_line 8 '.type == "welcome"'
expect_line 8 '.type == "resync_begin"'
expect_line 8 '.type == "install" and .vm == "vm1" and .epoch == 2'
expect_line 8 '.type == "resync_end"'
expect_closed 6
agent_close 6

kill -0 "$MIGNETD_PID" || fail "mignetd died"
agent_close 5
agent_close 8

# ---- heartbeats; a silent session is closed after 3 intervals ----
start_mignetd hb --heartbeat-ms 200
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1"}'
port=${AGENT_ADDR##*:}
agent_open 5
send 5 "$(hello n1)"
expect_line 5 '.type == "welcome" and .heartbeat_ms == 200'
for _ in 1 2 3; do
    IFS= read -r -t 1 LINE <&5 || fail "no line"
    [ "$(jq -r .type <<<"$LINE")" = heartbeat ] || [ "$(jq -r .type <<<"$LINE")" = resync_begin ] \
        || [ "$(jq -r .type <<<"$LINE")" = resync_end ] || fail "unexpected: $LINE"
done
[ "$(jq -r .type <<<"$LINE")" = heartbeat ] || fail "no heartbeat: $LINE"
# Silent from here on: closed within 3 intervals (600 ms) plus one tick.
start=$(date +%s%3N)
while IFS= read -r -t 2 LINE <&5; do
    [ "$(jq -r .type <<<"$LINE")" = heartbeat ] || fail "unexpected: $LINE"
done
took=$(( $(date +%s%3N) - start ))
[ "$took" -lt 1500 ] || fail "silent session closed only after $took ms"
agent_close 5
kill -0 "$MIGNETD_PID" || fail "mignetd died"

# ---- TLS ----
command -v openssl >/dev/null || fail "openssl is needed"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
    -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
start_mignetd tls --agent-tls-cert "$T/cert.pem" \
    --agent-tls-key "$T/key.pem"
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1"}'
coproc TLS { openssl s_client -quiet -connect "$AGENT_ADDR" \
             -CAfile "$T/cert.pem" -verify_return_error 2>/dev/null; }
PIDS+=("$TLS_PID")
printf '%s\n' "$(hello n1)" >&"${TLS[1]}"
IFS= read -r -t 5 LINE <&"${TLS[0]}" || fail "no welcome over TLS"
[ "$(jq -r '.type + " " + .node' <<<"$LINE")" = "welcome n1" ] \
    || fail "TLS: '$LINE'"
# Plain TCP to a TLS port gets nowhere.
port=${AGENT_ADDR##*:}
agent_open 5
send 5 "$(hello n1)"
if IFS= read -r -t 2 LINE <&5 2>/dev/null && [ "$(jq -r .type <<<"$LINE" 2>/dev/null)" = welcome ]; then
    fail "plain TCP accepted on the TLS port"
fi
agent_close 5
kill -0 "$MIGNETD_PID" || fail "mignetd (TLS) died"
echo "test_agent_channel: ok"
