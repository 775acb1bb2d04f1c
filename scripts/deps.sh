#!/usr/bin/env bash
# Installs the Debian packages mignet needs, only those missing.
# Usage: scripts/deps.sh [build|test|all]   (default: build)
set -euo pipefail
want=(build-essential cmake ninja-build pkg-config libevent-dev
      libjansson-dev libsqlite3-dev libssl-dev libcmocka-dev)
case "${1:-build}" in
  build) ;;
  test|all) want+=(clang libclang-rt-14-dev valgrind openvswitch-switch
                   iproute2 ethtool dnsmasq-base busybox-static procps
                   curl jq openssl prometheus qemu-system-x86
                   python3-jsonschema python3-yaml openapi-specification
                   gnuplot-nox debhelper dpkg-dev fakeroot groff-base
                   man-db bash-completion etcd-server etcd-client
                   python3-os-ken openvswitch-testcontroller) ;;
  *) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
    || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: need root to apt-get install: ${missing[*]}" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
