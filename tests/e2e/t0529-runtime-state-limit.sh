#!/usr/bin/env bash
# A container's state.json is read when a regular file of ours of at most 4
# MiB (OCI_JSON_MAX): exactly 4,194,304 bytes is read (state, delete work),
# one byte more is refused in one line, exit 2, naming the file and the bound.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
pad() { # pad ID SIZE: its state.json padded with blanks to SIZE bytes
	python3 - "$RT/$1/state.json" "$2" <<'PY'
import sys
path, size = sys.argv[1], int(sys.argv[2])
b = open(path, "rb").read().rstrip()
open(path, "wb").write(b + b" " * (size - len(b)))
PY
	is "$(stat -c %s "$RT/$1/state.json")" "$2" "$1: a state.json of $2 bytes"
}
bundle s1 '.process.args = ["sleep", "100"]'
rtc create --bundle "$B" s1 >/dev/null 2>&1 || { echo "Bail out! create failed"; exit 1; }
pad s1 4194304
expect 0 "exactly 4 MiB: state reads it" rtc state s1
like '"status":[[:space:]]*"created"' "... and says created"
pad s1 4194305
expect_fail "4 MiB + 1: state refuses it" rtc state s1
err_like "state.json: larger than 4194304 bytes" "... saying why"
pad s1 4194304
expect 0 "back to 4 MiB: delete works" rtc delete --force s1
[ ! -e "$RT/s1" ] && pass "... and the container is gone" || fail "... and the container is gone"
done_testing
