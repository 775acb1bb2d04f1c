#!/usr/bin/env bash
# test_traffic_report_path.sh: mignet-traffic writes its report in place
# when the path exists and is not a regular file.  Its atomic write
# (a temporary file, then a rename) once replaced /dev/null itself with a
# regular file (bench_precopy.sh passes --report /dev/null), which broke
# every later test that read /dev/null.  A character device under $T must
# stay one; a regular file is still written whole.  Needs root (mknod).
source "$(dirname "$0")/lib.sh"
mknod "$T/null" c 1 3 || fail "mknod failed (root is needed)"
TRAFFIC=$MIGNET_BUILD_DIR/mignet-traffic
"$TRAFFIC" recv --port "$(free_port)" --bind 127.0.0.1 --duration 1 \
    --report "$T/null" || fail "recv with a device as its report failed"
[ -c "$T/null" ] || fail "the report replaced the device: $(ls -l "$T/null")"
"$TRAFFIC" recv --port "$(free_port)" --bind 127.0.0.1 --duration 1 \
    --report "$T/r.json" || fail "recv failed"
jq -e '.total.received == 0' "$T/r.json" >/dev/null ||
    fail "no whole report: $(cat "$T/r.json")"
[ ! -e "$T/r.json.tmp" ] || fail "the temporary file stayed"
echo "ok: a device stays a device, a file gets the whole report"
