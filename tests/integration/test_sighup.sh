#!/usr/bin/env bash
# test_sighup.sh: SIGHUP makes mignetd reload what it can -- the log levels
# (config file) and the API tokens file -- and keep running; a setting that
# needs a restart is named in one log line and left as it was.  Also the
# agent: SIGHUP reloads its log level and token file and it keeps running.
source "$(dirname "$0")/lib.sh"

OLD=old-token-aaaaaaaaaaaaaaaa
NEW=new-token-bbbbbbbbbbbbbbbb
(umask 077 && printf 'reader %s ops\n' "$OLD" >"$T/tokens")
cat >"$T/mignetd.conf" <<CONF
# mignetd settings for test_sighup.sh
log-level = info
access-log-level = debug
api-tokens = $T/tokens
heartbeat-ms = 1000
CONF

start_mignetd hup --config "$T/mignetd.conf"
LOG=$T/hup.log

API_HEADERS=(-H "Authorization: Bearer $OLD")
ok GET /v1/nodes 200
# At info, a refused request logs no debug line.
api GET /v1/no-such-route
[ "$STATUS" = 404 ] || fail "GET /v1/no-such-route -> $STATUS"
grep -q 'level=debug' "$LOG" && fail "debug lines before the reload"

# The new settings: a new token replaces the old one, the log level goes
# to debug, and heartbeat-ms changes (it needs a restart).
(umask 077 && printf 'reader %s ops\n' "$NEW" >"$T/tokens")
sed -i -e 's/^log-level = info/log-level = debug/' \
       -e 's/^access-log-level = debug/access-log-level = info/' \
       -e 's/^heartbeat-ms = 1000/heartbeat-ms = 2000/' "$T/mignetd.conf"
kill -HUP "$MIGNETD_PID"
eventually "the reload is logged" grep -q 'event=reloaded' "$LOG"
kill -0 "$MIGNETD_PID" 2>/dev/null || fail "mignetd died of SIGHUP"

grep 'event=reloaded' "$LOG" \
    | grep -q 'changed="log-level access-log-level api-tokens"' \
    || fail "reload line does not name log-level, access-log-level and \
api-tokens: \
$(grep 'event=reload' "$LOG")"
grep 'event=reload_ignored' "$LOG" | grep -q 'restart_needed="heartbeat-ms"' \
    || fail "no line naming heartbeat-ms as needing a restart: \
$(grep 'event=reload' "$LOG")"

API_HEADERS=(-H "Authorization: Bearer $NEW")
ok GET /v1/nodes 200
API_HEADERS=(-H "Authorization: Bearer $OLD")
api GET /v1/nodes
[ "$STATUS" = 401 ] || fail "old token after reload -> $STATUS, want 401"
# The log level is debug now: the refused request is logged at debug;
# the access log went from debug to info.
grep -q 'level=debug comp=rest event=error status=401' "$LOG" \
    || fail "no debug line after the reload to debug"
grep -q 'level=info comp=rest event=access' "$LOG" \
    || fail "no access line at info after the reload"

# A bad tokens file is refused and the running tokens stay.
printf 'reader short\n' >"$T/tokens"
chmod 600 "$T/tokens"
kill -HUP "$MIGNETD_PID"
eventually "the failed reload is logged" grep -q 'event=reload_failed' "$LOG"
kill -0 "$MIGNETD_PID" 2>/dev/null || fail "mignetd died of a bad reload"
API_HEADERS=(-H "Authorization: Bearer $NEW")
ok GET /v1/nodes 200

# A second SIGHUP with nothing changed logs nothing changed.
(umask 077 && printf 'reader %s ops\n' "$NEW" >"$T/tokens")
n=$(grep -c 'event=reloaded' "$LOG")
more_reloads() { [ "$(grep -c 'event=reloaded' "$LOG")" -gt "$n" ]; }
kill -HUP "$MIGNETD_PID"
eventually "the second reload is logged" more_reloads
grep 'event=reloaded' "$LOG" | tail -n 1 | grep -q 'changed=""' \
    || fail "second reload changed something: $(grep reloaded "$LOG")"

stop_pid "$MIGNETD_PID" TERM
[ "$STOP_RC" = 0 ] || fail "mignetd exit code $STOP_RC after SIGTERM"

# The agent: a config file and a token file; SIGHUP reloads both.
AGENT=$MIGNET_BUILD_DIR/mignet-agent
printf '%s\n' token-one-xxxxxxxx >"$T/agent-token"
chmod 600 "$T/agent-token"
cat >"$T/agent.conf" <<CONF
node = n1
ofp = unix:$T/no-bridge.mgmt
controller = 127.0.0.1:9
gateway = http://127.0.0.1:9
token-file = $T/agent-token
log-level = info
refresh-ms = 2000
CONF
"$AGENT" --config "$T/agent.conf" >"$T/agent.out" 2>"$T/agent.log" &
APID=$!
PIDS+=("$APID")
eventually "the agent is ready" grep -q '^mignet-agent ready ' "$T/agent.out"
printf '%s\n' token-two-yyyyyyyy >"$T/agent-token"
sed -i -e 's/^log-level = info/log-level = debug/' \
       -e 's/^refresh-ms = 2000/refresh-ms = 3000/' "$T/agent.conf"
kill -HUP "$APID"
eventually "the agent logs its reload" grep -q 'event=reloaded' "$T/agent.log"
kill -0 "$APID" 2>/dev/null || fail "mignet-agent died of SIGHUP"
grep 'event=reloaded' "$T/agent.log" \
    | grep -q 'changed="log-level token"' \
    || fail "agent reload line: $(grep reload "$T/agent.log")"
grep 'event=reload_ignored' "$T/agent.log" \
    | grep -q 'restart_needed="refresh-ms"' \
    || fail "agent ignored line: $(grep reload "$T/agent.log")"
stop_pid "$APID" TERM
echo "PASS test_sighup"
