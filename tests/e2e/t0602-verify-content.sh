#!/usr/bin/env bash
# oci-inspect --verify on lost or corrupt content, one planted fault per
# fresh copy of a good layout: exit 1, one line "KIND DIGEST REFS DETAIL"
# naming exactly the refs the fault breaks (all three for a layer shared by
# three refs). --repair cannot fix these: exit 1, the problem named with its
# refs, nothing deleted, no ref lost.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/t0600-verify-lib.sh"

# unfixable NAME DIR KIND DIGEST REFS: the checks every planted fault gets
unfixable() {
	local name=$1 dir=$2 kind=$3 dg=$4 refs=$5 nblobs nrefs
	expect 1 "$name: --verify exits 1" oci-inspect --verify "$dir"
	only_problem "$kind" "$dg" "$refs" "$name: --verify says '$kind ${dg:0:19}… $refs', once"
	well_formed "$name: --verify lines are KIND DIGEST REFS DETAIL"
	nblobs=$(blob_count "$dir")
	nrefs=$(refs_of "$dir")
	expect 1 "$name: --repair exits 1" oci-inspect --repair "$dir"
	has_problem "$kind" "$dg" "$refs" "$name: --repair names it with the refs it breaks"
	is "$(fixes)" "" "$name: --repair fixes nothing"
	is "$(blob_count "$dir")" "$nblobs" "$name: --repair deletes no blob"
	is "$(refs_of "$dir")" "$nrefs" "$name: --repair keeps every ref"
}

# ---- multi: v1 and v2 share layer 1 ----
fresh flip-data "$TD/multi"
flip "$(blobpath "$TMP/flip-data" "$M_L1")" 30000
unfixable "flipped byte in the shared layer's data" "$TMP/flip-data" digest "$M_L1" v1,v2

fresh flip-crc "$TD/multi"
flip "$(blobpath "$TMP/flip-crc" "$M_L1")" -6
unfixable "flipped byte in the shared layer's gzip CRC" "$TMP/flip-crc" digest "$M_L1" v1,v2

fresh flip-isize "$TD/multi"
flip "$(blobpath "$TMP/flip-isize" "$M_L1")" -2
unfixable "flipped byte in the shared layer's gzip size" "$TMP/flip-isize" digest "$M_L1" v1,v2

fresh flip-l2 "$TD/multi"
flip "$(blobpath "$TMP/flip-l2" "$M_L2")" 100
unfixable "flipped byte in v1's own layer" "$TMP/flip-l2" digest "$M_L2" v1

fresh flip-l3 "$TD/multi"
flip "$(blobpath "$TMP/flip-l3" "$M_L3")" 700
unfixable "flipped byte in v1's plain tar layer" "$TMP/flip-l3" digest "$M_L3" v1

# a truncated blob: the descriptor is right, the content is short; one
# problem (a digest or size mismatch), not one per ref or per symptom
fresh trunc "$TD/multi"
truncate -s 40000 "$(blobpath "$TMP/trunc" "$M_L1")"
unfixable "truncated shared layer" "$TMP/trunc" 'digest|size' "$M_L1" v1,v2
expect 1 "truncated shared layer: --verify --json exits 1" oci-inspect --verify --json "$TMP/trunc"
is "$(jq '[.problems[] | select(.repairable)] | length' "$TMP/out")" 0 \
	"truncated shared layer: not marked repairable (--repair cannot fix lost content)"

fresh miss-l1 "$TD/multi"
rm "$(blobpath "$TMP/miss-l1" "$M_L1")"
unfixable "missing shared layer" "$TMP/miss-l1" missing "$M_L1" v1,v2

fresh miss-l3 "$TD/multi"
rm "$(blobpath "$TMP/miss-l3" "$M_L3")"
unfixable "missing layer of v1 only" "$TMP/miss-l3" missing "$M_L3" v1

fresh miss-c2 "$TD/multi"
rm "$(blobpath "$TMP/miss-c2" "$M_C2")"
unfixable "missing config of v2" "$TMP/miss-c2" missing "$M_C2" v2

fresh miss-m2 "$TD/multi"
rm "$(blobpath "$TMP/miss-m2" "$M_V2")"
unfixable "missing manifest of v2" "$TMP/miss-m2" missing "$M_V2" v2

fresh flip-m1 "$TD/multi"
sed -i 's/"schemaVersion":2/"schemaVersion":3/' "$(blobpath "$TMP/flip-m1" "$M_V1")"
unfixable "changed byte in v1's manifest" "$TMP/flip-m1" digest "$M_V1" v1

# the config's diff_id for layer 1 is wrong in v1's config only: v2, which
# reads the same layer through its own (right) config, is not broken. The
# line names the layer (or the config).
fresh diffid "$TD/multi"
c=$(set_config "$TMP/diffid" v1 ".rootfs.diff_ids[0] = \"$OTHER_DIFF\"")
unfixable "wrong diff_id in v1's config" "$TMP/diffid" diffid "$M_L1|$c" v1

fresh diffcount "$TD/multi"
c=$(set_config "$TMP/diffcount" v2 ".rootfs.diff_ids += [\"$OTHER_DIFF\"]")
unfixable "two diff_ids for v2's one layer" "$TMP/diffcount" diffid "$c" v2

printf 'this is not JSON\n' >"$TMP/notjson"
fresh cfg-notjson "$TD/multi"
c=$(set_config "$TMP/cfg-notjson" v1 --raw "$TMP/notjson")
unfixable "config that is not JSON" "$TMP/cfg-notjson" json "$c" v1
printf '{"architecture":"amd64","os":"linux"' >"$TMP/halfjson"
fresh cfg-half "$TD/multi"
c=$(set_config "$TMP/cfg-half" v2 --raw "$TMP/halfjson")
unfixable "config cut in the middle of its JSON" "$TMP/cfg-half" json "$c" v2

# a layer whose tar stops in the middle of an entry (digest and diff_id right)
printf '{"ref":"t","layers":[["etc/",{"p":"etc/big","c":"%s"}],{"entries":["etc/","etc/f=%s"],"cut":700}]}' \
	"$(head -c 5000 /dev/zero | tr '\0' y)" "$(head -c 2000 /dev/zero | tr '\0' z)" >"$TMP/cut.json"
python3 "$LIBLAYERS" build "$TMP/cut" "$TMP/cut.json" >/dev/null
unfixable "layer tar cut short" "$TMP/cut" tar "$(layer_of "$TMP/cut" t 1)" t

# ---- three refs a, b, c share one layer ----
mk_three "$TMP/three" ''
S=$(layer_of "$TMP/three" a 0)
LB=$(layer_of "$TMP/three" b 1)

fresh t-flip "$TMP/three"
flip "$(blobpath "$TMP/t-flip" "$S")" 40
unfixable "three refs: flipped byte in the shared layer" "$TMP/t-flip" digest "$S" a,b,c

fresh t-crc "$TMP/three"
flip "$(blobpath "$TMP/t-crc" "$S")" -7
unfixable "three refs: flipped byte in the shared layer's gzip trailer" "$TMP/t-crc" digest "$S" a,b,c

fresh t-trunc "$TMP/three"
truncate -s 50 "$(blobpath "$TMP/t-trunc" "$S")"
unfixable "three refs: truncated shared layer" "$TMP/t-trunc" 'digest|size' "$S" a,b,c

fresh t-miss "$TMP/three"
rm "$(blobpath "$TMP/t-miss" "$S")"
unfixable "three refs: missing shared layer" "$TMP/t-miss" missing "$S" a,b,c

fresh t-own "$TMP/three"
flip "$(blobpath "$TMP/t-own" "$LB")" 30
unfixable "three refs: flipped byte in b's own layer" "$TMP/t-own" digest "$LB" b

fresh t-diff "$TMP/three"
for r in a b c; do set_config "$TMP/t-diff" $r ".rootfs.diff_ids[0] = \"$OTHER_DIFF\"" >/dev/null; done
unfixable "three refs: wrong diff_id for the shared layer in every config" "$TMP/t-diff" diffid "$S|sha256:[0-9a-f]{64}" a,b,c

fresh t-diff-b "$TMP/three"
c=$(set_config "$TMP/t-diff-b" b ".rootfs.diff_ids[0] = \"$OTHER_DIFF\"")
unfixable "three refs: wrong diff_id for the shared layer in b's config only" "$TMP/t-diff-b" diffid "$S|$c" b

# ---- --dry-run names what it cannot fix too ----
fresh dry-miss "$TD/multi"
rm "$(blobpath "$TMP/dry-miss" "$M_L1")"
tree_list "$TMP/dry-miss" >"$TMP/dry-miss.list"
expect 1 "missing shared layer: --repair --dry-run exits 1 (a problem remains)" \
	oci-inspect --repair --dry-run "$TMP/dry-miss"
has_problem missing "$M_L1" v1,v2 "missing shared layer: --repair --dry-run names it with v1,v2"
same_tree "$TMP/dry-miss" "$TMP/dry-miss.list" "missing shared layer: --repair --dry-run changes nothing"

# ---- --gc does not take the content of a damaged image ----
# v1's manifest is damaged (its content no longer matches its digest): its
# config and its own layers are still what ref v1 needs; --gc must not
# delete them (only blobs nothing wants).
fresh gc-damaged "$TD/multi"
sed -i 's/"schemaVersion":2/"schemaVersion":3/' "$(blobpath "$TMP/gc-damaged" "$M_V1")"
printf 'orphan\n' >"$TMP/orphan"
ORPHAN=$(put_blob "$TMP/gc-damaged" "$TMP/orphan")
expect 1 "damaged manifest + --gc: --repair --gc exits 1" oci-inspect --repair --gc "$TMP/gc-damaged"
has_problem digest "$M_V1" v1 "damaged manifest + --gc: the manifest named with v1"
for b in "$M_V1" "$M_C1" "$M_L1" "$M_L2" "$M_L3"; do
	[ -f "$(blobpath "$TMP/gc-damaged" "$b")" ]
	ok $? "damaged manifest + --gc: ${b:0:19}… (v1's) kept"
done
is "$(ref_names "$TMP/gc-damaged")" "v1,v2" "damaged manifest + --gc: refs kept"

done_testing
