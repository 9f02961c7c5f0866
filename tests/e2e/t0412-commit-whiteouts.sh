#!/usr/bin/env bash
# Whiteouts in the layers we write: before their sibling entries in every
# directory (layer.md SHOULD), and a directory deleted and made again
# expressed by explicit whiteouts (the form the spec prefers), the same bytes
# whether or not the new directory got its old inode back.
. "$(dirname "$0")/test-lib.sh"
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
export SOURCE_DATE_EPOCH=1700000000
layer_names() { # IMAGE: the last layer's names, as tar lists them
	local d
	d=$(oci-inspect --manifest "$1" | jq -r '.layers[-1].digest')
	gzip -dc "${1%%:*}/blobs/sha256/${d#sha256:}" | tar -tf -
}

# a base with siblings that sort around ".wh.": "-x", ".a", "A", "b", "z"
cat >"$TMP/base.json" <<'JSON'
{"ref": "base", "layers": [["d/", "d/-x=1", "d/.a=2", "d/A=3", "d/b=4", "d/gone=5", "d/z/", "d/z/f=6",
  "r/", "r/keep=7", "r/old=8", "r/sub/", "r/sub/s=9", "top=10"]]}
JSON
python3 "$LIB" build "$TMP/L" "$TMP/base.json" >/dev/null || { echo "Bail out! lib-layers.py build failed"; exit 1; }

# ---- order: whiteouts first among their siblings ----
oci-unpack -q "$TMP/L:base" "$TMP/b1"
R=$TMP/b1/rootfs
rm "$R/d/gone" "$R/d/.a"
echo new >"$R/d/-y"
echo changed >"$R/d/z/f"
echo new >"$R/d/a-new"
expect 0 "commit with deletions next to siblings" oci-commit --keep-record -q "$TMP/b1" "$TMP/L:order"
layer_names "$TMP/L:order" >"$TMP/order.names"
is "$(tr '\n' ' ' <"$TMP/order.names")" "d/ d/.wh..a d/.wh.gone d/-y d/a-new d/z/ d/z/f " \
	"the layer: the directory, its whiteouts, then its other entries"
if python3 "$LIB" tarorder <"$TMP/order.names" >"$TMP/o"; then pass "whiteouts before sibling entries, paths in order"; else fail "whiteouts before sibling entries, paths in order" "$(cat "$TMP/o")"; fi
oci-diff -q --tar "$TMP/b1" 2>/dev/null | tar -tf - >"$TMP/diff.names"
is "$(cat "$TMP/diff.names")" "$(cat "$TMP/order.names")" "oci-diff --tar writes the same order"

# ---- a replaced directory: explicit whiteouts, whatever the inode ----
# the same change made twice: r/ made again (a new inode, the old one still
# held while the new is made), and r/ kept with its contents redone
replace() { # BUNDLE MODE
	local R=$1/rootfs
	if [ "$2" = new-inode ]; then
		mv "$R/r" "$R/r.old" && mkdir "$R/r" && rm -rf "$R/r.old"
	else
		rm -rf "$R/r/"*
	fi
	printf 7 >"$R/r/keep" # the same content as before
	echo fresh >"$R/r/fresh"
	chmod 0755 "$R/r"
	touch -d @1700000000 "$R/r/keep" "$R/r/fresh" "$R/r"
}
for mode in new-inode same-inode; do
	rm -rf "$TMP/$mode"
	oci-unpack -q "$TMP/L:base" "$TMP/$mode"
	ino_before=$(stat -c %i "$TMP/$mode/rootfs/r")
	replace "$TMP/$mode" "$mode"
	ino_after=$(stat -c %i "$TMP/$mode/rootfs/r")
	if [ "$mode" = new-inode ]; then
		[ "$ino_before" != "$ino_after" ] && pass "$mode: r/ has another inode" || fail "$mode: r/ has another inode"
	else
		is "$ino_after" "$ino_before" "$mode: r/ kept its inode"
	fi
	oci-commit --keep-record -q --timestamp 1700000000 "$TMP/$mode" "$TMP/L:$mode" >/dev/null
	layer_names "$TMP/L:$mode" >"$TMP/$mode.names"
done
is "$(tr '\n' ' ' <"$TMP/new-inode.names")" "r/ r/.wh.old r/.wh.sub r/fresh " "a replaced directory: explicit whiteouts of what it lost, its new entries"
is "$(grep -c 'wh\.\.wh\.\.opq' "$TMP/new-inode.names")" 0 "no opaque whiteout"
is "$(oci-inspect --manifest "$TMP/L:new-inode" | jq -r '.layers[-1].digest')" \
	"$(oci-inspect --manifest "$TMP/L:same-inode" | jq -r '.layers[-1].digest')" \
	"the same change, a new inode or the old one: the same layer bytes"
rm -rf "$TMP/u"
oci-unpack -q --rootfs "$TMP/L:new-inode" "$TMP/u"
python3 "$LIB" tree "$TMP/new-inode/rootfs" "$TMP/want" "$TMP/u" "$TMP/got"
if diff -u "$TMP/want" "$TMP/got" >"$TMP/d"; then pass "the commit unpacks to the changed rootfs"; else fail "the commit unpacks to the changed rootfs" "$(head -20 "$TMP/d")"; fi
command -v umoci >/dev/null && {
	rm -rf "$TMP/um"
	um_opts=()
	[ "$(id -u)" -eq 0 ] || um_opts=(--rootless)
	if umoci unpack "${um_opts[@]}" --image "$TMP/L:new-inode" "$TMP/um" >/dev/null 2>&1; then
		python3 "$LIB" tree "$TMP/u" "$TMP/want" "$TMP/um/rootfs" "$TMP/got"
		if diff -u "$TMP/want" "$TMP/got" >"$TMP/d"; then pass "umoci unpacks it to the same tree"; else fail "umoci unpacks it to the same tree" "$(head -20 "$TMP/d")"; fi
	else
		fail "umoci unpacks it to the same tree"
	fi
}

# ---- a real file named like a whiteout cannot go into a layer ----
mkdir -p "$TMP/whname/d" && echo x >"$TMP/whname/d/.wh.foo"
expect_fail "a tree holding d/.wh.foo: refused (it would be read as a whiteout)" oci-commit --keep-record "$TMP/whname" "$TMP/WL:x"
err_like '/d/\.wh\.foo: a name starting with \.wh\. cannot be stored in a layer' "the error names the file and why"
[ -e "$TMP/WL" ] && fail "no layout left behind" || pass "no layout left behind"
oci-unpack -q "$TMP/L:base" "$TMP/bw"
echo x >"$TMP/bw/rootfs/d/.wh.b"
oci-diff --tar "$TMP/bw" >"$TMP/bw.tar" 2>"$TMP/bw.err"
is "$?:$(stat -c %s "$TMP/bw.tar"):$(wc -l <"$TMP/bw.err")" "2:0:1" "oci-diff --tar of such a bundle: exit 2, nothing on stdout, one line on stderr"

done_testing
