#!/usr/bin/env bash
# test_sim_deadline_note.sh: the fabric table says what met/missed means,
# and says why when no plan could meet the deadline (README's seed002
# example: every estimate is over 8 s), but not when one could.
set -euo pipefail
: "${MIGNET_BUILD_DIR:?set MIGNET_BUILD_DIR to the build directory}"
MIGNET=$MIGNET_BUILD_DIR/mignet
fail() { echo "FAIL: $*" >&2; exit 1; }
out=$("$MIGNET" sim --fabric seed002 --concurrent)
grep -q '^dr+paths  *3  *0/3 ' <<<"$out" || fail "seed002 no longer 0/3: $out"
grep -q '^met/missed: migrations that ended' <<<"$out" || fail "no note: $out"
grep -q 'within the deadline, 8000 ms (--deadline-ms)' <<<"$out" ||
    fail "note without the deadline: $out"
grep -q 'None could meet it here: the shortest estimate of any plan is 25552 ms' \
    <<<"$out" || fail "no reason for 0/3: $out"
grep -q 'dr+paths stopped: another path would not shorten the estimate' \
    <<<"$out" || fail "no planner stop: $out"
# A reachable deadline: met, and no "None could" line.
out=$("$MIGNET" sim --fabric seed002 --concurrent --deadline-ms 30000)
grep -q '^dr  *3  *3/0 ' <<<"$out" || fail "30 s deadline: $out"
! grep -q 'None could' <<<"$out" || fail "'None could' with a reachable deadline"
out=$("$MIGNET" sim --fabric seed002 --concurrent --deadline-ms 0)
grep -q '^met/missed: no deadline (--deadline-ms 0)' <<<"$out" ||
    fail "no deadline: $out"
echo ok
