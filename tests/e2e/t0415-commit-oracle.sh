#!/usr/bin/env bash
# Every kind of image oci-commit writes, read by the tools we are checked
# against: a new image, a child of an OCI parent, of a Docker parent (a
# docker-save archive and a layout with a Docker manifest), zstd, squash,
# config flags, one platform of a multi-platform parent. Each: skopeo inspect
# oci: reads it, umoci unpack (gzip) gives oci-unpack's tree, every document
# in the layout is valid against the image-spec's schemas, and GNU tar lists
# every layer we wrote without a word on stderr.
. "$(dirname "$0")/test-lib.sh"
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
SCHEMA=$OCI_SOURCE_DIR/tests/e2e/lib-schema.py
command -v umoci >/dev/null || { echo "1..0 # SKIP umoci not installed"; exit 0; }
command -v skopeo >/dev/null || { echo "1..0 # SKIP skopeo not installed"; exit 0; }
export SOURCE_DATE_EPOCH=1700000000
um_opts=()
[ "$(id -u)" -eq 0 ] || um_opts=(--rootless)
L=$TMP/L
cases=()
bundle() { # NAME IMAGE [--platform P]: a bundle with a few changes
	local B=$TMP/$1
	shift
	rm -rf "$B"
	oci-unpack -q "$@" "$B" || { echo "Bail out! oci-unpack $* failed"; exit 1; }
	local R=$B/rootfs
	echo changed >>"$R/etc/passwd" 2>/dev/null || echo new >"$R/passwd"
	mkdir -p "$R/opt/new" && echo n >"$R/opt/new/f"
	printf 'u\n' >"$R/opt/new/caf$(printf '\xc3\xa9')"
	rm -rf "$R/home" "$R/usr/share"
}
commit() { # REF ARGS...
	local ref=$1
	shift
	if oci-commit -q "$@" "$L:$ref" >/dev/null 2>"$TMP/cerr"; then cases+=("$ref"); else fail "commit $ref" "$(cat "$TMP/cerr")"; fi
}

mkdir -p "$TMP/s/bin" "$TMP/s/etc"
echo hi >"$TMP/s/bin/hi" && chmod 0755 "$TMP/s/bin/hi"
ln -s hi "$TMP/s/bin/hello"
commit new --platform linux/amd64 "$TMP/s"
bundle oci "$TD/multi:v1"
commit oci "$TMP/oci"
commit oci-zstd --compression zstd "$TMP/oci"
commit oci-squash --squash "$TMP/oci"
commit oci-config --from "$TD/multi:v1" --env A=1 --cmd '["/bin/x"]' --entrypoint /bin/sh --workdir /w \
	--user 1000 --label org.example.k=v --expose 8080 --volume /data --stop-signal SIGINT --author me \
	-m msg --created-by build --annotation org.example.a=b
bundle dsave "$TD/docker-save.tar:example/app:1.0"
commit docker-save "$TMP/dsave"
commit docker-save-squash --squash "$TMP/dsave"
bundle dmt "$TD/docker-mt:docker"
commit docker-mt "$TMP/dmt"
commit docker-mt-zstd --compression zstd "$TMP/dmt"
bundle arm "$TD/multiarch:latest" --platform linux/arm64
commit multiarch "$TMP/arm"
bundle dlist "$TD/multiarch:dockerlist" --platform linux/arm64
commit dockerlist "$TMP/dlist"

for ref in "${cases[@]}"; do
	plat=()
	case $ref in multiarch | dockerlist) plat=(--platform linux/arm64/v8) ;; esac
	if skopeo inspect "oci:$L:$ref" >/dev/null 2>"$TMP/skerr"; then pass "$ref: skopeo inspect oci: reads it"; else fail "$ref: skopeo inspect oci: reads it" "$(cat "$TMP/skerr")"; fi
	# umoci 0.4.7 takes no index ("tag is ambiguous"): skopeo picks the
	# committed platform's manifest into a layout of its own first
	src=$L:$ref
	if [ ${#plat[@]} -gt 0 ]; then
		rm -rf "$TMP/one"
		skopeo copy -q --override-arch arm64 --override-variant v8 "oci:$L:$ref" "oci:$TMP/one:$ref" >/dev/null 2>&1
		src=$TMP/one:$ref
	fi
	case $ref in
	*zstd) ;; # umoci 0.4.7 reads no zstd
	*)
		rm -rf "$TMP/um" "$TMP/ou"
		if umoci unpack "${um_opts[@]}" --image "$src" "$TMP/um" >"$TMP/umlog" 2>&1; then
			oci-unpack -q --rootfs "${plat[@]}" "$L:$ref" "$TMP/ou"
			python3 "$LIB" tree "$TMP/ou" "$TMP/want" "$TMP/um/rootfs" "$TMP/got"
			if diff -u "$TMP/want" "$TMP/got" >"$TMP/d"; then pass "$ref: umoci unpack = oci-unpack"; else fail "$ref: umoci unpack = oci-unpack" "$(head -20 "$TMP/d")"; fi
		else
			fail "$ref: umoci unpack = oci-unpack" "$(tail -n 3 "$TMP/umlog")"
		fi
		;;
	esac
	# the layer this commit wrote (the last one), through GNU tar
	m=$(oci-inspect --manifest "${plat[@]}" "$L:$ref")
	d=$(jq -r '.layers[-1].digest' <<<"$m")
	f=$L/blobs/sha256/${d#sha256:}
	case $(jq -r '.layers[-1].mediaType' <<<"$m") in
	*gzip) gzip -dc "$f" ;; *zstd) zstd -qdc "$f" ;; *) cat "$f" ;;
	esac >"$TMP/layer.tar"
	if tar -tvf "$TMP/layer.tar" >/dev/null 2>"$TMP/tverr" && [ ! -s "$TMP/tverr" ]; then pass "$ref: tar -tvf of its last layer: silent"; else fail "$ref: tar -tvf of its last layer: silent" "$(head -3 "$TMP/tverr")"; fi
	is "$(jq -r '[.mediaType, .config.mediaType, .layers[].mediaType] | map(select(test("docker"))) | length' <<<"$m")" 0 "$ref: OCI media types only"
done
is "${#cases[@]}" 11 "all 11 commits made"
if python3 "$SCHEMA" check; then
	if python3 "$SCHEMA" layout "$L" >"$TMP/sch"; then pass "every document in the layout valid against the image-spec's schemas"; else fail "every document in the layout valid against the image-spec's schemas" "$(head -20 "$TMP/sch")"; fi
	oci-unpack -q "$L:oci-config" "$TMP/bc"
	if python3 "$SCHEMA" runtime "$TMP/bc/config.json" >"$TMP/sch"; then pass "config.json of the config-flags image valid against the runtime-spec's schema"; else fail "config.json of the config-flags image valid against the runtime-spec's schema" "$(head -10 "$TMP/sch")"; fi
else
	pass "# SKIP schemas or python3-jsonschema not installed"
fi

done_testing
