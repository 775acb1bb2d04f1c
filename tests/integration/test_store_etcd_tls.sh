#!/usr/bin/env bash
# test_store_etcd_tls.sh: mignetd on an etcd that serves https only and
# asks every client for a certificate (--client-cert-auth), as operators
# run it (docs/ha.md, "TLS to etcd").  A throwaway CA, etcd's certificate
# for 127.0.0.1 (IP subjectAltName) and client certificates are made here
# with openssl (etcd_lib.sh make_etcd_certs); etcd is stopped by PID by the
# EXIT trap even on failure.
# (0) The store's own cases (test_store_etcd: the backend-independent
#     cases, the transaction limits, the lease guard) over TLS.
# (1) With --store-cacert/--store-cert/--store-key a migration is accepted,
#     mignetd is killed -9 and started again on an empty state directory,
#     and the migration is there: it is in etcd, over TLS.
# (2) Two replicas (--replica) elect one leader over TLS (the key is in
#     etcd, read back with the client certificate), and when the leader is
#     killed the follower's watch of the leader key starts its campaign.
# (3) Refused at start, with a clear error, exit code not 0, nothing
#     written: etcd's certificate from another CA or for another host
#     (localhost; it names 127.0.0.1), no client certificate, a client
#     certificate from another CA, plain http (no --store-cacert), a
#     replica with the wrong CA or with plain http, a missing CA or key
#     file, a key file that is no key, a certificate without its key, a
#     key that does not match, TLS flags with sqlite.
# ctest: serial (etcd and two replicas)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/etcd_lib.sh"
need_etcd
command -v openssl >/dev/null || fail "openssl is needed (scripts/deps.sh test)"

P=$T/pki
make_etcd_certs "$P"
ETCD_TLS=$P start_etcd tls
CURL_TLS=(--cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key")
TLS=(--store-cacert "$P/ca.pem" --store-cert "$P/client.pem"
     --store-key "$P/client.key")
STORE=(--store "etcd://$ETCD_ADDR" --store-prefix /tls
       --store-max-txn-ops "$ETCD_MAX_TXN_OPS")

# etcd_count KEY [END]: how many keys etcd holds in [KEY, END) (KEY alone
# without END), read over TLS with curl, not with mignet's client.
etcd_count() {
    local q
    q="{\"key\":\"$(printf '%s' "$1" | base64 -w0)\",\"count_only\":true"
    [ $# -lt 2 ] || q+=",\"range_end\":\"$(printf '%s' "$2" | base64 -w0)\""
    curl -sf "${CURL_TLS[@]}" -X POST "https://$ETCD_ADDR/v3/kv/range" \
        -d "$q}" | jq -r '.count // "0"'
}

# ---- (0) the store's cases over TLS ----
out=$(MIGNET_TEST_ETCD=$ETCD_ADDR MIGNET_TEST_ETCD_MAX_OPS=$ETCD_MAX_TXN_OPS \
      MIGNET_TEST_ETCD_CACERT=$P/ca.pem MIGNET_TEST_ETCD_CERT=$P/client.pem \
      MIGNET_TEST_ETCD_KEY=$P/client.key \
      "$MIGNET_BUILD_DIR/test_store_etcd" 2>&1) || {
    echo "$out" >&2; fail "test_store_etcd over TLS"; }
grep -q SKIPPED <<<"$out" && { echo "$out" >&2; fail "store cases skipped"; }
grep -q '^\[  PASSED  \] 17 test(s)' <<<"$out" \
    || { echo "$out" >&2; fail "store cases over TLS: not all ran"; }

# ---- (1) durable over TLS: accept, kill -9, restart, still there ----
RUN=0
restart() {
    RUN=$((RUN + 1))
    start_mignetd "run$RUN" "${STORE[@]}" "${TLS[@]}" --log-level info \
        --prepare-timeout-ms 600000 --delay-floor-ms 100000
}
restart
grep -q 'event=etcd_opened .*tls=1 client_cert=1' "$T/run1.log" ||
    fail "mignetd does not say it opened etcd over TLS: $(cat "$T/run1.log")"
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":500}'
ok POST /v1/nodes 201 '{"id":"n2","address":"198.18.0.2","refresh_ms":500}'
ok POST /v1/vms 201 '{"id":"vm1","mac":"02:00:00:00:00:01",
"ip":"198.18.1.1","vni":101,"node":"n1"}'
ok POST /v1/vms/vm1/migrate 202 '{"to":"n2","switchover":"manual"}'
api GET /v1/migrations/1
[ "$STATUS" = 200 ] || fail "migration 1 before the kill: $STATUS $BODY"
before=$(json '{vm, from, to, epoch}')
[ "$(etcd_count /tls/ /tls0)" -gt 0 ] || fail "nothing under /tls/ in etcd"
stop_pid "$MIGNETD_PID" 9
restart
api GET /v1/migrations/1
[ "$STATUS" = 200 ] || fail "migration 1 lost across kill -9: $STATUS $BODY"
[ "$(json '{vm, from, to, epoch}')" = "$before" ] ||
    fail "migration 1 changed across kill -9: $before -> $BODY"
stop_pid "$MIGNETD_PID" TERM
[ "$STOP_RC" = 0 ] || fail "SIGTERM exit code $STOP_RC"

# ---- (2) a replica pair elects one leader over TLS ----
R_REST=(); R_PID=()
for i in 0 1; do R_REST+=("$(free_port)"); done
for i in 0 1; do
    "$MIGNETD" --store "etcd://$ETCD_ADDR" --store-prefix /tls-ha \
        "${TLS[@]}" --replica "r$i" --lease-ttl-s 2 \
        --listen "127.0.0.1:${R_REST[$i]}" --agent-listen 127.0.0.1:0 \
        --state-dir "$T/r$i" --log-level info \
        >>"$T/r$i.out" 2>>"$T/r$i.log" &
    R_PID+=("$!")
    PIDS+=("$!")
done
role() {
    curl -s -m 1 "http://127.0.0.1:${R_REST[$1]}/healthz" 2>/dev/null |
        jq -r '.role // empty' 2>/dev/null || true
}
one_leader() {
    local a b
    a=$(role 0); b=$(role 1)
    [ "$a:$b" = leader:follower ] || [ "$a:$b" = follower:leader ]
}
eventually "one leader of two replicas over TLS" one_leader
[ "$(etcd_count /tls-ha/leader)" = 1 ] || fail "no leader key in etcd"
# The leader's lease is kept alive over TLS: still one leader after two
# TTLs.
sleep 4
one_leader || fail "leadership did not hold: r0=$(role 0) r1=$(role 1)"
for i in 0 1; do
    ! grep -q 'event=campaign_failed' "$T/r$i.log" ||
        fail "replica r$i: a campaign failed: $(cat "$T/r$i.log")"
done
# The follower watches the leader key over TLS: the leader killed, its
# lease ends, the key goes, and the watch starts the follower's campaign.
if [ "$(role 0)" = leader ]; then lead=0; fol=1; else lead=1; fol=0; fi
stop_pid "${R_PID[$lead]}" 9
new_leader() { [ "$(role "$fol")" = leader ]; }
eventually "r$fol takes over" new_leader
grep -q 'event=leader_key_deleted' "$T/r$fol.log" ||
    fail "r$fol: no leader_key_deleted (the watch over TLS): $(cat "$T/r$fol.log")"
stop_pid "${R_PID[$fol]}" TERM

# ---- (3) refused at start ----
# (must_refuse: lib.sh.)
REFUSE=(--listen 127.0.0.1:0 --agent-listen 127.0.0.1:0
        --store "etcd://$ETCD_ADDR" --store-prefix /tls-refused)
must_refuse "etcd's certificate from another CA" \
    "certificate verify failed" "${REFUSE[@]}" \
    --store-cacert "$P/other-ca.pem" --store-cert "$P/client.pem" \
    --store-key "$P/client.key"
# The certificate names IP 127.0.0.1, not "localhost": the host is checked.
must_refuse "etcd's certificate not naming the host" "hostname mismatch" \
    --listen 127.0.0.1:0 --agent-listen 127.0.0.1:0 \
    --store "etcd://localhost:${ETCD_ADDR##*:}" --store-prefix /tls-refused \
    "${TLS[@]}"
must_refuse "no client certificate" "no client certificate given" \
    "${REFUSE[@]}" --store-cacert "$P/ca.pem"
must_refuse "a client certificate etcd does not trust" \
    "TLS handshake or server verification failed" "${REFUSE[@]}" \
    --store-cacert "$P/ca.pem" --store-cert "$P/other-client.pem" \
    --store-key "$P/other-client.key"
must_refuse "plain http at an https etcd" "mignetd --store-cacert" \
    "${REFUSE[@]}"
must_refuse "a replica with the wrong CA" "certificate verify failed" \
    "${REFUSE[@]}" --replica rx --store-cacert "$P/other-ca.pem" \
    --store-cert "$P/client.pem" --store-key "$P/client.key"
must_refuse "a replica talking plain http to an https etcd" \
    "mignetd --store-cacert" "${REFUSE[@]}" --replica ry
must_refuse "a missing CA file" \
    "cannot read CA certificates $P/nope.pem: No such file" \
    "${REFUSE[@]}" --store-cacert "$P/nope.pem"
must_refuse "a certificate without its key" \
    "store-cert and store-key go together" "${REFUSE[@]}" \
    --store-cacert "$P/ca.pem" --store-cert "$P/client.pem"
must_refuse "a key that does not match the certificate" \
    "key $P/other-client.key does not match certificate $P/client.pem" \
    "${REFUSE[@]}" --store-cacert "$P/ca.pem" --store-cert "$P/client.pem" \
    --store-key "$P/other-client.key"
must_refuse "a missing key file" \
    "cannot read key $P/gone.key: No such file" "${REFUSE[@]}" \
    --store-cacert "$P/ca.pem" --store-cert "$P/client.pem" \
    --store-key "$P/gone.key"
must_refuse "a key file that is no key" "cannot load key $P/ca.pem" \
    "${REFUSE[@]}" --store-cacert "$P/ca.pem" --store-cert "$P/client.pem" \
    --store-key "$P/ca.pem"
must_refuse "TLS flags with sqlite" "not sqlite" --listen 127.0.0.1:0 \
    --agent-listen 127.0.0.1:0 --store sqlite --store-cacert "$P/ca.pem"
[ ! -e "$T/refused/mignet.db" ] || fail "a refused start made a store"
[ "$(etcd_count /tls-refused /tls-refusee)" = 0 ] ||
    fail "a refused start wrote to etcd"
echo "test_store_etcd_tls: ok"
