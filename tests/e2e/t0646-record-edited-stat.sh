#!/usr/bin/env bash
# oci-diff believes the record without reading a file only where the stat
# data it has anyway agrees with it: inode, ctime, mtime and size, and also
# the mode and the owners. A record edited in the mode or the owners alone
# (the file untouched) is a change of that file, reported and committed from
# what is on disk, not a record believed over the disk.
. "$(dirname "$0")/test-lib.sh"
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root (owners)"; exit 0; }
echo '{"ref": "t", "layers": [["d/", {"p": "d/f", "t": "f", "c": "x", "uid": 0, "gid": 0, "mode": 420}, "d/g=y"]]}' |
	python3 "$LIB" build "$TMP/img" - >/dev/null
expect 0 "unpack" oci-unpack -q "$TMP/img:t" "$TMP/b"
expect 0 "right after unpack: no change" oci-diff "$TMP/b"
# edit FIELD (2: mode in octal, 3: uid, 4: gid) of /d/f's line to VALUE
edit() {
	python3 - "$TMP/b/oci-unpack.record" "$1" "$2" <<'PY'
import sys
path, field, value = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = open(path, "rb").read().split(b"\n")
for i, l in enumerate(lines):
    f = l.split(b"\t")
    if f[0] == b"/d/f":
        f[field - 1] = value.encode()
        lines[i] = b"\t".join(f)
open(path, "wb").write(b"\n".join(lines))
PY
}
cp "$TMP/b/oci-unpack.record" "$TMP/record.orig"
edit 3 1234
expect 1 "the record's uid of d/f edited: a change" oci-diff "$TMP/b"
like "d/f" "... of d/f"
unlike "d/g" "... and of nothing else"
cp "$TMP/record.orig" "$TMP/b/oci-unpack.record"
edit 4 99
expect 1 "its gid edited: a change" oci-diff "$TMP/b"
like "d/f" "... of d/f"
cp "$TMP/record.orig" "$TMP/b/oci-unpack.record"
edit 2 100600
expect 1 "its mode edited: a change" oci-diff "$TMP/b"
like "d/f" "... of d/f"
# committed from the disk: the new layer has d/f as it is, root's and 0644
expect 0 "commit of that" oci-commit -q "$TMP/b" "$TMP/img:next"
expect 0 "the new layer" oci-inspect --files --layer 2 "$TMP/img:next"
like "^-rw-r--r-- 0/0 .*/d/f\$" "... holds d/f with the disk's mode and owners"
done_testing
