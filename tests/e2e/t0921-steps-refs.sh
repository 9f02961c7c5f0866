#!/usr/bin/env bash
# Refs that scripts can trust: a ref outside the image-spec's grammar is
# refused before anything is written; a source that is an image layout, or
# that contains the destination, is refused; an archive on stdin is named by
# a Docker tag with colons (-:app:1.2) as the same file is.
. "$(dirname "$0")/test-lib.sh"

fresh() {
	B=$TMP/$1
	rm -rf "$B"
	oci-unpack -q "$TD/multi:v1" "$B" || { echo "Bail out! oci-unpack failed"; exit 1; }
	echo step >"$B/rootfs/step"
}
# state DIR: every file below DIR with its size, to see that nothing was written
state() { (cd "$1" && find . -printf '%p %s\n' | sort); }

# ---- the ref grammar (annotations.md) ----
fresh b
mkdir -p "$TMP/L"
oci-commit -q --keep-record "$B" "$TMP/L:base" >/dev/null
state "$TMP/L" >"$TMP/before"
for bad in 'a b' '-lead' 'trail-' 'a..b' 'a//b' '/abs' 'a/' 'x---y' 'tab	x' 'é' 'a:' 'a@@b' '.'; do
	expect_fail "ref '$bad': refused, exit 2, one line" oci-commit --keep-record "$B" "$TMP/L:$bad"
	err_like "not a ref the image-spec allows|control character" "ref '$bad': the message says why"
done
state "$TMP/L" >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" && pass "refused refs: nothing was written to the layout" ||
	fail "refused refs: nothing was written to the layout" "$(diff "$TMP/before" "$TMP/after")"
expect_fail "a bad ref into a new layout: refused" oci-commit --keep-record "$B" "$TMP/New:a b"
[ ! -e "$TMP/New" ] && pass "a bad ref into a new layout: the layout is not created" ||
	fail "a bad ref into a new layout: the layout is not created"
expect_fail "a bad ref on a config-only commit: refused" oci-commit --from "$TD/multi:v1" --env A=1 "$TMP/L:no good"
long=$(printf 'a%.0s' $(seq 5000))
expect_fail "a ref longer than 4096 bytes: refused" oci-commit --keep-record "$B" "$TMP/L:$long"
for good in 'v1' 'a-b' 'a--b' 'A.b_c' 'example/app:1.0' 'x@y' 'a+b' 'registry.example.com/ns/app:1.2.3' '0'; do
	expect 0 "ref '$good': accepted" oci-commit -q --keep-record "$B" "$TMP/L:$good"
done
run oci-inspect --refs "$TMP/L:example/app:1.0"
like '^example/app:1.0	' "a ref with a slash and a colon is found again"

# ---- a source that is a layout, or holds the destination ----
state "$TMP/L" >"$TMP/before"
expect_fail "oci-commit L L:x: refused" oci-commit "$TMP/L" "$TMP/L:x"
err_like 'is an image layout' "oci-commit L L:x: says the source is an image layout"
expect_fail "oci-commit L other:x: a layout as source is refused too" oci-commit "$TMP/L" "$TMP/other:x"
[ ! -e "$TMP/other" ] && pass "a layout as source: no destination made" || fail "a layout as source: no destination made"
state "$TMP/L" >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" && pass "oci-commit L L:x: the layout is untouched" ||
	fail "oci-commit L L:x: the layout is untouched" "$(diff "$TMP/before" "$TMP/after")"

mkdir -p "$TMP/src/etc"
echo hi >"$TMP/src/etc/f"
expect_fail "a directory holding the (new) destination: refused" oci-commit "$TMP/src" "$TMP/src/out:x"
err_like 'contains the destination' "... and the message says so"
[ ! -e "$TMP/src/out" ] && pass "... and no destination was made inside it" || fail "... and no destination was made inside it"
expect_fail "a destination deeper inside the source: refused" oci-commit "$TMP/src" "$TMP/src/etc/deep/er/L:x"
expect_fail "the destination through .. and a symlink: refused" sh -c "ln -s '$TMP/src/etc' '$TMP/link' && oci-commit '$TMP/other/../src' '$TMP/link/L:x'"
mkdir -p "$TMP/src/L2"
oci-commit -q --from "$TD/multi:v1" --env A=1 "$TMP/src/L2:v" >/dev/null
expect_fail "an existing layout inside the source: refused" oci-commit "$TMP/src" "$TMP/src/L2:x"
expect_fail "a bundle holding the destination: refused" oci-commit "$B" "$B/L:x"
expect_fail "the source as the destination itself: refused" oci-commit "$TMP/src" "$TMP/src:x"
expect 0 "a sibling of the source as destination: accepted" oci-commit -q "$TMP/src" "$TMP/srcL:x"
expect 0 "a relative destination outside the source: accepted" sh -c "cd '$TMP' && oci-commit -q src rel:x"

# ---- Docker tags on stdin ----
SAVE=$TD/docker-save.tar
want=$(oci-inspect --manifest "$SAVE:example/app:1.0" | sha256sum | cut -d' ' -f1)
run sh -c "cat '$SAVE' | oci-inspect --manifest -:example/app:1.0"
is "$status" 0 "cat save.tar | oci-inspect --manifest -:example/app:1.0: exit 0"
is "$(out | sha256sum | cut -d' ' -f1)" "$want" "-:example/app:1.0 names what save.tar:example/app:1.0 names"
run sh -c "cat '$TD/docker-save-multi.tar' | oci-inspect --refs -:two:2"
is "$status:$(cut -f1 "$TMP/out")" "0:two:2" "-:two:2 picks the tag two:2 of a multi-image save"
run sh -c "cat '$TD/docker-save-multi.tar' | oci-inspect --refs -:one:1"
is "$(cut -f1 "$TMP/out")" "one:1" "-:one:1 picks one:1"
run sh -c "cat '$TD/docker-save-multi.tar' | oci-unpack -q -:two:2 '$TMP/ub'"
is "$status" 0 "oci-unpack -:two:2 from stdin: exit 0"
[ -d "$TMP/ub/rootfs" ] && pass "oci-unpack -:two:2: the bundle is there" || fail "oci-unpack -:two:2: the bundle is there"
run sh -c "cat '$TD/docker-save-multi.tar' | oci-inspect --refs -:three:3"
is "$status" 2 "-:three:3, a tag the archive lacks: exit 2"
err_like 'three:3' "... and the message names the tag"
run sh -c "cat '$SAVE' | oci-inspect --refs -:1.0"
is "$status:$(cut -f1 "$TMP/out")" "0:example/app:1.0" "-:1.0: the tag part of a RepoTags entry, as for a file"

done_testing
