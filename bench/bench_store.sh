#!/usr/bin/env bash
# bench_store.sh: migrations/s accepted durably through etcd beside SQLite,
# in the same run (docs/PERFORMANCE.md, issue 16).
#
# Starts a one-member etcd on loopback (tests/integration/etcd_lib.sh:
# temporary data dir, --max-txn-ops ETCD_MAX_TXN_OPS (10000), stopped by
# PID on exit), then runs bench_rest's throughput phase twice with the
# same settings: mignetd on SQLite (WAL, synchronous=FULL), then mignetd
# --store etcd://... (each batch one etcd transaction: group commit),
# first with --serial-commits (each batch committed before the next
# fills: the baseline), then as mignetd runs by default (one commit in
# flight while the next batch fills).
# Usage: MIGNET_BUILD_DIR=build bench/bench_store.sh [bench_rest flags]
#        (e.g. --quick, --clients 64 --vms 20000)
root=$(cd "$(dirname "$0")/.." && pwd)
export MIGNET_BUILD_DIR=${MIGNET_BUILD_DIR:-$root/build}
export MIGNET_SOURCE_DIR=$root
source "$root/tests/integration/lib.sh"
source "$root/tests/integration/etcd_lib.sh"
need_etcd
BENCH=$MIGNET_BUILD_DIR/bench_rest
[ -x "$BENCH" ] || fail "no $BENCH (ninja -C build bench_rest)"
start_etcd bench

echo "# bench_store: $(date -u +%FT%TZ)"
echo
echo "machine: $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' \
    /proc/cpuinfo | head -1)), load average $(cut -d' ' -f1-3 \
    /proc/loadavg) at start; $(etcd --version | head -1);" \
    "etcd data dir on $(df -P "$T" | awk 'NR==2 {print $1}')"
echo
echo "command: bench/bench_store.sh $*"
echo
"$BENCH" --throughput-only "$@" || fail "bench_rest (SQLite)"
"$BENCH" --throughput-only --store "etcd://$ETCD_ADDR" \
    --store-max-txn-ops "$ETCD_MAX_TXN_OPS" --serial-commits "$@" \
    || fail "bench_rest (etcd, serial commits)"
"$BENCH" --throughput-only --store "etcd://$ETCD_ADDR" \
    --store-max-txn-ops "$ETCD_MAX_TXN_OPS" "$@" || fail "bench_rest (etcd)"
grep -q 'etcd_batch_too_large' "$T"/*.log 2>/dev/null \
    && fail "a batch exceeded the transaction limit"
exit 0
