# etcd_lib.sh: a one-member etcd on loopback for the tests and benches of
# the etcd store (docs/ha.md), sourced after lib.sh.  start_etcd picks free
# ports itself (again when another process took one first), keeps its data
# under $T, and registers its PID so that lib.sh's EXIT trap stops it
# (kill -9 by PID) whatever happens.

# need_etcd: exit 77 (skip) when etcd is not installed, unless root (CI),
# where a missing package is a failure (scripts/deps.sh test installs it).
need_etcd() {
    command -v etcd >/dev/null && return 0
    [ "$(id -u)" -eq 0 ] && fail "etcd is not installed (scripts/deps.sh test)"
    echo "SKIP: etcd is not installed (apt-get install etcd-server)" >&2
    exit 77
}

# start_etcd NAME [ARGS...]: starts etcd with data dir $T/etcd-NAME and
# sets ETCD_PID and ETCD_ADDR (127.0.0.1:PORT of its clients).  The
# transaction limit is ETCD_MAX_TXN_OPS (10000; etcd's own default is
# 128), the request limit 32 MiB (etcd: 1.5 MiB) so a batch of that many
# records fits.
ETCD_MAX_TXN_OPS=${ETCD_MAX_TXN_OPS:-10000}
start_etcd() {
    local name=$1; shift
    local try i cport pport
    for try in 1 2 3 4 5; do
        cport=$(free_port); pport=$(free_port)
        [ "$cport" != "$pport" ] || continue
        rm -rf "$T/etcd-$name"
        etcd --name "$name" --data-dir "$T/etcd-$name" \
            --listen-client-urls "http://127.0.0.1:$cport" \
            --advertise-client-urls "http://127.0.0.1:$cport" \
            --listen-peer-urls "http://127.0.0.1:$pport" \
            --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
            --initial-cluster "$name=http://127.0.0.1:$pport" \
            --max-txn-ops "$ETCD_MAX_TXN_OPS" \
            --max-request-bytes 33554432 "$@" \
            >>"$T/etcd-$name.log" 2>&1 &
        ETCD_PID=$!
        PIDS+=("$ETCD_PID")
        ETCD_ADDR=127.0.0.1:$cport
        for i in $(seq 1 200); do
            if curl -sf "http://$ETCD_ADDR/health" 2>/dev/null \
                | grep -q '"health":"true"'; then
                return 0
            fi
            kill -0 "$ETCD_PID" 2>/dev/null || break
            sleep 0.05
        done
        stop_pid "$ETCD_PID" 9 # a port taken meanwhile: other ports
    done
    fail "etcd $name did not start (see $T/etcd-$name.log)"
}

# store_failed_exit: after a request answered 500 store_failed, mignetd
# ($MIGNETD_PID) must exit, and not with 0 (a failed commit stops it).
store_failed_exit() {
    [ "$STATUS" = 500 ] || fail "a failed commit answered $STATUS: $BODY"
    [ "$(json .error.code)" = store_failed ] || fail "not store_failed: $BODY"
    local i rc=0
    for i in $(seq 1 100); do
        kill -0 "$MIGNETD_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$MIGNETD_PID" 2>/dev/null \
        && fail "mignetd still runs after a failed commit"
    wait "$MIGNETD_PID" || rc=$?
    [ "$rc" != 0 ] || fail "mignetd exited 0 after a failed commit"
}
