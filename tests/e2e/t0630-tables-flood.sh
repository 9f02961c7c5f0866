#!/usr/bin/env bash
# Hash flooding: 150,000 names chosen to share one bucket under the old
# unkeyed path hash (FNV-1a, derived here from that function) cost one probe
# each with the keyed hash, not a walk of all the others: an oci-archive
# with them as members, and a layer with them as files, each well under a
# generous time bound (they took 15-90 s with FNV-1a).
. "$(dirname "$0")/test-lib.sh"

LIB="$OCI_SOURCE_DIR/tests/e2e/lib-layers.py"

# names whose FNV-1a hashes agree in their low 20 bits: FNV-1a's low bits
# depend only on the low bits of the state, so 18 stages of two 4-byte blocks
# that lead one state to the same next state give 2^18 such names
python3 - "$TMP" <<'PY' || { echo "Bail out! cannot make the names"; exit 1; }
import json, random, sys
P, B, MASK = 1099511628211, 1469598103934665603, (1 << 20) - 1
def run(s, bs):
    for b in bs:
        s = ((s ^ b) * P) & MASK
    return s
rnd = random.Random(1)
AL = b"abcdefghijklmnopqrstuvwxyz0123456789"
s, stages = B & MASK, []
for _ in range(18):
    seen = {}
    while True:
        blk = bytes(rnd.choice(AL) for _ in range(4))
        e = run(s, blk)
        if e in seen and seen[e] != blk:
            stages.append((seen[e], blk))
            s = e
            break
        seen[e] = blk
names = [b"".join(stages[j][(i >> j) & 1] for j in range(18)).decode() for i in range(150000)]
assert len({run(B & MASK, n.encode()) for n in names}) == 1
open(sys.argv[1] + "/names", "w").write("\n".join(names) + "\n")
json.dump({"ref": "t", "comp": "zstd", "layers": [["f=x"] + names]},
          open(sys.argv[1] + "/spec.json", "w"))
PY

python3 "$LIB" build "$TMP/img" "$TMP/spec.json" >/dev/null
ok $? "made an image with a layer of 150,000 colliding names"

# an oci-archive holding the layout, plus every name as a member
python3 - "$TMP" <<'PY'
import io, os, sys, tarfile
t = sys.argv[1]
with tarfile.open(t + "/flood.tar", "w", format=tarfile.USTAR_FORMAT) as tf:
    for root, dirs, files in os.walk(t + "/img"):
        for f in sorted(files):
            p = os.path.join(root, f)
            tf.add(p, os.path.relpath(p, t + "/img"))
    for n in open(t + "/names").read().split():
        ti = tarfile.TarInfo(n)
        tf.addfile(ti, io.BytesIO(b""))
PY
ok $? "made an oci-archive with 150,000 colliding member names"

# The bound is on CPU time in user space (the table's work), not on wall
# time, so a loaded machine cannot fail it: colliding names under the old
# hash cost 15-90 s of it, the keyed table well under a second. The wall
# limit only guards against a hang.
cpu_bound() { # NAME MAXSECONDS CMD...: exit 0 and user CPU time under MAXSECONDS
	local name=$1 max=$2 t
	shift 2
	{
		TIMEFORMAT=%U
		time timeout 300 "$@" >"$TMP/out" 2>"$TMP/err"
	} 2>"$TMP/cpu"
	status=$?
	t=$(cat "$TMP/cpu")
	if [ "$status" -eq 0 ] && awk -v t="$t" -v m="$max" 'BEGIN { exit !(t < m) }'; then
		pass "$name"
	else
		fail "$name" "exit $status, user CPU ${t}s (bound ${max}s); stderr: $(head -c 300 "$TMP/err")"
	fi
}

cpu_bound "oci-inspect --refs of the archive: under 10 s of user CPU" 10 oci-inspect --refs "$TMP/flood.tar"
like "^t	sha256:" "--refs names the image"

cpu_bound "oci-unpack of the layer: under 10 s of user CPU" 10 oci-unpack --rootfs "$TMP/img:t" "$TMP/root"
is "$(find "$TMP/root" -mindepth 1 | wc -l)" 150001 "every file is there"

done_testing
