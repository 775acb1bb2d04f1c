#!/usr/bin/env bash
# test_dataplane_doc.sh: the wire examples of docs/dataplane.md are what
# they claim.  Every ```ofp13 block's bytes are decoded by the real
# `ovs-ofctl ofp-print` and must print exactly the block's "print:" line,
# so the examples cannot drift from what Open vSwitch accepts; then every
# documented add-flow is encoded by mignet's own codec (mignet-ofp-dump)
# and must print the same.  Needs only ovs-ofctl (no root, no daemons);
# skips (77) without it.
set -euo pipefail
src=${MIGNET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
doc=$src/docs/dataplane.md
PATH=$PATH:/usr/sbin:/sbin
if ! command -v ovs-ofctl >/dev/null 2>&1; then
    echo "SKIP: ovs-ofctl not installed" >&2
    exit 77
fi
[ -f "$doc" ] || { echo "FAIL: $doc missing" >&2; exit 1; }

n=0 bad=0 inblock=0 want="" hex="" name=""
# same WHAT WANT GOT: counts a failure unless the two print lines agree.
same() {
    if [ "$3" != "$2" ]; then
        printf 'FAIL: %s\n  doc: %s\n  got: %s\n' "$1" "$2" "$3" >&2
        bad=$((bad + 1))
    else
        echo "ok: $1"
    fi
}
check_block() {
    n=$((n + 1))
    if [ -z "$want" ] || [ -z "$hex" ]; then
        echo "FAIL: block '$name' lacks a print: line or bytes" >&2
        bad=$((bad + 1))
        return
    fi
    same "$name" "$want" "$(ovs-ofctl ofp-print "$hex" 2>&1 |
        tr -s ' \n' ' ' | sed 's/ *$//')"
}
while IFS= read -r line; do
    if [ "$inblock" = 0 ]; then
        if [ "$line" = '```ofp13' ]; then
            inblock=1 want="" hex="" name="(unnamed)"
        fi
        continue
    fi
    case $line in
        '```') check_block; inblock=0 ;;
        '# ovs-ofctl'*) ;;
        '# '*) name=${line#\# } ;;
        'print: '*) want=${line#print: } ;;
        *) hex="$hex $line" ;;
    esac
done <"$doc"

# mignet's codec: the same flows, written in its text form, must encode to
# messages Open vSwitch prints identically.
to_mignet() {
    local t=$1 left acts pre="" tok
    local -a toks m=()
    left=${t%%,actions=*}
    acts=${t#*,actions=}
    IFS=, read -ra toks <<<"$left"
    for tok in "${toks[@]}"; do
        case $tok in
            cookie=*|table=*|priority=*) pre="$pre $tok" ;;
            arp) m+=(eth_type=0x0806) ;;
            ip) m+=(eth_type=0x0800) ;;
            *) m+=("$tok") ;;
        esac
    done
    acts=$(sed -e 's/NXM_OF_ETH_SRC\[\]/eth_src[0..47]/g' \
        -e 's/NXM_OF_ETH_DST\[\]/eth_dst[0..47]/g' \
        -e 's/NXM_NX_ARP_SHA\[\]/arp_sha[0..47]/g' \
        -e 's/NXM_NX_ARP_THA\[\]/arp_tha[0..47]/g' \
        -e 's/NXM_OF_ARP_SPA\[\]/arp_spa[0..31]/g' \
        -e 's/NXM_OF_ARP_TPA\[\]/arp_tpa[0..31]/g' <<<"$acts")
    local IFS=,
    echo "add${pre} ${m[*]} actions=$acts"
}
dump=${MIGNET_BUILD_DIR:-$src/build}/mignet-ofp-dump
coded=0
if [ -x "$dump" ]; then
    inblock=0
    while IFS= read -r line; do
        case $line in
            '```ofp13') inblock=1 flow="" want="" ;;
            "# ovs-ofctl -O OpenFlow13 add-flow br-int '"*)
                flow=${line#*br-int \'}
                flow=${flow%\'} ;;
            'print: '*) want=${line#print: } ;;
            '```')
                if [ "$inblock" = 1 ] && [ -n "$flow" ]; then
                    coded=$((coded + 1))
                    text=$(to_mignet "$flow")
                    if ! hex=$("$dump" flow "$text" 2>&1); then
                        echo "FAIL: mignet cannot encode '$text': $hex" >&2
                        bad=$((bad + 1))
                    else
                        same "mignet's codec: ${flow:0:60}..." "$want" \
                            "$(ovs-ofctl ofp-print "$hex" | head -1 |
                                sed 's/(xid=0x[0-9a-f]*)/(xid=0x0)/')"
                    fi
                fi
                inblock=0 ;;
        esac
    done <"$doc"
    [ "$coded" -ge 8 ] || {
        echo "FAIL: only $coded add-flow examples to encode" >&2
        bad=$((bad + 1))
    }
else
    echo "note: $dump not built; codec cross-check not run" >&2
fi

# The blocks the codec depends on most must be there (a doc that lost
# them must not pass by having fewer blocks).
for must in '00 19 00 10 00 01 40 04' '80 00 4c 08' 'ff ff ff f8'; do
    grep -q "$must" "$doc" || {
        echo "FAIL: no example contains '$must'" >&2
        bad=$((bad + 1))
    }
done
if [ "$n" -lt 10 ]; then
    echo "FAIL: only $n wire examples found in $doc" >&2
    exit 1
fi
[ "$bad" = 0 ] || { echo "FAIL: $bad of $n examples wrong" >&2; exit 1; }
echo "all $n wire examples decode as documented;" \
    "$coded encoded identically by mignet's codec"
