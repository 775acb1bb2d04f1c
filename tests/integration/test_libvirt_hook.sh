#!/usr/bin/env bash
# test_libvirt_hook.sh: contrib/libvirt/qemu, invoked exactly as libvirt
# invokes /etc/libvirt/hooks/qemu (argv: domain, operation, sub-operation,
# extra; the domain XML on stdin; a bare environment) against a real
# mignetd with two test agents, for the destination's sequence of a
# successful and of a failed incoming migration.
#
# Asserts the migration's state over REST: started `rarp` to this node on
# `migrate begin`, aborted with a reason when released before activation,
# left alone once activated; repeated invocations change nothing; unknown
# domains, missing or bad config and an unreachable mignetd exit 0 with a
# log line (exit 1 only with on-error = fail); stdout stays empty (libvirt
# reads it as the rewritten XML).  Loopback only; processes stopped by PID.
set -euo pipefail

: "${MIGNET_BUILD_DIR:?set MIGNET_BUILD_DIR to the build directory}"
: "${MIGNET_SOURCE_DIR:?set MIGNET_SOURCE_DIR to the source directory}"
if [ ! -x "$MIGNET_BUILD_DIR/mignetd" ]; then
    echo "SKIP: mignetd is not built yet"
    exit 77
fi
# shellcheck source=lib.sh
source "$MIGNET_SOURCE_DIR/tests/integration/lib.sh"

HOOK=$MIGNET_SOURCE_DIR/contrib/libvirt/qemu
MIGNET=$MIGNET_BUILD_DIR/mignet
[ -x "$HOOK" ] || fail "$HOOK is not executable"
LOG=$T/hook.log
: >"$LOG"

# domain_xml NAME MAC [METADATA_ID]: a domain XML as libvirt writes it to
# the hook (an Open vSwitch bridge interface with its interfaceid).
domain_xml() {
    local meta=""
    if [ $# -ge 3 ]; then
        meta="<metadata>
    <mignet:vm xmlns:mignet='urn:mignet:libvirt:1' id='$3'/>
  </metadata>"
    fi
    cat <<EOF
<domain type='qemu' id='7'>
  <name>$1</name>
  <uuid>3e3fce45-4f53-4fa7-bb32-11f34168b82b</uuid>
  $meta
  <memory unit='KiB'>131072</memory>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='bridge'>
      <mac address='$2'/>
      <source bridge='br-int'/>
      <virtualport type='openvswitch'>
        <parameters interfaceid='c0ffee00-1111-4222-8333-444455556666'/>
      </virtualport>
      <target dev='vnet3'/>
      <model type='virtio'/>
    </interface>
  </devices>
</domain>
EOF
}

# conf FILE NODE [URL [MORE...]]: the shipped example config with this
# test's url and node, and MORE lines appended.
conf() {
    local file=$1 node=$2 url=${3:-$URL}
    shift $(($# < 3 ? $# : 3))
    sed -e "s|^url = .*|url = \"$url\"|" -e "s|^node = .*|node = $node|" \
        "$MIGNET_SOURCE_DIR/contrib/libvirt/libvirt-hook.conf" >"$file"
    local line
    for line in "$@"; do echo "$line" >>"$file"; done
}

# hook WANT_RC CONF XML_FILE ARGS...: runs the hook as libvirt does (bare
# environment: only PATH, HOME and the test's overrides); its exit code
# must be WANT_RC and its stdout empty.  Stderr in $T/hook.err.
hook() {
    local want=$1 cf=$2 xml=$3; shift 3
    local rc=0
    env -i PATH="$PATH" HOME="${HOME:-/}" LC_ALL=C \
        MIGNET_LIBVIRT_HOOK_CONF="$cf" MIGNET_LIBVIRT_HOOK_LOG="$LOG" \
        "$HOOK" "$@" <"$xml" >"$T/hook.out" 2>"$T/hook.err" || rc=$?
    [ "$rc" = "$want" ] || fail "hook $* -> exit $rc, want $want
stderr: $(cat "$T/hook.err")
log: $(tail -n 3 "$LOG")"
    [ ! -s "$T/hook.out" ] || fail "hook $* wrote to stdout: $(cat "$T/hook.out")"
}

# log_has REGEX: the hook log has a line matching REGEX.
log_has() { grep -Eq -- "$1" "$LOG" || fail "hook log lacks /$1/: $(cat "$LOG")"; }
log_count() { grep -Ec -- "$1" "$LOG" || true; }

# mig_of VM: the VM's latest migration id ("null" without one).
mig_of() { ok GET "/v1/vms/$1" 200; json .migration; }

# ---- No mignetd needed: config problems ----
domain_xml vm1 02:00:00:00:00:01 >"$T/vm1.xml"
hook 0 "$T/none.conf" "$T/vm1.xml" vm1 migrate begin -
log_has 'level=error comp=libvirt-hook domain=vm1 op=migrate '\
'event=no_config .*cannot read config'
printf 'url = http://127.0.0.1:1\nnode = n2\nswitch_over = now\n' \
    >"$T/bad.conf"
hook 0 "$T/bad.conf" "$T/vm1.xml" vm1 migrate begin -
log_has 'event=no_config .*bad.conf:3: not a setting: switch_over = now'
printf 'url = http://127.0.0.1:1\nnode = n2\nswitchover = now\n' \
    >"$T/bad.conf"
hook 0 "$T/bad.conf" "$T/vm1.xml" vm1 migrate begin -
log_has "event=no_config .*switchover must be rarp or manual, not 'now'"

# ---- The real controller, two nodes, three VMs (CLI) ----
start_mignetd d1
export MIGNET_URL=$URL
"$MIGNET" node add n1 --address 198.18.0.1 --token-out "$T/token-n1" >/dev/null
"$MIGNET" node add n2 --address 198.18.0.2 --token-out "$T/token-n2" >/dev/null
start_agent n1
start_agent n2
eventually "agents connected" state n2 '.welcomed'
for i in 1 2 3; do
    "$MIGNET" vm create "vm$i" --mac "02:00:00:00:00:0$i" \
        --ip "198.18.1.$i" --vni 100 --node n1 >/dev/null
done
conf "$T/n2.conf" n2
conf "$T/n1.conf" n1

# Operations the hook leaves alone: no request, no log line.
for op in "prepare begin" "start begin" "started begin" "stopped end" \
          "reconnect begin" "attach begin" "restore begin"; do
    # shellcheck disable=SC2086
    hook 0 "$T/n2.conf" "$T/vm1.xml" vm1 $op -
done
[ "$(mig_of vm1)" = null ] || fail "an ignored operation started a migration"
[ "$(log_count 'op=(prepare|start|started|stopped|reconnect|attach)')" = 0 ] \
    || fail "ignored operations were logged"

# A domain mignet does not know: exit 0, one line, nothing created.
domain_xml stranger 02:00:00:00:00:99 >"$T/stranger.xml"
hook 0 "$T/n2.conf" "$T/stranger.xml" stranger migrate begin -
log_has 'level=info .*domain=stranger op=migrate node=n2 event=not_mignet_vm vm=stranger'
hook 0 "$T/n2.conf" "$T/stranger.xml" stranger release end failed
ok GET /v1/migrations/1 404

# ---- Success on the destination n2: the domain "guest-a" is mignet's vm1
# by its metadata element ----
domain_xml guest-a 02:00:00:00:00:01 vm1 >"$T/guest-a.xml"
hook 0 "$T/n2.conf" "$T/guest-a.xml" guest-a migrate begin -
M1=$(mig_of vm1)
[ "$M1" != null ] || fail "migrate begin started no migration"
ok GET "/v1/migrations/$M1" 200
[ "$(json '[.vm, .from, .to, .switchover] | join(" ")')" = "vm1 n1 n2 rarp" ] \
    || fail "migration $M1 is not vm1 n1 -> n2 rarp: $BODY"
json .phase | grep -Eqx 'preparing|prepared' || fail "phase: $BODY"
[ "$(json .activated_unix_ms)" = null ] || fail "activated already: $BODY"
log_has "event=started vm=vm1 migration=$M1 to=n2 switchover=rarp"
# The interface's interfaceid is not vm1's iface_id (its id): warned.
log_has 'level=warn .*event=iface_id_mismatch vm=vm1 iface_id=vm1 '\
'interface=c0ffee00-1111-4222-8333-444455556666'
for op in "prepare begin" "start begin" "started begin"; do
    # shellcheck disable=SC2086
    hook 0 "$T/n2.conf" "$T/guest-a.xml" guest-a $op -
done
# A second migrate begin (libvirt retrying) starts nothing new.
hook 0 "$T/n2.conf" "$T/guest-a.xml" guest-a migrate begin -
[ "$(mig_of vm1)" = "$M1" ] || fail "second migrate begin made a migration"
log_has "event=already_started vm=vm1 migration=$M1"
phase_is() { ok GET "/v1/migrations/$1" 200; [ "$(json .phase)" = "$2" ]; }
eventually "migration $M1 prepared" phase_is "$M1" prepared
# libvirt resumes the VM (no hook); its first frame activates it, emulated
# here by the switch-over call.  Then the source releases its copy.
ok POST "/v1/migrations/$M1/switchover" 200 '{}'
hook 0 "$T/n1.conf" "$T/guest-a.xml" guest-a stopped end -
hook 0 "$T/n1.conf" "$T/guest-a.xml" guest-a release end migrated
log_has "domain=guest-a op=release node=n1 event=nothing_pending vm=vm1"
# Much later the VM is shut down on n2: activated, nothing aborted.
hook 0 "$T/n2.conf" "$T/guest-a.xml" guest-a release end shutdown
log_has "domain=guest-a op=release node=n2 event=activated vm=vm1 migration=$M1"
ok GET "/v1/migrations/$M1" 200
[ "$(json .phase)" != aborted ] || fail "activated migration aborted: $BODY"
ok GET /v1/vms/vm1 200
[ "$(json .node)" = n2 ] || fail "vm1 is not on n2: $BODY"
# Started here again while mignet has vm1 here: nothing new.
hook 0 "$T/n2.conf" "$T/guest-a.xml" guest-a migrate begin -
[ "$(mig_of vm1)" = "$M1" ] || fail "migrate begin on vm1's node migrated"
log_has "level=warn .*domain=guest-a op=migrate node=n2 event=already_here vm=vm1"
# vm-id = name ignores the metadata element: guest-a is nobody.
conf "$T/byname.conf" n2 "$URL" "vm_id = name"
hook 0 "$T/byname.conf" "$T/guest-a.xml" guest-a release end shutdown
log_has "domain=guest-a op=release node=n2 event=not_mignet_vm vm=guest-a"

# ---- Failure on the destination n2: vm2 by its domain name; the
# incoming migration fails after QEMU started ----
domain_xml vm2 02:00:00:00:00:02 >"$T/vm2.xml"
for op in "migrate begin" "prepare begin" "start begin" "started begin"; do
    # shellcheck disable=SC2086
    hook 0 "$T/n2.conf" "$T/vm2.xml" vm2 $op -
done
M2=$(mig_of vm2)
ok GET "/v1/migrations/$M2" 200
[ "$(json '[.to, .switchover] | join(" ")')" = "n2 rarp" ] \
    || fail "migration $M2: $BODY"
hook 0 "$T/n2.conf" "$T/vm2.xml" vm2 stopped end -
hook 0 "$T/n2.conf" "$T/vm2.xml" vm2 release end failed
ok GET "/v1/migrations/$M2" 200
[ "$(json .phase)" = aborted ] || fail "migration $M2 not aborted: $BODY"
REASON=$(json .abort_reason)
[ "$REASON" = "libvirt released the domain on n2 before activation (failed)" ] \
    || fail "abort_reason: $REASON"
log_has "event=aborted vm=vm2 migration=$M2 reason=failed"
ok GET /v1/vms/vm2 200
[ "$(json .node)" = n1 ] || fail "vm2 left its source: $BODY"
# Released again (libvirt calls it per stop; an operator re-running it).
hook 0 "$T/n2.conf" "$T/vm2.xml" vm2 release end failed
ok GET "/v1/migrations/$M2" 200
[ "$(json .phase) $(json .abort_reason)" = "aborted $REASON" ] \
    || fail "second release changed migration $M2: $BODY"
[ "$(mig_of vm2)" = "$M2" ] || fail "second release made a migration"
log_has "event=already_aborted vm=vm2 migration=$M2"

# ---- mignetd unreachable: logged, exit 0; exit 1 only when configured ----
DEAD=http://127.0.0.1:$(free_port)
conf "$T/dead.conf" n2 "$DEAD"
domain_xml vm3 02:00:00:00:00:03 >"$T/vm3.xml"
hook 0 "$T/dead.conf" "$T/vm3.xml" vm3 migrate begin -
FAILED="domain=vm3 op=migrate node=n2 event=failed"
log_has "level=error .*$FAILED detail=\"mignetd unreachable at $DEAD.*ignored"
hook 0 "$T/dead.conf" "$T/vm3.xml" vm3 release end failed
conf "$T/strict.conf" n2 "$DEAD" "on_error = fail"
hook 1 "$T/strict.conf" "$T/vm3.xml" vm3 migrate begin -
grep -q "mignet: mignetd unreachable" "$T/hook.err" \
    || fail "no reason on stderr for libvirt: $(cat "$T/hook.err")"
hook 0 "$T/strict.conf" "$T/vm3.xml" vm3 release end failed
# A mignetd that accepts but never answers: the time budget ends it.
python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$T/silent.port" &
PIDS+=("$!")
eventually "silent listener" test -s "$T/silent.port"
conf "$T/silent.conf" n2 "http://127.0.0.1:$(cat "$T/silent.port")" \
    "timeout_ms = 300"
hook 0 "$T/silent.conf" "$T/vm3.xml" vm3 migrate begin -
log_has "$FAILED detail=\"mignetd unreachable at http://127.0.0.1:[0-9]+: "\
'timed out" outcome=ignored'
[ "$(mig_of vm3)" = null ] || fail "vm3 has a migration"

echo "PASS: libvirt hook ($(wc -l <"$LOG") log lines)"
