#!/usr/bin/env python3
"""lib-shapes.py: image layouts whose shape (not their size) is hostile.

  lib-shapes.py dag OUT [--fan F] [--levels L] [--bad-size] [--tar FILE]
      a DAG of indexes: index.json -> T -> 32 x I6 -> ... -> 32 x I0 -> 32 x M
      (linux/s390x), and T also -> M2 (linux/amd64) last: F^(L+1) paths
      (2^40 with the defaults) through L+1 distinct indexes; --bad-size: I0's
      entries give M's size off by one (so every path needs the same fix)
  lib-shapes.py wide OUT N      index.json -> T -> N distinct (empty) indexes
  lib-shapes.py edges OUT N K   index.json -> T -> N distinct indexes of K entries each
  lib-shapes.py deep OUT D      D indexes nested in each other
  lib-shapes.py ctrl OUT        control characters in every string an image holds
Only the Python standard library is used.
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


class Layout:
    def __init__(self, out):
        self.out = out
        os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(out, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')

    def blob(self, data, mt, **extra):
        if isinstance(data, (dict, list)):
            data = json.dumps(data, separators=(",", ":")).encode()
        h = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.out, "blobs", "sha256", h), "wb") as f:
            f.write(data)
        d = {"mediaType": mt, "digest": "sha256:" + h, "size": len(data)}
        d.update(extra)
        return d

    def index(self, descs, **extra):
        doc = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descs}
        doc.update(extra)
        return self.blob(doc, OCI_INDEX)

    def top(self, descs):
        with open(os.path.join(self.out, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descs}, f)

    def image(self, arch, files=(("etc/hello", b"hello\n"),), cfg_extra=None, created="2024-01-01T00:00:00Z"):
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
            for name, content in files:
                ti = tarfile.TarInfo(name)
                ti.size = len(content)
                ti.mtime = 1700000000
                t.addfile(ti, io.BytesIO(content))
        tar = raw.getvalue()
        layer = self.blob(gzip.compress(tar, mtime=0), OCI_LAYER)
        cfg = {"architecture": arch, "os": "linux", "created": created,
               "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
               "config": {}}
        if cfg_extra:
            cfg["config"].update(cfg_extra)
        config = self.blob(cfg, OCI_CONFIG)
        m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": [layer]}
        return m

    def manifest(self, m, **extra):
        return self.blob(m, OCI_MANIFEST, **extra)


def ref(name):
    return {"org.opencontainers.image.ref.name": name}


def dag(out, fan=32, levels=7, bad_size=False):
    lay = Layout(out)
    m = lay.manifest(lay.image("s390x"), platform={"os": "linux", "architecture": "s390x"})
    good = lay.manifest(lay.image("amd64", files=(("etc/good", b"good\n"),)),
                        platform={"os": "linux", "architecture": "amd64"})
    child = dict(m)
    if bad_size:
        child["size"] += 1
    cur = None
    for level in range(levels):
        entries = [child] * fan
        cur = lay.index(entries)
        child = cur
    t = lay.index([child] * fan + [good])
    t["annotations"] = ref("dag")
    lay.top([t])


def wide(out, n):
    lay = Layout(out)
    kids = [lay.index([], annotations={"n": str(i)}) for i in range(n)]
    t = lay.index(kids)
    t["annotations"] = ref("wide")
    lay.top([t])


def edges(out, n, k):
    lay = Layout(out)
    e = lay.index([])
    kids = [lay.index([e] * k, annotations={"n": str(i)}) for i in range(n)]
    t = lay.index(kids)
    t["annotations"] = ref("edges")
    lay.top([t])


def deep(out, d):
    lay = Layout(out)
    child = lay.manifest(lay.image("amd64"), platform={"os": "linux", "architecture": "amd64"})
    for _ in range(d):
        child = lay.index([child])
    child["annotations"] = ref("deep")
    lay.top([child])


def ctrl(out):
    """ESC, DEL and CSI (a C1 control) in every string an image can carry to the screen"""
    E = "\x1b[31mX\x7f\u009b"
    lay = Layout(out)
    img = lay.image("amd64", files=(("etc/hello", b"hello\n"), ("etc/" + E, b"x")), cfg_extra={"Entrypoint": ["/bin/" + E], "Cmd": [E], "Env": ["A=" + E],
                                         "WorkingDir": "/w" + E, "User": "u" + E,
                                         "Labels": {"l": E}},
                    created="2024" + E)
    img["config"]["annotations"] = {"a": E}
    man = lay.manifest(img, platform={"os": "linux", "architecture": "amd64", "variant": "v" + E},
                       annotations={"org.opencontainers.image.ref.name": "r" + E, "x": E})
    # an odd media type for a second entry: shown, not followed
    odd = {"mediaType": "application/x" + E, "digest": man["digest"], "size": man["size"],
           "annotations": ref("odd" + E)}
    lay.top([man, odd])


def to_tar(out, tarpath):
    with tarfile.open(tarpath, "w", format=tarfile.GNU_FORMAT) as t:
        for root, dirs, files in os.walk(out):
            dirs.sort()
            for f in sorted(files):
                p = os.path.join(root, f)
                t.add(p, arcname=os.path.relpath(p, out))


def main(argv):
    cmd, out = argv[1], argv[2]
    args = argv[3:]
    tarpath = None
    if "--tar" in args:
        i = args.index("--tar")
        tarpath = args[i + 1]
        del args[i:i + 2]
    if cmd == "dag":
        fan, levels = 32, 7
        if "--fan" in args:
            fan = int(args[args.index("--fan") + 1])
        if "--levels" in args:
            levels = int(args[args.index("--levels") + 1])
        dag(out, fan, levels, "--bad-size" in args)
    elif cmd == "wide":
        wide(out, int(args[0]))
    elif cmd == "edges":
        edges(out, int(args[0]), int(args[1]))
    elif cmd == "deep":
        deep(out, int(args[0]))
    elif cmd == "ctrl":
        ctrl(out)
    else:
        sys.exit(__doc__)
    if tarpath:
        to_tar(out, tarpath)


if __name__ == "__main__":
    main(sys.argv)
