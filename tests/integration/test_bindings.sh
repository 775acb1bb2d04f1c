#!/usr/bin/env bash
# test_bindings.sh: port-security bindings (seed 003) through a real
# mignetd with its real SQLite store, the real `mignet` CLI and an agent
# session played over loopback TCP with bash's /dev/tcp: the VM manager's
# static binding (FIG. 5), a DHCP ACK an agent sends up (FIG. 3, parsed and
# snooped by the controller) and an agent's own report (FIG. 4), each
# reaching the node as an install that carries the binding; refusals with
# their codes; a lease that ends on time after a kill -9 and a restart.
source "$(dirname "$0")/lib.sh"

CLI=$MIGNET_BUILD_DIR/mignet
cli() { "$CLI" --url "$URL" "$@"; }

start_mignetd bind --heartbeat-ms 5000
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":500}'
ok POST /v1/nodes 201 '{"id":"n2","address":"198.18.0.2","refresh_ms":500}'
# vm1's MAC is the client of the golden ACK of the DHCP corpus (chaddr
# 52:54:00:12:34:56, yiaddr 198.18.0.10); it has no address yet.
cli vm create vm1 --mac 52:54:00:12:34:56 --vni 100 --node n1 >/dev/null
cli vm create vm2 --mac 02:00:00:00:00:02 --vni 100 --node n1 >/dev/null
cli vm create vm3 --mac 02:00:00:00:00:03 --ip 198.18.1.3 --vni 100 \
    --node n2 >/dev/null
ack_hex=$(od -An -tx1 -v "$MIGNET_SOURCE_DIR/tests/fuzz/corpus/dhcp/ack.bin" |
    tr -d ' \n')

host=${AGENT_ADDR%:*}
port=${AGENT_ADDR##*:}
exec 5<>"/dev/tcp/$host/$port"
send() { printf '%s\n' "$1" >&5; }
recv() {
    while :; do
        IFS= read -r -t 3 LINE <&5 || fail "no line (${1-})"
        [ "$(jq -r .type <<<"$LINE")" = heartbeat ] || return 0
    done
}
expect_line() {
    recv "$1"
    [ "$(jq -r "$1" <<<"$LINE")" = true ] || fail "'$LINE' is not $1"
}
send "{\"type\":\"hello\",\"node\":\"n1\",\"proto\":1,\"token\":\"$(token n1)\"}"
expect_line '.type == "welcome"'
expect_line '.type == "resync_begin"'
expect_line '.type == "install" and .binding == null'
expect_line '.type == "install" and .binding == null'
expect_line '.type == "resync_end"'

# ---- A binding may not take an IP another VM has configured ----
# vm3 (n2, same VNI) has 198.18.1.3 in its configuration: 409, nothing sent.
api PUT /v1/vms/vm2/binding '{"ip":"198.18.1.3","type":"static"}'
[ "$STATUS" = 409 ] && [ "$(json .error.code)" = duplicate_address ] ||
    fail "a binding on vm3's IP: $STATUS $BODY"
api GET /v1/vms/vm2/binding
[ "$STATUS" = 404 ] || fail "the refused binding exists: $STATUS $BODY"

# ---- FIG. 5: the VM manager, through the CLI ----
out=$(cli binding set vm2 --ip 198.18.1.2)
grep -q '^type: *static$' <<<"$out" || fail "set: $out"
expect_line '.type == "install" and .vm == "vm2" and .ip == "198.18.1.2"
             and .binding.ip == "198.18.1.2" and .binding.type == "static"
             and .binding.origin == "manager" and .binding.node == "n1"
             and .binding.port_security == "untrust"'
b=$(cli --json binding show vm2)
[ "$(jq -r '[.vm,.node,.mac,.ip,.vlan,.port,.type,.origin,.lease,
             .expires_unix_ms,.server,.port_status,.port_security] | @csv' \
    <<<"$b")" = '"vm2","n1","02:00:00:00:00:02","198.18.1.2",0,0,"static","manager",0,,,"up","untrust"' ] \
    || fail "binding fields: $b"
[ "$(cli --json vm show vm2 | jq -r '.ip + " " + (.binding.id|tostring)')" \
    = "198.18.1.2 $(jq .id <<<"$b")" ] || fail "vm show: no binding"

# ---- FIG. 3: an ACK sent up by the agent, parsed by the controller ----
send "{\"type\":\"dhcp\",\"port\":3,\"frame\":\"$ack_hex\"}"
expect_line '.type == "install" and .vm == "vm1" and .ip == "198.18.0.10"
             and .binding.ip == "198.18.0.10"
             and .binding.mac == "52:54:00:12:34:56"
             and .binding.origin == "controller" and .binding.type == "dynamic"
             and .binding.server == "198.18.0.1" and .binding.expires > 0'
b=$(cli --json binding show vm1)
[ "$(jq -r .origin <<<"$b")" = controller ] || fail "vm1: $b"
exp1=$(jq .expires_unix_ms <<<"$b")
lease1=$(jq .lease <<<"$b")
now=$(date +%s%3N)
[ $((exp1 - now)) -le $((lease1 * 1000)) ] && \
    [ $((exp1 - now)) -gt $((lease1 * 1000 - 5000)) ] ||
    fail "expiry $exp1 is not now + $lease1 s"
[ "$(cli --json tasks | jq '[.tasks[] | select(.kind == "lease" and
    .vm == "vm1")] | length')" = 1 ] || fail "no lease task for vm1"

# Malformed frames are refused and create nothing.
send '{"type":"dhcp","port":3,"frame":"00112233"}'
expect_line '.type == "error" and .code == "bad_dhcp"
             and .message == "truncated_ethernet"'
bad=${ack_hex:0:46}ff${ack_hex:48}
send "{\"type\":\"dhcp\",\"port\":3,\"frame\":\"$bad\"}"
expect_line '.type == "error" and .code == "bad_dhcp"'

# ---- FIG. 4: the agent's own binding, reported ----
# vm2 is statically bound: DHCP never replaces that.
report() { # VM ACTION MAC IP
    send "{\"type\":\"binding\",\"vm\":\"$1\",\"action\":\"$2\",\"binding\":{\"id\":0,\"node\":\"n1\",\"mac\":\"$3\",\"ip\":\"$4\",\"type\":\"dynamic\",\"origin\":\"agent\",\"lease\":60,\"expires\":1}}"
}
report vm2 created 02:00:00:00:00:02 198.18.1.22
expect_line '.type == "error" and .code == "binding_refused"
             and .message == "static_binding_held"'
cli binding delete vm2 >/dev/null
expect_line '.type == "install" and .vm == "vm2" and .binding == null
             and .ip == "0.0.0.0"'
report vm2 created 02:00:00:00:00:02 198.18.1.22
expect_line '.type == "install" and .vm == "vm2"
             and .binding.origin == "agent" and .binding.ip == "198.18.1.22"'
# The address of another VM in the same VLAN: refused.
report vm2 updated 02:00:00:00:00:02 198.18.0.10
expect_line '.type == "error" and .message == "ip_conflict"'
# A VM on another node is not this agent's to report.
report vm3 created 02:00:00:00:00:03 198.18.1.33
expect_line '.type == "error" and .code == "forbidden"'

# ---- the list, the CLI table, metrics ----
[ "$(cli --json binding list | jq -r '[.bindings[].vm] | join(",")')" \
    = vm1,vm2 ] || fail "list: $(cli --json binding list)"
cli binding list | grep -q '^vm1 .* dynamic  controller' ||
    fail "table: $(cli binding list)"
api GET /metrics
grep -q '^mignet_bindings{type="dynamic"} 2$' <<<"$BODY" || fail "metrics"
grep -q '^mignet_bindings_created_total{origin="agent"} 1$' <<<"$BODY" ||
    fail "metrics by origin"
grep -q '^mignet_dhcp_rejected_total 2$' <<<"$BODY" || fail "rejected"

# ---- a short lease from the VM manager, across kill -9 ----
cli binding set vm3 --ip 198.18.1.3 --type dynamic --lease 3 >/dev/null
exp3=$(cli --json binding show vm3 | jq .expires_unix_ms)
exec 5<&-
stop_pid "$MIGNETD_PID" KILL
start_mignetd bind --heartbeat-ms 5000
[ "$(cli --json binding show vm3 | jq .expires_unix_ms)" = "$exp3" ] ||
    fail "vm3's lease changed across the restart"
[ "$(cli --json binding list | jq '.bindings | length')" = 3 ] ||
    fail "bindings lost in the restart"
gone=0
while :; do
    if ! cli --json binding show vm3 >/dev/null 2>&1; then
        gone=$(date +%s%3N)
        break
    fi
    [ "$(date +%s%3N)" -lt $((exp3 + 5000)) ] || break
    sleep 0.05
done
[ "$gone" -ge "$exp3" ] || fail "vm3's lease ended early ($gone < $exp3)"
[ $((gone - exp3)) -le 1500 ] || fail "vm3's lease ended late: $gone"
[ "$(cli --json vm show vm3 | jq -r '.ip + " " + (.binding|tostring)')" \
    = "0.0.0.0 null" ] || fail "vm3 after its lease: $(cli vm show vm3)"
api GET /metrics
grep -q '^mignet_bindings_lease_expiries_total 1$' <<<"$BODY" ||
    fail "lease expiry not counted"
echo "ok: bindings via REST, CLI and the agent channel; lease ended" \
    "$((gone - exp3)) ms after its expiry across a kill -9"
