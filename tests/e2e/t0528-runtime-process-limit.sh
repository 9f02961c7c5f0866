#!/usr/bin/env bash
# exec --process FILE: a regular file of at most 1 MiB (docs/oci-runtime.md):
# exactly 1,048,576 bytes is read and run, one byte more refused in one line,
# and a FIFO refused at once (not waited on).
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
bundle p1 '.process.args = ["sleep", "100"]'
rtc create --bundle "$B" p1 >/dev/null 2>&1 && rtc start p1 >/dev/null 2>&1 || { echo "Bail out! create failed"; exit 1; }
# proc SIZE: the container's process with args ["echo", "hi"], padded with blanks to SIZE bytes
proc() {
	jq -c '.process | .args = ["echo", "hi"] | .terminal = false' "$B/config.json" >"$TMP/p.json"
	python3 - "$TMP/p.json" "$1" <<'PY'
import sys
path, size = sys.argv[1], int(sys.argv[2])
b = open(path, "rb").read().strip()
open(path, "wb").write(b + b" " * (size - len(b)))
PY
	is "$(stat -c %s "$TMP/p.json")" "$1" "a process file of $1 bytes"
}
proc 1048576
expect 0 "exactly 1 MiB: exec reads and runs it" rtc exec --process "$TMP/p.json" p1
like "^hi\$" "... its output"
proc 1048577
expect_fail "1 MiB + 1: refused" rtc exec --process "$TMP/p.json" p1
err_like "not a readable file \\(up to 1 MiB\\)" "... saying why"
mkfifo "$TMP/fifo"
run timeout 10 oci-runtime --root "$RT" exec --process "$TMP/fifo" p1
is "$status" 2 "a FIFO as --process: refused at once, not waited on"
done_testing
