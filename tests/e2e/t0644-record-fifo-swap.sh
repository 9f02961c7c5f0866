#!/usr/bin/env bash
# A file of the bundle swapped for a FIFO (atomically, over and over) while
# oci-commit and oci-diff --tar read the bundle: each run ends quickly, with
# its result or one line saying the file changed; none waits forever on
# the FIFO (whose open blocks until a writer comes).
. "$(dirname "$0")/test-lib.sh"

B=$TMP/b
oci-unpack -q "$TD/multi:v1" "$B" || { echo "Bail out! oci-unpack failed"; exit 1; }
mkfifo "$B/swap"

# exchange rootfs/etc/hostname and the FIFO, atomically, until killed
python3 - "$B/rootfs/etc/hostname" "$B/swap" <<'PY' &
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = (p.encode() for p in sys.argv[1:3])
AT_FDCWD, RENAME_EXCHANGE = -100, 2
while True:
    if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
        sys.exit("renameat2: " + os.strerror(ctypes.get_errno()))
PY
SWAPPER=$!
sleep 0.2

hung=0 bad=0 runs=0
for i in $(seq 1 12); do
	for tool in commit diff; do
		runs=$((runs + 1))
		if [ $tool = commit ]; then
			timeout 10 oci-commit -q "$B" "$TMP/img:c$i" >/dev/null 2>"$TMP/err"
		else
			timeout 10 oci-diff --tar "$B" >/dev/null 2>"$TMP/err"
		fi
		st=$?
		if [ $st -eq 124 ]; then
			hung=$((hung + 1))
			diag "$tool run $i: still running after 10 s"
			break 2
		fi
		# commit: 0, or 2 with one line; diff: 1 (changes) or 2 with one line
		if ! { [ $st -le 1 ] || { [ $st -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ]; }; }; then
			bad=$((bad + 1))
			diag "$tool run $i: exit $st: $(head -c 300 "$TMP/err")"
		fi
	done
done
kill "$SWAPPER" 2>/dev/null
wait "$SWAPPER" 2>/dev/null
is "$hung" 0 "no run waits on the FIFO swapped in ($runs runs)"
is "$bad" 0 "every run ends with its result or one line on stderr"

done_testing
