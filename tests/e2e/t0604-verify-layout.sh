#!/usr/bin/env bash
# The layout around the blobs: a missing oci-layout (a problem), stray
# temporary files and unreferenced blobs (notes), a missing or unreadable
# index.json (rebuilt from the manifests in blobs/). --repair fixes these,
# --gc deletes only unreferenced blobs, --dry-run changes nothing.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/t0600-verify-lib.sh"

# ---- oci-layout missing ----
fresh nolayout "$TD/multi"
rm "$TMP/nolayout/oci-layout"
expect 1 "oci-layout missing: --verify exits 1" oci-inspect --verify "$TMP/nolayout"
only_problem layout - - "oci-layout missing: one line 'layout - -'"
well_formed "oci-layout missing: lines well formed"
expect 0 "oci-layout missing: --repair exits 0" oci-inspect --repair "$TMP/nolayout"
has_fix layout - "oci-layout missing: 'fixed layout'"
is "$(jq -r .imageLayoutVersion "$TMP/nolayout/oci-layout" 2>&1)" 1.0.0 "oci-layout missing: recreated with 1.0.0"
is "$(refs_of "$TMP/nolayout")" "$(refs_of "$TD/multi")" "oci-layout missing: refs unchanged"
expect 0 "oci-layout missing: --verify after exits 0" oci-inspect --verify "$TMP/nolayout"
is "$(out)" "" "oci-layout missing: --verify after says nothing"
readable "$TMP/nolayout" v1 "oci-layout missing"
readable "$TMP/nolayout" v2 "oci-layout missing"

fresh badlayout "$TD/multi"
printf '{"imageLayoutVersion":' >"$TMP/badlayout/oci-layout"
expect 1 "oci-layout not JSON: --verify exits 1" oci-inspect --verify "$TMP/badlayout"
only_problem layout - - "oci-layout not JSON: one line 'layout - -'"
expect 0 "oci-layout not JSON: --repair exits 0" oci-inspect --repair "$TMP/badlayout"
is "$(jq -r .imageLayoutVersion "$TMP/badlayout/oci-layout" 2>&1)" 1.0.0 "oci-layout not JSON: rewritten"

# ---- stray temporary files: notes, removed by --repair ----
fresh strays "$TD/multi"
printf 'half a blob' >"$TMP/strays/blobs/sha256/.tmp-123-abc"
printf '{"schemaVersion":' >"$TMP/strays/.index.json.tmp-1"
expect 0 "stray temporary files: --verify exits 0 (notes are not problems)" oci-inspect --verify "$TMP/strays"
no_problems "stray temporary files: no problem line"
is "$(notes | sort)" "$(printf '%s\n' 'note stray - - .index.json.tmp-1' 'note stray - - blobs/sha256/.tmp-123-abc' | sort)" \
	"stray temporary files: one note each, 'note stray - - PATH'"
well_formed "stray temporary files: lines well formed"
expect 0 "stray temporary files: --repair exits 0" oci-inspect --repair "$TMP/strays"
like '^fixed stray - - .*blobs/sha256/\.tmp-123-abc' "stray temporary files: 'fixed stray' for the blob temp file"
like '^fixed stray - - .*\.index\.json\.tmp-1' "stray temporary files: 'fixed stray' for the index temp file"
[ ! -e "$TMP/strays/blobs/sha256/.tmp-123-abc" ] && [ ! -e "$TMP/strays/.index.json.tmp-1" ]
ok $? "stray temporary files: both removed"
is "$(blob_count "$TMP/strays")" "$(blob_count "$TD/multi")" "stray temporary files: every blob kept"
expect 0 "stray temporary files: --verify after exits 0" oci-inspect --verify "$TMP/strays"
is "$(out)" "" "stray temporary files: --verify after says nothing"

# files that are not temporary are named, never deleted
fresh keep "$TD/multi"
printf 'mine\n' >"$TMP/keep/README"
printf 'template\n' >"$TMP/keep/notes.tmpl"
mkdir "$TMP/keep/.tmp-dir"
printf 'x\n' >"$TMP/keep/.tmp-dir/f"
expect 0 "other files in the layout: --verify exits 0" oci-inspect --verify "$TMP/keep"
like '^note stray - - README$' "other files in the layout: README is a note"
like '^note stray - - notes\.tmpl$' "other files in the layout: notes.tmpl is a note"
run oci-inspect --repair "$TMP/keep"
is "$(cat "$TMP/keep/README" 2>&1)" mine "other files in the layout: --repair keeps README"
is "$(cat "$TMP/keep/notes.tmpl" 2>&1)" template "other files in the layout: --repair keeps notes.tmpl (not a temporary file)"
if grep -q '^fixed stray - - .*\.tmp-dir' "$TMP/out"; then
	[ ! -e "$TMP/keep/.tmp-dir" ]
	ok $? "other files in the layout: a 'fixed ... removed .tmp-dir' line only when it is gone"
else
	pass "other files in the layout: a 'fixed ... removed .tmp-dir' line only when it is gone"
fi

# ---- an unreferenced blob: a note; kept by --repair, deleted by --gc ----
fresh unref "$TD/multi"
printf 'nobody wants me\n' >"$TMP/orphan"
ORPHAN=$(put_blob "$TMP/unref" "$TMP/orphan")
expect 0 "unreferenced blob: --verify exits 0" oci-inspect --verify "$TMP/unref"
is "$(out)" "note unreferenced $ORPHAN - blob not reachable from index.json" \
	"unreferenced blob: one note 'note unreferenced DIGEST -'"
expect 0 "unreferenced blob: --repair (no --gc) exits 0" oci-inspect --repair "$TMP/unref"
is "$(fixes)" "" "unreferenced blob: --repair without --gc fixes nothing"
[ -f "$(blobpath "$TMP/unref" "$ORPHAN")" ]
ok $? "unreferenced blob: kept without --gc"
tree_list "$TMP/unref" >"$TMP/unref.list"
expect 0 "unreferenced blob: --repair --gc --dry-run exits 0" oci-inspect --repair --gc --dry-run "$TMP/unref"
is "$(out)" "would fix gc $ORPHAN - removed unreferenced blob" "unreferenced blob: --dry-run says 'would fix gc'"
same_tree "$TMP/unref" "$TMP/unref.list" "unreferenced blob: --gc --dry-run changes nothing"
expect 0 "unreferenced blob: --repair --gc exits 0" oci-inspect --repair --gc "$TMP/unref"
has_fix gc "$ORPHAN" "unreferenced blob: 'fixed gc DIGEST'"
is "$(fixes | wc -l)" 1 "unreferenced blob: --gc removes one blob"
[ ! -e "$(blobpath "$TMP/unref" "$ORPHAN")" ]
ok $? "unreferenced blob: deleted by --gc"
is "$(cd "$TMP/unref/blobs/sha256" && ls | sort)" "$(cd "$TD/multi/blobs/sha256" && ls | sort)" \
	"unreferenced blob: --gc deletes only it"
expect 0 "unreferenced blob: --verify after --gc exits 0" oci-inspect --verify "$TMP/unref"
is "$(out)" "" "unreferenced blob: --verify after --gc says nothing"
readable "$TMP/unref" v1 "after --gc"
readable "$TMP/unref" v2 "after --gc"

# ---- --dry-run: says everything, changes nothing ----
fresh dry "$TD/multi"
rm "$TMP/dry/oci-layout"
printf 'x' >"$TMP/dry/blobs/sha256/.tmp-123-abc"
printf 'x' >"$TMP/dry/.index.json.tmp-1"
set_index "$TMP/dry" '.manifests[0].size = 700'
printf 'orphan\n' >"$TMP/orphan"
ORPHAN=$(put_blob "$TMP/dry" "$TMP/orphan")
tree_list "$TMP/dry" >"$TMP/dry.list"
run oci-inspect --repair --dry-run --gc "$TMP/dry"
is "$(grep -c '^fixed ' "$TMP/out")" 0 "--dry-run: no 'fixed' line"
for k in "layout -" "size $M_V1" "gc $ORPHAN" "stray -"; do
	if grep -q "^would fix $k " "$TMP/out"; then pass "--dry-run: 'would fix $k'"; else
		fail "--dry-run: 'would fix $k'" "$(out)"; fi
done
is "$(grep -c '^would fix stray ' "$TMP/out")" 2 "--dry-run: 'would fix stray' for both temporary files"
same_tree "$TMP/dry" "$TMP/dry.list" "--dry-run: the tree is unchanged (names, modes, sizes, contents)"
expect 0 "--repair --gc of the same: exit 0" oci-inspect --repair --gc "$TMP/dry"
is "$(grep -c '^fixed ' "$TMP/out")" 5 "--repair --gc of the same: five fixes"
expect 0 "--repair --gc of the same: --verify after exits 0" oci-inspect --verify "$TMP/dry"
is "$(out)" "" "--repair --gc of the same: --verify after says nothing"

# ---- index.json lost: rebuilt from the manifests in blobs/ ----
want_descs=$(printf '%s\n' "$MT_MAN $M_V1 $(stat -c %s "$(blobpath "$TD/multi" "$M_V1")")" \
	"$MT_MAN $M_V2 $(stat -c %s "$(blobpath "$TD/multi" "$M_V2")")" | sort)
descs_of() { jq -r '.manifests[] | "\(.mediaType) \(.digest) \(.size)"' "$1/index.json" 2>/dev/null | sort; }

fresh noindex "$TD/multi"
rm "$TMP/noindex/index.json"
expect 1 "index.json missing: --verify exits 1" oci-inspect --verify "$TMP/noindex"
only_problem index - - "index.json missing: one line 'index - -'"
well_formed "index.json missing: lines well formed"
expect 0 "index.json missing: --repair exits 0" oci-inspect --repair "$TMP/noindex"
has_fix index - "index.json missing: 'fixed index - - rebuilt ...'"
has_fix index "$M_V1" "index.json missing: 'fixed index' names v1's manifest"
has_fix index "$M_V2" "index.json missing: 'fixed index' names v2's manifest"
is "$(descs_of "$TMP/noindex")" "$want_descs" "index.json missing: both manifests of multi are descriptors again"
is "$(jq -r .schemaVersion "$TMP/noindex/index.json")" 2 "index.json missing: schemaVersion 2"
is "$(blob_count "$TMP/noindex")" "$(blob_count "$TD/multi")" "index.json missing: every blob kept"
expect 0 "index.json missing: --verify after exits 0" oci-inspect --verify "$TMP/noindex"
is "$(out)" "" "index.json missing: --verify after says nothing"
expect 0 "index.json missing: the images read by digest" oci-inspect "$TMP/noindex@$M_V1"

fresh garbage "$TD/multi"
printf 'not json at all\n' >"$TMP/garbage/index.json"
expect 1 "index.json not JSON: --verify exits 1" oci-inspect --verify "$TMP/garbage"
only_problem index - - "index.json not JSON: one line 'index - -'"
expect 0 "index.json not JSON: --repair exits 0" oci-inspect --repair "$TMP/garbage"
is "$(descs_of "$TMP/garbage")" "$want_descs" "index.json not JSON: rebuilt with both manifests"

fresh noindex-dry "$TD/multi"
rm "$TMP/noindex-dry/index.json"
tree_list "$TMP/noindex-dry" >"$TMP/noindex-dry.list"
run oci-inspect --repair --dry-run "$TMP/noindex-dry"
like '^would fix index - - rebuilt' "index.json missing: --dry-run says it would rebuild it"
[ ! -e "$TMP/noindex-dry/index.json" ]
ok $? "index.json missing: --dry-run does not write it"

# three refs: a manifest named by nothing but index.json is an image again;
# the layers and configs are not
mk_three "$TMP/three" ''
want3=$(jq -r '.manifests[] | "\(.mediaType) \(.digest) \(.size)"' "$TMP/three/index.json" | sort)
rm "$TMP/three/index.json"
expect 0 "three refs, index.json missing: --repair exits 0" oci-inspect --repair "$TMP/three"
is "$(descs_of "$TMP/three")" "$want3" "three refs, index.json missing: the three manifests, nothing else"

# one bad descriptor in index.json: the other refs are not thrown away
fresh onebad "$TD/multi"
set_index "$TMP/onebad" '.manifests[1].digest |= ascii_upcase'
expect 1 "a bad digest for v2 in index.json: --verify exits 1" oci-inspect --verify "$TMP/onebad"
if problems | awk '$3 == "v2" { f = 1 } END { exit !f }'; then pass "a bad digest for v2 in index.json: the problem names v2"; else
	fail "a bad digest for v2 in index.json: the problem names v2" "$(problems)"; fi
run oci-inspect --repair "$TMP/onebad"
is "$(ref_names "$TMP/onebad")" v1,v2 "a bad digest for v2 in index.json: --repair keeps refs v1 and v2"
is "$(mdig "$TMP/onebad" v1)" "$M_V1" "a bad digest for v2 in index.json: v1 still names its manifest"
is "$status" 1 "a bad digest for v2 in index.json: --repair exits 1 (fixing it would be a guess)"

# ---- one line per problem, whatever the names hold ----
fresh oddref "$TD/multi"
set_index "$TMP/oddref" '.manifests[0].annotations["'$REFANN'"] = "v1\nx y"'
rm "$(blobpath "$TMP/oddref" "$M_L3")"
expect 1 "a ref with a newline and a space: --verify exits 1" oci-inspect --verify "$TMP/oddref"
is "$(problems | wc -l)" 1 "a ref with a newline and a space: one line"
is "$(problems | awk '{ print $1, $2 }')" "missing $M_L3" "a ref with a newline and a space: KIND DIGEST"
# the detail ("layer blob is missing") starts at the fourth field only when REFS is one field
is "$(problems | awk '{ if ($4 == "layer") print "ok"; else print $0 }')" ok \
	"a ref with a newline and a space: REFS is one field (no raw space or newline)"

done_testing
