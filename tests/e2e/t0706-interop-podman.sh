#!/usr/bin/env bash
# podman, vfs storage, nothing pulled: an image imported from a tar of the
# source directory (podman import) and one built on it (buildah, the same
# storage), saved as oci-archive, docker-archive (one image, and both in one
# archive: docker-archive's layer.tar members are symlinks) and oci-dir, are
# read by ours: --verify clean, the tree umoci gives for the oci-dir and the
# source's. The other way: an image oci-commit made, as an oci-archive,
# loads into podman and comes back out with the tree ours unpacks.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-interop.sh"

N_ALL=$((2 + 1 + 4 * CHECK_N + (CHECK_N - 1) + 1 + 2 + 1 + 1 + 1 + CHECK_N))
if ! have podman || ! have umoci; then
	skip_n $N_ALL "podman or umoci (the oracle) not installed"
	done_testing
	exit
fi
if ! $ROOT; then
	skip_n $N_ALL "podman here runs as root (vfs storage, no user namespace set up)"
	done_testing
	exit
fi
mksrc "$TMP/src"
tree_of "$TMP/src" "$TMP/src.tree"
tree_of "$TMP/src" "$TMP/src.brief" --brief
ST="--root $TMP/store --runroot $TMP/run --storage-driver vfs"
PM="podman $ST --events-backend file --cgroup-manager cgroupfs"
tar --xattrs --xattrs-include='user.*' -C "$TMP/src" -cf "$TMP/src.tar" .

step "podman import, save as oci-archive, docker-archive, oci-dir" sh -ec '
	$1 import -q "$2/src.tar" localhost/imp:t >/dev/null
	$1 save -q --format oci-archive -o "$2/p.tar" localhost/imp:t
	$1 save -q --format docker-archive -o "$2/p-docker.tar" localhost/imp:t
	$1 save -q --format oci-dir -o "$2/p-dir" localhost/imp:t' sh "$PM" "$TMP"
# a second image on the first (buildah shares podman's storage), and both
# in one docker-archive: their shared layer is saved once
mkdir -p "$TMP/add/app" && printf 'added\n' >"$TMP/add/app/added"
if have buildah; then
	step "a second image over it, both saved in one docker-archive" sh -ec '
		c=$(buildah $1 from localhost/imp:t)
		buildah $1 copy "$c" "$2/add/." /
		buildah $1 commit -q "$c" localhost/imp2:t >/dev/null
		buildah $1 rm "$c" >/dev/null
		$3 save -q --format oci-dir -o "$2/p2-dir" localhost/imp2:t
		$3 save -q --multi-image-archive --format docker-archive -o "$2/pm.tar" \
			localhost/imp:t localhost/imp2:t' sh "$ST" "$TMP" "$PM"
else
	skip "buildah not installed"
fi

oracle "$TMP/p-dir" "" "$TMP/o1" 2>/dev/null || oracle "$TMP/p-dir" "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$TMP/p-dir/index.json")" "$TMP/o1" ||
	fail "umoci unpack podman's oci-dir"
# podman import keeps the tar's owners, modes, xattrs and mtimes: the source's tree
if diff -u "$TMP/src.tree" "$TMP/o1" >"$TMP/diff"; then pass "umoci's unpack of podman's image is the source's tree"; else fail "umoci's unpack of podman's image is the source's tree" "$(cat "$TMP/diff")"; fi
check "podman oci-dir" "$TMP/p-dir" "$TMP/o1" "$TMP/src.brief"
check "podman oci-archive" "$TMP/p.tar" "$TMP/o1" "$TMP/src.brief"
check "podman docker-archive" "$TMP/p-docker.tar" "$TMP/o1" "$TMP/src.brief"
run tar -tvf "$TMP/p-docker.tar"
like '^l.* [0-9a-f]{64}/layer\.tar -> \.\./[0-9a-f]{64}\.tar$' "podman's docker-archive: layer.tar is a symlink member"
if have buildah; then
	oracle "$TMP/p2-dir" "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"] // empty' "$TMP/p2-dir/index.json")" "$TMP/o2" ||
		fail "umoci unpack the second image"
	expect 0 "multi-image docker-archive: --refs" oci-inspect --refs "$TMP/pm.tar"
	is "$(cut -f1 "$TMP/out" | sort | paste -sd,)" "localhost/imp2:t,localhost/imp:t" "multi-image docker-archive: both images"
	check "podman multi-image docker-archive, first" "$TMP/pm.tar:localhost/imp:t" "$TMP/o1" "$TMP/src.brief"
	check "podman multi-image docker-archive, second" "$TMP/pm.tar:localhost/imp2:t" "$TMP/o2"
else
	skip_n $((2 + 2 * CHECK_N - 1)) "buildah not installed"
fi

# ---- the other way: ours into podman ----
expect 0 "oci-commit the source directory" oci-commit "$TMP/src" "$TMP/ours:t"
(cd "$TMP/ours" && tar -cf "$TMP/ours.tar" oci-layout index.json blobs)
step "podman load our oci-archive, save it again as oci-dir" sh -ec '
	$1 load -q -i "$2/ours.tar" >/dev/null
	$1 save -q --format oci-dir -o "$2/back" localhost/t:latest' sh "$PM" "$TMP"
oracle "$TMP/back" "" "$TMP/o-back" 2>/dev/null || oracle "$TMP/back" "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"] // empty' "$TMP/back/index.json")" "$TMP/o-back" ||
	fail "umoci unpack what podman saved"
if diff -u "$TMP/src.tree" "$TMP/o-back" >"$TMP/diff"; then pass "ours, through podman load and save: the source's tree"; else fail "ours, through podman load and save: the source's tree" "$(cat "$TMP/diff")"; fi
check "ours, through podman" "$TMP/back" "$TMP/src.tree" "$TMP/src.brief"

done_testing
