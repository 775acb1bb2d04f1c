#!/usr/bin/env bash
# Measures mignet's OpenFlow path against a real ovs-vswitchd (userspace
# datapath, private namespace and run directory, stopped by PID at exit):
# N flow_mods confirmed by one barrier, then K single flow_mod + barrier
# round trips (p50/p99/max).  Needs root and openvswitch-switch.
# Usage: scripts/bench-ofconn-ovs.sh [N] [K]   (default 10000 1000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MIGNET_BUILD_DIR:-$root/build}
n=${1:-10000}
k=${2:-1000}
. "$root/tests/integration/ovs_lib.sh"
ovs_require
ovs_start bench 2>/dev/null
ovs_add_bridge br0
ovs_vsctl add-port br0 p1 -- set interface p1 type=internal ofport_request=1
echo "$(ovs-vswitchd --version | head -1), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/mignet-ofctl" "unix:$OVS_T/br0.mgmt" bench "$n" "$k"
echo "flows in OVS afterwards: $(ovs-ofctl -O OpenFlow13 dump-aggregate "unix:$OVS_T/br0.mgmt" table=10 | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p')"
