#!/usr/bin/env bash
# Walk bounds exactly at the limit and one past it (docs/security.md "Image
# shapes", oci/image.h): 10,000 distinct indexes and manifests
# (OCI_MAX_WALK_NODES) and 100,000 descriptors listed by the indexes one walk
# reaches (OCI_MAX_WALK_EDGES). t0621 checks a little under and a little over;
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

done_testing
