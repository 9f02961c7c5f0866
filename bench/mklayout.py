#!/usr/bin/env python3
"""bench/mklayout.py: an OCI layout from plain tar files, made without our tools.

    mklayout.py [--compress gzip|zstd] OUT TAG LAYER.tar...

Each tar becomes one layer (in order), compressed with the system's `gzip -n -6`
(one gzip member, as Docker, umoci and containerd write) or `zstd -3`; the
diff_ids are the tars' sha256. The config names linux/amd64 and nothing else.
The tars are removed once compressed (they can be large; the layout is what
the benchmarks need)."""
import hashlib, json, os, subprocess, sys


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def put_blob(out, data_or_path):
    d = os.path.join(out, "blobs", "sha256")
    if isinstance(data_or_path, bytes):
        dg = hashlib.sha256(data_or_path).hexdigest()
        with open(os.path.join(d, dg), "wb") as f:
            f.write(data_or_path)
        return dg, len(data_or_path)
    dg = sha256_file(data_or_path)
    size = os.path.getsize(data_or_path)
    os.replace(data_or_path, os.path.join(d, dg))
    return dg, size


def main():
    args = sys.argv[1:]
    comp = "gzip"
    if args[:1] == ["--compress"]:
        comp, args = args[1], args[2:]
    out, tag, tars = args[0], args[1], args[2:]
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    layers, diff_ids = [], []
    for t in tars:
        diff_ids.append("sha256:" + sha256_file(t))
        z = t + (".gz" if comp == "gzip" else ".zst")
        cmd = ["gzip", "-n", "-6", "-c", t] if comp == "gzip" else ["zstd", "-q", "-3", "-c", t]
        with open(z, "wb") as f:
            subprocess.run(cmd, stdout=f, check=True)
        os.unlink(t)
        dg, size = put_blob(out, z)
        mt = "application/vnd.oci.image.layer.v1.tar+" + comp
        layers.append({"mediaType": mt, "digest": "sha256:" + dg, "size": size})
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": "bench/mklayout.py"} for _ in tars],
    }
    cdg, csize = put_blob(out, json.dumps(config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + cdg, "size": csize},
        "layers": layers,
    }
    mdg, msize = put_blob(out, json.dumps(manifest, sort_keys=True).encode())
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": "sha256:" + mdg, "size": msize,
                       "annotations": {"org.opencontainers.image.ref.name": tag}}],
    }
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


main()
