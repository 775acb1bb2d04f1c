#!/usr/bin/env bash
# Configures and builds mignet into BUILD_DIR (default: build/), warnings
# as errors.  Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
"$PWD/scripts/deps.sh" build
dir=${BUILD_DIR:-build}
cmake -S . -B "$dir" -G Ninja -DMIGNET_WERROR=ON "$@" >/dev/null
if ! out=$(ninja -C "$dir" -j"$(nproc)" 2>&1); then
    printf '%s\n' "$out" | tail -n 40 >&2
    echo "build: failed in $dir" >&2
    exit 1
fi
