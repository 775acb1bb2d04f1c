#!/usr/bin/env bash
# bench/qemu_migrate.sh: the real-QEMU migration scenarios with the issue's
# gates as assertions (QM_STRICT=1) and more runs than CI makes: lossless
# 0 probes lost in every run (the pause included), manual 0 and pingpong 0
# lost outside the pause, rarp at most 5.  Root; about 5 minutes.
# Usage: bench/qemu_migrate.sh [RUNS]   (runs per scenario, default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
scripts/deps.sh test
scripts/build.sh >/dev/null
export MIGNET_BUILD_DIR=${MIGNET_BUILD_DIR:-$PWD/build}
QM_STRICT=1 QM_RUNS_lossless=$runs QM_RUNS_manual=$runs QM_RUNS_rarp=$runs \
    QM_RUNS_pingpong=$((runs / 2 > 0 ? runs / 2 : 1)) \
    exec tests/e2e/test_qemu_migrate.sh
