#!/usr/bin/env bash
# An oci-archive (plain tar, gzip or zstd) that lost its index.json is still
# an oci-archive when it holds oci-layout and blobs/: --verify reports the
# missing index (exit 1, not 2), and --repair -o rebuilds it from the
# manifests in blobs/, as it does for a directory.
. "$(dirname "$0")/test-lib.sh"

cp -r "$TD/multi" "$TMP/L"
refs=$(oci-inspect --refs "$TD/multi" | cut -f2 | sort | tr '\n' ' ')
(cd "$TMP/L" && tar cf "$TMP/noidx.tar" oci-layout blobs) || { echo "Bail out! tar failed"; exit 1; }
gzip -c "$TMP/noidx.tar" >"$TMP/noidx.tar.gz"
zstd -q -c "$TMP/noidx.tar" >"$TMP/noidx.tar.zst"

for a in noidx.tar noidx.tar.gz noidx.tar.zst; do
	sha256sum <"$TMP/$a" >"$TMP/$a.sum"
	run oci-inspect --verify "$TMP/$a"
	is "$status" 1 "$a: --verify exits 1 (a problem found), not 2"
	like '^index ' "$a: --verify reports the missing index"
	like '^index - - index.json: missing from the archive$' "$a: the problem names index.json once, and why"
	run oci-inspect --repair -o "$TMP/out-$a" "$TMP/$a"
	is "$status" 0 "$a: --repair -o exits 0"
	like 'rebuilt index.json with 2 images' "$a: --repair says it rebuilt index.json"
	expect 0 "$a: the repaired copy verifies" oci-inspect --verify "$TMP/out-$a"
	is "$(oci-inspect --refs "$TMP/out-$a" | cut -f2 | sort | tr '\n' ' ')" "$refs" \
		"$a: the rebuilt index names the manifests the lost one did"
	is "$(sha256sum <"$TMP/$a")" "$(cat "$TMP/$a.sum")" "$a: the archive itself is not rewritten"
done
run sh -c "cat '$TMP/noidx.tar' | oci-inspect --verify -"
is "$status" 1 "on stdin: --verify exits 1"

# what is not an oci-archive stays refused, with exit 2
(cd "$TMP/L" && tar cf "$TMP/onlyblobs.tar" blobs)
expect_fail "blobs/ without oci-layout: not an archive we know, exit 2" oci-inspect --verify "$TMP/onlyblobs.tar"
err_like 'neither an oci-archive' "... and the message says what it is not"
(cd "$TMP/L" && tar cf "$TMP/onlylayout.tar" oci-layout)
expect_fail "oci-layout without blobs/: exit 2" oci-inspect --verify "$TMP/onlylayout.tar"
expect_fail "a tool that needs an image: exit 2, one line" oci-inspect "$TMP/noidx.tar"
err_like 'index.json: missing from the archive' "... naming index.json and what is wrong with it"
grep -q 'index.json:.*index.json' "$TMP/err" && fail "... naming index.json once" "$(err)" || pass "... naming index.json once"
rm "$TMP/L/index.json"
expect_fail "a layout directory without index.json: exit 2, one line" oci-inspect "$TMP/L"
err_like 'index.json: No such file or directory$' "... naming index.json once, with the real errno"

done_testing
