#!/usr/bin/env bash
# test_node_lifecycle.sh: a node's lifecycle through the real `mignet` CLI
# and HTTP against a real mignetd (loopback, a real SQLite file): cordon
# refuses new placements, drain gives every VM a target (given or the
# least-loaded node) and shows progress while the VMs are moved, the
# state survives kill -9, delete is refused while the node is busy, and
# --force drops a dead node's pending cleanups (logged).
source "$(dirname "$0")/lib.sh"

MIGNET=$MIGNET_BUILD_DIR/mignet
[ -x "$MIGNET" ] || fail "no mignet at $MIGNET"

# cli WANT ARGS...: runs mignet against $URL; its exit code must be WANT.
cli() {
    local want=$1; shift
    local rc=0
    "$MIGNET" --url "$URL" "$@" >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" = "$want" ] || fail "mignet $* -> $rc, want $want:
$(cat "$T/out" "$T/err")"
}
out_has() {
    grep -Eq -- "$1" "$T/out" || fail "stdout lacks /$1/: $(cat "$T/out")"
}
err_has() {
    grep -Eq -- "$1" "$T/err" || fail "stderr lacks /$1/: $(cat "$T/err")"
}

# A long deletion delay: a cleanup stays pending until the test ends it.
FLAGS=(--prepare-timeout-ms 300 --delay-floor-ms 60000
       --delay-ceiling-ms 60000)
start_mignetd nodes "${FLAGS[@]}"
for n in 1 2 3 4; do
    cli 0 node add "n$n" --address "198.18.0.$n"
done
for v in 1 2 3; do
    cli 0 vm create "vm$v" --mac "02:00:00:00:00:0$v" --ip "198.18.1.$v" \
        --vni 100 --node n1
done
cli 0 vm create vm9 --mac 02:00:00:00:00:09 --ip 198.18.1.9 --vni 100 \
    --node n2

# ---- Cordon: no new VM, no migration to it; uncordon lifts it ----
cli 0 node cordon n4
out_has '^state: +cordoned$'
cli 4 vm create vm8 --mac 02:00:00:00:00:08 --ip 198.18.1.8 --vni 100 \
    --node n4
err_has '409 node_cordoned'
cli 4 vm migrate vm9 --to n4
err_has '409 node_cordoned'
ok GET /v1/vms/vm8 404
cli 0 node uncordon n4
out_has '^state: +active$'
cli 0 node cordon n4

# ---- Refusals over HTTP change nothing ----
ok POST /v1/nodes/nx/cordon 404 '{}'
[ "$(json .error.code)" = unknown_node ] || fail "cordon nx: $BODY"
ok POST /v1/nodes/n1/cordon 422 '{"now":true}'
[ "$(json .error.code)" = unknown_field ] || fail "cordon body: $BODY"
ok POST /v1/nodes/n1/drain 404 '{"targets":{"nope":"n2"}}'
[ "$(json .error.code)" = unknown_vm ] || fail "drain vm: $BODY"
ok POST /v1/nodes/n1/drain 404 '{"targets":{"vm1":"nope"}}'
[ "$(json .error.code)" = unknown_node ] || fail "drain node: $BODY"
ok POST /v1/nodes/n1/drain 422 '{"targets":["n2"]}'
[ "$(json .error.code)" = invalid_type ] || fail "drain type: $BODY"
ok POST /v1/nodes/n1/drain 400 '{"targets":'
ok GET /v1/nodes/n1/drain 405
ok DELETE "/v1/nodes/n3?force=maybe" 400
[ "$(json .error.code)" = bad_query ] || fail "force: $BODY"
ok GET /v1/nodes 200
[ "$(json '[.nodes[] | .state] | unique | join(",")')" = active,cordoned ] \
    || fail "a refusal changed a node: $BODY"
[ "$(json '[.nodes[] | select(.state == "cordoned") | .id] | join(",")')" \
    = n4 ] || fail "cordoned: $BODY"

# ---- Drain n1: vm3 given to n2, the others to the least-loaded node ----
cli 2 node drain n1 --targets vm3
cli 4 node drain n1 --targets vm9=n3
err_has '409 wrong_source'
cli 4 node drain n1 --targets vm3=n4
err_has '409 node_cordoned'
ok GET /v1/nodes/n1 200
[ "$(json '[.state,.cordoned,.drain] | @csv')" = '"active",false,' ] \
    || fail "a refused drain changed n1: $BODY"
cli 0 node drain n1 --targets vm3=n2
out_has '^state: +draining$'
out_has '^drain\.targets\.vm3: +n2$'
ok GET /v1/nodes/n1 200
# n2 holds vm9 and gets vm3 (load 2), n3 none: vm1, vm2 both go to n3.
[ "$(json '[.state,.cordoned,.draining,.drain.vms_left,.drain.complete,
           .drain.targets.vm1,.drain.targets.vm2,.drain.targets.vm3]
           | @csv')" = '"draining",true,true,3,false,"n3","n3","n2"' ] \
    || fail "drain: $BODY"
api GET /metrics
grep -q '^mignet_nodes{state="draining"} 1$' <<<"$BODY" \
    || fail "metrics: $(grep mignet_nodes <<<"$BODY")"
grep -q '^mignet_nodes{state="cordoned"} 1$' <<<"$BODY" \
    || fail "metrics: $(grep mignet_nodes <<<"$BODY")"
grep -q '^mignet_nodes{state="active"} 2$' <<<"$BODY" \
    || fail "metrics: $(grep mignet_nodes <<<"$BODY")"
cli 4 node delete n1
err_has '409 node_busy'
cli 4 node delete n1 --force
err_has '409 node_busy'

# The state survives kill -9 (SQLite, schema 3).
stop_pid "$MIGNETD_PID" 9
start_mignetd nodes "${FLAGS[@]}"
ok GET /v1/nodes/n1 200
[ "$(json '[.state,.drain.targets.vm1,.drain.targets.vm3] | @csv')" \
    = '"draining","n3","n2"' ] || fail "after kill -9: $BODY"
ok GET /v1/nodes/n4 200
[ "$(json .state)" = cordoned ] || fail "n4 after kill -9: $BODY"

# ---- The VM manager moves them; progress counts down ----
left=3
for v in 1 2 3; do
    ok GET /v1/nodes/n1 200
    to=$(json ".drain.targets.vm$v")
    cli 0 vm migrate "vm$v" --to "$to"
    left=$((left - 1))
    ok GET /v1/nodes/n1 200
    [ "$(json '[.drain.vms_left, (.drain.targets | length)] | @csv')" \
        = "$left,$left" ] || fail "progress after vm$v: $BODY"
done
# No agent ever confirms on n1 (a dead node): its cleanups stay pending.
ok GET /v1/nodes/n1 200
[ "$(json '[.state,.vms,.tasks,.drain.tasks_left,.drain.complete]
           | @csv')" = '"draining",0,3,3,false' ] || fail "empty: $BODY"
cli 4 node delete n1
err_has '409 node_busy'
cli 0 node delete n1 --force
out_has '^deleted node n1$'
ok GET /v1/nodes/n1 404
ok GET /v1/tasks 200
[ "$(json '[.tasks[] | select(.node == "n1")] | length')" = 0 ] \
    || fail "n1's tasks left: $BODY"
[ "$(grep -c 'event=cleanup_dropped node=n1 ' "$T/nodes.log")" = 3 ] \
    || fail "cleanups not logged: $(grep cleanup "$T/nodes.log")"
for m in 1 2 3; do
    ok GET "/v1/migrations/$m" 200
    [ "$(json .phase)" = cleaned ] || fail "migration $m: $BODY"
done

# An empty, idle node goes without --force; a drained node's name can
# be registered again.
cli 0 node drain n4
out_has '^state: +drained$'
cli 0 node delete n4
cli 0 node add n1 --address 198.18.0.1
out_has '^state: +active$'
echo "test_node_lifecycle: ok"
