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

# notified NAME TEXT [N]: waits until the service sent N (default 1)
# datagrams with TEXT.
notified() {
    eventually "$1 sends $2 (${3:-1} times)" _notified "$@"
}
_notified() {
    [ "$(grep -c -- "$2" "$T/$1.notify")" -ge "${3:-1}" ]
}

# check_pkgconfig PC PREFIX VERSION: a program using libmignet's public
# headers compiles and links with only `pkg-config --cflags --libs mignet`
# of the installed PC file (its prefix moved to PREFIX), and runs.
check_pkgconfig() {
    local PC=$1 P=$2 VERSION=$3 cflags libs pcflags
    cat >"$T/prog.c" <<'C'
#include <stdio.h>
#include "mignet/core.h"
#include "mignet/model.h"
#include "mignet/sim.h"
#include "openflow/openflow13.h"
int main(void)
{
    struct core_config c;
    core_config_default(&c);
    printf("%s %d %d\n", mig_phase_name(MIG_PREPARED),
           mn_name_valid("vm-1"), c.delay_ceiling_ms > 0);
    return 0;
}
C
    pcflags=(--define-variable=prefix="$P")
    cflags=$(PKG_CONFIG_PATH=$(dirname "$PC") pkg-config "${pcflags[@]}" \
             --cflags mignet) || fail "pkg-config --cflags mignet"
    libs=$(PKG_CONFIG_PATH=$(dirname "$PC") pkg-config "${pcflags[@]}" \
           --libs mignet) || fail "pkg-config --libs mignet"
    [ "$(PKG_CONFIG_PATH=$(dirname "$PC") pkg-config --modversion mignet)" \
      = "$VERSION" ] || fail "mignet.pc version"
    # Only the staged install: not the source tree's headers.
    # shellcheck disable=SC2086
    cc -std=c11 -Wall -Werror -o "$T/prog" "$T/prog.c" $cflags $libs \
        2>"$T/cc.err" || { cat "$T/cc.err" >&2; fail "prog does not build"; }
    [ "$("$T/prog")" = "prepared 1 1" ] || fail "prog printed: $("$T/prog")"
}

# stop_unit NAME PID: SIGTERM; the service must say STOPPING=1 and exit 0.
stop_unit() {
    kill -TERM "$2"
    notified "$1" STOPPING=1
    local rc=0
    wait "$2" 2>/dev/null || rc=$?
    [ "$rc" = 0 ] || fail "$1 exit code $rc after SIGTERM"
    local keep=() p
    for p in "${PIDS[@]}"; do
        [ "$p" = "$2" ] || keep+=("$p")
    done
    PIDS=("${keep[@]+"${keep[@]}"}")
}
