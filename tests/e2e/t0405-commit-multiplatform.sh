#!/usr/bin/env bash
# oci-commit of a bundle unpacked from one platform of an index: REF points at
# a new index with that platform's manifest replaced and the others'
# byte-identical (also through a nested index, a Docker manifest list, a
# fresh destination layout, a config-only commit); --single-platform points
# REF at the manifest.
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'; return 0; }
MT_INDEX=application/vnd.oci.image.index.v1+json
MT_MAN=application/vnd.oci.image.manifest.v1+json
MT_DLIST=application/vnd.docker.distribution.manifest.list.v2+json
ALL=linux/amd64,linux/arm64/v8,linux/arm/v7,linux/386
# fixed times, so that the same commit in two places is the same bytes
export SOURCE_DATE_EPOCH=1700000000
refline() { oci-inspect --refs "$1" 2>/dev/null | awk -F '\t' -v r="$2" '$1 == r { print $2 "\t" $3 "\t" $4 }'; }
mhash() { oci-inspect --manifest --platform "$2" "$1" 2>/dev/null | sha256sum | cut -c1-64; }

# others_same OLD NEW CHANGED-PLATFORM NAME PLATFORM...: the manifests of the
# other platforms are byte-identical, the changed one is not
others_same() {
	local old=$1 new=$2 changed=$3 name=$4 p bad=()
	shift 4
	for p in "$@"; do
		[ "$p" = "$changed" ] && continue
		oci-inspect --manifest --platform "$p" "$old" >"$TMP/mo" 2>/dev/null
		oci-inspect --manifest --platform "$p" "$new" >"$TMP/mn" 2>"$TMP/merr" || bad+=("$p: $(cat "$TMP/merr")")
		cmp -s "$TMP/mo" "$TMP/mn" || bad+=("$p differs")
		[ -s "$TMP/mo" ] || bad+=("$p: no old manifest")
	done
	if [ "${#bad[@]}" -eq 0 ]; then pass "$name"; else fail "$name" "$(printf '%s\n' "${bad[@]}")"; fi
}

# ---- arm64 of multiarch:latest, committed into a copy of the layout ----
oci-unpack -q --platform linux/arm64 "$TD/multiarch:latest" "$TMP/b" || { echo "Bail out! oci-unpack failed"; exit 1; }
is "$(cat "$TMP/b/rootfs/etc/arch")" "linux/arm64/v8" "the bundle is the arm64 image"
echo changed >"$TMP/b/rootfs/etc/changed"
L=$TMP/L
cp -a "$TD/multiarch" "$L"
run oci-commit --keep-record "$TMP/b" "$L:new"
is "$status" 0 "commit of the arm64 bundle: exit 0"
M=$(out)
err_like 'index sha256:' "commit: a note says the ref points at an index"
IFS=$'\t' read -r top mt plats <<<"$(refline "$L" new)"
is "$mt" "$MT_INDEX" "L:new is an OCI index"
is "$plats" "$ALL" "L:new lists all four platforms"
[ "$top" != "$M" ] && pass "the ref is not the manifest itself" || fail "the ref is not the manifest itself"
is "$(mhash "$L:new" linux/arm64/v8)" "${M#sha256:}" "the arm64 entry is the new manifest (the printed digest)"
others_same "$TD/multiarch:latest" "$L:new" linux/arm64/v8 "amd64, arm/v7 and 386 manifests are byte-identical" \
	linux/amd64 linux/arm64/v8 linux/arm/v7 linux/386
is "$(oci-inspect --index "$L:new" | jq -c '[.manifests[] | .platform.architecture]')" \
	"$(oci-inspect --index "$TD/multiarch:latest" | jq -c '[.manifests[] | .platform.architecture]')" "the index keeps its entries' order and platforms"
is "$(oci-inspect --index "$L:new" | jq -c '[.manifests[] | .digest]' | jq -c --arg m "$M" '[.[] | . == $m]')" '[false,true,false]' \
	"only the arm64 descriptor of the top index changed to the new digest"
is "$(oci-inspect --index "$L:new" | jq -c '.manifests[2].digest')" "$(oci-inspect --index "$TD/multiarch:latest" | jq -c '.manifests[2].digest')" \
	"the nested index is the same blob"
is "$(oci-inspect --manifest --platform linux/arm64/v8 "$L:new" | jq '.layers | length')" 2 "the new arm64 manifest has the new layer on top"
is "$(oci-inspect --config --platform linux/arm64/v8 "$L:new" | jq -c '[.architecture, .variant, .os]')" '["arm64","v8","linux"]' \
	"the new config keeps arm64/v8"
oci-unpack -q --platform linux/arm64 "$L:new" "$TMP/u" && is "$(cat "$TMP/u/rootfs/etc/changed")" changed "unpack of L:new for arm64 has the change"
oci-unpack -q --platform linux/amd64 "$L:new" "$TMP/u2" && is "$(cat "$TMP/u2/rootfs/etc/arch")" linux/amd64 "unpack of L:new for amd64 is the old amd64 image"
is "$(refline "$L" latest | cut -f1)" "$(digest_of multiarch:latest)" "latest untouched"
is "$(refline "$L" amd64-only | cut -f1)" "$(digest_of multiarch:amd64-only)" "amd64-only untouched"
if command -v skopeo >/dev/null; then
	if skopeo inspect --raw "oci:$L:new" >/dev/null 2>&1; then pass "skopeo reads the new index"; else fail "skopeo reads the new index"; fi
fi

# ---- the same into a fresh layout: every platform's blobs are copied ----
run oci-commit --keep-record -q "$TMP/b" "$TMP/F:new"
is "$status" 0 "commit into a fresh layout: exit 0"
is "$(refline "$TMP/F" new | cut -f2,3)" "$MT_INDEX	$ALL" "fresh layout: an index with four platforms"
bad=0
for p in linux/amd64 linux/arm/v7 linux/386 linux/arm64/v8; do
	oci-inspect --files --platform "$p" "$TMP/F:new" >/dev/null 2>&1 || bad=$((bad + 1))
done
is "$bad" 0 "fresh layout: every platform's image is whole there"
others_same "$TD/multiarch:latest" "$TMP/F:new" linux/arm64/v8 "fresh layout: the other manifests byte-identical" \
	linux/amd64 linux/arm/v7 linux/386
is "$(refline "$TMP/F" new | cut -f1)" "$top" "fresh layout: the same index digest as in the copy"

# the same with a nested index that is not in compact JSON (pretty-printed, as
# other tools write them): the untouched nested index must reach the new layout
cp -a "$TD/multiarch" "$TMP/P"
python3 - "$TMP/P" <<'EOF'
import hashlib, json, sys
L = sys.argv[1]
def blob(d): return open("%s/blobs/sha256/%s" % (L, d[7:]), "rb").read()
def put(b):
    h = hashlib.sha256(b).hexdigest()
    open("%s/blobs/sha256/%s" % (L, h), "wb").write(b)
    return "sha256:" + h
idx = json.load(open(L + "/index.json"))
for m in idx["manifests"]:
    if m["annotations"]["org.opencontainers.image.ref.name"] == "latest":
        outer = json.loads(blob(m["digest"]))
        for om in outer["manifests"]:
            if om["mediaType"].endswith("index.v1+json"):
                b = json.dumps(json.loads(blob(om["digest"])), indent=2).encode()
                om["digest"], om["size"] = put(b), len(b)
        b = json.dumps(outer, indent=1).encode()
        m["digest"], m["size"] = put(b), len(b)
open(L + "/index.json", "w").write(json.dumps(idx))
EOF
oci-unpack -q --platform linux/arm64 "$TMP/P:latest" "$TMP/pb"
echo p >"$TMP/pb/rootfs/etc/p"
run oci-commit --keep-record -q "$TMP/pb" "$TMP/PF:new"
is "$status" 0 "pretty-printed nested index, commit into a fresh layout: exit 0"
bad=()
for p in linux/amd64 linux/arm/v7 linux/386 linux/arm64/v8; do
	oci-inspect --files --platform "$p" "$TMP/PF:new" >/dev/null 2>"$TMP/perr" || bad+=("$p: $(cat "$TMP/perr")")
done
if [ "${#bad[@]}" -eq 0 ]; then pass "pretty-printed nested index: every platform is whole in the new layout"; else fail "pretty-printed nested index: every platform is whole in the new layout" "$(printf '%s\n' "${bad[@]}")"; fi
others_same "$TMP/P:latest" "$TMP/PF:new" linux/arm64/v8 "pretty-printed nested index: the other manifests byte-identical" \
	linux/amd64 linux/arm/v7 linux/386
is "$(oci-inspect --index "$TMP/PF:new" | jq -c '.manifests[2] | [.digest, .size]')" "$(oci-inspect --index "$TMP/P:latest" | jq -c '.manifests[2] | [.digest, .size]')" \
	"pretty-printed nested index: the nested index is the same blob"

# ---- --single-platform ----
run oci-commit --keep-record -q --single-platform "$TMP/b" "$L:single"
IFS=$'\t' read -r sd smt splat <<<"$(refline "$L" single)"
is "$smt" "$MT_MAN" "--single-platform: REF is a manifest"
is "$sd" "$(out)" "--single-platform: REF is the printed digest"
is "$sd" "$M" "--single-platform: the same manifest as in the index"
is "$splat" "linux/arm64/v8" "--single-platform: linux/arm64/v8"

# ---- a platform inside the nested index ----
oci-unpack -q --platform linux/arm/v7 "$TD/multiarch:latest" "$TMP/b7"
echo v7 >"$TMP/b7/rootfs/etc/v7"
run oci-commit --keep-record -q "$TMP/b7" "$L:v7"
M7=$(out)
is "$status" 0 "commit of the arm/v7 bundle (a nested index): exit 0"
is "$(refline "$L" v7 | cut -f2,3)" "$MT_INDEX	$ALL" "arm/v7: an index with the four platforms"
is "$(mhash "$L:v7" linux/arm/v7)" "${M7#sha256:}" "arm/v7: that entry is the new manifest"
others_same "$TD/multiarch:latest" "$L:v7" linux/arm/v7 "arm/v7: amd64, arm64 and 386 byte-identical" \
	linux/amd64 linux/arm64/v8 linux/386
is "$(oci-inspect --index "$L:v7" | jq -c '[.manifests[:2][].digest]')" "$(oci-inspect --index "$TD/multiarch:latest" | jq -c '[.manifests[:2][].digest]')" \
	"arm/v7: the top index's other entries unchanged"
[ "$(oci-inspect --index "$L:v7" | jq -r '.manifests[2].digest')" != "$(oci-inspect --index "$TD/multiarch:latest" | jq -r '.manifests[2].digest')" ] &&
	pass "arm/v7: the nested index was rewritten" || fail "arm/v7: the nested index was rewritten"

# ---- a Docker manifest list ----
oci-unpack -q --platform linux/arm64 "$TD/multiarch:dockerlist" "$TMP/bd"
echo d >"$TMP/bd/rootfs/etc/d"
run oci-commit --keep-record -q "$TMP/bd" "$L:dl"
is "$status" 0 "commit of a bundle from a Docker manifest list: exit 0"
is "$(refline "$L" dl | cut -f2,3)" "$MT_INDEX	linux/amd64,linux/arm64/v8" "dockerlist: now an OCI index of the two platforms (a parent with Docker media types gets an OCI child)"
others_same "$TD/multiarch:dockerlist" "$L:dl" linux/arm64/v8 "dockerlist: the amd64 manifest byte-identical" linux/amd64
is "$(oci-inspect --manifest --platform linux/arm64/v8 "$L:dl" | jq -c '[.mediaType, .config.mediaType, (.layers | map(.mediaType) | unique)]')" \
	'["application/vnd.oci.image.manifest.v1+json","application/vnd.oci.image.config.v1+json",["application/vnd.oci.image.layer.v1.tar+gzip"]]' \
	"dockerlist: the new arm64 manifest, its config and layers have OCI media types"
is "$(oci-inspect --index "$L:dl" | jq -r .mediaType)" "$MT_INDEX" "dockerlist: the index's own mediaType says OCI index"

# ---- config only, from an index ----
run oci-commit -q --from "$TD/multiarch:latest" --platform linux/386 --env X=1 "$L:cfg"
is "$status" 0 "config-only commit of linux/386 of an index: exit 0"
is "$(refline "$L" cfg | cut -f2,3)" "$MT_INDEX	$ALL" "config-only: an index with the four platforms"
is "$(oci-inspect --config --platform linux/386 "$L:cfg" | jq -r '.config.Env[-1]')" X=1 "config-only: the 386 config has X=1"
others_same "$TD/multiarch:latest" "$L:cfg" linux/386 "config-only: the others byte-identical" linux/amd64 linux/arm64/v8 linux/arm/v7
is "$(oci-inspect --manifest --platform linux/386 "$L:cfg" | jq -c '[.layers[].digest]')" \
	"$(oci-inspect --manifest --platform linux/386 "$TD/multiarch:latest" | jq -c '[.layers[].digest]')" "config-only: the 386 layers unchanged"

done_testing
