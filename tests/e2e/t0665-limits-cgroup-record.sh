#!/usr/bin/env bash
# The cgroup record (cgroup.json in the container's directory) is read when a
# regular file of ours of at most 64 KiB (docs/security.md; cgroup.c
# CG_RECORD_MAX): exactly 65,536 bytes is read, 65,537 refused in one line.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
# record ID SIZE: an empty array padded with blanks to SIZE bytes
record() {
	python3 - "$RT/$1/cgroup.json" "$2" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"[]" + b" " * (int(sys.argv[2]) - 3) + b"\n")
PY
	is "$(stat -c %s "$RT/$1/cgroup.json")" "$2" "$1: a cgroup record of $2 bytes"
}
bundle k1 '.process.args = ["sleep", "100"]'
rtc create --bundle "$B" k1 || { echo "Bail out! create failed"; exit 1; }
record k1 65536
expect 0 "a record of exactly 64 KiB: delete reads it" rtc delete --force k1
[ ! -e "$RT/k1" ] && pass "... and the container is gone" || fail "... and the container is gone"

bundle k2 '.process.args = ["sleep", "100"]'
rtc create --bundle "$B" k2 || { echo "Bail out! create failed"; exit 1; }
record k2 65537
expect_fail "a record of 64 KiB + 1: delete refuses it" rtc delete --force k2
err_like "cgroup record: not a regular file of ours, or too large" "... saying why"
rm -f "$RT/k2/cgroup.json"
rtc delete --force k2 >/dev/null 2>&1

done_testing
