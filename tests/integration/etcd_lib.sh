# etcd_lib.sh: a one-member etcd on loopback for the tests and benches of
# the etcd store (docs/ha.md), sourced after lib.sh.  start_etcd picks free
# ports itself (again when another process took one first), keeps its data
# under $T, and registers its PID so that lib.sh's EXIT trap stops it
# (kill -9 by PID) whatever happens.  With ETCD_TLS=DIR (certificates made
# by make_etcd_certs DIR) it serves its clients over https only and asks
# each for a client certificate (--client-cert-auth).

source "$(dirname "${BASH_SOURCE[0]}")/../etcd_member.sh"

# need_etcd: exit 77 (skip) when etcd is not installed, unless root (CI),
# where a missing package is a failure (scripts/deps.sh test installs it).
need_etcd() {
    command -v etcd >/dev/null && return 0
    [ "$(id -u)" -eq 0 ] && fail "etcd is not installed (scripts/deps.sh test)"
    echo "SKIP: etcd is not installed (apt-get install etcd-server)" >&2
    exit 77
}

# make_etcd_certs DIR: a throwaway CA (DIR/ca.pem), etcd's server
# certificate for 127.0.0.1 (subjectAltName IP; DIR/server.pem, .key), a
# client certificate signed by the CA (DIR/client.pem, .key), and a second,
# unrelated CA with a client certificate of its own (DIR/other-ca.pem,
# DIR/other-client.pem, .key).  EC P-256 keys: quick to make.
make_etcd_certs() {
    local d=$1 ca
    mkdir -p "$d"
    for ca in ca other-ca; do
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
            -nodes -keyout "$d/$ca.key" -out "$d/$ca.pem" -days 2 \
            -subj "/CN=mignet test $ca" >/dev/null 2>&1 \
            || fail "openssl: cannot make $ca"
    done
    # _etcd_cert NAME CA EXT: a key and a certificate signed by CA.
    _etcd_cert() {
        printf '%b' "$3" >"$d/$1.ext"
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$d/$1.key" -out "$d/$1.csr" -subj "/CN=$1" \
            >/dev/null 2>&1 &&
        openssl x509 -req -in "$d/$1.csr" -CA "$d/$2.pem" \
            -CAkey "$d/$2.key" -CAcreateserial -days 2 \
            -extfile "$d/$1.ext" -out "$d/$1.pem" >/dev/null 2>&1 \
            || fail "openssl: cannot make $1"
    }
    _etcd_cert server ca "subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth, clientAuth\n"
    _etcd_cert client ca "extendedKeyUsage = clientAuth\n"
    _etcd_cert other-client other-ca "extendedKeyUsage = clientAuth\n"
    chmod 600 "$d"/*.key
}

# start_etcd NAME [ARGS...]: starts etcd with data dir $T/etcd-NAME and
# sets ETCD_PID and ETCD_ADDR (127.0.0.1:PORT of its clients); the limits
# are etcd_member's (ETCD_MAX_TXN_OPS).  ETCD_TLS=DIR: https for clients
# (see above).
start_etcd() {
    local name=$1; shift
    local try i cport pport scheme=http
    local tls=() health=()
    if [ -n "${ETCD_TLS:-}" ]; then
        scheme=https
        tls=(--cert-file "$ETCD_TLS/server.pem"
             --key-file "$ETCD_TLS/server.key" --client-cert-auth
             --trusted-ca-file "$ETCD_TLS/ca.pem")
        health=(--cacert "$ETCD_TLS/ca.pem" --cert "$ETCD_TLS/client.pem"
                --key "$ETCD_TLS/client.key")
    fi
    for try in 1 2 3 4 5; do
        cport=$(free_port); pport=$(free_port)
        [ "$cport" != "$pport" ] || continue
        ETCD_SCHEME=$scheme etcd_member "$name" "$T/etcd-$name" \
            "$T/etcd-$name.log" "$cport" "$pport" \
            "$name=http://127.0.0.1:$pport" "${tls[@]}" "$@"
        ETCD_PID=$!
        PIDS+=("$ETCD_PID")
        ETCD_ADDR=127.0.0.1:$cport
        for i in $(seq 1 200); do
            if curl -sf "${health[@]}" "$scheme://$ETCD_ADDR/health" \
                2>/dev/null | grep -q '"health":"true"'; then
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
