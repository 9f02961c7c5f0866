#!/usr/bin/env bash
# Directories 2,000 and 10,000 deep: every tree walk (the snapshot of a
# rootfs, removal of a tree, the parents a new layer must carry) keeps its
# stack on the heap, so none overflows the C stack (they crashed at 2,000),
# and ancestor lookups cost a path's length, not its length times its depth.
# 2,000 deep (a 4,000-byte path) goes through unpack, whiteout removal,
# diff, commit and verify; 10,000 deep (20,000 bytes, beyond what the
# kernel resolves in one call) is diffed, and refused cleanly by unpack and
# commit, never a crash.
. "$(dirname "$0")/test-lib.sh"

python3 - "$TMP" <<'PY' || { echo "Bail out! cannot make the images"; exit 1; }
import hashlib, io, json, os, sys, tarfile, zlib
t = sys.argv[1]

def image(out, tars):
    os.makedirs(out + "/blobs/sha256")
    def blob(b):
        d = hashlib.sha256(b).hexdigest()
        open(out + "/blobs/sha256/" + d, "wb").write(b)
        return "sha256:" + d, len(b)
    layers = []
    for tar in tars:
        z = zlib.compressobj(1, zlib.DEFLATED, 31)
        d, n = blob(z.compress(tar) + z.flush())
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": n})
    cd, cs = blob(json.dumps({"architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(x).hexdigest() for x in tars]}}).encode())
    md, ms = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
        "layers": layers}).encode())
    open(out + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
    open(out + "/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
         "annotations": {"org.opencontainers.image.ref.name": "t"}}]}))

def tar(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if data is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(ti)
            else:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    return b.getvalue()

def chain(n):
    p, out = "", []
    for _ in range(n):
        p = p + ("/" if p else "") + "a"
        out.append((p, None))
    return out + [(p + "/f", b"bottom\n")]

d2k = tar(chain(2000))
image(t + "/d2k", [d2k])
image(t + "/wh", [d2k, tar([(".wh.a", b"")])])
image(t + "/opq", [d2k, tar([("a", None), ("a/.wh..wh..opq", b""), ("a/kept", b"k\n")])])
image(t + "/spare", [d2k, tar([("/".join(["a"] * 1000) + "/x", b"x\n"), (".wh.a", b"")])])
image(t + "/d10k", [tar(chain(10000))])
image(t + "/empty", [tar([("etc", None)])])
PY
pass "made the images"

deep() { # DIR N: the chain a/a/... N deep is there with its file at the bottom
	python3 - "$1" "$2" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for _ in range(int(sys.argv[2])):
    n = os.open("a", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
    os.close(fd)
    fd = n
sys.exit(0 if open(os.open("f", os.O_RDONLY, dir_fd=fd)).read() == "bottom\n" else 1)
PY
}
one_line() { # NAME: exit 2, one line on stderr, not a crash
	if [ "$status" -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ]; then pass "$1"; else fail "$1" "exit $status: $(head -c 300 "$TMP/err")"; fi
}

# ---- 2,000 deep ----
expect 0 "unpack 2,000 deep" timeout 60 oci-unpack -q "$TMP/d2k:t" "$TMP/b"
deep "$TMP/b/rootfs" 2000
ok $? "the tree and its bottom file are there"
expect 0 "diff of the unchanged bundle: no change" timeout 60 oci-diff "$TMP/b"
echo new >"$TMP/b/rootfs/new"
expect 1 "diff after a change: differences" timeout 60 oci-diff "$TMP/b"
is "$(grep -v '^C /$' "$TMP/out")" "A /new" "the one change (and the root's times), not the deep tree"
expect 0 "commit of the bundle" timeout 60 oci-commit -q "$TMP/b" "$TMP/d2k:t2"
expect 0 "verify of the committed image" timeout 60 oci-inspect --verify "$TMP/d2k"
expect 0 "unpack of the committed image" timeout 60 oci-unpack -q --rootfs "$TMP/d2k:t2" "$TMP/r2"
deep "$TMP/r2" 2000
ok $? "it has the tree"
is "$(cat "$TMP/r2/new")" new "and the new file"

mkdir "$TMP/e"
expect 1 "diff of two directories, one 2,000 deep" timeout 60 oci-diff "$TMP/e" "$TMP/r2"
is "$(wc -l <"$TMP/out")" 2003 "every path of the tree is added"
expect 0 "commit of a 2,000-deep directory as a scratch image" timeout 60 oci-commit -q "$TMP/r2" "$TMP/empty:s"
expect 0 "verify of it" timeout 60 oci-inspect --verify "$TMP/empty"

expect 0 "a whiteout removes the 2,000-deep tree" timeout 60 oci-unpack -q --rootfs "$TMP/wh:t" "$TMP/rw"
is "$(ls -A "$TMP/rw")" "" "nothing is left of it"
expect 0 "an opaque directory empties it" timeout 60 oci-unpack -q --rootfs "$TMP/opq:t" "$TMP/ro"
is "$(ls -A "$TMP/ro/a")" "kept" "only the upper layer's file is left"
expect 0 "a whiteout of the tree spares what its own layer wrote 1,000 deep" timeout 60 oci-unpack -q --rootfs "$TMP/spare:t" "$TMP/rs"
python3 - "$TMP/rs" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for _ in range(1000):
    n = os.open("a", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
    os.close(fd)
    fd = n
sys.exit(0 if sorted(os.listdir(fd)) == ["x"] else 1)
PY
ok $? "the file and its 1,000 parents are kept, the lower layer's tree below them removed"
rm -rf "$TMP/b" "$TMP/r2" "$TMP/rw" "$TMP/ro" "$TMP/rs"

# ---- 10,000 deep ----
expect 0 "verify of an image 10,000 deep" timeout 60 oci-inspect --verify "$TMP/d10k"
run timeout 120 oci-unpack -q "$TMP/d10k:t" "$TMP/b10"
one_line "unpack 10,000 deep: refused in one line (the path is too long to open)"
err_like "File name too long" "naming ENAMETOOLONG"
[ ! -e "$TMP/b10" ]
ok $? "and nothing is left behind"

# the same tree made on disk, under a bundle of an empty image
oci-unpack -q "$TMP/empty:t" "$TMP/b"
python3 - "$TMP/b/rootfs" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for _ in range(10000):
    os.mkdir("a", dir_fd=fd)
    n = os.open("a", os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = n
PY
expect 1 "diff of a bundle with a tree 10,000 deep" timeout 120 oci-diff "$TMP/b"
is "$(wc -l <"$TMP/out")" 10001 "every directory is added (and the root changed)"
cp -a "$TMP/empty" "$TMP/empty-before"
run timeout 120 oci-commit -q "$TMP/b" "$TMP/empty:deep"
if [ "$status" -eq 0 ]; then
	expect 0 "commit 10,000 deep: the image verifies" timeout 120 oci-inspect --verify "$TMP/empty"
else
	one_line "commit 10,000 deep: refused in one line"
	if diff -r -x .index.lock "$TMP/empty-before" "$TMP/empty" >/dev/null; then pass "and the layout is unchanged"; else fail "and the layout is unchanged"; fi
fi

done_testing
