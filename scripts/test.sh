#!/usr/bin/env bash
# Builds and runs every mignet test: the warnings-as-errors build with all
# ctest suites (unit, simulation, integration with real daemons and SQLite,
# end-to-end with real Open vSwitch), then the ASan+UBSan build of the unit
# and simulation suites, valgrind on the core's unit tests, and a short run
# of every fuzz target.  Installs the Debian packages it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test

step() { printf '\n== %s\n' "$*"; }

step "repository checks"
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
  if git grep -n -E '^(<<<<<<<|>>>>>>>) ' -- . ':!*.patch' >&2; then
    echo "leftover merge conflict markers" >&2; exit 1
  fi
  by_name='\b(p''kill|kill''all)\b'   # spelt apart so this line is not a hit
  if git grep -n -E "$by_name" -- '*.sh' '*.c' >&2; then
    echo "processes are stopped by PID, never by name" >&2; exit 1
  fi
  if git grep -n -E '\b(sprintf|strcpy|strcat|gets)\(' -- '*.c' '*.h' >&2; then
    echo "unbounded string functions" >&2; exit 1
  fi
fi
scripts/check-layers.sh   # no include goes up a layer (src/LAYERS)

step "build (warnings as errors)"
BUILD_DIR=build scripts/build.sh
scripts/check-layers.sh --symbols build   # no call goes up a layer either
step "ctest: every suite"
(cd build && ctest --output-on-failure -j2 --timeout 900)

step "ASan+UBSan build: unit and simulation suites"
BUILD_DIR=build-asan scripts/build.sh -DMIGNET_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=Debug
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 \
  ctest --output-on-failure -j2 -L 'unit|sim' --timeout 900)

step "valgrind: unit tests"
for t in build/test_core build/test_core_store build/test_core_binding \
         build/test_core_check build/test_binding build/test_binding_table \
         build/test_binding_snoop build/test_binding_rules build/test_strmap \
         build/test_sock build/test_rest_fabric build/test_ofctrl \
         build/test_planner_precopy \
         build/test_planner_topo build/test_planner_router \
         build/test_planner_plan build/test_store_mem build/test_store_sqlite \
         build/test_rest_parse build/test_options build/test_metrics_log \
         build/test_lldp build/test_fabric_flows build/test_cli \
         build/test_ofp13 build/test_agent_flows build/test_ofconn \
         build/test_agent_core build/test_map_push build/test_chan_client \
         build/test_pl_engine build/test_pipeline_vnet \
         build/test_core_lifecycle build/test_core_nodes \
         build/test_qmp build/test_ovsdb_iface build/test_node_auth \
         build/test_rest_auth build/test_listen_guard build/test_log \
         build/test_clock build/test_core_silence build/test_http_client \
         build/test_sdnotify build/test_reload_conf build/test_addr_list \
         build/test_transfers build/test_etcd_client \
         build/test_store_etcd build/test_precopy_wire \
         build/test_precopy_rounds build/test_election build/test_vnet; do
  [ -x "$t" ] || continue
  # The engine's property test: 1,000 of its 10,000 sequences here.
  MIGNET_PL_SEQS=1000 MIGNET_SOURCE_DIR=$PWD valgrind -q \
    --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
    "$t" >/dev/null
done

step "fuzz targets (short run)"
if [ -x scripts/fuzz.sh ]; then
  FUZZ_SECONDS=${FUZZ_SECONDS:-15} scripts/fuzz.sh
fi
step "all tests passed"
