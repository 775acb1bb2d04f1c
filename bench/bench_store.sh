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
# --tls (first): one more run on a second etcd serving https only with
# client-certificate authentication (certificates made by make_etcd_certs),
# mignetd with --store-cacert/--store-cert/--store-key: what TLS to etcd
# costs.
# Usage: MIGNET_BUILD_DIR=build bench/bench_store.sh [--tls] [bench_rest flags]
#        (e.g. --quick, --clients 64 --vms 20000)
root=$(cd "$(dirname "$0")/.." && pwd)
export MIGNET_BUILD_DIR=${MIGNET_BUILD_DIR:-$root/build}
export MIGNET_SOURCE_DIR=$root
source "$root/tests/integration/lib.sh"
source "$root/tests/integration/etcd_lib.sh"
need_etcd
TLS=0
[ "${1:-}" = --tls ] && { TLS=1; shift; }
BENCH=$MIGNET_BUILD_DIR/bench_rest
[ -x "$BENCH" ] || fail "no $BENCH (ninja -C build bench_rest)"
start_etcd bench
if [ "$TLS" = 1 ]; then
    PLAIN_ADDR=$ETCD_ADDR
    make_etcd_certs "$T/pki"
    ETCD_TLS=$T/pki start_etcd bench-tls
    TLS_ADDR=$ETCD_ADDR
    ETCD_ADDR=$PLAIN_ADDR
fi

echo "# bench_store: $(date -u +%FT%TZ)"
echo
echo "machine: $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' \
    /proc/cpuinfo | head -1)), load average $(cut -d' ' -f1-3 \
    /proc/loadavg) at start; $(etcd --version | head -1);" \
    "etcd data dir on $(df -P "$T" | awk 'NR==2 {print $1}')"
echo
echo "command: bench/bench_store.sh $([ "$TLS" = 1 ] && echo "--tls ")$*"
echo
"$BENCH" --throughput-only "$@" || fail "bench_rest (SQLite)"
"$BENCH" --throughput-only --store "etcd://$ETCD_ADDR" \
    --store-max-txn-ops "$ETCD_MAX_TXN_OPS" --serial-commits "$@" \
    || fail "bench_rest (etcd, serial commits)"
"$BENCH" --throughput-only --store "etcd://$ETCD_ADDR" \
    --store-max-txn-ops "$ETCD_MAX_TXN_OPS" "$@" || fail "bench_rest (etcd)"
if [ "$TLS" = 1 ]; then
    "$BENCH" --throughput-only --store "etcd://$TLS_ADDR" \
        --store-max-txn-ops "$ETCD_MAX_TXN_OPS" --store-cacert "$T/pki/ca.pem" \
        --store-cert "$T/pki/client.pem" --store-key "$T/pki/client.key" \
        "$@" || fail "bench_rest (etcd over TLS)"
fi
grep -q 'etcd_batch_too_large' "$T"/*.log 2>/dev/null \
    && fail "a batch exceeded the transaction limit"
exit 0
