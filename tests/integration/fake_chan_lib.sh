# fake_chan_lib.sh: an agent on a private Open vSwitch driven by the
# scripted channel fake_chan.py, for the agent's lifecycle tests.  Source
# it after lib.sh and ovs_lib.sh: chan_bed_start makes the bed, and
# chan_agent_start runs fake_chan.py and mignet-agent (stopped by PID).

# chan_bed_start NAME: a private Open vSwitch (cleaned up on exit) with
# the bridge br-int, IPv6 off.
chan_bed_start() {
    ovs_start "$1"
    trap ovs_and_lib_cleanup EXIT
    ip netns exec "$OVS_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
    ovs_add_bridge br-int
    OVS_WAIT_BR=br-int
}

# chan_agent_start [AGENT ARGS...]: fake_chan.py on $T/resync, $T/send
# (created empty) and $T/chan.log, then mignet-agent for node n1 on it
# with the node token in $T/token-n1 (made here; fake_chan.py checks it).
chan_agent_start() {
    : >"$T/send"
    [ -f "$T/token-n1" ] || save_token n1 "mgn_fake-chan-token-$$"
    python3 -u "$SRC/tests/integration/fake_chan.py" --resync "$T/resync" \
        --send "$T/send" --log "$T/chan.log" --token "$(token n1)" \
        >"$T/chan.out" \
        2>>"$T/chan.err" &
    PIDS+=("$!")
    for _ in $(seq 1 100); do
        grep -q "^[0-9]" "$T/chan.out" && break
        sleep 0.1
    done
    "$MIGNET_BUILD_DIR/mignet-agent" --node n1 --token-file "$T/token-n1" \
        "$@" \
        --ofp "unix:$OVS_T/br-int.mgmt" \
        --controller "127.0.0.1:$(head -n 1 "$T/chan.out")" \
        --gateway "http://127.0.0.1:1" --refresh-ms 60000 \
        --log-level debug >"$T/agent.out" 2>>"$T/agent.log" &
    PIDS+=("$!")
}
