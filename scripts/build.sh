#!/usr/bin/env bash
# Configures and builds mignet into BUILD_DIR (default: build/), warnings
# as errors.  Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
"$PWD/scripts/deps.sh" build
dir=${BUILD_DIR:-build}
cmake -S . -B "$dir" -G Ninja -DMIGNET_WERROR=ON "$@" >/dev/null
ninja -C "$dir" -j"$(nproc)" >/dev/null
