#!/usr/bin/env bash
# test_transfer_learning.sh: mignetd learns a node pair's bandwidth from
# pre-copy transfer reports (POST /v1/transfers) and its plans follow.
#
# The fabric claims 1 Gbit/s between h1 and h4; the reports' rounds say
# the transfers ran at about 100 Mbit/s.  The reports are written by the
# pre-copy model itself (V_1 = memory, T_i = V_i / B with a few percent of
# noise, V_i+1 what T_i of uniform writes dirty, Xen's stop conditions) so
# they look like the engine's.  Checked: the first report's estimate (nominal)
# misses by far, the next one's (learned) by much less, in the answers and
# in /metrics' mignet_transfer_estimate_error_ratio; a migration's plan
# says "learned" and its estimate equals what a second mignetd plans on
# links whose capacity IS the learned goodput (so no number is
# hard-coded here); the list and pairs views paginate; bad bodies are
# refused with the API's errors and change nothing; without a token, or
# with a reader's, POST is refused; `mignet transfer report|list|pairs`
# work; every answer matches docs/api.yaml.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
MIGNET=$MIGNET_BUILD_DIR/mignet

ADMIN=mgnad_$(openssl rand -hex 16)
VMM=mgnvm_$(openssl rand -hex 16)
READER=mgnrd_$(openssl rand -hex 16)
printf 'admin %s\nvmm %s\nreader %s\n' "$ADMIN" "$VMM" "$READER" \
    >"$T/tokens"
chmod 600 "$T/tokens"
as() { API_HEADERS=(-H "Authorization: Bearer $1"); }

cat >"$T/wrong.topo" <<'EOF'
switch s1 dpid=1
host h1 s1:1 1gbit
host h4 s1:2 1gbit
EOF

# report SEED: a report of 128 MiB dirtying 1,000 pages/s over a path that
# really carries 12.5 MB/s (100 Mbit/s), each round's time off by up to
# 3 % (SEED picks the noise).  The writes fall uniformly on the region, as
# the engine's workload does without --hot: a round of T seconds leaves
# M (1 - exp(-D P T / M)) dirty, a page written twice being sent once.
report() {
    python3 - "$1" <<'EOF'
import json, math, random, sys
rng = random.Random(int(sys.argv[1]))
B, M, D, P = 12.5e6, 128 << 20, 1000, 4096
rounds, t, v, sent = [], 0.0, float(M), 0.0
while True:
    ti = v / B * 1000 * rng.uniform(0.97, 1.03)
    rounds.append({"round": len(rounds) + 1, "start_ms": round(t, 3),
                   "t_ms": round(ti, 3), "v_bytes": int(v),
                   "pages": int(v) // P})
    t += ti
    sent += v
    nxt = M * (1 - math.exp(-D * P * ti / 1000 / M))
    if len(rounds) > 1 and (v < 200 * 1024 or len(rounds) >= 30):
        break
    v = nxt
print(json.dumps({"mode": "en", "mem_mb": 128, "dirty_pps": D, "hot": None,
                  "paths": 1, "transport": "tcp", "total_ms": round(t, 3),
                  "downtime_ms": rounds[-1]["t_ms"], "bytes": int(sent),
                  "rounds": len(rounds), "retransmits": 0, "verified": True,
                  "stop": "threshold", "tracking": "uffd-wp",
                  "verify_ms": 2.5, "checked": M // P, "mismatches": 0,
                  "writes": 12345, "faults": 678, "max_rounds": 30,
                  "stop_bytes": 204800, "max_factor": 3.0,
                  "round_list": rounds,
                  "timeline": [{"t_ms": 1.5, "conn": 0, "cwnd": 10,
                                "rtt_us": 200, "total_retrans": 0,
                                "unacked": 3, "notsent": 0}]}))
EOF
}
post() { # REPORT_JSON FROM TO
    api POST /v1/transfers "{\"from\":\"$2\",\"to\":\"$3\",\"report\":$1}"
}
num() { python3 -c "print(float('$1'))"; }
lt() { python3 -c "import sys; sys.exit(0 if float('$1') < float('$2') else 1)"; }

start_mignetd learn --fabric "$T/wrong.topo" --api-tokens "$T/tokens" \
    --fabric-poll-ms 3600000
as "$ADMIN"
ok POST /v1/nodes 201 '{"id":"h1","address":"198.18.0.1"}'
ok POST /v1/nodes 201 '{"id":"h4","address":"198.18.0.4"}'
ok POST /v1/nodes 201 '{"id":"outside","address":"198.18.0.9"}'
as "$VMM"
ok POST /v1/vms 201 '{"id":"vm1","mac":"02:00:00:00:00:01","ip":"198.19.0.1","node":"h1"}'

R1=$(report 1)
R2=$(report 2)
R3=$(report 3)
echo "$R3" >"$T/r3.json"

# ---- Who may post ----
API_HEADERS=()
post "$R1" h1 h4
[ "$STATUS" = 401 ] || fail "no token: $STATUS $BODY"
as "$READER"
post "$R1" h1 h4
[ "$STATUS" = 403 ] || fail "reader: $STATUS $BODY"
ok GET /v1/transfers 200
[ "$(json '.transfers | length')" = 0 ] || fail "refused posts learned: $BODY"

# ---- The first report: the nominal estimate misses ----
as "$VMM"
post "$R1" h1 h4
[ "$STATUS" = 201 ] || fail "report 1: $STATUS $BODY"
[ "$(json .transfer.estimate_before.bandwidth_source)" = nominal ] \
    || fail "first estimate not nominal: $BODY"
[ "$(json .transfer.estimate_before.bandwidth_bps)" = 1000000000 ] \
    || fail "nominal is not the links' 1 Gbit/s: $BODY"
err1=$(json .transfer.estimate_before.error_ratio)
[ "$(json .estimate_after.bandwidth_source),$(json .estimate_after.learned_transfers)" \
    = learned,1 ] || fail "estimate after report 1: $BODY"
# The goodput is the report's own sum V_i / sum T_i of all but the last.
want_goodput=$(python3 -c "import json,sys; r=json.loads(sys.argv[1])['round_list'][:-1];
print(sum(x['v_bytes'] for x in r) / (sum(x['t_ms'] for x in r) / 1000))" "$R1")
python3 -c "import sys; g,w=float(sys.argv[1]),float(sys.argv[2]); sys.exit(abs(g-w) > 1e-6*w)" \
    "$(json .transfer.goodput_Bps)" "$want_goodput" \
    || fail "goodput $(json .transfer.goodput_Bps), want $want_goodput"

# ---- The second: the learned estimate is much closer ----
post "$R2" h1 h4
[ "$STATUS" = 201 ] || fail "report 2: $STATUS $BODY"
[ "$(json .transfer.estimate_before.bandwidth_source),$(json .transfer.estimate_before.learned_transfers)" \
    = learned,1 ] || fail "second estimate not learned: $BODY"
err2=$(json .transfer.estimate_before.error_ratio)
after2_ms=$(json .estimate_after.total_ms)
lt "$err2" "$err1" || fail "error did not shrink: before $err1, after $err2"
lt "$err2" 0.1 || fail "learned estimate still off by $err2"
echo "estimate error: nominal $err1, learned $err2"

api GET /metrics
count() { grep -E "^mignet_transfer_estimate_error_ratio_$1\{source=\"$2\"\}" \
    "$T/body" | awk '{print $2}'; }
[ "$(count count nominal),$(count count learned)" = 1,1 ] \
    || fail "error histogram counts: $(grep transfer_estimate "$T/body")"
[ "$(num "$(count sum nominal)")" = "$(num "$err1")" ] \
    || fail "nominal sum $(count sum nominal) != $err1"
lt "$(count sum learned)" "$(count sum nominal)" \
    || fail "metrics: learned error not below nominal"
grep -q '^mignet_transfers_total 2$' "$T/body" || fail "transfers_total"

# ---- A plan between the pair uses the learned bandwidth ----
ok POST /v1/vms/vm1/migrate 202 \
    '{"to":"h4","memory_mb":128,"dirty_pages_per_s":1000,"switchover":"manual"}'
[ "$(json .plan.bandwidth_source),$(json .plan.learned_transfers)" \
    = learned,2 ] || fail "plan does not use the learned bandwidth: $BODY"
learned_Bps=$(json .plan.learned_bandwidth_Bps)
plan_ms=$(json .plan.estimate.total_ms)
mig=$(json .migration)
"$MIGNET" --url "$URL" --token "$READER" migration show "$mig" >"$T/show"
grep -q '^bandwidth: learned, .* from 2 transfer(s)$' "$T/show" \
    || fail "CLI plan: $(cat "$T/show")"

# What the planner estimates on links that carry exactly that goodput.
rate=$(python3 -c "print(round(float('$learned_Bps') * 8))")
cat >"$T/right.topo" <<EOF
switch s1 dpid=1
host h1 s1:1 ${rate}bit
host h4 s1:2 ${rate}bit
EOF
LEARN_URL=$URL
start_mignetd right --fabric "$T/right.topo" --fabric-poll-ms 3600000
API_HEADERS=()
ok POST /v1/nodes 201 '{"id":"h1","address":"198.18.0.1"}'
ok POST /v1/nodes 201 '{"id":"h4","address":"198.18.0.4"}'
ok POST /v1/vms 201 '{"id":"vm1","mac":"02:00:00:00:00:01","ip":"198.19.0.1","node":"h1"}'
ok POST /v1/vms/vm1/migrate 202 \
    '{"to":"h4","memory_mb":128,"dirty_pages_per_s":1000,"switchover":"manual"}'
[ "$(json .plan.bandwidth_source)" = nominal ] || fail "right: $BODY"
want_ms=$(json .plan.estimate.total_ms)
python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); sys.exit(abs(a-b) > 1e-3*b)" \
    "$plan_ms" "$want_ms" \
    || fail "learned plan estimate $plan_ms ms, the model at that rate says $want_ms ms"
measured=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['total_ms'])" "$R1")
python3 - "$plan_ms" "$measured" "$err1" <<'EOF' || fail "plan did not move toward the reports' total"
import sys
plan, measured, err1 = map(float, sys.argv[1:])
sys.exit(0 if abs(plan - measured) / measured < err1 / 5 else 1)
EOF
echo "plan estimate: $plan_ms ms (model at the learned rate: $want_ms ms, measured $measured ms)"
# The transfers' own estimate takes the report's region as the working
# set (its writes were uniform, no hot set): it is what a plan at the
# learned rate with working_set_mb = memory says, and not what one
# without says (the two differ by several per cent here).
ok POST /v1/vms 201 '{"id":"vm2","mac":"02:00:00:00:00:02","ip":"198.19.0.2","node":"h1"}'
ok POST /v1/vms/vm2/migrate 202 \
    '{"to":"h4","memory_mb":128,"dirty_pages_per_s":1000,"working_set_mb":128,"switchover":"manual"}'
want_ws_ms=$(json .plan.estimate.total_ms)
python3 - "$after2_ms" "$want_ws_ms" "$want_ms" <<'EOF' ||
import sys
after, ws, lin = map(float, sys.argv[1:])
sys.exit(0 if abs(after - ws) <= 1e-3 * ws and abs(lin - ws) > 0.01 * ws else 1)
EOF
    fail "transfer estimate $after2_ms ms, a plan with the working set $want_ws_ms ms, without $want_ms ms"
URL=$LEARN_URL

# ---- Bad bodies: refused, nothing changes ----
as "$VMM"
bad() { # STATUS CODE BODY
    api POST /v1/transfers "$3"
    [ "$STATUS" = "$1" ] && [ "$(json .error.code)" = "$2" ] \
        || fail "want $1 $2 for ${3:0:120}: $STATUS $BODY"
}
with() { # JQ_EXPR on R1's report -> body from h1 to h4
    jq -c "{from: \"h1\", to: \"h4\", report: ($1)}" <<<"$R1"
}
bad 400 bad_json 'not json'
bad 400 bad_json '[1,2]'
bad 400 bad_json "$(with .) trailing"
bad 400 bad_json '{"from":"h1","to":"h4","report":{"total_ms":1e999}}'
bad 422 missing_field '{"from":"h1","to":"h4"}'
bad 422 unknown_field "$(with '. + {extra: 1}')"
bad 422 unknown_field "$(jq -c '{from: "h1", to: "h4", report: ., x: 1}' <<<"$R1")"
bad 404 unknown_node "$(jq -c '{from: "h1", to: "nowhere", report: .}' <<<"$R1")"
bad 422 invalid_value "$(jq -c '{from: "h1", to: "h1", report: .}' <<<"$R1")"
bad 422 invalid_name "$(jq -c '{from: "h 1", to: "h4", report: .}' <<<"$R1")"
bad 422 invalid_value "$(with '.rounds = 99')"
bad 422 invalid_value "$(with '.round_list[0].t_ms = -1')"
bad 422 invalid_type "$(with '.round_list[0].v_bytes = 1.5')"
bad 422 invalid_type "$(with '.mem_mb = "128"')"
bad 422 invalid_value "$(with '.mem_mb = 0')"
bad 422 invalid_value "$(with '.dirty_pps = 1e12')"
bad 422 invalid_value "$(with '.paths = 65')"
bad 422 invalid_value "$(with '.mode = "fast"')"
bad 422 invalid_value "$(with '.downtime_ms = .total_ms + 1')"
bad 422 invalid_value "$(with '.round_list[1].round = 5')"
bad 422 invalid_value "$(with '.round_list[1].start_ms = 0 | .round_list[0].start_ms = 5')"
bad 422 invalid_value "$(with '.round_list |= map(.v_bytes = 0)')"
bad 422 invalid_value \
    "$(with '.rounds = 1001 | .round_list = [range(1001) | {round: (. + 1), start_ms: 0, t_ms: 1, v_bytes: 1, pages: 1}]')"
bad 422 invalid_value "$(with '.timeline[0].cwnd = -1')"
bad 422 not_verified "$(with '.verified = false')"
api POST /v1/transfers "$(with .)" text/plain
[ "$STATUS" = 415 ] || fail "text/plain: $STATUS"
ok GET /v1/transfers 200
[ "$(json '.transfers | length')" = 2 ] || fail "a refused body was learned: $BODY"
ok GET /v1/transfers/pairs 200
[ "$(json '.pairs[0].transfers')" = 2 ] || fail "pair changed: $BODY"

# ---- The CLI ----
"$MIGNET" --url "$URL" --token "$VMM" transfer report "$T/r3.json" \
    --from h1 --to h4 >"$T/cli-report" || fail "transfer report failed"
grep -q '^estimate before: learned ' "$T/cli-report" \
    || fail "CLI report: $(cat "$T/cli-report")"
grep -q '^pair h1 -> h4: learned .* from 3 transfer(s), nominal 1.0 Gbit/s$' \
    "$T/cli-report" || fail "CLI pair: $(cat "$T/cli-report")"
rc=0
"$MIGNET" --url "$URL" --token "$VMM" transfer report "$T/nonexistent" \
    --from h1 --to h4 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "missing file: exit $rc"
echo '{"mode":' >"$T/broken.json"
rc=0
"$MIGNET" --url "$URL" --token "$VMM" transfer report "$T/broken.json" \
    --from h1 --to h4 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "broken file: exit $rc"
"$MIGNET" --url "$URL" --token "$READER" transfer list >"$T/cli-list"
[ "$(grep -c 'h1 -> h4' "$T/cli-list")" = 3 ] || fail "list: $(cat "$T/cli-list")"
head -1 "$T/cli-list" | grep -q '^ *ID  PAIR' || fail "list header: $(cat "$T/cli-list")"
"$MIGNET" --url "$URL" --token "$READER" transfer pairs --node h4 >"$T/cli-pairs"
grep -Eq '^h1  +h4  +3 ' "$T/cli-pairs" || fail "pairs: $(cat "$T/cli-pairs")"

# ---- Lists: newest first, pages, filters ----
as "$READER"
ok GET "/v1/transfers?limit=2" 200
[ "$(json '[.transfers[].id] | join(",")'),$(json .next)" = "3,2,2" ] \
    || fail "page 1: $BODY"
ok GET "/v1/transfers?limit=2&marker=2" 200
[ "$(json '[.transfers[].id] | join(",")'),$(json .next)" = "1,null" ] \
    || fail "page 2: $BODY"
ok GET "/v1/transfers?node=outside" 200
[ "$(json '.transfers | length')" = 0 ] || fail "node filter: $BODY"
ok GET "/v1/transfers?bogus=1" 400
as "$VMM"
post "$R1" h4 h1
[ "$STATUS" = 201 ] || fail "report h4 -> h1: $STATUS $BODY"
[ "$(json .transfer.estimate_before.bandwidth_source)" = nominal ] \
    || fail "h1 -> h4 taught h4 -> h1: $BODY"
as "$READER"
ok GET "/v1/transfers/pairs?node=h1&limit=1" 200
[ "$(json '.pairs[0].from'),$(json '.pairs[0].window_Bps | length'),$(json .next)" \
    = "h1,3,1" ] || fail "pairs page 1: $BODY"
ok GET "/v1/transfers/pairs?node=h1&limit=1&marker=1" 200
[ "$(json '.pairs[0].from'),$(json '.pairs[0].to'),$(json .next)" \
    = "h4,h1,null" ] || fail "pairs page 2: $BODY"
ok GET "/v1/transfers/pairs?marker=h1,h4" 400
ok DELETE /v1/transfers 405
echo "PASS: transfer learning: error $err1 -> $err2, plan $plan_ms ms"
