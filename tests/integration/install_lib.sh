# install_lib.sh: helpers for the tests of an installed mignet
# (test_install.sh, test_deb_package.sh); source it after lib.sh.
#
# An installed tree lives under a scratch root ROOT; a unit's ExecStart
# line names paths as they would be on the real system, and exec_start
# maps them into ROOT.  Readiness goes through a real $NOTIFY_SOCKET: a
# small python3 receiver writes each datagram it gets as one line.

# notify_listen NAME: starts a receiver on $T/NAME.sock, writing to
# $T/NAME.notify; sets NOTIFY_SOCK.
notify_listen() {
    NOTIFY_SOCK=$T/$1.sock
    : >"$T/$1.notify"
    python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        d = s.recv(4096).decode("utf-8", "replace")
        f.write(d.replace("\n", " ") + "\n")
        f.flush()
' "$NOTIFY_SOCK" "$T/$1.notify" &
    PIDS+=($!)
    eventually "notify socket $1" test -S "$NOTIFY_SOCK"
}

# exec_start UNIT ROOT: prints the unit's ExecStart command line with
# every absolute path that exists under ROOT moved there, and ${VAR}
# expanded from the environment as systemd does.
exec_start() {
    local line word out=()
    line=$(sed -n 's/^ExecStart=//p' "$1")
    [ -n "$line" ] || fail "no ExecStart in $1"
    for word in $line; do
        if [[ $word =~ ^\$\{([A-Z_]+)\}$ ]]; then
            word=${!BASH_REMATCH[1]:?${BASH_REMATCH[1]} is not set}
        elif [[ $word == /* ]] && [ -e "$2$word" ]; then
            word=$2$word
        fi
        out+=("$word")
    done
    printf '%s\n' "${out[@]}"
}

# set_conf FILE NAME VALUE: sets "NAME = VALUE" in a config file (the
# commented default line, or a new line), as an operator would.
set_conf() {
    if grep -q "^#\?$2 = " "$1"; then
        sed -i "s|^#\?$2 = .*|$2 = $3|" "$1"
    else
        printf '%s = %s\n' "$2" "$3" >>"$1"
    fi
}

# run_unit NAME UNIT ROOT: starts the unit's ExecStart (exec_start) with
# NOTIFY_SOCKET set; sets UNIT_PID.  Output goes to $T/NAME.out/.log.
run_unit() {
    local cmd=()
    mapfile -t cmd < <(exec_start "$2" "$3")
    [ -x "${cmd[0]}" ] || fail "ExecStart of $2: ${cmd[0]} not installed"
    echo "run_unit $1: ${cmd[*]}" >&2
    notify_listen "$1"
    NOTIFY_SOCKET=$NOTIFY_SOCK "${cmd[@]}" >"$T/$1.out" 2>"$T/$1.log" &
    UNIT_PID=$!
    PIDS+=("$UNIT_PID")
}

# notified NAME TEXT: waits until the service sent a datagram with TEXT.
notified() {
    eventually "$1 sends $2" grep -q -- "$2" "$T/$1.notify"
}
