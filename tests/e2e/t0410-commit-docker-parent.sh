#!/usr/bin/env bash
# A parent with Docker media types gets an OCI child: over a layout holding a
# Docker schema-2 manifest, a docker-save archive, with --compression zstd and
# --squash, and a Docker manifest list: the manifest, the config and every
# layer descriptor carry OCI media types, the parent's layers re-described
# with the same digests, and skopeo, umoci and buildah-like readers take it.
. "$(dirname "$0")/test-lib.sh"
SCHEMA=$OCI_SOURCE_DIR/tests/e2e/lib-schema.py
MT_MAN=application/vnd.oci.image.manifest.v1+json
MT_CFG=application/vnd.oci.image.config.v1+json
MT_GZ=application/vnd.oci.image.layer.v1.tar+gzip
export SOURCE_DATE_EPOCH=1700000000
um_opts=()
[ "$(id -u)" -eq 0 ] || um_opts=(--rootless)
L=$TMP/L

# types REF: "manifest config layer-types..." as the manifest says
types() { oci-inspect --manifest "$L:$1" | jq -r '[.mediaType, .config.mediaType] + [.layers[].mediaType] | join(" ")'; }
# the parent's layer digests, in order, against the child's first N
same_layers() { # PARENT CHILDREF NAME
	local p c
	p=$(oci-inspect --manifest "$1" | jq -c '[.layers[].digest]')
	c=$(oci-inspect --manifest "$L:$2" | jq -c --argjson n "$(jq length <<<"$p")" '[.layers[:$n][].digest]')
	is "$c" "$p" "$3"
}

for src in "$TD/docker-mt:docker" "$TD/docker-save.tar:example/app:1.0"; do
	case $src in *docker-mt*) tag=mt ;; *) tag=save ;; esac
	rm -rf "$TMP/b"
	oci-unpack -q "$src" "$TMP/b" || { echo "Bail out! oci-unpack $src failed"; exit 1; }
	echo new >"$TMP/b/rootfs/new.txt"
	expect 0 "$tag: commit over a Docker parent" oci-commit --keep-record -q "$TMP/b" "$L:$tag"
	n=$(oci-inspect --manifest "$src" | jq '.layers | length')
	want="$MT_MAN $MT_CFG $(oci-inspect --manifest "$src" | jq -r '[.layers[].mediaType
		| sub("vnd.docker.image.rootfs.diff.tar.gzip$"; "vnd.oci.image.layer.v1.tar+gzip")
		| sub("vnd.docker.image.rootfs.diff.tar$"; "vnd.oci.image.layer.v1.tar")] | join(" ")') $MT_GZ"
	diag "$tag: the parent has $n layers"
	is "$(types "$tag")" "$want" "$tag: manifest, config and every layer have OCI media types"
	is "$(jq -r --arg r "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $r) | .mediaType' "$L/index.json")" \
		"$MT_MAN" "$tag: index.json names an OCI manifest"
	same_layers "$src" "$tag" "$tag: the parent's layers kept (same digests), re-described"
	expect 0 "$tag: zstd commit over a Docker parent" oci-commit --keep-record -q --compression zstd "$TMP/b" "$L:$tag-zstd"
	is "$(types "$tag-zstd" | tr ' ' '\n' | grep -c docker)" 0 "$tag: zstd: no Docker media type mixed in"
	is "$(types "$tag-zstd" | awk '{ print $NF }')" application/vnd.oci.image.layer.v1.tar+zstd "$tag: zstd: the new layer is tar+zstd"
	expect 0 "$tag: squash over a Docker parent" oci-commit --keep-record -q --squash "$TMP/b" "$L:$tag-squash"
	is "$(types "$tag-squash")" "$MT_MAN $MT_CFG $MT_GZ" "$tag: squash: OCI media types"
	expect 0 "$tag: config-only commit over a Docker parent" oci-commit -q --from "$src" --env X=1 "$L:$tag-cfg"
	is "$(types "$tag-cfg" | tr ' ' '\n' | grep -c docker)" 0 "$tag: config-only: OCI media types"
	# readers that refuse a Docker manifest in an OCI layout
	for r in "$tag" "$tag-squash" "$tag-cfg"; do
		if skopeo inspect "oci:$L:$r" >"$TMP/sk" 2>"$TMP/skerr"; then pass "$r: skopeo inspect oci: reads it"; else fail "$r: skopeo inspect oci: reads it" "$(cat "$TMP/skerr")"; fi
		rm -rf "$TMP/um" "$TMP/ou"
		if umoci unpack "${um_opts[@]}" --image "$L:$r" "$TMP/um" >"$TMP/umlog" 2>&1; then
			pass "$r: umoci unpack reads it"
			oci-unpack -q --rootfs "$L:$r" "$TMP/ou"
			python3 "$OCI_SOURCE_DIR/tests/e2e/lib-layers.py" tree "$TMP/ou" "$TMP/want" "$TMP/um/rootfs" "$TMP/got"
			if diff -u "$TMP/want" "$TMP/got" >"$TMP/d"; then pass "$r: umoci's tree = oci-unpack's"; else fail "$r: umoci's tree = oci-unpack's" "$(head -20 "$TMP/d")"; fi
		else
			fail "$r: umoci unpack reads it" "$(tail -n 3 "$TMP/umlog")"
		fi
	done
done
if python3 "$SCHEMA" check; then
	if python3 "$SCHEMA" layout "$L" >"$TMP/sch"; then pass "every document valid against the image-spec's schemas"; else fail "every document valid against the image-spec's schemas" "$(head -20 "$TMP/sch")"; fi
else
	pass "# SKIP image-spec schemas or python3-jsonschema not installed"
fi

# a Docker manifest list: the new index is an OCI index
oci-unpack -q --platform linux/arm64 "$TD/multiarch:dockerlist" "$TMP/bl" || { echo "Bail out! oci-unpack failed"; exit 1; }
echo x >"$TMP/bl/rootfs/x"
expect 0 "commit over one platform of a Docker manifest list" oci-commit --keep-record -q "$TMP/bl" "$TMP/L2:dl"
is "$(oci-inspect --index "$TMP/L2:dl" | jq -r .mediaType)" application/vnd.oci.image.index.v1+json "the list became an OCI index"
is "$(types2() { oci-inspect --manifest --platform linux/arm64/v8 "$TMP/L2:dl" | jq -r '[.mediaType, .config.mediaType] + [.layers[].mediaType] | unique | join(" ")'; }; types2)" \
	"$MT_CFG $MT_GZ $MT_MAN" "the new arm64 manifest is OCI through and through"
if skopeo inspect --raw "oci:$TMP/L2:dl" >/dev/null 2>"$TMP/skerr"; then pass "skopeo reads the new index"; else fail "skopeo reads the new index" "$(cat "$TMP/skerr")"; fi

done_testing
