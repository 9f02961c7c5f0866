#!/bin/bash
# Every tool: -h/-V as --help/--version, --progress accepted; error lines
# name their subject once and say what is wrong in the user's terms (a
# bundle beside an image, swapped arguments, too many arguments, a missing
# destination).
. "$(dirname "$0")/test-lib.sh"

for t in oci-inspect oci-unpack oci-diff oci-commit oci-runtime oci-copy; do
	expect 0 "$t -h exits 0" "$t" -h
	like '^Usage: ' "$t -h prints the usage on stdout"
	h=$(out)
	run "$t" --help
	is "$(out)" "$h" "$t -h is --help"
	like '^  -h, --help ' "$t --help lists -h"
	like '^  -V, --version ' "$t --help lists -V"
	expect 0 "$t -V exits 0" "$t" -V
	is "$(out)" "$t $("$t" --version | awk '{ print $2 }')" "$t -V prints NAME VERSION"
	expect 0 "$t --progress --version: --progress accepted" "$t" --progress --version
	expect_fail "$t -Z: unknown option, one line" "$t" -Z
done

# --progress on the tools that can run long, in a pipe: accepted, no line
cp -r "$TD/multi" "$TMP/L"
expect 0 "oci-unpack --progress" oci-unpack -q --progress "$TMP/L:v1" "$TMP/b"
expect 0 "oci-inspect --verify --progress" oci-inspect -q --verify --progress "$TMP/L"
echo x >"$TMP/b/rootfs/x"
expect 0 "oci-commit --progress" oci-commit -q --progress "$TMP/b" "$TMP/L:p"
expect 0 "oci-commit --squash --progress" oci-commit -q --squash --progress "$TMP/b" "$TMP/L:sq"
expect 1 "oci-diff --progress of images" oci-diff --progress "$TMP/L:v1" "$TMP/L:v2"
run sh -c 'exec oci-unpack --progress "$1" - | cat >/dev/null' _ "$TMP/L:v1"
is "$status" 0 "oci-unpack --progress IMAGE - exits 0"
expect 0 "oci-unpack without --progress in a pipe" oci-unpack "$TMP/L:v1" "$TMP/b2"
is "$(grep -c $'\r' "$TMP/err")" 0 "no progress line on stderr when it is not a terminal"

# a job the library does not report on step by step still shows a live
# line with --progress (the label and the seconds), once it has run 0.5 s
head -c 8000000 /dev/urandom >"$TMP/b/rootfs/big.bin"
# zstd at level 19 runs for seconds on these 8 MB on any machine
expect 0 "oci-commit --progress of a big change" oci-commit --compression zstd --level 19 --progress "$TMP/b" "$TMP/L:big"
err_like $'\roci-commit: committing  [0-9]+ s' "oci-commit --progress: a live line on stderr"
expect 0 "oci-commit of a big change, no --progress, not a terminal" oci-commit --level 9 "$TMP/b" "$TMP/L:big2"
is "$(grep -c $'\r' "$TMP/err")" 0 "no live line in a pipe by default"
rm "$TMP/b/rootfs/big.bin"

# subjects named once
expect_fail "oci-diff nope: fails, one line" oci-diff "$TMP/nope"
is "$(err)" "oci-diff: $TMP/nope: No such file or directory" "oci-diff nope: the subject once"
expect_fail "oci-inspect nope: fails, one line" oci-inspect "$TMP/nope"
is "$(grep -o "$TMP/nope" "$TMP/err" | wc -l)" 1 "oci-inspect nope: the subject once"
expect_fail "oci-unpack nope: fails, one line" oci-unpack "$TMP/nope" "$TMP/b3"
is "$(grep -o "$TMP/nope" "$TMP/err" | wc -l)" 1 "oci-unpack nope: the subject once"

# a bundle compared with an image
expect_fail "oci-diff BUNDLE IMAGE: one line" oci-diff "$TMP/b" "$TMP/L:v1"
err_like 'a bundle is compared with the record of its unpack, alone' "oci-diff BUNDLE IMAGE says what a bundle is compared with"
expect_fail "oci-diff IMAGE BUNDLE: one line" oci-diff "$TMP/L:v1" "$TMP/b"
err_like "$TMP/b: a bundle" "oci-diff IMAGE BUNDLE names the bundle"
expect_fail "oci-diff: too many arguments" oci-diff a b c
err_like 'too many arguments: expected BUNDLE, DIR_A DIR_B or IMAGE_A IMAGE_B' "oci-diff: what it expected"

# oci-commit: missing destination, swapped, too many
expect_fail "oci-commit BUNDLE: one line" oci-commit "$TMP/b"
err_like "$TMP/b: missing the destination: oci-commit $TMP/b IMAGE:REF" "oci-commit BUNDLE: the destination is missing"
expect_fail "oci-commit IMAGE:REF BUNDLE: one line" oci-commit "$TMP/L:x" "$TMP/b"
err_like "the SOURCE comes first: oci-commit $TMP/b $TMP/L:x" "oci-commit swapped: says the order"
expect_fail "oci-commit: too many arguments" oci-commit "$TMP/b" "$TMP/L:x" extra
err_like 'too many arguments: expected \[SOURCE\] IMAGE:REF' "oci-commit: what it expected"
expect_fail "oci-commit: nothing at all" oci-commit
err_like 'missing the destination IMAGE:REF' "oci-commit with no argument: the destination is missing"
expect_fail "oci-unpack IMAGE: missing BUNDLE" oci-unpack "$TMP/L:v1"
expect_fail "oci-unpack BUNDLE IMAGE (swapped): one line" oci-unpack "$TMP/b" "$TMP/L:v1"
err_like "$TMP/b: a bundle, not an image; the IMAGE comes first" "oci-unpack swapped: says the order"
expect_fail "oci-unpack: too many arguments" oci-unpack "$TMP/L:v1" "$TMP/b9" extra
err_like 'too many arguments: expected IMAGE BUNDLE' "oci-unpack: what it expected"
expect_fail "oci-inspect BUNDLE: one line" oci-inspect "$TMP/b"
err_like "$TMP/b: a bundle made by oci-unpack, not an image" "oci-inspect BUNDLE: says it is a bundle"
is "$(oci-inspect --refs "$TMP/L" | cut -f1 | sort | paste -sd,)" "big,big2,p,sq,v1,v2" "nothing was committed by the refused commands"
# one parser for the compression options of every tool
expect_fail "oci-commit --compression bogus" oci-commit --compression bogus "$TMP/b" "$TMP/L:x"
err_like 'expected gzip, zstd or none' "oci-commit --compression bogus: says what it takes"
expect_fail "oci-copy --compression bogus" oci-copy --compression bogus "$TMP/L:v1" "$TMP/L2"
expect_fail "oci-diff --compress bogus" oci-diff --tar --compress bogus "$TMP/b"
expect_fail "oci-commit --level 23" oci-commit --level 23 "$TMP/b" "$TMP/L:x"
err_like 'expected 1\.\.22' "oci-commit --level 23: says the range"
expect_fail "oci-copy --level 0" oci-copy --level 0 "$TMP/L:v1" "$TMP/L2"
[ ! -e "$TMP/L2" ] && pass "a refused option writes nothing" || fail "a refused option writes nothing"
done_testing
