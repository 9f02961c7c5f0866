#!/usr/bin/env bash
# An inode whose xattr names pass the kernel's 64 KiB list limit
# (XATTR_LIST_MAX: flistxattr then fails with E2BIG) cannot be read whole:
# oci-commit, oci-diff and oci-unpack (clearing a directory a later layer
# gives again) say so in one line, exit 2, instead of recording, committing
# or keeping the inode without some of its xattrs. Just under the limit,
# all of them are kept. Everything is on a tmpfs of its own (a disk
# filesystem such as ext4 keeps one block of xattrs an inode), mounted in a
# private mount namespace.
if [ -z "${T0666_NS:-}" ] && [ "$(id -u)" -eq 0 ]; then
	exec unshare -m env T0666_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/test-lib.sh"
if [ -z "${T0666_NS:-}" ]; then
	echo "1..0 # SKIP needs root to mount a tmpfs"
	exit 0
fi
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
W=$TMP/fs
mkdir "$W"
mount -t tmpfs tmpfs "$W" || { echo "Bail out! mount a tmpfs"; exit 1; }
T0=$TMP
trap 'umount "$W"; rm -rf "$T0"' EXIT
TMP=$W
mkdir -p "$TMP/t"
echo hi >"$TMP/t/f"
if ! python3 -c 'import os,sys; os.setxattr(sys.argv[1], "user.probe", b"1"); os.removexattr(sys.argv[1], "user.probe")' "$TMP/t/f" 2>/dev/null; then
	echo "1..0 # SKIP this tmpfs keeps no user xattrs"
	exit 0
fi
setx() { # setx FILE FIRST COUNT
	python3 - "$@" <<'PY'
import os, sys
f, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(first, first + n):
    os.setxattr(f, "user.%05d" % i + "x" * 239, b"v")
PY
}
# 250 names of 251 bytes with their NULs: 62,750 bytes, under 64 KiB
setx "$TMP/t/f" 0 250
expect 0 "250 long xattr names (62,750 bytes of list): committed" oci-commit -q "$TMP/t" "$TMP/img:a"
expect 0 "... and unpacked" oci-unpack -q "$TMP/img:a" "$TMP/b"
n=$(python3 -c 'import os,sys; print(len(os.listxattr(sys.argv[1])))' "$TMP/b/rootfs/f")
is "$n" 250 "... with all 250 of them"

# 20 more: 67,770 bytes, past XATTR_LIST_MAX
setx "$TMP/t/f" 250 20
expect_fail "270 long xattr names: oci-commit refuses" oci-commit -q "$TMP/t" "$TMP/img:b"
err_like "xattrs of \"f\": Argument list too long" "... naming the file and E2BIG"
[ ! -e "$TMP/img/index.json" ] || ! grep -q '"b"' "$TMP/img/index.json" && pass "... and writes no ref" || fail "... and writes no ref"

setx "$TMP/b/rootfs/f" 250 20
expect_fail "oci-diff of a bundle with such a file refuses" oci-diff "$TMP/b"
err_like "Argument list too long" "... with E2BIG"

# unpack: layer 1 gives directory d with 270 names, layer 2 gives d again
# with none: the names cannot be listed to be cleared
python3 - "$TMP/spec.json" <<'PY'
import json, sys
x = {"user.%05d" % i + "x" * 239: "v" for i in range(270)}
json.dump({"ref": "t", "layers": [[{"p": "d", "t": "d", "x": x}], ["d/"]]}, open(sys.argv[1], "w"))
PY
python3 "$LIB" build "$TMP/u" "$TMP/spec.json" >/dev/null
expect_fail "unpack: a directory given again whose old xattrs cannot be listed" oci-unpack -q "$TMP/u:t" "$TMP/c"
err_like "list the xattrs of \"d\": Argument list too long" "... naming it and E2BIG"
[ ! -e "$TMP/c" ] && pass "... and leaves no bundle" || fail "... and leaves no bundle"

done_testing
