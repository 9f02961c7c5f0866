#!/usr/bin/env bash
# A docker-save archive whose 1,000 images share the same five 3 MB layers:
# each layer member is read and hashed once per open, not once per image
# that names it (that was 15 GB of hashing for a 15 MB archive).
. "$(dirname "$0")/test-lib.sh"

python3 - "$TMP/shared.tar" <<'PY' || { echo "Bail out! cannot make the archive"; exit 1; }
import gzip, hashlib, io, json, os, random, sys, tarfile
rnd = random.Random(5)
members, layers, diff_ids = [], [], []
for i in range(5):
    t = io.BytesIO()
    with tarfile.open(fileobj=t, mode="w", format=tarfile.PAX_FORMAT) as tf:
        data = rnd.randbytes(3 << 20)
        ti = tarfile.TarInfo("data%d" % i)
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    raw = t.getvalue()
    diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
    name = "layer%d/layer.tar" % i
    members.append((name, gzip.compress(raw, compresslevel=1, mtime=0)))
    layers.append(name)
manifest = []
for n in range(1000):
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "config": {"Labels": {"n": str(n)}},
                      "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    cname = hashlib.sha256(cfg).hexdigest() + ".json"
    members.append((cname, cfg))
    manifest.append({"Config": cname, "RepoTags": ["img:%d" % n], "Layers": layers})
members.append(("manifest.json", json.dumps(manifest).encode()))
with tarfile.open(sys.argv[1], "w", format=tarfile.USTAR_FORMAT) as tf:
    for name, data in members:
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
PY
pass "made a docker-save archive of 1,000 images over five shared layers"

expect 0 "--refs exits 0 (timeout 20 s)" timeout 20 oci-inspect --refs "$TMP/shared.tar"
is "$(wc -l <"$TMP/out")" 1000 "--refs lists the 1,000 images"
expect 0 "--verify of the archive exits 0 (timeout 60 s)" timeout 60 oci-inspect --verify "$TMP/shared.tar"
expect 0 "one image unpacks" timeout 20 oci-unpack --rootfs "$TMP/shared.tar:img:999" "$TMP/root"
is "$(ls "$TMP/root" | paste -sd,)" "data0,data1,data2,data3,data4" "with its five layers"

done_testing
