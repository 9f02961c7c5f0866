#!/usr/bin/env bash
# oci-inspect --refs: REF<TAB>DIGEST<TAB>MEDIATYPE<TAB>PLATFORMS, and --refs --json.
. "$(dirname "$0")/test-lib.sh"
# test-lib's fail() marks only the first line of a multi-line diagnostic (a
# tool's stderr of several lines) as a TAP comment; mark every line.
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'; return 0; }

T=$'\t'
MT_M=application/vnd.oci.image.manifest.v1+json
MT_I=application/vnd.oci.image.index.v1+json
MT_DL=application/vnd.docker.distribution.manifest.list.v2+json
MT_DM=application/vnd.docker.distribution.manifest.v2+json

# line N of the last stdout
line() { sed -n "${1}p" "$TMP/out"; }
jqis() {
	local got
	got=$(jq -r "$1" <"$TMP/out" 2>&1)
	is "$got" "$2" "$3"
}

# ---- multi ----
expect 0 "--refs multi exits 0" oci-inspect --refs "$TD/multi"
is "$(wc -c <"$TMP/err")" 0 "--refs: nothing on stderr"
is "$(wc -l <"$TMP/out")" 2 "--refs multi: 2 lines"
is "$(awk -F'\t' 'NF != 4' "$TMP/out" | wc -l)" 0 "--refs multi: every line has 4 tab-separated fields"
is "$(line 1)" "v1${T}$(digest_of multi:v1)${T}${MT_M}${T}linux/amd64" "--refs multi line 1: v1 DIGEST MEDIATYPE PLATFORM"
is "$(line 2)" "v2${T}$(digest_of multi:v2)${T}${MT_M}${T}linux/amd64" "--refs multi line 2: v2 DIGEST MEDIATYPE PLATFORM"
cp "$TMP/out" "$TMP/refs-multi"

expect 0 "--refs multi:v2 exits 0" oci-inspect --refs "$TD/multi:v2"
is "$(cat "$TMP/out")" "v2${T}$(digest_of multi:v2)${T}${MT_M}${T}linux/amd64" "--refs multi:v2: only the named ref"

# ---- multiarch: nested index, Docker list, plain manifest ----
expect 0 "--refs multiarch exits 0" oci-inspect --refs "$TD/multiarch"
is "$(wc -l <"$TMP/out")" 3 "--refs multiarch: 3 lines"
is "$(awk -F'\t' 'NF != 4' "$TMP/out" | wc -l)" 0 "--refs multiarch: 4 fields per line"
is "$(line 1)" "latest${T}$(digest_of multiarch:latest)${T}${MT_I}${T}linux/amd64,linux/arm64/v8,linux/arm/v7,linux/386" \
	"--refs multiarch: latest lists all four platforms, nested ones included"
is "$(line 2)" "dockerlist${T}$(digest_of multiarch:dockerlist)${T}${MT_DL}${T}linux/amd64,linux/arm64/v8" \
	"--refs multiarch: dockerlist is a Docker manifest list with 2 platforms"
is "$(line 3)" "amd64-only${T}$(digest_of multiarch:amd64-only)${T}${MT_M}${T}linux/amd64" \
	"--refs multiarch: amd64-only, platform from its config"

# every ref in manifest.txt for a layout appears with the same digest
for img in multi zstd docker-mt multiarch; do
	run oci-inspect --refs "$TD/$img"
	got=$(awk -F'\t' -v i="$img" '{ print i ":" $1 " " $2 }' "$TMP/out")
	want=$(awk -v i="$img" 'index($1, i ":") == 1' "$TD/manifest.txt")
	is "$got" "$want" "--refs $img agrees with manifest.txt"
done

# ---- --refs --json ----
expect 0 "--refs --json multiarch exits 0" oci-inspect --refs --json "$TD/multiarch"
jqis 'type' array "--refs --json is an array"
jqis length 3 "--refs --json: 3 entries"
jqis '[.[].ref] | join(",")' latest,dockerlist,amd64-only "--refs --json: refs"
jqis '.[0].digest' "$(digest_of multiarch:latest)" "--refs --json: latest digest"
jqis '.[0].mediaType' "$MT_I" "--refs --json: latest media type"
jqis '.[0].platforms | tojson' '["linux/amd64","linux/arm64/v8","linux/arm/v7","linux/386"]' "--refs --json: latest platforms"
jqis '.[1].mediaType' "$MT_DL" "--refs --json: dockerlist media type"
jqis '.[1].platforms | tojson' '["linux/amd64","linux/arm64/v8"]' "--refs --json: dockerlist platforms"
jqis '.[2].platforms | tojson' '["linux/amd64"]' "--refs --json: amd64-only platforms"

expect 0 "--refs --json multi exits 0" oci-inspect --refs --json "$TD/multi"
jqis '.[] | "\(.ref)\t\(.digest)\t\(.mediaType)\t\(.platforms | join(","))"' "$(cat "$TMP/refs-multi")" \
	"--refs --json multi carries the same data as the text form"

# ---- archives ----
for a in multi.tar multi.tar.gz multi.tar.zst; do
	expect 0 "--refs $a exits 0" oci-inspect --refs "$TD/$a"
	if cmp -s "$TMP/out" "$TMP/refs-multi"; then pass "--refs $a equals --refs multi"; else fail "--refs $a equals --refs multi"; fi
done
expect 0 "--refs multiarch.tar exits 0" oci-inspect --refs "$TD/multiarch.tar"
is "$(cut -f1,2 "$TMP/out" | tr '\t' ' ')" \
	"$(awk 'index($1, "multiarch.tar:") == 1 { sub("multiarch.tar:", "", $1); print $1 " " $2 }' "$TD/manifest.txt")" \
	"--refs multiarch.tar agrees with manifest.txt"

expect 0 "--refs docker-save.tar exits 0" oci-inspect --refs "$TD/docker-save.tar"
is "$(cut -f1 "$TMP/out" | paste -sd,)" "example/app:1.0,example/app:latest" "--refs docker-save: both RepoTags"
is "$(cut -f3 "$TMP/out" | sort -u)" "$MT_DM" "--refs docker-save: Docker schema-2 manifests"
is "$(cut -f2 "$TMP/out" | sort -u | wc -l)" 1 "--refs docker-save: both tags point at one manifest"
is "$(cut -f4 "$TMP/out" | sort -u)" linux/amd64 "--refs docker-save: platform from the config"

expect 0 "--refs docker-save-multi.tar exits 0" oci-inspect --refs "$TD/docker-save-multi.tar"
is "$(cut -f1 "$TMP/out" | paste -sd,)" "one:1,two:2" "--refs docker-save-multi: one:1 and two:2"
is "$(cut -f2 "$TMP/out" | sort -u | wc -l)" 2 "--refs docker-save-multi: two different manifests"

expect 0 "--refs --json docker-save-multi.tar exits 0" oci-inspect --refs --json "$TD/docker-save-multi.tar"
jqis '[.[].ref] | join(",")' "one:1,two:2" "--refs --json docker-save-multi: refs"

expect 0 "--refs docker-save-oci.tar exits 0" oci-inspect --refs "$TD/docker-save-oci.tar"
is "$(cut -f1,2 "$TMP/out")" "1.0${T}$(digest_of docker-save-oci.tar:1.0)" "--refs docker-save-oci: 1.0 and its digest"

# ---- descriptors without a ref, and refs that are not unique ----
REFK=org.opencontainers.image.ref.name
mk_layout() { # mk_layout DIR JQ-FILTER: multi's blobs with a rewritten index.json
	mkdir -p "$1"
	cp -r "$TD/multi/." "$1/"
	chmod -R u+w "$1"
	jq -c "$2" "$TD/multi/index.json" >"$1/index.json"
}
mk_layout "$TMP/noref" "del(.manifests[1].annotations)"
expect 0 "--refs with a descriptor without a ref exits 0" oci-inspect --refs "$TMP/noref"
is "$(sed -n 2p "$TMP/out")" "-${T}$(digest_of multi:v2)${T}${MT_M}${T}linux/amd64" "a descriptor without a ref shows '-'"
expect 0 "--refs --json with a descriptor without a ref exits 0" oci-inspect --refs --json "$TMP/noref"
jqis '.[1].ref' null "--refs --json: a missing ref is null"
expect_fail "--manifest without REF, one descriptor unnamed: exit 2" oci-inspect --manifest "$TMP/noref"
err_like "v1.*$(digest_of multi:v2)" "the list of refs names the unnamed one by digest"

mk_layout "$TMP/dup" ".manifests[1].annotations[\"$REFK\"] = \"v1\""
expect_fail "a ref on two different manifests: exit 2" oci-inspect --manifest "$TMP/dup:v1"
err_like 'v1' "an ambiguous ref: the error names it"
mk_layout "$TMP/dupsame" ".manifests += [.manifests[0]]"
expect 0 "a ref twice on the same manifest exits 0" oci-inspect --manifest "$TMP/dupsame:v1"
is "sha256:$(sha256sum <"$TMP/out" | cut -d' ' -f1)" "$(digest_of multi:v1)" "a ref twice on the same manifest: that manifest"

# ---- errors ----
expect_fail "--refs on a missing layout: exit 2" oci-inspect --refs "$TMP/nonexistent"
err_like 'nonexistent' "--refs on a missing layout: names the path"
expect_fail "--refs with an unknown ref: exit 2" oci-inspect --refs "$TD/multi:v7"
err_like 'v7' "--refs with an unknown ref: names it"
err_like 'v1.*v2' "--refs with an unknown ref: lists v1 and v2"

done_testing
