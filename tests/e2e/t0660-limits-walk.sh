#!/usr/bin/env bash
# Walk bounds exactly at the limit and one past it (docs/security.md "Image
# shapes", oci/image.h): 10,000 distinct indexes and manifests
# (OCI_MAX_WALK_NODES) and 100,000 descriptors listed by the indexes one walk
# reaches (OCI_MAX_WALK_EDGES), and verify's 1,000,000 visits. t0621 checks a little under and a little over;
# this checks the exact edge, so an off-by-one either way fails here.
. "$(dirname "$0")/test-lib.sh"
SHAPES="$OCI_SOURCE_DIR/tests/e2e/lib-shapes.py"
# wide N: the top index and N distinct empty indexes = N + 1 nodes.
# edges N K: the top index lists N, each of N indexes lists K: N + N*K descriptors
# (4 + 4*24999 = 100,000; 11 + 11*9090 = 100,001).
python3 "$SHAPES" wide "$TMP/w10000" 9999 && python3 "$SHAPES" wide "$TMP/w10001" 10000 &&
	python3 "$SHAPES" edges "$TMP/e100000" 4 24999 &&
	python3 "$SHAPES" edges "$TMP/e100001" 11 9090 || exit 1

t() { timeout -k 5 60 "$@"; }

expect 0 "exactly 10,000 distinct nodes: shown" t oci-inspect "$TMP/w10000"
expect_fail "10,001 distinct nodes: inspect refuses" t oci-inspect "$TMP/w10001"
err_like 'more than 10000 distinct indexes and manifests reachable' "... saying why"
expect 1 "10,001 distinct nodes: verify names it" t oci-inspect --verify "$TMP/w10001"
is "$(grep -c 'more than 10000 distinct indexes and manifests reachable' "$TMP/out")" 1 \
	"... in one problem line"

expect 0 "exactly 100,000 descriptors: shown" t oci-inspect "$TMP/e100000"
expect_fail "100,001 descriptors: inspect refuses" t oci-inspect "$TMP/e100001"
err_like 'more than 100000 descriptors reachable through indexes' "... saying why"
expect 1 "100,001 descriptors: verify names it" t oci-inspect --verify "$TMP/e100001"
is "$(grep -c 'more than 100000 descriptors reachable through indexes' "$TMP/out")" 1 \
	"... in one problem line"

# --verify: all walks together visit at most 1,000,000 descriptors
# (VERIFY_MAX_VISITS, verify.c). Each descriptor listed counts, the top one
# too, repeats included; each document is walked once per walk.
mkvisits() {
	python3 - "$SHAPES" "$@" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("shapes", sys.argv[1])
S = importlib.util.module_from_spec(spec); spec.loader.exec_module(S)
out, total = sys.argv[2], int(sys.argv[3])
lay = S.Layout(out)
e = lay.index([])
# 9 walks of 100,001 visits (the top, 4 distinct kids, 4 x 24,999 listings of e)
K = [lay.index([e] * 24999, annotations={"k": str(j)}) for j in range(4)]
tops = [lay.index(K, annotations={"r": str(r)}) for r in range(9)]
rest = total - 9 * 100001
# a 10th walk of `rest` visits: its top, 4 kids, and rest - 5 listings spread over them
n = rest - 5
sizes = [n // 4 + (1 if j < n % 4 else 0) for j in range(4)]
L = [lay.index([e] * s, annotations={"l": str(j)}) for j, s in enumerate(sizes)]
tops.append(lay.index(L, annotations={"r": "last"}))
for r, t in enumerate(tops):
    t["annotations"] = S.ref("r%d" % r)
lay.top(tops)
PY
}
mkvisits "$TMP/v1000000" 1000000 && mkvisits "$TMP/v1000001" 1000001 || exit 1
expect 0 "exactly 1,000,000 visits: verify finds nothing" t oci-inspect --verify "$TMP/v1000000"
is "$(grep -c 'not verified to the end' "$TMP/out")" 0 "... and says nothing of the bound"
expect 1 "1,000,001 visits: verify stops" t oci-inspect --verify "$TMP/v1000001"
is "$(grep -c '^index - r9 not verified to the end: the walks from the refs visit more than 1000000 descriptors$' "$TMP/out")" 1 \
	"... in one problem line naming the last ref"

done_testing
