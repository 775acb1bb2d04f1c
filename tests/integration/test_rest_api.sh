#!/usr/bin/env bash
# test_rest_api.sh: the northbound API's successful paths over real HTTP to
# a real mignetd: every endpoint's answer shape and values, PATCH and
# DELETE semantics, the gateway's incremental answers and a node's poll
# counting as its acknowledgement and refresh, Location headers, /metrics.
source "$(dirname "$0")/lib.sh"

start_mignetd api --prepare-timeout-ms 1500 --delay-floor-ms 300 \
    --delay-ceiling-ms 300

ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":1000}'
[ "$(json '[.id,.address,.refresh_ms,.state,.cordoned,.draining,.drain,
           .connected,.vms] | @csv')" \
    = '"n1","198.18.0.1",1000,"active",false,false,,false,0' ] \
    || fail "node: $BODY"
grep -qi '^Location: /v1/nodes/n1' "$T/headers" || fail "no Location"
ok POST /v1/nodes 201 '{"id":"n2","address":"2001:db8::2"}'
[ "$(json .refresh_ms)" = 2000 ] || fail "default refresh: $BODY"
ok POST /v1/nodes 201 '{"id":"n3","address":"198.18.0.3","refresh_ms":50}'
ok GET /v1/nodes 200
[ "$(json '[.nodes[].id] | sort | join(",")')" = n1,n2,n3 ] \
    || fail "nodes: $BODY"

ok POST /v1/vms 201 '{"id":"vm1","mac":"02:AA:00:00:00:01","ip":"198.18.1.1","vni":100,"node":"n1","port":3}'
[ "$(json '[.id,.node,.mac,.ip,.vni,.vlan,.port,.binding,.epoch] | @csv')" \
    = '"vm1","n1","02:aa:00:00:00:01","198.18.1.1",100,0,3,,1' ] \
    || fail "vm: $BODY"
ok POST /v1/vms 201 '{"id":"vm2","mac":"02:00:00:00:00:02","ip":"198.18.1.2","vlan":42,"node":"n2","iface_id":"5a9c1f0e-3b7d-4e2a-9f61-0c8d2b4e7a13"}'
[ "$(json .iface_id)" = 5a9c1f0e-3b7d-4e2a-9f61-0c8d2b4e7a13 ] \
    || fail "iface_id: $BODY"
ok GET /v1/vms/vm1 200
[ "$(json .iface_id)" = vm1 ] || fail "default iface_id: $BODY"
api PATCH /v1/vms/vm2 '{"iface_id":"other"}'
[ "$STATUS/$(json .error.code)" = 422/immutable_field ] \
    || fail "iface_id patched: $STATUS $BODY"
api POST /v1/vms '{"id":"vm9","mac":"02:00:00:00:00:09","vni":1,"node":"n2","iface_id":"not valid"}'
[ "$STATUS" = 422 ] || fail "bad iface_id: $STATUS $BODY"
ok GET /v1/map 200
v0=$(json .version)
[ "$(json '.full')/$(json '.entries | length')" = true/2 ] \
    || fail "full map: $BODY"

# PATCH replaces only what it names.
ok PATCH /v1/vms/vm1 200 '{"ip":"198.18.1.11","vlan":7}'
[ "$(json '[.mac,.ip,.vni,.vlan,.port,.binding,.epoch] | @csv')" \
    = '"02:aa:00:00:00:01","198.18.1.11",100,7,3,,1' ] \
    || fail "patched: $BODY"

# Migrate with an explicit source; the migration relays, then cleans.
ok POST /v1/vms/vm1/migrate 202 '{"to":"n3","from":"n1"}'
mig=$(json .migration)
[ "$(json .epoch)" = 2 ] || fail "epoch: $BODY"
[ "$(json .delay_ms)" = 300 ] || fail "delay: $BODY"
grep -qi "^Location: /v1/migrations/$mig" "$T/headers" || fail "Location"
ok GET "/v1/migrations/$mig" 200
[ "$(json '[.vm,.from,.to,.epoch,.phase] | @csv')" \
    = '"vm1","n1","n3",2,"preparing"' ] || fail "migration: $BODY"
[ "$(json '.started_unix_ms > 1600000000000')" = true ] \
    || fail "started: $BODY"
ok GET /v1/tasks 200
[ "$(json '[.tasks[] | .kind] | sort | join(",")')" = delete,prepare_timeout ] \
    || fail "tasks: $BODY"
[ "$(json '.tasks[] | select(.kind=="delete") | [.vm,.node,.epoch,.relay_target] | @csv')" \
    = '"vm1","n1",1,"n3"' ] || fail "delete task: $BODY"
for _ in $(seq 1 150); do
    api GET "/v1/migrations/$mig"
    [ "$(json .phase)" = cleaning ] && break
    sleep 0.05
done
# No agent confirmed the switch-over either: it went on after the prepare
# timeout, degraded, and an operator is warned.
[ "$(json .degraded)" = true ] || fail "not degraded: $BODY"
grep -q 'level=warn comp=core event=migration id=1 phase=relaying .*degraded=1' \
    "$T/api.log" || fail "no warning for a degraded migration"
# No agent runs here: the deletion was sent, but nobody confirmed it, so
# the migration is cleaning, never cleaned.
[ "$(json .phase)" = cleaning ] || fail "not cleaning: $BODY"
[ "$(json '.cleaning_unix_ms - .relaying_unix_ms >= 300')" = true ] \
    || fail "deleted early: $BODY"
[ "$(json .cleaned_unix_ms)" = null ] || fail "cleaned unconfirmed: $BODY"
ok GET /v1/vms/vm1 200
[ "$(json '[.node,.epoch,.migration,.pending_tasks] | @csv')" \
    = "\"n3\",2,$mig,0" ] || fail "vm1 after: $BODY"

# The gateway: only what changed since v0 (vm1's move; its patch was
# not a move), then a removal shows up as such.
ok GET "/v1/map?since=$v0" 200
[ "$(json '.full')" = false ] || fail "incremental: $BODY"
[ "$(json '[.entries[] | .vm] | join(",")')" = vm1 ] || fail "since: $BODY"
[ "$(json '.entries[0] | [.node,.address,.epoch,.ip] | @csv')" \
    = '"n3","198.18.0.3",2,"198.18.1.11"' ] || fail "entry: $BODY"
v1=$(json .version)
ok DELETE /v1/vms/vm2 204
[ -z "$BODY" ] || fail "204 with a body: $BODY"
ok GET "/v1/map?since=$v1" 200
[ "$(json '.entries[0] | [.vm,.removed] | @csv')" = '"vm2",true' ] \
    || fail "removal: $BODY"
[ "$(json '.entries[0] | has("node")')" = false ] || fail "removed: $BODY"
v=$(json .version)
ok GET /v1/vms/vm2 404

# A node's poll acknowledges 'since' and counts as a refresh only with
# the node's token (Authorization: Bearer); without it, or with another
# node's, it is a plain read that changes nothing.
ok GET "/v1/map?since=$v&node=n3" 200
API_HEADERS=(-H "Authorization: Bearer $(token n1)")
ok GET "/v1/map?since=$v&node=n3" 200
ok GET /v1/nodes/n3 200
[ "$(json '.refresh.count')" = 0 ] || fail "poll without n3's token: $BODY"
API_HEADERS=(-H "Authorization: Bearer $(token n3)")
ok GET "/v1/map?since=$v&node=n3" 200
API_HEADERS=()
ok GET /v1/nodes/n3 200
[ "$(json '[.map_version, .refresh.count] | @csv')" = "$v,1" ] \
    || fail "poll not counted: $BODY"
# The next sample only past the refresh floor (100 ms).
sleep 0.15
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -H 'X-Mignet-Node: n3' \
         -H "Authorization: Bearer $(token n3)" "$URL/v1/map?since=$v")
[ "$STATUS" = 200 ] || fail "header poll: $STATUS"
ok GET /v1/nodes/n3 200
[ "$(json '.refresh.count')" = 2 ] || fail "header poll not counted: $BODY"

# Removing nodes: empty -> 204; with a VM -> 409 node_busy, forced or
# not, and nothing changes (test_node_lifecycle.sh has the rest).
ok DELETE /v1/nodes/n2 204
ok GET /v1/nodes/n2 404
ok DELETE /v1/nodes/n3 409
[ "$(json .error.code)" = node_busy ] || fail "node_busy: $BODY"
ok DELETE "/v1/nodes/n3?force=true" 409
ok GET /v1/nodes/n3 200
[ "$(json '[.state,.vms] | @csv')" = '"active",1' ] || fail "n3: $BODY"

ok GET /healthz 200
[ "$(json '[.status,.tasks_pending] | @csv')" = '"ok",0' ] \
    || fail "healthz: $BODY"
api GET /metrics
[ "$STATUS" = 200 ] || fail "metrics $STATUS"
case "$CTYPE" in text/plain*) ;; *) fail "metrics type $CTYPE" ;; esac
grep -q '^mignet_migrations{phase="cleaning"} 1$' <<<"$BODY" \
    || fail "cleaning count missing"
grep -q '^mignet_api_requests_total{code="201"} 5$' <<<"$BODY" \
    || fail "201 count: $(grep api_requests <<<"$BODY")"
grep -q '^mignet_deletion_delay_seconds_count 1$' <<<"$BODY" \
    || fail "delay histogram"
echo "test_rest_api: ok"
