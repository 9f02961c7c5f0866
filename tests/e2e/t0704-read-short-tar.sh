#!/usr/bin/env bash
# A layer tar that ends right after its last entry's data, without the
# padding to a block or the end-of-archive blocks (umoci insert
# wrote them until 2024, umoci#436): read whole, as Go's archive/tar and bsdtar
# read it, by --verify, unpack (to disk and to a stream) and --files. Data
# cut short by even one byte is still an error.
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 30 | sed 's/^/#   /'; return 0; }
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py

# "hi!" is 3 bytes: 509 of padding follow it
spec() { # CUT [COMP]
	printf '{"ref":"t","layers":[["a/","a/first=1"],{"entries":["b/","b/last=hi!"],"no_end":true,"cut":%d,"comp":"%s"}]}' "$1" "${2:-gzip}"
}
spec 509 >"$TMP/nopad.json"
spec 509 none >"$TMP/nopad-raw.json"
spec 509 zstd >"$TMP/nopad-zst.json"
spec 300 >"$TMP/partpad.json"
spec 510 >"$TMP/cut1.json"
spec 511 >"$TMP/cut2.json"
printf '{"ref":"t","layers":[{"entries":["d/",".wh.x"],"no_end":true}]}' >"$TMP/noend.json"
python3 "$LIB" build "$TMP/nopad" "$TMP/nopad.json" "$TMP/nopad-raw" "$TMP/nopad-raw.json" \
	"$TMP/nopad-zst" "$TMP/nopad-zst.json" "$TMP/partpad" "$TMP/partpad.json" \
	"$TMP/cut1" "$TMP/cut1.json" "$TMP/cut2" "$TMP/cut2.json" "$TMP/noend" "$TMP/noend.json" >/dev/null ||
	fail "build images"

for img in nopad nopad-raw nopad-zst partpad; do
	expect 0 "$img: --verify exits 0" oci-inspect --verify "$TMP/$img"
	is "$(out)" "" "$img: --verify has nothing to say"
	expect 0 "$img: unpack" oci-unpack --rootfs "$TMP/$img:t" "$TMP/u-$img"
	is "$(cat "$TMP/u-$img/b/last" 2>&1)" "hi!" "$img: the last entry's data whole"
	is "$(cat "$TMP/u-$img/a/first" 2>&1)" "1" "$img: the lower layer too"
	run sh -c 'oci-unpack "$1" - | tar -xOf - b/last' sh "$TMP/$img:t"
	is "$(out)" "hi!" "$img: unpack to a stream: the last entry's data whole"
	expect 0 "$img: --files" oci-inspect --files "$TMP/$img:t"
	like '/b/last$' "$img: --files lists the last entry"
done
expect 0 "no end-of-archive blocks after a whole block: --verify exits 0" oci-inspect --verify "$TMP/noend"

for img in cut1 cut2; do
	expect 1 "$img: data cut short: --verify exits 1" oci-inspect --verify "$TMP/$img"
	like '^tar sha256:[0-9a-f]{64} t .*[Tt]runcated' "$img: --verify names a truncated tar"
	expect_fail "$img: data cut short: unpack fails" oci-unpack --rootfs "$TMP/$img:t" "$TMP/u-$img"
	[ ! -e "$TMP/u-$img" ]
	ok $? "$img: no rootfs left"
	run sh -c 'oci-unpack "$1" - >/dev/null' sh "$TMP/$img:t"
	is "$status" 2 "$img: unpack to a stream fails"
done

done_testing
