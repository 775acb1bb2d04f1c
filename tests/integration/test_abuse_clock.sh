#!/usr/bin/env bash
# test_abuse_clock.sh: steps of the wall clock cannot move a deletion
# (issue 12, "due times follow the wall clock").  Through the test seam
# MIGNET_TEST_CLOCK_FILE the daemon's wall clock jumps +-10 s and +-1 h
# while a deletion delay runs: the deletion must run neither before nor
# long after its delay of elapsed time.  Then mignetd is killed (-9) during
# a delay and restarted with its clock 1 h ahead (and 1 h behind): the
# restart rule (no agent acknowledges here) holds the deletion a full
# fresh delay after the restart.  Prints one JSON line with the counts.
# ctest: serial (its assertions depend on timing)
source "$(dirname "$0")/lib.sh"

DELAY_MS=2500
FLAGS=(--prepare-timeout-ms 200 --delay-floor-ms $DELAY_MS
       --delay-ceiling-ms $DELAY_MS --log-level warn)
CLOCK=$T/test-clock.ms
echo 0 >"$CLOCK"
export MIGNET_TEST_CLOCK_FILE=$CLOCK
now_ms() { date +%s%3N; }

start_mignetd clock "${FLAGS[@]}"
grep -q "event=test_clock" "$T/clock.log" || fail "the seam was not logged"
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":500}'
ok POST /v1/nodes 201 '{"id":"n2","address":"198.18.0.2","refresh_ms":500}'
for i in $(seq 1 8); do
    ok POST /v1/vms 201 "{\"id\":\"vmclk$i\",\"mac\":\"02:00:00:00:02:0$i\",\
\"ip\":\"198.18.2.$i\",\"vni\":$((200 + i)),\"node\":\"n1\"}"
done

early=0 late=0 lost=0 min_margin=999999
# move VM: migrates VM to n2 and waits until it relays (the prepare
# timeout, no agents); sets MIG and RELAY (when it began relaying).
move() {
    ok POST "/v1/vms/$1/migrate" 202 '{"to":"n2"}'
    MIG=$(json .migration)
    local until=$(( $(now_ms) + 5000 ))
    while :; do
        api GET "/v1/migrations/$MIG"
        [ "$(json .phase)" = relaying ] && break
        [ "$(now_ms)" -lt $until ] || fail "migration $MIG never relays"
        sleep 0.02
    done
    # The daemon's run clock was anchored with the seam at 0: it reads as
    # the real wall clock, whatever steps came since.
    RELAY=$(json .relaying_unix_ms)
}
# watch NAME NOT_BEFORE: polls migration $MIG until its deletion ran;
# counts it early when seen before NOT_BEFORE (real ms), late when seen
# more than 2 s after, lost when not within 10 s.
watch() {
    local name=$1 not_before=$2 seen
    while :; do
        api GET "/v1/migrations/$MIG"
        seen=$(now_ms)
        [ "$(json .phase)" = cleaning ] && break
        if [ "$seen" -gt $((not_before + 10000)) ]; then
            lost=$((lost + 1))
            echo "$name: deletion lost" >&2
            return
        fi
        sleep 0.02
    done
    local margin=$((seen - not_before))
    [ $margin -lt $min_margin ] && min_margin=$margin
    if [ "$seen" -lt "$not_before" ]; then
        early=$((early + 1))
        echo "$name: deletion EARLY by $((not_before - seen)) ms" >&2
    elif [ "$seen" -gt $((not_before + 2000)) ]; then
        late=$((late + 1))
        echo "$name: deletion late by $margin ms" >&2
    else
        echo "$name: deletion $margin ms after its earliest time" >&2
    fi
}

# ---- steps within a run ----
# The deletion may not run before RELAY + DELAY of real time.
i=0
for step in 10000 -10000 3600000 -3600000; do
    i=$((i + 1))
    echo 0 >"$CLOCK"
    sleep 0.1
    move "vmclk$i"
    sleep 0.3
    echo "$step" >"$CLOCK"
    watch "step $step" $((RELAY + DELAY_MS))
done

# ---- restarts with the clock 1 h ahead and 1 h behind ----
for shift in 3600000 -3600000; do
    i=$((i + 1))
    echo 0 >"$CLOCK"
    sleep 0.1
    move "vmclk$i"
    sleep 0.3
    stop_pid "$MIGNETD_PID" 9
    echo "$shift" >"$CLOCK"
    restart=$(now_ms)
    start_mignetd clock "${FLAGS[@]}"
    watch "restart $shift" $((restart + DELAY_MS))
done

printf '{"test":"abuse_clock","steps":4,"restarts":2,'
printf '"early":%d,"late":%d,"lost":%d,"min_margin_ms":%d}\n' \
    "$early" "$late" "$lost" "$min_margin"
[ "$early" = 0 ] || fail "$early deletions early"
[ "$lost" = 0 ] || fail "$lost deletions lost"
[ "$late" = 0 ] || fail "$late deletions late"
echo "test_abuse_clock: ok"
