#!/usr/bin/env bash
# oci-inspect --verify and --repair on good images: exit 0, nothing to say,
# nothing changed; every blob read once however many images share it; usage
# errors and paths that do not exist exit 2.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/t0600-verify-lib.sh"

# ---- every good layout and archive of the test data verifies ----
for img in multi zstd docker-mt multiarch multi.tar multi.tar.gz multi.tar.zst multiarch.tar \
	docker-save.tar docker-save-multi.tar docker-save-oci.tar; do
	expect 0 "--verify $img: exit 0" oci-inspect --verify "$TD/$img"
	is "$(out)" "" "--verify $img: no problem and no note"
	err_like '^oci-inspect: 0 problems, 0 notes; [0-9]+ blobs, [0-9]+ bytes checked$' \
		"--verify $img: the summary on stderr"
done

# -q silences the summary, not the result
expect 0 "--verify -q multi: exit 0" oci-inspect --verify -q "$TD/multi"
is "$(out)$(err)" "" "--verify -q multi: nothing on stdout or stderr"

# a ref in the name: the whole layout is still checked
expect 0 "--verify multi:v1: exit 0" oci-inspect --verify "$TD/multi:v1"

# ---- a blob shared by several images is read once ----
# multi: layer 1 is shared by v1 and v2; the sum of all blob sizes is read
sum_sizes() { find "$1/blobs" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }'; }
expect 0 "--verify --json multi: exit 0" oci-inspect --verify --json "$TD/multi"
is "$(jq -r .blobs "$TMP/out")" "$(blob_count "$TD/multi")" "--verify --json multi: every blob counted once"
is "$(jq -r .bytes "$TMP/out")" "$(sum_sizes "$TD/multi")" "--verify --json multi: each blob's bytes read once"

mk_three "$TMP/three" ''
expect 0 "--verify three (a layer shared by three refs): exit 0" oci-inspect --verify "$TMP/three"
is "$(out)" "" "--verify three: no problem, no note"
expect 0 "--verify --json three: exit 0" oci-inspect --verify --json "$TMP/three"
is "$(jq -r .blobs "$TMP/out")" "$(blob_count "$TMP/three")" "--verify --json three: 10 blobs, each once"
is "$(jq -r .bytes "$TMP/out")" "$(sum_sizes "$TMP/three")" "--verify --json three: the shared layer read once"
is "$(jq -c '[.problems, .notes]' "$TMP/out")" "[[],[]]" "--verify --json three: empty problems and notes"

# ---- --repair on a good layout: nothing to fix, nothing changed ----
fresh good "$TD/multi"
before=$(refs_of "$TMP/good")
sum=$(cd "$TMP/good" && sha256sum index.json oci-layout blobs/sha256/* | sha256sum)
expect 0 "--repair multi (good): exit 0" oci-inspect --repair "$TMP/good"
is "$(fixes)" "" "--repair multi (good): no fix"
no_problems "--repair multi (good): no problem left"
is "$(cd "$TMP/good" && sha256sum index.json oci-layout blobs/sha256/* | sha256sum)" "$sum" \
	"--repair multi (good): index.json, oci-layout and blobs unchanged"
is "$(refs_of "$TMP/good")" "$before" "--repair multi (good): refs unchanged"
fresh good2 "$TD/multi"
tree_list "$TMP/good2" >"$TMP/good2.list"
expect 0 "--repair --dry-run multi (good): exit 0" oci-inspect --repair --dry-run "$TMP/good2"
is "$(out)" "" "--repair --dry-run multi (good): nothing would be fixed"
same_tree "$TMP/good2" "$TMP/good2.list" "--repair --dry-run multi (good): the tree is unchanged"

# ---- could not run: exit 2, one line on stderr ----
expect_fail "--verify of a path that does not exist: exit 2" oci-inspect --verify "$TMP/nonexistent"
is "$(out)" "" "--verify of a path that does not exist: nothing on stdout"
expect_fail "--verify of a missing archive with a ref: exit 2" oci-inspect --verify "$TMP/nope.tar:v1"
expect_fail "--repair of a path that does not exist: exit 2" oci-inspect --repair "$TMP/nonexistent"
expect_fail "--repair -o of a path that does not exist: exit 2" \
	oci-inspect --repair -o "$TMP/out-nonexistent" "$TMP/nonexistent"
[ ! -e "$TMP/out-nonexistent" ]
ok $? "--repair -o of a path that does not exist: no output directory left"
printf 'not a tar\n' >"$TMP/junk.tar"
expect_fail "--verify of a file that is no archive: exit 2" oci-inspect --verify "$TMP/junk.tar"
expect_fail "--dry-run without --repair: exit 2" oci-inspect --verify --dry-run "$TD/multi"
expect_fail "--gc without --repair: exit 2" oci-inspect --gc "$TD/multi"
expect_fail "--verify with --repair: exit 2" oci-inspect --verify --repair "$TD/multi"
expect_fail "--verify with --files: exit 2" oci-inspect --verify --files "$TD/multi"
fresh good3 "$TD/multi"
expect_fail "--repair -o of a layout directory: exit 2" oci-inspect --repair -o "$TMP/copy" "$TMP/good3"
[ ! -e "$TMP/copy" ]
ok $? "--repair -o of a layout directory: no copy made"
expect_fail "--verify with no image: exit 2" oci-inspect --verify

done_testing
