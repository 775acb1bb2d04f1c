#!/usr/bin/env bash
# precopy_report.sh: the tables and gnuplot figures of a
# bench/bench_precopy.sh run, from its output folder (cases.jsonl and the
# engine's reports in raw/), so a run's figures can be drawn again
# without running it again.  Markdown tables on stdout; PNGs into DIR:
#   cwnd_ack_en.png      cwnd over time of connection 0, ack above en, one
#                        run each of the same case, round starts marked
#                        (the paper's Fig. 7/8); no background flow
#   cwnd_ack_en_bg.png   the same with the background flow
#   total_per_case.png   total time per case and mode: mean, min-max bars
#   multipath.png        first-round throughput: 1 path, 2 TCP, MPTCP
# Usage: bench/precopy_report.sh DIR [ELAPSED_S]
set -euo pipefail
dir=${1:?usage: precopy_report.sh DIR [ELAPSED_S]}
elapsed=${2:-}
cases=$dir/cases.jsonl
[ -s "$cases" ] || { echo "precopy_report: no $cases" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "precopy_report: no gnuplot" >&2; exit 1; }

all=$(jq -s -c . "$cases")
# Rounding ("-" for none) and the mean, for every table below.
JQDEFS='
  def r0: if . == null then "-" else (. * 1 | round) end;
  def r1: if . == null then "-" else (. * 10 | round / 10) end;
  def r2: if . == null then "-" else (. * 100 | round / 100) end;
  def mean: if length == 0 then null else add / length end;'

echo "## Pre-copy bench: $(jq length <<<"$all") migrations," \
    "$(jq '[.[] | select(.verified)] | length' <<<"$all") verified" \
    "${elapsed:+(${elapsed} s)}"
echo
echo "Machine: $(nproc) cores, $(uname -r), load average" \
    "$(cut -d' ' -f1-3 /proc/loadavg) at the end."
echo

# ---- single path ---------------------------------------------------------

if jq -e 'any(.[]; .phase == "single")' <<<"$all" >/dev/null; then
    echo "### One path: total, downtime, rounds per mode (mean, min-max)"
    echo
    echo "| ssai | bg | MB | pages/s | mode | n | total ms | downtime ms |" \
        "rounds | retrans | MB sent | estimate ms | err % | verified |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    jq -r "$JQDEFS"'
      [.[] | select(.phase == "single")]
      | group_by([-.slow_start_after_idle, .background, .mem_mb,
                  .dirty_pps, .mode])[]
      | . as $g | ($g | map(.total_ms // empty)) as $t
      | [($g[0].slow_start_after_idle | tostring),
         (if $g[0].background then "on" else "off" end),
         ($g[0].mem_mb | tostring), ($g[0].dirty_pps | tostring),
         $g[0].mode, ($g | length | tostring),
         "\($t | mean | r0) (\($t | min | r0)-\($t | max | r0))",
         ($g | map(.downtime_ms // empty) | mean | r1 | tostring),
         ($g | map(.rounds // empty) | mean | r1 | tostring),
         ($g | map(.retransmits // empty) | mean | r0 | tostring),
         ($g | map(.bytes // empty) | mean
             | if . then ./1048576 | r1 else "-" end | tostring),
         ($g[0].estimate_ms | r0 | tostring),
         (if ($t | mean) then
             (($g[0].estimate_ms - ($t | mean)) / ($t | mean) * 100 | r1)
          else "-" end | tostring),
         "\($g | map(select(.verified)) | length)/\($g | length)"]
      | "| " + join(" | ") + " |"' <<<"$all"
    echo
    echo "### en against ack, same conditions (runs interleaved; paired" \
        "by run)"
    echo
    echo "| ssai | bg | MB | pages/s | ack ms | en ms | ack - en ms" \
        "(min..max) | reduction % | ack downtime | en downtime |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    jq -r "$JQDEFS"'
      [.[] | select(.phase == "single" and (.mode == "ack" or .mode == "en"))]
      | group_by([-.slow_start_after_idle, .background, .mem_mb,
                  .dirty_pps])[]
      | . as $g
      | ($g | map(select(.mode == "ack"))) as $a
      | ($g | map(select(.mode == "en"))) as $e
      | select(($a | length) > 0 and ($e | length) > 0)
      | [$a[] | .run as $k | .total_ms as $ta
         | ($e[] | select(.run == $k) | .total_ms) as $te
         | select($ta != null and $te != null) | $ta - $te] as $d
      | ($a | map(.total_ms // empty) | mean) as $am
      | ($e | map(.total_ms // empty) | mean) as $em
      | [($g[0].slow_start_after_idle | tostring),
         (if $g[0].background then "on" else "off" end),
         ($g[0].mem_mb | tostring), ($g[0].dirty_pps | tostring),
         ($am | r0 | tostring), ($em | r0 | tostring),
         "\($d | mean | r0) (\($d | min | r0)..\($d | max | r0))",
         (if $am and $em then (($am - $em) / $am * 100 | r1) else "-" end
          | tostring),
         ($a | map(.downtime_ms // empty) | mean | r1 | tostring),
         ($e | map(.downtime_ms // empty) | mean | r1 | tostring)]
      | "| " + join(" | ") + " |"' <<<"$all"
    echo
    echo "### The planner's estimate against the measured total"
    echo
    echo "Error = (estimate - measured) / measured, per case, then the mean" \
        "(min..max) over a group's runs.  *No working set*: every write a" \
        "new page; *working set*: the model with the engine's region as" \
        "its working set (docs/planner.md 1.1), both at link capacity;" \
        "*learned*: mignetd's estimate of the case from the goodput it" \
        "learned from the earlier reports of the same mode and conditions" \
        "(the first case of each is at capacity and is not counted)."
    echo
    echo "| ssai | bg | MB | pages/s | mode | measured ms | no working set" \
        "% | working set % | learned % (n) |"
    echo "|---|---|---|---|---|---|---|---|---|"
    jq -r "$JQDEFS"'
      def errs(f): map(select(.total_ms and .total_ms > 0 and f != null)
                       | (f - .total_ms) / .total_ms * 100);
      def span: if length == 0 then "-" else
          "\(mean | r1) (\(min | r1)..\(max | r1))" end;
      [.[] | select(.phase == "single")]
      | group_by([-.slow_start_after_idle, .background, .mem_mb,
                  .dirty_pps, .mode])[]
      | . as $g
      | ($g | map(select(.learned_source == "learned"))
            | errs(.learned_estimate_ms)) as $l
      | [($g[0].slow_start_after_idle | tostring),
         (if $g[0].background then "on" else "off" end),
         ($g[0].mem_mb | tostring), ($g[0].dirty_pps | tostring),
         $g[0].mode,
         ($g | map(.total_ms // empty) | mean | r0 | tostring),
         ($g | errs(.estimate_linear_ms) | span),
         ($g | errs(.estimate_ms) | span),
         "\($l | span) (\($l | length))"]
      | "| " + join(" | ") + " |"' <<<"$all"
    echo
    jq -r "$JQDEFS"'
      [.[] | select(.phase == "single" and .total_ms and .total_ms > 0)]
      | def within(f): map(select(f != null)
            | ((f - .total_ms) / .total_ms * 100) | fabs <= 10);
        (map(select(.learned_source == "learned")) | within(.learned_estimate_ms)) as $l
      | (within(.estimate_ms)) as $w
      | (within(.estimate_linear_ms)) as $n
      | "Within +-10 %: learned \($l | map(select(.)) | length) of"
        + " \($l | length) cases; working set at capacity"
        + " \($w | map(select(.)) | length) of \($w | length); no working"
        + " set \($n | map(select(.)) | length) of \($n | length)."' <<<"$all"
    echo
fi

# ---- multi-path ----------------------------------------------------------

if jq -e 'any(.[]; .phase == "multi")' <<<"$all" >/dev/null; then
    echo "### Two disjoint paths: 1 TCP path, 2 TCP striped, MPTCP"
    echo
    echo "| mode | transport | paths | n | total ms | first-round Mbit/s |" \
        "x 1 path | path 1 MB | path 2 MB | MPTCP joins | estimate ms |" \
        "err % | verified |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    jq -r "$JQDEFS"'
      [.[] | select(.phase == "multi")] as $m
      | $m | group_by([.mode, .transport, .paths])[]
      | . as $g
      | ($g | map(.total_ms // empty) | mean) as $t
      | ($g | map(.first_round_mbps // empty) | mean) as $bw
      | ([$m[] | select(.mode == $g[0].mode and .paths == 1)
          | .first_round_mbps // empty] | mean) as $one
      | [$g[0].mode, $g[0].transport, ($g[0].paths | tostring),
         ($g | length | tostring), ($t | r0 | tostring),
         ($bw | r1 | tostring),
         (if $one and $bw then $bw / $one | r2 else "-" end | tostring),
         ($g | map(.path_bytes[0]) | mean / 1048576 | r1 | tostring),
         ($g | map(.path_bytes[1]) | mean / 1048576 | r1 | tostring),
         ($g | map(.mptcp_joins) | mean | r1 | tostring),
         ($g[0].estimate_ms | r0 | tostring),
         (if $t then (($g[0].estimate_ms - $t) / $t * 100 | r1) else "-" end
          | tostring),
         "\($g | map(select(.verified)) | length)/\($g | length)"]
      | "| " + join(" | ") + " |"' <<<"$all"
    echo
fi

# ---- plots ---------------------------------------------------------------

# cwnd_plot BG PNG: cwnd of connection 0 over time, ack and en, for the
# first run of the single-path case with the most dirty pages/s and the
# least memory, slow start after idle 1, background BG.
cwnd_plot() {
    local bg=$1 png=$2 mode sel name gp
    gp=$dir/$(basename "$2" .png).gp
    local have=0
    {
        echo "set terminal pngcairo size 1100,760 font ',10'"
        echo "set output '$png'"
        echo "set multiplot layout 2,1 title 'cwnd of the migration" \
            "connection: ack (above) and en (below); round starts dashed'"
        echo "set xlabel 'time since start (ms)'"
        echo "set ylabel 'cwnd (segments)'"
        echo "set grid"
        # One time axis for both: the longer of the two runs.
        jq -r --argjson bg "$bg" '[.[] | select(.phase == "single"
            and .background == ($bg == 1) and .total_ms != null)]
            | group_by(.mode) | map(sort_by(-.slow_start_after_idle,
                -.dirty_pps, .mem_mb, .run)[0].total_ms) | max // empty
            | "set xrange [0:\(. * 1.02)]"' <<<"$all"
    } >"$gp"
    for mode in ack en; do
        sel=$(jq -c --argjson bg "$bg" --arg mode "$mode" '
            [.[] | select(.phase == "single" and .background == ($bg == 1)
                   and .mode == $mode and .total_ms != null)]
            | sort_by(-.slow_start_after_idle, -.dirty_pps, .mem_mb, .run)
            | .[0] // empty' <<<"$all")
        [ -n "$sel" ] || continue
        name=$(jq -r .raw <<<"$sel")
        [ -s "$dir/raw/$name.send.json" ] || continue
        jq -r '.timeline[] | select(.conn == 0) | "\(.t_ms) \(.cwnd)"' \
            "$dir/raw/$name.send.json" >"$dir/cwnd.$bg.$mode.dat"
        [ -s "$dir/cwnd.$bg.$mode.dat" ] || continue
        have=$((have + 1))
        {
            echo "unset arrow"
            jq -r '.round_list[] | "set arrow from \(.start_ms), graph 0"
                + " to \(.start_ms), graph 1 nohead dt 2 lc rgb \"gray50\""' \
                "$dir/raw/$name.send.json"
            jq -r '"set title \"\(.mode): \(.mem_mb) MB, \(.dirty_pps)"
                + " pages/s, background \(.background), total"
                + " \(.total_ms | round) ms, \(.rounds) rounds,"
                + " \(.retransmits) retransmissions\""' <<<"$sel"
            echo "plot '$dir/cwnd.$bg.$mode.dat' using 1:2 with steps" \
                "lw 1.5 lc rgb '$([ "$mode" = ack ] && echo '#c0392b' ||
                echo '#2471a3')' title '$mode'"
        } >>"$gp"
    done
    echo "unset multiplot" >>"$gp"
    if [ "$have" -gt 0 ]; then
        gnuplot "$gp" || echo "precopy_report: gnuplot failed on $gp" >&2
    fi
}

cwnd_plot 0 "$dir/cwnd_ack_en.png"
cwnd_plot 1 "$dir/cwnd_ack_en_bg.png"

# total_per_case.png: mean total (bars) with min-max per mode.
if jq -e 'any(.[]; .phase == "single")' <<<"$all" >/dev/null; then
    jq -r "$JQDEFS"'
      def cell($m): map(select(.mode == $m) | .total_ms // empty) as $t
        | if ($t | length) == 0 then "NaN NaN NaN"
          else "\($t | mean) \($t | min) \($t | max)" end;
      [.[] | select(.phase == "single")]
      | group_by([-.slow_start_after_idle, .background, .mem_mb,
                  .dirty_pps])[]
      | "\(.[0].mem_mb)MB/\(.[0].dirty_pps / 1000)k/"
        + "\(if .[0].background then "bg" else "-" end)/"
        + "s\(.[0].slow_start_after_idle) \(cell("ack")) \(cell("en"))"
        + " \(cell("buffer"))"' <<<"$all" >"$dir/total.dat"
    {
        echo "set terminal pngcairo size 1200,600 font ',10'"
        echo "set output '$dir/total_per_case.png'"
        echo "set title 'Total migration time per case (mean; bars:" \
            "min-max). Label: memory/dirty pages per s/background/" \
            "slow start after idle'"
        echo "set ylabel 'total time (ms)'"
        echo "set style data histogram"
        echo "set style histogram errorbars gap 1 lw 1"
        echo "set style fill solid 0.7 border -1"
        echo "set xtics rotate by -35"
        echo "set grid ytics"
        echo "set yrange [0:*]"
        echo "set key top left"
        echo "plot '$dir/total.dat' using 2:3:4:xtic(1) title 'ack'" \
            "lc rgb '#c0392b', '' using 5:6:7 title 'en' lc rgb '#2471a3'" \
            "$(jq -e 'any(.[]; .mode == "buffer")' <<<"$all" >/dev/null &&
                echo ", '' using 8:9:10 title 'buffer' lc rgb '#7f8c8d'")"
    } >"$dir/total.gp"
    gnuplot "$dir/total.gp" || echo "precopy_report: gnuplot failed" >&2
fi

# multipath.png: first-round throughput per transport.
if jq -e 'any(.[]; .phase == "multi")' <<<"$all" >/dev/null; then
    jq -r "$JQDEFS"'
      [.[] | select(.phase == "multi" and .first_round_mbps != null)]
      | group_by([.paths, .transport])[]
      | "\"\(if .[0].transport == "mptcp" then "MPTCP, 2 paths"
             elif .[0].paths == 1 then "TCP, 1 path"
             else "TCP x2, striped" end)\""
        + " \(map(.first_round_mbps) | mean)"
        + " \(map(.first_round_mbps) | min) \(map(.first_round_mbps) | max)"
      ' <<<"$all" >"$dir/multipath.dat"
    {
        echo "set terminal pngcairo size 800,500 font ',10'"
        echo "set output '$dir/multipath.png'"
        echo "set title 'First pre-copy round throughput, 2 disjoint" \
            "paths of $(jq '[.[] | select(.phase == "multi")][0].rate_mbit' \
                <<<"$all") Mbit/s'"
        echo "set ylabel 'Mbit/s'"
        echo "set style data histogram"
        echo "set style histogram errorbars gap 1 lw 1"
        echo "set style fill solid 0.7 border -1"
        echo "set yrange [0:*]"
        echo "set grid ytics"
        echo "plot '$dir/multipath.dat' using 2:3:4:xtic(1) notitle" \
            "lc rgb '#2471a3'"
    } >"$dir/multipath.gp"
    gnuplot "$dir/multipath.gp" || echo "precopy_report: gnuplot failed" >&2
fi
echo "Figures: $(find "$dir" -maxdepth 1 -name '*.png' -printf '%f ' | sort)"
