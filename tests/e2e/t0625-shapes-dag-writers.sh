#!/usr/bin/env bash
# The writers on the t0620 DAG (indexes naming one child 32 times, 8 levels:
# 2^40 paths): oci-copy of the whole index and oci-commit onto a parent chosen
# from it load, convert and write each distinct document once, so they finish
# in time proportional to the layout; a DAG past the shared walk bounds is
# refused with one line.
. "$(dirname "$0")/test-lib.sh"
SHAPES="$OCI_SOURCE_DIR/tests/e2e/lib-shapes.py"
MT_INDEX=application/vnd.oci.image.index.v1+json
L=$TMP/dag
python3 "$SHAPES" dag "$L" --tar "$TMP/dag.tar" || exit 1
python3 "$SHAPES" deep "$TMP/d9" 9 || exit 1
python3 "$SHAPES" edges "$TMP/e100k" 4 25001 || exit 1

# bounded STATUS NAME CMD...: exit STATUS within 20 s
bounded() {
	local want=$1 name=$2
	shift 2
	timeout -k 5 20 "$@" >"$TMP/out" 2>"$TMP/err"
	status=$?
	if [ "$status" -eq "$want" ]; then
		pass "$name"
	else
		fail "$name" "exit $status (want $want); $(head -c 300 "$TMP/err")"
	fi
}
# clean NAME IMAGE: oci-inspect --verify finds nothing wrong
clean() {
	timeout -k 5 20 oci-inspect --verify "$2" >"$TMP/vout" 2>"$TMP/verr"
	if [ $? -eq 0 ] && grep -q ' 0 problems' "$TMP/verr"; then
		pass "$1"
	else
		fail "$1" "$(head -c 300 "$TMP/verr")"
	fi
}
# one_line NAME PATTERN: exactly one stderr line, matching PATTERN
one_line() {
	if [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -Eq "$2" "$TMP/err"; then
		pass "$1"
	else
		fail "$1" "$(head -c 300 "$TMP/err")"
	fi
}

# ---- oci-copy ----
bounded 0 "oci-copy of the DAG into a layout" oci-copy "$L:dag" "$TMP/c1:dag"
clean "the copied layout verifies clean" "$TMP/c1"
is "$(oci-inspect --refs "$TMP/c1" | cut -f2)" "$(oci-inspect --refs "$L" | cut -f2)" \
	"the copy is the same top index, byte for byte"
bounded 0 "oci-copy of the DAG into an oci-archive" oci-copy "$L:dag" "$TMP/c2.tar"
clean "the copied archive verifies clean" "$TMP/c2.tar"
bounded 0 "oci-copy of the DAG from its archive into a layout" oci-copy "$TMP/dag.tar:dag" "$TMP/c3:dag"
clean "the layout from the archive verifies clean" "$TMP/c3"
bounded 0 "oci-copy of the DAG, converted to zstd" oci-copy --compression zstd "$L:dag" "$TMP/c4:dag"
clean "the converted copy verifies clean" "$TMP/c4"
[ "$(oci-inspect --refs "$TMP/c4" | cut -f2)" != "$(oci-inspect --refs "$L" | cut -f2)" ] &&
	pass "the converted copy has a new top index" || fail "the converted copy has a new top index"

bounded 2 "oci-copy: indexes nested too deep are refused" oci-copy "$TMP/d9" "$TMP/c5"
one_line "... with one line" 'nested deeper than 8 levels'
[ ! -e "$TMP/c5" ] && pass "... and no layout left" || fail "... and no layout left"
bounded 2 "oci-copy: too many descriptors are refused" oci-copy "$TMP/e100k" "$TMP/c6.tar"
one_line "... with one line" 'more than 100000 descriptors'

# ---- oci-commit ----
cp -a "$L" "$TMP/P"
bounded 0 "oci-commit --from a platform of the DAG" \
	oci-commit -q --from "$L:dag" --platform linux/s390x --env X=1 "$TMP/P:cfg"
is "$(oci-inspect --index "$TMP/P:cfg" | jq -r .mediaType)" "$MT_INDEX" "--from: REF names a new index"
is "$(oci-inspect --config --platform linux/s390x "$TMP/P:cfg" | jq -r '.config.Env[-1]')" X=1 \
	"--from: the s390x config has X=1"
clean "--from: the result verifies clean" "$TMP/P"
bounded 0 "oci-commit --from the DAG into a fresh layout" \
	oci-commit -q --from "$L:dag" --platform linux/s390x --env X=2 "$TMP/F:cfg"
clean "--from, fresh layout: the result verifies clean" "$TMP/F"

oci-unpack -q --rootless --platform linux/amd64 "$L:dag" "$TMP/b" || { echo "Bail out! oci-unpack failed"; exit 1; }
echo changed >"$TMP/b/rootfs/etc/changed"
bounded 0 "oci-commit of a bundle unpacked from the DAG" oci-commit -q "$TMP/b" "$TMP/P:new"
is "$(oci-inspect --index "$TMP/P:new" | jq -r .mediaType)" "$MT_INDEX" "bundle: REF names a new index"
clean "bundle: the result verifies clean" "$TMP/P"

# amd64 first (found at once), then 4 indexes of 25001 entries each: the
# rewrite of the parent index follows more than 100000 descriptors
python3 - "$SHAPES" "$TMP/E" <<'PY' || exit 1
import importlib.util, sys
spec = importlib.util.spec_from_file_location("shapes", sys.argv[1])
s = importlib.util.module_from_spec(spec)
spec.loader.exec_module(s)
lay = s.Layout(sys.argv[2])
m = lay.manifest(lay.image("amd64"), platform={"os": "linux", "architecture": "amd64"})
e = lay.index([])
kids = [lay.index([e] * 25001, annotations={"n": str(i)}) for i in range(4)]
t = lay.index([m] + kids)
t["annotations"] = s.ref("big")
lay.top([t])
PY
bounded 2 "oci-commit onto a parent index past the bound is refused" \
	oci-commit -q --from "$TMP/E:big" --platform linux/amd64 --env X=1 "$TMP/E:x"
one_line "... with one line" 'more than 100000 descriptors'
grep -q '"x"' "$TMP/E/index.json" && fail "... and no ref written" || pass "... and no ref written"

done_testing
