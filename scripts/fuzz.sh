#!/usr/bin/env bash
# Builds mignet's libFuzzer targets with clang (ASan + UBSan) in build-fuzz/
# and runs every tests/fuzz/fuzz_*.c target for N seconds each, seeded from
# tests/fuzz/corpus/<name without fuzz_>/ (and tests/fuzz/<target>.dict as a
# libFuzzer dictionary when there is one).  Fails on any finding (crash,
# sanitizer report, leak, timeout); the input is kept in build-fuzz/findings.
# The seed corpus in the tree is never modified: new inputs go to a scratch
# copy under build-fuzz/.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]    (default 20 s, or
#        FUZZ_SECONDS; default targets: all)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-${FUZZ_SECONDS:-20}}
shift || true
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}

if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz: clang is required (scripts/deps.sh test)" >&2
    exit 1
fi
case $seconds in
    ''|*[!0-9]*) echo "fuzz: SECONDS must be a number" >&2; exit 2 ;;
esac

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for src in "$root"/tests/fuzz/fuzz_*.c; do
        targets+=("$(basename "$src" .c)")
    done
fi

CC=clang CFLAGS="-fsanitize=fuzzer-no-link" \
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMIGNET_FUZZ=ON -DMIGNET_SANITIZE=ON >/dev/null
if ! out=$(ninja -C "$build" -j2 "${targets[@]}" 2>&1); then
    printf '%s\n' "$out" | tail -n 40 >&2
    echo "fuzz: build failed" >&2
    exit 1
fi

status=0
mkdir -p "$build/findings"
for t in "${targets[@]}"; do
    seed="$root/tests/fuzz/corpus/${t#fuzz_}"
    work="$build/corpus/${t#fuzz_}"
    mkdir -p "$work"
    args=("$work")
    [ -d "$seed" ] && args+=("$seed")
    dict="$root/tests/fuzz/$t.dict"
    [ -f "$dict" ] && args=(-dict="$dict" "${args[@]}")
    echo "fuzz: $t for ${seconds}s (seeds: $(ls "$seed" 2>/dev/null | wc -l))"
    log="$build/findings/$t.log"
    if "$build/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/findings/$t-" \
        "${args[@]}" >"$log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$log" | tail -2 || true
        echo "fuzz: $t ok"
    else
        echo "fuzz: $t FAILED; see $log" >&2
        tail -30 "$log" >&2
        status=1
    fi
done
exit $status
