#!/usr/bin/env bash
# compare.sh: the core, simulator and mignetd benchmarks of an older
# revision against the working tree, in one run, alternating A B A B so
# that the machine's drift falls on both.  Prints the median of each
# figure, and, where valgrind is installed, the core benchmark's
# instruction count (callgrind), which does not depend on the machine's
# load.
#
# Usage: bench/compare.sh REV [ROUNDS] [--quick]
#   REV     the revision to compare with (built in a temporary worktree)
#   ROUNDS  runs of each benchmark per side (default 3)
#   --quick bench_rest --quick (15 s) instead of the full run
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: bench/compare.sh REV [ROUNDS] [--quick]}
rounds=${2:-3}
rest_args=()
[ "${3:-}" = --quick ] && rest_args=(--quick)

tmp=$(mktemp -d)
cleanup() {
  git worktree remove --force "$tmp/base" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

git worktree add -q --detach "$tmp/base" "$rev"
build() { # SRC BUILD
  cmake -S "$1" -B "$2" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C "$2" bench_core bench_sim bench_rest mignetd >/dev/null
}
build "$tmp/base" "$tmp/base/build"
build . build
A=$tmp/base/build
B=build

# figure NAME FILE: one number out of a benchmark's output (for the
# markdown rows of bench_rest, the first number of the first value cell).
figure() {
  case "$1" in
    core_migrations_per_s) grep -o '"migrations_per_s": [0-9.]*' "$2" ;;
    core_deletions_per_s) grep -o '"deletions_fired_per_s": [0-9.]*' "$2" ;;
    core_bytes_per_vm) grep -o '"core_bytes_per_vm": [0-9.]*' "$2" ;;
    sim_events_per_s) grep -o '[0-9.]* M events/s' "$2" | head -1 \
                        | grep -o '^[0-9.]*' ;;
    sim_vs_baseline) grep -o 'simulator at [0-9.]* of the baseline' "$2" \
                       | head -1 ;;
    rest_migrations_per_s) cell 'migrations/s accepted' "$2" ;;
    rest_healthz_per_s) cell 'GET /healthz round trips/s' "$2" ;;
    rest_migrate_p99_ms) grep 'migrate latency p50' "$2" | cut -d'|' -f3 \
                           | cut -d/ -f2 ;;
    rest_install_p99_ms) grep 'install read by the destination' "$2" \
                           | cut -d'|' -f4 ;;
  esac | grep -o '[0-9][0-9.]*' | tail -1
}
cell() { grep -m1 "$1" "$2" | cut -d'|' -f3 | grep -o '[0-9][0-9.]*' | head -1; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR ? v[int((NR+1)/2)] : "-")}'; }

out=$tmp/out
mkdir -p "$out"
for i in $(seq 1 "$rounds"); do
  for side in A B; do
    d=${!side}
    "$d/bench_core" 1000000 10000 >"$out/core.$side.$i" 2>&1
    "$d/bench_sim" mid mignet >"$out/sim.$side.$i" 2>&1
    "$d/bench_rest" "${rest_args[@]}" >"$out/rest.$side.$i" 2>&1
  done
done

printf '# bench/compare.sh %s (A) vs the working tree (B), %s rounds, medians\n\n' \
  "$(git rev-parse --short "$rev")" "$rounds"
printf '| figure | A: %s | B: working tree | B/A |\n|---|---|---|---|\n' \
  "$(git rev-parse --short "$rev")"
for f in core_migrations_per_s core_deletions_per_s core_bytes_per_vm \
         sim_events_per_s sim_vs_baseline rest_migrations_per_s \
         rest_healthz_per_s rest_migrate_p99_ms rest_install_p99_ms; do
  kind=${f%%_*}
  a=$(for i in $(seq 1 "$rounds"); do figure "$f" "$out/$kind.A.$i"; done | median)
  b=$(for i in $(seq 1 "$rounds"); do figure "$f" "$out/$kind.B.$i"; done | median)
  r=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a + 0 > 0) printf "%.2f", b / a; else print "-" }')
  printf '| %s | %s | %s | %s |\n' "$f" "$a" "$b" "$r"
done
if command -v valgrind >/dev/null; then
  count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1/bench_core" \
      100000 1000 2>&1 >/dev/null | grep -o 'Collected : [0-9]*' | grep -o '[0-9]*$'
  }
  a=$(count "$A"); b=$(count "$B")
  printf '| core_instructions (callgrind, bench_core 100000 1000) | %s | %s | %s |\n' \
    "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')"
fi
