#!/usr/bin/env bash
# test_grafana_dashboard.sh: contrib/grafana/mignet.json is a dashboard
# Grafana can import (well-formed JSON, a Prometheus datasource variable
# that every panel uses, panels with PromQL targets), and every metric its
# queries name is one that the real mignetd or the real mignet-agent
# exports.  The agent runs without Open vSwitch (as in
# test_metrics_promtool.sh); one migration runs so the histograms have
# samples.  A misspelt name in a copy of the dashboard must be caught.
source "$(dirname "$0")/lib.sh"
DASH=${MIGNET_SOURCE_DIR:-$(dirname "$0")/../..}/contrib/grafana/mignet.json
[ -f "$DASH" ] || fail "no $DASH"

# 1. The shape Grafana needs.
jq -e . "$DASH" >/dev/null || fail "$DASH is not JSON"
jq -e '(.title | type == "string") and (.uid | type == "string")
    and (.schemaVersion | type == "number") and (.panels | length > 0)' \
    "$DASH" >/dev/null || fail "no title, uid, schemaVersion or panels"
jq -e '[.templating.list[] | select(.type == "datasource"
    and .query == "prometheus" and .name == "datasource")] | length == 1' \
    "$DASH" >/dev/null || fail "no Prometheus datasource variable 'datasource'"
# Every panel but rows: a datasource that is the variable, and targets
# with an expression and a refId.
bad=$(jq -r '.panels[] | select(.type != "row") | select(
    (.datasource.uid // "") != "${datasource}"
    or (.targets | length) == 0
    or any(.targets[]; (.expr // "") == "" or (.refId // "") == ""
        or (.datasource.uid // "${datasource}") != "${datasource}")
    or (.gridPos | (.w and .h and (.x != null) and (.y != null)) | not))
    | .title' "$DASH")
[ -z "$bad" ] || fail "panels without datasource, targets or gridPos: $bad"
dups=$(jq -r '[.panels[].id] | group_by(.) | map(select(length > 1)[0])
    | .[]' "$DASH")
[ -z "$dups" ] || fail "panel ids used twice: $dups"

# 2. The metrics the daemons really export.
start_mignetd graf
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":500}'
ok POST /v1/nodes 201 '{"id":"n2","address":"198.18.0.2","refresh_ms":500}'
ok POST /v1/vms 201 '{"id":"vm1","mac":"02:00:00:00:00:01",
    "ip":"198.18.1.1","vni":100,"node":"n1"}'
start_real_agent n1
ok POST /v1/vms/vm1/migrate 202 '{"to":"n2"}'
for _ in $(seq 1 300); do
    curl -sf --max-time 10 "http://127.0.0.1:$MPORT/metrics" >"$T/agent.prom" &&
        grep -q '^mignet_agent_channel_connected 1$' "$T/agent.prom" && break
    sleep 0.1
done
grep -q '^mignet_agent_channel_connected 1$' "$T/agent.prom" ||
    fail "the agent's channel did not come up"
curl -sf --max-time 10 "$URL/metrics" >"$T/mignetd.prom" || fail "mignetd /metrics"

# Sample names of both scrapes, and their families (a histogram's
# _bucket/_sum/_count samples belong to the family its TYPE line names).
cat "$T/mignetd.prom" "$T/agent.prom" >"$T/all.prom"
{
    awk '!/^#/ && NF { sub(/[{ ].*/, "", $1); print $1 }' "$T/all.prom"
    awk '$1 == "#" && $2 == "TYPE" { print $3 }' "$T/all.prom"
} | sort -u >"$T/exported"
[ "$(wc -l <"$T/exported")" -gt 40 ] || fail "few metrics scraped"

# names DASHBOARD: every metric name in its PromQL expressions (panels'
# targets and the variables' queries): words that start with mignet_ (the
# daemons' prefix), minus label values in quotes.
names() {
    jq -r '(.panels[] | .targets[]?.expr),
        (.templating.list[] | select(.type == "query") | .query
            | if type == "object" then .query else . end)' "$1" |
        sed -E 's/"[^"]*"//g' | grep -oE '\bmignet_[a-z0-9_:]+' | sort -u
}
# missing DASHBOARD: the names no daemon exports.  A name is exported as
# a sample or as a family; NAME_bucket, _sum or _count only when NAME is
# a histogram or summary family.
missing() {
    local n base
    names "$1" | while read -r n; do
        if grep -qxF "$n" "$T/exported"; then
            continue
        fi
        base=$(sed -E 's/_(bucket|sum|count)$//' <<<"$n")
        if [ "$base" != "$n" ] &&
            grep -qE "^# TYPE $base (histogram|summary)$" "$T/all.prom"; then
            continue
        fi
        echo "$n"
    done
}
used=$(names "$DASH" | wc -l)
[ "$used" -ge 15 ] || fail "the dashboard names only $used metrics"
gone=$(missing "$DASH")
[ -z "$gone" ] || fail "the dashboard queries metrics nobody exports: $gone"
# Both daemons are covered: names only one of them exports.
fams() { awk '$1 == "#" && $2 == "TYPE" { print $3 }' "$1" | sort -u; }
fams "$T/agent.prom" >"$T/agent.fams"
fams "$T/mignetd.prom" >"$T/mignetd.fams"
names "$DASH" | sed -E 's/_(bucket|sum|count)$//' | sort -u >"$T/used"
[ -n "$(comm -12 "$T/used" <(comm -23 "$T/agent.fams" "$T/mignetd.fams"))" ] ||
    fail "no metric of the agent used"
[ -n "$(comm -12 "$T/used" <(comm -13 "$T/agent.fams" "$T/mignetd.fams"))" ] ||
    fail "no metric of mignetd used"

# 3. The check catches a misspelt name and a suffix on a counter.
jq '.panels[1].targets[0].expr |= sub("mignet_"; "mignet_x")' "$DASH" \
    >"$T/bad1.json"
[ -n "$(missing "$T/bad1.json")" ] || fail "a misspelt name passed"
hist=$(names "$DASH" | grep -m1 '_bucket$') || fail "no histogram used"
ctr=$(grep -m1 -oE '^mignet_[a-z_]+_total' "$T/mignetd.prom")
jq --arg h "$hist" --arg c "${ctr}_bucket" \
    '(.panels[] | .targets[]?.expr) |= gsub($h; $c)' "$DASH" >"$T/bad2.json"
[ -n "$(missing "$T/bad2.json")" ] || fail "${ctr}_bucket passed"
echo "PASS test_grafana_dashboard: $used metric names, all exported"
