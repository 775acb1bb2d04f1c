#!/usr/bin/env bash
# test_rest_plan.sh: migration plans through the real mignetd (real HTTP on
# loopback, a real SQLite file, a real topology file; no switch connected,
# so every install fails and says why).  The plan's inputs are validated
# with the API's conventions and a refused request changes nothing; the
# answer and GET /v1/migrations/{id} carry the plan (paths as switch hops,
# the estimate after each step, why the loop stopped, deadline met or
# not); nodes map to fabric hosts by name; `mignet vm migrate --plan` and
# `mignet fabric show` print them; a mignetd without a fabric refuses plan
# fields.  The seed-002 topology is tests/data/seed002.topo: every link
# 500 Mbit/s, hosts on one NIC, so another path never shortens the
# estimate (no_gain).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
: "${MIGNET_SOURCE_DIR:?set MIGNET_SOURCE_DIR}"
MIGNET=$MIGNET_BUILD_DIR/mignet
TOPO=$MIGNET_SOURCE_DIR/tests/data/seed002.topo

# A fabric whose hosts' NICs (1 Gbit/s) are faster than its links (100
# Mbit/s): paths can be added.  256 MiB dirtying 1,000 pages/s needs about
# 32 s on one path, 13.6 s on two (striping overhead 5 %): a 15 s deadline
# takes two.
cat >"$T/wide.topo" <<'EOF'
switch s1 dpid=1
switch s2 dpid=2
switch s3 dpid=3
switch s4 dpid=4
switch s5 dpid=5
link s1:1 s4:4 100mbit
link s1:2 s5:4 100mbit
link s2:1 s4:5 100mbit
link s2:2 s5:5 100mbit
link s3:1 s4:6 100mbit
link s3:2 s5:6 100mbit
host h1 s4:1 1gbit
host h4 s5:1 1gbit
EOF

# D-R's marks last one statistics period; the first period ends 1 s after
# start (the early first poll), the next one an hour later: the two
# migrations that check the marks run after the first boundary, so both
# fall in the same period however slow the machine is.
start_mignetd plan --fabric "$TOPO" --prepare-timeout-ms 600000 \
    --fabric-poll-ms 3600000
started_ms=$(date +%s%3N)
for n in 1 2 3 4 5; do
    ok POST /v1/nodes 201 "{\"id\":\"h$n\",\"address\":\"198.18.0.$n\"}"
done
ok POST /v1/nodes 201 '{"id":"h6","address":"2001:db8::6"}'
ok POST /v1/nodes 201 '{"id":"outside","address":"198.18.0.9"}'
for v in 1 2 3 4; do
    ok POST /v1/vms 201 "{\"id\":\"vm$v\",\"mac\":\"02:00:00:00:00:0$v\",\"ip\":\"198.19.0.$v\",\"vni\":1,\"node\":\"h4\"}"
done
ok GET /v1/map 200
version0=$(json .version)

# Refusals: status, code, and nothing changed.
refuse() { # STATUS CODE BODY
    api POST /v1/vms/vm1/migrate "$3"
    [ "$STATUS" = "$1" ] && [ "$(json .error.code)" = "$2" ] ||
        fail "$3 -> $STATUS $BODY, want $1 $2"
}
refuse 422 invalid_value '{"to":"h1","memory_mb":0}'
refuse 422 invalid_type '{"to":"h1","memory_mb":"1024"}'
refuse 422 invalid_value '{"to":"h1","memory_mb":64,"dirty_pages_per_s":-1}'
refuse 422 invalid_value '{"to":"h1","memory_mb":64,"page_size":1000}'
refuse 422 invalid_value '{"to":"h1","memory_mb":64,"deadline_ms":0}'
refuse 422 invalid_value '{"to":"h1","strategy":"ospf"}'
refuse 422 invalid_value '{"to":"h1","target_cpu_free":2}'
refuse 422 missing_field '{"to":"h1","deadline_ms":5000}'
refuse 422 missing_field '{"to":"h1","working_set_mb":64}'
refuse 422 invalid_value '{"to":"h1","memory_mb":64,"working_set_mb":65}'
refuse 422 invalid_value '{"to":"h1","memory_mb":64,"working_set_mb":0}'
refuse 422 unknown_field '{"to":"h1","memory":64}'
refuse 422 not_in_fabric '{"to":"outside","memory_mb":64}'
refuse 422 invalid_address '{"to":"h6","memory_mb":64}'
ok GET /v1/vms/vm1 200
[ "$(json '[.node,.epoch,.migration] | @csv')" = '"h4",1,' ] ||
    fail "a refused migrate changed the VM: $BODY"
ok GET /v1/map 200
[ "$(json .version)" = "$version0" ] || fail "map changed by a refusal"
api GET /metrics
grep -q '^mignet_plan_seconds_count 0$' "$T/body" ||
    fail "a refused request was planned"

# A plan with an estimate and a deadline one path cannot meet.
wait_ms=$((1500 - ($(date +%s%3N) - started_ms)))
[ "$wait_ms" -le 0 ] || sleep "$(printf '%d.%03d' $((wait_ms / 1000)) $((wait_ms % 1000)))"
ok POST /v1/vms/vm1/migrate 202 \
    '{"to":"h1","memory_mb":1024,"dirty_pages_per_s":5000,"deadline_ms":12000}'
mig=$(json .migration)
[ "$(json '.plan | [.strategy,.from_host,.to_host,.memory_mb,.page_size,.deadline_ms] | @csv')" \
    = '"dr","h4","h1",1024,4096,12000' ] || fail "plan inputs: $BODY"
[ "$(json '.plan.paths[0].nodes | join(" ")')" = "h4 s5 s1 s4 h1" ] ||
    fail "path: $BODY"
[ "$(json '.plan.paths[0].hops | map("\(.switch):\(.in_port)>\(.out_port)") | join(" ")')" \
    = "s5:1>4 s1:2>1 s4:4>1" ] || fail "hops: $BODY"
[ "$(json '.plan.paths[0].tcp_port')" = 49152 ] || fail "port: $BODY"
# 1 GiB at 500 Mbit/s with 5,000 dirty 4 KiB pages/s (r = 0.328): 9 rounds
# and about 25.6 s (docs/planner.md, §1).
[ "$(json '.plan.steps | length')" = 1 ] || fail "steps: $BODY"
[ "$(json '.plan.estimate | [.rounds, .precopy_stop, (.total_ms > 25000 and .total_ms < 26000)] | @csv')" \
    = '9,"threshold",true' ] || fail "estimate: $BODY"
[ "$(json '[.plan.stop, .plan.deadline_met] | @csv')" = '"no_gain",false' ] ||
    fail "stop: $BODY"
json .plan.explain | grep -q 'with path 2 it would be' ||
    fail "explain: $BODY"
[ "$(json '.plan.install | [.state, .switches, .error] | @csv')" \
    = '"failed",3,"switch s5 is not connected"' ] || fail "install: $BODY"
ok GET "/v1/migrations/$mig" 200
[ "$(json '.plan.paths[0].nodes | join(" ")')" = "h4 s5 s1 s4 h1" ] ||
    fail "GET migration lacks the plan: $BODY"
# D-R marked h4->h1's links for this period: the next pair avoids s1.
ok POST /v1/vms/vm2/migrate 202 '{"to":"h2"}'
[ "$(json '.plan.paths[0].nodes | join(" ")')" = "h4 s5 s2 s4 h2" ] ||
    fail "dr did not avoid the chosen links: $BODY"
[ "$(json '[(.plan.steps | length), .plan.stop, .plan.estimate] | @csv')" \
    = '0,,' ] || fail "route only: $BODY"
# single ignores the marks.
ok POST /v1/vms/vm3/migrate 202 '{"to":"h3","strategy":"single"}'
[ "$(json '.plan.paths[0].nodes[2]')" = s1 ] || fail "single: $BODY"
# A node outside the fabric, no plan fields: the migration goes on, no plan.
ok POST /v1/vms/vm4/migrate 202 '{"to":"outside"}'
[ "$(json .plan)" = null ] || fail "plan outside the fabric: $BODY"
# A VM still in a prepared migration is refused by the core, unplanned.
api GET /metrics
before=$(sed -n 's/^mignet_plan_seconds_count //p' "$T/body")
api POST /v1/vms/vm1/migrate '{"to":"h2","memory_mb":64}'
[ "$STATUS" = 409 ] && [ "$(json .error.code)" = migration_in_progress ] ||
    fail "in progress: $STATUS $BODY"
api GET /metrics
[ "$(sed -n 's/^mignet_plan_seconds_count //p' "$T/body")" = "$before" ] ||
    fail "a migration the core refused was planned"
grep -q '^mignet_plans_total{stop="no_gain"} 1$' "$T/body" ||
    fail "plans by stop: $(grep plans_total "$T/body")"
grep -q '^mignet_plans_total{stop="route_only"} 2$' "$T/body" ||
    fail "route-only plans: $(grep plans_total "$T/body")"
grep -q '^mignet_fabric_install_failures_total 3$' "$T/body" ||
    fail "install failures: $(grep install_failures "$T/body")"

# GET /v1/fabric: the file's links and hosts.
ok GET /v1/fabric 200
[ "$(json '[.configured, (.links | length), (.hosts | length), (.switches | length)] | @csv')" \
    = 'true,6,6,0' ] || fail "fabric: $BODY"
[ "$(json '[.links[] | select(.source == "file")] | length')" = 6 ] ||
    fail "link sources: $BODY"

# The CLI prints the plan and the fabric.
"$MIGNET" --url "$URL" migration show "$mig" >"$T/show"
grep -q '^plan: dr route h4 -> h1, 1024 MiB' "$T/show" || fail "$(cat "$T/show")"
grep -q '^stopped adding paths: no_gain' "$T/show" || fail "$(cat "$T/show")"
grep -q '^deadline: missed$' "$T/show" || fail "$(cat "$T/show")"
"$MIGNET" --url "$URL" fabric show >"$T/fab"
grep -q '^s1:1  s4:4' "$T/fab" || fail "$(cat "$T/fab")"
stop_pid "$MIGNETD_PID" TERM

# Hosts with spare capacity: the deadline adds paths until it fits.
start_mignetd wide --fabric "$T/wide.topo" --prepare-timeout-ms 600000
ok POST /v1/nodes 201 '{"id":"h1","address":"198.18.0.1"}'
ok POST /v1/nodes 201 '{"id":"h4","address":"198.18.0.4"}'
ok POST /v1/vms 201 '{"id":"w","mac":"02:00:00:00:00:0a","ip":"198.19.0.10","vni":1,"node":"h4"}'
"$MIGNET" --url "$URL" vm migrate w --to h1 --plan --memory-mb 256 \
    --dirty-pages-per-s 1000 --deadline-ms 15000 >"$T/out"
cat "$T/out" >&2
grep -q '^   2  yes       49153  h4 s5 s2 s4 h1$' "$T/out" ||
    fail "second path: $(cat "$T/out")"
grep -q '^stopped adding paths: fits' "$T/out" || fail "$(cat "$T/out")"
grep -q '^   3 ' "$T/out" && fail "a third path: $(cat "$T/out")"
grep -q '^deadline: met$' "$T/out" || fail "$(cat "$T/out")"

# A working set: the same VM and path, its 1,000 writes/s falling on its
# 256 MiB, estimate fewer bytes and less time (docs/planner.md 1.1; so
# here, where D < B: with D >= B it can plan more); the plan says what
# it was given, in JSON and in the CLI's plan.
for v in 2 3 4; do
    ok POST /v1/vms 201 "{\"id\":\"w$v\",\"mac\":\"02:00:00:00:00:1$v\",\"ip\":\"198.19.0.2$v\",\"vni\":1,\"node\":\"h4\"}"
done
ok POST /v1/vms/w2/migrate 202 \
    '{"to":"h1","memory_mb":256,"dirty_pages_per_s":1000,"strategy":"single"}'
[ "$(json .plan.working_set_mb)" = null ] || fail "working set: $BODY"
lin=$(json '.plan.steps[0] | [.total_ms, .bytes] | @csv')
BODY=$("$MIGNET" --url "$URL" --json vm migrate w3 --to h1 --memory-mb 256 \
    --dirty-pages-per-s 1000 --working-set-mb 256 --strategy single) ||
    fail "vm migrate --working-set-mb"
[ "$(json .plan.working_set_mb)" = 256 ] || fail "working set: $BODY"
ws=$(json '.plan.steps[0] | [.total_ms, .bytes] | @csv')
python3 - "$lin" "$ws" <<'EOF' || fail "working set estimate $ws, without $lin"
import sys
(lt, lb), (wt, wb) = (map(float, a.split(",")) for a in sys.argv[1:])
sys.exit(0 if wt < lt and wb < lb else 1)
EOF
"$MIGNET" --url "$URL" vm migrate w4 --to h1 --plan --memory-mb 256 \
    --dirty-pages-per-s 1000 --working-set-mb 128 --strategy single \
    >"$T/out" || fail "vm migrate --plan --working-set-mb"
grep -q '^plan: .*, 256 MiB, 1000 dirty pages/s of 4096 B (writes on 128 MiB)$' \
    "$T/out" || fail "CLI plan: $(cat "$T/out")"
stop_pid "$MIGNETD_PID" TERM

# Without a fabric, plan fields are refused; a plain migrate works.
start_mignetd bare
ok POST /v1/nodes 201 '{"id":"a","address":"198.18.0.1"}'
ok POST /v1/nodes 201 '{"id":"b","address":"198.18.0.2"}'
ok POST /v1/vms 201 '{"id":"x","mac":"02:00:00:00:00:0b","ip":"198.19.0.11","vni":1,"node":"a"}'
api POST /v1/vms/x/migrate '{"to":"b","memory_mb":64}'
[ "$STATUS" = 409 ] && [ "$(json .error.code)" = no_fabric ] ||
    fail "no fabric: $STATUS $BODY"
ok POST /v1/vms/x/migrate 202 '{"to":"b"}'
[ "$(json .plan)" = null ] || fail "plan without a fabric: $BODY"
ok GET /v1/fabric 200
[ "$(json .configured)" = false ] || fail "fabric: $BODY"
echo "PASS"
