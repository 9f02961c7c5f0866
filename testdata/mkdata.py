#!/usr/bin/env python3
"""Deterministic test-data generator for the OCI image toolkit.

Usage: python3 testdata/mkdata.py OUTDIR

Creates OCI image layouts, oci-archives, docker-save archives and a set of
deliberately hostile layouts under OUTDIR (see testdata/README.md).
Everything is deterministic: fixed mtimes, uid/gid 0 unless stated, sorted
entries, gzip with mtime=0 and no file name, compact JSON.  Running the
script twice produces byte-identical output (given the same zlib/zstd).

Only the Python 3 standard library is used, plus the `zstd` CLI.
"""

import gzip
import hashlib
import io
import json
import os
import posixpath
import shutil
import subprocess
import sys
import tarfile

MTIME = 1700000000
CREATED = "2023-11-14T22:13:20Z"  # == MTIME
STAMP = ".mkdata-stamp"

# Media types
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
MT_OCI_LAYER_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_OCI_LAYER_ZST = "application/vnd.oci.image.layer.v1.tar+zstd"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_DOCKER_LAYER_GZ = "application/vnd.docker.image.rootfs.diff.tar.gzip"

REF = "org.opencontainers.image.ref.name"

# Collected output for manifest.txt / expected/*
MANIFEST_LINES = []   # "name:ref digest"
EXPECTED = {}         # filename -> text


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------

def sha256hex(data):
    return hashlib.sha256(data).hexdigest()


def digest(data):
    return "sha256:" + sha256hex(data)


def canon(obj):
    """Deterministic compact JSON bytes."""
    return json.dumps(obj, separators=(",", ":")).encode()


def prng_bytes(seed, n):
    """Deterministic pseudo-random bytes (sha256 in counter mode)."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s:%d" % (seed.encode(), i)).digest()
        i += 1
    return bytes(out[:n])


def gz(data):
    """Deterministic gzip: mtime 0, no file name, level 9."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0,
                       compresslevel=9) as f:
        f.write(data)
    return buf.getvalue()


def zst(data):
    """Deterministic zstd via the CLI (single-threaded, level 19)."""
    return subprocess.run(["zstd", "-q", "-19", "-T1", "-c", "-"],
                          input=data, stdout=subprocess.PIPE,
                          check=True).stdout


# ---------------------------------------------------------------------------
# tar building
# ---------------------------------------------------------------------------

class E:
    """One tar entry spec. kind: dir|file|symlink|hardlink|fifo."""

    def __init__(self, path, kind="file", data=b"", mode=None, uid=0, gid=0,
                 link="", xattrs=None):
        self.path = path
        self.kind = kind
        self.data = data
        if mode is None:
            mode = 0o755 if kind == "dir" else (0o777 if kind == "symlink"
                                                else 0o644)
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.link = link
        self.xattrs = xattrs or {}


def D(path, mode=0o755, **kw):
    return E(path, "dir", mode=mode, **kw)


def F(path, data, mode=0o644, **kw):
    if isinstance(data, str):
        data = data.encode()
    return E(path, "file", data=data, mode=mode, **kw)


def make_tar(entries, fmt=tarfile.PAX_FORMAT):
    """Build a tar in memory from a list of E, in the given order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for e in entries:
            ti = tarfile.TarInfo(e.path)
            ti.mtime = MTIME
            ti.uid, ti.gid = e.uid, e.gid
            ti.uname = ti.gname = ""
            ti.mode = e.mode
            if e.xattrs:
                ti.pax_headers = {"SCHILY.xattr." + k: v
                                  for k, v in sorted(e.xattrs.items())}
            if e.kind == "file":
                ti.type = tarfile.REGTYPE
                ti.size = len(e.data)
                tf.addfile(ti, io.BytesIO(e.data))
                continue
            if e.kind == "dir":
                ti.type = tarfile.DIRTYPE
            elif e.kind == "symlink":
                ti.type = tarfile.SYMTYPE
                ti.linkname = e.link
            elif e.kind == "hardlink":
                ti.type = tarfile.LNKTYPE
                ti.linkname = e.link
            elif e.kind == "fifo":
                ti.type = tarfile.FIFOTYPE
            else:
                raise ValueError(e.kind)
            tf.addfile(ti)
    return buf.getvalue()


def tar_of_files(files):
    """Tar of {relpath: bytes} at the tar root (no ./), with dir entries."""
    dirs = set()
    for p in files:
        d = posixpath.dirname(p)
        while d:
            dirs.add(d)
            d = posixpath.dirname(d)
    entries = [D(d) for d in dirs] + [F(p, b) for p, b in files.items()]
    entries.sort(key=lambda e: e.path)
    return make_tar(entries, fmt=tarfile.PAX_FORMAT)


# ---------------------------------------------------------------------------
# expected merged rootfs (applies OCI whiteout semantics)
# ---------------------------------------------------------------------------

def apply_layers(layers):
    tree = {}

    def drop_below(prefix, include_self):
        for p in list(tree):
            if (include_self and p == prefix) or p.startswith(prefix + "/") \
                    or (prefix == "" and p):
                del tree[p]

    for entries in layers:
        # whiteouts only affect lower layers: apply them first
        for e in entries:
            base = posixpath.basename(e.path)
            parent = posixpath.dirname(e.path)
            if base == ".wh..wh..opq":
                drop_below(parent, include_self=False)
            elif base.startswith(".wh."):
                drop_below(posixpath.join(parent, base[4:]), include_self=True)
        for e in entries:
            if posixpath.basename(e.path).startswith(".wh."):
                continue
            old = tree.get(e.path)
            if old is not None and old.kind == "dir" and e.kind != "dir":
                drop_below(e.path, include_self=False)
            tree[e.path] = e
    return tree


def tree_text(tree):
    lines = []
    for p in sorted(tree):
        e = tree[p]
        s = "%s %s %04o %d:%d" % (p, e.kind, e.mode, e.uid, e.gid)
        if e.kind == "file":
            s += " size=%d sha256=%s" % (len(e.data), sha256hex(e.data))
        elif e.kind == "symlink":
            s += " target=%s" % e.link
        elif e.kind == "hardlink":
            t = tree[e.link]
            s += " link=%s size=%d sha256=%s" % (e.link, len(t.data),
                                                 sha256hex(t.data))
        for k, v in sorted(e.xattrs.items()):
            s += " xattr.%s=%s" % (k, v)
        lines.append(s)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# OCI layout (kept in memory as {relpath: bytes}, then written)
# ---------------------------------------------------------------------------

class Layout:
    def __init__(self, oci_layout=True):
        self.files = {}
        if oci_layout:
            self.files["oci-layout"] = canon({"imageLayoutVersion": "1.0.0"})

    def add_blob(self, data, media_type, **extra):
        """Store a blob, return its descriptor dict."""
        self.files["blobs/sha256/" + sha256hex(data)] = data
        desc = {"mediaType": media_type, "digest": digest(data),
                "size": len(data)}
        desc.update(extra)
        return desc

    def add_json(self, obj, media_type, **extra):
        return self.add_blob(canon(obj), media_type, **extra)

    def blob_path(self, desc):
        return "blobs/sha256/" + desc["digest"].split(":", 1)[1]

    def set_index(self, descs, raw=None):
        if raw is not None:
            self.files["index.json"] = raw
            return
        self.files["index.json"] = canon({
            "schemaVersion": 2,
            "mediaType": MT_OCI_INDEX,
            "manifests": descs,
        })

    def write(self, root):
        os.makedirs(root, exist_ok=True)
        for p in sorted(self.files):
            full = os.path.join(root, p)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(self.files[p])
            os.utime(full, (MTIME, MTIME))

    def tar(self):
        return tar_of_files(self.files)


def with_ref(desc, ref, **annotations):
    d = dict(desc)
    ann = dict(d.get("annotations", {}))
    ann.update(annotations)
    ann[REF] = ref
    d["annotations"] = ann
    return d


def record(name, ref, desc):
    MANIFEST_LINES.append("%s:%s %s" % (name, ref, desc["digest"]))


# ---------------------------------------------------------------------------
# image building blocks
# ---------------------------------------------------------------------------

def make_config(diff_ids, history, arch="amd64", os_="linux", variant=None,
                config=None):
    c = {"created": CREATED, "architecture": arch}
    if variant:
        c["variant"] = variant
    c["os"] = os_
    c["config"] = config or {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]}
    c["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
    c["history"] = [{"created": CREATED, "created_by": h} for h in history]
    return c


def oci_manifest(config_desc, layer_descs, annotations=None,
                 media_type=MT_OCI_MANIFEST):
    m = {"schemaVersion": 2, "mediaType": media_type,
         "config": config_desc, "layers": layer_descs}
    if annotations:
        m["annotations"] = annotations
    return m


class Layer:
    """An uncompressed tar plus its entry list."""

    def __init__(self, entries):
        self.entries = entries
        self.tar = make_tar(entries)
        self.diff_id = digest(self.tar)

    def blob(self, comp):
        return {"gzip": gz, "zstd": zst, "none": lambda b: b}[comp](self.tar)


# --- multi -----------------------------------------------------------------

def multi_layer1():
    passwd = ("root:x:0:0:root:/root:/bin/sh\n"
              "app:x:1000:1000::/home/app:/bin/sh\n")
    entries = [
        D("bin"),
        F("bin/tool", "#!/bin/sh\necho tool \"$@\"\n", mode=0o4755),
        E("bin/tool2", "hardlink", link="bin/tool", mode=0o4755),
        D("etc"),
        D("etc/conf.d"),
        F("etc/conf.d/a.conf", "a=1\n"),
        F("etc/conf.d/b.conf", "b=2\n"),
        F("etc/group", "root:x:0:\napp:x:1000:\n"),
        F("etc/hostname", "multi\n"),
        F("etc/passwd", passwd),
        F("etc/xattr-file", "has an xattr\n",
          xattrs={"user.test": "hello"}),
        D("home"),
        D("home/app", uid=1000, gid=1000),
        F("home/app/notes.txt", "notes of app\n", uid=1000, gid=1000),
        D("tmp", mode=0o1777),
        E("tmp/fifo", "fifo", mode=0o644),
        D("usr"),
        D("usr/lib"),
        E("usr/lib/libx.so", "symlink", link="libx.so.1"),
        F("usr/lib/libx.so.1", b"\x7fELF-libx-v1\x00" + bytes(range(256)),
          mode=0o755),
        D("var"),
        D("var/cache"),
        F("var/cache/big.bin", prng_bytes("big.bin", 64 * 1024)),
    ]
    entries.sort(key=lambda e: e.path)
    return Layer(entries)


def multi_layer2():
    # Order matters here (whiteout semantics tests); not sorted.
    entries = [
        D("etc"),
        F("etc/.wh.hostname", ""),
        D("etc/conf.d"),
        F("etc/conf.d/.wh..wh..opq", ""),
        F("etc/conf.d/c.conf", "c=3\n"),
        D("opt"),
        F("opt/new.txt", "new in layer 2\n"),
        D("usr"),
        D("usr/lib"),
        F("usr/lib/libx.so.1", b"\x7fELF-libx-v2\x00" + bytes(range(255, -1, -1)),
          mode=0o755),
        D("var"),
        D("var/cache"),
        F("var/cache/fresh.txt", "fresh\n"),
        F("var/.wh.cache", ""),  # same-layer whiteout, listed AFTER fresh.txt
    ]
    return Layer(entries)


def multi_layer3():
    return Layer([
        D("etc"),
        F("etc/hostname", "again\n"),
        D("srv"),
        D("srv/data"),
        F("srv/data/x.txt", "x\n"),
    ])


def gen_multi(out):
    L = Layout()
    l1, l2, l3 = multi_layer1(), multi_layer2(), multi_layer3()
    d1 = L.add_blob(l1.blob("gzip"), MT_OCI_LAYER_GZ)
    d2 = L.add_blob(l2.blob("gzip"), MT_OCI_LAYER_GZ)
    d3 = L.add_blob(l3.blob("none"), MT_OCI_LAYER)

    cfg1 = make_config(
        [l1.diff_id, l2.diff_id, l3.diff_id],
        ["ADD layer1.tar / # base", "RUN update # whiteouts",
         "COPY srv /srv"],
        config={
            "User": "app",
            "ExposedPorts": {"8080/tcp": {}},
            "Env": ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"],
            "Entrypoint": ["/bin/tool"],
            "Cmd": ["--help"],
            "Volumes": {"/var/cache": {}},
            "WorkingDir": "/srv",
            "Labels": {"org.example.name": "multi"},
            "StopSignal": "SIGTERM",
        })
    c1 = L.add_json(cfg1, MT_OCI_CONFIG)
    m1 = L.add_json(oci_manifest(c1, [d1, d2, d3]), MT_OCI_MANIFEST)

    cfg2 = make_config([l1.diff_id], ["ADD layer1.tar / # base"],
                       config={"Env": ["PATH=/usr/bin:/bin"],
                               "Cmd": ["/bin/sh"],
                               "Labels": {"org.example.name": "multi-v2"}})
    c2 = L.add_json(cfg2, MT_OCI_CONFIG)
    m2 = L.add_json(oci_manifest(c2, [d1], annotations={
        "org.opencontainers.image.created": CREATED,
        "org.opencontainers.image.title": "multi v2",
        "org.example.variant": "single-layer",
    }), MT_OCI_MANIFEST)

    L.set_index([with_ref(m1, "v1"), with_ref(m2, "v2")])
    L.write(os.path.join(out, "multi"))
    record("multi", "v1", m1)
    record("multi", "v2", m2)

    EXPECTED["multi-v1.layers"] = "".join(
        "%s %s %s %d\n" % (d["digest"], l.diff_id, d["mediaType"], d["size"])
        for d, l in ((d1, l1), (d2, l2), (d3, l3)))
    EXPECTED["multi-v1.tree"] = tree_text(apply_layers(
        [l1.entries, l2.entries, l3.entries]))
    EXPECTED["multi-v2.tree"] = tree_text(apply_layers([l1.entries]))
    return L


# --- zstd ------------------------------------------------------------------

def gen_zstd(out):
    L = Layout()
    l1 = multi_layer1()
    l2 = Layer([D("etc"), F("etc/zstd.txt", "compressed with zstd\n")])
    d1 = L.add_blob(l1.blob("zstd"), MT_OCI_LAYER_ZST)
    d2 = L.add_blob(l2.blob("zstd"), MT_OCI_LAYER_ZST)
    cfg = make_config([l1.diff_id, l2.diff_id],
                      ["ADD layer1.tar / # base", "COPY zstd.txt /etc/"])
    c = L.add_json(cfg, MT_OCI_CONFIG)
    m = L.add_json(oci_manifest(c, [d1, d2]), MT_OCI_MANIFEST)
    L.set_index([with_ref(m, "latest")])
    L.write(os.path.join(out, "zstd"))
    record("zstd", "latest", m)
    EXPECTED["zstd-latest.tree"] = tree_text(apply_layers(
        [l1.entries, l2.entries]))


# --- docker media types in an OCI layout -----------------------------------

def gen_docker_mt(out):
    L = Layout()
    l1 = multi_layer1()
    l2 = Layer([D("etc"), F("etc/docker.txt", "docker media types\n")])
    d1 = L.add_blob(l1.blob("gzip"), MT_DOCKER_LAYER_GZ)
    d2 = L.add_blob(l2.blob("gzip"), MT_DOCKER_LAYER_GZ)
    cfg = make_config([l1.diff_id, l2.diff_id],
                      ["ADD layer1.tar / # base", "COPY docker.txt /etc/"],
                      config={"Env": ["PATH=/usr/bin:/bin"],
                              "Cmd": ["/bin/sh"], "WorkingDir": "/"})
    c = L.add_json(cfg, MT_DOCKER_CONFIG)
    m = L.add_json(oci_manifest(c, [d1, d2], media_type=MT_DOCKER_MANIFEST),
                   MT_DOCKER_MANIFEST)
    L.set_index([with_ref(m, "docker")])
    L.write(os.path.join(out, "docker-mt"))
    record("docker-mt", "docker", m)
    EXPECTED["docker-mt-docker.tree"] = tree_text(apply_layers(
        [l1.entries, l2.entries]))


# --- multiarch -------------------------------------------------------------

def platform(arch, variant=None):
    p = {"architecture": arch, "os": "linux"}
    if variant:
        p["variant"] = variant
    return p


def arch_image(L, arch, variant=None, docker=False):
    """Small single-layer image for one platform. Returns manifest desc."""
    name = "linux/" + arch + ("/" + variant if variant else "")
    layer = Layer([D("etc"), F("etc/arch", name + "\n")])
    lmt = MT_DOCKER_LAYER_GZ if docker else MT_OCI_LAYER_GZ
    cmt = MT_DOCKER_CONFIG if docker else MT_OCI_CONFIG
    mmt = MT_DOCKER_MANIFEST if docker else MT_OCI_MANIFEST
    ld = L.add_blob(layer.blob("gzip"), lmt)
    cfg = make_config([layer.diff_id], ["COPY arch /etc/arch"], arch=arch,
                      variant=variant,
                      config={"Env": ["PATH=/usr/bin:/bin"],
                              "Cmd": ["/bin/cat", "/etc/arch"]})
    cd = L.add_json(cfg, cmt)
    md = L.add_json(oci_manifest(cd, [ld], media_type=mmt), mmt,
                    platform=platform(arch, variant))
    EXPECTED.setdefault("multiarch.platforms", "")
    EXPECTED["multiarch.platforms"] += "%s %s %s\n" % (
        "docker" if docker else "oci", name, md["digest"])
    return md


def gen_multiarch(out):
    L = Layout()
    amd64 = arch_image(L, "amd64")
    arm64 = arch_image(L, "arm64", "v8")
    armv7 = arch_image(L, "arm", "v7")
    i386 = arch_image(L, "386")

    inner = L.add_json({"schemaVersion": 2, "mediaType": MT_OCI_INDEX,
                        "manifests": [armv7, i386]}, MT_OCI_INDEX)
    top = L.add_json({"schemaVersion": 2, "mediaType": MT_OCI_INDEX,
                      "manifests": [amd64, arm64, inner],
                      "annotations": {"org.example.note": "nested index"}},
                     MT_OCI_INDEX)

    d_amd64 = arch_image(L, "amd64", docker=True)
    d_arm64 = arch_image(L, "arm64", "v8", docker=True)
    dlist = L.add_json({"schemaVersion": 2, "mediaType": MT_DOCKER_LIST,
                        "manifests": [d_amd64, d_arm64]}, MT_DOCKER_LIST)

    amd64_ref = {k: v for k, v in amd64.items() if k != "platform"}
    L.set_index([with_ref(top, "latest"), with_ref(dlist, "dockerlist"),
                 with_ref(amd64_ref, "amd64-only")])
    L.write(os.path.join(out, "multiarch"))
    record("multiarch", "latest", top)
    record("multiarch", "dockerlist", dlist)
    record("multiarch", "amd64-only", amd64)
    EXPECTED["multiarch.platforms"] += "oci-index-inner - %s\n" % inner["digest"]
    return L


# --- archives --------------------------------------------------------------

def write_file(path, data):
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, (MTIME, MTIME))


def gen_archives(out, multi, multiarch):
    t = multi.tar()
    write_file(os.path.join(out, "multi.tar"), t)
    write_file(os.path.join(out, "multi.tar.gz"), gz(t))
    write_file(os.path.join(out, "multi.tar.zst"), zst(t))
    write_file(os.path.join(out, "multiarch.tar"), multiarch.tar())
    for line in list(MANIFEST_LINES):
        name, rest = line.split(":", 1)
        if name == "multi":
            for ext in ("tar", "tar.gz", "tar.zst"):
                MANIFEST_LINES.append("multi.%s:%s" % (ext, rest))
        elif name == "multiarch":
            MANIFEST_LINES.append("multiarch.tar:%s" % rest)


# --- docker save (legacy) --------------------------------------------------

def docker_config(layers, history, cmd):
    return make_config([l.diff_id for l in layers], history,
                       config={"Env": ["PATH=/usr/bin:/bin"], "Cmd": cmd,
                               "WorkingDir": "/"})


def v1_id(parent, diff_id):
    return sha256hex(canon({"parent": parent, "diff_id": diff_id}))


def docker_save_image(files, layers, cfg, tags, parent_ids_out=None):
    """Add one image to a legacy docker-save file map; return manifest entry
    and the top layer id."""
    cbytes = canon(cfg)
    chex = sha256hex(cbytes)
    files[chex + ".json"] = cbytes
    parent = ""
    paths = []
    for layer in layers:
        lid = v1_id(parent, layer.diff_id)
        v1 = {"id": lid}
        if parent:
            v1["parent"] = parent
        v1.update({"created": CREATED, "os": "linux",
                   "container_config": {"Cmd": None}})
        files[lid + "/VERSION"] = b"1.0"
        files[lid + "/json"] = canon(v1)
        files[lid + "/layer.tar"] = layer.tar
        paths.append(lid + "/layer.tar")
        parent = lid
    entry = {"Config": chex + ".json", "RepoTags": tags, "Layers": paths}
    EXPECTED.setdefault("docker-save.txt", "")
    for t in tags:
        EXPECTED["docker-save.txt"] += "%s config=sha256:%s layers=%s\n" % (
            t, chex, ",".join(l.diff_id for l in layers))
    return entry, parent


def repositories(tag_to_id):
    repos = {}
    for tag, lid in tag_to_id:
        name, t = tag.rsplit(":", 1)
        repos.setdefault(name, {})[t] = lid
    return canon(repos)


def docker_base_layer():
    return Layer([
        D("bin"), F("bin/hello", "#!/bin/sh\necho hello\n", mode=0o755),
        D("etc"), F("etc/motd", "welcome\n"), F("etc/os-release", "ID=test\n"),
        D("usr"), D("usr/share"), D("usr/share/doc"),
        F("usr/share/doc/README", "docker save test\n"),
    ])


def gen_docker_save(out):
    base = docker_base_layer()
    top = Layer([D("app"), F("app/main.txt", "main\n"),
                 D("etc"), F("etc/.wh.motd", "")])
    files = {}
    tags = ["example/app:1.0", "example/app:latest"]
    entry, topid = docker_save_image(
        files, [base, top],
        docker_config([base, top], ["ADD base.tar /", "COPY app /app"],
                      ["/bin/hello"]), tags)
    files["manifest.json"] = canon([entry])
    files["repositories"] = repositories([(t, topid) for t in tags])
    write_file(os.path.join(out, "docker-save.tar"), tar_of_files(files))
    EXPECTED["docker-save.tree"] = tree_text(apply_layers(
        [base.entries, top.entries]))

    # two images in one archive, sharing the base layer
    files = {}
    e1, id1 = docker_save_image(
        files, [base], docker_config([base], ["ADD base.tar /"], ["one"]),
        ["one:1"])
    two = Layer([D("two"), F("two/two.txt", "two\n")])
    e2, id2 = docker_save_image(
        files, [base, two],
        docker_config([base, two], ["ADD base.tar /", "COPY two /two"],
                      ["two"]), ["two:2"])
    files["manifest.json"] = canon([e1, e2])
    files["repositories"] = repositories([("one:1", id1), ("two:2", id2)])
    write_file(os.path.join(out, "docker-save-multi.tar"), tar_of_files(files))


def gen_docker_save_oci(out):
    """Docker 25+ `docker save`: manifest.json + OCI layout in one tar."""
    L = Layout()
    base = docker_base_layer()
    top = Layer([D("app"), F("app/main.txt", "main (docker 25)\n"),
                 D("etc"), F("etc/.wh.motd", "")])
    d1 = L.add_blob(base.tar, MT_OCI_LAYER)
    d2 = L.add_blob(top.tar, MT_OCI_LAYER)
    c = L.add_json(docker_config([base, top],
                                 ["ADD base.tar /", "COPY app /app"],
                                 ["/bin/hello"]), MT_OCI_CONFIG)
    m = L.add_json(oci_manifest(c, [d1, d2]), MT_OCI_MANIFEST)
    L.set_index([with_ref(m, "1.0", **{
        "io.containerd.image.name": "docker.io/example/app:1.0"})])
    L.files["manifest.json"] = canon([{
        "Config": L.blob_path(c),
        "RepoTags": ["example/app:1.0"],
        "Layers": [L.blob_path(d1), L.blob_path(d2)],
    }])
    L.files["repositories"] = canon({"example/app": {
        "1.0": c["digest"].split(":", 1)[1]}})
    write_file(os.path.join(out, "docker-save-oci.tar"), L.tar())
    record("docker-save-oci.tar", "1.0", m)
    EXPECTED["docker-save-oci.tree"] = tree_text(apply_layers(
        [base.entries, top.entries]))


# --- hostile ---------------------------------------------------------------

HOSTILE_DESC = []


def hostile_base(L, layer_mt=MT_OCI_LAYER_GZ):
    """A small valid image in L. Returns (config obj, config desc, layer
    desc, layer, manifest obj)."""
    layer = Layer([D("etc"), F("etc/hostile", "hostile test image\n")])
    ld = L.add_blob(layer.blob("gzip"), layer_mt)
    cfg = make_config([layer.diff_id], ["COPY hostile /etc/"])
    cd = L.add_json(cfg, MT_OCI_CONFIG)
    return cfg, cd, ld, layer, oci_manifest(cd, [ld])


def bad_index(L, desc):
    L.set_index([with_ref(desc, "bad")])


def hostile(name, why):
    def deco(fn):
        HOSTILE_DESC.append((name, why, fn))
        return fn
    return deco


@hostile("digest-path", "index.json digest is sha256:../../../../etc/passwd")
def h_digest_path(L):
    _, _, _, _, m = hostile_base(L)
    md = L.add_json(m, MT_OCI_MANIFEST)
    md["digest"] = "sha256:../../../../etc/passwd"
    return md


@hostile("digest-algo", "index.json digest uses md5 (blobs/md5/<hex> exists, empty)")
def h_digest_algo(L):
    hostile_base(L)
    L.files["blobs/md5/d41d8cd98f00b204e9800998ecf8427e"] = b""
    return {"mediaType": MT_OCI_MANIFEST,
            "digest": "md5:d41d8cd98f00b204e9800998ecf8427e", "size": 0}


@hostile("digest-upper", "index.json digest hex is UPPERCASE "
         "(a copy of the manifest exists under the uppercase name too)")
def h_digest_upper(L):
    _, _, _, _, m = hostile_base(L)
    md = L.add_json(m, MT_OCI_MANIFEST)
    hexd = md["digest"].split(":", 1)[1].upper()
    L.files["blobs/sha256/" + hexd] = canon(m)
    md["digest"] = "sha256:" + hexd
    return md


@hostile("digest-short", "index.json digest has 63 hex chars "
         "(a copy of the manifest exists under that name too)")
def h_digest_short(L):
    _, _, _, _, m = hostile_base(L)
    md = L.add_json(m, MT_OCI_MANIFEST)
    hexd = md["digest"].split(":", 1)[1][:63]
    L.files["blobs/sha256/" + hexd] = canon(m)
    md["digest"] = "sha256:" + hexd
    return md


@hostile("missing-blob", "manifest blob referenced by index.json is absent")
def h_missing_blob(L):
    _, _, _, _, m = hostile_base(L)
    md = L.add_json(m, MT_OCI_MANIFEST)
    del L.files[L.blob_path(md)]
    return md


@hostile("missing-layer", "manifest ok, its layer blob is absent")
def h_missing_layer(L):
    _, _, ld, _, m = hostile_base(L)
    del L.files[L.blob_path(ld)]
    return L.add_json(m, MT_OCI_MANIFEST)


@hostile("size-mismatch-index", "index.json manifest size is 1 byte too small")
def h_size_index(L):
    _, _, _, _, m = hostile_base(L)
    md = L.add_json(m, MT_OCI_MANIFEST)
    md["size"] -= 1
    return md


@hostile("size-mismatch-layer", "manifest says layer size is 10 bytes too big")
def h_size_layer(L):
    _, _, ld, _, m = hostile_base(L)
    m["layers"][0]["size"] = ld["size"] + 10
    return L.add_json(m, MT_OCI_MANIFEST)


@hostile("digest-mismatch", "layer blob has one byte flipped (name = original digest)")
def h_digest_mismatch(L):
    _, _, ld, _, m = hostile_base(L)
    p = L.blob_path(ld)
    b = bytearray(L.files[p])
    b[len(b) // 2] ^= 0x01
    L.files[p] = bytes(b)
    return L.add_json(m, MT_OCI_MANIFEST)


@hostile("diffid-mismatch", "config diff_id is a valid sha256 of other data")
def h_diffid(L):
    cfg, cd, ld, _, _ = hostile_base(L)
    cfg["rootfs"]["diff_ids"] = [digest(b"not the layer")]
    cd2 = L.add_json(cfg, MT_OCI_CONFIG)
    return L.add_json(oci_manifest(cd2, [ld]), MT_OCI_MANIFEST)


@hostile("truncated-json", "manifest blob is valid JSON cut in half "
         "(named by digest of the truncated bytes)")
def h_truncated(L):
    _, _, _, _, m = hostile_base(L)
    b = canon(m)
    return L.add_blob(b[:len(b) // 2], MT_OCI_MANIFEST)


@hostile("garbage-json", "manifest blob is 512 random bytes (named by digest)")
def h_garbage(L):
    hostile_base(L)
    return L.add_blob(prng_bytes("garbage", 512), MT_OCI_MANIFEST)


@hostile("trailing-garbage", "manifest JSON followed by '}xyz' (named by digest)")
def h_trailing(L):
    _, _, _, _, m = hostile_base(L)
    return L.add_blob(canon(m) + b"}xyz", MT_OCI_MANIFEST)


@hostile("duplicate-keys", "manifest has the \"config\" key twice "
         "(two different, existing config blobs)")
def h_dupkeys(L):
    cfg, cd, ld, _, _ = hostile_base(L)
    cfg2 = dict(cfg)
    cfg2["config"] = {"Cmd": ["/bin/evil"]}
    cd2 = L.add_json(cfg2, MT_OCI_CONFIG)
    raw = (b'{"schemaVersion":2,"mediaType":"' + MT_OCI_MANIFEST.encode() +
           b'","config":' + canon(cd) + b',"config":' + canon(cd2) +
           b',"layers":[' + canon(ld) + b']}')
    return L.add_blob(raw, MT_OCI_MANIFEST)


@hostile("wrong-schema", "manifest has schemaVersion 1")
def h_schema(L):
    _, _, _, _, m = hostile_base(L)
    m["schemaVersion"] = 1
    return L.add_json(m, MT_OCI_MANIFEST)


@hostile("wrong-mediatype", "layer media type is application/x-foo")
def h_mediatype(L):
    _, _, _, _, m = hostile_base(L, layer_mt="application/x-foo")
    return L.add_json(m, MT_OCI_MANIFEST)


@hostile("index-json-garbage", "index.json is not JSON")
def h_index_garbage(L):
    hostile_base(L)
    L.set_index(None, raw=b"this is not json \x00\xff{[")
    return None


@hostile("index-loop", "ref -> index A (valid) which lists an index D whose "
         "blob file holds A's bytes (digest check breaks the loop)")
def h_index_loop(L):
    hostile_base(L)
    fake = digest(b"index-loop: the digest that A claims")

    def index_a(size):
        return canon({"schemaVersion": 2, "mediaType": MT_OCI_INDEX,
                      "manifests": [{"mediaType": MT_OCI_INDEX,
                                     "digest": fake, "size": size}]})
    # make the size A claims for D equal to len(A) (fixed point)
    size = 0
    while len(index_a(size)) != size:
        size = len(index_a(size))
    a = index_a(size)
    ad = L.add_blob(a, MT_OCI_INDEX)
    L.files["blobs/sha256/" + fake.split(":", 1)[1]] = a
    return ad


@hostile("deep-nesting", "chain of 40 nested (valid) image indexes ending at "
         "a manifest")
def h_deep_nesting(L):
    _, _, _, _, m = hostile_base(L)
    d = L.add_json(m, MT_OCI_MANIFEST)
    for _ in range(40):
        d = L.add_json({"schemaVersion": 2, "mediaType": MT_OCI_INDEX,
                        "manifests": [d]}, MT_OCI_INDEX)
    return d


@hostile("huge-json", "manifest blob is >20 MiB of valid JSON (big annotation)")
def h_huge(L):
    _, _, _, _, m = hostile_base(L)
    m["annotations"] = {"org.example.huge": "A" * (20 * 1024 * 1024)}
    return L.add_json(m, MT_OCI_MANIFEST)


@hostile("deep-json", "manifest blob is 100000 nested arrays [[[...]]]")
def h_deep_json(L):
    hostile_base(L)
    return L.add_blob(b"[" * 100000 + b"]" * 100000, MT_OCI_MANIFEST)


@hostile("no-oci-layout", "oci-layout file missing; otherwise valid")
def h_no_layout(L):
    _, _, _, _, m = hostile_base(L)
    del L.files["oci-layout"]
    return L.add_json(m, MT_OCI_MANIFEST)


@hostile("config-not-json", "config blob is not JSON")
def h_config_not_json(L):
    _, _, ld, _, _ = hostile_base(L)
    cd = L.add_blob(b"config? no.\n", MT_OCI_CONFIG)
    return L.add_json(oci_manifest(cd, [ld]), MT_OCI_MANIFEST)


@hostile("missing-layers-field", "manifest has no \"layers\" key")
def h_missing_layers(L):
    _, _, _, _, m = hostile_base(L)
    del m["layers"]
    return L.add_json(m, MT_OCI_MANIFEST)


@hostile("wrong-types", "manifest config descriptor has \"size\" as a string")
def h_wrong_types(L):
    _, _, _, _, m = hostile_base(L)
    m["config"]["size"] = str(m["config"]["size"])
    return L.add_json(m, MT_OCI_MANIFEST)


def gen_hostile(out):
    lines = []
    for name, why, fn in HOSTILE_DESC:
        L = Layout()
        desc = fn(L)
        if desc is not None:
            bad_index(L, desc)
            record("hostile/" + name, "bad", desc)
        L.write(os.path.join(out, "hostile", name))
        lines.append("%s\t%s\n" % (name, why))
    EXPECTED["hostile.txt"] = "".join(lines)


# ---------------------------------------------------------------------------

def prepare_outdir(out):
    if os.path.isdir(out) and os.listdir(out) and \
            not os.path.exists(os.path.join(out, STAMP)):
        sys.exit("mkdata: refusing to wipe non-empty %s (no %s in it)"
                 % (out, STAMP))
    os.makedirs(out, exist_ok=True)
    # write the stamp first so an interrupted run can be redone
    with open(os.path.join(out, STAMP), "w") as f:
        f.write("generated by testdata/mkdata.py\n")
    for name in os.listdir(out):
        if name == STAMP:
            continue
        p = os.path.join(out, name)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.unlink(p)


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: %s OUTDIR" % argv[0])
    out = argv[1]
    prepare_outdir(out)

    multi = gen_multi(out)
    gen_zstd(out)
    gen_docker_mt(out)
    multiarch = gen_multiarch(out)
    gen_archives(out, multi, multiarch)
    gen_docker_save(out)
    gen_docker_save_oci(out)
    gen_hostile(out)

    write_file(os.path.join(out, "manifest.txt"),
               ("\n".join(MANIFEST_LINES) + "\n").encode())
    exp = os.path.join(out, "expected")
    os.makedirs(exp, exist_ok=True)
    for name in sorted(EXPECTED):
        write_file(os.path.join(exp, name), EXPECTED[name].encode())


if __name__ == "__main__":
    main(sys.argv)
