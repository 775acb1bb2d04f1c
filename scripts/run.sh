#!/usr/bin/env bash
# mignet's main job: builds mignet and runs the data-centre simulator on the
# default scenario, every strategy side by side.  Arguments are passed to
# `mignet sim` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
exec ./build/mignet sim --strategy all "$@"
