#!/usr/bin/env bash
# test_store_full.sh: the durable store fails under a running mignetd (a
# full disk) -- "bad input changes nothing, nothing half-applied".  The
# state directory sits on a small tmpfs of its own (a private mount
# namespace: nothing outside this test sees it); once the disk is filled
# the next change's commit fails.  Its request must be answered 500
# store_failed with no Location and no ETag (nothing was created), mignetd
# must exit rather than go on with state it could not make durable, and
# after space is freed a restart must hold every change answered before
# and nothing of the failed one.  Needs root (a mount); in CI it runs as
# root and must not skip.
if [ -z "${MIGNET_IN_MNTNS:-}" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "test_store_full: needs root (a tmpfs mount)" >&2
        exit 77
    fi
    exec unshare -m --propagation private env MIGNET_IN_MNTNS=1 \
        bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"

mkdir -p "$T/disk"
mount -t tmpfs -o size=4m tmpfs "$T/disk" || fail "cannot mount a tmpfs"
# lib.sh removes $T when the test ends: detach the mount first (lazily:
# mignetd may still hold it; the namespace goes with the process anyway).
trap 'rc=$?; umount -l "$T/disk" 2>/dev/null || true; (exit $rc); cleanup' EXIT
: >"$T/accepted"

start_mignetd run --state-dir "$T/disk/state"
ok POST /v1/nodes 201 '{"id":"n1","address":"198.18.0.1","refresh_ms":500}'
ok POST /v1/vms 201 '{"id":"vm1","mac":"02:00:00:00:00:01","ip":"198.18.1.1","vni":100,"node":"n1"}'

# Fill the disk to the last byte.
dd if=/dev/zero of="$T/disk/fill" bs=64k 2>/dev/null || true
[ "$(df --output=avail -B1 "$T/disk" | tail -1)" -lt 65536 ] ||
    fail "the disk is not full"

# Changes until one cannot be committed (SQLite may still have room in
# pages it holds for the first few): VM updates, whose answers carry an
# ETag, alternating with new VMs, whose answers carry a Location.
failed=
for i in $(seq 2 400); do
    if [ $((i % 2)) = 0 ]; then
        what="vm1's IP 198.18.9.$i"
        api PATCH /v1/vms/vm1 "{\"ip\":\"198.18.9.$((i % 250))\"}"
        [ "$STATUS" = 200 ] && { echo "ip 198.18.9.$((i % 250))" >"$T/vm1-ip"; continue; }
    else
        what="new VM vm$i"
        mac=02:00:00:00:$(printf %02x $((i / 256))):$(printf %02x $((i % 256)))
        api POST /v1/vms "{\"id\":\"vm$i\",\"mac\":\"$mac\",\"ip\":\"198.18.$((i / 250 + 2)).$((i % 250 + 1))\",\"vni\":100,\"node\":\"n1\"}"
        [ "$STATUS" = 201 ] && { echo "vm$i" >>"$T/accepted"; continue; }
    fi
    failed=$what
    break
done
[ -n "$failed" ] || fail "400 changes committed on a full 4 MiB disk"
echo "the commit of $failed failed after $(wc -l <"$T/accepted") more VMs"
[ "$STATUS" = 500 ] || fail "$failed: $STATUS, want 500: $BODY"
[ "$(json .error.code)" = store_failed ] || fail "$failed: $BODY"
! grep -qi '^location:' "$T/headers" || fail "500 with a Location header"
! grep -qi '^etag:' "$T/headers" || fail "500 with an ETag header"

# mignetd stops: it cannot go on with a state it could not make durable.
for _ in $(seq 1 100); do
    kill -0 "$MIGNETD_PID" 2>/dev/null || break
    sleep 0.05
done
! kill -0 "$MIGNETD_PID" 2>/dev/null || fail "mignetd still runs after a failed commit"
wait "$MIGNETD_PID" 2>/dev/null && fail "mignetd exited 0 after a failed commit"
grep -q 'event=commit_failed' "$T/run.log" || fail "no commit_failed in the log"

# Space again: everything answered before is there, the failed change
# is not.
rm -f "$T/disk/fill"
start_mignetd again --state-dir "$T/disk/state"
for vm in vm1 $(cat "$T/accepted"); do
    ok GET "/v1/vms/$vm" 200
done
ok GET /v1/vms/vm1 200
want_ip=$(sed -n 's/^ip //p' "$T/vm1-ip" 2>/dev/null || true)
[ "$(json .ip)" = "${want_ip:-198.18.1.1}" ] ||
    fail "vm1's IP after restart: $(json .ip), want the last one answered 200 (${want_ip:-198.18.1.1})"
case $failed in
    "new VM "*) api GET "/v1/vms/${failed#new VM }"
         [ "$STATUS" = 404 ] ||
             fail "$failed, refused with 500, exists after restart: $STATUS" ;;
esac
echo "ok"
