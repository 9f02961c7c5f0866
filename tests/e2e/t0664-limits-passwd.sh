#!/usr/bin/env bash
# The image's /etc/passwd is read for HOME only when a regular file of at most
# 16 MiB (docs/security.md; process.c CHILD_PASSWD_MAX): exactly 16 MiB is
# read to its last line, 16 MiB + 1 is not (HOME=/).
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
# passwd SIZE: junk lines, then root's entry as the very last line
passwd() {
	python3 - "$B/rootfs/etc/passwd" "$1" <<'PY'
import sys
last = b"root:x:0:0:root:/far/away:/bin/sh\n"
n = int(sys.argv[2]) - len(last)
pad = (b"#" * 1023 + b"\n") * (n // 1024) + b"#" * (n % 1024)
if n % 1024:
    pad = pad[:-1] + b"\n"
with open(sys.argv[1], "wb") as f:
    f.write(pad + last)
PY
	is "$(stat -c %s "$B/rootfs/etc/passwd")" "$1" "passwd of $1 bytes made"
}
for n in 16777216 16777217; do
	bundle "p$n"
	passwd "$n"
	run timeout -k 5 30 oci-runtime --root "$RT" run --bundle "$B" "p$n" -- sh -c 'echo "home=$HOME"'
	is "$status" 0 "run with a passwd of $n bytes"
	if [ "$n" = 16777216 ]; then
		is "$(out)" "home=/far/away" "... exactly 16 MiB: read to its last line"
	else
		is "$(out)" "home=/" "... 16 MiB + 1: not read, HOME=/"
	fi
done

done_testing
