#!/usr/bin/env bash
# Integers in every tool's JSON are exact: a descriptor size of 2^53 + 1
# (valid: the image-spec's size is an int64) is printed as its digits, not
# as the nearest double (9007199254740992); so is the size of a sparse file
# of 2^53 + 1 bytes in oci-diff --json, and nanoseconds as decimal seconds.
. "$(dirname "$0")/test-lib.sh"
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
BIG=9007199254740993
echo '{"ref": "t", "layers": [["f=hi"]]}' | python3 "$LIB" build "$TMP/img" - >/dev/null
# the layer's descriptor size rewritten, the manifest re-hashed and re-named
python3 - "$TMP/img" "$BIG" <<'PY'
import hashlib, json, os, sys
root, big = sys.argv[1], int(sys.argv[2])
idx = json.load(open(os.path.join(root, "index.json")))
d = idx["manifests"][0]
path = lambda dg: os.path.join(root, "blobs", *dg.split(":"))
m = json.load(open(path(d["digest"])))
m["layers"][0]["size"] = big
b = json.dumps(m, separators=(",", ":")).encode()
dg = "sha256:" + hashlib.sha256(b).hexdigest()
open(path(dg), "wb").write(b)
d["digest"], d["size"] = dg, len(b)
json.dump(idx, open(os.path.join(root, "index.json"), "w"))
PY
expect 0 "oci-inspect --json of a layer of size 2^53 + 1" oci-inspect --json "$TMP/img:t"
like "\"size\":[[:space:]]*$BIG\\b" "... prints its size exactly"
expect 0 "oci-inspect --history --json" oci-inspect --history --json "$TMP/img:t"
unlike "9007199254740992" "... never the double next to it"

# oci-diff: a sparse file of 2^53 + 1 bytes, where a filesystem allows one
# (tmpfs does, up to 2^63 - 1; ext4 stops at 16 TiB)
S=$TMP
if [ -d /dev/shm ] && S=$(mktemp -d /dev/shm/oci-t0906.XXXXXX 2>/dev/null); then
	trap 'rm -rf "$TMP" "$S"' EXIT
else
	S=$TMP
fi
echo '{"ref": "t", "layers": [["f=hi"]]}' | python3 "$LIB" build "$TMP/small" - >/dev/null
expect 0 "unpack a small image" oci-unpack -q "$TMP/small:t" "$S/b"
if truncate -s "$BIG" "$S/b/rootfs/sparse" 2>/dev/null; then
	touch -d @1700000000.25 "$S/b/rootfs/sparse"
	expect 1 "oci-diff --json of a sparse file of 2^53 + 1 bytes (a change: exit 1)" oci-diff --json "$S/b"
	like "\"size\":[[:space:]]*$BIG\\b" "... prints its size exactly"
	like "\"mtime\":[[:space:]]*1700000000\\.25\\b" "... and its mtime as exact decimal seconds"
	rm -f "$S/b/rootfs/sparse"
else
	pass "# SKIP this filesystem has no files of 2^53 bytes"
	pass "# SKIP"
	pass "# SKIP"
fi
done_testing
