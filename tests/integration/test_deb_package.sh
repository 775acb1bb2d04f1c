#!/usr/bin/env bash
# test_deb_package.sh: the Debian packaging (debian/) builds installable
# .debs from a copy of the source tree with
# `DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b` (the suites have
# run already), and what they hold works: unpacked into a scratch root
# (dpkg -x: never into this system), every binary answers --version with
# the project's version, libmignet-dev links a program through mignet.pc,
# and mignetd starts from its unit's ExecStart line there, telling a real
# NOTIFY_SOCKET READY=1 and, on SIGTERM, STOPPING=1.
# ctest: serial
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/install_lib.sh"

: "${MIGNET_SOURCE_DIR:?set MIGNET_SOURCE_DIR to the source tree}"
for tool in dpkg-buildpackage dh dpkg-deb fakeroot; do
    command -v "$tool" >/dev/null || {
        echo "SKIP: $tool missing (scripts/deps.sh test)" >&2; exit 77; }
done
VERSION=$(sed -n 's/^CMAKE_PROJECT_VERSION:[A-Z]*=//p' \
          "$MIGNET_BUILD_DIR/CMakeCache.txt")
[ -n "$VERSION" ] || fail "no project version in the CMake cache"
deb_version=$(dpkg-parsechangelog -l "$MIGNET_SOURCE_DIR/debian/changelog" \
              -S Version)
[ "$deb_version" = "$VERSION" ] \
    || fail "debian/changelog says $deb_version, CMake says $VERSION"

# ---- Build from a copy of the tree (no build directories, no .git) ----
mkdir -p "$T/src"
tar -C "$MIGNET_SOURCE_DIR" --exclude='./build*' --exclude=./.git \
    --exclude='./obj-*' --exclude='./debian/tmp' -cf - . \
    | tar -C "$T/src" -xf -
start=$(date +%s)
(cd "$T/src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
    dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1 \
    || { tail -n 40 "$T/build.log" >&2; fail "dpkg-buildpackage"; }
echo "dpkg-buildpackage took $(( $(date +%s) - start )) s" >&2

R=$T/root
mkdir -p "$R"
for pkg in mignetd mignet-agent mignet libmignet-dev; do
    deb=$(ls "$T"/${pkg}_"${VERSION}"_*.deb 2>/dev/null | head -n 1)
    [ -f "$deb" ] || fail "no $pkg .deb built"
    [ "$(dpkg-deb -f "$deb" Version)" = "$VERSION" ] \
        || fail "$pkg version $(dpkg-deb -f "$deb" Version)"
    dpkg -x "$deb" "$R"
done
deb=$(ls "$T"/mignetd_"${VERSION}"_*.deb)
dpkg-deb -f "$deb" Depends | grep -q libevent \
    || fail "mignetd does not depend on libevent: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -e "$deb" "$T/mignetd.ctl"
grep -qx /etc/mignet/mignetd.conf "$T/mignetd.ctl/conffiles" \
    || fail "mignetd.conf is not a conffile"
grep -q systemd-sysusers "$T/mignetd.ctl/postinst" \
    || fail "mignetd's postinst does not create the mignet user"
grep -q "deb-systemd-helper enable 'mignetd.service'" \
    "$T/mignetd.ctl/postinst" || fail "mignetd.service is not enabled"
deb=$(ls "$T"/mignet-agent_"${VERSION}"_*.deb)
dpkg-deb -e "$deb" "$T/agent.ctl"
# Not enabled on a first install (only kept enabled on upgrades), never
# started by the package: it needs its node and bridge configured first.
grep -q "debian-installed 'mignet-agent.service'" "$T/agent.ctl/postinst" \
    || fail "mignet-agent.service is enabled on a first install"
! grep -q "deb-systemd-invoke .*mignet-agent" "$T/agent.ctl/postinst" \
    || fail "mignet-agent.service is started before it is configured"

# ---- The installed binaries ----
for f in usr/sbin/mignetd usr/sbin/mignet-agent usr/bin/mignet \
         usr/bin/mignet-qemu usr/bin/mignet-ofctl; do
    [ -x "$R/$f" ] || fail "$f not in the packages"
    v=$("$R/$f" --version) || fail "$f --version failed"
    [ "$v" = "$(basename "$f") $VERSION" ] || fail "$f --version: '$v'"
done
for f in usr/share/man/man8/mignetd.8.gz usr/share/man/man1/mignet.1.gz \
         usr/share/bash-completion/completions/mignet \
         etc/mignet/mignet-agent.conf lib/systemd/system/mignet-agent.service \
         usr/include/mignet/core.h; do
    [ -f "$R/$f" ] || fail "$f not in the packages"
done
check_pkgconfig "$(ls "$R"/usr/lib/*/pkgconfig/mignet.pc)" "$R/usr" "$VERSION"

# ---- mignetd from its unit's command line ----
export STATE_DIRECTORY=$T/state
mkdir -p "$STATE_DIRECTORY"
port=$(free_port)
set_conf "$R/etc/mignet/mignetd.conf" listen "127.0.0.1:$port"
set_conf "$R/etc/mignet/mignetd.conf" agent-listen "127.0.0.1:$(free_port)"
run_unit mignetd "$R/lib/systemd/system/mignetd.service" "$R"
notified mignetd READY=1
URL=http://127.0.0.1:$port
ok GET /healthz 200
stop_unit mignetd "$UNIT_PID"
echo "PASS test_deb_package"
