#!/usr/bin/env bash
# Layers of independent pieces, inflated in parallel within the layer: our
# own gzip (members with the "OT" size hint), BGZF-like members ("BC"),
# members with no hint, zstd frames one after the other and pzstd's
# (skippable frames first), beside one gzip member: each image verifies,
# and unpacks to the tree GNU tar extracts from the same tar. A corrupt
# piece in the middle, a cut one: exit 2, one line, the stream's own
# error. Our gzip with the hint reads in gzip, zcat, umoci and skopeo.
# pigz --independent's one member of independent deflate blocks (each
# ended by a full flush) too.
. "$(dirname "$0")/test-lib.sh"
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
cd "$TMP" || exit 1

# a tree of ~9 MB: text-like files of many sizes, a few large ones
python3 - "$TMP/src" <<'EOF'
import os, random, sys
root = sys.argv[1]
r = random.Random(960)
words = [b"usr", b"lib", b"share", b"doc", b"debian", b"x86_64", b"linux", b"gnu", b"\n", b" ", b"/"]
def text(n):
    out = bytearray()
    while len(out) < n:
        out += r.choice(words)
        if r.random() < 0.05:
            out += bytes([r.randrange(256)])
    return bytes(out[:n])
for d in range(12):
    p = os.path.join(root, "d%02d" % d, "sub")
    os.makedirs(p)
    for f in range(40):
        n = r.choice([0, 1, 100, 511, 512, 513, 4096, 20000, 70000])
        with open(os.path.join(p, "f%03d" % f), "wb") as fh:
            fh.write(text(n))
for i, n in enumerate([1 << 20, 3 << 20, 2500000]):
    with open(os.path.join(root, "big%d" % i), "wb") as fh:
        fh.write(text(n))
os.symlink("big0", os.path.join(root, "link"))
EOF
tar --format=posix --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
	--pax-option=delete=atime,delete=ctime -C "$TMP/src" -cf "$TMP/layer.tar" . || {
	echo "Bail out! tar failed"
	exit 1
}
mkdir "$TMP/gnu" && tar -C "$TMP/gnu" -xf "$TMP/layer.tar" --same-owner
python3 "$LIB" tree "$TMP/gnu" >"$TMP/gnu.tree"

# make-image NAME MEDIA-SUFFIX BLOB: an OCI layout NAME:t with that one layer
mkimage() {
	python3 - "$TMP/$1" "$2" "$3" "$TMP/layer.tar" <<'EOF'
import hashlib, json, os, sys
out, suffix, blob, tar = sys.argv[1:5]
def put(data):
    d = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(out, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)
layer = open(blob, "rb").read()
diff = "sha256:" + hashlib.sha256(open(tar, "rb").read()).hexdigest()
ld, ls = put(layer)
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                  "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()
cd, cs = put(cfg)
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
                  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar" + suffix,
                              "digest": ld, "size": ls}]}).encode()
md, ms = put(man)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
           "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "t"}}]},
          open(os.path.join(out, "index.json"), "w"))
open(os.path.join(out, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
EOF
}

# the shapes, each from layer.tar
python3 - "$TMP" <<'EOF'
import struct, sys, zlib
t = sys.argv[1]
tar = open(t + "/layer.tar", "rb").read()
def member(data, extra=b""):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = c.compress(data) + c.flush()
    flg = 4 if extra else 0
    hdr = b"\x1f\x8b\x08" + bytes([flg]) + b"\0\0\0\0\0\x03"
    if extra:
        hdr += struct.pack("<H", len(extra)) + extra
    return hdr + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xffffffff)
def bgzf(data):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = c.compress(data) + c.flush()
    bsize = 10 + 2 + 6 + len(body) + 8 - 1
    return (b"\x1f\x8b\x08\x04\0\0\0\0\0\xff" + struct.pack("<H", 6) + b"BC" +
            struct.pack("<HH", 2, bsize) + body + struct.pack("<II", zlib.crc32(data), len(data)))
pieces = lambda n: [tar[i:i + n] for i in range(0, len(tar), n)]
# BGZF: blocks of 64 KiB - 256 at most, and its empty block at the end
open(t + "/bgzf.gz", "wb").write(b"".join(bgzf(p) for p in pieces(65280)) + bgzf(b""))
# members with no hint, with an empty member between
ms = [member(p) for p in pieces(1 << 20)]
ms.insert(3, member(b""))
open(t + "/nohint.gz", "wb").write(b"".join(ms))
open(t + "/one.gz", "wb").write(member(tar))
# pigz -i's shape where pigz is missing: one member, blocks of 128 KiB,
# each compressed on its own and ended by a full flush, the last by the end
blocks = pieces(128 << 10)
body = b""
for i, p in enumerate(blocks):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    body += c.compress(p) + c.flush(zlib.Z_FINISH if i == len(blocks) - 1 else zlib.Z_FULL_FLUSH)
open(t + "/pigzi-py.gz", "wb").write(b"\x1f\x8b\x08\0\0\0\0\0\0\x03" + body +
                                     struct.pack("<II", zlib.crc32(tar), len(tar) & 0xffffffff))
EOF
if command -v pigz >/dev/null; then
	pigz -i -6 -c "$TMP/layer.tar" >"$TMP/pigzi.gz"
else
	cp "$TMP/pigzi-py.gz" "$TMP/pigzi.gz"
fi
split -b 700000 -d "$TMP/layer.tar" "$TMP/part."
for p in "$TMP"/part.*; do zstd -q -3 -c "$p"; done >"$TMP/frames.zst"
pzstd -q -p 2 -c "$TMP/layer.tar" >"$TMP/pzstd.zst" 2>/dev/null || zstd -q -c "$TMP/layer.tar" >"$TMP/pzstd.zst"
mkimage none "" "$TMP/layer.tar"
oci-copy -q --compression gzip "$TMP/none:t" "$TMP/ours:t" || echo "Bail out! oci-copy failed"
ours=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/index.json"))["manifests"][0]["digest"].split(":")[1]; print(json.load(open(sys.argv[1]+"/blobs/sha256/"+m))["layers"][0]["digest"].split(":")[1])' "$TMP/ours")
cp "$TMP/ours/blobs/sha256/$ours" "$TMP/ours.gz"
mkimage bgzf +gzip "$TMP/bgzf.gz"
mkimage nohint +gzip "$TMP/nohint.gz"
mkimage one +gzip "$TMP/one.gz"
mkimage pigzi +gzip "$TMP/pigzi.gz"
mkimage frames +zstd "$TMP/frames.zst"
mkimage pzstd +zstd "$TMP/pzstd.zst"

# our members carry the hint, and are several
if head -c 16 "$TMP/ours.gz" | od -An -tx1 | tr -d ' \n' | grep -q '^1f8b0804000000000.ff08004f540400'; then
	pass "our gzip: each member's header has FEXTRA with the OT subfield"
else
	fail "our gzip: each member's header has FEXTRA with the OT subfield" "$(head -c 16 "$TMP/ours.gz" | od -An -tx1)"
fi
n=$(python3 -c 'import sys; b=open(sys.argv[1],"rb").read(); print(b.count(b"\x1f\x8b\x08\x04\0\0\0\0"))' "$TMP/ours.gz")
[ "$n" -ge 8 ] && pass "our gzip: $n members" || fail "our gzip: several members" "$n"

# pigz -i: one member, its blocks ended by full flushes (00 00 ff ff)
n=$(python3 -c 'import sys; b=open(sys.argv[1],"rb").read(); print(b.count(b"\x1f\x8b\x08"), b.count(b"\0\0\xff\xff"))' "$TMP/pigzi.gz")
case $n in "1 "*) [ "${n#1 }" -ge 30 ] && ok=1 || ok= ;; *) ok= ;; esac
[ -n "$ok" ] && pass "pigz -i: one member, full flushes (members, marks: $n)" ||
	fail "pigz -i: one member, full flushes" "$n"

for s in ours bgzf nohint one pigzi frames pzstd; do
	expect 0 "$s: oci-inspect --verify" oci-inspect -q --verify "$TMP/$s"
	expect 0 "$s: oci-unpack" oci-unpack --rootfs "$TMP/$s:t" "$TMP/u-$s"
	python3 "$LIB" tree "$TMP/u-$s" >"$TMP/$s.tree"
	if cmp -s "$TMP/gnu.tree" "$TMP/$s.tree"; then
		pass "$s: the tree is GNU tar's"
	else
		fail "$s: the tree is GNU tar's" "$(diff "$TMP/gnu.tree" "$TMP/$s.tree" | head -5)"
	fi
done

# damaged: a corrupt piece in the middle, a cut stream
python3 - "$TMP" <<'EOF'
import sys
t = sys.argv[1]
for name in ("ours.gz", "bgzf.gz", "nohint.gz", "pigzi.gz", "frames.zst"):
    b = bytearray(open(t + "/" + name, "rb").read())
    mid = len(b) // 2
    for i in range(mid, mid + 64):
        b[i] ^= 0x5a
    open(t + "/bad-" + name, "wb").write(b)
    whole = open(t + "/" + name, "rb").read()
    open(t + "/cut-" + name, "wb").write(whole[:len(whole) * 2 // 3])
EOF
for f in ours.gz bgzf.gz nohint.gz pigzi.gz frames.zst; do
	suffix=+gzip
	case $f in *.zst) suffix=+zstd ;; esac
	for k in bad cut; do
		mkimage "$k-$f.img" "$suffix" "$TMP/$k-$f"
		expect_fail "$k-$f: oci-unpack fails, one line" oci-unpack --rootfs "$TMP/$k-$f.img:t" "$TMP/u-$k-$f"
		case $k in
		bad) err_like '(gzip|zstd): |digest mismatch' "$k-$f: the decoder's error" ;;
		cut) err_like 'truncated|digest mismatch|size' "$k-$f: truncated" ;;
		esac
		[ ! -e "$TMP/u-$k-$f" ] && pass "$k-$f: no partial rootfs" || fail "$k-$f: no partial rootfs"
		run oci-inspect -q --verify "$TMP/$k-$f.img"
		[ "$status" -ne 0 ] && pass "$k-$f: --verify reports it" || fail "$k-$f: --verify reports it"
	done
done

# the size hint is an unknown FEXTRA subfield to everyone else
expect 0 "gzip -t reads our gzip" gzip -t "$TMP/ours.gz"
if zcat "$TMP/ours.gz" | cmp -s - "$TMP/layer.tar"; then
	pass "zcat reads our gzip to the tar"
else
	fail "zcat reads our gzip to the tar"
fi
if command -v igzip >/dev/null; then
	igzip -dc "$TMP/ours.gz" | cmp -s - "$TMP/layer.tar" && pass "igzip reads our gzip to the tar" ||
		fail "igzip reads our gzip to the tar"
fi
if command -v umoci >/dev/null && [ "$(id -u)" -eq 0 ]; then
	if umoci unpack --image "$TMP/ours:t" "$TMP/umoci" >/dev/null 2>"$TMP/umoci.err"; then
		python3 "$LIB" tree "$TMP/umoci/rootfs" >"$TMP/umoci.tree"
		cmp -s "$TMP/gnu.tree" "$TMP/umoci.tree" && pass "umoci unpacks our gzip to GNU tar's tree" ||
			fail "umoci unpacks our gzip to GNU tar's tree" "$(diff "$TMP/gnu.tree" "$TMP/umoci.tree" | head -5)"
	else
		fail "umoci unpacks our gzip" "$(head -c 300 "$TMP/umoci.err")"
	fi
else
	echo "ok $((_n += 1)) - umoci reads our gzip # SKIP needs umoci and root"
fi
if command -v skopeo >/dev/null; then
	if skopeo copy -q --dest-decompress "oci:$TMP/ours:t" "dir:$TMP/skopeo" >/dev/null 2>"$TMP/skopeo.err"; then
		want=$(sha256sum <"$TMP/layer.tar" | cut -d' ' -f1)
		[ -f "$TMP/skopeo/$want" ] && pass "skopeo inflates our gzip to the tar's diff_id" ||
			fail "skopeo inflates our gzip to the tar's diff_id" "$(ls "$TMP/skopeo")"
	else
		fail "skopeo reads our gzip" "$(head -c 300 "$TMP/skopeo.err")"
	fi
else
	echo "ok $((_n += 1)) - skopeo reads our gzip # SKIP needs skopeo"
fi
done_testing
