#!/usr/bin/env bash
# test_readme_quickstart.sh: README.md's "Quick start on one machine" runs
# as written, and says what really happens.  Its shell blocks run in order
# in one shell (a pause between blocks stands for the reader; the ports
# and the state directory are swapped for free ones), from a directory
# whose ./build is the build; then the output blocks printed after them
# are checked against what the commands printed: the simulator's lines
# (deterministic) verbatim, or as a prefix where README cuts a line with
# " ...", and the map's lines verbatim.  The prose's claims are checked
# too: mignetd's ready line, both nodes connected, migration 1 cleaned
# early, the plot written.
source "$(dirname "$0")/lib.sh"
README=${MIGNET_SOURCE_DIR:-$(dirname "$0")/../..}/README.md
[ -f "$README" ] || fail "no $README"
command -v gnuplot >/dev/null ||
    fail "gnuplot is needed (scripts/deps.sh test: gnuplot-nox)"

P1=$(free_port)
P2=$(free_port)
[ "$P1" != "$P2" ] || P2=$(free_port)
mkdir -p "$T/run"
ln -s "$MIGNET_BUILD_DIR" "$T/run/build"

# The section's blocks: sh blocks to run, the others to compare.  The
# build command is left out (the build is there already).
python3 - "$README" "$T" <<'EOF'
import sys
text = open(sys.argv[1]).read()
start = text.index("## Quick start on one machine")
end = text.index("## On real hosts")
lines = text[start:end].split("\n")
blocks, cur, kind = [], None, None
for line in lines:
    if cur is None and line.startswith("```"):
        kind = "sh" if line.strip() == "```sh" else "out"
        cur = []
    elif cur is not None and line.startswith("```"):
        blocks.append((kind, cur))
        cur = None
    elif cur is not None:
        cur.append(line)
t = sys.argv[2]
run = [b for k, b in blocks if k == "sh"
       and not any(l.startswith("cmake ") for l in b)]
out = [b for k, b in blocks if k == "out"]
with open(t + "/blocks.sh", "w") as f:
    for b in run:
        f.write("\n".join(b) + "\nsleep 0.5\n")
with open(t + "/expected", "w") as f:
    for b in out:
        f.write("\n".join(b) + "\n")
print(len(run), len(out))
EOF
[ -s "$T/blocks.sh" ] && [ -s "$T/expected" ] || fail "no blocks in README"
sed -i -e "s/127\.0\.0\.1:7480/127.0.0.1:$P1/g" \
    -e "s/127\.0\.0\.1:7481/127.0.0.1:$P2/g" \
    -e "s#/tmp/mignet-state#$T/state#g" "$T/blocks.sh"
grep -q "node add n1" "$T/blocks.sh" && grep -q "vm migrate vm1" "$T/blocks.sh" &&
    grep -q "sim --fabric seed002" "$T/blocks.sh" ||
    fail "the quick start lost a step: $(cat "$T/blocks.sh")"

# One shell runs them all; it stops what it started, also on failure, and
# checks the prose's claims about migration 1 before it does.
{
    echo 'set -e'
    echo 'trap '"'"'kill $(jobs -p) 2>/dev/null; wait'"'"' EXIT'
    cat "$T/blocks.sh"
    cat <<'EOF'
# (the API's JSON: the CLI's display may change, its fields do not)
for i in $(seq 1 100); do
    [ "$(./build/mignet --json migration show 1 | jq -r .phase)" = cleaned ] && break
    sleep 0.1
done
echo "CHECK migration 1: $(./build/mignet --json migration show 1 | jq -j '"phase: \(.phase) released_early: \(.released_early) "')"
EOF
} >"$T/qs.sh"
(cd "$T/run" && timeout 120 bash "$T/qs.sh") >"$T/out" 2>"$T/qs.log" ||
    fail "the quick start failed (exit $?): $(tail -n 20 "$T/qs.log")"

grep -qx "mignetd ready rest=127.0.0.1:$P1 agents=127.0.0.1:$P2 state=$T/state" \
    "$T/out" || fail "no ready line: $(head -n 3 "$T/out")"
[ "$(stat -c %a "$T/run/n1.token")" = 600 ] || fail "n1.token is not 0600"
grep -qE '^n1  198\.18\.0\.1  yes  ' "$T/out" &&
    grep -qE '^n2  198\.18\.0\.2  yes  ' "$T/out" ||
    fail "nodes not connected at 'node list': $(grep -E '^(ID|n[12]) ' "$T/out")"
grep -q '^CHECK migration 1: phase: cleaned released_early: true $' "$T/out" ||
    fail "migration 1 not cleaned early: $(grep CHECK "$T/out")"
[ -s "$T/run/sim.png" ] && [ -s "$T/run/sim.tsv" ] || fail "no sim.png / sim.tsv"

# The output blocks: the node list's timings vary (OBSERVED), every
# other line is the commands' own.
n=0
while IFS= read -r line; do
    case $line in
        ''|'...') continue ;;
        'n1  198.18.0.1  yes'*|'n2  198.18.0.2  yes'*) continue ;;
        *' ...')
            prefix=${line% ...}
            grep -qF -- "$prefix" "$T/out" ||
                fail "README shows '$line'; the run printed no such line" ;;
        *)
            grep -qxF -- "$line" "$T/out" ||
                fail "README shows '$line'; the run printed no such line" ;;
    esac
    n=$((n + 1))
done <"$T/expected"
[ "$n" -ge 20 ] || fail "only $n README output lines checked"
echo "PASS test_readme_quickstart: $n README output lines as printed"
