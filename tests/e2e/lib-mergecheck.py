#!/usr/bin/env python3
"""lib-mergecheck.py: the merged stream against the unpacked tree.

  lib-mergecheck.py gen SEED COUNT DIR OUTSIDE
        COUNT random images (seeded) at DIR/iN (layouts, ref t): small trees of
        directories, files, symlinks (relative, absolute, "..", out of the root,
        into OUTSIDE, dangling, loops), hard links, FIFOs, devices, whiteouts,
        opaque whiteouts, every type replaced by every type; DIR/iN.json the spec
  lib-mergecheck.py check START CASE...
        CASE is a directory holding what t065x made of one image:
          rc.disk   oci-unpack IMAGE B's exit status, rc.stream  oci-unpack IMAGE -'s,
          s.tar     the stream, B/rootfs, B2/rootfs (oci-unpack of the stream committed
          as a layer) and X (GNU tar -x of the stream), rc.b2, rc.x
        Prints one line per case: "PASS NAME" or "FAIL NAME: why" (then the diff).
        START: the test's start time; a directory whose mtime on disk is later
        was changed by the unpack itself (made as a parent): its mtime is not
        compared.
"""

import json
import os
import random
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def lib_layers():
    import importlib.util
    spec = importlib.util.spec_from_file_location("lib_layers", os.path.join(HERE, "lib-layers.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


DIRS = ["a", "b", "c"]
LEAVES = ["f", "g", "h"]


def rand_path(rnd, leaf, depth=3):
    """directories are mostly named a, b, c and the rest f, g, h: most entries
    then land, and now and then a name takes the other kind (every type replaced
    by every type)"""
    comps = [rnd.choice(DIRS) for _ in range(rnd.randint(0 if leaf else 1, depth - 1))]
    if leaf:
        comps.append(rnd.choice(LEAVES if rnd.random() < 0.8 else DIRS))
    elif rnd.random() < 0.1:
        comps.append(rnd.choice(LEAVES))
    return "/".join(comps)


def spell(rnd, p):
    """the same path as a hostile tar may spell it"""
    k = rnd.random()
    if k < 0.08:
        return "./" + p
    if k < 0.12:
        return "/" + p
    if k < 0.16:
        return "x/../" + p
    return p


def rand_entry(rnd, outside, made):
    kind = rnd.choices("fdlhpcwo", weights=[30, 22, 16, 10, 3, 2, 12, 5])[0]
    p = rand_path(rnd, kind not in "dwo")
    meta = {"mtime": rnd.choice([1000000000, 1200000000, 1500000000, 1600000001]),
            "uid": rnd.choice([0, 0, 1, 1000]), "gid": rnd.choice([0, 0, 2, 1000])}
    if rnd.random() < 0.15 and kind in "fd":
        meta["x"] = {"user.k" + str(rnd.randint(1, 2)): rnd.choice(["v", "w w", "\u00e9"])}
    if kind == "f":
        made.append(p)
        return dict(meta, p=spell(rnd, p), t="f", c=rnd.choice(["", "1", "two", "x" * 700]),
                    mode=rnd.choice([0o644, 0o600, 0o755, 0o4755, 0o2711]))
    if kind == "d":
        if rnd.random() < 0.05:
            return dict(meta, p="./", t="d", mode=rnd.choice([0o755, 0o700, 0o1777]))
        return dict(meta, p=spell(rnd, p) + "/", t="d",
                    mode=rnd.choice([0o755, 0o700, 0o555, 0o1777, 0o2775]))
    if kind == "l":
        made.append(p)
        to = rnd.choice(["a", "b", "c", "a/b", "f", "../f", "a/g", "..", "../..", "../../../..", "../a", "../c/b",
                         "/", "/a", "/b/c", "/a/../b", ".", outside, outside + "/sub",
                         "/nonexist/x", p.split("/")[-1], "../" + p.split("/")[-1]])
        return dict(meta, p=spell(rnd, p), t="l", to=to)
    if kind == "h":
        to = rnd.choice(made) if made and rnd.random() < 0.9 else rand_path(rnd, True)
        made.append(p)
        return dict(meta, p=spell(rnd, p), t="h", to=rnd.choice([to, to, "/" + to, "./" + to]))
    if kind == "p":
        made.append(p)
        return dict(meta, p=p, t="p", mode=0o644)
    if kind == "c":
        made.append(p)
        return dict(meta, p=p, t="c", maj=1, min=3, mode=0o666)
    if kind == "w":
        target = rnd.choice(made) if made and rnd.random() < 0.5 else rand_path(
            rnd, rnd.random() < 0.5)
        d, _, b = target.rpartition("/")
        return {"p": (d + "/" if d else "") + ".wh." + b, "t": "f", "mtime": 1}
    d = rand_path(rnd, False) if rnd.random() < 0.9 else ""
    return {"p": (d + "/" if d else "") + ".wh..wh..opq", "t": "f", "mtime": 1}


# the hostile cases: the review's (hard-link chains whose head goes, a hard
# link then a symlink of one name, entries below a symlink the same layer made,
# a whiteout of a directory keeping the layer's own children) and t0202's
HOSTILE = [
    [["x/", "x/f=1", "x/g=>x/f", "x/h=>x/g"], ["x/.wh.f"]],
    [["x/", "x/f=1", "x/g=>x/f", "x/h=>x/f"], ["x/.wh.f", "x/.wh.g"]],
    [["x/", "x/f=1", "x/g=>x/f"], ["x/.wh..wh..opq", "x/g=>x/g"]],
    [["f=1", "g=>f", "g->f"]],
    [["f=1", "g=>f"], ["g->/etc"]],
    [["f=1", "g=>f", "g->f", "h=>g"]],
    [["host/dir/", "d->/host/dir", "d/pwned=p"]],
    [["host/dir/"], ["d->../../../host/dir", "d/pwned=p", "d/sub/deeper=q"]],
    [["d->@HOST@", "d/pwned=p"]],
    [["d/", {"p": "d/old", "t": "f", "c": "o", "mtime": 5}, {"p": "d/", "t": "d", "mode": 0o700,
                                                             "mtime": 1000}],
     ["d/new=n", ".wh.d"]],
    [["d/", "d/old=o", "d/keep/", "d/keep/k=k"], ["d/keep/new=n", "d/.wh..wh..opq"]],
    [["d/", "d/old=o"], [".wh.d", "d/new=n"]],
    [["link->@HOST@", "link/victim=EVIL"]],
    [["link->../../../host", "link/victim=EVIL", "link/sub/new=EVIL"]],
    [["link->../../../..", "link/tok=EVIL", "link/victim=EVIL"]],
    [["a->b", "b->c", "c->../../../host"], ["a/victim=EVIL", "a/sub/inner=EVIL"]],
    [["d/", "d/up->../..", "x->d/up/../../host"], ["x/victim=EVIL"]],
    [["r->/", "r/tok=EVIL"], ["r/host/victim=EVIL"]],
    [["r->.", "r/r/../../../host/victim=EVIL"]],
    [["link->@HOST@"], [{"p": "link/", "t": "d", "mode": 511, "mtime": 1000}, "link/victim=EVIL"]],
    [["s->@HOST@/victim"], ["s=EVIL"]],
    [["etc/", "etc/passwd=IMAGEPW"], ["h=>/etc/passwd"]],
    [["in/", "in/f=INNER", "h=>../../in/f"]],
    [["host/", "host/victim=v", "l->../../../host"], ["h=>l/victim", "h2=>l/victim"]],
    [["s->@HOST@/victim", "h=>s"], ["h=EVIL"]],
    [["host/", "host/victim=v", "host/sub/", "host/sub/inner=i", "l->@HOST@", "m->/host"],
     ["l/.wh.victim", "m/.wh.sub", "m/.wh.victim"]],
    [["host/", "host/sub/", "host/sub/inner=i", "l->../../../host/sub"], ["l/.wh..wh..opq"]],
    [["x=x", "d/", "d/y=y"], [".wh..wh..opq", "../.wh..wh..opq", "new=new"]],
    [["a=a"], ["./->/"], ["victim=EVIL"]],
    [["d/", "d/a=1", "d->/host", "host/", "d/victim=EVIL"]],
    [["a/", "a/b/", "a/b/f=1", "l->a/b"], ["l/g=>l/f", "a/.wh.b", "a/b/h=2"]],
    [["f=1", "p|", {"p": "c", "t": "c", "maj": 1, "min": 3}, "d/", "s->f"],
     [{"p": "f", "t": "c", "maj": 1, "min": 5}, "p/", "c->d", "d=file", "s|"]],
]


def build_quiet(ll, out, spec):
    with open(os.devnull, "w") as null:
        so, sys.stdout = sys.stdout, null
        try:
            ll.build(out, spec)
        finally:
            sys.stdout = so


def gen(seed, count, outdir, outside):
    ll = lib_layers()
    rnd = random.Random(seed)
    os.makedirs(outdir, exist_ok=True)
    specs = {}
    for i, layers in enumerate(HOSTILE):
        layers = json.loads(json.dumps(layers).replace("@HOST@", outside))
        specs["h%d" % i] = {"ref": "t", "layers": [{"entries": L, "comp": "none"}
                                                  for L in layers]}
    for i in range(count):
        made = []
        layers = []
        for _ in range(rnd.randint(1, 4)):
            entries = [rand_entry(rnd, outside, made) for _ in range(rnd.randint(1, 9))]
            dirs = [e for e in entries if e.get("t") == "d"]
            if dirs and rnd.random() < 0.2:  # a directory given twice in one layer
                again = dict(rnd.choice(dirs), mode=rnd.choice([0o700, 0o750]), mtime=1300000000)
                entries.insert(rnd.randint(entries.index(dirs[0]) + 1, len(entries)), again)
            layers.append({"entries": entries, "comp": "none"})
        specs["i%d" % i] = {"ref": "t", "layers": layers}
    for name, spec in specs.items():
        with open(os.path.join(outdir, name + ".json"), "w") as f:
            json.dump(spec, f)
        build_quiet(ll, os.path.join(outdir, name), spec)
        print(name)


def listing(ll, root):
    import io
    buf = io.StringIO()
    ll.tree(root, False, True, buf)
    out = {}
    for line in buf.getvalue().splitlines():
        path, rest = line.split(" ", 1)
        out[path] = rest
    return out


def stream_problems(tar):
    """names twice, whiteouts, or an entry below a symlink or a non-directory
    of the stream"""
    seen, kinds, bad = set(), {}, []
    with tarfile.open(tar) as tf:
        for ti in tf:
            n = ti.name.rstrip("/")
            if n.startswith("./"):
                n = n[2:]
            if n in seen:
                bad.append("twice: " + n)
            seen.add(n)
            if ".wh." in n:
                bad.append("whiteout: " + n)
            kinds[n] = ti.type
            if ti.islnk() and ti.linkname.rstrip("/") not in seen:
                bad.append("hard link before its target: %s => %s" % (n, ti.linkname))
    for n in kinds:
        parts = n.split("/")
        for k in range(1, len(parts)):
            anc = "/".join(parts[:k])
            if anc in kinds and kinds[anc] != tarfile.DIRTYPE:
                bad.append("below a non-directory: %s (%s)" % (n, anc))
    return bad


def gnu_delayed(want):
    """directories where GNU tar makes a symlink only at the end of the
    extraction (an absolute target or one with ".."): their times move then"""
    dirs = set()
    for p, rest in want.items():
        if rest.startswith("symlink "):
            t = rest.split(" target=", 1)[1].rsplit(" mtime=", 1)[0]
            if t.startswith("/") or ".." in t.split("/"):
                dirs.add(p.rpartition("/")[0])
    return dirs


def compare(ll, start, want_root, got_root, gnu=False):
    want, got = listing(ll, want_root), listing(ll, got_root)
    delayed = gnu_delayed(want) if gnu else set()
    lines = []
    for p in sorted(set(want) | set(got)):
        w, g = want.get(p), got.get(p)
        if w and g and w.startswith("dir ") and g.startswith("dir "):
            wm = int(w.rsplit("mtime=", 1)[1])
            if wm >= start:
                # made as a parent by the unpack itself: its time is the
                # unpack's, and a setgid parent may have given it its bit and
                # group (the layer gave it nothing)
                w, g = w.rsplit(" mtime=", 1)[0], g.rsplit(" mtime=", 1)[0]
                w, g = w.split(" ")[0] + " " + w.split(" ")[2].split(":")[0], \
                    g.split(" ")[0] + " " + g.split(" ")[2].split(":")[0]
            elif p in delayed:
                w, g = w.rsplit(" mtime=", 1)[0], g.rsplit(" mtime=", 1)[0]
        if w != g:
            lines.append("  %s\n    disk:   %s\n    stream: %s" % (p, w, g))
    return lines


def read(case, name):
    try:
        with open(os.path.join(case, name)) as f:
            return f.read().strip()
    except OSError:
        return ""


def check(start, cases):
    ll = lib_layers()
    for case in cases:
        name = os.path.basename(case)
        rd, rs = read(case, "rc.disk"), read(case, "rc.stream")
        if rd != "0" or rs != "0":
            size = os.path.getsize(os.path.join(case, "s.tar")) if os.path.exists(
                os.path.join(case, "s.tar")) else 0
            ed, es = read(case, "err.disk"), read(case, "err.stream")
            if rd == rs == "2" and size == 0 and ed == es:
                print("PASS %s (both refuse)" % name)
            else:
                print("FAIL %s: oci-unpack IMAGE B exits %s (%s), IMAGE - exits %s (%d bytes; %s)"
                      % (name, rd, ed, rs, size, es))
            continue
        why = []
        if read(case, "rc.b2") != "0":
            why.append("the stream committed and unpacked: exit %s %s" % (read(case, "rc.b2"),
                                                                           read(case, "err.b2")))
        if read(case, "rc.x") != "0":
            why.append("GNU tar -x of the stream: exit %s %s" % (read(case, "rc.x"),
                                                               read(case, "err.x")))
        why += stream_problems(os.path.join(case, "s.tar"))
        d1 = compare(ll, start, os.path.join(case, "B/rootfs"), os.path.join(case, "B2/rootfs"))
        if d1:
            why.append("oci-unpack of the stream differs:\n" + "\n".join(d1))
        d2 = compare(ll, start, os.path.join(case, "B/rootfs"), os.path.join(case, "X"), True)
        if d2:
            why.append("GNU tar -x of the stream differs:\n" + "\n".join(d2))
        if why:
            print("FAIL %s: %s" % (name, "\n".join(why)))
        else:
            print("PASS %s" % name)


def main(argv):
    if len(argv) == 6 and argv[1] == "gen":
        gen(int(argv[2]), int(argv[3]), argv[4], argv[5])
        return
    if len(argv) >= 3 and argv[1] == "check":
        check(int(argv[2]), argv[3:])
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
