#!/usr/bin/env bash
# test_api_lists.sh: the API contract's newer parts against a real mignetd
# (loopback): pagination (limit + marker, "next") and filters on every
# list, unknown query parameters refused, GET /v1/migrations, a
# migration's history keeping its node names after the node is removed
# (also across a restart, and when the node's slot is reused), Allow on
# 405, ETag and If-Match (412), the HTTP layer's own errors as JSON (raw
# sockets), and the access log (one line a request, at its own level).
# Every answer received through api() is also checked against
# docs/api.yaml when the test ends (lib.sh).
source "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
start_mignetd lists --prepare-timeout-ms 100 --delay-floor-ms 100 \
    --delay-ceiling-ms 200 --access-log-level info
LOG=$T/lists.log

for n in 1 2 3; do
    ok POST /v1/nodes 201 "{\"id\":\"n$n\",\"address\":\"198.18.0.$n\"}"
done
# vm1, vm2 on n1; vm3..vm5 on n2.
for v in 1 2 3 4 5; do
    node=n2; [ "$v" -le 2 ] && node=n1
    ok POST /v1/vms 201 "{\"id\":\"vm$v\",\"mac\":\"02:00:00:00:00:0$v\",
        \"ip\":\"198.18.1.$v\",\"vni\":100,\"node\":\"$node\"}"
done

# ---- Pagination: pages follow "next" to the whole list, in id order ----
ok GET /v1/vms 200
[ "$(json '[.vms[].id] | join(",")')" = vm1,vm2,vm3,vm4,vm5 ] \
    || fail "whole list: $BODY"
[ "$(json .next)" = null ] || fail "a whole list has a next: $BODY"
pages=() marker=""
for _ in 1 2 3 4; do
    ok GET "/v1/vms?limit=2${marker:+&marker=$marker}" 200
    [ "$(json '.vms | length')" -le 2 ] || fail "limit=2 gave: $BODY"
    pages+=("$(json '[.vms[].id] | join(",")')")
    marker=$(json '.next // empty')
    [ -n "$marker" ] || break
done
[ "${pages[*]}" = "vm1,vm2 vm3,vm4 vm5" ] || fail "pages: ${pages[*]}"
# The marker's item gone: the page still starts after where it was.
ok DELETE /v1/vms/vm3 204
ok GET "/v1/vms?limit=1&marker=vm3" 200
[ "$(json '[.vms[].id] | join(",")')" = vm4 ] || fail "after vm3: $BODY"
[ "$(json .next)" = vm4 ] || fail "next after vm3: $BODY"
ok GET "/v1/nodes?limit=2" 200
[ "$(json '[.nodes[].id] | join(",")'),$(json .next)" = n1,n2,n2 ] \
    || fail "nodes page: $BODY"
ok GET "/v1/nodes?limit=2&marker=n2" 200
[ "$(json '[.nodes[].id] | join(",")'),$(json .next)" = n3,null ] \
    || fail "nodes page 2: $BODY"

# ---- Filters ----
ok GET "/v1/vms?node=n2" 200
[ "$(json '[.vms[].id] | join(",")')" = vm4,vm5 ] || fail "node=n2: $BODY"
ok GET "/v1/vms?node=n3" 200
[ "$(json '.vms | length')" = 0 ] || fail "node=n3: $BODY"

# ---- Unknown or malformed query parameters: 400 JSON, nothing done ----
bad_query() {
    ok "$@"
    [ "$(json .error.code)" = bad_query ] || fail "$1 $2: $BODY"
}
bad_query GET "/v1/vms?colour=red" 400
bad_query GET "/v1/vms?limit=0" 400
bad_query GET "/v1/vms?limit=10001" 400
bad_query GET "/v1/vms?limit=1&limit=2" 400
bad_query GET "/v1/nodes?node=n1" 400
bad_query GET "/v1/migrations?phase=done" 400
bad_query GET "/v1/tasks?marker=vm1" 400
bad_query GET "/v1/vms/vm1?x=1" 400
bad_query GET "/healthz?verbose=1" 400
bad_query POST "/v1/vms?dry_run=1" 400 \
    '{"id":"vm8","mac":"02:00:00:00:00:08","ip":"198.18.1.8","node":"n1"}'
ok GET /v1/vms/vm8 404

# ---- Allow on every 405 ----
allow_is() {
    local got
    got=$(sed -n 's/^[Aa]llow: *\([^\r]*\).*/\1/p' "$T/headers")
    [ "$got" = "$1" ] || fail "Allow: '$got', want '$1'"
}
ok DELETE /v1/vms 405
allow_is "GET, POST"
ok PUT /v1/nodes/n2 405 '{}'
allow_is "GET, DELETE"
ok POST /v1/migrations 405 '{}'
allow_is "GET"
ok GET /v1/vms/vm1/migrate 405
allow_is "POST"

# ---- ETag and If-Match ----
etag() { sed -n 's/^[Ee][Tt]ag: *\([^\r]*\).*/\1/p' "$T/headers"; }
ok GET /v1/vms/vm4 200
E1=$(etag)
[[ "$E1" =~ ^\"[0-9a-f]{16}\"$ ]] || fail "ETag: '$E1'"
ok GET /v1/vms/vm4 200
[ "$(etag)" = "$E1" ] || fail "ETag changed without a change"
# If-None-Match: 304 without a body while the copy is current.
API_HEADERS=(-H "If-None-Match: $E1")
ok GET /v1/vms/vm4 304
[ -z "$BODY" ] && [ "$(etag)" = "$E1" ] || fail "304: '$BODY' $(etag)"
API_HEADERS=(-H 'If-None-Match: "0000000000000000"')
ok GET /v1/vms/vm4 200
[ "$(json .id)" = vm4 ] || fail "If-None-Match other: $BODY"
API_HEADERS=(-H 'If-Match: "0000000000000000"')
ok PATCH /v1/vms/vm4 412 '{"port":7}'
[ "$(json .error.code)" = precondition_failed ] || fail "412: $BODY"
API_HEADERS=()
ok GET /v1/vms/vm4 200
[ "$(json .port),$(etag)" = "0,$E1" ] || fail "a 412 changed the VM: $BODY"
API_HEADERS=(-H "If-Match: \"x\", $E1")
ok PATCH /v1/vms/vm4 200 '{"port":7}'
E2=$(etag)
[ -n "$E2" ] && [ "$E2" != "$E1" ] || fail "PATCH ETag '$E2' (was $E1)"
API_HEADERS=(-H "If-None-Match: $E1")
ok GET /v1/vms/vm4 200
[ "$(json .port),$(etag)" = "7,$E2" ] || fail "after PATCH: $BODY"
API_HEADERS=(-H "If-Match: $E1")
ok PATCH /v1/vms/vm4 412 '{"port":8}'
API_HEADERS=(-H "If-Match: *")
ok PATCH /v1/vms/vm4 200 '{"port":8}'
# No binding yet: If-Match cannot match it, not even "*".
ok PUT /v1/vms/vm5/binding 412 '{"ip":"198.18.1.5"}'
ok GET /v1/vms/vm5/binding 404
API_HEADERS=()
ok PUT /v1/vms/vm5/binding 201 \
    '{"ip":"198.18.1.5","type":"dynamic","lease":3600}'
B1=$(etag)
[ -n "$B1" ] || fail "no ETag on a created binding"
ok GET /v1/vms/vm5/binding 200
[ "$(etag)" = "$B1" ] || fail "binding ETag: $(etag) vs $B1"
API_HEADERS=(-H "If-Match: $B1")
ok PUT /v1/vms/vm5/binding 200 \
    '{"ip":"198.18.1.5","type":"dynamic","lease":7200}'
ok PUT /v1/vms/vm5/binding 412 '{"ip":"198.18.1.5"}'
API_HEADERS=()

# ---- Tasks: a lease has no migration (null, not 0); filters, pages ----
ok GET "/v1/tasks?vm=vm5" 200
[ "$(json '[.tasks[] | "\(.kind):\(.migration)"] | join(",")')" \
    = lease:null ] || fail "lease task: $BODY"
ok PUT /v1/vms/vm4/binding 201 \
    '{"ip":"198.18.1.4","type":"dynamic","lease":600}'
ok GET /v1/tasks 200
all=$(json '[.tasks[].id] | join(",")')
[ "$(json '.tasks | length')" = 2 ] || fail "two leases: $BODY"
ok GET "/v1/tasks?limit=1" 200
first=$(json '.tasks[0].id') next=$(json .next)
[[ "$next" =~ ^[0-9]+\.$first$ ]] || fail "task next '$next'"
ok GET "/v1/tasks?limit=1&marker=$next" 200
[ "$first,$(json '.tasks[0].id')" = "$all" ] || fail "task pages: $BODY"
[ "$(json .next)" = null ] || fail "last task page: $BODY"
ok GET "/v1/tasks?node=n1" 200
[ "$(json '.tasks | length')" = 0 ] || fail "tasks on n1: $BODY"
ok GET "/v1/bindings?vm=vm4" 200
[ "$(json '[.bindings[].vm] | join(",")')" = vm4 ] || fail "bindings: $BODY"

# ---- GET /v1/migrations: newest first, filters, pages ----
ok POST /v1/vms/vm1/migrate 202 '{"to":"n3"}'
ok POST /v1/vms/vm2/migrate 202 '{"to":"n3"}'
ok POST /v1/vms/vm4/migrate 202 '{"to":"n1"}'
ok GET /v1/migrations 200
[ "$(json '[.migrations[].id] | join(",")')" = 3,2,1 ] \
    || fail "newest first: $BODY"
[ "$(json '[.migrations[] | "\(.vm):\(.from):\(.to)"] | join(",")')" \
    = vm4:n2:n1,vm2:n1:n3,vm1:n1:n3 ] || fail "rows: $BODY"
[ "$(json '[.migrations[] | has("plan")] | any')" = false ] \
    || fail "a list row has a plan: $BODY"
ok GET "/v1/migrations?limit=2" 200
[ "$(json '[.migrations[].id] | join(",")'),$(json .next)" = 3,2,2 ] \
    || fail "migrations page: $BODY"
ok GET "/v1/migrations?limit=2&marker=2" 200
[ "$(json '[.migrations[].id] | join(",")'),$(json .next)" = 1,null ] \
    || fail "migrations page 2: $BODY"
ok GET "/v1/migrations?vm=vm2" 200
[ "$(json '[.migrations[].id] | join(",")')" = 2 ] || fail "vm=vm2: $BODY"
ok GET "/v1/migrations?node=n1" 200
[ "$(json '[.migrations[].id] | join(",")')" = 3,2,1 ] \
    || fail "node=n1 (from or to): $BODY"
ok GET "/v1/migrations?node=n3&vm=vm1" 200
[ "$(json '[.migrations[].id] | join(",")')" = 1 ] || fail "n3+vm1: $BODY"
# A migration aborted before its switch-over stays aborted: the phase
# filter finds exactly it; every filter answers only its phase.
ok POST /v1/vms/vm5/migrate 202 '{"to":"n3","switchover":"manual"}'
[ "$(json .migration)" = 4 ] || fail "migration 4: $BODY"
ok POST /v1/migrations/4/abort 200 '{"reason":"test"}'
ok GET "/v1/migrations?phase=aborted" 200
[ "$(json '[.migrations[].id] | join(",")')" = 4 ] || fail "aborted: $BODY"
for ph in preparing prepared relaying cleaning cleaned; do
    ok GET "/v1/migrations?phase=$ph" 200
    [ "$(json "[.migrations[] | .phase == \"$ph\"] | all")" = true ] \
        || fail "phase=$ph: $BODY"
done
past_preparing() {
    api GET "/v1/migrations/$1"
    [ "$(json .phase)" != preparing ]
}
# The prepare timeout (no agents) moves them on.
eventually "migration 1 past preparing" past_preparing 1
eventually "migration 3 past preparing" past_preparing 3

# ---- History keeps node names after the node is removed ----
# vm4 went n2 -> n1; vm1, vm2 left n1.  n1 still holds vm4: move it on.
ok POST /v1/vms/vm4/migrate 202 '{"to":"n2"}'
[ "$(json .migration)" = 5 ] || fail "migration 5: $BODY"
eventually "migration 5 past preparing" past_preparing 5
ok DELETE "/v1/nodes/n1?force=true" 204
ok GET /v1/nodes/n1 404
# A new node may take the removed node's slot: the history must not
# name it instead.
ok POST /v1/nodes 201 '{"id":"n7","address":"198.18.0.7"}'
check_history() {
    ok GET /v1/migrations/1 200
    [ "$(json .from),$(json .to),$(json .vm)" = n1,n3,vm1 ] \
        || fail "migration 1 history: $BODY"
    ok GET /v1/migrations/3 200
    [ "$(json .from),$(json .to)" = n2,n1 ] || fail "migration 3: $BODY"
    ok GET "/v1/migrations?node=n1" 200
    [ "$(json '[.migrations[].id] | join(",")')" = 5,3,2,1 ] \
        || fail "node=n1 after its removal: $BODY"
}
check_history
# ... also once deleted VMs are gone, and across a restart (the store
# keeps the names).
ok DELETE /v1/vms/vm1 204
stop_pid "$MIGNETD_PID" KILL
start_mignetd lists --prepare-timeout-ms 100 --delay-floor-ms 100 \
    --delay-ceiling-ms 200 --access-log-level info
check_history

# ---- The HTTP layer's own errors are JSON (raw sockets) ----
HOSTPORT=${URL#http://}
raw() {
    "$PY" - "$HOSTPORT" "$1" >"$T/raw" <<'EOF'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
out = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
except socket.timeout:
    pass
sys.stdout.write(out.decode("latin-1"))
EOF
}
# raw_is REQUEST STATUS CODE: the answer to REQUEST is STATUS, JSON, with
# error code CODE, and conforms to the contract's Error.
raw_is() {
    raw "$1"
    local status
    status=$(head -1 "$T/raw" | cut -d' ' -f2)
    [ "$status" = "$2" ] || fail "raw '$1' -> $(head -1 "$T/raw"), want $2"
    grep -qi '^content-type: application/json' "$T/raw" \
        || fail "raw '$1': not JSON: $(cat "$T/raw")"
    sed '1,/^\r$/d' "$T/raw" >"$T/raw.body"
    [ "$(jq -r .error.code "$T/raw.body")" = "$3" ] \
        || fail "raw '$1': $(cat "$T/raw.body")"
    local names
    names=$(sed -n '2,/^\r$/s/^\([A-Za-z0-9-]*\):.*/\1/p' "$T/raw" \
            | tr 'A-Z\n' 'a-z,')
    "$PY" "$(dirname "$0")/api_validate.py" "$API_SPEC" \
        "$(printf '%s' "$1" | cut -d' ' -f1)" /v1/nodes "$2" "$T/raw.body" \
        application/json "${names:-,}" \
        || fail "raw '$1': not the contract's Error"
}
raw_is 'GARBAGE\r\n\r\n' 400 bad_request
raw_is 'GET /v1/nodes HTTP/9.9\r\nHost: x\r\n\r\n' 400 bad_request
raw_is 'PROPFIND /v1/nodes HTTP/1.1\r\nHost: x\r\n\r\n' 501 not_implemented
raw_is 'FOO /v1/nodes HTTP/1.0\r\n\r\n' 501 not_implemented
raw_is 'GET /v1/nodes HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n' 400 \
    bad_request
raw_is 'POST /v1/nodes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n' \
    413 too_large
raw_is 'OPTIONS /v1/nodes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' \
    405 method_not_allowed
grep -qi '^allow: GET, POST' "$T/raw" || fail "OPTIONS: no Allow: $(cat "$T/raw")"

# ---- Access log: one line a request, method, route, status, ms ----
access_lines() { grep -c 'event=access .*path="/v1/nodes/n2" ' "$LOG" || true; }
before=$(access_lines)
ok GET /v1/nodes/n2 200
ok PUT /v1/nodes/n2 405 '{}'
ok GET "/v1/nodes/n2?x=1" 400
eventually "three access lines" test "$(access_lines)" -ge $((before + 3))
[ "$(access_lines)" = $((before + 3)) ] || fail "access lines: $(access_lines)"
grep -Eq 'level=info comp=rest event=access method=GET route=node path="/v1/nodes/n2" status=200 ms=[0-9]+\.[0-9]{3}$' "$LOG" \
    || fail "no GET access line: $(grep 'event=access' "$LOG" | tail -3)"
grep -Eq 'event=access method=PUT route=node path="/v1/nodes/n2" status=405 ms=' "$LOG" \
    || fail "no 405 access line"
grep -Eq 'event=access method=GET route=node path="/v1/nodes/n2" status=400 ms=' "$LOG" \
    || fail "no 400 access line"
grep -Eq 'event=access method=GET route=- path="/nowhere" status=404' \
    "$LOG" && fail "an access line before the request"
ok GET /nowhere 404
eventually "the 404's access line" grep -Eq \
    'event=access method=GET route=- path="/nowhere" status=404' "$LOG"
# At the default level (debug) under --log-level info: no access lines.
start_mignetd quiet
ok GET /v1/nodes 200
ok GET /v1/nodes/x 404
grep -q 'event=access' "$T/quiet.log" && fail "access lines at debug shown"
start_mignetd chatty --log-level debug
ok GET /v1/vms 200
eventually "a debug access line" grep -Eq \
    'level=debug comp=rest event=access method=GET route=vms path="/v1/vms" status=200' \
    "$T/chatty.log"

# ---- With tokens: the new list is a reader's, 401 without a token ----
READER=mgnrd_$(openssl rand -hex 16)
printf 'reader %s\n' "$READER" >"$T/tokens"
chmod 600 "$T/tokens"
start_mignetd tokened --api-tokens "$T/tokens"
ok GET /v1/migrations 401
[ "$(json .error.code)" = unauthorized ] || fail "no token: $BODY"
ok GET "/v1/migrations?limit=1" 401
API_HEADERS=(-H "Authorization: Bearer $READER")
ok GET "/v1/migrations?limit=1" 200
[ "$(json '.migrations | length'),$(json .next)" = 0,null ] \
    || fail "reader's list: $BODY"
ok DELETE /v1/migrations 405
allow_is "GET"
API_HEADERS=()
echo "PASS: lists, filters, history names, Allow, ETag, JSON errors, access log"
