#!/usr/bin/env bash
# demo.sh: mignet on real Open vSwitch, readably.  Builds three emulated
# hosts (network namespaces, one ovs-vswitchd each, VXLAN overlay), starts
# mignetd and one mignet-agent per host, creates four VMs with the `mignet`
# CLI, live-migrates vm1 from n1 to n2 under sequenced UDP from VMs on all
# three hosts -- with mignet and map push, with mignet on polls alone, and
# with the naive strategy on polls alone -- prints the loss table, and
# tears everything down.  Needs root; installs its
# Debian packages.  Addresses are 198.18.0.0/15, inside namespaces only.
#
# Environment: MIG_RATE (probes/s per sender, 300) and MIG_PAUSE_MS (300)
# set the traffic.  The VM manager calls `mignet vm migrate` as the VM
# stops, before its port leaves n1 (TB_MOVE_HOOK_AT=pause, the default
# here; =attach calls it only once the port is on n2, as before).  MIG_PUSH=1 or 0 runs only mignet and naive, both with
# map push on the agent channel (docs/agent-protocol.md, "Map push") or
# both on their polls alone.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/deps.sh test >/dev/null
scripts/build.sh
export MIGNET_BUILD_DIR=$root/build MIGNET_SOURCE_DIR=$root
export TB_MOVE_HOOK_AT=${TB_MOVE_HOOK_AT:-pause}
# The runs: name:strategy:push.
case ${MIG_PUSH:-} in
    '') runs="mignet+push:mignet:1 mignet:mignet:0 naive:naive:0" ;;
    0|1) runs="mignet:mignet:$MIG_PUSH naive:naive:$MIG_PUSH" ;;
    *) echo "demo: MIG_PUSH is 0 or 1" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
    echo "demo: needs root (network namespaces)" >&2
    exit 77
fi

out=$(mktemp -d /tmp/mignet-demo.XXXXXX)
trap 'rm -rf "$out"' EXIT

# One run in a subshell: lib.sh's EXIT trap tears its bed down.
run() {
    local name=$1 strategy=$2
    (
        export MIG_PUSH=$3
        . tests/e2e/lib.sh
        . tests/e2e/flows.sh
        . tests/e2e/mig_lib.sh
        exec 2>>"$out/$name.log"
        mig_bed "$strategy"
        moves() { mig_migrate 1 n2; }
        mig_traffic 7 "$out/$name.json" moves
        mig_wait_cleaned "$MIG_LAST" 30
        mignet_cli --json migration show "$MIG_LAST" >"$out/$name.mig"
        mig_metric 1 mignet_agent_relayed_packets_total \
            >"$out/$name.relayed"
    )
}

echo "mignet demo: 3 hosts (Open vSwitch, userspace datapath, VXLAN),"
echo "nodes n1 n2 n3 refresh their map every 1 s, 2 s, 4 s;"
echo "vm2 (n2), vm3 (n3), vm4 (n1) send ${MIG_RATE:-300} probes/s each to vm1;"
echo "vm1 live-migrates n1 -> n2 with a ${MIG_PAUSE_MS:-300} ms pause."
echo "+push: mignetd pushes map changes to the agents on their channel;"
echo "otherwise nodes learn the new location at their next poll."
echo
names=()
for r in $runs; do
    IFS=: read -r s strategy push <<<"$r"
    names+=("$s")
    printf 'running %-11s ... ' "$s"
    if run "$s" "$strategy" "$push"; then echo done; else echo "failed (log: $out/$s.log)"; cat "$out/$s.log" >&2; exit 1; fi
done
echo
printf '%-12s %8s %9s %16s %19s %8s %11s\n' strategy sent received \
    "lost in pause" "lost after pause" relayed "cleanup ms"
for s in "${names[@]}"; do
    j=$out/$s.json
    cleanup=$(jq '.cleaned_unix_ms - .started_unix_ms' "$out/$s.mig" \
        2>/dev/null || echo "?")
    printf '%-12s %8s %9s %16s %19s %8s %11s\n' "$s" \
        "$(jq .total.sent "$j")" "$(jq .total.received "$j")" \
        "$(jq .total.missing_in_window "$j")" \
        "$(jq .total.missing_outside_window "$j")" \
        "$(cat "$out/$s.relayed")" "$cleanup"
done
echo
echo "mignet keeps vm1's configuration and a relay on n1 until every node"
echo "has acknowledged the new location; naive deletes it at once, so nodes"
echo "that still believe the old location lose packets after the pause."
echo "With push the nodes learn it within milliseconds: fewer packets take"
echo "the relay and the snapshot is deleted sooner."
