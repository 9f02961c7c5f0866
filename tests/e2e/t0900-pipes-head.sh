#!/bin/bash
# A reader that goes away early (| head, | true) ends every tool that writes
# to stdout as it ends cat(1): killed by SIGPIPE (status 141 in the shell),
# nothing on stderr; never status 2 with "write failed". Even when the
# tool was started with SIGPIPE ignored. (issue 12, "Streams and exit statuses")
. "$(dirname "$0")/test-lib.sh"

# closed READER-STATUS NAME CMD...: run CMD into a reader that closes its end
# at once; WANT is "141" (the output is more than a pipe holds, so the
# writer must meet the closed pipe) or "0|141" (small output: it may fit in
# the pipe before the reader is gone). stderr must stay empty either way.
closed() {
	local want=$1 name=$2
	shift 2
	local st
	(trap '' PIPE; "$@" 2>"$TMP/err" | { exec 0<&-; sleep 0.3; }; echo "${PIPESTATUS[0]}" >"$TMP/st")
	st=$(cat "$TMP/st")
	if [[ "$st" =~ ^($want)$ ]] && [ ! -s "$TMP/err" ]; then
		pass "$name"
	else
		fail "$name" "status $st (want $want), stderr: $(head -c 300 "$TMP/err")"
	fi
}

# a layout big enough that every listing overflows a pipe
python3 - "$TMP/big.json" <<'PY'
import json, sys
import random
entries = ["bin/"] + ["bin/f%05d=%s" % (i, "x" * 10) for i in range(4000)]
entries = [e if e.endswith("/") else "f:" + e for e in entries]
entries = [{"p": e[2:].split("=")[0], "c": e.split("=")[1]} if e.startswith("f:") else e for e in entries]
rnd = random.Random(1)
entries.append({"p": "big.bin", "c": "".join(chr(rnd.randrange(33, 127)) for _ in range(300000))})
json.dump({"ref": "v1", "layers": [entries]}, open(sys.argv[1], "w"))
PY
python3 "$OCI_SOURCE_DIR/tests/e2e/lib-layers.py" build "$TMP/big" "$TMP/big.json" >/dev/null 2>"$TMP/build.err" ||
	fail "build the big image" "$(cat "$TMP/build.err")"

closed 141 "oci-inspect --files | closed: SIGPIPE, no message" oci-inspect --files "$TMP/big:v1"
closed 141 "oci-inspect --files --json | closed" oci-inspect --files --json "$TMP/big:v1"
closed 141 "oci-inspect --files --merged | closed" oci-inspect --files --merged "$TMP/big:v1"
closed '0|141' "oci-inspect (tree) | closed" oci-inspect "$TD/multi"
closed '0|141' "oci-inspect --json | closed" oci-inspect --json "$TD/multi"
closed '0|141' "oci-inspect --refs | closed" oci-inspect --refs "$TD/multiarch"
closed '0|141' "oci-inspect --history | closed" oci-inspect --history "$TD/multi:v1"
closed '0|141' "oci-inspect --config | closed" oci-inspect --config "$TD/multi:v1"
closed '0|141' "oci-inspect --verify | closed" oci-inspect -q --verify "$TD/multi"
closed 141 "oci-unpack IMAGE - | closed" oci-unpack "$TMP/big:v1" -
closed 141 "oci-copy IMAGE - | closed" oci-copy -q "$TMP/big:v1" -
oci-unpack -q "$TMP/big:v1" "$TMP/b" || fail "unpack the big image"
rm "$TMP/b/rootfs/big.bin"
for i in $(seq 1 300); do echo "$i" >"$TMP/b/rootfs/n$i"; done
head -c 300000 /dev/urandom >"$TMP/b/rootfs/new.bin"
closed 141 "oci-diff --tar BUNDLE | closed" oci-diff --tar "$TMP/b"
closed 141 "oci-diff BUNDLE | closed" oci-diff "$TMP/b"
closed 141 "oci-diff --json BUNDLE | closed" oci-diff --json "$TMP/b"
cp -r "$TD/multi" "$TMP/L"
closed '0|141' "oci-commit | closed" oci-commit -q "$TMP/b" "$TMP/L:c1"
closed '0|141' "oci-runtime spec | closed" oci-runtime spec --help
for t in oci-inspect oci-unpack oci-diff oci-commit oci-runtime oci-copy; do
	closed '0|141' "$t --help | closed" "$t" --help
done

# the shape users type, under pipefail: head takes a line, the writer ends
# quietly by SIGPIPE
run bash -c 'set -o pipefail; oci-inspect --files "$1" | head -1; echo "status ${PIPESTATUS[0]}" >&2' _ "$TMP/big:v1"
is "$(out)" "layer 1/1 $(jq -r '.layers[0].digest' "$TMP/big/blobs/sha256/$(jq -r '.manifests[0].digest' "$TMP/big/index.json" | cut -d: -f2)") (tar+gzip)" \
	"| head -1 got the first line"
is "$(err)" "status 141" "oci-inspect --files | head -1: killed by SIGPIPE, nothing else on stderr"
run bash -c 'oci-unpack "$1" - | head -c 1000 >/dev/null; echo "status ${PIPESTATUS[0]}" >&2' _ "$TMP/big:v1"
is "$(err)" "status 141" "oci-unpack IMAGE - | head -c 1000: SIGPIPE, no message"

# a write error that is not a closed pipe is still one
if [ -w /dev/full ]; then
	expect_fail "oci-inspect --files >/dev/full: a write error, exit 2" \
		sh -c 'exec oci-inspect --files "$1" >/dev/full' _ "$TMP/big:v1"
	err_like 'stdout: write failed: No space left on device' "oci-inspect >/dev/full names ENOSPC"
fi
done_testing
