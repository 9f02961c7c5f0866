#!/usr/bin/env bash
# One path repeated: a later entry of the same name replaces the earlier one
# in every table (directory metadata kept for the end of a layer, archive
# member tables), so memory does not grow with the number of repeats:
# 300,000 repeats of one directory, and an oci-archive naming one member
# 300,000 times, peak RSS within 8 MB of a one-entry input.
. "$(dirname "$0")/test-lib.sh"

python3 - "$TMP" <<'PY' || { echo "Bail out! cannot make the inputs"; exit 1; }
import hashlib, io, json, os, sys, tarfile, zlib

def hdr(name, typ, size=0, mode=0o755):
    ti = tarfile.TarInfo(name)
    ti.type, ti.size, ti.mode, ti.mtime = typ, size, mode, 1700000000
    return ti.tobuf(format=tarfile.USTAR_FORMAT)

def image(out, tar):
    os.makedirs(out + "/blobs/sha256")
    def blob(b):
        d = hashlib.sha256(b).hexdigest()
        open(out + "/blobs/sha256/" + d, "wb").write(b)
        return "sha256:" + d, len(b)
    z = zlib.compressobj(1, zlib.DEFLATED, 31)
    ld, ls = blob(z.compress(tar) + z.flush())
    cd, cs = blob(json.dumps({"architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]}}).encode())
    md, ms = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": ls}]}).encode())
    open(out + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
    open(out + "/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
         "annotations": {"org.opencontainers.image.ref.name": "t"}}]}))

t = sys.argv[1]
d = hdr("d", tarfile.DIRTYPE)
image(t + "/one", d + b"\0" * 1024)
image(t + "/rep", d * 300000 + b"\0" * 1024)

def archive(path, n):
    """the layout as an oci-archive, then n members all named x"""
    with tarfile.open(t + "/one.tar", "w", format=tarfile.USTAR_FORMAT) as tf:
        for f in ("oci-layout", "blobs", "index.json"):
            tf.add(t + "/one/" + f, f)
    layout = open(t + "/one.tar", "rb").read().rstrip(b"\0")  # its last member is JSON
    with open(path, "wb") as f:
        f.write(layout + b"\0" * (-len(layout) % 512))
        f.write(hdr("x", tarfile.REGTYPE, 0, 0o644) * n)
        f.write(b"\0" * 1024)
archive(t + "/one-a.tar", 1)
archive(t + "/rep-a.tar", 300000)
PY
pass "made the inputs"

asan=false
ldd "$(command -v oci-unpack)" 2>/dev/null | grep -q libasan && asan=true
peak() { # peak RSS in KB of a command, which must exit 0
	/usr/bin/time -f %M -o "$TMP/rss" "$@" >/dev/null 2>"$TMP/err" || { echo "fail: $(cat "$TMP/err")"; return; }
	cat "$TMP/rss"
}
bounded() { # NAME SMALL BIG
	case "$2$3" in *fail*) fail "$1" "$2 $3"; return ;; esac
	if $asan; then
		pass "$1 # ASan's quarantine keeps freed memory: not measured ($2 KB, $3 KB)"
	elif [ "$3" -le $(($2 + 8192)) ]; then
		pass "$1 ($2 KB, $3 KB)"
	else
		fail "$1" "peak RSS $3 KB with the repeats, $2 KB without"
	fi
}

a=$(peak oci-unpack -q "$TMP/one:t" "$TMP/b1")
b=$(peak timeout 60 oci-unpack -q "$TMP/rep:t" "$TMP/b2")
bounded "unpack: 300,000 repeats of a directory stay within 8 MB" "$a" "$b"
is "$(find "$TMP/b2/rootfs" -mindepth 1 | paste -sd,)" "$TMP/b2/rootfs/d" "and the rootfs has the one directory"

a=$(peak oci-inspect --refs "$TMP/one-a.tar")
b=$(peak timeout 60 oci-inspect --refs "$TMP/rep-a.tar")
bounded "archive: 300,000 members of one name stay within 8 MB" "$a" "$b"
expect 0 "and the archive reads" oci-inspect --refs "$TMP/rep-a.tar"
like "^t	sha256:" "its ref is there"

done_testing
