#!/usr/bin/env bash
# Path lengths at the limit and one past it (docs/security.md "deep trees"):
# paths over 4,095 bytes are refused by unpack and commit (ENAMETOOLONG), one
# line, nothing left. Before the fix unpack refused only when the *directory*
# part reached 4,096 bytes, so a file 4,096..4,351 bytes deep unpacked into a
# tree that commit then refused.
. "$(dirname "$0")/test-lib.sh"
LAYERS="$OCI_SOURCE_DIR/tests/e2e/lib-layers.py"
python3 - "$TMP" <<'PY' || exit 1
import json, os, sys
def path_of(total):
    # components of at most 255 bytes joined by "/", `total` bytes in all
    comps, left = [], total
    while left > 256:
        comps.append(200)
        left -= 201
    comps.append(left)
    p = "/".join(chr(ord("a") + i % 26) * n for i, n in enumerate(comps))
    assert len(p) == total and max(map(len, p.split("/"))) <= 255
    return p
for n in (4095, 4096):
    with open(os.path.join(sys.argv[1], "s%d.json" % n), "w") as f:
        json.dump({"ref": "t", "layers": [[{"p": path_of(n), "t": "f", "c": "deep\n"}]]}, f)
PY
python3 "$LAYERS" build "$TMP/L4095" "$TMP/s4095.json" "$TMP/L4096" "$TMP/s4096.json" >/dev/null || exit 1

expect 0 "a file path of exactly 4,095 bytes unpacks" oci-unpack -q --rootless "$TMP/L4095:t" "$TMP/b4095"
is "$(find "$TMP/b4095/rootfs" -type f | sed "s#^$TMP/b4095/rootfs/##" | awk '{ print length($0) }')" 4095 \
	"... and is there, 4,095 bytes deep"
mkdir -p "$TMP/c"
expect 0 "... and commits" oci-commit -q "$TMP/b4095/rootfs" "$TMP/c/img:x"

expect_fail "a file path of 4,096 bytes: unpack refuses" oci-unpack -q --rootless "$TMP/L4096:t" "$TMP/b4096"
err_like 'File name too long' "... naming ENAMETOOLONG"
[ ! -e "$TMP/b4096" ] && pass "... leaving no bundle" || fail "... leaving no bundle"

# the same 4,096-byte path made on disk: commit refuses it too
mkdir -p "$TMP/r" && python3 - "$TMP/r" "$TMP/s4096.json" <<'PY' || exit 1
import json, os, sys
p = json.load(open(sys.argv[2]))["layers"][0][0]["p"]
d, name = p.rsplit("/", 1)
fd = os.open(sys.argv[1], os.O_RDONLY)
for c in d.split("/"):
    os.mkdir(c, dir_fd=fd)
    n = os.open(c, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = n
os.close(os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
PY
expect_fail "a 4,096-byte path on disk: commit refuses" oci-commit -q "$TMP/r" "$TMP/c/img:y"
err_like 'File name too long' "... naming ENAMETOOLONG"

done_testing
