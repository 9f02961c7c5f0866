#!/usr/bin/env bash
# zstd skippable frames (magic 0x184D2A5?): decoded in a loop, not one
# recursion per frame (100,000 of them crashed the decoder), and accepted by
# the detection by magic, so that pzstd's output (a skippable frame first)
# is zstd: a pzstd layer verifies clean and --repair leaves its media type
# alone, and a pzstd-compressed oci-archive reads.
. "$(dirname "$0")/test-lib.sh"

LIB="$OCI_SOURCE_DIR/tests/e2e/lib-layers.py"
command -v pzstd >/dev/null || { echo "1..0 # SKIP pzstd (Debian package zstd) is not installed"; exit 0; }

run oci-inspect --refs "$TD/multi"
cp "$TMP/out" "$TMP/refs-dir"
same_as() { if cmp -s "$TMP/out" "$1"; then pass "$2"; else fail "$2" "stdout differs from $1"; fi; }

# ---- an oci-archive with 100,000 skippable frames before its zstd frames ----
python3 - "$TD/multi.tar.zst" "$TMP/skip.tar.zst" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "wb") as f:
    for i in range(100000):
        f.write(struct.pack("<II", 0x184D2A50 + i % 16, 0))
    f.write(data)
PY
expect 0 "--refs of a .tar.zst with 100,000 skippable frames first exits 0" timeout 20 oci-inspect --refs "$TMP/skip.tar.zst"
same_as "$TMP/refs-dir" "and equals the directory's"

# ---- a pzstd-compressed oci-archive ----
pzstd -q -p 2 -c - <"$TD/multi.tar" >"$TMP/multi.tar.pzst"
head -c 4 "$TMP/multi.tar.pzst" | od -An -tx1 | grep -q '50 2a 4d 18'
ok $? "pzstd's output opens with a skippable frame"
expect 0 "--refs of a pzstd-compressed archive exits 0" oci-inspect --refs "$TMP/multi.tar.pzst"
same_as "$TMP/refs-dir" "and equals the directory's"

# ---- layers made by pzstd, and by a compressor that puts 100,000 skippable
# frames first (lib-layers runs the "zstd" it finds first on PATH) ----
mkdir -p "$TMP/bin-pzstd" "$TMP/bin-skip"
printf '#!/bin/sh\nexec pzstd -q -p 2 -c -\n' >"$TMP/bin-pzstd/zstd"
cat >"$TMP/bin-skip/zstd" <<EOF2
#!/bin/sh
python3 -c 'import struct, sys; sys.stdout.buffer.write(b"".join(struct.pack("<II", 0x184D2A5A, 0) for _ in range(100000)))'
exec $(command -v zstd) -q -3 -T1 -c -
EOF2
chmod +x "$TMP/bin-pzstd/zstd" "$TMP/bin-skip/zstd"
spec='{"ref": "t", "comp": "zstd", "layers": [["etc/", "etc/hostname=box", "usr/", "usr/bin/", "usr/bin/tool=#!/bin/sh"]]}'
echo "$spec" | PATH="$TMP/bin-pzstd:$PATH" python3 "$LIB" build "$TMP/pz" - >/dev/null
echo "$spec" | PATH="$TMP/bin-skip:$PATH" python3 "$LIB" build "$TMP/sk" - >/dev/null
layer_of() { jq -r '.layers[0].digest' "$1/blobs/sha256/$(jq -r '.manifests[0].digest' "$1/index.json" | cut -d: -f2)" | cut -d: -f2; }
head -c 4 "$TMP/pz/blobs/sha256/$(layer_of "$TMP/pz")" | od -An -tx1 | grep -q '50 2a 4d 18'
ok $? "the pzstd layer opens with a skippable frame"

for img in pz sk; do
	expect 0 "$img: --verify finds nothing wrong" timeout 20 oci-inspect --verify "$TMP/$img"
	cp -a "$TMP/$img" "$TMP/$img-r"
	expect 0 "$img: --repair exits 0" timeout 20 oci-inspect --repair "$TMP/$img-r"
	is "$(cat "$TMP/out")" "" "$img: --repair fixes nothing"
	if diff -r -x .index.lock "$TMP/$img" "$TMP/$img-r" >/dev/null; then
		pass "$img: --repair leaves the layout as it was (the zstd media type too)"
	else
		fail "$img: --repair leaves the layout as it was (the zstd media type too)"
	fi
	expect 0 "$img: unpack exits 0" timeout 20 oci-unpack --rootfs "$TMP/$img:t" "$TMP/root-$img"
	is "$(cat "$TMP/root-$img/etc/hostname")" box "$img: the layer's content is there"
done

done_testing
