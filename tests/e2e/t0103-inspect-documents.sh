#!/usr/bin/env bash
# oci-inspect --manifest/--config/--index: the documents' exact bytes;
# platform selection in (nested) indexes and Docker manifest lists; @DIGEST.
. "$(dirname "$0")/test-lib.sh"
# test-lib's fail() marks only the first line of a multi-line diagnostic (a
# tool's stderr of several lines) as a TAP comment; mark every line.
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'; return 0; }

PLATS="$TD/expected/multiarch.platforms"
blob() { echo "$1/blobs/sha256/${2#sha256:}"; }
plat_digest() { awk -v k="$1" -v p="$2" '$1 == k && $2 == p { print $3 }' "$PLATS"; }
skip() { _n=$((_n + 1)); echo "ok $_n # SKIP $1"; }

# same_bytes FILE NAME: the last stdout is byte-for-byte FILE
same_bytes() {
	if [ -f "$1" ] && cmp -s "$TMP/out" "$1"; then pass "$2"; else fail "$2" "stdout differs from $1"; fi
}
# sha_is DIGEST NAME: sha256 of the last stdout
sha_is() {
	is "sha256:$(sha256sum <"$TMP/out" | cut -d' ' -f1)" "$1" "$2"
}

V1=$(digest_of multi:v1)
V2=$(digest_of multi:v2)
CFG1=$(jq -r .config.digest "$(blob "$TD/multi" "$V1")")
CFG2=$(jq -r .config.digest "$(blob "$TD/multi" "$V2")")

# ---- multi ----
expect 0 "--manifest multi:v1 exits 0" oci-inspect --manifest "$TD/multi:v1"
same_bytes "$(blob "$TD/multi" "$V1")" "--manifest multi:v1: exact bytes of the manifest blob"
sha_is "$V1" "--manifest multi:v1: sha256 of the output is the manifest digest"
is "$(wc -c <"$TMP/err")" 0 "--manifest: nothing on stderr"

expect 0 "--config multi:v1 exits 0" oci-inspect --config "$TD/multi:v1"
same_bytes "$(blob "$TD/multi" "$CFG1")" "--config multi:v1: exact bytes of the config blob"
sha_is "$CFG1" "--config multi:v1: sha256 of the output is the config digest"

expect 0 "--manifest multi:v2 exits 0" oci-inspect --manifest "$TD/multi:v2"
same_bytes "$(blob "$TD/multi" "$V2")" "--manifest multi:v2: exact bytes"
expect 0 "--config multi:v2 exits 0" oci-inspect --config "$TD/multi:v2"
same_bytes "$(blob "$TD/multi" "$CFG2")" "--config multi:v2: exact bytes"

expect 0 "--index multi exits 0" oci-inspect --index "$TD/multi"
same_bytes "$TD/multi/index.json" "--index multi: exact bytes of index.json"
expect 0 "--index multi:v1 (a manifest ref) exits 0" oci-inspect --index "$TD/multi:v1"
same_bytes "$TD/multi/index.json" "--index multi:v1: index.json, as the ref is no index"

expect 0 "--manifest multi@DIGEST exits 0" oci-inspect --manifest "$TD/multi@$V2"
same_bytes "$(blob "$TD/multi" "$V2")" "--manifest multi@DIGEST: that manifest"
expect 0 "--config multi@DIGEST exits 0" oci-inspect --config "$TD/multi@$V1"
same_bytes "$(blob "$TD/multi" "$CFG1")" "--config multi@DIGEST: its config"

expect_fail "--manifest multi without REF (2 images): exit 2" oci-inspect --manifest "$TD/multi"
err_like 'v1' "--manifest without REF: lists v1"
err_like 'v2' "--manifest without REF: lists v2"
is "$(wc -c <"$TMP/out")" 0 "--manifest without REF: nothing on stdout"
expect_fail "--config multi without REF: exit 2" oci-inspect --config "$TD/multi"
expect_fail "--manifest multi@CONFIG-DIGEST (no manifest): exit 2" oci-inspect --manifest "$TD/multi@$CFG1"
err_like "${CFG1#sha256:}" "--manifest @CONFIG-DIGEST: names the digest"
expect_fail "--manifest multi@sha256:000… (absent): exit 2" oci-inspect --manifest "$TD/multi@sha256:$(printf '0%.0s' $(seq 64))"
expect_fail "--manifest multi@sha256:XYZ (malformed): exit 2" oci-inspect --manifest "$TD/multi@sha256:XYZ"

# ---- multiarch: platform selection ----
LATEST=$(digest_of multiarch:latest)
INNER=$(awk '$1 == "oci-index-inner" { print $3 }' "$PLATS")

expect 0 "--index multiarch:latest exits 0" oci-inspect --index "$TD/multiarch:latest"
same_bytes "$(blob "$TD/multiarch" "$LATEST")" "--index multiarch:latest: the named index's bytes"
expect 0 "--index multiarch@INNER exits 0" oci-inspect --index "$TD/multiarch@$INNER"
same_bytes "$(blob "$TD/multiarch" "$INNER")" "--index multiarch@INNER: the nested index's bytes"
expect 0 "--index multiarch exits 0" oci-inspect --index "$TD/multiarch"
same_bytes "$TD/multiarch/index.json" "--index multiarch: index.json"

for p in linux/amd64 linux/arm64/v8 linux/arm/v7 linux/386; do
	D=$(plat_digest oci "$p")
	expect 0 "--manifest --platform $p multiarch:latest exits 0" oci-inspect --manifest --platform "$p" "$TD/multiarch:latest"
	same_bytes "$(blob "$TD/multiarch" "$D")" "--platform $p: that platform's manifest"
done
expect 0 "--platform linux/arm64 (no variant) exits 0" oci-inspect --manifest --platform linux/arm64 "$TD/multiarch:latest"
sha_is "$(plat_digest oci linux/arm64/v8)" "--platform linux/arm64 selects the arm64/v8 manifest"

expect 0 "--config --platform linux/arm/v7 exits 0" oci-inspect --config --platform linux/arm/v7 "$TD/multiarch:latest"
is "$(jq -r '"\(.os)/\(.architecture)/\(.variant)"' <"$TMP/out")" linux/arm/v7 "--config of the nested arm/v7 image"
sha_is "$(jq -r .config.digest "$(blob "$TD/multiarch" "$(plat_digest oci linux/arm/v7)")")" "--config arm/v7: bytes match its digest"

expect_fail "--platform linux/s390x on multiarch:latest: exit 2" oci-inspect --manifest --platform linux/s390x "$TD/multiarch:latest"
err_like 's390x' "no match: names the platform asked for"
for p in linux/amd64 linux/arm64/v8 linux/arm/v7 linux/386; do
	err_like "$p" "no match: the error lists $p"
done
is "$(wc -c <"$TMP/out")" 0 "no match: nothing on stdout"

expect_fail "--platform linux/arm/v7 on the Docker list (absent): exit 2" \
	oci-inspect --manifest --platform linux/arm/v7 "$TD/multiarch:dockerlist"
err_like 'linux/amd64.*linux/arm64/v8' "Docker list no match: lists its two platforms"

# @DIGEST of a manifest inside the nested index
D=$(plat_digest oci linux/arm/v7)
expect 0 "--manifest multiarch@NESTED-DIGEST exits 0" oci-inspect --manifest "$TD/multiarch@$D"
same_bytes "$(blob "$TD/multiarch" "$D")" "@DIGEST selects a manifest that only a nested index lists"
expect 0 "--manifest --platform linux/386 multiarch@INNER exits 0" oci-inspect --manifest --platform linux/386 "$TD/multiarch@$INNER"
sha_is "$(plat_digest oci linux/386)" "@INNER-INDEX with --platform resolves inside it"

# Docker manifest list
for p in linux/amd64 linux/arm64/v8; do
	D=$(plat_digest docker "$p")
	expect 0 "--manifest --platform $p multiarch:dockerlist exits 0" oci-inspect --manifest --platform "$p" "$TD/multiarch:dockerlist"
	same_bytes "$(blob "$TD/multiarch" "$D")" "Docker list --platform $p: the Docker manifest"
	is "$(jq -r .mediaType <"$TMP/out")" application/vnd.docker.distribution.manifest.v2+json "Docker list $p: a schema-2 manifest"
done
expect 0 "--index multiarch:dockerlist exits 0" oci-inspect --index "$TD/multiarch:dockerlist"
same_bytes "$(blob "$TD/multiarch" "$(digest_of multiarch:dockerlist)")" "--index of the Docker list: its bytes"

expect 0 "--manifest multiarch:amd64-only exits 0" oci-inspect --manifest "$TD/multiarch:amd64-only"
same_bytes "$(blob "$TD/multiarch" "$(digest_of multiarch:amd64-only)")" "amd64-only: exact bytes"
expect 0 "--platform does not hinder a plain manifest ref" oci-inspect --manifest --platform linux/amd64 "$TD/multiarch:amd64-only"
sha_is "$(digest_of multiarch:amd64-only)" "amd64-only with --platform linux/amd64"

# an index whose only entry has no platform resolves to that entry
mkdir -p "$TMP/lone"
cp -r "$TD/multi/." "$TMP/lone/"
chmod -R u+w "$TMP/lone"
LONE_IDX=$(jq -c '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
	manifests: [.manifests[0] | del(.annotations)]}' "$TD/multi/index.json")
LONE_HEX=$(printf '%s' "$LONE_IDX" | sha256sum | cut -d' ' -f1)
printf '%s' "$LONE_IDX" >"$TMP/lone/blobs/sha256/$LONE_HEX"
jq -c --arg d "sha256:$LONE_HEX" --argjson n "${#LONE_IDX}" \
	'{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $n,
	annotations: {"org.opencontainers.image.ref.name": "lone"}}]}' "$TD/multi/index.json" >"$TMP/lone/index.json"
expect 0 "an index with one platform-less entry resolves (--platform linux/s390x)" \
	oci-inspect --manifest --platform linux/s390x "$TMP/lone:lone"
sha_is "$V1" "the lone entry is the manifest"

# default platform: the host's
case "$(uname -m)" in
x86_64) HOSTP=linux/amd64 ;;
aarch64) HOSTP=linux/arm64/v8 ;;
*) HOSTP= ;;
esac
if [ -n "$HOSTP" ]; then
	expect 0 "--manifest multiarch:latest (host platform) exits 0" oci-inspect --manifest "$TD/multiarch:latest"
	sha_is "$(plat_digest oci "$HOSTP")" "no --platform: the host's platform ($HOSTP)"
else
	skip "host platform $(uname -m) not in the test image"
	skip "host platform $(uname -m) not in the test image"
fi

# ---- Docker media types, zstd, archives ----
expect 0 "--manifest docker-mt:docker exits 0" oci-inspect --manifest "$TD/docker-mt:docker"
same_bytes "$(blob "$TD/docker-mt" "$(digest_of docker-mt:docker)")" "docker-mt: exact manifest bytes"
expect 0 "--config docker-mt:docker exits 0" oci-inspect --config "$TD/docker-mt:docker"
same_bytes "$(blob "$TD/docker-mt" "$(jq -r .config.digest "$(blob "$TD/docker-mt" "$(digest_of docker-mt:docker)")")")" \
	"docker-mt: exact config bytes"
expect 0 "--config zstd:latest exits 0" oci-inspect --config "$TD/zstd:latest"
same_bytes "$(blob "$TD/zstd" "$(jq -r .config.digest "$(blob "$TD/zstd" "$(digest_of zstd:latest)")")")" \
	"zstd: exact config bytes"
expect 0 "--manifest --platform linux/arm/v7 multiarch.tar:latest exits 0" \
	oci-inspect --manifest --platform linux/arm/v7 "$TD/multiarch.tar:latest"
sha_is "$(plat_digest oci linux/arm/v7)" "nested arm/v7 manifest out of an oci-archive"
expect 0 "--index multi.tar.gz exits 0" oci-inspect --index "$TD/multi.tar.gz"
same_bytes "$TD/multi/index.json" "--index out of a gzip oci-archive: index.json's bytes"

# ---- I/O errors on stdout ----
if [ -w /dev/full ]; then
	expect_fail "--manifest > /dev/full: exit 2, one line" sh -c 'exec oci-inspect --manifest "$1" >/dev/full' sh "$TD/multi:v1"
	err_like 'write' "--manifest > /dev/full: says the write failed"
else
	skip "no /dev/full"
	skip "no /dev/full"
fi

# a pipe whose reader is gone: the end cat(1) meets, killed by SIGPIPE with
# no message (issue 12), even when started with SIGPIPE ignored (Python's
# exec keeps its SIG_IGN); never a silent success or "write failed"
expect 141 "--files into a closed pipe: killed by SIGPIPE (141)" python3 -c '
import os, sys
r, w = os.pipe()
os.close(r)
os.dup2(w, 1)
os.execvp(sys.argv[1], sys.argv[1:])' oci-inspect --files "$TD/multi:v1"
is "$(err)" "" "closed pipe: nothing on stderr"

# ---- docker-save: the index and manifest built from manifest.json ----
expect 0 "--index docker-save.tar exits 0" oci-inspect --index "$TD/docker-save.tar"
cp "$TMP/out" "$TMP/ds-index"
is "$(jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | join(",")' <"$TMP/out")" \
	"example/app:1.0,example/app:latest" "--index docker-save: an index with both RepoTags as refs"
expect 0 "--manifest docker-save.tar:1.0 exits 0" oci-inspect --manifest "$TD/docker-save.tar:1.0"
is "sha256:$(sha256sum <"$TMP/out" | cut -d' ' -f1)" "$(jq -r '.manifests[0].digest' "$TMP/ds-index")" \
	"--manifest docker-save: its bytes hash to the digest the built index lists"
is "$(jq -r '.manifests[0].size' "$TMP/ds-index")" "$(wc -c <"$TMP/out")" "--manifest docker-save: and have the listed size"
is "$(jq -r '[.layers[].digest] | join(",")' <"$TMP/out")" \
	"$(awk '$1 == "example/app:1.0" { sub("layers=", "", $3); print $3 }' "$TD/expected/docker-save.txt")" \
	"--manifest docker-save: the uncompressed layers' digests are the diff_ids"

done_testing
