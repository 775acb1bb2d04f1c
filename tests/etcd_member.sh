# etcd_member.sh: how the tests start one etcd member on loopback, shared
# by the integration tests' etcd_lib.sh (one member, or the three of
# test_ha_failover.sh) and the e2e bed's ha_lib.sh (a cluster for
# replicated mignetd).  Each caller keeps its own idiom for ports, PIDs
# and teardown; the member's command line is here once.

# shellcheck shell=bash

# The transaction limit (etcd's default is 128) and a 32 MiB request
# limit (etcd: 1.5 MiB), so a mignetd batch of that many records fits.
ETCD_MAX_TXN_OPS=${ETCD_MAX_TXN_OPS:-10000}

# etcd_member NAME DATADIR LOG CPORT PPORT CLUSTER [ARGS...]: starts the
# member NAME in the background ($! is its PID) with a fresh DATADIR, its
# output appended to LOG, clients on 127.0.0.1:CPORT (https when
# ETCD_SCHEME=https), peers on 127.0.0.1:PPORT, in the new cluster
# CLUSTER (--initial-cluster: NAME=http://127.0.0.1:PPORT,...).  ARGS go
# to etcd (TLS files, a cluster token).
etcd_member() {
    local name=$1 dir=$2 log=$3 cport=$4 pport=$5 cluster=$6
    local scheme=${ETCD_SCHEME:-http}
    shift 6
    rm -rf "$dir"
    etcd --name "$name" --data-dir "$dir" \
        --listen-client-urls "$scheme://127.0.0.1:$cport" \
        --advertise-client-urls "$scheme://127.0.0.1:$cport" \
        --listen-peer-urls "http://127.0.0.1:$pport" \
        --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
        --initial-cluster "$cluster" --initial-cluster-state new \
        --max-txn-ops "$ETCD_MAX_TXN_OPS" --max-request-bytes 33554432 \
        "$@" >>"$log" 2>&1 &
}
