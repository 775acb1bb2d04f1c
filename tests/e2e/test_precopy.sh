#!/usr/bin/env bash
# test_precopy.sh: the pre-copy engine (`mignet precopy send|recv`, issue
# 15) on the bench's Open vSwitch bed (bench/precopy_bed.sh) in a short
# variant: two disjoint paths shaped to 100 Mbit/s with a 10 ms round
# trip, a 32 MB region dirtied at 1,000 pages/s, round boundaries ack and
# en, over two TCP connections striped by hand (one per path) and over
# one MPTCP connection.  Asserts only what cannot flake: both sides exit
# 0, every page verified, more than one round, the engine wrote at least
# the region, the shaped links carried at least what it wrote, both TCP
# paths carried a share of it, and MPTCP opened its second subflow (the
# namespace's MPJoin counters) and moved a share over path 2.  A bad mode
# is a usage error (exit 2).  Timing (en against ack) is the bench's job,
# not asserted here.  Root and Open vSwitch (else exit 77).
# ctest: serial
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck disable=SC1094 # (shellcheck cannot parse lib.sh)
. "$here/lib.sh"
tb_require
. "$here/fabric_lib.sh"
# shellcheck source=../../bench/precopy_bed.sh
. "$root/bench/precopy_bed.sh"
B=$FB_BUILD
MIGNET=$B/mignet
command -v jq >/dev/null || tb_die "jq not found (scripts/deps.sh test)"
command -v busybox >/dev/null || tb_die "busybox not found (scripts/deps.sh test)"
[ -x "$B/pc_delayline" ] || tb_die "$B/pc_delayline not built"
"$MIGNET" precopy send --help >/dev/null 2>&1 ||
    tb_die "$MIGNET has no 'precopy' command"

MEM_MB=32
DIRTY=1000
PORT=17200
SHARE=$((MEM_MB * 1048576 / 8))     # each path: at least 1/8 of memory

tb_init
fb_ovs_start
PB_PATHS=2 PB_RATE_MBIT=100 PB_RTT_MS=10 pb_bed
pb_ssai 1
pb_mptcp

rc=0
fb_host_exec 1 "$MIGNET" precopy send --to "$(pb_ip 1 2):$PORT" \
    --mem-mb 1 --dirty-pps 1 --mode bogus >/dev/null 2>&1 || rc=$?
tb_expect "send with a bad mode: usage error" "$rc" -eq 2

# migrate MODE TRANSPORT: one migration h1 -> h2; checks it.
migrate() {
    local mode=$1 tr=$2 l=() t=() x=() rpid rs=0 rr=0 p
    local name=$mode-$tr b1 b2 a1 a2 j0 j1
    PORT=$((PORT + 2))
    if [ "$tr" = mptcp ]; then
        l=(--listen "0.0.0.0:$PORT")
        t=(--to "$(pb_ip 1 2):$PORT")
        x=(--mptcp)
    else
        for p in 1 2; do
            l+=(--listen "$(pb_ip "$p" 2):$PORT")
            t+=(--to "$(pb_ip "$p" 2):$PORT")
        done
    fi
    b1=$(pb_path_bytes 1)
    b2=$(pb_path_bytes 2)
    j0=$(pb_mptcp_joins 1)
    # shellcheck disable=SC2016 # the inner shell expands them
    fb_host_bg 2 sh -c 'exec "$@" >"$0.out" 2>"$0.err"' "$TB_DIR/$name.recv" \
        "$MIGNET" precopy recv "${l[@]}" "${x[@]}" \
        --json "$TB_DIR/$name.recv.json" --timeout-s 40
    rpid=$FB_BG_PID
    pb_wait_listen 2 "$PORT" 10 || tb_die "receiver $name did not listen"
    fb_host_exec 1 "$MIGNET" precopy send "${t[@]}" "${x[@]}" \
        --mem-mb "$MEM_MB" --dirty-pps "$DIRTY" --mode "$mode" \
        --json "$TB_DIR/$name.send.json" --timeout-s 40 \
        >"$TB_DIR/$name.send.out" 2>"$TB_DIR/$name.send.err" || rs=$?
    tb_wait "$rpid" 50 || rr=$?
    a1=$(($(pb_path_bytes 1) - b1))
    a2=$(($(pb_path_bytes 2) - b2))
    j1=$(pb_mptcp_joins 1)
    local rep=$TB_DIR/$name.send.json
    [ -s "$rep" ] || rep=/dev/null
    echo "== $name: $(jq -c '{total_ms, downtime_ms, bytes, rounds,
        retransmits, verified, stop, paths, transport}' "$rep" 2>/dev/null)" \
        "path bytes $a1 $a2, MPTCP joins $((j1 - j0))"
    [ "$rs" -eq 0 ] || sed 's/^/  send: /' "$TB_DIR/$name.send.err" | tail -5
    tb_expect "$name: send exit" "$rs" -eq 0
    tb_expect "$name: recv exit" "$rr" -eq 0
    tb_expect "$name: verified" \
        "$(jq -r 'if .verified == true then 1 else 0 end' "$rep" 2>/dev/null ||
            echo 0)" -eq 1
    tb_expect "$name: report's mode is $mode" \
        "$(jq -r --arg m "$mode" 'if .mode == $m then 1 else 0 end' \
            "$rep" 2>/dev/null || echo 0)" -eq 1
    tb_expect "$name: report's transport is $tr" \
        "$(jq -r --arg t "$tr" 'if .transport == $t then 1 else 0 end' \
            "$rep" 2>/dev/null || echo 0)" -eq 1
    tb_expect "$name: rounds" "$(jq -r '.rounds // 0' "$rep" 2>/dev/null ||
        echo 0)" -gt 1
    local bytes
    bytes=$(jq -r '.bytes // 0 | floor' "$rep" 2>/dev/null || echo 0)
    tb_expect "$name: bytes written cover the region" "$bytes" -ge \
        $((MEM_MB * 1048576))
    tb_expect "$name: the shaped links carried what was written" \
        $((a1 + a2)) -ge "$bytes"
    tb_expect "$name: path 1 carried its share" "$a1" -ge "$SHARE"
    tb_expect "$name: path 2 carried its share" "$a2" -ge "$SHARE"
    if [ "$tr" = mptcp ]; then
        tb_expect "$name: MPTCP joined a second subflow" $((j1 - j0)) -ge 1
    fi
}

migrate ack tcp
migrate en tcp
migrate ack mptcp
migrate en mptcp
tb_finish
