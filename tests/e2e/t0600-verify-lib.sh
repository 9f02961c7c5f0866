# t0600-verify-lib.sh: sourced by the t06NN-verify-*.sh tests (after
# test-lib.sh); not a test itself, so not in meson.build's list.
# Helpers to plant one fault in a fresh copy of a good layout and to check
# `oci-inspect --verify` / `--repair` output: KIND DIGEST REFS DETAIL lines.

LIBLAYERS="$OCI_SOURCE_DIR/tests/e2e/lib-layers.py"
REFANN=org.opencontainers.image.ref.name
MT_GZ=application/vnd.oci.image.layer.v1.tar+gzip
MT_ZST=application/vnd.oci.image.layer.v1.tar+zstd
MT_TAR=application/vnd.oci.image.layer.v1.tar
MT_MAN=application/vnd.oci.image.manifest.v1+json
MT_IDX=application/vnd.oci.image.index.v1+json

# test-lib's fail() marks only the first line of a diagnostic as a comment
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'; return 0; }
skip() { _n=$((_n + 1)); echo "ok $_n # SKIP $1"; }

# a fresh copy of a layout: fresh NAME SRC -> $TMP/NAME
fresh() { rm -rf "${TMP:?}/$1"; cp -a "$2" "$TMP/$1"; }

blobpath() { echo "$1/blobs/${2%%:*}/${2#*:}"; }
sha_file() { echo "sha256:$(sha256sum <"$1" | cut -c1-64)"; }

# flip FILE OFFSET: flip the low bit of one byte (a negative offset counts from the end)
flip() {
	local f=$1 off=$2 b
	[ "$off" -lt 0 ] && off=$(($(stat -c %s "$f") + off))
	b=$(od -An -tu1 -j"$off" -N1 "$f" | tr -d ' ')
	# shellcheck disable=SC2059
	printf "$(printf '\\%03o' $(((b ^ 1) & 255)))" |
		dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

# put_blob DIR FILE: move FILE into DIR's blobs under its digest, print the digest
put_blob() {
	local d
	d=$(sha_file "$2")
	mv "$2" "$(blobpath "$1" "$d")"
	echo "$d"
}
# mdig DIR REF: the digest index.json gives REF
mdig() { jq -r --arg r "$2" '.manifests[] | select(.annotations["'$REFANN'"] == $r) | .digest' "$1/index.json"; }
# set_index DIR JQ: rewrite index.json through a jq filter
set_index() { jq -c "$2" "$1/index.json" >"$1/.i" && mv "$1/.i" "$1/index.json"; }
# set_manifest DIR REF JQ: rewrite REF's manifest through a jq filter, store it,
# point REF at it (right size) and remove the old one; prints the new digest
set_manifest() {
	local old new
	old=$(mdig "$1" "$2")
	jq -c "$3" "$(blobpath "$1" "$old")" | tr -d '\n' >"$1/.m"
	new=$(put_blob "$1" "$1/.m")
	[ "$new" != "$old" ] && rm -f "$(blobpath "$1" "$old")"
	set_index "$1" '(.manifests[] | select(.annotations["'$REFANN'"] == "'"$2"'")) |=
		(.digest = "'"$new"'" | .size = '"$(stat -c %s "$(blobpath "$1" "$new")")"')'
	echo "$new"
}
# set_config DIR REF JQ, or set_config DIR REF --raw FILE: REF's config
# replaced (rewritten through JQ, or FILE's bytes), the manifest updated;
# prints the new config digest
set_config() {
	local m c new
	m=$(mdig "$1" "$2")
	c=$(jq -r .config.digest "$(blobpath "$1" "$m")")
	if [ "$3" = --raw ]; then cp "$4" "$1/.c"; else jq -c "$3" "$(blobpath "$1" "$c")" | tr -d '\n' >"$1/.c"; fi
	new=$(put_blob "$1" "$1/.c")
	# another ref may share the old config
	grep -rlq --exclude="${m#*:}" "$c" "$1/blobs" || rm -f "$(blobpath "$1" "$c")"
	set_manifest "$1" "$2" ".config.digest = \"$new\" | .config.size = $(stat -c %s "$(blobpath "$1" "$new")")" >/dev/null
	echo "$new"
}
# layer_of DIR REF N: the digest of REF's layer N (0 = bottom)
layer_of() { jq -r ".layers[$3].digest" "$(blobpath "$1" "$(mdig "$1" "$2")")"; }
config_of() { jq -r .config.digest "$(blobpath "$1" "$(mdig "$1" "$2")")"; }

# mk_three OUT EXTRA [OUT EXTRA]...: layouts with refs a, b, c whose bottom
# layer is shared by all three (EXTRA is added to that layer's spec: its
# compression, a forced media type); each ref has a small layer of its own.
# One lib-layers.py call for all of them.
mk_three() {
	local args=() outs=() extras=() out r i=0 descs digests pad
	pad=$(head -c 3000 /dev/zero | tr '\0' x)
	while [ $# -ge 2 ]; do
		outs+=("$1")
		extras+=("$2")
		for r in a b c; do
			printf '{"ref":"%s","config":{"Cmd":["/bin/%s"]},"layers":[{"entries":["etc/","etc/base=base\\n","usr/","usr/data=%s\\n"]%s},["etc/%s=only %s\\n"]]}' \
				"$r" "$r" "$pad" "$2" "$r" "$r" >"$1.spec-$r"
			args+=("$1" "$1.spec-$r")
		done
		shift 2
	done
	mapfile -t digests < <(python3 "$LIBLAYERS" build "${args[@]}")
	for out in "${outs[@]}"; do
		descs=
		for r in a b c; do
			descs+=$(printf '%s{"mediaType":"%s","digest":"%s","size":%d,"annotations":{"%s":"%s"}}' \
				"${descs:+,}" "$MT_MAN" "${digests[$i]}" "$(stat -c %s "$(blobpath "$out" "${digests[$i]}")")" "$REFANN" "$r")
			i=$((i + 1))
		done
		printf '{"schemaVersion":2,"mediaType":"%s","manifests":[%s]}' "$MT_IDX" "$descs" >"$out/index.json"
		rm -f "$out".spec-?
	done
}

# what a layout holds
blob_count() { find "$1/blobs" -type f | wc -l; }
# the refs of index.json, "REF DIGEST" sorted
refs_of() { jq -r '.manifests[] | "\(.annotations["'$REFANN'"] // "-") \(.digest)"' "$1/index.json" 2>/dev/null | sort; }
ref_names() { jq -r '[.manifests[].annotations["'$REFANN'"] // empty] | sort | join(",")' "$1/index.json" 2>/dev/null; }
# tree_list DIR: every name, type, mode, size, link target and content hash under DIR
tree_list() {
	(cd "$1" && find . -printf '%p %y %m %s %l\n' | sort && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}
# same_tree DIR LISTFILE NAME: DIR is still as tree_list saw it in LISTFILE
same_tree() {
	local d
	d=$(tree_list "$1" | diff "$2" - | grep '^[<>]' | head -5)
	if [ -z "$d" ]; then pass "$3"; else fail "$3" "changed: $d"; fi
}

# the problem lines (not notes) of the last run's stdout
problems() { grep -v -e '^note ' -e '^fixed ' -e '^would fix ' "$TMP/out"; }
notes() { grep '^note ' "$TMP/out"; }
fixes() { grep -E '^(fixed|would fix) ' "$TMP/out"; }

# well_formed NAME: every stdout line is "[note |fixed |would fix ]KIND DIGEST REFS DETAIL"
KIND_RE='(layout|index|missing|size|digest|mediatype|json|diffid|tar|unreferenced|stray|rewrite|gc)'
LINE_RE="^((note|fixed|would fix) )?$KIND_RE (-|sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}) [^ ]+ [^ ].*$"
well_formed() {
	local bad
	bad=$(grep -vE "$LINE_RE" "$TMP/out" | head -3)
	if [ -z "$bad" ]; then pass "$1"; else fail "$1" "$bad"; fi
}

# only_problem KIND DIGEST REFS NAME: the run reported exactly one problem,
# "KIND DIGEST REFS ..." (KIND and DIGEST may be alternatives: "size|digest")
only_problem() {
	local p n
	p=$(problems)
	n=$(printf '%s' "$p" | grep -c '^')
	if [ "$n" -eq 1 ] && printf '%s\n' "$p" |
		awk -v k="^($1)\$" -v d="^($2)\$" -v r="$3" '$1 ~ k && $2 ~ d && $3 == r { f = 1 } END { exit !f }'; then
		pass "$4"
	else
		fail "$4" "want one line '$1 $2 $3 ...', got $n:
$p"
	fi
}
# has_problem KIND DIGEST REFS NAME: one of the problem lines is that (and only one names DIGEST)
has_problem() {
	local p
	p=$(problems)
	if [ "$(printf '%s\n' "$p" | awk -v d="^($2)\$" '$2 ~ d' | grep -c '^')" -eq 1 ] &&
		printf '%s\n' "$p" | awk -v k="^($1)\$" -v d="^($2)\$" -v r="$3" '$1 ~ k && $2 ~ d && $3 == r { f = 1 } END { exit !f }'; then
		pass "$4"
	else
		fail "$4" "want one line '$1 $2 $3 ...' among:
$p"
	fi
}
# refs_cover KIND DIGEST REFS NAME: every problem line is "KIND DIGEST ...",
# and their REFS together are REFS with no ref on two lines (one line naming
# them all, or one line per separate descriptor, each with its own ref)
refs_cover() {
	local p got
	p=$(problems)
	got=$(printf '%s\n' "$p" | awk '{ print $3 }' | tr ',' '\n' | sort | paste -sd,)
	if [ -n "$p" ] && ! printf '%s\n' "$p" | awk -v k="$1" -v d="$2" '$1 != k || $2 != d { f = 1 } END { exit !f }' &&
		[ "$got" = "$3" ]; then
		pass "$4"
	else
		fail "$4" "want '$1 $2' lines naming $3 once each, got:
$p"
	fi
}
no_problems() {
	local p
	p=$(problems)
	if [ -z "$p" ]; then pass "$1"; else fail "$1" "$p"; fi
}
# has_fix KIND DIGEST NAME: a "fixed KIND DIGEST ..." line
has_fix() {
	if awk -v k="$1" -v d="$2" '$1 == "fixed" && $2 == k && ($3 == d || d == "") { f = 1 } END { exit !f }' "$TMP/out"; then
		pass "$3"
	else
		fail "$3" "no 'fixed $1 $2' in: $(head -c 600 "$TMP/out")"
	fi
}
# fixed_refs KIND DIGEST: the refs of the "fixed KIND DIGEST" lines, merged and sorted
fixed_refs() {
	awk -v k="$1" -v d="$2" '$1 == "fixed" && $2 == k && $3 == d { print $4 }' "$TMP/out" |
		tr ',' '\n' | sort -u | paste -sd,
}

# readable DIR REF NAME: the ref is read by umoci (unless SKIP_UMOCI) and skopeo
readable() {
	local dir=$1 ref=$2 name=$3
	if command -v umoci >/dev/null 2>&1 && [ -z "${SKIP_UMOCI:-}" ]; then
		rm -rf "$TMP/umoci-bundle"
		if umoci unpack --rootless --image "$dir:$ref" "$TMP/umoci-bundle" >"$TMP/umoci.log" 2>&1; then
			pass "$name: umoci unpacks $ref"
		else
			fail "$name: umoci unpacks $ref" "$(tail -n 3 "$TMP/umoci.log")"
		fi
		rm -rf "$TMP/umoci-bundle"
	else
		skip "$name: umoci unpack $ref (umoci missing or cannot read this media type)"
	fi
	if command -v skopeo >/dev/null 2>&1; then
		if skopeo inspect "oci:$dir:$ref" >"$TMP/skopeo.log" 2>&1; then
			pass "$name: skopeo inspects $ref"
		else
			fail "$name: skopeo inspects $ref" "$(tail -n 3 "$TMP/skopeo.log")"
		fi
	else
		skip "$name: skopeo inspect $ref (no skopeo)"
	fi
}

# the multi layout's pieces (testdata/README.md)
M_V1=$(digest_of multi:v1)
M_V2=$(digest_of multi:v2)
M_L1=$(awk 'NR == 1 { print $1 }' "$TD/expected/multi-v1.layers") # shared by v1 and v2
M_L2=$(awk 'NR == 2 { print $1 }' "$TD/expected/multi-v1.layers") # v1 only, gzip
M_L3=$(awk 'NR == 3 { print $1 }' "$TD/expected/multi-v1.layers") # v1 only, plain tar
M_C1=$(jq -r .config.digest "$(blobpath "$TD/multi" "$M_V1")")
M_C2=$(jq -r .config.digest "$(blobpath "$TD/multi" "$M_V2")")
OTHER_DIFF="sha256:$(printf 'other data' | sha256sum | cut -c1-64)"
