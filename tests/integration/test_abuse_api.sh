#!/usr/bin/env bash
# test_abuse_api.sh: the northbound API as an attacker would try it.  A
# real mignetd serves HTTPS (a throwaway certificate made here with the
# openssl CLI) with bearer tokens: without a token, or with a wrong one,
# every route but /healthz answers 401; a reader cannot change anything,
# a vmm can create and migrate VMs but not touch nodes, an admin can; no
# refused request changes the state.  The CLI works over https with
# --token/--cacert and refuses an untrusted or misnamed certificate.
# Secure by default: a non-loopback listener without TLS and tokens is
# refused before anything is bound; a bad token file stops the start.
source "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || fail "the openssl CLI is needed"
MIGNET=$MIGNET_BUILD_DIR/mignet
[ -x "$MIGNET" ] || fail "no mignet at $MIGNET"

# cert NAME SAN: a self-signed certificate $T/NAME.pem, key $T/NAME.key.
cert() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$1" \
        -keyout "$T/$1.key" -out "$T/$1.pem" -addext "subjectAltName=$2" \
        2>/dev/null || fail "openssl req $1"
}
cert api "DNS:localhost,IP:127.0.0.1"
cert other "DNS:other.example"

ADMIN=mgnadm_$(openssl rand -hex 16)
VMM=mgnvmm_$(openssl rand -hex 16)
READER=mgnrd_$(openssl rand -hex 16)
cat >"$T/tokens" <<EOF
# role token name
admin  $ADMIN ops
vmm    $VMM   libvirt-hook
reader $READER
EOF
chmod 600 "$T/tokens"

# ---- A token file that is readable by others, or bad, stops the start.
cp "$T/tokens" "$T/tokens-open"
chmod 644 "$T/tokens-open"
must_refuse "a world-readable token file" \
    "$T/tokens-open: group or others may access it" \
    --listen 127.0.0.1:0 --agent-listen 127.0.0.1:0 \
    --api-tokens "$T/tokens-open"
printf 'admin %s\nroot %s\n' "$ADMIN" "$VMM" >"$T/tokens-bad"
chmod 600 "$T/tokens-bad"
must_refuse "an unknown role" "$T/tokens-bad:2: unknown role 'root'" \
    --listen 127.0.0.1:0 --agent-listen 127.0.0.1:0 \
    --api-tokens "$T/tokens-bad"
must_refuse "a key that does not load" "cannot load key" \
    --listen 127.0.0.1:0 --agent-listen 127.0.0.1:0 \
    --api-tls-cert "$T/api.pem" --api-tls-key "$T/tokens"

# ---- Secure by default: refused before any socket is bound (the ports
# below are never listened on: the check comes first).
must_refuse "--listen 0.0.0.0 without TLS and tokens" \
    "--listen 0.0.0.0:18250 is not a loopback address" \
    --listen 0.0.0.0:18250 --agent-listen 127.0.0.1:0
must_refuse "--listen 0.0.0.0 with TLS but no tokens" "(or --insecure)" \
    --listen 0.0.0.0:18250 --agent-listen 127.0.0.1:0 \
    --api-tls-cert "$T/api.pem" --api-tls-key "$T/api.key"
must_refuse "--agent-listen 0.0.0.0 without --agent-tls-cert" \
    "--agent-listen 0.0.0.0:18251 is not a loopback address" \
    --listen 127.0.0.1:0 --agent-listen 0.0.0.0:18251
[ "$(grep -c . "$T/refused.err")" -eq 1 ] ||
    fail "the refusal is not one line: $(cat "$T/refused.err")"

# ---- Loopback without tokens: open, with one warning at start.
start_mignetd open
ok GET /v1/nodes 200
[ "$(grep -c 'event=api_open' "$T/open.log")" -eq 1 ] ||
    fail "no single api_open warning: $(cat "$T/open.log")"
grep 'event=api_open' "$T/open.log" | grep -q 'level=warn' ||
    fail "api_open is not at warn"
stop_pid "$MIGNETD_PID" TERM

# ---- HTTPS with tokens.
start_mignetd api --prepare-timeout-ms 600000 \
    --api-tls-cert "$T/api.pem" --api-tls-key "$T/api.key" \
    --api-tokens "$T/tokens"
URL=${URL/http:/https:}
grep -q 'event=api_auth tokens=3 tls=1' "$T/api.log" ||
    fail "no api_auth line: $(cat "$T/api.log")"
! grep -q 'event=api_open' "$T/api.log" || fail "api_open with tokens"

# req TOKEN METHOD PATH [BODY]: one HTTPS request verified against the
# throwaway CA; sets STATUS, BODY and $T/headers.  TOKEN "" sends none.
req() {
    local tok=$1 method=$2 path=$3
    local args=(-s --cacert "$T/api.pem" -o "$T/body" -D "$T/headers"
                -w '%{http_code}' -X "$method")
    [ -z "$tok" ] || args+=(-H "Authorization: Bearer $tok")
    if [ $# -ge 4 ]; then
        args+=(-H 'Content-Type: application/json' --data-binary "$4")
    fi
    STATUS=$(curl "${args[@]}" "$URL$path") || fail "curl $method $path"
    BODY=$(cat "$T/body")
}
# want TOKEN STATUS METHOD PATH [BODY]: the request answers STATUS; a 401
# or 403 is a JSON error with its code (and 401 a Bearer challenge).
want() {
    local tok=$1 st=$2; shift 2
    req "$tok" "$@"
    [ "$STATUS" = "$st" ] ||
        fail "$1 $2 with '${tok:0:6}' -> $STATUS, want $st: $BODY"
    case $st in
    401)
        [ "$(json .error.code)" = unauthorized ] || fail "401 body: $BODY"
        grep -qi '^WWW-Authenticate: Bearer' "$T/headers" ||
            fail "401 without WWW-Authenticate: Bearer on $1 $2"
        ;;
    403)
        [ "$(json .error.code)" = forbidden ] || fail "403 body: $BODY"
        ;;
    esac
}

N1='{"id":"n1","address":"198.18.0.1","refresh_ms":1000}'
N2='{"id":"n2","address":"198.18.0.2","refresh_ms":1000}'
VM1='{"id":"vm1","mac":"02:00:00:00:00:01","ip":"198.18.1.1","vni":100,"node":"n1"}'
VM2='{"id":"vm2","mac":"02:00:00:00:00:02","ip":"198.18.1.2","vni":100,"node":"n1"}'

# Plain HTTP on the TLS port gets nothing.
if curl -s -m 5 -o /dev/null "${URL/https:/http:}/healthz"; then
    fail "plain HTTP answered on the HTTPS listener"
fi
want "" 200 GET /healthz

# Every route without a token, and with a wrong one: 401, even unknown
# paths (no token, no map of the API).
WRONG=${ADMIN%?}x
for tok in "" "$WRONG" "short"; do
    want "$tok" 401 POST /v1/nodes "$N1"
    want "$tok" 401 DELETE /v1/nodes/n1
    want "$tok" 401 POST /v1/nodes/n1/cordon
    want "$tok" 401 POST /v1/nodes/n1/uncordon
    want "$tok" 401 POST /v1/nodes/n1/drain
    want "$tok" 401 POST /v1/vms "$VM1"
    want "$tok" 401 DELETE /v1/vms/vm1
    want "$tok" 401 POST /v1/vms/vm1/migrate '{"to":"n2"}'
    want "$tok" 401 PUT /v1/vms/vm1/binding '{"ip":"198.18.1.1"}'
    want "$tok" 401 DELETE /v1/vms/vm1/binding
    want "$tok" 401 POST /v1/migrations/1/switchover
    want "$tok" 401 POST /v1/migrations/1/abort
    for p in /v1/nodes /v1/nodes/n1 /v1/vms /v1/vms/vm1 /v1/migrations/1 \
        /v1/tasks /v1/bindings /v1/map /v1/fabric /metrics /v1/nope; do
        want "$tok" 401 GET "$p"
    done
done
# Schemes other than Bearer, and a token with a space, are no token.
STATUS=$(curl -s --cacert "$T/api.pem" -o "$T/body" -w '%{http_code}' \
    -u "admin:$ADMIN" "$URL/v1/nodes")
[ "$STATUS" = 401 ] || fail "Basic auth -> $STATUS"
STATUS=$(curl -s --cacert "$T/api.pem" -o "$T/body" -w '%{http_code}' \
    -H "Authorization: Bearer $ADMIN x" "$URL/v1/nodes")
[ "$STATUS" = 401 ] || fail "two-word bearer -> $STATUS"

# Nothing was created by all that.
want "$READER" 200 GET /v1/nodes
[ "$(json '.nodes | length')" = 0 ] || fail "refused POSTs created: $BODY"

# Roles.
want "$READER" 403 POST /v1/nodes "$N1"
want "$VMM" 403 POST /v1/nodes "$N1"
want "$ADMIN" 201 POST /v1/nodes "$N1"
NODE_TOKEN=$(json '.token // empty')
want "$ADMIN" 201 POST /v1/nodes "$N2"
want "$READER" 403 POST /v1/vms "$VM1"
want "$VMM" 201 POST /v1/vms "$VM1"
want "$ADMIN" 201 POST /v1/vms "$VM2"
want "$READER" 403 PUT /v1/vms/vm1/binding '{"ip":"198.18.1.1"}'
want "$VMM" 201 PUT /v1/vms/vm1/binding '{"ip":"198.18.1.1"}'
MIG='{"to":"n2","switchover":"manual"}'
want "$READER" 403 POST /v1/vms/vm1/migrate "$MIG"
want "$VMM" 202 POST /v1/vms/vm1/migrate "$MIG"
[ "$(json .migration)" = 1 ] || fail "migration id: $BODY"
want "$READER" 403 POST /v1/migrations/1/abort
want "$VMM" 403 POST /v1/nodes/n2/cordon
want "$VMM" 403 DELETE /v1/nodes/n2
want "$VMM" 403 POST /v1/nodes/n1/drain
want "$READER" 403 DELETE /v1/vms/vm2
want "$READER" 200 GET /v1/migrations/1
[ "$(json .state)" != aborted ] || fail "a reader aborted: $BODY"
want "$VMM" 200 POST /v1/migrations/1/abort
want "$VMM" 204 DELETE /v1/vms/vm2
want "$ADMIN" 200 POST /v1/nodes/n2/cordon '{}'
for p in /v1/nodes /v1/vms /v1/tasks /v1/bindings /v1/map /v1/fabric \
    /metrics; do
    want "$READER" 200 GET "$p"
done

# A node's own token (POST /v1/nodes answers it once) reads the gateway
# map and nothing else.
[ -n "$NODE_TOKEN" ] || fail "POST /v1/nodes answered no token"
want "$NODE_TOKEN" 200 GET "/v1/map?node=n1"
want "$NODE_TOKEN" 403 GET /v1/vms
want "$NODE_TOKEN" 403 GET /metrics
want "$NODE_TOKEN" 403 POST /v1/nodes "$N1"
want "$NODE_TOKEN" 403 POST /v1/nodes/n1/token '{}'
NODE_403=4

# The refusals are counted, and the exposition stays clean.
want "$READER" 200 GET /metrics
grep -q '^mignet_api_refused_total{reason="unauthorized"} [1-9]' \
    "$T/body" || fail "no unauthorized count: $(grep refused "$T/body")"
forbidden=$(sed -n 's/^mignet_api_refused_total{reason="forbidden"} //p' \
    "$T/body")
[ "$forbidden" = $((10 + NODE_403)) ] ||
    fail "forbidden count $forbidden, want $((10 + NODE_403))"
if command -v promtool >/dev/null; then
    out=$(promtool check metrics <"$T/body" 2>&1) ||
        fail "promtool: $out"
    [ -z "$out" ] || fail "promtool: $out"
fi

# ---- The CLI over https.
# mig WANT ARGS...: runs mignet; its exit code must be WANT.
mig() {
    local w=$1; shift
    local rc=0
    MIGNET_URL=$URL "$MIGNET" "$@" >"$T/out" 2>"$T/err" || rc=$?
    [ $rc -eq "$w" ] ||
        fail "mignet $* -> $rc, want $w: $(cat "$T/out" "$T/err")"
}
mig 0 --token "$READER" --cacert "$T/api.pem" node list
grep -q '^n1 ' "$T/out" || fail "node list: $(cat "$T/out")"
MIGNET_TOKEN=$VMM mig 0 --cacert "$T/api.pem" vm list
grep -q '^vm1 ' "$T/out" || fail "vm list: $(cat "$T/out")"
MIGNET_TOKEN=$VMM MIGNET_CACERT=$T/api.pem mig 0 vm list
grep -q '^vm1 ' "$T/out" || fail "vm list: $(cat "$T/out")"
# Through a host name too (the certificate names localhost).
mig 0 --url "${URL/127.0.0.1/localhost}" --token "$ADMIN" \
    --cacert "$T/api.pem" node add n3 --address 198.18.0.3
# Without --cacert the self-signed certificate is not trusted.
mig 3 --token "$ADMIN" node list
grep -q 'certificate verify failed' "$T/err" || fail "$(cat "$T/err")"
grep -q -- '--cacert' "$T/err" || fail "no --cacert hint: $(cat "$T/err")"
# A certificate for another name is refused even from a trusted CA file.
mig 3 --token "$ADMIN" --cacert "$T/other.pem" node list
grep -q 'certificate verify failed' "$T/err" || fail "$(cat "$T/err")"
# 401 and 403, said plainly.
mig 4 --cacert "$T/api.pem" node list
grep -q 'controller error 401 unauthorized' "$T/err" || fail "$(cat "$T/err")"
grep -q 'MIGNET_TOKEN' "$T/err" || fail "no token hint: $(cat "$T/err")"
mig 4 --token "$READER" --cacert "$T/api.pem" node add n4 \
    --address 198.18.0.4
grep -q 'controller error 403 forbidden' "$T/err" || fail "$(cat "$T/err")"
mig 2 --token $'bad\ntoken' --cacert "$T/api.pem" node list
# ---- The libvirt hook (the vmm's client) over https with its token.
HOOK=$MIGNET_SOURCE_DIR/contrib/libvirt/qemu
want "$ADMIN" 201 POST /v1/vms \
    '{"id":"vm3","mac":"02:00:00:00:00:03","ip":"198.18.1.3","vni":100,"node":"n1"}'
cat >"$T/vm3.xml" <<'XML'
<domain type='kvm'><name>vm3</name><devices>
  <interface type='bridge'><mac address='02:00:00:00:00:03'/>
    <virtualport type='openvswitch'>
      <parameters interfaceid='vm3'/></virtualport></interface>
</devices></domain>
XML
printf '%s\n' "$VMM" >"$T/hook.token"
printf '%s\n' "$READER" >"$T/hook-reader.token"
chmod 600 "$T/hook.token" "$T/hook-reader.token"
# hook_conf FILE [LINES...]: url, node n3, on-error fail, and LINES.
hook_conf() {
    local f=$1; shift
    printf 'url = %s\nnode = n3\non-error = fail\n' "$URL" >"$f"
    printf '%s\n' "$@" >>"$f"
}
# hook WANT CONF: `vm3 migrate begin` as libvirt runs it; exit WANT.
hook() {
    local rc=0
    env -i PATH="$PATH" LC_ALL=C MIGNET_LIBVIRT_HOOK_CONF="$2" \
        MIGNET_LIBVIRT_HOOK_LOG="$T/hook.log" "$HOOK" vm3 migrate begin - \
        <"$T/vm3.xml" >/dev/null 2>&1 || rc=$?
    [ $rc -eq "$1" ] ||
        fail "hook with $(cat "$2") -> $rc, want $1: $(tail -n 2 "$T/hook.log")"
}
# last_log REGEX: the hook's last log line matches REGEX.
last_log() {
    tail -n 1 "$T/hook.log" | grep -q -- "$1" ||
        fail "hook log lacks '$1': $(tail -n 1 "$T/hook.log")"
}
hook_conf "$T/h-none.conf" "cacert = $T/api.pem"
hook 1 "$T/h-none.conf"
last_log '401'
hook_conf "$T/h-reader.conf" "cacert = $T/api.pem" \
    "token-file = $T/hook-reader.token"
hook 1 "$T/h-reader.conf"
last_log '403'
hook_conf "$T/h-noca.conf" "token-file = $T/hook.token"
hook 1 "$T/h-noca.conf"
last_log 'CERTIFICATE_VERIFY_FAILED'
chmod 644 "$T/hook.token"
hook_conf "$T/h-vmm.conf" "cacert = $T/api.pem" "token-file = $T/hook.token"
hook 0 "$T/h-vmm.conf"
last_log 'group or others may access it'
want "$READER" 200 GET /v1/vms/vm3
[ "$(json .migration)" = null ] || fail "a refused hook migrated: $BODY"
chmod 600 "$T/hook.token"
hook 0 "$T/h-vmm.conf"
want "$READER" 200 GET /v1/vms/vm3
[ "$(json .migration)" != null ] || fail "the hook did not migrate: $BODY"
want "$READER" 200 GET "/v1/migrations/$(json .migration)"
[ "$(json .to)" = n3 ] || fail "hook migration: $BODY"

# Against a server whose certificate names someone else.
stop_pid "$MIGNETD_PID" TERM
start_mignetd other --api-tls-cert "$T/other.pem" \
    --api-tls-key "$T/other.key" --api-tokens "$T/tokens"
URL=${URL/http:/https:}
mig 3 --token "$ADMIN" --cacert "$T/other.pem" node list
grep -q 'hostname mismatch\|IP address mismatch' "$T/err" ||
    fail "no name check: $(cat "$T/err")"
echo "PASS test_abuse_api"
