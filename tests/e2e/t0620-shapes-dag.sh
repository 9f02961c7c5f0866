#!/usr/bin/env bash
# A small layout whose index DAG has 2^40 paths (indexes naming one child 32
# times, 8 levels): every tool walks it in time and memory proportional to
# the layout (each document read and parsed once, a repeat printed once and
# referred to), never to its number of paths.
. "$(dirname "$0")/test-lib.sh"
SHAPES="$OCI_SOURCE_DIR/tests/e2e/lib-shapes.py"
L=$TMP/dag
python3 "$SHAPES" dag "$L" --tar "$TMP/dag.tar" || exit 1
python3 "$SHAPES" dag "$TMP/bad" --bad-size || exit 1
size=$(du -sk "$L" | cut -f1)
diag "layout: ${size} KiB, 32^8 = 2^40 paths to one manifest"

# bounded STATUS NAME CMD...: exit STATUS within 20 s and under 200 MB
bounded() {
	local want=$1 name=$2
	shift 2
	timeout -k 5 20 /usr/bin/time -f %M -o "$TMP/rss" "$@" >"$TMP/out" 2>"$TMP/err"
	status=$?
	local rss
	rss=$(tail -n 1 "$TMP/rss" 2>/dev/null)
	if [ "$status" -eq "$want" ] && [ "${rss:-999999999}" -lt 200000 ]; then
		pass "$name (peak ${rss} KB)"
	else
		fail "$name" "exit $status (want $want), peak RSS ${rss:-?} KB; $(head -c 300 "$TMP/err")"
	fi
}

bounded 0 "inspect: the tree" oci-inspect "$L"
lines=$(wc -l <"$TMP/out")
[ "$lines" -gt 10 ] && [ "$lines" -lt 400 ] && pass "the tree is as long as the layout ($lines lines)" ||
	fail "the tree is as long as the layout" "$lines lines"
like '\(repeated: shown above\)$' "a repeated node is one line that refers to the first"
like '^total: 2 manifests, 2 layers' "totals count each manifest once"
is "$(grep -c 'config sha256' "$TMP/out")" 2 "each manifest's config is shown once"

bounded 0 "inspect --json" oci-inspect --json "$L"
python3 - "$TMP/out" <<'PY' && pass "--json: repeats marked, nothing expanded twice" || fail "--json: repeats marked"
import json, sys
d = json.load(open(sys.argv[1]))
seen, reps = set(), 0
def walk(n):
    global reps
    if n.get("repeated"):
        reps += 1
        assert "manifests" not in n and "config" not in n
        assert (n["kind"], n["digest"]) in seen
        return
    seen.add((n["kind"], n["digest"]))
    for c in n.get("manifests", []):
        walk(c)
for n in d["manifests"]:
    walk(n)
assert reps == 7 * 31 + 31, reps
assert d["totals"]["manifests"] == 2
PY

bounded 0 "inspect --refs" oci-inspect --refs "$L"
like $'^dag\tsha256:[0-9a-f]{64}\tapplication/vnd.oci.image.index.v1\\+json\tlinux/s390x,linux/amd64$' \
	"--refs: each platform once"

bounded 0 "inspect --verify" oci-inspect --verify "$L"
err_like '0 problems' "--verify: the DAG is a valid layout"

bounded 0 "inspect --platform (resolution)" oci-inspect --manifest --platform linux/amd64 "$L:dag"
like '"architecture"|"layers"' "--manifest: the amd64 manifest found after searching the DAG"

bounded 2 "no platform match: each index searched once, then fails" oci-inspect --manifest --platform linux/arm64 "$L:dag"
err_like 'no manifest for platform linux/arm64; platforms present: linux/s390x, linux/amd64' \
	"the error lists each platform once"

bounded 0 "oci-unpack resolves through the DAG" oci-unpack --rootless --platform linux/amd64 "$L:dag" "$TMP/b1"
[ -f "$TMP/b1/rootfs/etc/good" ] && pass "the amd64 image was unpacked" || fail "the amd64 image was unpacked"

bounded 0 "the same as an oci-archive" oci-inspect "$TMP/dag.tar"
lines=$(wc -l <"$TMP/out")
[ "$lines" -gt 10 ] && [ "$lines" -lt 400 ] && pass "archive tree: $lines lines" || fail "archive tree" "$lines lines"
bounded 0 "oci-unpack from the archive" oci-unpack --rootless --platform linux/amd64 "$TMP/dag.tar:dag" "$TMP/b2"
bounded 0 "verify of the archive" oci-inspect --verify "$TMP/dag.tar"

# 1000 refs to the DAG's top index: the tree shows each entry whole, so it
# would be 1000 times as long: refused past the descriptor bound (--refs
# too); one ref of it, and --verify (one walk for refs naming one
# descriptor) are fine
cp -r "$L" "$TMP/many"
python3 - "$TMP/many/index.json" <<'PY'
import json, sys
idx = json.load(open(sys.argv[1]))
t = idx["manifests"][0]
idx["manifests"] = [dict(t, annotations={"org.opencontainers.image.ref.name": "r%d" % i}) for i in range(1000)]
json.dump(idx, open(sys.argv[1], "w"))
PY
bounded 2 "1000 refs to the DAG: the whole tree is refused" oci-inspect "$TMP/many"
err_like 'more than 100000 descriptors' "... past the descriptor bound, in one line"
bounded 0 "... one of them is shown" oci-inspect "$TMP/many:r999"
bounded 0 "... and verified with the rest in one walk" oci-inspect --verify "$TMP/many"
bounded 0 "... and unpacked" oci-unpack --rootless --platform linux/amd64 "$TMP/many:r500" "$TMP/b4"

# every path through I0 gives the manifest's size off by one: each descriptor
# is fixed once, each index rewritten once
cp -r "$TMP/bad" "$TMP/bad2"
bounded 1 "verify: a wrong size on every path" oci-inspect --verify "$TMP/bad"
is "$(grep -c '^size ' "$TMP/out")" 1 "... is one problem line"
bounded 0 "repair --dry-run" oci-inspect --repair --dry-run "$TMP/bad"
is "$(grep -c '^would fix size ' "$TMP/out")" 32 "one size fix per descriptor (32), not per path"
is "$(grep -c '^would fix rewrite ' "$TMP/out")" 8 "each index rewritten once (8)"
bounded 0 "repair" oci-inspect --repair "$TMP/bad2"
is "$(grep -c '^fixed rewrite ' "$TMP/out")" 8 "repair rewrote 8 indexes"
expect 0 "the repaired layout verifies" oci-inspect --verify "$TMP/bad2"
bounded 0 "and unpacks" oci-unpack --rootless --platform linux/amd64 "$TMP/bad2:dag" "$TMP/b3"

done_testing
