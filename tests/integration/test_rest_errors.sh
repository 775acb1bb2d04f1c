#!/usr/bin/env bash
# test_rest_errors.sh: every malformed or invalid northbound request, over
# real HTTP to a real mignetd, gets its status and JSON error code; none
# changes the state (the API shows exactly what it showed before), and the
# daemon still serves afterwards.
source "$(dirname "$0")/lib.sh"

start_mignetd rest --prepare-timeout-ms 600000

# Valid state the bad requests must not disturb.
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":1000}'
ok POST /v1/nodes 201 '{"id":"n2","address":"198.18.0.2","refresh_ms":1000}'
ok POST /v1/nodes 201 '{"id":"n3","address":"198.18.0.3"}'
ok POST /v1/vms 201 \
    '{"id":"vm1","mac":"02:00:00:00:00:01","ip":"198.18.1.1","vni":100,"node":"n1"}'
ok POST /v1/vms 201 \
    '{"id":"vm2","mac":"02:00:00:00:00:02","ip":"198.18.1.2","vlan":10,"node":"n2"}'
ok PUT /v1/vms/vm1/binding 201 '{"ip":"198.18.1.1"}'
ok POST /v1/vms 201 \
    '{"id":"vm3","mac":"02:00:00:00:00:03","ip":"198.18.1.3","vni":100,"node":"n1"}'
# vm2's migration stays prepared (no agents; long prepare timeout).
ok POST /v1/vms/vm2/migrate 202 '{"to":"n1"}'
[ "$(json .migration)" = 1 ] || fail "first migration id: $BODY"

snapshot() {
    local s=""
    for p in /v1/nodes /v1/vms /v1/tasks /v1/migrations/1 /v1/map \
        /v1/bindings; do
        api GET "$p"
        [ "$STATUS" = 200 ] || fail "GET $p -> $STATUS"
        # Node refresh statistics are not state a request may change
        # either, so they stay in.
        s+="$(jq -S . <<<"$BODY")"
    done
    printf '%s' "$s"
}
before=$(snapshot)

big=$T/big.json
{ printf '{"id":"vm9","mac":"02:00:00:00:00:09","ip":"198.18.1.9","node":"n1","x":"'
  head -c 70000 /dev/zero | tr '\0' 'a'
  printf '"}'; } >"$big"

J='application/json'
# method | path | body ("" = none; @file) | content type | status | code
cases=$(cat <<EOF2
POST|/v1/nodes|{"id":"n1","address":"198.18.0.9"}|$J|409|duplicate_node
POST|/v1/nodes|{"id":"n9","address":"nowhere"}|$J|422|invalid_address
POST|/v1/nodes|{"id":"bad id","address":"198.18.0.9"}|$J|422|invalid_name
POST|/v1/nodes|{"id":"n9","address":"198.18.0.9","refresh_ms":0}|$J|422|invalid_value
POST|/v1/nodes|{"id":"n9","address":"198.18.0.9","refresh_ms":"1"}|$J|422|invalid_type
POST|/v1/nodes|{"address":"198.18.0.9"}|$J|422|missing_field
POST|/v1/nodes|{"id":"n9","address":"198.18.0.9","x":1}|$J|422|unknown_field
POST|/v1/nodes|{"id":"n9",|$J|400|bad_json
POST|/v1/nodes|[1,2]|$J|400|bad_json
POST|/v1/nodes||$J|400|bad_json
POST|/v1/nodes|{"id":"n9","address":"198.18.0.9"}|text/plain|415|unsupported_media_type
POST|/v1/nodes|{"id":"n9","address":"198.18.0.9"}|-|415|unsupported_media_type
GET|/v1/nodes/n9|||404|unknown_node
GET|/v1/nodes/bad%20id|||404|unknown_node
PATCH|/v1/nodes/n1|{}|$J|405|method_not_allowed
DELETE|/v1/nodes/n9|||404|unknown_node
POST|/v1/vms|{"id":"vm1","mac":"02:00:00:00:00:01","ip":"198.18.1.1","node":"n1"}|$J|409|duplicate_vm
POST|/v1/vms|{"id":"vm9","mac":"02:00:00:00:00:09","ip":"198.18.1.9","node":"n9"}|$J|404|unknown_node
POST|/v1/vms|{"id":"vm9","mac":"02:00:00:00:00","ip":"198.18.1.9","node":"n1"}|$J|422|invalid_mac
POST|/v1/vms|{"id":"vm9","mac":"01:00:5e:00:00:09","ip":"198.18.1.9","node":"n1"}|$J|422|invalid_mac
POST|/v1/vms|{"id":"vm9","mac":"02:00:00:00:00:09","ip":"198.18.1.256","node":"n1"}|$J|422|invalid_ip
POST|/v1/vms|{"id":"vm9","mac":"02:00:00:00:00:09","ip":"198.18.1.9","node":"n1","vni":16777216}|$J|422|invalid_value
POST|/v1/vms|{"id":"vm9","mac":"02:00:00:00:00:09","ip":"198.18.1.9","node":"n1","vlan":4095}|$J|422|invalid_value
POST|/v1/vms|{"id":"vm9","node":"n1","ip":"198.18.1.9"}|$J|422|missing_field
POST|/v1/vms|{"id":"vm9","mac":"02:00:00:00:00:09","node":"n1","binding":1}|$J|422|immutable_field
PATCH|/v1/vms/vm3|{"binding":1}|$J|422|immutable_field
PATCH|/v1/vms/vm1|{"ip":"198.18.1.77"}|$J|409|address_bound
PUT|/v1/vms/vm9/binding|{"ip":"198.18.1.9"}|$J|404|unknown_vm
GET|/v1/vms/vm3/binding|||404|unknown_binding
DELETE|/v1/vms/vm3/binding|||404|unknown_binding
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.1"}|$J|409|ip_conflict
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3","mac":"02:00:00:00:00:01"}|$J|422|binding_mismatch
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3","node":"n2"}|$J|422|binding_mismatch
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3","vlan":5}|$J|422|binding_mismatch
PUT|/v1/vms/vm3/binding|{}|$J|422|missing_field
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1"}|$J|422|invalid_ip
PUT|/v1/vms/vm3/binding|{"ip":"0.0.0.0"}|$J|422|zero_ip
PUT|/v1/vms/vm3/binding|{"ip":"224.0.0.5"}|$J|422|multicast_ip
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3","mac":"01:00:5e:00:00:01"}|$J|422|multicast_mac
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3","type":"dhcp"}|$J|422|invalid_type
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3","type":"dynamic"}|$J|422|invalid_lease
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3","lease":60}|$J|422|static_lease
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3","lease":-1}|$J|422|invalid_value
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3","lease":true}|$J|422|invalid_type
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3","port_status":"off"}|$J|422|invalid_port_status
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3","port_security":"maybe"}|$J|422|invalid_port_security
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3","port":4294967295}|$J|422|invalid_port
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3","vlan":"1"}|$J|422|invalid_type
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3","server":"255.255.255.255"}|$J|422|invalid_server
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3","origin":"agent"}|$J|422|immutable_field
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3","colour":"red"}|$J|422|unknown_field
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3"|$J|400|bad_json
PUT|/v1/vms/vm3/binding|{"ip":"198.18.1.3"}|text/plain|415|unsupported_media_type
POST|/v1/vms/vm3/binding|{"ip":"198.18.1.3"}|$J|405|method_not_allowed
POST|/v1/bindings|{}|$J|405|method_not_allowed
POST|/v1/vms|@$big|$J|413|too_large
POST|/v1/vms|{"id":"vm9"}|application/xml|415|unsupported_media_type
PUT|/v1/vms|{}|$J|405|method_not_allowed
GET|/v1/vms/vm9|||404|unknown_vm
PATCH|/v1/vms/vm9|{"ip":"198.18.1.9"}|$J|404|unknown_vm
PATCH|/v1/vms/vm1|{}|$J|422|missing_field
PATCH|/v1/vms/vm1|{"node":"n2"}|$J|422|immutable_field
PATCH|/v1/vms/vm1|{"vni":7,"mac":"zz"}|$J|422|invalid_mac
PATCH|/v1/vms/vm1|{"ip":"198.18.1.9"}|text/plain|415|unsupported_media_type
DELETE|/v1/vms/vm9|||404|unknown_vm
POST|/v1/vms/vm9/migrate|{"to":"n2"}|$J|404|unknown_vm
POST|/v1/vms/vm1/migrate|{"to":"n9"}|$J|404|unknown_node
POST|/v1/vms/vm1/migrate|{"to":"n2","from":"n9"}|$J|404|unknown_node
POST|/v1/vms/vm1/migrate|{"to":"n1"}|$J|409|same_node
POST|/v1/vms/vm1/migrate|{"to":"n2","from":"n3"}|$J|409|wrong_source
POST|/v1/vms/vm2/migrate|{"to":"n3"}|$J|409|migration_in_progress
POST|/v1/vms/vm1/migrate|{}|$J|422|missing_field
POST|/v1/vms/vm1/migrate|{"to":"n2"|$J|400|bad_json
POST|/v1/vms/vm1/migrate|{"to":"n2"}|-|415|unsupported_media_type
GET|/v1/vms/vm1/migrate|||405|method_not_allowed
GET|/v1/migrations/99|||404|unknown_migration
GET|/v1/migrations/abc|||404|unknown_migration
GET|/v1/map?since=abc|||400|bad_query
GET|/v1/map?since=1&since=2|||400|bad_query
GET|/v1/map?colour=red|||400|bad_query
GET|/v1/map?since=999999|||422|invalid_version
GET|/v1/map?node=n9|||404|unknown_node
POST|/v1/tasks|{}|$J|405|method_not_allowed
GET|/v2/anything|||404|not_found
GET|/v1/vms/vm1/extra|||404|not_found
EOF2
)

n=0
while IFS='|' read -r method path body ctype status code; do
    [ -n "$method" ] || continue
    if [ -n "$body" ] || [ "$method" = POST ] || [ "$method" = PATCH ] \
        || [ "$method" = PUT ]; then
        api "$method" "$path" "$body" "${ctype:-application/json}"
    else
        api "$method" "$path"
    fi
    [ "$STATUS" = "$status" ] \
        || fail "$method $path $body -> $STATUS, want $status: $BODY"
    [ "$(json .error.code)" = "$code" ] \
        || fail "$method $path $body -> code $(json .error.code), want $code"
    [ "$(json '.error.message | type')" = string ] \
        && [ -n "$(json .error.message)" ] \
        || fail "$method $path: no error message: $BODY"
    case "$CTYPE" in
        application/json*) ;;
        *) fail "$method $path: Content-Type '$CTYPE'" ;;
    esac
    n=$((n + 1))
done <<<"$cases"
[ "$n" -ge 50 ] || fail "only $n cases ran"

# Raw garbage on the HTTP port does not hurt the daemon.
host=${URL#http://}
exec 3<>"/dev/tcp/${host%:*}/${host##*:}"
# In a subshell: a write to a socket the daemon already closed must not
# SIGPIPE the test itself.
(printf 'BLAH /\x01\x02 HTTP/9.9\r\nX: \xff\xfe\r\n\r\n' >&3) 2>/dev/null \
    || true
timeout 5 cat <&3 >/dev/null 2>&1 || true
exec 3<&-

after=$(snapshot)
[ "$before" = "$after" ] || {
    diff <(printf '%s' "$before") <(printf '%s' "$after") >&2 || true
    fail "a refused request changed the state"
}
ok GET /healthz 200
[ "$(json .status)" = ok ] || fail "healthz: $BODY"
api GET /metrics
[ "$STATUS" = 200 ] || fail "metrics: $STATUS"
grep -q '^mignet_api_requests_total{code="422"} ' <<<"$BODY" \
    || fail "no 422 count in /metrics"
kill -0 "$MIGNETD_PID" || fail "mignetd died"
echo "test_rest_errors: $n error cases ok"
