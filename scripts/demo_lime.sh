#!/usr/bin/env bash
# demo_lime.sh: a tenant's virtual switch (seed 001, LIME; docs/vswitch.md),
# readably.  Three emulated hosts (network namespaces, one ovs-vswitchd
# each, VXLAN overlay), mignetd and one mignet-agent per host; four tenant
# VMs vm1..vm4 on n1, n2, n3, n1 in one virtual switch whose controller is
# Open vSwitch's own learning switch, `ovs-testcontroller -O OpenFlow13`,
# unmodified.  Each VM sends sequenced UDP probes to the next (a ring);
# in the middle the whole ensemble migrates to other nodes (`mignet
# vswitch migrate`, each VM switched over at its pause).  Prints the
# switch before and after (`mignet vswitch show`), what each VM received
# and lost, the controller's view, and tears everything down.  Needs
# root; installs its Debian packages.  Addresses are 198.18.0.0/15,
# inside namespaces only.  MIG_PAUSE_MS (300) is each VM's pause.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/deps.sh test >/dev/null
scripts/build.sh
export MIGNET_BUILD_DIR=$root/build MIGNET_SOURCE_DIR=$root
if [ "$(id -u)" -ne 0 ]; then
    echo "demo_lime: needs root (network namespaces)" >&2
    exit 77
fi
out=$(mktemp -d /tmp/mignet-demo-lime.XXXXXX)
trap 'rm -rf "$out"' EXIT

echo "a tenant's virtual switch: vm1 (n1), vm2 (n2), vm3 (n3), vm4 (n1),"
echo "its controller ovs-testcontroller (a learning switch, unmodified);"
echo "each VM sends 200 probes/s to the next; the four move at once:"
echo "vm1 -> n2, vm2 -> n3, vm3 -> n1, vm4 -> n3, ${MIG_PAUSE_MS:-300} ms pause each."
echo
# In a subshell: lib.sh's EXIT trap tears its bed down.
(
    . tests/e2e/lib.sh
    . tests/e2e/flows.sh
    . tests/e2e/mig_lib.sh
    . tests/e2e/lime_lib.sh
    lime_require
    exec 2>>"$out/lime.log"
    LIME_RUNS=demo
    VMS=(1 2 3 4)
    HOST_OF=(0 1 2 3 1) # index = VM
    DEST_OF=(0 2 3 1 3)
    tb_init
    tb_hosts_up 3
    MIG_PUSH=1
    MIG_REFRESH=(0 500 500 500)
    mig_start mignet
    for x in "${VMS[@]}"; do
        tb_vm_add "$x" "${HOST_OF[$x]}"
        mignet_cli vm create "vm$x" --mac "$(tb_vm_mac "$x")" \
            --ip "$(tb_vm_ip "$x")" --vni 300 --node "n${HOST_OF[$x]}" \
            >/dev/null
    done
    lime_vm_quiet "${VMS[@]}"
    port=$(mig_free_port)
    lime_testctl_start demo "$port"
    mignet_cli vswitch create tenant-net --tenant demo --vni 300 \
        --controller "tcp:127.0.0.1:$port" \
        --port vm1=1 --port vm2=2 --port vm3=3 --port vm4=4 >/dev/null
    lime_testctl_wait demo
    echo "-- before: mignet vswitch show tenant-net"
    mignet_cli vswitch show tenant-net
    echo
    lime_ring_start demo 200 8 "${VMS[@]}"
    sleep 2
    mignet_cli --json vswitch migrate tenant-net vm1=n2 vm2=n3 vm3=n1 \
        vm4=n3 --switchover manual >"$out/migrate.json"
    for x in "${VMS[@]}"; do
        id=$(jq -r --arg v "vm$x" '.migrations[$v]' "$out/migrate.json")
        h=${DEST_OF[$x]}
        # The VM manager's switch-over hook, called as the VM stops.
        switchover() {
            lime_vm_neighbors "$1" "${VMS[@]}"
            mignet_cli migration switchover "$2" >/dev/null
        }
        TB_MOVE_HOOK_AT=pause tb_vm_move "$x" "$h" "$MIG_PAUSE_MS" \
            switchover "$x" "$id"
    done
    lime_ring_wait demo
    echo "-- after: mignet vswitch show tenant-net"
    mignet_cli vswitch show tenant-net
    echo
    printf '%-5s %6s %9s %16s %19s\n' vm sent received "lost in pause" \
        "lost after pause"
    for x in "${VMS[@]}"; do
        r=$(lime_dir demo)/recv.$x.json
        printf '%-5s %6s %9s %16s %19s\n' "vm$x" "$(jq .total.sent "$r")" \
            "$(jq .total.received "$r")" \
            "$(jq .total.missing_in_window "$r")" \
            "$(jq .total.missing_outside_window "$r")"
    done
    echo
    echo "ovs-testcontroller: $(lime_testctl_flows demo) flows installed," \
        "$(lime_testctl_errors demo) OpenFlow errors received"
    lime_testctl_stop demo
) || { echo "demo_lime failed (log: $out/lime.log)" >&2
       cat "$out/lime.log" >&2; exit 1; }
echo
echo "The controller saw one switch with four ports all along: its flows"
echo "were copied to the new nodes, both copies ran during the move, and"
echo "the old ones were retired with their counters folded in."
