#!/usr/bin/env python3
"""lib-layers.py: small OCI images from layer specs, for the oci-unpack tests.

  lib-layers.py build OUT SPEC [OUT SPEC]...
                                  write an OCI image layout at OUT from SPEC (a JSON
                                  file, or - for stdin); prints the manifest digest
  lib-layers.py tree [--brief] [--mtime] DIR [DIR OUTFILE]...
                                  list the tree under DIR, sorted, one line a path;
                                  several DIR OUTFILE pairs: each listing to its file
  lib-layers.py tarorder <NAMES  exit 1 (naming the first pair out of order) unless the
                                  names (one a line, as tar tf lists them) are in the order
                                  our writers use: by path component, a directory's
                                  whiteouts before its other entries (layer.md)
(Python starts slowly here: do many images or trees in one call.)

SPEC is one JSON object:
  {"ref": "t",                 ref name in index.json (default "t")
   "media": "oci"|"docker",    manifest/config/layer media types (default oci)
   "comp": "gzip"|"zstd"|"none",   default layer compression (default gzip)
   "config": {...},            merged into the image config's "config"
   "top": {...},               merged into the image config itself ("os.version", ...)
   "oci_archive": PATH,        also write an oci-archive (tar of the layout)
   "docker_save": PATH,        also write a docker-save archive (tag img:REF)
   "layers": [LAYER, ...]}

LAYER is a list of entries, or an object:
  {"entries": [...], "comp": ..., "mt": "exact/media-type",
   "diff_id": "wrong"           the config's diff_id is not the tar's
   "append": "text"             bytes added after the tar's end (before compression,
                                counted in the diff_id)
   "no_end": true               no end-of-archive blocks
   "after_end": [entries]       a second tar after the end-of-archive blocks
   "cut": N                     the tar stops N bytes early (truncated data)
   "corrupt_tail": N            after the digest is taken, flip a bit in the blob's
                                N-th byte from its end (same size, wrong content)
   "many": {"dir": D, "count": N, "size": S}
                                after the entries: directory D with N files of S bytes}

An entry is an object
  {"p": NAME, "t": "f|d|l|h|p|c|b", "c": content, "mode": 420, "uid": 0, "gid": 0,
   "to": link target, "x": {xattr: value}, "maj": 8, "min": 0, "mtime": N,
   "claim": N (header size, more than the data given), "pax": {extra PAX records},
   "sparse": [SIZE, [[offset, data], ...]]  (GNU sparse 1.0 in PAX)}
or a string shorthand:  "d/" a directory, "l->T" a symlink, "h=>T" a hard link,
"p|" a FIFO, "f=TEXT" a file with TEXT, "f" an empty file.
Names are used exactly as given (no ./ added, nothing cleaned).
Only the Python standard library and the zstd command are used.
"""

import gzip
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import tarfile

MTIME = 1700000000
CREATED = "2023-11-14T22:13:20Z"

MT = {
    "oci": {
        "manifest": "application/vnd.oci.image.manifest.v1+json",
        "config": "application/vnd.oci.image.config.v1+json",
        "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
        "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
        "none": "application/vnd.oci.image.layer.v1.tar",
    },
    "docker": {
        "manifest": "application/vnd.docker.distribution.manifest.v2+json",
        "config": "application/vnd.docker.container.image.v1+json",
        "gzip": "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "zstd": "application/vnd.docker.image.rootfs.diff.tar.zstd",
        "none": "application/vnd.docker.image.rootfs.diff.tar",
    },
}
MT_INDEX = "application/vnd.oci.image.index.v1+json"
REF = "org.opencontainers.image.ref.name"


def sha256hex(b):
    return hashlib.sha256(b).hexdigest()


def canon(o):
    return json.dumps(o, separators=(",", ":")).encode()


def compress(data, comp):
    if comp == "gzip":
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as f:
            f.write(data)
        return buf.getvalue()
    if comp == "zstd":
        return subprocess.run(["zstd", "-q", "-3", "-T1", "-c", "-"], input=data,
                              stdout=subprocess.PIPE, check=True).stdout
    if comp == "none":
        return data
    raise SystemExit("lib-layers: unknown compression %r" % comp)


def parse_entry(e):
    if isinstance(e, dict):
        return dict(e)
    if "->" in e:
        p, to = e.split("->", 1)
        return {"p": p, "t": "l", "to": to}
    if "=>" in e:
        p, to = e.split("=>", 1)
        return {"p": p, "t": "h", "to": to}
    if "=" in e:
        p, c = e.split("=", 1)
        return {"p": p, "t": "f", "c": c}
    if e.endswith("|"):
        return {"p": e[:-1], "t": "p"}
    if e.endswith("/") and e != "/":
        return {"p": e, "t": "d"}
    return {"p": e, "t": "f", "c": ""}


TYPES = {"f": tarfile.REGTYPE, "d": tarfile.DIRTYPE, "l": tarfile.SYMTYPE,
         "h": tarfile.LNKTYPE, "p": tarfile.FIFOTYPE, "c": tarfile.CHRTYPE,
         "b": tarfile.BLKTYPE}


def header(ti, pax):
    """A PAX header for ti; pax records are written as given (so a name the
    ustar fields cannot hold, or holds differently, still reaches the reader)."""
    ti.pax_headers = pax
    return ti.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def entry_tar(e):
    t = e.get("t", "f")
    name = e["p"]
    ti = tarfile.TarInfo()
    ti.name = name
    ti.type = TYPES[t]
    ti.mode = e.get("mode", 0o755 if t == "d" else 0o777 if t == "l" else 0o644)
    ti.uid = e.get("uid", 0)
    ti.gid = e.get("gid", 0)
    ti.uname = ti.gname = ""
    ti.mtime = e.get("mtime", MTIME)
    ti.linkname = e.get("to", "")
    if t in ("c", "b"):
        ti.devmajor = e.get("maj", 0)
        ti.devminor = e.get("min", 0)
    pax = {}
    # names that ustar cannot hold exactly go to a PAX "path"/"linkpath"
    for key, val, lim in (("path", name, 100), ("linkpath", ti.linkname, 100)):
        if val and (len(val.encode("utf-8", "surrogateescape")) > lim or not val.isascii()
                    or "\0" in val):
            pax[key] = val
    for k, v in sorted(e.get("x", {}).items()):
        pax["SCHILY.xattr." + k] = v
    pax.update(e.get("pax", {}))
    if "sparse" in e:
        size, chunks = e["sparse"]
        smap = []
        data = b""
        for off, d in chunks:
            d = d.encode("utf-8", "surrogateescape")
            smap.append((off, len(d)))
            data += d
        # GNU sparse 1.0: the map is at the start of the data, in 512-byte blocks
        mp = ("%d\n" % len(smap)) + "".join("%d\n%d\n" % x for x in smap)
        mp = mp.encode()
        mp += b"\0" * (-len(mp) % 512)
        pax.update({"GNU.sparse.major": "1", "GNU.sparse.minor": "0",
                    "GNU.sparse.name": name, "GNU.sparse.realsize": str(size)})
        ti.name = "GNUSparseFile.0/" + os.path.basename(name)
        payload = mp + data
        ti.size = len(payload)
        return header(ti, pax) + payload + b"\0" * (-len(payload) % 512), None
    data = e.get("c", "").encode("utf-8", "surrogateescape") if t == "f" else b""
    ti.size = e.get("claim", len(data))
    blk = header(ti, pax)
    if "claim" in e:
        return blk + data, "cut"  # the stream ends inside the data
    return blk + data + b"\0" * (-len(data) % 512), None


def layer_tar(layer):
    parts = []
    for e in layer.get("entries", []):
        b, cut = entry_tar(parse_entry(e))
        parts.append(b)
        if cut:
            return b"".join(parts)
    if "many" in layer:
        m = layer["many"]
        d, count, size = m["dir"], int(m["count"]), int(m["size"])
        parts.append(entry_tar({"p": d + "/", "t": "d"})[0])
        for i in range(count):
            body = (("%08d" % i) * (size // 8 + 1))[:size]
            parts.append(entry_tar({"p": "%s/f%06d" % (d, i), "c": body})[0])
    out = b"".join(parts)
    if not layer.get("no_end"):
        out += b"\0" * 1024
    if layer.get("cut"):
        out = out[:-int(layer["cut"])]
    out += layer.get("append", "").encode("utf-8", "surrogateescape")
    if "after_end" in layer:
        out += layer_tar({"entries": layer["after_end"]})
    return out


def build(out, spec):
    media = spec.get("media", "oci")
    mts = MT[media]
    blobs = {}

    def add(data, mt):
        h = sha256hex(data)
        blobs[h] = data
        return {"mediaType": mt, "digest": "sha256:" + h, "size": len(data)}

    layers, diff_ids, tars = [], [], []
    for L in spec.get("layers", []):
        if isinstance(L, list):
            L = {"entries": L}
        comp = L.get("comp", spec.get("comp", "gzip"))
        tar = layer_tar(L)
        tars.append((tar, comp))
        blob = compress(tar, comp)
        d = add(blob, L.get("mt", mts[comp]))
        if "corrupt_tail" in L:
            b = bytearray(blob)
            b[len(b) - int(L["corrupt_tail"])] ^= 0x01
            blobs[d["digest"][7:]] = bytes(b)
        layers.append(d)
        diff_ids.append("sha256:" + sha256hex(b"other data" if L.get("diff_id") == "wrong"
                                               else tar))
    cfg = {"created": CREATED, "architecture": spec.get("arch", "amd64"), "os": "linux",
           "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
           "rootfs": {"type": "layers", "diff_ids": diff_ids},
           "history": [{"created": CREATED, "created_by": "layer %d" % i}
                       for i in range(len(layers))]}
    cfg["config"].update(spec.get("config", {}))
    cfg.update(spec.get("top", {}))
    cbytes = canon(cfg)
    cd = add(cbytes, mts["config"])
    man = {"schemaVersion": 2, "mediaType": mts["manifest"], "config": cd, "layers": layers}
    md = add(canon(man), mts["manifest"])
    ref = spec.get("ref", "t")
    md["annotations"] = {REF: ref}
    files = {"oci-layout": canon({"imageLayoutVersion": "1.0.0"}),
             "index.json": canon({"schemaVersion": 2, "mediaType": MT_INDEX,
                                  "manifests": [md]})}
    for h, b in blobs.items():
        files["blobs/sha256/" + h] = b
    for p, b in files.items():
        full = os.path.join(out, p)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(b)
    if spec.get("oci_archive"):
        write_tar(spec["oci_archive"], files)
    if spec.get("docker_save"):
        ds = {"config.json": cbytes}
        paths = []
        for i, (d, (tar, comp)) in enumerate(zip(layers, tars)):
            p = "%02d/layer.tar" % i
            ds[p] = blobs[d["digest"][7:]]
            paths.append(p)
        ds["manifest.json"] = canon([{"Config": "config.json", "RepoTags": ["img:" + ref],
                                      "Layers": paths}])
        write_tar(spec["docker_save"], ds)
    print(md["digest"])


def write_tar(path, files):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        dirs = set()
        for p in files:
            d = os.path.dirname(p)
            while d:
                dirs.add(d)
                d = os.path.dirname(d)
        for p in sorted(dirs | set(files)):
            ti = tarfile.TarInfo(p)
            ti.mtime = MTIME
            if p in files:
                ti.size = len(files[p])
                ti.mode = 0o644
                tf.addfile(ti, io.BytesIO(files[p]))
            else:
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                tf.addfile(ti)


# ---------------------------------------------------------------------------
# tree listing, in the format of testdata's expected/*.tree

def esc(s):
    return s.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace") \
        .replace("\n", "\\n").replace(" ", "\\x20")


def tree(root, brief=False, with_mtime=False, out=sys.stdout):
    paths = []
    for dp, dns, fns in os.walk(root):
        dns.sort()
        for n in dns + fns:
            paths.append(os.path.relpath(os.path.join(dp, n), root))
    paths.sort()
    first = {}
    lines = []
    for p in paths:
        full = os.path.join(root, p)
        st = os.lstat(full)
        m = st.st_mode
        kind = ("dir" if stat.S_ISDIR(m) else "symlink" if stat.S_ISLNK(m) else
                "fifo" if stat.S_ISFIFO(m) else "char" if stat.S_ISCHR(m) else
                "block" if stat.S_ISBLK(m) else "socket" if stat.S_ISSOCK(m) else "file")
        extra = ""
        content = None
        if kind == "file":
            with open(full, "rb") as f:
                content = f.read()
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in first:
                kind = "hardlink"
                extra = " link=%s" % esc(first[key])
            elif st.st_nlink > 1:
                first[key] = p
            extra += " size=%d sha256=%s" % (len(content), sha256hex(content))
        elif kind == "symlink":
            extra = " target=%s" % esc(os.readlink(full))
        elif kind in ("char", "block"):
            extra = " rdev=%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
        try:
            xs = sorted(os.listxattr(full, follow_symlinks=False))
        except OSError:
            xs = []
        for x in xs:
            if x == "security.selinux":
                continue
            v = os.getxattr(full, x, follow_symlinks=False)
            if v and all(0x21 <= c < 0x7f for c in v):
                v = v.decode()
            else:
                v = "0x" + v.hex()
            extra += " xattr.%s=%s" % (x, v)
        if brief:
            short = {"dir": "d", "file": "f", "hardlink": "f", "symlink": "l",
                     "fifo": "p", "char": "c", "block": "b", "socket": "s"}[kind]
            if kind in ("file", "hardlink"):
                s = "%s f %s" % (esc(p), esc(content.decode("utf-8", "surrogateescape")))
            elif kind == "symlink":
                s = "%s l %s" % (esc(p), esc(os.readlink(full)))
            else:
                s = "%s %s" % (esc(p), short)
            lines.append(s.rstrip(" "))
            continue
        s = "%s %s %04o %d:%d%s" % (esc(p), kind, stat.S_IMODE(m), st.st_uid, st.st_gid, extra)
        if with_mtime:
            s += " mtime=%d" % st.st_mtime
        lines.append(s)
    out.write("".join(l + "\n" for l in lines))


def tar_order_key(name):
    parts = name.rstrip(b"/").split(b"/")
    return [(0 if i == len(parts) - 1 and c.startswith(b".wh.") else 1, c)
            for i, c in enumerate(parts)]


def tarorder(lines):
    names = [l for l in lines.split(b"\n") if l]
    for a, b in zip(names, names[1:]):
        if tar_order_key(a) >= tar_order_key(b):
            print("out of order: %r before %r" % (a, b))
            sys.exit(1)


def main(argv):
    if len(argv) == 2 and argv[1] == "tarorder":
        tarorder(sys.stdin.buffer.read())
        return
    if len(argv) >= 4 and len(argv) % 2 == 0 and argv[1] == "build":
        for out, sp in zip(argv[2::2], argv[3::2]):
            with (sys.stdin if sp == "-" else open(sp)) as src:
                build(out, json.load(src))
        return
    if len(argv) >= 3 and argv[1] == "tree":
        args = argv[2:]
        brief = "--brief" in args
        mt = "--mtime" in args
        args = [a for a in args if not a.startswith("--")]
        if len(args) == 1:
            tree(args[0], brief, mt)
            return
        for d, o in zip(args[::2], args[1::2]):
            with open(o, "w") as f:
                if os.path.isdir(d):
                    tree(d, brief, mt, f)
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
