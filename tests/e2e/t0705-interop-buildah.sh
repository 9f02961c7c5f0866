#!/usr/bin/env bash
# Images made by buildah (from scratch, copy, config, a second step on top,
# commit to oci:, oci-archive: and docker-archive:, vfs storage, nothing
# pulled) are read by ours: --verify clean, and oci-unpack gives the tree
# umoci's unpack of the oci: image gives and the source directory's content.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-interop.sh"

N_ALL=$((2 + 3 * CHECK_N + 3 * (CHECK_N - 1) + 2))
if ! have buildah || ! have umoci; then
	skip_n $N_ALL "buildah or umoci (the oracle) not installed"
	done_testing
	exit
fi
if ! $ROOT; then
	skip_n $N_ALL "buildah here runs as root (vfs storage, no user namespace set up)"
	done_testing
	exit
fi
mksrc "$TMP/src"
tree_of "$TMP/src" "$TMP/src.brief" --brief
BA="buildah --root $TMP/store --runroot $TMP/run --storage-driver vfs"

step "buildah from scratch, copy, config, commit oci:" sh -ec '
	c=$($1 from scratch)
	$1 copy "$c" "$2/." /
	$1 config --cmd "[\"/app/tool\"]" --env A=1 --label made-by=buildah "$c"
	$1 commit -q "$c" "oci:$3/b1:t" >/dev/null
	$1 commit -q "$c" "oci-archive:$3/b1.tar:t" >/dev/null
	$1 commit -q "$c" "docker-archive:$3/b1-docker.tar:ex/b:t" >/dev/null
	$1 commit -q "$c" localhost/b1 >/dev/null
	$1 rm "$c" >/dev/null' sh "$BA" "$TMP/src" "$TMP"
# a second step: a new layer over the first, deleting and replacing files
mkdir -p "$TMP/add/app" && printf 'added\n' >"$TMP/add/app/added"
step "buildah from the first image, copy, commit oci: (two layers)" sh -ec '
	c=$($1 from localhost/b1)
	$1 copy "$c" "$2/." /
	$1 copy "$c" "$3/src/etc/os-release" /app/hello.txt
	$1 commit -q "$c" "oci:$4/b2:t" >/dev/null
	$1 commit -q "$c" "oci-archive:$4/b2.tar:t" >/dev/null
	$1 commit -q "$c" "docker-archive:$4/b2-docker.tar:ex/b:t2" >/dev/null
	$1 rm "$c" >/dev/null' sh "$BA" "$TMP/add" "$TMP" "$TMP"

oracle "$TMP/b1" t "$TMP/o1" || fail "umoci unpack b1"
oracle "$TMP/b2" t "$TMP/o2" || fail "umoci unpack b2"
# buildah copy makes root the owner: the source's content, not its owners
check "buildah oci:" "$TMP/b1:t" "$TMP/o1" "$TMP/src.brief"
check "buildah oci-archive:" "$TMP/b1.tar" "$TMP/o1" "$TMP/src.brief"
check "buildah docker-archive:" "$TMP/b1-docker.tar" "$TMP/o1" "$TMP/src.brief"
check "buildah two layers oci:" "$TMP/b2:t" "$TMP/o2"
check "buildah two layers oci-archive:" "$TMP/b2.tar" "$TMP/o2"
check "buildah two layers docker-archive:" "$TMP/b2-docker.tar" "$TMP/o2"
run oci-inspect --json "$TMP/b2:t"
is "$(jq -r '.manifests[0].layers | length' "$TMP/out")" 2 "buildah two layers: two layers"
is "$(jq -r '.manifests[0].config.labels["made-by"] // .manifests[0].config.Labels["made-by"] // empty' "$TMP/out")$(jq -r '.manifests[0].config.cmd | join(" ")' "$TMP/out")" \
	"buildah/app/tool" "buildah: the config's label and cmd"

done_testing
