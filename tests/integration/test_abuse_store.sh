#!/usr/bin/env bash
# test_abuse_store.sh: the store-damage matrix (issue 12, "silent loss of
# the store").  A state directory with committed nodes, VMs and migrations
# is damaged in each way below -- 0-byte, missing or truncated database,
# bytes flipped inside records and pages, a WAL truncated, damaged or
# removed after committed writes (kill -9), a lost marker -- and mignetd
# is started on it.  Each case must be refused with an error naming the
# file, or start with every committed change intact; a start with less
# state is a silent loss and fails the test.  Prints one JSON line.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/abuse_lib.sh"

FLAGS=(--prepare-timeout-ms 600000 --delay-floor-ms 100000 --log-level warn)
N_VM=40
N_MIG=12

# ---- two baselines: stopped cleanly (all in mignet.db) and killed -9
# (the last commits only in mignet.db-wal) ----
populate() {
    ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":500}'
    ok POST /v1/nodes 201 '{"id":"n2","address":"198.18.0.2","refresh_ms":500}'
    local i
    for i in $(seq 1 $N_VM); do
        local mac
        mac=02:00:00:00:01:$(printf %02x "$i")
        ok POST /v1/vms 201 "{\"id\":\"vmabuse$i\",\"mac\":\"$mac\",\
\"ip\":\"198.18.1.$i\",\"vni\":$((100 + i)),\"node\":\"n1\"}"
    done
    for i in $(seq 1 $N_MIG); do
        ok POST "/v1/vms/vmabuse$i/migrate" 202 '{"to":"n2"}'
    done
}
start_mignetd clean "${FLAGS[@]}"
populate
want_clean=$(durable_state $N_MIG)
stop_pid "$MIGNETD_PID" TERM
[ ! -e "$T/clean/mignet.db-wal" ] || fail "a clean stop left a WAL"

start_mignetd killed "${FLAGS[@]}"
populate
want_killed=$(durable_state $N_MIG)
stop_pid "$MIGNETD_PID" 9
[ -s "$T/killed/mignet.db-wal" ] || fail "no WAL after kill -9"
[ -s "$T/killed/mignet.db" ] || fail "mignet.db empty after kill -9"

# flip FILE OFFSET: inverts the bits of one byte.
flip() {
    python3 - "$1" "$2" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0xff]))
PY
}
# offset_of FILE TEXT: byte offset of the first TEXT in FILE.
offset_of() {
    python3 - "$1" "$2" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
print(data.index(sys.argv[2].encode()))
PY
}
# random_offset FILE SEED: a byte past the first page, chosen by SEED.
random_offset() {
    python3 -c 'import os, random, sys
size = os.path.getsize(sys.argv[1]); r = random.Random(int(sys.argv[2]))
print(r.randrange(4096, size))' "$1" "$2"
}
size_of() { stat -c %s "$1"; }
# The damages (run inside the copied state directory).
flip_text() { flip "$1" "$(offset_of "$1" "$2")"; }
flip_random() { flip "$1" "$(random_offset "$1" "$2")"; }
flip_from_end() { flip "$1" $(( $(size_of "$1") - $2 )); }
flip_middle() { flip "$1" $(( $(size_of "$1") / 2 )); }
cut_by() { truncate -s $(( $(size_of "$1") - $2 )) "$1"; }
cut_half() { truncate -s $(( $(size_of "$1") / 2 )) "$1"; }

cases=0 refused=0 intact=0 loss=0
results=()
# run_case NAME BASE EXPECT DAMAGE...: copies baseline BASE (clean or
# killed), runs the DAMAGE command in the copy, starts mignetd on it.
# EXPECT: refused (must be refused), any (refused or intact).
run_case() {
    local name=$1 base=$2 expect=$3; shift 3
    local dir=$T/case-$name
    rm -rf "$dir"
    cp -a "$T/$base" "$dir"
    (cd "$dir" && "$@")
    try_mignetd "case-$name" "$dir" "${FLAGS[@]}"
    cases=$((cases + 1))
    local outcome
    if [ "$TRY" = exited ]; then
        grep -q "$dir/mignet.db" "$T/case-$name.log" \
            || fail "case $name: refused without naming the file:" \
                    "$(tail -n 3 "$T/case-$name.log")"
        refused=$((refused + 1))
        outcome=refused
    else
        local want=$want_clean got
        [ "$base" = killed ] && want=$want_killed
        got=$(durable_state $N_MIG)
        stop_pid "$MIGNETD_PID" 9
        if [ "$got" = "$want" ]; then
            intact=$((intact + 1))
            outcome=intact
        else
            loss=$((loss + 1))
            outcome=LOSS
        fi
    fi
    results+=("$name=$outcome")
    if [ "$expect" = refused ] && [ "$outcome" != refused ]; then
        fail "case $name: started ($outcome), expected a refusal"
    fi
}

# Controls: the baselines themselves start intact.
run_case control_clean clean intact true
run_case control_killed killed intact true
[ "${results[0]}" = control_clean=intact ] && \
    [ "${results[1]}" = control_killed=intact ] \
    || fail "controls did not start intact: ${results[*]}"
cases=0 intact=0 results=()

run_case zero_db clean refused truncate -s 0 mignet.db
run_case missing_db clean refused rm mignet.db
run_case truncated_db_half clean refused cut_half mignet.db
run_case truncated_db_page clean any cut_by mignet.db 4096
run_case flip_vm_name clean refused flip_text mignet.db vmabuse17
for seed in 1 2 3 4 5 6 7 8; do
    run_case "flip_db_random_$seed" clean any flip_random mignet.db $seed
done
run_case missing_marker clean refused rm mignet.db.gen
run_case damaged_marker clean refused flip mignet.db.gen 20
# The WAL of a killed daemon holds committed transactions.
run_case wal_removed killed refused rm mignet.db-wal
run_case wal_truncated_tail killed refused cut_by mignet.db-wal 100
run_case wal_truncated_half killed refused cut_half mignet.db-wal
run_case wal_damaged_last_frame killed refused \
    flip_from_end mignet.db-wal 2000
run_case wal_damaged_middle killed refused flip_middle mignet.db-wal
run_case wal_damaged_header killed refused flip mignet.db-wal 10

# The operator's way out: --accept-store starts on what is there.
dir=$T/accept
cp -a "$T/clean" "$dir"
rm "$dir/mignet.db"
try_mignetd accept "$dir" "${FLAGS[@]}"
[ "$TRY" = exited ] || fail "missing store accepted without --accept-store"
try_mignetd accept "$dir" "${FLAGS[@]}" --accept-store
[ "$TRY" = ready ] \
    || fail "--accept-store did not start: $(tail -n 3 "$T/accept.log")"
api GET /v1/vms
[ "$(json '.vms | length')" = 0 ] || fail "accepted empty store holds VMs"
stop_pid "$MIGNETD_PID" TERM
try_mignetd accept2 "$dir" "${FLAGS[@]}"
[ "$TRY" = ready ] || fail "an accepted store is not usable afterwards"
stop_pid "$MIGNETD_PID" TERM

echo "cases: ${results[*]}" >&2
printf '{"test":"abuse_store","cases":%d,"refused":%d,' "$cases" "$refused"
printf '"recovered_intact":%d,"silent_loss":%d}\n' "$intact" "$loss"
[ "$loss" = 0 ] || fail "silent loss in ${results[*]}"
[ $((refused + intact)) = "$cases" ] || fail "unclassified cases"
echo "test_abuse_store: ok"
