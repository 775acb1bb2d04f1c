#!/usr/bin/env bash
# test_install.sh: `cmake --install` into a scratch DESTDIR yields what an
# operator needs, and it works: the binaries and tools (--version, one
# version), man pages that render without warnings and name every flag of
# the --help they document, default configs naming only real settings,
# systemd units that verify, bash completion that loads and completes,
# headers and mignet.pc that compile and link a program; then the
# installed mignetd and mignet-agent start from the units' own ExecStart
# lines and tell a real NOTIFY_SOCKET READY=1, RELOADING=1 then READY=1
# on SIGHUP, and STOPPING=1 on SIGTERM.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/install_lib.sh"

B=$MIGNET_BUILD_DIR
cache() { sed -n "s/^$1:[A-Z]*=//p" "$B/CMakeCache.txt"; }
PREFIX=$(cache CMAKE_INSTALL_PREFIX)
VERSION=$(cache CMAKE_PROJECT_VERSION)
[ -n "$PREFIX" ] && [ -n "$VERSION" ] || fail "no prefix/version in cache"
R=$T/root
DESTDIR=$R cmake --install "$B" >"$T/install.txt" 2>&1 \
    || { cat "$T/install.txt" >&2; fail "cmake --install"; }
P=$R$PREFIX
ETC=$(find "$R" -type d -path '*/etc/mignet' | head -n 1)
UNITS=$(dirname "$(find "$R" -name mignetd.service | head -n 1)")
[ -d "$ETC" ] || fail "no etc/mignet installed"
[ -f "$UNITS/mignetd.service" ] || fail "no mignetd.service installed"

# ---- Files and versions ----
for f in sbin/mignetd sbin/mignet-agent bin/mignet bin/mignet-qemu \
         bin/mignet-ofctl; do
    [ -x "$P/$f" ] || fail "$f not installed"
    v=$("$P/$f" --version) || fail "$f --version failed"
    [ "$v" = "$(basename "$f") $VERSION" ] \
        || fail "$f --version: '$v', want '$(basename "$f") $VERSION'"
done
for f in "$ETC/mignetd.conf" "$ETC/mignet-agent.conf" \
         "$UNITS/mignet-agent.service" \
         "$P/share/bash-completion/completions/mignet" \
         "$P/include/mignet/core.h" "$P/include/openflow/openflow13.h" \
         "$P/share/mignet/libvirt/qemu" "$P/share/mignet/grafana/mignet.json"; do
    [ -f "$f" ] || fail "${f#"$R"} not installed"
done
jq -e '.panels | length > 0' "$P/share/mignet/grafana/mignet.json" \
    >/dev/null || fail "the installed dashboard is no Grafana dashboard"
[ -z "$(find "$P/bin" -name 'mignet-test-agent')" ] \
    || fail "a test-only tool is installed"

# ---- Man pages: render without warnings, document every flag ----
MAN=$P/share/man
for page in man1/mignet.1 man8/mignetd.8 man8/mignet-agent.8 \
            man5/mignetd.conf.5 man1/mignet-qemu.1 man1/mignet-ofctl.1; do
    [ -f "$MAN/$page" ] || fail "$page not installed"
    warn=$(groff -man -Tutf8 -ww -z "$MAN/$page" 2>&1)
    [ -z "$warn" ] || fail "$page: groff warns: $warn"
    grep -q '@[A-Z_]*@' "$MAN/$page" && fail "$page: unsubstituted @VAR@"
    if command -v man >/dev/null; then
        MANWIDTH=80 man -l "$MAN/$page" 2>"$T/man.err" >"$T/man.txt" \
            || fail "man -l $page"
        [ -s "$T/man.txt" ] || fail "man -l $page printed nothing"
    fi
done
# flags_of HELP-TEXT-FILE: every long flag at the start of a help line.
flags_of() { sed -n 's/^ *\(--[a-z][a-z-]*\).*/\1/p' "$1" | sort -u; }
# plain PAGE: the page's source with roff's \- as - (in $T/PAGE.txt, so
# that grep -q never cuts a pipe).
plain() {
    local out=$T/$(basename "$1").txt
    [ -f "$out" ] || sed 's/\\-/-/g; s/\\f[BIRP]//g' "$1" >"$out"
    echo "$out"
}
"$P/sbin/mignetd" --help >"$T/mignetd.help"
"$P/sbin/mignet-agent" --help >"$T/agent.help"
"$P/bin/mignet" --help >"$T/mignet.help"
[ "$(flags_of "$T/mignetd.help" | wc -l)" -gt 30 ] \
    || fail "mignetd --help lists too few flags"
for flag in $(flags_of "$T/mignetd.help"); do
    grep -qF -- "$flag" "$(plain "$MAN/man8/mignetd.8")" \
        || fail "mignetd.8 does not document $flag"
    case $flag in --config|--help|--version|--accept-store) continue ;; esac
    grep -qwF -- "${flag#--}" "$(plain "$MAN/man5/mignetd.conf.5")" \
        || fail "mignetd.conf.5 does not name ${flag#--}"
done
for flag in $(flags_of "$T/agent.help"); do
    grep -qF -- "$flag" "$(plain "$MAN/man8/mignet-agent.8")" \
        || fail "mignet-agent.8 does not document $flag"
done
for flag in $(flags_of "$T/mignet.help") --version; do
    grep -qF -- "$flag" "$(plain "$MAN/man1/mignet.1")" \
        || fail "mignet.1 does not document $flag"
done
# The tools: every flag their help or usage text names.
"$P/bin/mignet-qemu" --help >"$T/qemu.help"
"$P/bin/mignet-ofctl" >"$T/ofctl.help" 2>&1 || true
for tool in qemu ofctl; do
    flags=$(grep -o -- '--[a-z][a-z-]*' "$T/$tool.help" | sort -u)
    [ -n "$flags" ] || fail "mignet-$tool's help names no flag"
    for flag in $flags; do
        grep -qF -- "$flag" "$(plain "$MAN/man1/mignet-$tool.1")" \
            || fail "mignet-$tool.1 does not document $flag"
    done
done
for cmd in $(sed -n '/^Commands:/,/^$/s/^  \([a-z]\+\).*/\1/p' \
             "$T/mignet.help" | sort -u); do
    grep -q "^\.B $cmd\b" "$(plain "$MAN/man1/mignet.1")" \
        || fail "mignet.1 does not document the command $cmd"
done

# ---- Default configs: only real settings ----
for n in $(sed -n 's/^#\?\([a-z][a-z_-]*\) *=.*/\1/p' "$ETC/mignetd.conf"); do
    flags_of "$T/mignetd.help" | grep -x -- "--$n" >/dev/null \
        || fail "mignetd.conf names '$n', not a mignetd flag"
done
# ... and every setting is there, commented out at its default.
for flag in $(flags_of "$T/mignetd.help"); do
    case $flag in --config|--help|--version|--accept-store) continue ;; esac
    grep -q "^#${flag#--} =" "$ETC/mignetd.conf" \
        || fail "mignetd.conf does not show the setting ${flag#--}"
done
for flag in $(flags_of "$T/agent.help"); do
    case $flag in --config|--help|--version) continue ;; esac
    grep -q "^#${flag#--} =" "$ETC/mignet-agent.conf" \
        || fail "mignet-agent.conf does not show the setting ${flag#--}"
done
for n in $(sed -n 's/^#\?\([a-z][a-z_-]*\) *=.*/\1/p' \
           "$ETC/mignet-agent.conf"); do
    flags_of "$T/agent.help" | grep -x -- "--$n" >/dev/null \
        || fail "mignet-agent.conf names '$n', not an agent flag"
done
# (The services below run on the installed files, edited only where a
# test must: ports, the node and its credential.)

# ---- systemd units ----
mkdir -p "$T/units"
for u in mignetd.service mignet-agent.service; do
    f=$UNITS/$u
    grep -qx 'Type=notify' "$f" || fail "$u is not Type=notify"
    for opt in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
               PrivateTmp=yes CapabilityBoundingSet= ExecReload=; do
        grep -q "^$opt" "$f" || fail "$u lacks $opt"
    done
    # Verified with its paths moved into the scratch root.
    sed "s#\(ExecStart=\)\([^ ]*\)#\1$R\2#" "$f" >"$T/units/$u"
    if command -v systemd-analyze >/dev/null; then
        out=$(systemd-analyze verify --man=no "$T/units/$u" 2>&1) \
            || fail "systemd-analyze verify $u: $out"
        [ -z "$out" ] || fail "systemd-analyze verify $u warns: $out"
    else
        # No systemd here: a parse check of the sections and keys.
        awk '/^\[/{next} /^#/||/^$/{next} !/^[A-Za-z]+=/{exit 1}' "$f" \
            || fail "$u: a line that is not KEY=VALUE"
    fi
done
grep -q 'StateDirectory=mignet' "$UNITS/mignetd.service" \
    || fail "mignetd.service has no StateDirectory"

# ---- Bash completion ----
for c in mignet mignetd mignet-agent; do
    out=$(PATH=$P/bin:$P/sbin:$PATH bash -c '
        source "$1" || exit 1
        complete -p "$2" >/dev/null || exit 1
        fn=$(complete -p "$2" | sed -n "s/.*-F \([^ ]*\).*/\1/p")
        COMP_WORDS=("$2" --ver); COMP_CWORD=1; "$fn"
        echo "${COMPREPLY[*]}"' _ "$P/share/bash-completion/completions/$c" \
        "$c") || fail "completion for $c does not load"
    [ "$out" = --version ] || fail "completion of '$c --ver': '$out'"
done
out=$(PATH=$P/bin:$PATH bash -c '
    source "$1"; COMP_WORDS=(mignet vm cr); COMP_CWORD=2; _mignet
    echo "${COMPREPLY[*]}"' _ "$P/share/bash-completion/completions/mignet")
[ "$out" = create ] || fail "completion of 'mignet vm cr': '$out'"

# ---- Headers and mignet.pc: a program compiles, links and runs ----
PC=$(find "$R" -name mignet.pc | head -n 1)
[ -f "$PC" ] || fail "no mignet.pc installed"
check_pkgconfig "$PC" "$P" "$VERSION"

# ---- The services, started from their units' command lines ----
# reload_debug NAME PID CONF: sets log-level = debug in CONF and sends
# SIGHUP: RELOADING=1, READY=1 again, and the reload's log line.
reload_debug() {
    set_conf "$3" log-level debug
    kill -HUP "$2"
    notified "$1" RELOADING=1
    notified "$1" ^READY=1 2
    grep 'event=reloaded' "$T/$1.log" >"$T/$1.reloads" || true
    grep -q 'changed="log-level"' "$T/$1.reloads" \
        || fail "$1: reload not logged: $(grep reload "$T/$1.log")"
}
export STATE_DIRECTORY=$T/state
mkdir -p "$STATE_DIRECTORY"
rest_port=$(free_port)
agent_port=$(free_port)
set_conf "$ETC/mignetd.conf" listen "127.0.0.1:$rest_port"
set_conf "$ETC/mignetd.conf" agent-listen "127.0.0.1:$agent_port"
run_unit mignetd "$UNITS/mignetd.service" "$R"
D_PID=$UNIT_PID
notified mignetd READY=1
grep -q '^mignetd ready ' "$T/mignetd.out" || fail "READY=1 before serving"
URL=http://127.0.0.1:$rest_port
ok GET /healthz 200
[ -f "$STATE_DIRECTORY/mignet.db" ] || fail "no store in STATE_DIRECTORY"
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1"}'

reload_debug mignetd "$D_PID" "$ETC/mignetd.conf"

printf '%s\n' "$(token n1)" >"$ETC/node-token"
chmod 600 "$ETC/node-token"
A=$ETC/mignet-agent.conf
set_conf "$A" node n1
set_conf "$A" ofp "unix:$T/br-int.mgmt"
set_conf "$A" controller "127.0.0.1:$agent_port"
set_conf "$A" gateway "$URL"
set_conf "$A" token-file "$ETC/node-token"
run_unit agent "$UNITS/mignet-agent.service" "$R"
G_PID=$UNIT_PID
notified agent READY=1
grep -q '^mignet-agent ready node=n1 ' "$T/agent.out" \
    || fail "agent READY=1 before its ready line"
eventually "the agent says hello to mignetd" \
    grep -q 'event=registered node=n1 ' "$T/mignetd.log"
reload_debug agent "$G_PID" "$A"

stop_unit agent "$G_PID"
stop_unit mignetd "$D_PID"
echo "PASS test_install"
