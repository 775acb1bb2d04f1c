# qemu_lib.sh: real QEMU guests on the Open vSwitch test bed (lib.sh,
# mig_lib.sh), for the live-migration tests.  A guest (tests/e2e/guest) runs
# in a host's namespace with a virtio-net NIC on a tap that is a port of the
# host's br-int (port name = the VM id, as a namespace VM's veth); a
# destination QEMU waits with -incoming on a migration link of its own (a
# veth pair between the two host namespaces, 198.19.P.0/24, apart from the
# VXLAN underlay); QMP goes through tests/e2e/qmp.py.  Sourced after lib.sh
# and mig_lib.sh; everything started is stopped by its PID at teardown.
#
#   qm_require; qm_guest_build
#   qm_miglink 1 2                      # hosts 1 and 2
#   qm_vm_create 1 1                    # tap vm1 on h1, VM vm1 in mignet
#   qm_start src 1 1                    # instance "src": vm1's QEMU on h1
#   qm_wait_ready 1 3 30                # vm1 answers vm3 over the overlay
#   qm_start_incoming dst 1 2 1         # vm1's QEMU on h2, from host 1
#   qm_migrate src dst                  # QMP migrate over the link
#   qm_wait_migration src 30            # -> completed | failed | cancelled
#   qm_event_ms src STOP; qm_event_ms dst RESUME
#
# Instance NAME keeps its files in $TB_DIR/qemu/NAME: qmp.sock (commands),
# ev.sock (followed by qmp.py into events.jsonl: one JSON event a line with
# its wall-clock "ms"), ctl.sock (free, for mignet-qemu), serial.log, pid.

# shellcheck shell=bash disable=SC2034,SC2317

QM_MEM=${QM_MEM:-128}
QM_TXQ=${QM_TXQ:-10000}          # tap queue: rate x the longest pause
QM_PROBE_PORT=5000               # probe-echo in the guest
QM_REFLECT_PORT=6000             # where the guest sends probes back
QM_MAX_BW=${QM_MAX_BW:-1073741824} # bytes/s: effectively unlimited
QM_MIG_PORT=${QM_MIG_PORT:-4444}
QM_QMP=${MIGNET_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/e2e/qmp.py
QM_PY=/usr/bin/python3

# Fails (never skips: the suite must run in CI as root) unless QEMU and
# python3 are installed (scripts/deps.sh test installs them).
qm_require() {
    command -v qemu-system-x86_64 >/dev/null 2>&1 ||
        tb_die "qemu-system-x86_64 not installed (scripts/deps.sh test)"
    [ -x "$QM_PY" ] || tb_die "$QM_PY not found"
}

# Builds (or finds cached) the guest; sets QM_KERNEL and QM_INITRD.
qm_guest_build() {
    local src dir
    src=${MIGNET_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
    dir=$("$src/tests/e2e/guest/build.sh" "$MIG_BUILD/guest") ||
        tb_die "guest build failed"
    QM_KERNEL=$dir/vmlinuz
    QM_INITRD=$dir/initrd.gz
    QM_ECHO=$dir/probe-echo
}

# qm_echo_selftest X: runs the guest's probe-echo (static: it runs on the
# host as well) in namespace VM X on loopback and feeds it crafted probes:
# sequence numbers 0 1 1 3 5, an end probe saying 7 were sent, a probe of
# bad magic.  Prints its answer (probe-echo's JSON) for the caller to check.
qm_echo_selftest() {
    local x=$1 pid out
    tb_vm_bg "$x" "$QM_ECHO" --port 7000 --reflect-port 7001 \
        >"$TB_DIR/echo-selftest.log" 2>&1
    pid=$TB_BG_PID
    out=$(tb_vm_exec "$x" "$QM_PY" -c '
import socket, struct, time
def probe(seq, kind=0, magic=0x4d4e5452):
    return struct.pack(">IBBHIIQQQ", magic, 1, kind, 0, 9, 1000, seq,
                       1000000, 1000000 + seq)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 7001))
s.settimeout(0.2)
for _ in range(50):
    s.sendto(b"MNGQ 9", ("127.0.0.1", 7000))
    try:
        s.recv(2048)
        break
    except socket.timeout:
        pass
for seq in (0, 1, 1, 3, 5):
    s.sendto(probe(seq), ("127.0.0.1", 7000))
s.sendto(probe(7, kind=1), ("127.0.0.1", 7000))
s.sendto(probe(2, magic=1), ("127.0.0.1", 7000))
back = 0
s.settimeout(1.0)
while True:
    s.sendto(b"MNGQ 9", ("127.0.0.1", 7000))
    m = s.recv(2048)
    while m.startswith(b"MNTR"):
        back += 1
        m = s.recv(2048)
    if back >= 6:
        print(m.decode().strip()[:-1] + ",\"reflected\":%d}" % back)
        break
')
    tb_stop_pid "$pid"
    echo "$out"
}

qm_dir() { printf '%s/qemu/%s' "$TB_DIR" "$1"; }
qm_pid() { cat "$(qm_dir "$1")/pid" 2>/dev/null; }

# qm_miglink A B: the migration link between hosts A < B: veth "migB" in
# host A with 198.19.P.A/24 and "migA" in host B with 198.19.P.B/24,
# P = 16 A + B; MTU 9000.
qm_miglink() {
    local a=$1 b=$2 p
    [ "$a" -lt "$b" ] || tb_die "qm_miglink: want A < B"
    p=$((16 * a + b))
    ip -n "$(tb_ns_host "$a")" link add "mig$b" mtu 9000 type veth \
        peer name "mig$a" mtu 9000 netns "$(tb_ns_host "$b")" ||
        tb_die "cannot create the migration link h$a-h$b"
    ip -n "$(tb_ns_host "$a")" addr add "198.19.$p.$a/24" dev "mig$b"
    ip -n "$(tb_ns_host "$b")" addr add "198.19.$p.$b/24" dev "mig$a"
    ip -n "$(tb_ns_host "$a")" link set "mig$b" up
    ip -n "$(tb_ns_host "$b")" link set "mig$a" up
}

# qm_mig_addr FROM TO: host TO's address on its migration link with FROM.
qm_mig_addr() {
    local a=$1 b=$2
    [ "$a" -lt "$b" ] || { a=$2; b=$1; }
    printf '198.19.%d.%d' $((16 * a + b)) "$2"
}

# qm_tap X H: tap vmX on host H's br-int at ofport 100+X (kept if there
# already: a guest that comes back finds its old port), queue QM_TXQ.
qm_tap() {
    local x=$1 h=$2 ns
    ns=$(tb_ns_host "$h")
    if ! ip -n "$ns" link show "vm$x" >/dev/null 2>&1; then
        ip -n "$ns" tuntap add dev "vm$x" mode tap ||
            tb_die "cannot create tap vm$x on host $h"
        ip -n "$ns" link set "vm$x" txqueuelen "$QM_TXQ" up
        tb_vsctl "$h" add-port br-int "vm$x" \
            -- set interface "vm$x" ofport_request="$(tb_vm_ofport "$x")" \
               external_ids:iface-id="vm$x" \
               external_ids:attached-mac="$(tb_vm_mac "$x")" ||
            tb_die "cannot attach tap vm$x to host $h"
    fi
}

# qm_vm_create X H: the guest's tap on host H and VM vmX in mignet.
qm_vm_create() {
    local x=$1 h=$2
    mkdir -p "$TB_DIR/vm/$x"
    qm_tap "$x" "$h"
    printf '%s\n' "$h" >"$TB_DIR/vm/$x/host"
    mignet_cli vm create "vm$x" --mac "$(tb_vm_mac "$x")" \
        --ip "$(tb_vm_ip "$x")" --vni 100 --node "n$h" >/dev/null ||
        tb_die "mignet vm create vm$x failed"
}

# qm_start NAME X H [QEMU ARGS...]: instance NAME, guest vmX's QEMU in host
# H's namespace on tap vmX (created if missing); returns once its events
# are followed.  Extra arguments go to QEMU (e.g. -incoming).
qm_start() {
    local name=$1 x=$2 h=$3 d pid; shift 3
    d=$(qm_dir "$name")
    [ ! -e "$d" ] || tb_die "QEMU instance $name exists"
    mkdir -p "$d"
    qm_tap "$x" "$h"
    echo "$h" >"$d/host"
    ip netns exec "$(tb_ns_host "$h")" qemu-system-x86_64 \
        -name "vm$x" -accel tcg -m "$QM_MEM" -smp 1 \
        -nodefaults -no-user-config -display none -no-reboot \
        -serial "file:$d/serial.log" \
        -kernel "$QM_KERNEL" -initrd "$QM_INITRD" \
        -append "console=ttyS0 panic=-1 quiet mignet.ip=$(tb_vm_ip "$x")/24 mignet.port=$QM_PROBE_PORT mignet.reflect=$QM_REFLECT_PORT" \
        -netdev "tap,id=n0,ifname=vm$x,script=no,downscript=no" \
        -device "virtio-net-pci,netdev=n0,mac=$(tb_vm_mac "$x"),csum=off" \
        -qmp "unix:$d/qmp.sock,server=on,wait=off" \
        -chardev "socket,id=ev,path=$d/ev.sock,server=on,wait=off" \
        -mon chardev=ev,mode=control \
        -chardev "socket,id=ctl,path=$d/ctl.sock,server=on,wait=off" \
        -mon chardev=ctl,mode=control \
        "$@" >"$d/qemu.log" 2>&1 &
    pid=$!
    disown "$pid" # no job notice with the whole command line when killed
    echo "$pid" >"$d/pid"
    echo "$pid" >>"$TB_DIR/pids"
    "$QM_PY" "$QM_QMP" "$d/ev.sock" --events "$d/events.jsonl" \
        2>>"$d/qmp-events.err" &
    echo "$!" >>"$TB_DIR/pids"
    local i
    for ((i = 0; i < 200; i++)); do
        grep -q _FOLLOWING "$d/events.jsonl" 2>/dev/null && break
        tb_pid_alive "$pid" || tb_die "QEMU $name exited: $(tail -3 "$d/qemu.log")"
        sleep 0.05
    done
    grep -q _FOLLOWING "$d/events.jsonl" 2>/dev/null ||
        tb_die "QEMU $name: its events are not followed"
    tb_log "QEMU $name (vm$x) on h$h, pid $pid"
}

# qm_start_incoming NAME X H FROM: the destination QEMU for vmX on host H,
# listening on its migration link with host FROM.
qm_start_incoming() {
    local name=$1 x=$2 h=$3 from=$4
    qm_start "$name" "$x" "$h" \
        -incoming "tcp:$(qm_mig_addr "$from" "$h"):$QM_MIG_PORT"
    qm_mig_addr "$from" "$h" >"$(qm_dir "$name")/incoming"
}

# qm_qmp NAME CMD...: QMP commands on instance NAME (qmp.py's syntax).
qm_qmp() {
    local name=$1; shift
    "$QM_PY" "$QM_QMP" "$(qm_dir "$name")/qmp.sock" "$@"
}

# qm_migrate SRC DST [PARAMS_JSON]: events on, parameters set (they stick
# on the source: set before every migrate; max-bandwidth QM_MAX_BW unless
# PARAMS_JSON says otherwise), then migrate to DST's -incoming address.
qm_migrate() {
    local src=$1 dst=$2 params=${3:-} addr
    addr=$(cat "$(qm_dir "$dst")/incoming") || tb_die "$dst is not incoming"
    [ -n "$params" ] || params="{\"max-bandwidth\": $QM_MAX_BW}"
    qm_qmp "$src" \
        'migrate-set-capabilities={"capabilities": [{"capability": "events", "state": true}]}' \
        "migrate-set-parameters=$params" \
        "migrate={\"uri\": \"tcp:$addr:$QM_MIG_PORT\"}" >/dev/null ||
        tb_die "QMP migrate $src -> $dst failed"
    tb_log "QMP migrate $src -> $dst ($addr)"
}

# qm_event_ms NAME EVENT [JQ_FILTER]: the wall-clock ms of the last such
# event of NAME (empty if none), e.g. qm_event_ms src MIGRATION
# '.data.status == "completed"'.
qm_event_ms() {
    local f
    f=$(qm_dir "$1")/events.jsonl
    [ -s "$f" ] || return 0
    jq -r --arg e "$2" "select(.event == \$e and (${3:-true})) | .ms" "$f" |
        tail -1 | cut -d. -f1
}

# qm_wait_event NAME EVENT [JQ_FILTER] [TIMEOUT_S]: waits for it (polling
# every 5 ms with grep first, jq only on a hit); prints its ms; returns 1
# on timeout.
qm_wait_event() {
    local name=$1 ev=$2 filt=${3:-true} t=${4:-30} f i ms
    f=$(qm_dir "$name")/events.jsonl
    for ((i = 0; i < t * 200; i++)); do
        if grep -q "\"event\": \"$ev\"" "$f" 2>/dev/null; then
            ms=$(qm_event_ms "$name" "$ev" "$filt")
            if [ -n "$ms" ]; then
                echo "$ms"
                return 0
            fi
        fi
        sleep 0.005
    done
    return 1
}

# qm_on_event NAME EVENT CMD...: runs CMD (from the event follower, within
# a few ms) the next time instance NAME reports EVENT; its output goes to
# $(qm_dir NAME)/on.EVENT.out, the wall-clock ms before and after it to
# on.EVENT.t0 and .t1.  qm_on_event_wait NAME EVENT [TIMEOUT_S] waits for it
# to finish and prints its output.
qm_on_event() {
    local name=$1 ev=$2 d; shift 2
    d=$(qm_dir "$name")
    rm -f "$d/on.$ev.out" "$d/on.$ev.t0" "$d/on.$ev.t1"
    {
        printf 'date +%%s%%3N >%q\n' "$d/on.$ev.t0"
        printf '%q ' "$@"
        printf '>%q 2>&1\n' "$d/on.$ev.out"
        printf 'date +%%s%%3N >%q\n' "$d/on.$ev.t1"
    } >"$d/events.jsonl.on.$ev.tmp"
    mv "$d/events.jsonl.on.$ev.tmp" "$d/events.jsonl.on.$ev"
}
qm_on_event_wait() {
    local d i
    d=$(qm_dir "$1")
    for ((i = 0; i < ${3:-30} * 100; i++)); do
        if [ -s "$d/on.$2.t1" ]; then
            cat "$d/on.$2.out"
            return 0
        fi
        sleep 0.01
    done
    tb_die "the hook on $1's $2 did not run"
}

# qm_wait_migration NAME [TIMEOUT_S]: waits until the source's migration
# ends; prints its final status (completed | failed | cancelled, or dead
# if that QEMU is gone).
qm_wait_migration() {
    local name=$1 t=${2:-60} i s
    for ((i = 0; i < t * 20; i++)); do
        if ! tb_pid_alive "$(qm_pid "$name")"; then
            echo dead
            return 0
        fi
        s=$(qm_qmp "$name" query-migrate 2>/dev/null | jq -r '.status // empty')
        case $s in
            completed|failed|cancelled) echo "$s"; return 0 ;;
        esac
        sleep 0.05
    done
    tb_die "migration from $name did not end in ${t}s (status '$s')"
}

# qm_downtime_ms NAME: QEMU's own downtime figure of the last completed
# migration (asked again while still 0: it may be at the instant).
qm_downtime_ms() {
    local i d
    for ((i = 0; i < 20; i++)); do
        tb_pid_alive "$(qm_pid "$1")" || break
        d=$(qm_qmp "$1" query-migrate 2>/dev/null | jq -r '.downtime // 0')
        [ "${d:-0}" != 0 ] && break
        sleep 0.05
    done
    echo "${d:-0}"
}

# qm_guest_query X FROM_VM ID [TRIES]: sender ID's counts in guest vmX
# (probe-echo's JSON), asked from namespace VM FROM_VM, TRIES times (default
# 3) 0.3 s apart; empty when it never answered.
qm_guest_query() {
    tb_vm_exec "$2" "$QM_PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.3)
for _ in range(int(sys.argv[4])):
    s.sendto(b"MNGQ " + sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
    try:
        print(s.recv(2048).decode().strip())
        break
    except socket.timeout:
        pass
' "$(tb_vm_ip "$1")" "$QM_PROBE_PORT" "$3" "${4:-3}" 2>/dev/null
}

# qm_wait_ready X FROM_VM [TIMEOUT_S]: until guest vmX answers a query from
# FROM_VM over the overlay (booted, eth0 up, probe-echo running).
qm_wait_ready() {
    local x=$1 from=$2 t=${3:-40} t0 i
    t0=$(tb_now_ms)
    for ((i = 0; i < t * 2; i++)); do
        if [ -n "$(qm_guest_query "$x" "$from" 0)" ]; then
            tb_log "vm$x (QEMU) answers vm$from, $(($(tb_now_ms) - t0)) ms"
            return 0
        fi
        sleep 0.2
    done
    tb_die "guest vm$x not reachable from vm$from after ${t}s"
}

# qm_crashed NAME: true if the guest of instance NAME oopsed or panicked
# (serial console), e.g. after a resume under TCG.
qm_crashed() {
    grep -qE 'Kernel panic|Oops|BUG:|general protection fault|probe-echo exited' \
        "$(qm_dir "$1")/serial.log" 2>/dev/null
}

# qm_stop NAME: stops instance NAME by its PID (TERM, then KILL); a zombie
# counts as gone.
qm_stop() {
    tb_stop_pid "$(qm_pid "$1")"
}

# qm_kill NAME: SIGKILL, as a crashed host would.
qm_kill() {
    local pid
    pid=$(qm_pid "$1")
    tb_pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
    return 0
}

# ---- probes through a migration (sender and collector in one VM) ----

QM_PEER=${QM_PEER:-3}          # namespace VM that sends and collects
QM_ONEWAY_MS=${QM_ONEWAY_MS:-} # sender -> guest latency (qm_measure_latency)
QM_SLACK_MS=${QM_SLACK_MS:-2}
QM_PAUSES=()                   # "SRC DST" instance pairs of this run

# qm_note_pause SRC DST: this run's migration from instance SRC to DST;
# its pause (SRC's STOP to DST's RESUME) becomes a window of the report.
qm_note_pause() { QM_PAUSES+=("$1 $2"); }

# qm_probe_run X ID RATE SECS HOOK: probes from VM QM_PEER to guest vmX
# (sender ID), reflected back to a collector there, for SECS seconds or,
# with QM_TAIL_S set, until QM_TAIL_S seconds after HOOK returned.  HOOK
# runs 1 s after they start and must return once its migrations ended
# (qm_note_pause for each).  Returns 1 if the guest does not answer after
# (crashed?), else 0.  From the guest's own counts: QM_R_SENT, QM_R_RECV (distinct),
# QM_R_LOST (sent - distinct), QM_R_DUPS (copies beyond the first),
# QM_R_OUTSIDE (lost that were due outside every [STOP - QM_ONEWAY_MS,
# RESUME] window, QM_SLACK_MS either side); QM_R_PAUSE_MS (sum of the real
# pauses); from the collector: QM_R_BACK (distinct back), QM_R_DELAY_MAX_MS
# (round trip, the queued probes' included).  Files: $TB_DIR/probes.ID.json
# (collector), guest.ID.json (guest), windows.ID.
qm_probe_run() {
    local x=$1 id=$2 rate=$3 secs=$4 hook=$5
    local report=$TB_DIR/probes.$id.json win=$TB_DIR/windows.$id
    local rpid spid p s d stop resume last=0
    : >"$win"
    QM_PAUSES=()
    tb_recv_start "$QM_PEER" "$QM_REFLECT_PORT" "$report" --senders 1 \
        --slack-ms "$QM_SLACK_MS" --window-file "$win" --max-listed 100000 \
        --duration $((secs + 30)) --linger-ms 500
    rpid=$TB_BG_PID
    tb_send_start "$QM_PEER" "$x" "$QM_PROBE_PORT" "$rate" "$secs" "$id"
    spid=$TB_BG_PID
    sleep 1
    "$hook"
    if [ -n "${QM_TAIL_S:-}" ]; then
        sleep "$QM_TAIL_S"
        kill -TERM "$spid" 2>/dev/null || true
    fi
    QM_R_PAUSE_MS=0
    for p in "${QM_PAUSES[@]}"; do
        read -r s d <<<"$p"
        stop=$(qm_event_ms "$s" STOP)
        resume=$(qm_event_ms "$d" RESUME)
        if [ -n "$stop" ] && [ -n "$resume" ]; then
            echo "$((stop - ${QM_ONEWAY_MS:-0})) $resume" >>"$win"
            QM_R_PAUSE_MS=$((QM_R_PAUSE_MS + resume - stop))
            [ "$resume" -gt "$last" ] && last=$resume
        fi
    done
    tb_wait "$spid" $((secs + 30)) || tb_die "sender $id failed"
    # The end probes may not come back (the guest unreachable): the
    # collector then reports on TERM.
    local i
    for ((i = 0; i < 60; i++)); do
        tb_pid_alive "$rpid" || break
        sleep 0.05
    done
    kill -TERM "$rpid" 2>/dev/null || true
    tb_wait "$rpid" 10 || tb_die "collector $id failed"
    [ -s "$report" ] || tb_die "no probe report $report"
    local g
    # Up to 6 s: stale nodes may still send the question elsewhere.
    g=$(qm_guest_query "$x" "$QM_PEER" "$id" 20)
    if [ -z "$g" ]; then
        tb_log "run $id: guest vm$x does not answer"
        return 1
    fi
    echo "$g" >"$TB_DIR/guest.$id.json"
    # Sent: the sender's own count (its end probes may never have reached
    # the guest); what the guest did not know of was lost at the end.
    QM_R_SENT=$(jq -r .sent "$TB_DIR/send.$id.json")
    g=$(jq -c --argjson sent "$QM_R_SENT" '
        if .sent < $sent then
            .missing = ([.missing, "\(.sent)-\($sent - 1)"]
                        | map(select(length > 0)) | join(","))
            | .sent = $sent
        else . end' <<<"$g")
    QM_R_RECV=$(jq -r .received <<<"$g")
    QM_R_DUPS=$(jq -r .duplicates <<<"$g")
    QM_R_LOST=$((QM_R_SENT - QM_R_RECV))
    QM_R_BACK=$(jq -r '.total.received' "$report")
    QM_R_DELAY_MAX_MS=$(jq -r '[.senders[].delay_max_us] | max / 1000 | floor' \
        "$report")
    QM_R_LATE=$(jq -r --argjson after $((last + 1000)) '
        . as $g
        | [$g.missing | split(",") | .[] | select(length > 0)
           | split("-") | map(tonumber) | range(.[0]; .[1] + 1)
           | select(($g.start_us + . * 1000000 / $g.rate) / 1000 > $after)]
        | length' <<<"$g")
    if [ "$(jq -r .missing_complete <<<"$g")" = true ]; then
        QM_R_OUTSIDE=$(jq -r --argjson slack "$QM_SLACK_MS" \
            --argjson w "$(jq -Rsc 'split("\n") | map(select(length > 0) |
                split(" ") | map(tonumber))' "$win")" '
            . as $g
            | [$g.missing | split(",") | .[] | select(length > 0)
               | split("-") | map(tonumber) | range(.[0]; .[1] + 1)
               | (($g.start_us + . * 1000000 / $g.rate) / 1000) as $due
               | select([$w[] | select($due >= .[0] - $slack and
                                       $due <= .[1] + $slack)]
                        | length == 0)]
            | length' <<<"$g")
    else
        # Too many gaps for one answer: the collector's count, which also
        # counts the return path's losses (an upper bound).
        QM_R_OUTSIDE=$(jq -r '.total.missing_outside_window' "$report")
        tb_log "run $id: guest's missing list truncated; collector's figure"
    fi
    tb_log "run $id: sent $QM_R_SENT, at the guest $QM_R_RECV (lost" \
        "$QM_R_LOST, outside the pause $QM_R_OUTSIDE, $QM_R_DUPS dup)," \
        "back $QM_R_BACK, pause $QM_R_PAUSE_MS ms, max rtt" \
        "$QM_R_DELAY_MAX_MS ms, guest rcvbuf drops" \
        "$(jq -r .udp_rcvbuf_errors <<<"$g")"
}

# qm_measure_latency X: sets QM_ONEWAY_MS to half the mean round trip of
# 300 probes to guest vmX (sender id 1), rounded up.
qm_measure_latency() {
    _qm_idle() { :; }
    qm_probe_run "$1" 1 1000 1 _qm_idle
    local rtt_us
    rtt_us=$(jq -r '[.senders[].delay_mean_us] | max' \
        "$TB_DIR/probes.1.json")
    QM_ONEWAY_MS=$(( (rtt_us / 2 + 999) / 1000 ))
    tb_log "one-way latency to vm$1 ~ $QM_ONEWAY_MS ms (mean rtt $rtt_us us)"
}
