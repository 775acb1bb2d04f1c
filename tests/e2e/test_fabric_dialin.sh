#!/usr/bin/env bash
# test_fabric_dialin.sh: fabric switches that dial in.  The seed-002
# fabric's bridges are given mignetd's --fabric-listen unix socket as
# their OpenFlow controller (ovs-vsctl set-controller), as a deployment
# points Open vSwitch at its controller; mignetd names each by its dpid in
# the topology file, discovers the links with LLDP, and a plan's flows on
# these connections carry a transfer at the link rate.  A switch whose
# controller is removed drops out and comes back when it is set again.
# Needs root and Open vSwitch (else exit 77).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tb_require
. "$here/fabric_lib.sh"
. "$here/seed002_bed.sh"

SB_DIAL_IN=1 sb_start --prepare-timeout-ms 600000
fb_get /v1/fabric >"$TB_DIR/fabric.json"
tb_expect "switches dialed in, named by the file's dpids" \
    "$(jq '[.switches[] | select(.connected) | .name] | sort
        | join(",") == "s1,s2,s3,s4,s5" | if . then 1 else 0 end' \
        "$TB_DIR/fabric.json")" -eq 1
tb_expect "links found by LLDP over the dialed-in connections" \
    "$(jq '.discovered | length' "$TB_DIR/fabric.json")" -eq 6

sb_vm m 4
sb_migrate m 1 >"$TB_DIR/m.json"
mig=$(jq -r .migration "$TB_DIR/m.json")
fb_wait_plan "$mig" installed 10
port=$(jq -r '.plan.paths[0].tcp_port' "$TB_DIR/m.json")
sb_bulk_recv 1 "$port" 1 "$TB_DIR/recv.json"
fb_host_bg 4 "$FB_BUILD/mignet-bulk" send --to 198.18.0.1 --port "$port" \
    --seconds 3 --report "$TB_DIR/send.json"
tb_wait "$FB_BG_PID" 30 || tb_die "the transfer failed"
sleep 0.3
tb_expect "transfer on the plan's route (Mbit/s >= 80% of the link)" \
    "$(jq '.mbit_per_s | floor' "$TB_DIR/recv.json")" \
    -ge $((FB_RATE_MBIT * 80 / 100))

# s3 loses its controller, then gets it back.
fb_vsctl del-controller s3
for ((i = 0; i < 50; i++)); do
    n=$(fb_get /v1/fabric | jq '[.switches[] | select(.connected)] | length')
    [ "$n" -eq 4 ] && break
    sleep 0.1
done
tb_expect "switches after s3 left" "$n" -eq 4
fb_vsctl set-controller s3 "unix:$SB_LISTEN"
fb_wait_connected 5 20
tb_expect "s3 back under its name" \
    "$(fb_get /v1/fabric | jq '[.switches[] | select(.connected and
        .name == "s3")] | length')" -eq 1
tb_expect "metric: switches connected" \
    "$(curl -sf "$FB_URL/metrics" |
        sed -n 's/^mignet_fabric_switches_connected //p')" -eq 5
tb_finish
