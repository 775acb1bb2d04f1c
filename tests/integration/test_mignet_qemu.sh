#!/usr/bin/env bash
# test_mignet_qemu.sh: mignet-qemu against a scripted QMP server
# (fake_qmp.py) and a stand-in for mignetd's migration endpoints
# (fake_mignetd.py), both logging every call into one file, in order.
#
# For each MIGRATION event sequence it checks the calls made and their
# order: setup -> migrate, completed -> switchover (manual), cancelled or
# failed -> abort, nothing on completion in rarp; lossless: hold, migrate,
# prepared, release for pre-copy, freeze, switchover, confirmed, release,
# STOP, completed, RESUME, activation, parameters restored; and the exit
# codes of --help.  Then the same against the real mignetd with two test
# agents: the migration's phases, the gateway map and the abort reason
# after manual, cancelled and lossless runs.  Everything on loopback and
# unix sockets under $T.
set -euo pipefail

: "${MIGNET_BUILD_DIR:?set MIGNET_BUILD_DIR to the build directory}"
: "${MIGNET_SOURCE_DIR:?set MIGNET_SOURCE_DIR to the source directory}"
# shellcheck source=lib.sh
source "$MIGNET_SOURCE_DIR/tests/integration/lib.sh"

TOOL=$MIGNET_BUILD_DIR/mignet-qemu
FAKES=$MIGNET_SOURCE_DIR/tests/integration
[ -x "$TOOL" ] || fail "no mignet-qemu at $TOOL"
command -v python3 >/dev/null || fail "python3 is needed for fake servers"

# start_fakes CASE SCENARIO [fake_mignetd options...]: a fresh fake QEMU
# pair and fake mignetd logging to $T/CASE.calls; sets QMP, DST, FURL.
start_fakes() {
    local c=$1 scen=$2; shift 2
    start_qmp "$c" "$scen"
    python3 "$FAKES/fake_mignetd.py" --log "$LOG" \
        --port-file "$T/$c.port" "$@" 2>>"$T/$c.fake.log" &
    PIDS+=($!)
    local i
    for i in $(seq 1 100); do
        [ -s "$T/$c.port" ] && break
        sleep 0.05
    done
    [ -s "$T/$c.port" ] || fail "$c: fake mignetd not ready"
    FURL=http://127.0.0.1:$(cat "$T/$c.port")
}
# start_qmp CASE SCENARIO: the fake QEMU pair alone; sets LOG, QMP, DST.
start_qmp() {
    local c=$1 scen=$2
    LOG=$T/$c.calls
    QMP=$T/$c.src.sock
    DST=$T/$c.dst.sock
    : >"$LOG"
    python3 "$FAKES/fake_qmp.py" --src "$QMP" --dst "$DST" --log "$LOG" \
        --scenario "$scen" 2>>"$T/$c.fake.log" &
    PIDS+=($!)
    local i
    for i in $(seq 1 100); do
        [ -S "$QMP" ] && [ -S "$DST" ] && break
        sleep 0.05
    done
    [ -S "$QMP" ] && [ -S "$DST" ] || fail "$c: fake QMP not ready"
}

# tool WANT ARGS...: runs mignet-qemu; its exit code must be WANT.  The
# JSON line goes to $T/out, stderr to $T/err.
tool() {
    local want=$1; shift
    local rc=0
    timeout 30 "$TOOL" "$@" >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" = "$want" ] || fail "mignet-qemu $* -> exit $rc, want $want
stdout: $(cat "$T/out")
stderr: $(cat "$T/err")
calls: $(cat "$LOG" 2>/dev/null)"
}

# line TEXT: the number of the first call line containing TEXT (fixed
# string), or fails.
line() {
    local n
    n=$(grep -n -F -m1 -- "$1" "$LOG" | cut -d: -f1 || true)
    [ -n "$n" ] || fail "no call '$1' in:
$(cat "$LOG")"
    echo "$n"
}
# in_order TEXT...: each TEXT appears, each after the one before it.
in_order() {
    local prev=0 n t
    for t in "$@"; do
        n=$(grep -n -F -- "$t" "$LOG" | cut -d: -f1 \
            | awk -v p="$prev" '$1 > p {print; exit}' || true)
        [ -n "$n" ] || fail "no '$t' after line $prev in:
$(cat "$LOG")"
        prev=$n
    done
}
count() { grep -c -F -- "$1" "$LOG" || true; }
absent() {
    [ "$(count "$1")" = 0 ] || fail "unexpected '$1' in:
$(cat "$LOG")"
}
report() { jq -r "$1" "$T/out"; }

SET='qmp src migrate-set-parameters'
MIGRATE='http POST /v1/vms/vm1/migrate'
SWITCH='http POST /v1/migrations/7/switchover'
ABORT='http POST /v1/migrations/7/abort'

# -- usage and startup errors
LOG=/dev/null
tool 0 --help
grep -q '^Exit: 0 completed' "$T/out" || fail "--help has no exit codes"
tool 2 --qmp x --vm v --switchover manual
tool 2 --qmp x --vm v --to n2 --switchover now
tool 2 --qmp x --vm v --to n2 --switchover lossless --hold-bandwidth 9
tool 2 --qmp x --vm v --to n2 --switchover manual --url ftp://x
tool 2 --qmp x --vm v --to n2 --switchover manual --migrate-uri exec:cat
tool 2 --qmp x --vm v --to n2 --switchover manual extra
tool 1 --qmp "$T/nothing.sock" --vm v --to n2 --switchover manual
grep -q 'source QMP' "$T/err" || fail "no QMP error: $(cat "$T/err")"

# -- manual, started by the tool: migrate on setup, switchover on completed
start_fakes manual complete
tool 0 --qmp "$QMP" --vm vm1 --to n2 --switchover manual --url "$FURL" \
    --migrate-uri tcp:127.0.0.1:1 --max-bandwidth 1000000 \
    --downtime-limit 150
EVENTS='{"capabilities": [{"capability": "events", "state": true}]}'
in_order "qmp src migrate-set-capabilities $EVENTS" \
    "$SET {\"downtime-limit\": 150, \"max-bandwidth\": 1000000}" \
    'qmp src migrate {"uri": "tcp:127.0.0.1:1"}' \
    'event src MIGRATION setup' \
    "$MIGRATE {\"to\":\"n2\",\"switchover\":\"manual\"}" \
    'event src MIGRATION completed' "$SWITCH {}"
[ "$(count "$SWITCH")" = 1 ] || fail "manual: not one switchover"
absent "$ABORT"
[ "$(report .result)" = completed ] || fail "manual: $(cat "$T/out")"
[ "$(report .migration)" = 7 ] || fail "manual: migration id"
[ "$(report .held)" = false ] || fail "manual: held"
[ "$(report '.switchover_call_unix_us >= .completed_unix_us')" = true ] \
    || fail "manual: switchover before completed: $(cat "$T/out")"

# -- manual, a migration started by someone else: followed, not started
start_fakes external external
tool 0 --qmp "$QMP" --vm vm1 --to n2 --switchover manual --url "$FURL"
absent 'qmp src migrate {'
absent "$SET"
in_order 'event src MIGRATION setup' "$MIGRATE" \
    'event src MIGRATION completed' "$SWITCH"

# -- manual, a migration already running when the tool starts: taken up
start_fakes running running
tool 0 --qmp "$QMP" --vm vm1 --to n2 --switchover manual --url "$FURL"
absent 'event src MIGRATION setup'
in_order 'qmp src query-migrate' "$MIGRATE" \
    'event src MIGRATION completed' "$SWITCH"
[ "$(report '.setup_unix_us != null')" = true ] || fail "running: setup"

# -- lossless cannot hold a migration already running: refused before
#    touching QEMU's parameters; so is starting a second one
start_fakes running-lossless running
tool 1 --qmp "$QMP" --vm vm1 --to n2 --switchover lossless --url "$FURL"
grep -q 'already active' "$T/err" || fail "running lossless: $(cat "$T/err")"
absent "$MIGRATE"
absent "$SET"
start_fakes running-uri running
tool 1 --qmp "$QMP" --vm vm1 --to n2 --switchover manual --url "$FURL" \
    --migrate-uri tcp:127.0.0.1:1
absent 'qmp src migrate {'
absent "$MIGRATE"

# -- rarp: nothing to call on completion (the agent activates on the RARP)
start_fakes rarp complete
tool 0 --qmp "$QMP" --dst-qmp "$DST" --vm vm1 --to n2 --switchover rarp \
    --url "$FURL" --migrate-uri tcp:127.0.0.1:1
in_order "$MIGRATE {\"to\":\"n2\",\"switchover\":\"rarp\"}" \
    'event src MIGRATION completed'
absent "$SWITCH"
absent "$ABORT"
[ "$(report '.resume_unix_us != null')" = true ] || fail "rarp: no RESUME"

# -- cancelled during pre-copy: abort with the reason, exit 4
start_fakes cancel cancel
tool 4 --qmp "$QMP" --vm vm1 --to n2 --switchover manual --url "$FURL" \
    --migrate-uri tcp:127.0.0.1:1
in_order 'event src MIGRATION setup' "$MIGRATE" \
    'event src MIGRATION cancelled' \
    "$ABORT {\"reason\":\"qemu migration cancelled\"}"
absent "$SWITCH"
[ "$(report .result)" = cancelled ] || fail "cancel: $(cat "$T/out")"

# -- failed: the same with "failed"
start_fakes fail fail
tool 4 --qmp "$QMP" --vm vm1 --to n2 --switchover rarp --url "$FURL" \
    --migrate-uri tcp:127.0.0.1:1
in_order "$MIGRATE" 'event src MIGRATION failed' \
    "$ABORT {\"reason\":\"qemu migration failed\"}"

# -- lossless: hold, prepared, pre-copy, freeze, switch, confirmed,
#    release, STOP, completed, RESUME, activation, restore
start_fakes lossless complete
tool 0 --qmp "$QMP" --dst-qmp "$DST" --vm vm1 --to n2 \
    --switchover lossless --url "$FURL" --migrate-uri tcp:127.0.0.1:1 \
    --max-bandwidth 2000000000 --downtime-limit 200 \
    --switch-remaining 1048576
in_order 'qmp src query-migrate-parameters' \
    "$SET {\"downtime-limit\": 1, \"max-bandwidth\": 10}" \
    'qmp src migrate {"uri": "tcp:127.0.0.1:1"}' \
    'event src MIGRATION setup' \
    "$MIGRATE {\"to\":\"n2\",\"switchover\":\"lossless\"}" \
    'http GET /v1/migrations/7' \
    "$SET {\"max-bandwidth\": 2000000000}" \
    'qmp src query-migrate' \
    "$SET {\"max-bandwidth\": 10}" \
    "$SWITCH {}" \
    'http GET /v1/migrations/7' \
    "$SET {\"downtime-limit\": 200, \"max-bandwidth\": 2000000000}" \
    'event src STOP' 'event src MIGRATION completed' 'event dst RESUME' \
    "$SWITCH {}" \
    "$SET {\"downtime-limit\": 300, \"max-bandwidth\": 134217728}"
# No pre-copy bandwidth before mignet said prepared: the fake answers
# "preparing" to the first two GETs.
[ "$(line "$SET {\"max-bandwidth\": 2000000000}")" -gt \
  "$(grep -n -F 'http GET' "$LOG" | sed -n 3p | cut -d: -f1)" ] \
    || fail "lossless: released before prepared"
# The VM stopped only after the release.
[ "$(line 'event src STOP')" -gt \
  "$(line "$SET {\"downtime-limit\": 200")" ] \
    || fail "lossless: STOP before the release"
[ "$(count "$SWITCH")" = 2 ] || fail "lossless: not two switchover calls"
absent "$ABORT"
[ "$(report .held)" = true ] || fail "lossless: not held: $(cat "$T/out")"
[ "$(report .remaining_at_switch)" = 16384 ] || fail "lossless: remaining"
[ "$(report '.confirmed_unix_us >= .switchover_call_unix_us and
             .release_unix_us >= .confirmed_unix_us and
             .activation_call_unix_us >= .resume_unix_us and
             .pause_ms >= 0')" = true ] \
    || fail "lossless: times out of order: $(cat "$T/out")"

# -- lossless with a guest that dirties nothing: QEMU completes before the
#    hold can catch it; the tool says so and switches after completion
start_fakes idle idle
tool 0 --qmp "$QMP" --dst-qmp "$DST" --vm vm1 --to n2 \
    --switchover lossless --url "$FURL" --migrate-uri tcp:127.0.0.1:1 \
    --switch-remaining 1048576
in_order 'event src MIGRATION completed' 'event dst RESUME' "$SWITCH" \
    "$SWITCH"
[ "$(report .held)" = false ] || fail "idle: held"
grep -q 'hold lost' "$T/err" || fail "idle: no warning: $(cat "$T/err")"

# -- lossless, the default threshold (32 MiB) switches at 32 MiB left
start_fakes default complete
tool 0 --qmp "$QMP" --vm vm1 --to n2 --switchover lossless --url "$FURL" \
    --migrate-uri tcp:127.0.0.1:1
[ "$(report .remaining_at_switch)" = 33554432 ] \
    || fail "default: $(cat "$T/out")"

# -- lossless, a threshold above the RAM: switched when prepared, before
#    any pre-copy bandwidth
start_fakes atprepared complete
tool 0 --qmp "$QMP" --vm vm1 --to n2 --switchover lossless --url "$FURL" \
    --migrate-uri tcp:127.0.0.1:1 --switch-remaining 1073741824
[ "$(report .remaining_at_switch)" = 67108864 ] \
    || fail "atprepared: $(cat "$T/out")"
[ "$(report .held)" = true ] || fail "atprepared: not held"
RESTORE="$SET {\"downtime-limit\": 300, \"max-bandwidth\": 134217728}"
in_order "$SWITCH" "$RESTORE"
[ "$(count "$SET")" = 3 ] || fail "atprepared: pre-copy was unfrozen:
$(cat "$LOG")"

# -- lossless, mignetd refuses: QEMU's migration is cancelled, the
#    parameters restored, exit 3
start_fakes refuse complete --refuse-migrate
tool 3 --qmp "$QMP" --vm vm1 --to n2 --switchover lossless --url "$FURL" \
    --migrate-uri tcp:127.0.0.1:1
in_order "$MIGRATE" 'qmp src migrate_cancel' \
    "$SET {\"downtime-limit\": 300, \"max-bandwidth\": 134217728}"
grep -q 'HTTP 409' "$T/err" || fail "refuse: $(cat "$T/err")"
[ "$(report .exit)" = 3 ] || fail "refuse: $(cat "$T/out")"

# -- lossless, the switch-over never confirmed: cancel, abort, restore
start_fakes noconfirm complete --never-confirm
tool 3 --qmp "$QMP" --vm vm1 --to n2 --switchover lossless --url "$FURL" \
    --migrate-uri tcp:127.0.0.1:1 --step-timeout-ms 500
in_order "$SWITCH" 'qmp src migrate_cancel' \
    "$ABORT {\"reason\":\"mignet-qemu error\"}" \
    "$SET {\"downtime-limit\": 300, \"max-bandwidth\": 134217728}"
absent 'event src STOP'
grep -q 'not confirmed' "$T/err" || fail "noconfirm: $(cat "$T/err")"

# -- mignetd unreachable: exit 3
start_fakes down external
tool 3 --qmp "$QMP" --vm vm1 --to n2 --switchover manual \
    --url "http://127.0.0.1:$(free_port)"
grep -q 'cannot connect' "$T/err" || fail "down: $(cat "$T/err")"

# ---- against the real mignetd (the lifecycle), with test agents ----
start_mignetd real --heartbeat-ms 1000 --delay-floor-ms 200 \
    --delay-ceiling-ms 200
for n in 1 2; do
    ok POST /v1/nodes 201 \
        "{\"id\":\"n$n\",\"address\":\"198.18.0.$n\",\"refresh_ms\":500}"
done
for v in 1 2 3; do
    ok POST /v1/vms 201 "{\"id\":\"vm$v\",\"mac\":\"02:00:00:00:00:0$v\",\
\"ip\":\"198.18.1.$v\",\"vni\":100,\"node\":\"n1\"}"
done
start_agent n1
start_agent n2
eventually "agents welcomed" bash -c "jq -e .welcomed '$T/agent-n1.json' &&
    jq -e .welcomed '$T/agent-n2.json'" >/dev/null
map_node() {
    api GET /v1/map
    json ".entries[] | select(.vm == \"$1\") | .node"
}
phase() { api GET "/v1/migrations/$1"; json .phase; }
cleaned() { [ "$(phase "$1")" = cleaned ]; }

# manual: switched on completed, then cleaned
start_qmp real-manual complete
tool 0 --qmp "$QMP" --vm vm1 --to n2 --switchover manual --url "$URL" \
    --migrate-uri tcp:127.0.0.1:1
M=$(report .migration)
api GET "/v1/migrations/$M"
[ "$(json '[.vm, .to, .switchover] | join(" ")')" = "vm1 n2 manual" ] \
    || fail "real manual: $BODY"
[ "$(json '.switched_unix_ms != null')" = true ] || fail "real manual: $BODY"
[ "$(map_node vm1)" = n2 ] || fail "real manual: the gateway did not move"
eventually "manual cleaned" cleaned "$M"

# cancelled: aborted with QEMU's reason, the gateway never moved
start_qmp real-cancel cancel
tool 4 --qmp "$QMP" --vm vm2 --to n2 --switchover manual --url "$URL" \
    --migrate-uri tcp:127.0.0.1:1
M=$(report .migration)
api GET "/v1/migrations/$M"
[ "$(json '[.phase, .abort_reason] | join(" ")')" = \
  "aborted qemu migration cancelled" ] || fail "real cancel: $BODY"
[ "$(map_node vm2)" = n1 ] || fail "real cancel: the gateway moved"

# lossless: switched while QEMU was held, activated after RESUME
start_qmp real-lossless complete
tool 0 --qmp "$QMP" --dst-qmp "$DST" --vm vm3 --to n2 \
    --switchover lossless --url "$URL" --migrate-uri tcp:127.0.0.1:1
[ "$(report .held)" = true ] || fail "real lossless: $(cat "$T/out")"
in_order "$SET {\"max-bandwidth\": 10}" 'event src STOP' \
    'event src MIGRATION completed'
M=$(report .migration)
api GET "/v1/migrations/$M"
[ "$(json '.switchover')" = lossless ] || fail "real lossless: $BODY"
[ "$(json '.activated_unix_ms != null and
           .activated_unix_ms >= .switched_unix_ms')" = true ] \
    || fail "real lossless: not activated: $BODY"
[ "$(map_node vm3)" = n2 ] || fail "real lossless: the gateway did not move"
eventually "lossless cleaned" cleaned "$M"

echo "PASS: mignet-qemu"
