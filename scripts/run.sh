#!/usr/bin/env bash
# mignet's main job.  Builds mignet, then
#   1. runs the data-centre simulator on the default scenario, every
#      strategy side by side on the identical workload (`mignet sim`);
#   2. runs the real thing: mignetd, one agent per host on real Open
#      vSwitch in network namespaces, a live migration under traffic,
#      mignet (with and without map push) against the naive strategy
#      (scripts/demo.sh), the VM's pause emulated;
#   3. migrates a real QEMU guest the same way, mignet's lossless
#      switch-over against naive (scripts/demo_qemu.sh);
#   4. moves a tenant's virtual switch -- four VMs, its controller
#      ovs-testcontroller unmodified -- as one ensemble
#      (scripts/demo_lime.sh).
# Arguments are passed to `mignet sim` (try --help).  Installs the Debian
# packages it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
scripts/build.sh
echo "== 1. mignet sim (simulated data centre, the real core)"
./build/mignet sim --strategy all "$@"
echo
echo "== 2. mignet on real Open vSwitch"
scripts/demo.sh
echo
echo "== 3. a real QEMU guest live-migrated (lossless against naive)"
scripts/demo_qemu.sh
echo
echo "== 4. a tenant's virtual switch migrated as one ensemble (LIME)"
scripts/demo_lime.sh
