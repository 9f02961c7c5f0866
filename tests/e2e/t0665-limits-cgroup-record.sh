#!/usr/bin/env bash
# The cgroup record (cgroup.json in the container's directory) is read when a
# regular file of ours of at most 64 KiB (docs/security.md; cgroup.c
# CG_RECORD_MAX): exactly 65,536 bytes is read, 65,537 refused in one line,
# before delete kills or removes anything; the cgroups the records name are
# gone at the end.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
# record ID SIZE: the container's own record padded with blanks to SIZE
# bytes (its cgroups stay listed, so delete still removes them); the
# original kept as cgroup.json.orig
record() {
	cp "$RT/$1/cgroup.json" "$TMP/$1.orig"
	python3 - "$RT/$1/cgroup.json" "$2" <<'PY'
import sys
with open(sys.argv[1], "rb") as f:
    rec = f.read().rstrip()
with open(sys.argv[1], "wb") as f:
    f.write(rec + b" " * (int(sys.argv[2]) - len(rec) - 1) + b"\n")
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
is "$(rtc state k2 | jq -r .status)" created "... before anything is done: the container is as it was"
cp "$TMP/k2.orig" "$RT/k2/cgroup.json"
expect 0 "the record sound again: delete --force" rtc delete --force k2
# the directories the two records named are gone
left=$(jq -r '.[] | "\(.mount)/\(.path)"' "$TMP/k1.orig" "$TMP/k2.orig" | while read -r d; do [ -d "$d" ] && echo "$d"; done)
is "$left" "" "nothing left in any cgroup hierarchy"

done_testing
