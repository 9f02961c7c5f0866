#!/usr/bin/env bash
# docker save archives as moby writes them: the legacy format where a layer
# two images share is saved once and the second image's <id>/layer.tar is a
# symlink member to the first (../<id1>/layer.tar), the same with a hard
# link (a re-tarred save), and Docker 25+ with index.json and blobs/. Every
# image of them verifies clean and unpacks. Link members are followed only
# to other members: out of the archive, in a loop or too long a chain, the
# image is refused with the reason.
. "$(dirname "$0")/test-lib.sh"

# mkds.py OUT KIND [LINK]: KIND legacy (LINK symlink|hardlink|copy, or a raw
# symlink target for the shared layer) or docker25
cat >"$TMP/mkds.py" <<'PY'
import hashlib, io, json, sys, tarfile
out, kind = sys.argv[1], sys.argv[2]
link = sys.argv[3] if len(sys.argv) > 3 else "symlink"

def layer(files):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files:
            if name.endswith("/"):
                i = tarfile.TarInfo(name.rstrip("/")); i.type = tarfile.DIRTYPE; i.mode = 0o755
                i.mtime = 1700000000; t.addfile(i)
            else:
                i = tarfile.TarInfo(name); i.size = len(data); i.mode = 0o644; i.mtime = 1700000000
                t.addfile(i, io.BytesIO(data))
    return b.getvalue()

sha = lambda b: hashlib.sha256(b).hexdigest()
L1 = layer([("etc/", b""), ("etc/os-release", b"NAME=base\n"), ("bin/", b""), ("bin/tool", b"#!/bin/sh\necho base\n")])
L2 = layer([("app/", b""), ("app/run", b"run me\n"), ("etc/os-release", b"NAME=app\n")])

def config(layers):
    return json.dumps({"architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/tool"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(l) for l in layers]},
        "history": [{"created_by": "layer %d" % i} for i in range(len(layers))]}).encode()

images = [("img:one", [L1]), ("img:two", [L1, L2])]
members = []  # (TarInfo, data or None)
def add(name, data=None, **kw):
    i = tarfile.TarInfo(name); i.mtime = 1700000000
    for k, v in kw.items(): setattr(i, k, v)
    if data is not None: i.size = len(data)
    members.append((i, data))

manifest = []
if kind == "legacy":
    saved = {}
    for n, (tag, layers) in enumerate(images):
        c = config(layers)
        add(sha(c) + ".json", c)
        paths, parent = [], ""
        for k, l in enumerate(layers):
            v1 = sha((parent + sha(l) + tag).encode())  # distinct per image, as moby's v1 ids are
            add(v1, type=tarfile.DIRTYPE, mode=0o755)
            add(v1 + "/VERSION", b"1.0")
            add(v1 + "/json", json.dumps({"id": v1, "parent": parent}).encode())
            p = v1 + "/layer.tar"
            if sha(l) in saved and link != "copy":
                first = saved[sha(l)]
                if link == "symlink":
                    add(p, type=tarfile.SYMTYPE, linkname="../" + first)
                elif link == "hardlink":
                    add(p, type=tarfile.LNKTYPE, linkname=first)
                else:
                    add(p, type=tarfile.SYMTYPE, linkname=link)
            else:
                add(p, l)
                saved[sha(l)] = p
            paths.append(p)
            parent = v1
        manifest.append({"Config": sha(c) + ".json", "RepoTags": [tag], "Layers": paths})
    add("manifest.json", json.dumps(manifest).encode())
    add("repositories", json.dumps({"img": {}}).encode())
else:  # Docker 25+: an OCI layout with manifest.json beside it
    add("blobs", type=tarfile.DIRTYPE, mode=0o755)
    add("blobs/sha256", type=tarfile.DIRTYPE, mode=0o755)
    blobs, index = {}, []
    def blob(b):
        if sha(b) not in blobs:
            blobs[sha(b)] = b
            add("blobs/sha256/" + sha(b), b)
        return {"digest": "sha256:" + sha(b), "size": len(b)}
    for tag, layers in images:
        c = config(layers)
        ls = [dict(blob(l), mediaType="application/vnd.oci.image.layer.v1.tar") for l in layers]
        m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": dict(blob(c), mediaType="application/vnd.oci.image.config.v1+json"),
            "layers": ls}).encode()
        d = dict(blob(m), mediaType="application/vnd.oci.image.manifest.v1+json")
        d["annotations"] = {"io.containerd.image.name": "docker.io/library/" + tag,
                            "org.opencontainers.image.ref.name": tag.split(":")[1]}
        index.append(d)
        manifest.append({"Config": "blobs/sha256/" + sha(c), "RepoTags": [tag],
                         "Layers": ["blobs/sha256/" + sha(l) for l in layers]})
    add("index.json", json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": index}).encode())
    add("manifest.json", json.dumps(manifest).encode())
    add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    add("repositories", json.dumps({"img": {}}).encode())
with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
    for i, d in members:
        t.addfile(i, io.BytesIO(d) if d is not None else None)
PY

check_tree() { # DIR WANT NAME
	local got
	got=$(cd "$1" && find . -mindepth 1 | sort | while read -r p; do
		if [ -f "$p" ]; then printf '%s %s\n' "$p" "$(cat "$p" | tr '\n' '|')"; else printf '%s/\n' "$p"; fi
	done)
	is "$got" "$2" "$3"
}
ONE='./bin/
./bin/tool #!/bin/sh|echo base|
./etc/
./etc/os-release NAME=base|'
TWO='./app/
./app/run run me|
./bin/
./bin/tool #!/bin/sh|echo base|
./etc/
./etc/os-release NAME=app|'

for kind in "legacy symlink" "legacy hardlink" "legacy copy" docker25; do
	set -- $kind
	a="$TMP/ds-$1-${2:-}.tar"
	python3 "$TMP/mkds.py" "$a" "$@" || fail "make $kind"
	expect 0 "$kind: --verify exits 0" oci-inspect --verify "$a"
	is "$(out)" "" "$kind: --verify has nothing to say"
	expect 0 "$kind: --refs" oci-inspect --refs "$a"
	is "$(cut -f1 "$TMP/out" | sort | paste -sd,)" "$(case $1 in legacy) echo img:one,img:two ;; *) echo one,two ;; esac)" "$kind: both refs listed"
	for ref in one two; do
		expect 0 "$kind: unpack $ref" oci-unpack --rootfs "$a:$ref" "$TMP/u-$1-${2:-}-$ref"
		if [ $ref = one ]; then want=$ONE; else want=$TWO; fi
		check_tree "$TMP/u-$1-${2:-}-$ref" "$want" "$kind: $ref's tree"
	done
	# the shared layer is one blob for both images
	run oci-inspect --json "$a:one"
	l1=$(jq -r '.manifests[0].layers[0].digest' "$TMP/out")
	run oci-inspect --json "$a:two"
	l2=$(jq -r '.manifests[0].layers[0].digest' "$TMP/out")
	is "$l2" "$l1" "$kind: the shared layer has one digest in both images"
done

# skopeo and umoci as the oracle: skopeo reads the same archive into an OCI
# layout, umoci unpacks it; ours unpacks the archive to the same tree (not
# the hard-link variant: skopeo 1.9 reads a hard-link member as empty)
if command -v skopeo >/dev/null && command -v umoci >/dev/null; then
	for kind in "legacy symlink" docker25; do
		set -- $kind
		a="$TMP/ds-$1-${2:-}.tar"
		for ref in one two; do
			o="$TMP/sk-$1-${2:-}-$ref"
			if skopeo --insecure-policy copy -q "docker-archive:$a:img:$ref" "oci:$o:t" >"$TMP/sk.log" 2>&1 &&
				umoci unpack $([ "$(id -u)" -eq 0 ] || echo --rootless) --image "$o:t" "$o.b" >>"$TMP/sk.log" 2>&1; then
				python3 "$OCI_SOURCE_DIR/tests/e2e/lib-layers.py" tree --mtime "$o.b/rootfs" "$o.want" "$TMP/u-$1-${2:-}-$ref" "$o.got" >/dev/null
				if diff -u "$o.want" "$o.got" >"$TMP/diff"; then
					pass "$kind: $ref: the tree skopeo + umoci give"
				else
					fail "$kind: $ref: the tree skopeo + umoci give" "$(cat "$TMP/diff")"
				fi
			else
				fail "$kind: $ref: skopeo + umoci read it" "$(tail -n 3 "$TMP/sk.log")"
			fi
		done
	done
else
	for _ in 1 2 3 4; do _n=$((_n + 1)); echo "ok $_n # SKIP skopeo or umoci not installed"; done
fi

# on stdin (spooled) too
run sh -c 'oci-unpack --rootfs "-:two" "$2" <"$1"' sh "$TMP/ds-legacy-symlink.tar" "$TMP/u-stdin"
is "$status" 0 "legacy symlink on stdin: unpack two"
check_tree "$TMP/u-stdin" "$TWO" "legacy symlink on stdin: two's tree"

# ---- hostile link members: never out of the archive, never in a loop ----
hostile() { # NAME TARGET WHY
	local a="$TMP/h-$1.tar"
	python3 "$TMP/mkds.py" "$a" legacy "$2" || fail "make $1"
	expect_fail "$1: --verify refuses the archive" oci-inspect --verify "$a"
	err_like "layer \"[0-9a-f]{64}/layer.tar\": $3" "$1: the error names the member and why"
	expect_fail "$1: unpack refuses" oci-unpack --rootfs "$a:one" "$TMP/hu-$1"
	[ ! -e "$TMP/hu-$1" ]
	ok $? "$1: no rootfs left"
}
hostile escape "../../../../../../etc/passwd" "symlink out of the archive"
hostile absolute "/etc/passwd" "symlink out of the archive"
hostile self "layer.tar" "too many symlinks \\(a loop\\)"
hostile dangling "../nowhere/layer.tar" "symlink to a name not in the archive"
hostile dir "." "symlink to a member that is not a regular file"

done_testing
