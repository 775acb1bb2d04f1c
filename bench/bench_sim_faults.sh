#!/usr/bin/env bash
# bench_sim_faults.sh: mignet under every fault kind, many seeds.
# Runs `mignet sim --faults all` for N seeds (default 10,000) with mignet,
# then the baselines naive and fixed on N/10 seeds (they must fail: naive
# loses stale packets, fixed deletes the wrong copy), and prints each
# run's JSON line (violations, faults injected by kind, packet classes)
# and its wall time.  Exit 0 when mignet had 0 violations and every fault
# kind was injected.  docs/simulator.md, "Faults"; docs/PERFORMANCE.md.
# Usage: bench/bench_sim_faults.sh [N=10000] [SEED=1] (builds first)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-10000}
SEED=${2:-1}
"$root/scripts/build.sh"
sim() { "$root/build/mignet" sim "$@"; }
run() {
    local t0 t1 out rc=0
    t0=$(date +%s.%N)
    out=$(sim --faults all --json "$@" 2>/dev/null) || rc=$?
    t1=$(date +%s.%N)
    printf '%s\n' "$out"
    printf 'wall %.1f s (exit %d)\n' "$(echo "$t1 - $t0" | bc)" "$rc"
    return 0
}
echo "== mignet, $N seeds from $SEED"
mig=$(run --strategy mignet --seeds "$N" --seed "$SEED")
printf '%s\n' "$mig"
for s in naive fixed; do
    echo "== $s (must fail), $((N / 10)) seeds"
    run --strategy "$s" --seeds "$((N / 10))" --seed "$SEED"
done
line=$(printf '%s\n' "$mig" | head -n 1)
if ! printf '%s' "$line" | grep -q '"violations": 0,'; then
    echo "bench_sim_faults: mignet had violations" >&2
    exit 1
fi
if printf '%s' "$line" | grep -Eq '"(loss|dup|reorder|answer_loss|restart|slow|partition|overlay|crash|crash_commit)": 0[,}]'; then
    echo "bench_sim_faults: a fault kind was never injected" >&2
    exit 1
fi
