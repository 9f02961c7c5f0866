#!/usr/bin/env bash
# A tree deeper than the walk's 64 open directories, with names left in a
# directory after a subdirectory at that depth: the parent's fd, closed on
# the way down, is opened again on the way back up (through "..", checked to
# be the same directory) before its next names are read. oci-unpack's
# record, oci-diff of two trees and oci-commit of one all see every entry.
. "$(dirname "$0")/test-lib.sh"
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
D=$(printf 'd/%.0s' $(seq 66))
printf '{"ref": "t", "layers": [["%sx/", "%sy=hi"]]}\n' "$D" "$D" | python3 "$LIB" build "$TMP/img" - >/dev/null
expect 0 "unpack: 66 directories deep, a subdirectory then a file at the bottom" oci-unpack -q "$TMP/img:t" "$TMP/b"
is "$(cat "$TMP/b/rootfs/${D}y")" hi "... the file is there"
grep -q "^/${D}y	" "$TMP/b/oci-unpack.record" && pass "... and in the record" || fail "... and in the record"
expect 0 "oci-diff of the bundle: nothing changed" oci-diff "$TMP/b"
mkdir -p "$TMP/a" "$TMP/c/${D}x"
cp -a "$TMP/b/rootfs/." "$TMP/a/"
echo there >"$TMP/c/${D}z"
expect 1 "oci-diff of two such trees" oci-diff "$TMP/a" "$TMP/c"
like "${D}z" "... sees the file added at the bottom"
like "${D}y" "... and the one removed"
expect 0 "oci-commit of such a tree" oci-commit -q "$TMP/c" "$TMP/img2:x"
expect 0 "... its layer" oci-inspect --files "$TMP/img2:x"
like "/${D}z\$" "... holds the file at the bottom"
done_testing
