#!/usr/bin/env bash
# test_abuse_limits.sh: mignetd under the abuse of issue 12's "Why" 3, 4
# and 7, at `ulimit -n 1024`: a flood of 1,100 connections from 127.0.0.2
# (the daemon stays under one core, logs at most a line a second about
# it, and a client on 127.0.0.1 still gets answers), 100 connections with
# 4 MiB bodies (RSS stays small), trickling clients (closed within the
# request timeout), junk on the agent port before hello (closed, the log
# stays small), a newline in a logged value sent by an agent that says
# hello during a flood of the agent port (welcomed; no forged line), and
# caps above the descriptor limit (accept backs off on EMFILE).  Prints
# the measured figures as one JSON line.  Runs as any user.
# ctest: serial (it measures CPU time and latency)
source "$(dirname "$0")/lib.sh"

CLIENT=$(dirname "$0")/abuse_client.py
TIMEOUT_MS=2000

# mignetd with a 1024-descriptor limit: a wrapper that execs it, so
# MIGNETD_PID is mignetd itself.
cat >"$T/mignetd-1024" <<EOF
#!/usr/bin/env bash
ulimit -n 1024
exec "$MIGNETD" "\$@"
EOF
chmod +x "$T/mignetd-1024"
MIGNETD=$T/mignetd-1024
start_mignetd abuse --request-timeout-ms "$TIMEOUT_MS"
LOG=$T/abuse.log
PORT=${URL##*:}
APORT=${AGENT_ADDR##*:}
grep -q 'Max open files *1024 ' "/proc/$MIGNETD_PID/limits" \
    || fail "mignetd does not run at ulimit -n 1024"

# CPU time (utime + stime, seconds) of mignetd.
cpu_s() {
    awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' \
        "/proc/$MIGNETD_PID/stat"
}
now_s() { date +%s.%N; }
calc() { python3 -c "print(round($1, 3))"; }

# ---- 1. Connection flood from 127.0.0.2 ----
FLOOD_S=8
lines0=$(wc -l <"$LOG")
c0=$(cpu_s); t0=$(now_s)
flood=$(python3 "$CLIENT" flood 127.0.0.1 "$PORT" 127.0.0.2 1100 "$FLOOD_S" \
    127.0.0.1 /healthz,/v1/nodes 50)
c1=$(cpu_s); t1=$(now_s)
kill -0 "$MIGNETD_PID" || fail "mignetd died in the flood"
echo "flood: $flood"
flood_cpu=$(calc "100 * ($c1 - $c0) / ($t1 - $t0)")
flood_lines=$(( $(wc -l <"$LOG") - lines0 ))
flood_lps=$(calc "$flood_lines / ($t1 - $t0)")
p99=$(jq -r .p99_ms <<<"$flood")
[ "$(jq -r .opened <<<"$flood")" -ge 1100 ] || fail "flood opened too few"
[ "$(jq -r .closed_by_server <<<"$flood")" -ge 1000 ] \
    || fail "connections beyond the per-peer cap were not closed: $flood"
[ "$(jq -r .probes <<<"$flood")" -ge 40 ] || fail "too few probes: $flood"
[ "$(jq -r '.probes == .probes_ok' <<<"$flood")" = true ] \
    || fail "the client on 127.0.0.1 did not always get answers: $flood"
python3 -c "import sys; sys.exit(0 if $flood_cpu < 100 else 1)" \
    || fail "mignetd used ${flood_cpu}% CPU in the flood"
python3 -c "import sys; sys.exit(0 if $flood_lps <= 1 else 1)" \
    || fail "$flood_lines log lines in the flood"
grep -q 'event=limits listener=rest refused_peer=[1-9]' "$LOG" \
    || fail "no summary line about the refused connections"

# The flood's connections are gone: the cap frees up (no leaked slots).
sleep 0.3
api GET /healthz
[ "$STATUS" = 200 ] || fail "healthz after the flood: $STATUS"

# ---- 2. 100 connections x 4 MiB bodies, from two other addresses ----
bodies=$(python3 "$CLIENT" bodies 127.0.0.1 "$PORT" 127.0.0.3,127.0.0.4 \
    100 $((4 << 20)))
echo "bodies: $bodies"
[ "$(jq -r '.answers["413"]' <<<"$bodies")" = 100 ] \
    || fail "not every 4 MiB body got a JSON 413: $bodies"
hwm_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$MIGNETD_PID/status")
rss_mib=$(calc "$hwm_kib / 1024")
python3 -c "import sys; sys.exit(0 if $rss_mib <= 64 else 1)" \
    || fail "RSS high-water mark ${rss_mib} MiB after the bodies"
api GET /v1/vms
[ "$STATUS" = 200 ] && [ "$(json '.vms | length')" = 0 ] \
    || fail "a refused body changed the state: $BODY"

# A head over 16 KiB and a chunked body over the limit: refused, in JSON.
big_hdr=$(head -c 20000 /dev/zero | tr '\0' a)
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -H "X-Big: $big_hdr" \
    "$URL/healthz")
[ "$STATUS" = 400 ] && jq -e '.error.code == "bad_request"' "$T/body" \
    >/dev/null || fail "a 20 KiB header: $STATUS $(cat "$T/body")"
STATUS=$(head -c 200000 /dev/zero | curl -s -o "$T/body" -w '%{http_code}' \
    -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' \
    --data-binary @- "$URL/v1/vms")
[ "$STATUS" = 413 ] && jq -e '.error.code == "too_large"' "$T/body" \
    >/dev/null || fail "a chunked 200 kB body: $STATUS $(cat "$T/body")"

# ---- 3. Trickling clients (1 byte a second) ----
trickle=$(python3 "$CLIENT" trickle 127.0.0.1 "$PORT" 5 \
    $((TIMEOUT_MS / 1000 + 3)))
echo "trickle: $trickle"
trickle_closed=$(jq -r --argjson t "$TIMEOUT_MS" \
    '[.closed_after_s[] | . != null and . <= ($t / 1000 + 0.5)] | all' \
    <<<"$trickle")
[ "$trickle_closed" = true ] \
    || fail "trickling clients not closed within the request timeout"
trickle_max=$(jq -r '.closed_after_s | max' <<<"$trickle")

# ---- 4. Junk on the agent port before hello ----
bytes0=$(wc -c <"$LOG")
junk=$(python3 "$CLIENT" junk 127.0.0.1 "$APORT" 20000)
echo "junk: $junk"
junk_log=$(( $(wc -c <"$LOG") - bytes0 ))
[ "$(jq -r .closed <<<"$junk")" = true ] || fail "junk session not closed"
[ "$(jq -r .reply_bytes <<<"$junk")" -le 4096 ] \
    || fail "more than 4 KiB answered before hello: $junk"
[ "$junk_log" -le 16384 ] || fail "junk grew the log by $junk_log bytes"
# Closed long before all 20,000 lines were sent.
junk_lines=$(jq -r .lines_sent <<<"$junk")
[ "$junk_lines" -lt 20000 ] || fail "the junk session was never closed"

# ---- 5. A newline in a logged value, sent by an agent on 127.0.0.1
# that says hello while 127.0.0.2 floods the agent port ----
python3 "$CLIENT" flood 127.0.0.1 "$APORT" 127.0.0.2 1100 4 127.0.0.1 / 0 \
    >"$T/aflood.json" &
aflood=$!
sleep 1
inject=$(python3 "$CLIENT" inject 127.0.0.1 "$APORT" "$PORT")
wait "$aflood" || fail "agent-port flood client failed"
echo "agent flood: $(cat "$T/aflood.json")"
[ "$(jq -r .welcomed <<<"$inject")" = true ] \
    || fail "no welcome during the agent-port flood: $inject"
[ "$(jq -r .closed_by_server "$T/aflood.json")" -ge 1000 ] \
    || fail "agent connections beyond the per-peer cap were not closed"
eventually "a summary line about the agent port" \
    grep -q 'event=limits listener=agent refused_peer=[1-9]' "$LOG"
eventually "the agent's error is logged" grep -q 'event=agent_error' "$LOG"
grep -q 'msg="x\\nts=2026-01-01T00:00:00.000Z level=error comp=core' "$LOG" \
    || fail "the newline is not escaped"
if grep -q '^ts=2026-01-01T00:00:00.000Z' "$LOG"; then
    fail "a forged log line made it"
fi
forged_lines=$(grep -c '^ts=2026-01-01' "$LOG" || true)

# Still serving.
api GET /v1/nodes
[ "$STATUS" = 200 ] || fail "GET /v1/nodes at the end: $STATUS"

# ---- 6. Out of descriptors: caps above the limit, so accept hits EMFILE
# and must back off (no spinning, no log flood), then serve again ----
start_mignetd emfile --request-timeout-ms "$TIMEOUT_MS" \
    --max-conns-per-peer 100000 --max-conns 100000
LOG=$T/emfile.log
PORT=${URL##*:}
lines0=$(wc -l <"$LOG")
c0=$(cpu_s); t0=$(now_s)
emfile=$(python3 "$CLIENT" flood 127.0.0.1 "$PORT" 127.0.0.2 1100 5 \
    127.0.0.1 /healthz 10)
c1=$(cpu_s); t1=$(now_s)
echo "emfile: $emfile"
kill -0 "$MIGNETD_PID" || fail "mignetd died out of descriptors"
emfile_cpu=$(calc "100 * ($c1 - $c0) / ($t1 - $t0)")
emfile_lines=$(( $(wc -l <"$LOG") - lines0 ))
emfile_lps=$(calc "$emfile_lines / ($t1 - $t0)")
grep -q 'accept_backoffs=[1-9].* errno=24 ' "$LOG" \
    || fail "accept never backed off on EMFILE"
python3 -c "import sys; sys.exit(0 if $emfile_cpu < 100 else 1)" \
    || fail "mignetd used ${emfile_cpu}% CPU out of descriptors"
python3 -c "import sys; sys.exit(0 if $emfile_lps <= 1 else 1)" \
    || fail "$emfile_lines log lines out of descriptors"
eventually "serving after the EMFILE flood" \
    curl -sf -m 2 -o /dev/null "$URL/healthz"

printf '{"flood_cpu_percent": %s, "flood_log_lines_per_s": %s, ' \
    "$flood_cpu" "$flood_lps"
printf '"flood_auth_p99_ms": %s, "body_flood_rss_mib": %s, ' \
    "$(calc "$p99")" "$rss_mib"
printf '"trickle_closed": %s, "trickle_closed_after_s": %s, ' \
    "$trickle_closed" "$(calc "$trickle_max")"
printf '"junk_lines_sent_before_close": %s, "junk_log_bytes": %s, ' \
    "$junk_lines" "$junk_log"
printf '"forged_log_lines": %s, "emfile_cpu_percent": %s, ' \
    "$forged_lines" "$emfile_cpu"
printf '"emfile_log_lines_per_s": %s}\n' "$emfile_lps"
echo "PASS"
