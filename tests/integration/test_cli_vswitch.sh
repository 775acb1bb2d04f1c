#!/usr/bin/env bash
# test_cli_vswitch.sh: `mignet vswitch` against the real mignetd with a
# tenant's OpenFlow 1.3 controller (of13_tenant.py) that mignetd dials:
# create, list, show, flows, ensemble migrate, delete, and the refusals
# (exit 4 with the API's code); every REST answer is checked against
# docs/api.yaml (lib.sh).  No agent runs: the switch's flows stay in
# mignetd (nothing is installed on a bridge).  Everything on 127.0.0.1,
# stopped by PID on exit.
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
[ -x "$MIGNET" ] || fail "no mignet at $MIGNET"

# mig WANT ARGS...: runs mignet on $URL; its exit code must be WANT.
mig() {
    local want=$1; shift
    local rc=0
    "$MIGNET" --url "$URL" "$@" >"$T/out" 2>"$T/err" || rc=$?
    if [ "$rc" != "$want" ]; then
        fail "mignet $* -> exit $rc, want $want
stdout: $(cat "$T/out")
stderr: $(cat "$T/err")"
    fi
}
out_has() { grep -Eq -- "$1" "$T/out" || fail "stdout lacks /$1/: $(cat "$T/out")"; }
err_has() { grep -Eq -- "$1" "$T/err" || fail "stderr lacks /$1/: $(cat "$T/err")"; }

# The tenant's controller, listening before the switch exists.
CPORT=$(free_port)
python3 "$MIGNET_SOURCE_DIR/tests/integration/of13_tenant.py" "$CPORT" \
    "$T/tenant.log" 2>>"$T/tenant.err" &
PIDS+=("$!")
start_mignetd d1
CTL=tcp:127.0.0.1:$CPORT

ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1"}'
ok POST /v1/nodes 201 '{"id":"n2","address":"198.18.0.2"}'
for i in 1 2; do
    ok POST /v1/vms 201 "{\"id\":\"vm$i\",\"mac\":\"02:00:00:00:00:0$i\",\"vni\":100,\"node\":\"n1\"}"
done
ok POST /v1/vms 201 '{"id":"vm3","mac":"02:00:00:00:00:03","vni":200,"node":"n1"}'

# ---- create ----
mig 2 vswitch create vs1 --tenant acme --vni 100 --controller "$CTL"
err_has "missing --port VM=NUM"
mig 2 vswitch create vs1 --tenant acme --vni 100 --controller "$CTL" \
    --port vm1=1 --port vm1=2
err_has "names a VM given before"
mig 0 vswitch create vs1 --tenant acme --vni 100 --controller "$CTL" \
    --port vm1=1 --port vm2=2 --datapath-id 0x64
out_has '^id: +vs1$'
out_has '^datapath_id: +0x0000000000000064$'
out_has '^ +1 +vm1 +02:00:00:00:00:01 '
ok GET /v1/vswitches/vs1 200
[ "$(json '.ports | map(.vm) | join(",")')" = vm1,vm2 ] \
    || fail "ports: $BODY"

# The controller is dialed; it sees the datapath id given, adds its two
# flows, and its flow-mod for table 1 is refused (FLOW_MOD_FAILED,
# BAD_TABLE_ID).
connected() { api GET /v1/vswitches/vs1 && [ "$(json .connected)" = true ]; }
eventually "the tenant session" connected
[ "$(json .controller_connected)" = true ] || fail "not connected: $BODY"
two_flows() { api GET /v1/vswitches/vs1/flows && [ "$(json .n_flows)" = 2 ]; }
eventually "the tenant's two flows" two_flows
[ "$(json '.flows | map(.match) | sort | join(" ")')" = "any in_port=1" ] \
    || fail "flows: $BODY"
eventually "the features reply" grep -q '"datapath_id": 100' "$T/tenant.log"
eventually "the table-1 refusal" \
    grep -q '"err_type": 5, "err_code": 2' "$T/tenant.log"

mig 0 vswitch list
out_has '^ID +TENANT +VNI +CONTROLLER +CONNECTED +PORTS +FLOWS'
out_has "^vs1 +acme +100 +$CTL +yes +2 +2 +1 +n1 +-$"
mig 0 vswitch show vs1
out_has '^connected: +yes$'
out_has '^nodes: +n1$'
mig 0 vswitch flows vs1
out_has '^vswitch vs1: 2 flows, version 1$'
out_has '^ +100 +in_port=1 +output:2 +0 +0 .* 0x00000000000000ab$'
out_has '^ +0 +any +output:CONTROLLER:65535 '
mig 0 --json vswitch flows vs1
[ "$(jq '.flows | length' "$T/out")" = 2 ] || fail "--json: $(cat "$T/out")"

# ---- refusals: the API's codes, exit 4 ----
mig 4 vswitch create vs1 --tenant acme --vni 300 --controller "$CTL" \
    --port vm3=1
err_has "409 exists"
mig 4 vswitch create vs2 --tenant acme --vni 100 --controller "$CTL" \
    --port vm3=1
err_has "409 vni_in_use"
mig 4 vswitch create vs2 --tenant acme --vni 201 --controller "$CTL" \
    --port vm3=1
err_has "422 vni_mismatch"
mig 4 vswitch create vs2 --tenant acme --vni 200 --controller "$CTL" \
    --port nosuchvm=1
err_has "404 unknown_vm"
mig 4 vswitch create vs2 --tenant acme --vni 15728640 --controller "$CTL" \
    --port vm3=1
err_has "422 invalid_value: 'vni' must be below --vnet-key-base"
mig 4 vswitch show nosuch
err_has "404 unknown_vswitch"
mig 4 vswitch migrate vs1 vm3=n2
err_has "422 not_a_port"
mig 4 vswitch migrate vs1 vm1=n9
err_has "404 unknown_node"
ok GET /v1/vswitches/vs1 200
[ "$(json .split)" = false ] || fail "a refused ensemble split it: $BODY"
api POST /v1/vswitches '{"id":"vs2","tenant":"t","vni":200,"controller":"tcp:127.0.0.1:1","ports":{"vm3":1},"extra":1}'
[ "$STATUS" = 422 ] || fail "unknown member: $STATUS $BODY"
api GET '/v1/vswitches?limit=1'
[ "$STATUS" = 400 ] || fail "query: $STATUS $BODY"

# ---- an ensemble: both VMs to n2, prepared, then aborted ----
mig 0 vswitch migrate vs1 vm1=n2 vm2=n2 --switchover manual
out_has '^ensemble migration of vswitch vs1: 2 VMs$'
out_has '^vm1 +n2 +[0-9]+$'
out_has 'switch-over manual'
ids=$(awk '$2 == "n2" {print $3}' "$T/out")
[ "$(wc -w <<<"$ids")" = 2 ] || fail "migration ids: $(cat "$T/out")"
ok GET /v1/vswitches/vs1 200
[ "$(json .split)" = true ] || fail "not split: $BODY"
[ "$(json '.ensemble | map(tostring) | join(" ")')" = "$(tr '\n' ' ' <<<"$ids" | sed 's/ $//')" ] \
    || fail "ensemble $(json .ensemble), want $ids"
[ "$(json '.nodes | sort | join(",")')" = n1,n2 ] || fail "nodes: $BODY"
mig 4 vswitch migrate vs1 vm1=n1
err_has "409 ensemble_running"
mig 0 vswitch show vs1
out_has '^split: +yes$'
for id in $ids; do
    mig 0 migration abort "$id"
done
whole() { api GET /v1/vswitches/vs1 && [ "$(json .split)" = false ]; }
eventually "the ensemble's end" whole
[ "$(json .ensemble)" = null ] || fail "ensemble left: $BODY"
[ "$(json '.nodes | join(",")')" = n1 ] || fail "nodes: $BODY"

# ---- delete ----
mig 0 vswitch delete vs1
out_has '^deleted vswitch vs1$'
ok GET /v1/vswitches 200
[ "$(json '.vswitches | length')" = 0 ] || fail "left: $BODY"
mig 4 vswitch delete vs1
err_has "404 unknown_vswitch"
# The VMs stay, and may be a port of a new switch.
mig 0 vswitch create vs9 --tenant other --vni 100 --controller "$CTL" \
    --port vm2=7
out_has '^ +7 +vm2 '
# Its controller reconnects to it and again adds "in_port=1 -> output:2":
# port 1 is not in this switch (BAD_MATCH, BAD_VALUE).
eventually "the refusal of port 1" \
    grep -q '"err_type": 4, "err_code": 7' "$T/tenant.log"
echo "PASS: test_cli_vswitch"
