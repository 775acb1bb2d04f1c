#!/usr/bin/env bash
# test_api_contract.sh: docs/api.yaml is a valid OpenAPI 3.0 document
# (Debian's openapi-specification JSON schema, jsonschema Draft 4, every
# $ref resolved: check_openapi.py), and the checkers really catch what
# they are for: a stray key from a comma in a flow mapping, a $ref that
# names nothing, a schema that no value can match, and a real answer
# that does not conform (api_validate.py).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${MIGNET_SOURCE_DIR:-$here/../..}
py=/usr/bin/python3
oas=/usr/share/openapi-specification/schemas/v3.0/schema.json
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -f "$oas" ] || fail "no $oas (scripts/deps.sh test: openapi-specification)"
"$py" -c 'import jsonschema, yaml' \
    || fail "python3-jsonschema and python3-yaml are needed (scripts/deps.sh test)"

T=$(mktemp -d "${TMPDIR:-/tmp}/mignet-contract.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

# The document itself.
"$py" "$here/check_openapi.py" "$src/docs/api.yaml" "$oas" >"$T/out" 2>&1 \
    || { cat "$T/out" >&2; fail "docs/api.yaml does not validate"; }
grep -q '^.*: valid OpenAPI 3\.0\.[0-9]*: [0-9]* paths' "$T/out" \
    || fail "no verdict: $(cat "$T/out")"
cat "$T/out"

# broken NAME SED WHY: a copy of api.yaml edited by SED must be refused,
# with WHY (a grep pattern) in the checker's output.
broken() {
    local name=$1 expr=$2
    sed "$expr" "$src/docs/api.yaml" >"$T/$name.yaml"
    cmp -s "$T/$name.yaml" "$src/docs/api.yaml" \
        && fail "$name: the edit changed nothing"
    if "$py" "$here/check_openapi.py" "$T/$name.yaml" "$oas" \
        >"$T/$name.out" 2>&1; then
        fail "$name: a broken api.yaml passed"
    fi
    grep -q "$3" "$T/$name.out" \
        || fail "$name: not refused for '$3': $(cat "$T/$name.out")"
}
# A description with a comma, unquoted, in a flow mapping: a stray key
# (the bug that made swagger-cli and redocly refuse the file).
broken comma 's|description: "Overlay VNI, 0 = none"}|description: Overlay VNI, 0 = none}|' \
    'OpenAPI 3.0 schema: /components/schemas/Config'
broken ref 's|#/components/schemas/Binding"|#/components/schemas/Bindingz"|' \
    'Bindingz does not resolve'
broken dupkey '0,/^    Node:$/s|^    Node:$|    Node:\n      type: object|' \
    "duplicate key 'type'"
broken version 's|^openapi: 3.0.3|openapi: 2.0|' 'schema: /openapi'
broken status 's|^        "200":$|        "2000":|' "'2000' does not match"
broken opid 's|operationId: getVm$|operationId: listVms|' "operationId 'listVms' used twice"
# A schema no answer can match: allOf parts typing one property twice.
broken types 's|^            node: {$ref: "#/components/schemas/Id"}$|&\n            mac: {type: integer}|' \
    "allOf parts give 'mac' the types"

# The answer checker: a conforming and a non-conforming answer.
printf '{"status":"ok","map_version":3,"tasks_pending":0,"agents_connected":1}' \
    >"$T/healthz"
"$py" "$here/api_validate.py" "$src/docs/api.yaml" GET /healthz 200 \
    "$T/healthz" application/json || fail "a conforming answer was refused"
printf '{"status":"ok","map_version":"3","tasks_pending":0,"agents_connected":1}' \
    >"$T/healthz"
if "$py" "$here/api_validate.py" "$src/docs/api.yaml" GET /healthz 200 \
    "$T/healthz" application/json >"$T/v.out"; then
    fail "a string map_version passed"
fi
grep -q "map_version" "$T/v.out" || fail "no reason: $(cat "$T/v.out")"
# A task's migration must be an integer or null, never 0 for "none"...
printf '{"tasks":[{"id":1,"vm":"vm1","node":"n1","epoch":1,"kind":"lease","due_unix_ms":5,"migration":null,"relay_target":null}],"next":null}' \
    >"$T/tasks"
"$py" "$here/api_validate.py" "$src/docs/api.yaml" GET /v1/tasks 200 \
    "$T/tasks" || fail "a lease task was refused"
# ... an undocumented field, status or an HTML error page are caught.
printf '{"tasks":[],"next":null,"extra":1}' >"$T/extra"
if "$py" "$here/api_validate.py" "$src/docs/api.yaml" GET /v1/tasks 200 \
    "$T/extra" >/dev/null; then
    fail "an undocumented member passed"
fi
printf '{"tasks":[],"next":null}' >"$T/ok"
if "$py" "$here/api_validate.py" "$src/docs/api.yaml" GET /v1/tasks 201 \
    "$T/ok" >/dev/null; then
    fail "an undocumented status passed"
fi
printf '<HTML><BODY>501</BODY></HTML>' >"$T/html"
if "$py" "$here/api_validate.py" "$src/docs/api.yaml" FOO /v1/tasks 501 \
    "$T/html" text/html >/dev/null; then
    fail "an HTML error page passed"
fi
# Documented headers: a VM's GET without its ETag, a 405 without Allow.
printf '{"error":{"code":"method_not_allowed","message":"m"}}' >"$T/err405"
"$py" "$here/api_validate.py" "$src/docs/api.yaml" DELETE /v1/vms 405 \
    "$T/err405" application/json content-type,allow \
    || fail "a 405 with Allow was refused"
if "$py" "$here/api_validate.py" "$src/docs/api.yaml" DELETE /v1/vms 405 \
    "$T/err405" application/json content-type >"$T/v.out"; then
    fail "a 405 without Allow passed"
fi
printf '{"error":{"code":"unknown_vm","message":"m"}}' >"$T/err404"
"$py" "$here/api_validate.py" "$src/docs/api.yaml" GET /v1/vms/vm1/binding \
    404 "$T/err404" application/json content-type \
    || fail "a 404 was refused"
if "$py" "$here/api_validate.py" "$src/docs/api.yaml" GET /v1/vms/vm1/binding \
    200 "$T/err404" application/json content-type >"$T/v.out"; then
    fail "a binding's 200 without ETag (and not a binding) passed"
fi
grep -q "ETag missing" "$T/v.out" || fail "no ETag reason: $(cat "$T/v.out")"
echo "PASS: the contract validates and its checkers catch mistakes"
