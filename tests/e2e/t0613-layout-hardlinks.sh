#!/usr/bin/env bash
# A layout's own files are untrusted (docs/security.md, "Layouts"): when
# oci-commit writes into another layout than its parent's, the parent's
# blobs are hard-linked only when nobody else can change them later (owned
# by the caller, not writable by group or others); otherwise they are
# copied, verified. Either way the destination verifies.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/t0610-layout-lib.sh"

ino() { stat -c %i "$1"; }

# commit_from NAME: commit with parent $TMP/NAME:v1 into a new layout
# $TMP/NAME-dest; prints nothing, sets $status
commit_from() {
	rm -rf "$TMP/$1-dest"
	run timeout -k 5 "$T" oci-commit --from "$TMP/$1:v1" --env A=1 "$TMP/$1-dest:x"
}

# ours, 0644: linked (the cheap path stays)
fresh own
chmod 0644 "$(blobpath "$TMP/own" "$M_LAYER")"
commit_from own
is "$status" 0 "a parent blob of ours, 0644: oci-commit exits 0"
is "$(ino "$(blobpath "$TMP/own-dest" "$M_LAYER")")" "$(ino "$(blobpath "$TMP/own" "$M_LAYER")")" \
	"a parent blob of ours, 0644: hard-linked"

# ours but writable by others, or by the group: copied
for mode in 0666 0664 0646; do
	fresh "w$mode"
	chmod "$mode" "$(blobpath "$TMP/w$mode" "$M_LAYER")"
	commit_from "w$mode"
	is "$status" 0 "a parent blob of ours, $mode: oci-commit exits 0"
	[ "$(ino "$(blobpath "$TMP/w$mode-dest" "$M_LAYER")")" != "$(ino "$(blobpath "$TMP/w$mode" "$M_LAYER")")" ]
	ok $? "a parent blob of ours, $mode: copied, not linked"
	cmp -s "$(blobpath "$TMP/w$mode-dest" "$M_LAYER")" "$(blobpath "$TMP/w$mode" "$M_LAYER")"
	ok $? "a parent blob of ours, $mode: the copy has the same bytes"
	[ $(($(stat -c '0%a' "$(blobpath "$TMP/w$mode-dest" "$M_LAYER")") & 022)) -eq 0 ]
	ok $? "a parent blob of ours, $mode: the copy is writable by nobody else"
	expect 0 "a parent blob of ours, $mode: the destination verifies" oci-inspect --verify "$TMP/w$mode-dest"
done

# another user's blob (root only: chown)
fresh other
if chown 65534:65534 "$(blobpath "$TMP/other" "$M_LAYER")" 2>/dev/null; then
	chmod 0644 "$(blobpath "$TMP/other" "$M_LAYER")"
	commit_from other
	is "$status" 0 "another user's parent blob: oci-commit exits 0"
	d=$(blobpath "$TMP/other-dest" "$M_LAYER")
	[ "$(ino "$d")" != "$(ino "$(blobpath "$TMP/other" "$M_LAYER")")" ]
	ok $? "another user's parent blob: copied, not linked"
	is "$(stat -c %u "$d")" "$(id -u)" "another user's parent blob: the copy is ours"
	is "$(stat -c %u "$(blobpath "$TMP/other" "$M_LAYER")")" 65534 "another user's parent blob: the parent's is still theirs"
	expect 0 "another user's parent blob: the destination verifies" oci-inspect --verify "$TMP/other-dest"
else
	_n=$((_n + 1))
	echo "ok $_n # SKIP chown to another user needs root"
fi

done_testing
