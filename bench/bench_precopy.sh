#!/usr/bin/env bash
# bench_precopy.sh: seed 002's pre-copy experiment rebuilt (issue 15, item
# 4) on the project's Open vSwitch test bed (bench/precopy_bed.sh): the
# real engine (`mignet precopy send|recv`) live-copies a memory region
# from namespace h1 to h2 while its workload dirties pages, with round
# boundaries `ack` (everything sent acknowledged) against `en` (Early
# Notification: everything sent has left the host) on identical
# conditions, interleaved run by run, and `buffer` for reference.
#
#   single path: shaped to --rate (500 Mbit/s, tbf, a queue of one
#     bandwidth-delay product) with a --rtt (10 ms) round trip; memory
#     128/256/512/1024 MB, 5,000 and 10,000 dirty 4 KiB pages/s, a
#     background TCP flow (tools/mignet-bulk, h3 -> h2 through the same
#     shaped port) off and on, net.ipv4.tcp_slow_start_after_idle 1 and 0
#     (set inside the namespaces only).
#   multi-path: two disjoint paths at --mp-rate (100 Mbit/s) each: one TCP
#     connection on one path, two TCP connections striped by hand (one per
#     path), and one MPTCP connection whose second subflow the kernel's
#     path manager opens over path 2.
#
# Frames are 9,000 bytes by default (--mtu): the bed's switch is Open
# vSwitch's userspace datapath and a userspace delay line (the kernel has
# no netem), and on 2 shared cores 1,500-byte frames at 500 Mbit/s are
# more than it forwards: its receive sockets overflow and drop frames
# before the shaped queue (the case's switch_sock_drops, while tbf_drops
# stays 0), which a loss-based TCP takes for congestion.  Jumbo frames cut
# the packet rate by 6 and the bed runs the switch and the delay lines at
# nice -10 (PB_NICE), so that the shaped link, not the emulator, is the
# bottleneck as far as this machine allows.
#
# Every case is compared with the planner's estimate: `mignet sim --topo`
# on a topology file that describes the bed (the planner's plan and its
# precopy_estimate(), at link capacity; two paths by the dr+paths
# strategy), and the error is printed in %.  Tables go to stdout and
# DIR/summary.md; the last line of stdout is one JSON object
# {"cases": [...]} with the engine's report fields per case (mode ...
# verified) and extra keys (run, slow_start_after_idle, estimate_ms, ...).
# gnuplot draws DIR/cwnd_ack_en.png (cwnd over time for ack and en, the
# paper's Fig. 7/8), DIR/cwnd_ack_en_bg.png (the same with the background
# flow), DIR/total_per_case.png and DIR/multipath.png.
#
# Usage: bench/bench_precopy.sh [--quick] [--out DIR] [--runs N]
#          [--mem "128 256"] [--dirty "5000 10000"] [--modes "ack en"]
#          [--bg "0 1"] [--ssai "1 0"] [--no-single] [--no-multipath]
#          [--rate MBIT] [--rtt MS] [--mtu BYTES] [--mp-rate MBIT] [--mp-mem MB]
#          [--mp-dirty PPS] [--mp-modes "en"]
# --quick: 128 MB only, ack and en, one run per case, the background
# flow only with the first --ssai and --dirty values, the multi-path
# comparison in en mode: about 3 minutes on a 2-core machine.
# Root (network namespaces).  Exit 1 if any migration did not verify.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

quick=0
out=
runs=
mems=
dirties="5000 10000"
modes=
bgs="0 1"
ssais="1 0"
do_single=1
do_multi=1
rate=500
rtt=10
mtu=9000
mp_rate=100
mp_mem=128
mp_dirty=1000
mp_modes=
port0=17200

die_usage() {
    echo "bench_precopy.sh: $*" >&2
    sed -n '/^# Usage:/,/^# Root/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --quick) quick=1; shift ;;
    --out) out=${2:?}; shift 2 ;;
    --runs) runs=${2:?}; shift 2 ;;
    --mem) mems=${2:?}; shift 2 ;;
    --dirty) dirties=${2:?}; shift 2 ;;
    --modes) modes=${2:?}; shift 2 ;;
    --bg) bgs=${2:?}; shift 2 ;;
    --ssai) ssais=${2:?}; shift 2 ;;
    --no-single) do_single=0; shift ;;
    --no-multipath) do_multi=0; shift ;;
    --rate) rate=${2:?}; shift 2 ;;
    --rtt) rtt=${2:?}; shift 2 ;;
    --mtu) mtu=${2:?}; shift 2 ;;
    --mp-rate) mp_rate=${2:?}; shift 2 ;;
    --mp-mem) mp_mem=${2:?}; shift 2 ;;
    --mp-dirty) mp_dirty=${2:?}; shift 2 ;;
    --mp-modes) mp_modes=${2:?}; shift 2 ;;
    -h | --help) die_usage "help" ;;
    *) die_usage "unknown argument '$1'" ;;
    esac
done
if [ "$quick" = 1 ]; then
    : "${mems:=128}" "${modes:=ack en}" "${runs:=1}" "${mp_modes:=en}"
else
    : "${mems:=128 256 512 1024}" "${modes:=ack en buffer}" "${runs:=3}"
    : "${mp_modes:=ack en}"
fi
for v in $mems $dirties $runs $rate $rtt $mtu $mp_rate $mp_mem $mp_dirty; do
    if ! [[ $v =~ ^[0-9]+$ ]] || [ "$v" -eq 0 ]; then
        die_usage "bad number '$v'"
    fi
done
for v in $bgs $ssais; do
    [[ $v =~ ^[01]$ ]] || die_usage "--bg and --ssai take 0 and 1"
done
for v in $modes $mp_modes; do
    [[ $v =~ ^(ack|en|buffer)$ ]] || die_usage "bad mode '$v'"
done

if [ -z "${MIGNET_BUILD_DIR:-}" ]; then
    "$root/scripts/build.sh" >/dev/null
    export MIGNET_BUILD_DIR=$root/build
fi
export MIGNET_SOURCE_DIR=$root
B=$MIGNET_BUILD_DIR
MIGNET=${PCB_MIGNET:-$B/mignet}
BULK=$B/mignet-bulk

# shellcheck source=../tests/e2e/lib.sh disable=SC1094 # (lib.sh: shellcheck cannot parse it)
. "$root/tests/e2e/lib.sh"
tb_require
# shellcheck source=../tests/e2e/fabric_lib.sh
. "$root/tests/e2e/fabric_lib.sh"
# shellcheck source=precopy_bed.sh
. "$root/bench/precopy_bed.sh"
for b in jq gnuplot busybox openssl; do
    command -v "$b" >/dev/null 2>&1 || tb_die "$b not found (scripts/deps.sh test)"
done
"$MIGNET" precopy send --help >/dev/null 2>&1 ||
    tb_die "$MIGNET has no 'precopy' command (the engine, issue 15)"
[ -x "$B/pc_delayline" ] || tb_die "$B/pc_delayline not built"

out=${out:-$root/build/bench_precopy}
mkdir -p "$out/raw"
out=$(cd "$out" && pwd)
: >"$out/cases.jsonl"
bench_t0=$(date +%s)

tb_init
fb_ovs_start
PB_PATHS=2 PB_RATE_MBIT=$rate PB_RTT_MS=$rtt PB_MTU=$mtu pb_bed

# ---- the planner's estimate -------------------------------------------

# pc_topo PATHS RATE_MBIT: writes the bed's topology (h1 and h2 behind
# two switches joined by PATHS links of RATE_MBIT) and prints its path.
pc_topo() {
    local topo=$TB_DIR/est.$1.$2.topo p
    {
        echo "# the pre-copy bed: $1 shaped path(s) of $2 Mbit/s"
        echo "switch s1 dpid=1"
        echo "switch s2 dpid=2"
        echo "host h1 s1:1 10gbit"
        echo "host h2 s2:1 10gbit"
        for ((p = 1; p <= $1; p++)); do
            echo "link s1:$((p + 1)) s2:$((p + 1)) ${2}mbit"
        done
    } >"$topo"
    printf '%s\n' "$topo"
}

# pc_estimate MEM_MB DIRTY PATHS RATE_MBIT [WORKING_SET_MB]: the planner's
# total (ms) on the bed's topology at link capacity.  The engine's
# workload writes DIRTY pages a second uniformly over its MEM_MB, so the
# model's working set is MEM_MB (a page written twice in a round is sent
# once); WORKING_SET_MB 0 gives the model without one (every write a new
# page).  Cached per argument list.
declare -A est_cache
pc_estimate() {
    local key="$*" topo strat=single ws=${5:-$1}
    if [ -z "${est_cache[$key]:-}" ]; then
        topo=$(pc_topo "$3" "$4")
        [ "$3" -eq 1 ] || strat=dr+paths
        est_cache[$key]=$("$B/mignet" sim --topo "$topo" --pairs h1:h2 \
            --migrations 1 --memory-mb "$1" --dirty-pages-per-s "$2" \
            --working-set-mb "$ws" --deadline-ms 1 --max-paths "$3" --strategy "$strat" \
            --estimate capacity --json 2>/dev/null |
            jq '.results[0].per_migration[0] |
                {estimate_ms, n_paths, rounds, precopy_stop}' -c) ||
            tb_die "the planner's estimate failed ($key)"
    fi
    printf '%s\n' "${est_cache[$key]}"
}

# ---- the learned estimate (issue 15, item 5) --------------------------

# A mignetd on loopback inside the bed's fabric namespace, with the
# bed's one-path topology, learns the pair h1 -> h2 from every
# single-path report (`mignet transfer report`, as an operator's would).
# Its answer's estimate_before is the planner's estimate of that very
# transfer from what it had learned from the earlier ones (the median of
# the last 8 goodputs), or at link capacity ("nominal") for the first.
# One learner per round-boundary mode (an operator's pair migrates with
# one; `ack`'s goodput carries a round trip per round that `en`'s does
# not), restarted for each (slow start after idle, background) group, so
# that what each learns is of the same conditions.
declare -A learn_pid learn_url
learn_vmm=
# learn_start GROUP: one learner per mode of --modes.
learn_start() {
    local d admin i m
    admin=mgnad_$(openssl rand -hex 16)
    learn_vmm=mgnvm_$(openssl rand -hex 16)
    for m in $modes; do
        d=$TB_DIR/learn.$1.$m
        mkdir -p "$d/state"
        printf 'admin %s\nvmm %s\n' "$admin" "$learn_vmm" >"$d/tokens"
        chmod 600 "$d/tokens"
        tb_ns_bg "$TB_FAB" "$B/mignetd" --listen 127.0.0.1:0 \
            --agent-listen 127.0.0.1:0 --state-dir "$d/state" \
            --fabric "$(pc_topo 1 "$rate")" --fabric-poll-ms 3600000 \
            --api-tokens "$d/tokens" >"$d/ready" 2>"$d/log"
        # shellcheck disable=SC2153 # tb_ns_bg (lib.sh) sets it
        learn_pid[$m]=$TB_BG_PID
        for ((i = 0; i < 100; i++)); do
            grep -q '^mignetd ready ' "$d/ready" && break
            tb_pid_alive "${learn_pid[$m]}" ||
                tb_die "learning mignetd exited: $(tail -3 "$d/log")"
            sleep 0.05
        done
        learn_url[$m]=http://$(sed -n 's/.* rest=\([^ ]*\).*/\1/p' "$d/ready")
        [ "${learn_url[$m]}" != http:// ] || tb_die "learning mignetd not ready"
        for i in 1 2; do
            ip netns exec "$TB_FAB" "$MIGNET" --url "${learn_url[$m]}" \
                --token "$admin" node add "h$i" --address "$(pb_ip 1 "$i")" \
                >/dev/null || tb_die "learning mignetd: node h$i"
        done
    done
}
learn_stop() {
    local m
    for m in "${!learn_pid[@]}"; do
        tb_stop_pid "${learn_pid[$m]}" mignetd
        # Stopped: off the teardown's list (its PID may be reused).
        sed -i "/^${learn_pid[$m]}\$/d" "$TB_DIR/pids"
    done
    learn_pid=()
    learn_url=()
}
# learn_report MODE REPORT: posts it to MODE's learner; prints the
# answer's estimate_before as {"learned_estimate_ms", "learned_source",
# "learned_n"} (nulls without a learner or a report).
learn_report() {
    local ans
    if [ -z "${learn_url[$1]:-}" ] || [ ! -s "$2" ] ||
        ! ans=$(ip netns exec "$TB_FAB" "$MIGNET" --url "${learn_url[$1]}" \
            --token "$learn_vmm" --json transfer report "$2" --from h1 \
            --to h2 2>>"$TB_DIR/learn.errors"); then
        echo '{"learned_estimate_ms": null, "learned_source": null, "learned_n": null}'
        return 0
    fi
    jq -c '.transfer.estimate_before // {} |
        {learned_estimate_ms: .total_ms, learned_source: .bandwidth_source,
         learned_n: .learned_transfers}' <<<"$ans"
}

# ---- background flow ---------------------------------------------------

bg_pids=()
bg_port=$((port0 + 90))
# bg_start: one long-lived TCP flow h3 -> h2 through path 1's shaped
# port (mignet-bulk, as fast as TCP goes), warmed up for 1 s.
bg_start() {
    bg_port=$((bg_port + 1))
    [ "$bg_port" -le $((port0 + 99)) ] || bg_port=$((port0 + 90))
    fb_host_bg 2 "$BULK" recv --port "$bg_port" --bind "$(pb_ip 1 2)" \
        --report "$TB_DIR/bg.$bg_port.json" --timeout 3600
    bg_pids=("$FB_BG_PID")
    pb_wait_listen 2 "$bg_port" 10 || tb_die "background sink did not start"
    fb_host_bg 3 "$BULK" send --to "$(pb_ip 1 2)" --port "$bg_port" \
        --seconds 3600 --sndbuf 4194304 --report /dev/null
    bg_pids+=("$FB_BG_PID")
    sleep 1
}
bg_stop() {
    local p
    for p in "${bg_pids[@]}"; do
        tb_stop_pid "$p"
        wait "$p" 2>/dev/null || true
    done
    bg_pids=()
}

# ---- one migration -----------------------------------------------------

seq_no=0
failures=0
# pc_case PHASE MODE MEM DIRTY BG SSAI PATHS TRANSPORT RUN RATE: one
# migration h1 -> h2; appends its case object to cases.jsonl.
pc_case() {
    local phase=$1 mode=$2 mem=$3 dirty=$4 bg=$5 ssai=$6 paths=$7 tr=$8
    local run=$9 mbit=${10}
    local name port p rc_s=0 rc_r=0 rpid est estlin tmo
    seq_no=$((seq_no + 1))
    port=$((port0 + (seq_no % 40) * 2))
    name=$(printf '%03d-%s-%s-m%s-d%s-bg%s-s%s-p%s-r%s' "$seq_no" "$phase" \
        "$mode" "$mem" "$dirty" "$bg" "$ssai" "$paths$tr" "$run")
    local l=() t=() extra=()
    if [ "$tr" = mptcp ]; then
        l=(--listen "0.0.0.0:$port")
        t=(--to "$(pb_ip 1 2):$port")
        extra=(--mptcp)
    else
        for ((p = 1; p <= paths; p++)); do
            l+=(--listen "$(pb_ip "$p" 2):$port")
            t+=(--to "$(pb_ip "$p" 2):$port")
        done
    fi
    # Generous: three times memory at a tenth of the rate, plus 30 s.
    tmo=$((mem * 8 * 3 * 10 / mbit + 30))
    local before=() after=() d0=() d1=() j0 j1 o0 o1
    for ((p = 1; p <= 2; p++)); do
        before+=("$(pb_path_bytes "$p")")
        d0+=("$(pb_path_drops "$p")")
    done
    j0=$(pb_mptcp_joins 1)
    o0=$(pb_sock_drops)
    # shellcheck disable=SC2016 # the inner shell expands them
    fb_host_bg 2 sh -c 'exec "$@" >"$0.out" 2>"$0.err"' \
        "$out/raw/$name.recv" "$MIGNET" precopy recv "${l[@]}" \
        "${extra[@]}" --json "$out/raw/$name.recv.json" --timeout-s "$tmo"
    rpid=$FB_BG_PID
    pb_wait_listen 2 "$port" 10 || tb_die "receiver of $name did not listen"
    fb_host_exec 1 "$MIGNET" precopy send "${t[@]}" "${extra[@]}" \
        --mem-mb "$mem" --dirty-pps "$dirty" --mode "$mode" \
        --json "$out/raw/$name.send.json" --timeout-s "$tmo" \
        >"$out/raw/$name.send.out" 2>"$out/raw/$name.send.err" || rc_s=$?
    tb_wait "$rpid" $((tmo + 10)) || rc_r=$?
    for ((p = 1; p <= 2; p++)); do
        after+=("$(pb_path_bytes "$p")")
        d1+=("$(pb_path_drops "$p")")
    done
    j1=$(pb_mptcp_joins 1)
    o1=$(pb_sock_drops)
    est=$(pc_estimate "$mem" "$dirty" "$paths" "$mbit")
    estlin=$(pc_estimate "$mem" "$dirty" "$paths" "$mbit" 0)
    local rep=$out/raw/$name.send.json learned
    [ -s "$rep" ] || rep=/dev/null
    learned=$(learn_report "$mode" "$rep")
    jq -c -n --slurpfile s <(cat "$rep" 2>/dev/null; true) \
        --arg phase "$phase" --arg mode "$mode" --argjson mem "$mem" \
        --argjson dirty "$dirty" --argjson bg "$bg" --argjson ssai "$ssai" \
        --argjson paths "$paths" --arg tr "$tr" --argjson run "$run" \
        --argjson mbit "$mbit" --argjson rtt "$rtt" --argjson est "$est" \
        --argjson estlin "$estlin" --argjson learned "$learned" \
        --argjson rc_s "$rc_s" --argjson rc_r "$rc_r" \
        --argjson p1 "$((after[0] - before[0]))" \
        --argjson p2 "$((after[1] - before[1]))" \
        --argjson q1 "$((d1[0] - d0[0]))" --argjson q2 "$((d1[1] - d0[1]))" \
        --argjson mtu "$mtu" --argjson ovs "$((o1 - o0))" \
        --argjson joins "$((j1 - j0))" --arg name "$name" '
        ($s[0] // {}) as $r
        | {mode: $mode, mem_mb: $mem, dirty_pps: $dirty,
           background: ($bg == 1), paths: $paths, transport: $tr,
           total_ms: $r.total_ms, downtime_ms: $r.downtime_ms,
           bytes: $r.bytes, rounds: $r.rounds,
           retransmits: $r.retransmits,
           verified: (($r.verified // false) and $rc_s == 0
                      and $rc_r == 0),
           phase: $phase, run: $run, slow_start_after_idle: $ssai,
           rate_mbit: $mbit, rtt_ms: $rtt, stop: $r.stop,
           tracking: $r.tracking, send_exit: $rc_s, recv_exit: $rc_r,
           first_round_mbps: (($r.round_list // [])[0]
               | if . and .t_ms > 0 then .v_bytes * 8 / .t_ms / 1000
                 else null end),
           path_bytes: [$p1, $p2], tbf_drops: [$q1, $q2], mtu: $mtu,
           switch_sock_drops: $ovs,
           mptcp_joins: $joins,
           estimate_ms: $est.estimate_ms, estimate_rounds: $est.rounds,
           estimate_err_pct: (if $r.total_ms and $r.total_ms > 0 then
               (($est.estimate_ms - $r.total_ms) / $r.total_ms * 100
                | . * 10 | round / 10) else null end),
           estimate_linear_ms: $estlin.estimate_ms,
           estimate_linear_err_pct: (if $r.total_ms and $r.total_ms > 0
               then (($estlin.estimate_ms - $r.total_ms) / $r.total_ms * 100
                | . * 10 | round / 10) else null end),
           learned_estimate_ms: $learned.learned_estimate_ms,
           learned_source: $learned.learned_source,
           learned_n: $learned.learned_n,
           learned_err_pct: (if $r.total_ms and $r.total_ms > 0
               and $learned.learned_estimate_ms then
               (($learned.learned_estimate_ms - $r.total_ms) / $r.total_ms
                * 100 | . * 10 | round / 10) else null end),
           raw: $name}' >>"$out/cases.jsonl"
    local line
    line=$(tail -1 "$out/cases.jsonl")
    if [ "$(jq -r .verified <<<"$line")" != true ]; then
        failures=$((failures + 1))
        tb_log "NOT VERIFIED: $name (send $rc_s, recv $rc_r;" \
            "$(tail -c 300 "$out/raw/$name.send.err" 2>/dev/null))"
    fi
    jq -r '"\(.raw): total \(.total_ms) ms, downtime \(.downtime_ms) ms,"
        + " rounds \(.rounds), retrans \(.retransmits), estimate"
        + " \(.estimate_ms) ms (\(.estimate_err_pct) %), learned"
        + " \(.learned_estimate_ms) ms (\(.learned_err_pct) %, \(.learned_source)),"
        + " verified \(.verified)"' <<<"$line" >&2
}

# ---- the runs ----------------------------------------------------------

if [ "$do_single" = 1 ]; then
    pb_rate "$rate"
    for ssai in $ssais; do
        pb_ssai "$ssai"
        for bg in $bgs; do
            learn_start "s$ssai-bg$bg"
            [ "$bg" = 0 ] || bg_start
            for mem in $mems; do
                for dirty in $dirties; do
                    # --quick: the background flow only in the first
                    # slow-start-after-idle setting and dirty rate (each
                    # such case runs ~30 s here: the flow starves it).
                    if [ "$quick" = 1 ] && [ "$bg" = 1 ] &&
                        { [ "$ssai" != "${ssais%% *}" ] ||
                            [ "$dirty" != "${dirties%% *}" ]; }; then
                        continue
                    fi
                    for ((run = 1; run <= runs; run++)); do
                        for mode in $modes; do
                            pc_case single "$mode" "$mem" "$dirty" "$bg" \
                                "$ssai" 1 tcp "$run" "$rate"
                        done
                    done
                done
            done
            [ "$bg" = 0 ] || bg_stop
            learn_stop
        done
    done
fi

if [ "$do_multi" = 1 ]; then
    pb_rate "$mp_rate"
    pb_ssai 1
    pb_mptcp
    mp_runs=$runs
    [ "$quick" = 0 ] || mp_runs=1
    for ((run = 1; run <= mp_runs; run++)); do
        for mode in $mp_modes; do
            pc_case multi "$mode" "$mp_mem" "$mp_dirty" 0 1 1 tcp "$run" \
                "$mp_rate"
            pc_case multi "$mode" "$mp_mem" "$mp_dirty" 0 1 2 tcp "$run" \
                "$mp_rate"
            pc_case multi "$mode" "$mp_mem" "$mp_dirty" 0 1 2 mptcp "$run" \
                "$mp_rate"
        done
    done
fi

# ---- tables, plots, the JSON line -------------------------------------

elapsed=$(($(date +%s) - bench_t0))
"$root/bench/precopy_report.sh" "$out" "$elapsed" | tee "$out/summary.md"
jq -c -s '{cases: .}' "$out/cases.jsonl" >"$out/cases.json"
if [ "$failures" -ne 0 ]; then
    tb_log "$failures migration(s) did not verify"
fi
cat "$out/cases.json"
[ "$failures" -eq 0 ]
