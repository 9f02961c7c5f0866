#!/usr/bin/env bash
# Images made by umoci (init, new, unpack + repack, insert, insert
# --whiteout, --opaque) and skopeo's copies of them (oci-archive:,
# docker-archive:, dir: and back, zstd layers) are read by ours: --verify
# clean, and oci-unpack gives the tree umoci's unpack gives (the oracle) and
# the source directory's content.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-interop.sh"

mksrc "$TMP/src"
tree_of "$TMP/src" "$TMP/src.brief" --brief

if ! have umoci; then
	skip_n $((5 + 4 * CHECK_N)) "umoci not installed"
	skip_n $((6 + 5 * CHECK_N)) "umoci not installed (the oracle for skopeo's copies)"
	done_testing
	exit
fi
L=$TMP/umoci
B=$TMP/ub
step "umoci init, new, unpack, repack" sh -ec '
	umoci init --layout "$1"
	umoci new --image "$1:t"
	umoci unpack $4 --image "$1:t" "$2"
	cp -a "$3/." "$2/rootfs/"
	umoci repack --image "$1:t" "$2"' sh "$L" "$B" "$TMP/src" "$($ROOT || echo --rootless)"
step "umoci insert: a second layer under /extra" \
	umoci insert --image "$L:t" --tag t2 "$TMP/src/app" /extra
step "umoci insert --whiteout: a third layer deleting /app/sub" \
	umoci insert --image "$L:t2" --tag t3 --whiteout /app/sub
mkdir -p "$TMP/new-etc" && printf 'only\n' >"$TMP/new-etc/only"
step "umoci insert --opaque: a fourth layer replacing /etc" \
	umoci insert --image "$L:t3" --tag t4 --opaque "$TMP/new-etc" /etc
# what repack replaced (umoci new's manifest and config) would be notes
step "umoci gc" umoci gc --layout "$L"

for ref in t t2 t3 t4; do
	oracle "$L" $ref "$TMP/o-$ref" || fail "umoci unpack $ref"
done
check "umoci repack" "$L:t" "$TMP/o-t" "$TMP/src.brief"
(cd "$TMP/src" && mkdir -p "$TMP/src2" && cp -a . "$TMP/src2/" && cp -a app "$TMP/src2/extra")
tree_of "$TMP/src2" "$TMP/src2.brief" --brief
check "umoci insert" "$L:t2" "$TMP/o-t2" "$TMP/src2.brief"
rm -rf "$TMP/src2/app/sub"
tree_of "$TMP/src2" "$TMP/src3.brief" --brief
check "umoci insert --whiteout" "$L:t3" "$TMP/o-t3" "$TMP/src3.brief"
rm -rf "$TMP/src2/etc" && mkdir "$TMP/src2/etc" && printf 'only\n' >"$TMP/src2/etc/only"
tree_of "$TMP/src2" "$TMP/src4.brief" --brief
check "umoci insert --opaque" "$L:t4" "$TMP/o-t4" "$TMP/src4.brief"

# ---- skopeo's copies of umoci's four-layer image ----
if ! have skopeo; then
	skip_n $((6 + 5 * CHECK_N)) "skopeo not installed"
	done_testing
	exit
fi
SK="skopeo --insecure-policy copy -q"
step "skopeo copy to oci-archive:" $SK "oci:$L:t4" "oci-archive:$TMP/sk.tar:t4"
check "skopeo oci-archive" "$TMP/sk.tar" "$TMP/o-t4" "$TMP/src4.brief"
step "skopeo copy to docker-archive:" $SK "oci:$L:t4" "docker-archive:$TMP/sk-docker.tar:ex/img:t4"
check "skopeo docker-archive" "$TMP/sk-docker.tar:t4" "$TMP/o-t4" "$TMP/src4.brief"
step "skopeo copy to dir: and back to oci:" sh -ec '
	$1 "oci:$2:t4" "dir:$3/skdir"
	$1 "dir:$3/skdir" "oci:$3/from-dir:t4"' sh "$SK" "$L" "$TMP"
check "skopeo dir: then oci:" "$TMP/from-dir:t4" "$TMP/o-t4" "$TMP/src4.brief"
step "skopeo copy to oci: with zstd layers" \
	$SK --dest-compress-format zstd "oci:$L:t4" "oci:$TMP/zst:t4"
run oci-inspect --json "$TMP/zst:t4"
is "$(jq -r '[.manifests[].layers[].mediaType] | unique | join(",")' "$TMP/out")" \
	application/vnd.oci.image.layer.v1.tar+zstd "zstd: every layer is tar+zstd"
check "skopeo zstd" "$TMP/zst:t4" "$TMP/o-t4" "$TMP/src4.brief"
step "skopeo copy to oci-archive: with zstd layers" \
	$SK --dest-compress-format zstd "oci:$L:t4" "oci-archive:$TMP/zst.tar:t4"
check "skopeo zstd oci-archive" "$TMP/zst.tar" "$TMP/o-t4" "$TMP/src4.brief"

done_testing
