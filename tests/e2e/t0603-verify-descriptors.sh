#!/usr/bin/env bash
# Wrong descriptors over intact content, one planted fault per fresh copy of
# a good layout: a wrong size (in index.json, in a manifest), a wrong media
# type (a layer that says tar+gzip but is zstd or plain, an unknown type, an
# index entry that says index for a manifest). --verify: exit 1, one line
# naming exactly the refs the descriptor breaks. --repair fixes them,
# rewriting the parents up to index.json: "fixed" lines, exit 0, a clean
# --verify afterwards, every ref kept and readable by umoci and skopeo
# (umoci 0.4 cannot read tar+zstd layers: skipped there).
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/t0600-verify-lib.sh"

docs_sum() { (cd "$1" && sha256sum index.json oci-layout blobs/*/* 2>/dev/null) | sha256sum | cut -c1-64; }

# fixable NAME DIR KIND DIGEST REFS: the checks every planted fault gets
fixable() {
	local name=$1 dir=$2 kind=$3 dg=$4 refs=$5 names sum r
	expect 1 "$name: --verify exits 1" oci-inspect --verify "$dir"
	if [ -n "${SEPARATE:-}" ]; then
		refs_cover "$kind" "$dg" "$refs" "$name: --verify says '$kind ${dg:0:19}…' naming $refs, each once"
	else
		only_problem "$kind" "$dg" "$refs" "$name: --verify says '$kind ${dg:0:19}… $refs', once"
	fi
	well_formed "$name: --verify lines are KIND DIGEST REFS DETAIL"
	names=$(ref_names "$dir")
	sum=$(docs_sum "$dir")
	run oci-inspect --repair --dry-run "$dir"
	if grep -qE "^would fix $kind $dg " "$TMP/out"; then pass "$name: --dry-run says 'would fix $kind'"; else
		fail "$name: --dry-run says 'would fix $kind'" "$(out)"; fi
	is "$(grep -c '^fixed ' "$TMP/out")" 0 "$name: --dry-run fixes nothing"
	is "$(docs_sum "$dir")" "$sum" "$name: --dry-run leaves index.json and blobs as they were"
	expect 0 "$name: --repair exits 0" oci-inspect --repair "$dir"
	has_fix "$kind" "$dg" "$name: --repair says 'fixed $kind ${dg:0:19}…'"
	is "$(fixed_refs "$kind" "$dg")" "$refs" "$name: the fix lines name $refs"
	no_problems "$name: --repair leaves no problem"
	well_formed "$name: --repair lines are [fixed ]KIND DIGEST REFS DETAIL"
	is "$(ref_names "$dir")" "$names" "$name: every ref kept"
	expect 0 "$name: --verify after --repair exits 0" oci-inspect --verify "$dir"
	no_problems "$name: --verify after --repair: no problem"
	# every ref of the layout, not only the ones the fault broke
	for r in $(ref_names "$dir" | tr , ' '); do readable "$dir" "$r" "$name"; done
}

# ---- multi: sizes ----
fresh idx-size "$TD/multi"
set_index "$TMP/idx-size" '.manifests[0].size = 700'
fixable "v1's size in index.json too small" "$TMP/idx-size" size "$M_V1" v1
is "$(jq -r '.manifests[0].size' "$TMP/idx-size/index.json")" "$(stat -c %s "$(blobpath "$TD/multi" "$M_V1")")" \
	"v1's size in index.json: corrected to the blob's"

fresh idx-size2 "$TD/multi"
set_index "$TMP/idx-size2" '.manifests[1].size = 600'
fixable "v2's size in index.json too big" "$TMP/idx-size2" size "$M_V2" v2

fresh man-l2 "$TD/multi"
set_manifest "$TMP/man-l2" v1 '.layers[1].size = 650' >/dev/null
fixable "size of v1's own layer in its manifest" "$TMP/man-l2" size "$M_L2" v1
is "$(jq -r '.layers[1].size' "$(blobpath "$TMP/man-l2" "$(mdig "$TMP/man-l2" v1)")")" \
	"$(stat -c %s "$(blobpath "$TD/multi" "$M_L2")")" "size of v1's own layer: v1's new manifest has the blob's size"

fresh man-cfg "$TD/multi"
set_manifest "$TMP/man-cfg" v1 '.config.size = 800' >/dev/null
fixable "size of v1's config in its manifest" "$TMP/man-cfg" size "$M_C1" v1

# the shared layer's size is wrong in one manifest only: that ref alone is broken
fresh man-l1-v1 "$TD/multi"
set_manifest "$TMP/man-l1-v1" v1 '.layers[0].size = 66780' >/dev/null
fixable "size of the shared layer in v1's manifest" "$TMP/man-l1-v1" size "$M_L1" v1

fresh man-l1-v2 "$TD/multi"
set_manifest "$TMP/man-l1-v2" v2 '.layers[0].size = 66780' >/dev/null
fixable "size of the shared layer in v2's manifest" "$TMP/man-l1-v2" size "$M_L1" v2

# ---- multi: media types ----
fresh mt-plain "$TD/multi"
set_manifest "$TMP/mt-plain" v1 ".layers[2].mediaType = \"$MT_GZ\"" >/dev/null
fixable "v1's plain tar layer says tar+gzip" "$TMP/mt-plain" mediatype "$M_L3" v1
is "$(jq -r '.layers[2].mediaType' "$(blobpath "$TMP/mt-plain" "$(mdig "$TMP/mt-plain" v1)")")" "$MT_TAR" \
	"plain tar layer said tar+gzip: now says tar"

fresh mt-gz "$TD/multi"
set_manifest "$TMP/mt-gz" v1 ".layers[1].mediaType = \"$MT_TAR\"" >/dev/null
fixable "v1's gzip layer says plain tar" "$TMP/mt-gz" mediatype "$M_L2" v1

fresh mt-foo "$TD/multi"
set_manifest "$TMP/mt-foo" v1 '.layers[1].mediaType = "application/x-foo"' >/dev/null
fixable "v1's gzip layer has an unknown media type" "$TMP/mt-foo" mediatype "$M_L2" v1

fresh mt-entry "$TD/multi"
set_index "$TMP/mt-entry" ".manifests[1].mediaType = \"$MT_IDX\""
fixable "index.json says index for v2's manifest" "$TMP/mt-entry" mediatype "$M_V2" v2

fresh mt-entry2 "$TD/multi"
set_index "$TMP/mt-entry2" '.manifests[1].mediaType = "application/x-foo"'
expect 1 "index.json has an unknown media type for v2: --verify exits 1" oci-inspect --verify "$TMP/mt-entry2"
# v2's config is named by v2's (intact) manifest: it is not unreferenced
is "$(notes)" "" "index.json has an unknown media type for v2: no false 'unreferenced' note"
fixable "index.json has an unknown media type for v2" "$TMP/mt-entry2" mediatype "$M_V2" v2

# ---- three refs a, b, c share the bottom layer ----
mk_three "$TMP/three" '' \
	"$TMP/three-zstd" ",\"comp\":\"zstd\",\"mt\":\"$MT_GZ\"" \
	"$TMP/three-plain" ",\"comp\":\"none\",\"mt\":\"$MT_GZ\"" \
	"$TMP/three-foo" ',"mt":"application/x-foo"'
S=$(layer_of "$TMP/three" a 0)

SKIP_UMOCI=1 # umoci 0.4 cannot read tar+zstd layers
fixable "three refs: zstd layer says tar+gzip" "$TMP/three-zstd" mediatype "$(layer_of "$TMP/three-zstd" a 0)" a,b,c
unset SKIP_UMOCI
is "$(jq -r '.layers[0].mediaType' "$(blobpath "$TMP/three-zstd" "$(mdig "$TMP/three-zstd" b)")")" "$MT_ZST" \
	"three refs: zstd layer said tar+gzip: now says tar+zstd"
fixable "three refs: plain layer says tar+gzip" "$TMP/three-plain" mediatype "$(layer_of "$TMP/three-plain" a 0)" a,b,c
fixable "three refs: gzip layer has an unknown media type" "$TMP/three-foo" mediatype "$S" a,b,c

fresh t-size-all "$TMP/three"
for r in a b c; do set_manifest "$TMP/t-size-all" $r '.layers[0].size = 1' >/dev/null; done
# three wrong descriptors: one line for a,b,c or one line per ref
SEPARATE=1 fixable "three refs: the shared layer's size wrong in every manifest" "$TMP/t-size-all" size "$S" a,b,c

fresh t-size-c "$TMP/three"
set_manifest "$TMP/t-size-c" c '.layers[0].size = 1' >/dev/null
fixable "three refs: the shared layer's size wrong in c's manifest only" "$TMP/t-size-c" size "$S" c

# ---- several faults at once: each fixed, the old documents kept until --gc ----
fresh several "$TD/multi"
set_manifest "$TMP/several" v1 ".layers[2].mediaType = \"$MT_GZ\" | .config.size = 1" >/dev/null
set_index "$TMP/several" '.manifests[1].size = 1'
expect 1 "size and media type faults in two refs: --verify exits 1" oci-inspect --verify "$TMP/several"
is "$(problems | awk '{ print $1, $2, $3 }' | sort | paste -sd' ')" \
	"$(printf '%s\n' "mediatype $M_L3 v1" "size $M_C1 v1" "size $M_V2 v2" | sort | paste -sd' ')" \
	"size and media type faults in two refs: three lines, each with its ref"
nb=$(blob_count "$TMP/several")
expect 0 "size and media type faults in two refs: --repair exits 0" oci-inspect --repair "$TMP/several"
has_fix mediatype "$M_L3" "size and media type faults: the media type fixed"
has_fix size "$M_C1" "size and media type faults: the config size fixed"
has_fix size "$M_V2" "size and media type faults: v2's size fixed"
[ "$(blob_count "$TMP/several")" -gt "$nb" ]
ok $? "size and media type faults: the old manifest is kept (a new one written)"
expect 0 "size and media type faults: --verify after exits 0" oci-inspect --verify "$TMP/several"
like '^note unreferenced sha256:[0-9a-f]{64} - ' "size and media type faults: the old manifest is a note"
readable "$TMP/several" v1 "size and media type faults"
readable "$TMP/several" v2 "size and media type faults"

done_testing
