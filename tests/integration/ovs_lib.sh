# ovs_lib.sh: run a private Open vSwitch (userspace datapath) for a test.
#
# Source it, then call ovs_start NAME.  It creates a network namespace
# "mn-NAME-$$", a run/db/log directory under a temporary directory, starts
# ovsdb-server and ovs-vswitchd inside the namespace with explicit pidfiles
# and control sockets (see /work/shared/OVS-NOTES.md), and registers an EXIT
# trap that stops both by PID, deletes the namespace and the directory.  It
# never touches the root namespace's interfaces or routes, and never kills
# by name.  Needs root (namespaces) and the openvswitch-switch package; if
# either is missing, ovs_require exits 77 (skipped).
#
#   OVS_T        the run directory (RUNDIR/BR.mgmt is a bridge's OpenFlow
#                socket)
#   OVS_NS       the namespace
#   ovs_vsctl    ovs-vsctl against this instance
#   ovs_add_bridge BR [DPID]   a netdev bridge, fail_mode=secure, OF1.3
#   ovs_send_rarp IFACE MAC    QEMU's announce: a RARP from MAC on IFACE
#   ovs_wait WHAT CMD...       CMD succeeds within 15 s, or the test fails
#                              (dumping BR's flows when OVS_WAIT_BR is set)

ovs_require() {
    local tool
    for tool in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-ofctl ip; do
        command -v "$tool" >/dev/null 2>&1 || {
            echo "SKIP: $tool is not installed"; exit 77; }
    done
    [ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for namespaces"; exit 77; }
}

OVS_PIDFILES=()
ovs_cleanup() {
    local rc=$?
    local f pid i
    for f in "${OVS_PIDFILES[@]}"; do
        [ -f "$f" ] || continue
        pid=$(cat "$f" 2>/dev/null || true)
        [ -n "$pid" ] || continue
        kill "$pid" 2>/dev/null || true
        for i in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        kill -9 "$pid" 2>/dev/null || true
    done
    if [ -n "${OVS_NS:-}" ]; then
        ip netns del "$OVS_NS" 2>/dev/null || true
    fi
    if [ $rc -ne 0 ] && [ -n "${OVS_T:-}" ]; then
        for f in "$OVS_T"/*.log; do
            [ -f "$f" ] || continue
            echo "---- $f (last 20 lines)" >&2
            tail -n 20 "$f" >&2
        done
    fi
    [ -n "${OVS_T:-}" ] && rm -rf "$OVS_T"
    exit $rc
}

ovs_vsctl() {
    ovs-vsctl --db="unix:$OVS_T/db.sock" --timeout=10 "$@"
}

ovs_start() {
    local name=$1
    OVS_T=$(mktemp -d "${TMPDIR:-/tmp}/mn-ovs.XXXXXX")
    OVS_NS=mn-$name-$$
    trap ovs_cleanup EXIT
    ip netns add "$OVS_NS"
    ip netns exec "$OVS_NS" ip link set lo up
    export OVS_RUNDIR=$OVS_T OVS_DBDIR=$OVS_T OVS_LOGDIR=$OVS_T
    ovsdb-tool create "$OVS_T/conf.db" \
        /usr/share/openvswitch/vswitch.ovsschema
    OVS_PIDFILES+=("$OVS_T/ovsdb-server.pid")
    ip netns exec "$OVS_NS" ovsdb-server "$OVS_T/conf.db" \
        --remote="punix:$OVS_T/db.sock" --pidfile="$OVS_T/ovsdb-server.pid" \
        --unixctl="$OVS_T/ovsdb-server.ctl" \
        --log-file="$OVS_T/ovsdb-server.log" --detach
    ovs_vsctl --no-wait init
    OVS_PIDFILES+=("$OVS_T/ovs-vswitchd.pid")
    ip netns exec "$OVS_NS" ovs-vswitchd "unix:$OVS_T/db.sock" \
        --pidfile="$OVS_T/ovs-vswitchd.pid" \
        --unixctl="$OVS_T/ovs-vswitchd.ctl" \
        --log-file="$OVS_T/ovs-vswitchd.log" --detach
}

ovs_add_bridge() {
    local br=$1 dpid=${2:-}
    local extra=()
    [ -n "$dpid" ] && extra=(other_config:datapath-id="$dpid")
    ovs_vsctl add-br "$br" -- set bridge "$br" datapath_type=netdev \
        fail_mode=secure protocols=OpenFlow13 \
        other_config:disable-in-band=true "${extra[@]}"
    local i
    for i in $(seq 1 100); do
        [ -S "$OVS_T/$br.mgmt" ] && return 0
        sleep 0.05
    done
    echo "FAIL: $OVS_T/$br.mgmt did not appear" >&2
    return 1
}

ovs_send_rarp() {
    ip netns exec "$OVS_NS" python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
mac = bytes.fromhex(sys.argv[2].replace(":", ""))
rarp = (b"\xff" * 6 + mac + b"\x80\x35" + bytes.fromhex("000108000604")
        + b"\x00\x03" + mac + b"\x00" * 4 + mac + b"\x00" * 4)
s.send(rarp + b"\x00" * (60 - len(rarp)))
PY
}

ovs_wait() {
    local what=$1 end=$((SECONDS + 15))
    shift
    while [ $SECONDS -lt $end ]; do
        "$@" && return 0
        sleep 0.05
    done
    if [ -n "${OVS_WAIT_BR:-}" ]; then
        ovs-ofctl -O OpenFlow13 --no-stats dump-flows \
            "unix:$OVS_T/$OVS_WAIT_BR.mgmt" >&2 || true
    fi
    echo "FAIL: $what: not within 15 s" >&2
    exit 1
}

# For a test that also uses lib.sh, on exit: lib.sh's processes and
# directory, then Open vSwitch's (which reads the exit code from $?;
# errexit must not stop us before it).
ovs_and_lib_cleanup() {
    local rc=$?
    set +e
    stop_all $rc
    (exit $rc)
    ovs_cleanup
}

# relay_gw_and_agent GW_ARGS...: the test gateway (gw_relay.py with
# GW_ARGS) in front of mignetd's REST at $URL, and n1's mignet-agent on
# the bridge at $OVS_T polling it every 200 ms; sets GW and MPORT.
relay_gw_and_agent() {
    local rest=${URL#http://} i
    python3 -u "$SRC/tests/integration/gw_relay.py" "${rest%:*}" \
        "${rest##*:}" "$@" >"$T/gw.out" 2>>"$T/gw.log" &
    PIDS+=("$!")
    for i in $(seq 1 100); do
        grep -q "^[0-9]" "$T/gw.out" && break
        sleep 0.1
    done
    grep -q "^[0-9]" "$T/gw.out" || fail "gateway not listening"
    GW=http://127.0.0.1:$(head -n 1 "$T/gw.out")
    MPORT=$(free_port)
    "$MIGNET_BUILD_DIR/mignet-agent" --node n1 --token-file "$T/token-n1" \
        --ofp "unix:$OVS_T/br-int.mgmt" --controller "$AGENT_ADDR" \
        --gateway "$GW" --refresh-ms 200 --metrics "127.0.0.1:$MPORT" \
        --log-level debug >"$T/agent.out" 2>>"$T/agent.log" &
    PIDS+=("$!")
}
