#!/usr/bin/env bash
# The bounds of every walk through indexes (oci/image.h, docs/security.md):
# 8 nested indexes, 10,000 distinct indexes and manifests, 100,000
# descriptors followed. At a bound the layout loads; past it, every tool
# refuses with one line (verify: one problem line) and never runs long.
. "$(dirname "$0")/test-lib.sh"
SHAPES="$OCI_SOURCE_DIR/tests/e2e/lib-shapes.py"
python3 "$SHAPES" deep "$TMP/d8" 8 && python3 "$SHAPES" deep "$TMP/d9" 9 &&
	python3 "$SHAPES" wide "$TMP/w9999" 9999 && python3 "$SHAPES" wide "$TMP/w10001" 10001 &&
	python3 "$SHAPES" edges "$TMP/e99k" 4 24990 && python3 "$SHAPES" edges "$TMP/e100k" 4 25001 ||
	exit 1

t() { timeout -k 5 60 "$@"; }

# depth
expect 0 "8 nested indexes: shown" t oci-inspect "$TMP/d8"
expect 0 "8 nested indexes: unpacked" t oci-unpack --rootless --platform linux/amd64 "$TMP/d8" "$TMP/b8"
expect_fail "9 nested indexes: inspect refuses" t oci-inspect "$TMP/d9"
err_like 'nested deeper than 8 levels' "... saying why"
expect_fail "9 nested indexes: unpack refuses" t oci-unpack --rootless --platform linux/amd64 "$TMP/d9" "$TMP/b9"
[ ! -e "$TMP/b9" ] && pass "... leaving no bundle" || fail "... leaving no bundle"
expect 1 "9 nested indexes: verify names it" t oci-inspect --verify "$TMP/d9"
like '^index sha256:[0-9a-f]{64} deep index sha256:[0-9a-f]{64}: nested deeper than 8 levels$' \
	"... in one problem line"

# distinct nodes: an index of 9,999 (10,000 with it) and of 10,001 empty indexes
expect 0 "10,000 distinct nodes: shown" t oci-inspect "$TMP/w9999"
expect_fail "10,002 distinct nodes: inspect refuses" t oci-inspect "$TMP/w10001"
err_like 'more than 10000 distinct indexes and manifests' "... saying why"
expect_fail "10,002 distinct nodes: --refs refuses" t oci-inspect --refs "$TMP/w10001"
expect_fail "10,002 distinct nodes: unpack refuses" t oci-unpack --rootless "$TMP/w10001" "$TMP/bw"
err_like 'more than 10000 distinct' "... saying why"
expect 1 "10,002 distinct nodes: verify names it" t oci-inspect --verify "$TMP/w10001"
is "$(grep -c 'more than 10000 distinct indexes and manifests reachable' "$TMP/out")" 1 "... in one problem line"
expect_fail "10,002 distinct nodes: repair refuses" t oci-inspect --repair --dry-run "$TMP/w10001"

# descriptors followed: 4 indexes of 24,990 entries (99,964 with the top),
# then of 25,001 (100,008)
expect 0 "99,964 descriptors: shown" t oci-inspect "$TMP/e99k"
expect_fail "100,008 descriptors: inspect refuses" t oci-inspect "$TMP/e100k"
err_like 'more than 100000 descriptors' "... saying why"
expect_fail "100,008 descriptors: unpack refuses" t oci-unpack --rootless "$TMP/e100k" "$TMP/be"
expect 1 "100,008 descriptors: verify names it" t oci-inspect --verify "$TMP/e100k"
is "$(grep -c 'more than 100000 descriptors reachable through indexes' "$TMP/out")" 1 "... in one problem line"

done_testing
