#!/usr/bin/env bash
# oci-copy's docker-archive against docker save's shape, from a reference
# archive built here by hand as Docker's documentation describes the Docker
# 25+ form (manifest.json with Config/RepoTags/Layers naming blobs/sha256/...,
# index.json whose descriptors carry io.containerd.image.name and the tag as
# ref.name, oci-layout, uncompressed layer tars), and from the legacy form
# (<id>.json, <id>/layer.tar, repositories: testdata's docker-save.tar). Each
# is read, copied to a docker-archive again, and compared member by member.
. "$(dirname "$0")/test-lib.sh"
cd "$TMP" || exit 1
python3 - ref.tar <<'PY'
import hashlib, io, json, sys, tarfile
def sha(b): return hashlib.sha256(b).hexdigest()
def tar_of(files):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files:
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1700000000
            t.addfile(ti, io.BytesIO(data))
    return bio.getvalue()
layer = tar_of([("etc/hello", b"hello from docker 25\n"), ("bin/tool", b"#!/bin/sh\necho hi\n")])
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "config": {"Cmd": ["/bin/tool"], "Env": ["PATH=/bin"]},
                  "created": "2023-11-14T22:13:20Z",
                  "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "COPY . /"}],
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(layer)]}},
                 separators=(",", ":")).encode()
man = json.dumps({"schemaVersion": 2,
                  "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                  "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                             "digest": "sha256:" + sha(cfg), "size": len(cfg)},
                  "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar",
                              "digest": "sha256:" + sha(layer), "size": len(layer)}]},
                 separators=(",", ":")).encode()
index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": [{"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                   "digest": "sha256:" + sha(man), "size": len(man),
                                   "annotations": {"io.containerd.image.name": "docker.io/library/ref:25",
                                                   "org.opencontainers.image.ref.name": "25"}}]}).encode()
manifest_json = json.dumps([{"Config": "blobs/sha256/" + sha(cfg), "RepoTags": ["ref:25"],
                             "Layers": ["blobs/sha256/" + sha(layer)]}]).encode()
repositories = json.dumps({"ref": {"25": sha(layer)}}).encode()
files = [("blobs/sha256/" + sha(b), b) for b in (layer, cfg, man)]
files += [("index.json", index), ("manifest.json", manifest_json), ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
          ("repositories", repositories)]
open(sys.argv[1], "wb").write(tar_of(files))
PY
# shape SRC OUT: a line per fact about a docker-archive's members
shape() {
	python3 - "$1" <<'PY'
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
names = t.getnames()
def js(n): return json.load(t.extractfile(n))
mj = js("manifest.json")
print("members:", sorted(set("blobs/sha256/*" if n.startswith("blobs/sha256/") else n for n in names) - {"repositories"}))
print("manifest.json keys:", [sorted(e) for e in mj])
print("RepoTags:", [e["RepoTags"] for e in mj])
print("Config in blobs:", all(e["Config"].startswith("blobs/sha256/") for e in mj))
print("Layers in blobs:", all(l.startswith("blobs/sha256/") for e in mj for l in e["Layers"]))
idx = js("index.json")
print("index mediaType:", idx.get("mediaType"))
for d in idx["manifests"]:
    print("descriptor:", d["mediaType"], sorted(d.get("annotations", {}).items()))
    m = json.load(t.extractfile("blobs/sha256/" + d["digest"].split(":")[1]))
    print("manifest:", m["mediaType"], m["config"]["mediaType"], sorted(set(l["mediaType"] for l in m["layers"])))
    # layers are plain tars, named by their diff_id
    cfg = json.load(t.extractfile("blobs/sha256/" + m["config"]["digest"].split(":")[1]))
    print("layers are diff_ids:", [l["digest"] for l in m["layers"]] == cfg["rootfs"]["diff_ids"])
print("oci-layout:", js("oci-layout"))
PY
}
expect 0 "the hand-built Docker 25 reference is read" oci-inspect --verify ref.tar
expect 0 "copied to a docker-archive" oci-copy -q ref.tar:ref:25 out.docker.tar:ref:25
shape ref.tar >want
shape out.docker.tar >got
if diff -u want got >d; then pass "same shape as the Docker 25 reference"; else fail "same shape as the Docker 25 reference" "$(cat d)"; fi
is "$(tar xOf out.docker.tar manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Layers"])')" \
	"$(tar xOf ref.tar manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Layers"])')" "the same layer blobs"
is "$(tar xOf out.docker.tar manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Config"])')" \
	"$(tar xOf ref.tar manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Config"])')" "the same config blob"
# the legacy form (docker save before 25): <id>.json, <id>/layer.tar, repositories
expect 0 "legacy docker save -> docker-archive" oci-copy -q "$TD/docker-save.tar:example/app:1.0" legacy.docker.tar:example/app:1.0
shape legacy.docker.tar >got2
sed -e 's|docker.io/library/ref:25|docker.io/example/app:1.0|; s|ref:25|example/app:1.0|; s|'"'"'25'"'"')|'"'"'1.0'"'"')|' want >want2
if diff -u want2 got2 >d; then pass "legacy input gives the Docker 25 shape"; else fail "legacy input gives the Docker 25 shape" "$(cat d)"; fi
is "$(oci-inspect --files --merged "$TD/docker-save.tar:example/app:1.0" | md5sum)" \
	"$(oci-inspect --files --merged legacy.docker.tar:example/app:1.0 | md5sum)" "the same tree as the legacy archive"
if command -v skopeo >/dev/null; then
	skopeo inspect docker-archive:legacy.docker.tar >/dev/null 2>sk.err && pass "skopeo reads it" || fail "skopeo reads it" "$(cat sk.err)"
fi
done_testing
