#!/usr/bin/env bash
# test_fabric_lldp.sh: mignetd discovers the fabric's links with LLDP over
# OpenFlow (packet-out per port, punt flow, packet-in), as Ryu, ONOS and
# Floodlight do, and finds exactly the links that were built: the seed-002
# fabric cabled with veth pairs and a k=4 fat-tree cabled with OVS patch
# ports, 25 bridges in one Open vSwitch.  The topology file names only the
# switches (no link lines), so every link mignetd knows came from LLDP.
# Then a cable is pulled (port deleted) and put back: the link goes and
# comes back.  Needs root and Open vSwitch (else exit 77).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tb_require
. "$here/fabric_lib.sh"

tb_init
fb_ovs_start
topo=$TB_DIR/switches.topo
want=$TB_DIR/want
: >"$topo"
: >"$want"
switches=()

sw() { # NAME DPID
    fb_switch "$1" "$2"
    printf 'switch %s dpid=%d\n' "$1" "$2" >>"$topo"
    switches+=("$1")
}
# Expected links as "A:PA B:PB" with the ends in name order.
expect_link() {
    if [[ "$1:$2" < "$3:$4" ]]; then
        echo "$1:$2 $3:$4" >>"$want"
    else
        echo "$3:$4 $1:$2" >>"$want"
    fi
}

# The seed-002 fabric (docs/planner.md): veth pairs.
for i in 1 2 3 4 5; do sw "s$i" "$i"; done
for c in 1 2 3; do
    fb_link "s$c" 1 s4 $((c + 3))
    expect_link "s$c" 1 s4 $((c + 3))
    fb_link "s$c" 2 s5 $((c + 3))
    expect_link "s$c" 2 s5 $((c + 3))
done

# A k=4 fat-tree: patch ports.  Edge e<p>_<i> port 2+j to aggregation
# a<p>_<j> port i; a<p>_<j> port 2+m to core c<2(j-1)+m> port p.
for c in 1 2 3 4; do sw "c$c" $((100 + c)); done
for p in 1 2 3 4; do
    for i in 1 2; do
        sw "a${p}_$i" $((200 + 10 * p + i))
        sw "e${p}_$i" $((300 + 10 * p + i))
    done
    for i in 1 2; do
        for j in 1 2; do
            fb_patch "e${p}_$i" $((2 + j)) "a${p}_$j" "$i"
            expect_link "e${p}_$i" $((2 + j)) "a${p}_$j" "$i"
        done
    done
    for j in 1 2; do
        for m in 1 2; do
            c=$((2 * (j - 1) + m))
            fb_patch "a${p}_$j" $((2 + m)) "c$c" "$p"
            expect_link "a${p}_$j" $((2 + m)) "c$c" "$p"
        done
    done
done
sort -o "$want" "$want"
n_want=$(wc -l <"$want")
tb_log "built ${#switches[@]} switches, $n_want links"

mapfile -t swargs < <(fb_switch_args "${switches[@]}")
fb_mignetd --fabric "$topo" "${swargs[@]}" --fabric-lldp-ms 500 \
    --fabric-poll-ms 1000
fb_wait_connected "${#switches[@]}" 20
fb_wait_links "$n_want" 20
sleep 1 # a full LLDP period more: nothing extra may appear

fb_get /v1/fabric >"$TB_DIR/fabric.json"
jq -r '.discovered[] | "\(.a) \(.b)"' "$TB_DIR/fabric.json" |
    while read -r a b; do
        if [[ "$a" < "$b" ]]; then echo "$a $b"; else echo "$b $a"; fi
    done | sort >"$TB_DIR/got"
extra=$(comm -13 "$want" "$TB_DIR/got" | wc -l)
missing=$(comm -23 "$want" "$TB_DIR/got" | wc -l)
comm -3 "$want" "$TB_DIR/got" | sed 's/^/  differs: /' >&2 || true
tb_expect "links discovered" "$(wc -l <"$TB_DIR/got")" -eq "$n_want"
tb_expect "built links not discovered" "$missing" -eq 0
tb_expect "discovered links not built" "$extra" -eq 0
tb_expect "links heard in both directions" \
    "$(jq '[.discovered[] | select(.both_directions)] | length' \
        "$TB_DIR/fabric.json")" -eq "$n_want"
# The model the planner routes on holds exactly these links, from LLDP.
tb_expect "model links from LLDP" \
    "$(jq '[.links[] | select(.source == "lldp" and .lldp)] | length' \
        "$TB_DIR/fabric.json")" -eq "$n_want"
tb_expect "model links in all" "$(jq '.links | length' \
    "$TB_DIR/fabric.json")" -eq "$n_want"
# Every switch has the LLDP punt flow, and nothing else of ours.
tb_expect "LLDP punt flow on s4" \
    "$(fb_ofctl dump-flows s4 | grep -c 'dl_type=0x88cc' || true)" -eq 1
tb_expect "frames sent (metric)" "$(curl -sf "$FB_URL/metrics" |
    sed -n 's/^mignet_fabric_lldp_sent_total //p')" -gt "$((2 * n_want))"

# Pull a cable: the port goes, and the link with it.
fb_vsctl del-port s1 s1p1
for ((i = 0; i < 50; i++)); do
    gone=$(fb_get /v1/fabric | jq '[.discovered[]
        | select(.a == "s1:1" or .b == "s1:1")] | length')
    [ "$gone" -eq 0 ] && break
    sleep 0.1
done
tb_expect "link s1:1-s4:4 gone after its port" "$gone" -eq 0
tb_expect "other links kept" \
    "$(fb_get /v1/fabric | jq '.discovered | length')" -eq $((n_want - 1))
# Put it back: LLDP finds it again.
fb_vsctl add-port s1 s1p1 -- set interface s1p1 ofport_request=1
for ((i = 0; i < 50; i++)); do
    back=$(fb_get /v1/fabric | jq '[.discovered[]
        | select(.a == "s1:1" or .b == "s1:1")] | length')
    [ "$back" -eq 1 ] && break
    sleep 0.1
done
tb_expect "link s1:1-s4:4 rediscovered" "$back" -eq 1
tb_finish
