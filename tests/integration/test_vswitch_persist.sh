#!/usr/bin/env bash
# test_vswitch_persist.sh: tenant virtual switches survive mignetd
# ("Nothing lost", DESIGN; docs/mignetd.md "State").  (1) SQLite: nodes,
# VMs and two switches (one with a datapath_id, one without); a POST
# refused (422 vni_mismatch, 409 vni_in_use) leaves nothing; kill -9 and
# a start on the same state directory show the same switches (id,
# tenant, vni, controller, datapath_id, ports with their VMs and MACs),
# and their VMs are still ports (deleting one is refused); DELETE, kill
# -9, restart: 404, the other switch stays.  (2) The same round trip on
# etcd (--store etcd://, a fresh state directory each start, as another
# replica would), then records written into etcd by hand: a port whose
# VM is gone is left out (and the record rewritten without it); a record
# that does not parse stops the start; a failed commit (etcd gone)
# answers 500, stops mignetd and leaves no switch.  The tenant controllers point at
# a closed 127.0.0.1 port: mignetd keeps dialing, which is fine here.
SRC=${MIGNET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# The answers are checked against docs/api.yaml once it describes them.
grep -q '/v1/vswitches' "$SRC/docs/api.yaml" || API_CHECK=0
source "$(dirname "$0")/lib.sh"

CLOSED=$(free_port) # nothing listens there
CTRL="tcp:127.0.0.1:$CLOSED"

# shape ID: what must survive of switch ID (GET /v1/vswitches/ID).
shape() {
    ok GET "/v1/vswitches/$1" 200
    json '{id, tenant, vni, controller, datapath_id,
           ports: [.ports[] | {port, vm, mac}] | sort_by(.port)}'
}
# shapes: every switch's shape, by id.
shapes() {
    ok GET /v1/vswitches 200
    json '[.vswitches[] | {id, tenant, vni, controller, datapath_id,
           ports: [.ports[] | {port, vm, mac}] | sort_by(.port)}]
          | sort_by(.id)'
}

# populate: two nodes, four VMs, switches vs1 (VNI 300, datapath_id 4660,
# vm1 and vm2) and vs2 (VNI 301, vm4), and two refused POSTs.
populate() {
    ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":500}'
    ok POST /v1/nodes 201 '{"id":"n2","address":"198.18.0.2","refresh_ms":500}'
    local i vni node
    for i in 1 2 3 4; do
        vni=300; node=n1
        [ "$i" = 2 ] && node=n2
        [ "$i" = 4 ] && vni=301
        ok POST /v1/vms 201 "{\"id\":\"vm$i\",\"mac\":\"02:00:00:00:03:0$i\",\
\"ip\":\"198.18.3.$i\",\"vni\":$vni,\"node\":\"$node\"}"
    done
    ok POST /v1/vswitches 201 "{\"id\":\"vs1\",\"tenant\":\"acme\",\
\"vni\":300,\"controller\":\"$CTRL\",\"datapath_id\":4660,\
\"ports\":{\"vm1\":1,\"vm2\":2}}"
    [ "$(json .datapath_id)" = 0x0000000000001234 ] || fail "vs1 datapath_id: $BODY"
    ok POST /v1/vswitches 201 "{\"id\":\"vs2\",\"tenant\":\"globex\",\
\"vni\":301,\"controller\":\"$CTRL\",\"ports\":{\"vm4\":7}}"
    # Refusals: vm3's VNI is 300, not 302; VNI 300 is vs1's.
    ok POST /v1/vswitches 422 "{\"id\":\"vs3\",\"tenant\":\"acme\",\
\"vni\":302,\"controller\":\"$CTRL\",\"ports\":{\"vm3\":1}}"
    [ "$(json .error.code)" = vni_mismatch ] || fail "vs3: $BODY"
    ok POST /v1/vswitches 409 "{\"id\":\"vs4\",\"tenant\":\"acme\",\
\"vni\":300,\"controller\":\"$CTRL\",\"ports\":{\"vm3\":1}}"
    [ "$(json .error.code)" = vni_in_use ] || fail "vs4: $BODY"
}

# round_trip RESTART: populate, then RESTART (a command: kill -9 and a
# start) twice, checking what survives.
round_trip() {
    local restart=$1 before after vs1
    populate
    before=$(shapes)
    vs1=$(shape vs1)
    [ "$(jq length <<<"$before")" = 2 ] || fail "two switches: $before"
    [ "$(jq -r '.[0].ports[1].mac' <<<"$before")" = 02:00:00:00:03:02 ] \
        || fail "vm2's MAC: $before"
    [ "$(jq -r '.[1].datapath_id' <<<"$before")" != null ] \
        || fail "vs2 has no datapath_id: $before"

    $restart
    after=$(shapes)
    [ "$before" = "$after" ] || {
        diff <(echo "$before") <(echo "$after") >&2 || true
        fail "switches changed across kill -9"; }
    [ "$(shape vs1)" = "$vs1" ] || fail "vs1 changed: $(shape vs1)"
    ok GET /v1/vswitches/vs3 404
    ok GET /v1/vswitches/vs4 404
    # vm1 is still a port of vs1; vm3 never became one.
    ok DELETE /v1/vms/vm1 409
    [ "$(json .error.code)" = vm_in_vswitch ] || fail "vm1: $BODY"
    # The restored switch is a real one: its VNI and VMs are still taken.
    ok POST /v1/vswitches 409 "{\"id\":\"vs5\",\"tenant\":\"acme\",\
\"vni\":300,\"controller\":\"$CTRL\",\"ports\":{}}"
    ok POST /v1/vswitches 409 "{\"id\":\"vs1\",\"tenant\":\"acme\",\
\"vni\":303,\"controller\":\"$CTRL\",\"ports\":{}}"

    ok DELETE /v1/vswitches/vs1 204
    ok GET /v1/vswitches/vs1 404
    $restart
    ok GET /v1/vswitches/vs1 404
    [ "$(shapes)" = "$(jq -c '[.[] | select(.id == "vs2")]' <<<"$before" \
                      | jq .)" ] || fail "after DELETE: $(shapes)"
    ok DELETE /v1/vms/vm1 204 # no longer a port
}

# ---- (1) SQLite ----
restart_sqlite() {
    stop_pid "$MIGNETD_PID" 9
    start_mignetd sq --log-level warn
}
start_mignetd sq --log-level warn
round_trip restart_sqlite
stop_pid "$MIGNETD_PID" 15

# ---- (2) etcd ----
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
    [ "$(id -u)" -eq 0 ] && fail "etcd is not installed (scripts/deps.sh test)"
    echo "SKIP (etcd part): etcd is not installed" >&2
    exit 0
fi
source "$(dirname "$0")/etcd_lib.sh"
start_etcd vp
PREFIX=/vp
ETCD_FLAGS=(--log-level warn --store "etcd://$ETCD_ADDR"
            --store-prefix "$PREFIX")
RUN=0
# A new mignetd on a new, empty state directory: the state is in etcd.
restart_etcd() {
    [ -n "${MIGNETD_PID:-}" ] && stop_pid "$MIGNETD_PID" 9
    RUN=$((RUN + 1))
    start_mignetd "etcd$RUN" "${ETCD_FLAGS[@]}"
}
MIGNETD_PID=
restart_etcd
round_trip restart_etcd

etcdctl_() { ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ADDR" "$@"; }
KEY=$(etcdctl_ get --prefix --keys-only "$PREFIX/" | grep '/vswitch/vs2$') \
    || fail "no etcd key for vs2: $(etcdctl_ get --prefix --keys-only "$PREFIX/")"
# The value (docs/ha.md "What is in etcd"): [encoding, first-write
# order, name, the record's bytes in base64].
VAL=$(etcdctl_ get --print-value-only "$KEY")
[ "$(jq -r '.[2]' <<<"$VAL")" = vs2 ] || fail "etcd value: $VAL"
[ "$(jq -r '.[3]' <<<"$VAL" | base64 -d | jq -r .id)" = vs2 ] \
    || fail "vs2's record: $VAL"
SEQ=1000
# put_record NAME JSON: a vswitch record written into etcd by hand.
put_record() {
    SEQ=$((SEQ + 1))
    etcdctl_ put "${KEY%/vs2}/$1" "$(jq -nc --argjson v "$VAL" \
        --argjson s "$SEQ" --arg n "$1" \
        --arg r "$(printf '%s' "$2" | base64 -w0)" \
        '[$v[0], $s, $n, $r]')" >/dev/null
}
# get_record NAME: the bytes of switch NAME's record in etcd.
get_record() {
    etcdctl_ get --print-value-only "${KEY%/vs2}/$1" | jq -r '.[3]' \
        | base64 -d
}

# A port whose VM is gone: left out, logged, and the record rewritten.
stop_pid "$MIGNETD_PID" 9
put_record vs6 "{\"id\":\"vs6\",\"tenant\":\"acme\",\"vni\":300,\
\"controller\":\"$CTRL\",\"ports\":{\"vm2\":2,\"ghost\":3}}"
MIGNETD_PID=
restart_etcd
ok GET /v1/vswitches/vs6 200
[ "$(json '[.ports[].vm] | join(",")')" = vm2 ] || fail "vs6 ports: $BODY"
grep -q 'event=vswitch_port_dropped vswitch=vs6 vm=ghost reason=no_vm' \
    "$T/etcd$RUN.log" || fail "no log line for the dropped port"
rewritten() {
    [ "$(get_record vs6 | jq -c .ports)" = '{"vm2":2}' ]
}
rewritten || fail "vs6's record still has the gone VM: $(get_record vs6)"

# A record that does not parse: the start is refused, nothing served.
stop_pid "$MIGNETD_PID" 9
put_record vs7 '{"id":"vs7","tenant":"acme","vni":"three hundred"}'
RUN=$((RUN + 1))
rc=0
"$MIGNETD" --listen 127.0.0.1:0 --agent-listen 127.0.0.1:0 \
    --state-dir "$T/etcd$RUN" "${ETCD_FLAGS[@]}" >"$T/etcd$RUN.ready" \
    2>>"$T/etcd$RUN.log" || rc=$?
[ "$rc" != 0 ] || fail "mignetd started on a damaged vswitch record"
grep -q 'event=load_failed.*err=vswitch.*vs7' "$T/etcd$RUN.log" \
    || fail "no load_failed line: $(cat "$T/etcd$RUN.log")"
grep -q '^mignetd ready' "$T/etcd$RUN.ready" && fail "it said ready"
etcdctl_ del "${KEY%/vs2}/vs7" >/dev/null

# A failed commit: etcd is gone when a switch is created.  The answer is
# 500 (never 201), mignetd exits, and with etcd back the switch does not
# exist (the one mignetd had begun to add died with it).
MIGNETD_PID=
restart_etcd
ok GET /v1/vswitches/vs6 200
PEER=$(etcdctl_ member list -w json | jq -r '.members[0].peerURLs[0]')
stop_pid "$ETCD_PID" 9
# (The store failing is a 500 docs/api.yaml leaves undocumented.)
API_CHECK=0 api POST /v1/vswitches "{\"id\":\"vs8\",\"tenant\":\"acme\",\
\"vni\":303,\"controller\":\"$CTRL\",\"ports\":{}}"
store_failed_exit
# etcd again, on its data directory and ports.
etcd --name vp --data-dir "$T/etcd-vp" \
    --listen-client-urls "http://$ETCD_ADDR" \
    --advertise-client-urls "http://$ETCD_ADDR" \
    --listen-peer-urls "$PEER" --initial-advertise-peer-urls "$PEER" \
    --initial-cluster "vp=$PEER" --max-txn-ops "$ETCD_MAX_TXN_OPS" \
    --max-request-bytes 33554432 >>"$T/etcd-vp.log" 2>&1 &
ETCD_PID=$!
PIDS+=("$ETCD_PID")
etcd_healthy() {
    curl -sf "http://$ETCD_ADDR/health" | grep -q '"health":"true"'
}
eventually "etcd back" etcd_healthy
MIGNETD_PID=
restart_etcd
ok GET /v1/vswitches/vs8 404
ok GET /v1/vswitches/vs2 200
ok GET /v1/vswitches/vs6 200
echo "PASS"
