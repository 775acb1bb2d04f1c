#!/usr/bin/env bash
# test_sim_plot.sh: `mignet sim --plot FILE.png --plot-data FILE.tsv`
# draws a real PNG with gnuplot, and the numbers behind it are the run's
# own: each strategy's loss column adds up to its lost_* counters in the
# JSON of the same run (sent - delivered), its cleanup block holds
# `cleaned` migrations whose median, p99 and maximum are the JSON's
# cleanup_ms.  Without gnuplot on PATH the command fails at once, naming
# the Debian package, before simulating.
set -euo pipefail
: "${MIGNET_BUILD_DIR:?set MIGNET_BUILD_DIR to the build directory}"
MIGNET=$MIGNET_BUILD_DIR/mignet
[ -x "$MIGNET" ] || { echo "no mignet at $MIGNET" >&2; exit 1; }
for tool in jq gnuplot awk; do
    command -v "$tool" >/dev/null || {
        echo "FAIL: $tool is needed (scripts/deps.sh test)" >&2; exit 1; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/mignet-plot-it.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A small run with losses in several classes and cleanups of every kind.
ARGS=(--nodes 20 --vms 200 --migrations 40 --pattern pingpong
      --refresh-ms 500 --no-progress --plot-bucket-ms 50)
"$MIGNET" sim "${ARGS[@]}" --json --plot "$T/run.png" \
    --plot-data "$T/run.tsv" >"$T/run.json" 2>"$T/err" ||
    fail "mignet sim --plot: $(cat "$T/err")"

# The PNG: the eight signature bytes, a sane size, 1280 x 1100.
sig=$(head -c 8 "$T/run.png" | od -An -tx1 | tr -d ' \n')
[ "$sig" = 89504e470d0a1a0a ] || fail "not a PNG (signature $sig)"
size=$(stat -c %s "$T/run.png")
[ "$size" -gt 20000 ] && [ "$size" -lt 5000000 ] ||
    fail "PNG of $size bytes"
dims=$(od -An -tu1 -j16 -N8 "$T/run.png" | awk '{
    print $1*16777216+$2*65536+$3*256+$4 "x" $5*16777216+$6*65536+$7*256+$8 }')
[ "$dims" = 1280x1100 ] || fail "PNG is $dims"

# The data behind it against the JSON.  Block 0: a header row naming the
# strategies, then one row per bucket.
n=$(jq '.results | length' "$T/run.json")
[ "$n" -eq 8 ] || fail "$n results"
awk -F'\t' '
    /^# time_s/ { for (i = 2; i <= NF; i++) name[i] = $i; cols = NF; next }
    /^#/ { next }
    /^$/ { if (cols) done = 1; next }
    !done { rows++; for (i = 2; i <= NF; i++) sum[i] += $i }
    END { for (i = 2; i <= cols; i++) print name[i], sum[i]; print "rows", rows }
' "$T/run.tsv" >"$T/lost"
rows=$(awk '$1 == "rows" { print $2 }' "$T/lost")
horizon=$(jq '.results[0].horizon_ms' "$T/run.json")
[ "$rows" -ge $(( (horizon + 49) / 50 )) ] ||
    fail "$rows rows of 50 ms for a horizon of $horizon ms"
losses=0
for i in $(seq 0 $((n - 1))); do
    s=$(jq -r ".results[$i].strategy" "$T/run.json")
    want=$(jq ".results[$i] | .lost_pause + .lost_stale + .lost_other
        + .lost_activation + .lost_install_race" "$T/run.json")
    gap=$(jq ".results[$i] | .sent - .delivered" "$T/run.json")
    [ "$want" -eq "$gap" ] || fail "$s: lost $want but sent - delivered $gap"
    got=$(awk -v s="$s" '$1 == s { print $2 }' "$T/lost")
    [ "$got" = "$want" ] || fail "$s: the plot data sums to $got lost, the JSON says $want"
    losses=$((losses + want))
    # The cleanup block: `cleaned` rows, sorted, ending at fraction 1,
    # median / p99 / max by nearest rank = the JSON's (3 decimals).
    awk -F'\t' -v s="$s" '
        $0 ~ "^# cleanup " s ":" { on = 1; next }
        on && /^#/ { next }
        on && /^$/ { exit }
        on { print }
    ' "$T/run.tsv" >"$T/cl.$s"
    cleaned=$(jq ".results[$i].cleaned" "$T/run.json")
    [ "$(wc -l <"$T/cl.$s")" -eq "$cleaned" ] ||
        fail "$s: $(wc -l <"$T/cl.$s") cleanup rows, $cleaned cleaned"
    [ "$cleaned" -gt 0 ] || fail "$s: nothing cleaned: a weak test"
    sort -g -c "$T/cl.$s" || fail "$s: cleanup times not sorted"
    tail -n1 "$T/cl.$s" | awk -F'\t' '$2 != "1.000000" { exit 1 }' ||
        fail "$s: the CDF does not end at 1"
    for q in p50:0.50 p99:0.99 max:1.0; do
        key=${q%%:*} frac=${q#*:}
        rank=$(awk -v n="$cleaned" -v q="$frac" 'BEGIN {
            r = q * n; k = int(r); if (k < r) k++; if (k < 1) k = 1; print k }')
        got=$(sed -n "${rank}p" "$T/cl.$s" | cut -f1)
        want=$(jq ".results[$i].cleanup_ms.$key" "$T/run.json")
        awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; exit !(d < 0.0015 && d > -0.0015) }' ||
            fail "$s: cleanup $key $got in the plot data, $want in the JSON"
    done
done
[ "$losses" -gt 0 ] || fail "no strategy lost a packet: a weak test"

# The same run in table mode says where the picture went.
"$MIGNET" sim "${ARGS[@]}" --strategy mignet --plot "$T/t.png" >"$T/table" ||
    fail "table mode with --plot"
grep -q "^plot: $T/t.png" "$T/table" || fail "no plot line: $(tail -n2 "$T/table")"

# No gnuplot: a clear error naming the package, before any simulation
# (a run this big would take minutes).
rc=0
timeout 30 env PATH=/nonexistent "$MIGNET" sim --nodes 1000 --vms 10000000 \
    --migrations 1000000 --plot "$T/no.png" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || fail "without gnuplot: exit $rc"
grep -q "gnuplot-nox" "$T/err" || fail "without gnuplot: $(cat "$T/err")"
[ ! -s "$T/out" ] && [ ! -e "$T/no.png" ] || fail "without gnuplot it ran"

# Bad options change nothing and say why.
rc=0
"$MIGNET" sim --plot "" >/dev/null 2>"$T/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--plot needs a file name" "$T/err" ||
    fail "--plot '': exit $rc: $(cat "$T/err")"
rc=0
"$MIGNET" sim --plot "$T/a" --plot-data "$T/a" >/dev/null 2>"$T/err" || rc=$?
[ "$rc" -eq 2 ] || fail "--plot and --plot-data the same file: exit $rc"
echo "ok: plot of $losses lost packets and 8 cleanup distributions match the JSON"
