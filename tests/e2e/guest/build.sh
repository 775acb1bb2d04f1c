#!/usr/bin/env bash
# Builds the QEMU test guest into OUT (default $MIGNET_BUILD_DIR/guest, never
# the source tree): a Debian kernel taken from its package (apt-get download
# + dpkg-deb -x, nothing installed), and an initramfs of static busybox, the
# virtio-net modules, tests/e2e/guest/init and probe-echo (built static).
# The kernel is kept once fetched and the initramfs is rebuilt only when one
# of its inputs changed, so a second run is instant.  Prints OUT.
#
# Why the guest reflects probes (probe-echo.c): every probe is sent back at
# once to a collector (`mignet-traffic recv`) in a namespace VM on another
# host, so the full per-probe result (arrival times, what was lost and when
# it was due) lives outside the migrating VM and survives a guest that
# crashes or a QEMU that dies mid-migration; the guest also keeps its own
# counts (distinct and duplicate probes, in its migrated memory), asked over
# UDP, which tell duplicates at the guest apart from the return path's.
#
# Usage: tests/e2e/guest/build.sh [OUT]
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
here=$src/tests/e2e/guest
out=${1:-${MIGNET_BUILD_DIR:-$src/build}/guest}
mods=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev
      virtio_pci failover net_failover virtio_net)

log() { printf '[guest] %s\n' "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
case $out/ in
    "$src"/tests/*|"$src"/src/*|"$src"/tools/*) die "OUT $out is in the source tree" ;;
esac
exec 9>"$out/.lock"
flock 9

# ---- the kernel (fetched once) ----
kdir=$out/kernel
if [ ! -s "$kdir/vmlinuz" ] || [ ! -s "$kdir/virtio_net.ko" ]; then
    command -v dpkg-deb >/dev/null || die "dpkg-deb not found"
    # linux-image-amd64 is a metapackage: the real image is its dependency.
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' |
        head -1)
    if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
        apt-get update -qq >/dev/null 2>&1 || true
        pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
            sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' |
            head -1)
    fi
    [ -n "$pkg" ] || die "cannot resolve linux-image-amd64 (apt lists?)"
    log "fetching $pkg"
    tmp=$(mktemp -d "$out/kfetch.XXXXXX")
    chmod 755 "$tmp" # apt-get download drops to user _apt
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null) ||
        die "apt-get download $pkg failed"
    dpkg-deb -x "$tmp"/*.deb "$tmp/x" || die "dpkg-deb -x failed"
    ver=${pkg#linux-image-}
    mkdir -p "$kdir.new"
    cp "$tmp/x/boot/vmlinuz-$ver" "$kdir.new/vmlinuz" ||
        die "no boot/vmlinuz-$ver in $pkg"
    for m in "${mods[@]}"; do
        f=$(find "$tmp/x/lib/modules/$ver" -name "$m.ko*" | head -1)
        [ -n "$f" ] || die "module $m not in $pkg"
        case $f in
            *.ko) cp "$f" "$kdir.new/$m.ko" ;;
            *.ko.xz) xz -dc "$f" >"$kdir.new/$m.ko" ;;
            *) die "unexpected module file $f" ;;
        esac
    done
    echo "$ver" >"$kdir.new/version"
    rm -rf "$kdir" "$tmp"
    trap - EXIT
    mv "$kdir.new" "$kdir"
    log "kernel $ver in $kdir"
fi

# ---- busybox (static) ----
bb=/bin/busybox
if ! file -L "$bb" 2>/dev/null | grep -q 'statically linked'; then
    if [ "$(id -u)" = 0 ] && ! dpkg-query -W -f='${Status}' busybox-static \
        2>/dev/null | grep -q 'ok installed'; then
        log "installing busybox-static"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends busybox-static >/dev/null
    fi
    file -L "$bb" 2>/dev/null | grep -q 'statically linked' ||
        die "$bb is not static: install busybox-static"
fi

# ---- the initramfs (rebuilt when an input changed) ----
inputs=("$here/init" "$here/probe-echo.c" "$here/build.sh"
        "$src/src/lib/traffic.c" "$src/src/lib/traffic.h"
        "$src/src/lib/util.c" "$bb" "$kdir/version")
fresh=1
[ -s "$out/initrd.gz" ] && [ -x "$out/probe-echo" ] || fresh=0
for f in "${inputs[@]}"; do
    [ "$fresh" = 1 ] && [ "$f" -nt "$out/initrd.gz" ] && fresh=0
done
if [ "$fresh" = 0 ]; then
    st=$(mktemp -d "$out/stage.XXXXXX")
    trap 'rm -rf "$st"' EXIT
    mkdir -p "$st/bin" "$st/lib/modules" "$st/proc" "$st/sys" "$st/dev" \
        "$st/tmp"
    gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -I "$src/src" \
        -o "$st/bin/probe-echo" "$here/probe-echo.c" \
        "$src/src/lib/traffic.c" "$src/src/lib/util.c" -ljansson ||
        die "building probe-echo failed"
    cp "$bb" "$st/bin/busybox"
    cp "$here/init" "$st/init"
    chmod 755 "$st/init" "$st/bin/busybox" "$st/bin/probe-echo"
    for m in "${mods[@]}"; do
        cp "$kdir/$m.ko" "$st/lib/modules/"
    done
    if [ "$(id -u)" = 0 ]; then
        mknod "$st/dev/console" c 5 1
    fi
    (cd "$st" && find . | LC_ALL=C sort | "$bb" cpio -o -H newc 2>/dev/null) |
        gzip -1 >"$out/initrd.gz.new"
    mv "$out/initrd.gz.new" "$out/initrd.gz"
    cp "$kdir/vmlinuz" "$out/vmlinuz"
    cp "$st/bin/probe-echo" "$out/probe-echo" # checked on the host too
    rm -rf "$st"
    trap - EXIT
    log "initramfs $(stat -c %s "$out/initrd.gz") bytes in $out"
fi
echo "$out"
