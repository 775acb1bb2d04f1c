#!/usr/bin/env bash
# test_abuse_nodes.sh: issue 12's node-identity abuses against a real
# mignetd, each replayed and checked against what the controller did:
# forged acknowledgements through the gateway, forged refresh samples,
# impersonation of a node on the agent channel, a node speaking about a
# VM of another node, mutual TLS (the certificate's CN is the node id),
# and a token rotation closing the old session.  The last line is one
# JSON object of counts computed from what was observed (all must be 0).
source "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || fail "openssl is needed"

FORGED_ACKS=0
FORGED_SAMPLES=0
DISPLACED=0

# chan [--ca F --cert F --key F] LINE...: one agent-channel session (TLS
# with --ca) that sends LINEs, then prints every line received until the
# controller closes (then "CLOSED") or for 1.5 s (then "OPEN").
cat >"$T/chan.py" <<'PY'
import socket, ssl, sys, time
args = sys.argv[1:]
ca = cert = key = None
while args and args[0].startswith("--"):
    opt, val, args = args[0], args[1], args[2:]
    if opt == "--ca": ca = val
    elif opt == "--cert": cert = val
    elif opt == "--key": key = val
host, port, lines = args[0], int(args[1]), args[2:]
s = socket.create_connection((host, port), timeout=5)
if ca:
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    s = ctx.wrap_socket(s, server_hostname=host)
for l in lines:
    s.sendall(l.encode() + b"\n")
end = time.time() + 1.5
buf = b""
state = "OPEN"
while time.time() < end:
    s.settimeout(max(0.01, end - time.time()))
    try:
        d = s.recv(65536)
    except (socket.timeout, TimeoutError):
        break
    except (ConnectionResetError, ssl.SSLError):
        state = "CLOSED"
        break
    if not d:
        state = "CLOSED"
        break
    buf += d
for l in buf.decode(errors="replace").splitlines():
    if '"heartbeat"' not in l:
        print(l)
print(state)
PY
chan() {
    local tls=()
    while [ "${1:0:2}" = -- ]; do tls+=("$1" "$2"); shift 2; done
    python3 "$T/chan.py" "${tls[@]+"${tls[@]}"}" "${AGENT_ADDR%:*}" \
        "${AGENT_ADDR##*:}" "$@"
}
hello() { # hello NODE [TOKEN]
    if [ $# -ge 2 ]; then
        printf '{"type":"hello","node":"%s","proto":1,"token":"%s"}' "$1" "$2"
    else
        printf '{"type":"hello","node":"%s","proto":1}' "$1"
    fi
}
metric() { curl -sf "$URL/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
sessions_of() { jq -r .sessions "$T/agent-$1.json"; }

start_mignetd abuse --heartbeat-ms 1000 --prepare-timeout-ms 60000 \
    --delay-floor-ms 20000 --delay-ceiling-ms 60000
for n in 1 2 3; do
    ok POST /v1/nodes 201 "{\"id\":\"n$n\",\"address\":\"198.18.0.$n\",
        \"refresh_ms\":2000}"
done
[ "$(stat -c %a "$T/token-n1")" = 600 ] || fail "token file mode"
ok GET /v1/nodes/n1 200
[ "$(json .token_set)" = true ] && [ "$(json 'has("token")')" = false ] \
    || fail "node view: $BODY"
ok POST /v1/vms 201 '{"id":"vm1","mac":"02:00:00:00:00:01",
    "ip":"198.18.1.1","vni":100,"node":"n1"}'
# The agents never poll: only forged acknowledgements could release the
# deletion early.
for n in 1 2 3; do start_agent "n$n"; done
for n in 1 2 3; do
    eventually "n$n welcomed" state "n$n" '.welcomed and .resyncs >= 1'
done

# ---- forged acknowledgements through the gateway ----
ok POST /v1/vms/vm1/migrate 202 '{"to":"n2"}'
mig=$(json .migration)
relaying() {
    api GET "/v1/migrations/$mig"
    [ "$(json .phase)" = relaying ]
}
eventually "relaying" relaying
api GET /v1/tasks
due_before=$(json '.tasks[] | select(.kind == "delete") | .due_unix_ms')
[ -n "$due_before" ] || fail "no deletion scheduled: $BODY"
api GET /v1/map
V=$(json .version)
acked_of() { api GET "/v1/nodes/$1"; json .map_version; }
declare -A acked0
for n in n1 n2 n3; do acked0[$n]=$(acked_of $n); done
forged_before=$(metric mignet_map_reads_unauthenticated_total)
for n in n1 n2 n3; do
    API_HEADERS=()
    ok GET "/v1/map?since=$V&node=$n" 200
    API_HEADERS=(-H "Authorization: Bearer mgn_not-a-token")
    ok GET "/v1/map?since=$V&node=$n" 200
    other=n1; [ "$n" = n1 ] && other=n2
    API_HEADERS=(-H "Authorization: Bearer $(token $other)")
    ok GET "/v1/map?since=$V&node=$n" 200
    API_HEADERS=()
    curl -sf -o /dev/null -H "X-Mignet-Node: $n" "$URL/v1/map?since=$V" \
        || fail "header poll"
done
for n in n1 n2 n3; do
    [ "$(acked_of $n)" = "${acked0[$n]}" ] \
        || FORGED_ACKS=$((FORGED_ACKS + 1))
done
api GET "/v1/migrations/$mig"
[ "$(json .released_early)/$(json .phase)" = false/relaying ] \
    || FORGED_ACKS=$((FORGED_ACKS + 1))
api GET /v1/tasks
[ "$(json '.tasks[] | select(.kind == "delete") | .due_unix_ms')" \
    = "$due_before" ] || FORGED_ACKS=$((FORGED_ACKS + 1))
[ "$(metric mignet_map_reads_unauthenticated_total)" \
    = $((forged_before + 12)) ] || fail "unauthenticated reads not counted"
# The control: the nodes' own tokens do release it (the test can see it).
for n in n1 n2 n3; do
    API_HEADERS=(-H "Authorization: Bearer $(token $n)")
    ok GET "/v1/map?since=$V&node=$n" 200
done
API_HEADERS=()
api GET "/v1/migrations/$mig"
[ "$(json .released_early)" = true ] || fail "real acks did not release"

# ---- forged refresh samples ----
# n4 polls every 30 s: all of the below comes well inside half of that
# (15 s), also on a loaded machine, so only its first poll is a sample.
ok POST /v1/nodes 201 '{"id":"n4","address":"198.18.0.4","refresh_ms":30000}'
upper_of() { api GET /v1/nodes/n4; json .refresh.upper_ms; }
count_of() { api GET /v1/nodes/n4; json .refresh.count; }
upper0=$(upper_of)
c0=$(count_of)
for _ in $(seq 1 40); do
    curl -sf -o /dev/null "$URL/v1/map?node=n4" || fail "poll"
done
c1=$(count_of)
FORGED_SAMPLES=$((c1 - c0))
# Forty fast polls with n4's valid token: the first is a sample, the
# other 39 come sooner than half the node's interval and are not.
for _ in $(seq 1 40); do
    curl -sf -o /dev/null -H "Authorization: Bearer $(token n4)" \
        "$URL/v1/map?node=n4" || fail "poll"
done
c2=$(count_of)
[ "$c2" -ge $((c1 + 1)) ] || fail "n4's own poll was no sample"
FORGED_SAMPLES=$((FORGED_SAMPLES + c2 - c1 - 1))
# And forty fast 'refresh' messages on n4's own session: within the same
# half interval, none is a sample.
lines=("$(hello n4 "$(token n4)")")
for _ in $(seq 1 40); do lines+=('{"type":"refresh","version":0}'); done
chan "${lines[@]}" >"$T/n4.out"
grep -q '"welcome"' "$T/n4.out" || fail "n4 session: $(cat "$T/n4.out")"
c3=$(count_of)
FORGED_SAMPLES=$((FORGED_SAMPLES + c3 - c2))
upper1=$(upper_of)
[ "$upper1" -ge "$upper0" ] || fail "refresh bound dropped $upper0 -> $upper1"

# ---- impersonation on the agent channel ----
s1=$(sessions_of n1)
replaced0=$(grep -c "event=replaced" "$T/abuse.log" || true)
for cred in none "mgn_not-a-token" "$(token n2)"; do
    if [ "$cred" = none ]; then h=$(hello n1); else h=$(hello n1 "$cred"); fi
    chan "$h" >"$T/imp.out"
    [ "$(head -n 1 "$T/imp.out" | jq -r .code)" = unauthorized ] \
        || fail "impostor ($cred) answered: $(cat "$T/imp.out")"
    [ "$(tail -n 1 "$T/imp.out")" = CLOSED ] || fail "impostor kept open"
    [ "$(wc -l <"$T/imp.out")" = 2 ] \
        || fail "impostor got more than the error: $(cat "$T/imp.out")"
done
# Pre-hello: anything but hello is one error and the end.
chan '{"type":"refresh","version":0}' '{"type":"ack","seq":1}' >"$T/pre.out"
[ "$(head -n 1 "$T/pre.out" | jq -r .code)" = not_registered ] \
    && [ "$(wc -l <"$T/pre.out")" = 2 ] && [ "$(tail -n 1 "$T/pre.out")" = CLOSED ] \
    || fail "pre-hello: $(cat "$T/pre.out")"
chan '{"type":"frobnicate"}' "$(hello n1 "$(token n1)")" >"$T/pre2.out"
[ "$(head -n 1 "$T/pre2.out" | jq -r .code)" = unknown_type ] \
    && [ "$(wc -l <"$T/pre2.out")" = 2 ] || fail "pre-hello 2: $(cat "$T/pre2.out")"
sleep 0.3
replaced1=$(grep -c "event=replaced" "$T/abuse.log" || true)
DISPLACED=$(( replaced1 - replaced0 + $(sessions_of n1) - s1 ))
ok GET /v1/nodes/n1 200
[ "$(json .connected)" = true ] || fail "n1's real session lost: $BODY"
state n1 '.welcomed' || fail "n1's agent lost its session"
# An authenticated second session does replace the first (logged).
chan "$(hello n1 "$(token n1)")" >"$T/real.out"
grep -q '"welcome"' "$T/real.out" || fail "n1's token refused"
eventually "replacement logged" grep -q "event=replaced node=n1" \
    "$T/abuse.log"

# ---- a node speaks only for its own VMs ----
# vm1 is on n2 and its migration is cleaning or cleaned away from n1;
# n4 (authenticated, no agent of its own to replace the session) has
# nothing to do with it.
forbidden0=$(metric mignet_agent_forbidden_total)
api GET /v1/vms/vm1
ip0=$(json .ip)
chan "$(hello n4 "$(token n4)")" \
    '{"type":"binding","vm":"vm1","action":"created","binding":{"id":0,"node":"n4","mac":"02:00:00:00:00:01","ip":"198.18.1.99","type":"dynamic","origin":"agent","lease":60,"expires":1,"port_security":"trust"}}' \
    '{"type":"report","vm":"vm1","epoch":1}' \
    '{"type":"activated","vm":"vm1","epoch":2}' >"$T/n4f.out"
[ "$(grep -c '"code":"forbidden"' "$T/n4f.out")" = 3 ] \
    || fail "n4 about vm1: $(cat "$T/n4f.out")"
[ "$(tail -n 1 "$T/n4f.out")" = OPEN ] || fail "forbidden closed the session: $(cat "$T/n4f.out")"
[ "$(metric mignet_agent_forbidden_total)" = $((forbidden0 + 3)) ] \
    || fail "forbidden not counted"
api GET /v1/vms/vm1/binding
[ "$STATUS" = 404 ] || fail "a binding appeared: $BODY"
api GET /v1/vms/vm1
[ "$(json .ip)" = "$ip0" ] || fail "vm1's address changed: $BODY"

# ---- back-pressure: answers to a peer that does not read stay bounded ----
# n4 sends up to 200,000 bad acks (each answered with an error line) and
# reads nothing: mignetd stops reading it at 1 MiB queued, so its peak
# RSS grows by well under 8 MiB (without back-pressure: ~14 MiB).
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$MIGNETD_PID/status"; }
hwm0=$(hwm)
pauses0=$(metric mignet_agent_read_pauses_total)
python3 - "${AGENT_ADDR%:*}" "${AGENT_ADDR##*:}" "$(token n4)" <<'PY' \
    >"$T/flood.out"
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(('{"type":"hello","node":"n4","proto":1,"token":"%s"}\n'
           % sys.argv[3]).encode())
data = b'{"type":"ack","seq":999999999}\n' * 200000
s.setblocking(False)
sent, end = 0, time.time() + 3
while sent < len(data) and time.time() < end:
    try:
        sent += s.send(data[sent:sent + 65536])
    except BlockingIOError:
        time.sleep(0.01)
print(sent // 31)
time.sleep(1.5)
PY
hwm1=$(hwm)
echo "back-pressure: $(cat "$T/flood.out") bad acks unread, peak RSS" \
    "+$((hwm1 - hwm0)) KiB"
[ "$(metric mignet_agent_read_pauses_total)" -gt "$pauses0" ] \
    || fail "no back-pressure (sent $(cat "$T/flood.out") lines)"
[ $((hwm1 - hwm0)) -lt 8192 ] \
    || fail "peak RSS grew $((hwm1 - hwm0)) KiB under a non-reading peer"
kill -0 "$MIGNETD_PID" || fail "mignetd died"

# ---- token rotation closes the session that used the old token ----
"$MIGNET_BUILD_DIR/mignet" --url "$URL" node token n3 \
    --token-out "$T/token-n3.new" >/dev/null || fail "mignet node token"
[ "$(stat -c %a "$T/token-n3.new")" = 600 ] || fail "rotated token mode"
cmp -s "$T/token-n3" "$T/token-n3.new" && fail "rotation kept the token"
eventually "n3's old session told" grep -q \
    '"code":"unauthorized","message":"the node.s token was rotated"' \
    "$T/agent-n3.trace"
not_connected() { api GET /v1/nodes/n3; [ "$(json .connected)" = false ]; }
eventually "n3 disconnected (its agent has only the old token)" \
    not_connected
chan "$(hello n3 "$(token n3)")" >"$T/old.out"
[ "$(head -n 1 "$T/old.out" | jq -r .code)" = unauthorized ] \
    || fail "old token accepted: $(cat "$T/old.out")"
chan "$(hello n3 "$(cat "$T/token-n3.new")")" >"$T/new.out"
grep -q '"welcome"' "$T/new.out" || fail "new token: $(cat "$T/new.out")"

# ---- mutual TLS: the client certificate's CN is the node id ----
cd "$T"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout ca.key -out ca.pem -days 1 -subj /CN=mignet-test-ca \
    2>/dev/null || fail "CA"
signed() { # signed NAME CN [EXT]
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
    printf '%s\n' "${3:-basicConstraints=CA:FALSE}" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key \
        -CAcreateserial -out "$1.pem" -days 1 -extfile "$1.ext" \
        2>/dev/null || fail "cert $1"
}
signed ctl localhost "subjectAltName=IP:127.0.0.1"
signed n5 n5
signed n6 n6
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout rogue.key -out rogue.pem -days 1 -subj /CN=n5 2>/dev/null
cd - >/dev/null
start_mignetd tls --agent-tls-cert "$T/ctl.pem" --agent-tls-key "$T/ctl.key" \
    --agent-tls-ca "$T/ca.pem"
for n in 5 6; do
    ok POST /v1/nodes 201 "{\"id\":\"n$n\",\"address\":\"198.18.0.$n\"}"
done
TLS=(--ca "$T/ca.pem")
# n5 by its certificate alone (the test agent, no token).
"$MIGNET_BUILD_DIR/mignet-test-agent" --controller "$AGENT_ADDR" --node n5 \
    --tls-ca "$T/ca.pem" --tls-cert "$T/n5.pem" --tls-key "$T/n5.key" \
    --state "$T/agent-n5.json" --log "$T/agent-n5.trace" \
    --reconnect-ms 100 2>>"$T/agent-n5.log" &
PIDS+=("$!")
eventually "n5 welcomed by certificate" state n5 '.welcomed'
s5=$(sessions_of n5)
# n6's certificate does not make its holder n5; no certificate and no
# token gets nowhere; a certificate from another CA fails the handshake.
chan "${TLS[@]}" --cert "$T/n6.pem" --key "$T/n6.key" "$(hello n5)" \
    >"$T/tls1.out"
[ "$(head -n 1 "$T/tls1.out" | jq -r .code)" = unauthorized ] \
    || fail "n6's cert as n5: $(cat "$T/tls1.out")"
chan "${TLS[@]}" "$(hello n5)" >"$T/tls2.out"
[ "$(head -n 1 "$T/tls2.out" | jq -r .code)" = unauthorized ] \
    || fail "no cert, no token: $(cat "$T/tls2.out")"
chan "${TLS[@]}" --cert "$T/rogue.pem" --key "$T/rogue.key" "$(hello n5)" \
    >"$T/tls3.out" 2>/dev/null || true
grep -q '"welcome"' "$T/tls3.out" && fail "a rogue CA's n5 was welcomed"
sleep 0.3
DISPLACED=$(( DISPLACED + $(sessions_of n5) - s5 ))
state n5 '.welcomed' || fail "n5's session lost"
# Without a certificate the token still works over TLS.
chan "${TLS[@]}" "$(hello n6 "$(token n6)")" >"$T/tls4.out"
grep -q '"welcome"' "$T/tls4.out" || fail "token over TLS: $(cat "$T/tls4.out")"
# The real agent over TLS with n6's certificate and no token.
"$MIGNET_BUILD_DIR/mignet-agent" --node n6 --ofp "unix:$T/no-bridge.mgmt" \
    --controller "$AGENT_ADDR" --gateway "$URL" --tls-ca "$T/ca.pem" \
    --tls-cert "$T/n6.pem" --tls-key "$T/n6.key" \
    >"$T/agent6.out" 2>>"$T/agent6.log" &
PIDS+=("$!")
n6_connected() { api GET /v1/nodes/n6; [ "$(json .connected)" = true ]; }
eventually "mignet-agent n6 over mutual TLS" n6_connected
# Its map poll is plain HTTP: an https:// gateway is refused at start.
RC=0
timeout 10 "$MIGNET_BUILD_DIR/mignet-agent" --node n6 \
    --ofp "unix:$T/no-bridge.mgmt" --controller "$AGENT_ADDR" \
    --gateway "https://127.0.0.1:9" --tls-ca "$T/ca.pem" \
    --tls-cert "$T/n6.pem" --tls-key "$T/n6.key" \
    >/dev/null 2>"$T/agent6-https.err" || RC=$?
[ "$RC" = 2 ] && grep -q 'https:// is not supported' "$T/agent6-https.err" \
    || fail "https gateway not refused (rc $RC): $(cat "$T/agent6-https.err")"

printf '{"forged_acks_accepted": %d, "forged_samples_accepted": %d, "sessions_displaced_without_credentials": %d}\n' \
    "$FORGED_ACKS" "$FORGED_SAMPLES" "$DISPLACED"
[ "$FORGED_ACKS$FORGED_SAMPLES$DISPLACED" = 000 ] || fail "abuse accepted"
