#!/usr/bin/env bash
# test_dataplane_doc.sh: the wire examples of docs/dataplane.md are what
# they claim.  Every ```ofp13 block's bytes are decoded by the real
# `ovs-ofctl ofp-print` and must print exactly the block's "print:" line;
# the examples mignet's OpenFlow codec is written against can therefore not
# drift from what Open vSwitch accepts.  Needs only ovs-ofctl (no root, no
# daemons); skips (77) without it.
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
check_block() {
    local got
    n=$((n + 1))
    got=$(ovs-ofctl ofp-print "$hex" 2>&1 | tr -s ' \n' ' ' | sed 's/ *$//')
    if [ -z "$want" ] || [ -z "$hex" ]; then
        echo "FAIL: block '$name' lacks a print: line or bytes" >&2
        bad=$((bad + 1))
    elif [ "$got" != "$want" ]; then
        printf 'FAIL: %s\n  doc:       %s\n  ofp-print: %s\n' \
            "$name" "$want" "$got" >&2
        bad=$((bad + 1))
    else
        echo "ok: $name"
    fi
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
echo "all $n wire examples decode as documented"
