#!/usr/bin/env bash
# oci-inspect --json: one JSON document with the resolved tree.
. "$(dirname "$0")/test-lib.sh"
# test-lib's fail() marks only the first line of a multi-line diagnostic (a
# tool's stderr of several lines) as a TAP comment; mark every line.
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'; return 0; }

V1=$(digest_of multi:v1)
V2=$(digest_of multi:v2)
CFG1=$(jq -r .config.digest "$TD/multi/blobs/sha256/${V1#sha256:}")
PLATS="$TD/expected/multiarch.platforms"

# jqis FILTER WANT NAME: jq -r FILTER on the last stdout equals WANT
jqis() {
	local got
	got=$(jq -r "$1" <"$TMP/out" 2>&1)
	is "$got" "$2" "$3"
}
# jqok FILTER NAME: jq -e FILTER on the last stdout is true
jqok() {
	if jq -e "$1" <"$TMP/out" >/dev/null 2>&1; then pass "$2"; else fail "$2" "jq -e '$1' is not true"; fi
}

expect 0 "--json multi:v1 exits 0" oci-inspect --json "$TD/multi:v1"
is "$(wc -c <"$TMP/err")" 0 "--json: nothing on stderr"
jqok 'type == "object"' "--json output is one JSON object"
is "$(jq -s length <"$TMP/out")" 1 "--json output is exactly one JSON document"
jqis .source.kind oci-layout ".source.kind is oci-layout"
jqis .source.compression none ".source.compression is none for a directory"
jqok '.source.path | endswith("multi")' ".source.path names the layout"
jqis '.manifests | length' 1 "one manifest for multi:v1"
jqis '.manifests[0].digest' "$V1" ".manifests[0].digest is v1's manifest digest"
jqis '.manifests[0].ref' v1 ".manifests[0].ref is v1"
jqis '.manifests[0].kind' manifest ".manifests[0].kind is manifest"
jqis '.manifests[0].mediaType' application/vnd.oci.image.manifest.v1+json ".manifests[0].mediaType"
jqis '.manifests[0].size' "$(wc -c <"$TD/multi/blobs/sha256/${V1#sha256:}")" ".manifests[0].size is the blob's size"
jqis '.manifests[0].platform | "\(.os)/\(.architecture)"' linux/amd64 ".manifests[0].platform is linux/amd64"
jqis '.manifests[0].config.digest' "$CFG1" ".config.digest"
jqis '.manifests[0].config.mediaType' application/vnd.oci.image.config.v1+json ".config.mediaType"
jqis '.manifests[0].config.entrypoint | tojson' '["/bin/tool"]' ".config.entrypoint"
jqis '.manifests[0].config.cmd | tojson' '["--help"]' ".config.cmd"
jqis '.manifests[0].config.env | tojson' '["PATH=/usr/bin:/bin","LANG=C.UTF-8"]' ".config.env"
jqis '.manifests[0].config.workdir' /srv ".config.workdir"
jqis '.manifests[0].config.user' app ".config.user"
jqis '.manifests[0].config.created' 2023-11-14T22:13:20Z ".config.created"
jqis '.manifests[0].config.stopSignal' SIGTERM ".config.stopSignal"
jqis '.manifests[0].config.labels["org.example.name"]' multi ".config.labels"
jqok '.manifests[0].config.exposedPorts | has("8080/tcp")' ".config.exposedPorts has 8080/tcp"
jqok '.manifests[0].config.volumes | has("/var/cache")' ".config.volumes has /var/cache"
jqis '.manifests[0].layers | length' 3 "3 layers"
jqis '.manifests[0].layers[] | "\(.digest) \(.diffId) \(.mediaType) \(.size)"' \
	"$(cat "$TD/expected/multi-v1.layers")" "layers: digest, diffId, mediaType, size equal expected/multi-v1.layers"
jqis '.manifests[0].layers | map(.diffId) | join(",")' \
	"$(awk '{ print $2 }' "$TD/expected/multi-v1.layers" | paste -sd,)" "layers[].diffId in order"
SUM=$(awk '{ s += $4 } END { print s }' "$TD/expected/multi-v1.layers")
jqis .totals.layers 3 ".totals.layers is 3"
jqis .totals.manifests 1 ".totals.manifests is 1"
jqis .totals.layerBytes "$SUM" ".totals.layerBytes is the sum of layer sizes"
jqis '.manifests[0].totals.layers' 3 "per-manifest totals.layers"

# ---- the whole layout ----
expect 0 "--json multi (no ref) exits 0" oci-inspect --json "$TD/multi"
jqis '[.manifests[].ref] | join(",")' v1,v2 "whole layout: refs v1,v2"
jqis '[.manifests[].digest] | join(",")' "$V1,$V2" "whole layout: both manifest digests"
jqis '.manifests[1].config.cmd | tojson' '["/bin/sh"]' "whole layout: v2's cmd"
jqis '.manifests[1].config.entrypoint' null "whole layout: v2 has no entrypoint (null)"
jqis .totals.layers 4 "whole layout: totals.layers 4"
jqis .totals.manifests 2 "whole layout: totals.manifests 2"

# ---- nested index ----
expect 0 "--json multiarch:latest exits 0" oci-inspect --json "$TD/multiarch:latest"
jqis '.manifests | length' 1 "multiarch:latest: one top-level entry"
jqis '.manifests[0].kind' index "top entry is an index"
jqis '.manifests[0].digest' "$(digest_of multiarch:latest)" "top entry digest from manifest.txt"
jqis '.manifests[0].ref' latest "top entry ref is latest"
jqis '.manifests[0].manifests | length' 3 "top index has 3 children"
jqis '[.manifests[0].manifests[].kind] | join(",")' manifest,manifest,index "children: 2 manifests and a nested index"
jqis '.manifests[0].manifests[2].digest' "$(awk '$1 == "oci-index-inner" { print $3 }' "$PLATS")" "nested index digest"
jqis '.manifests[0].manifests[2].manifests | length' 2 "nested index has 2 manifests"
jqis '[.. | objects | select(.kind == "manifest") | .platform | [.os, .architecture, .variant] | map(select(.)) | join("/")] | join(",")' \
	linux/amd64,linux/arm64/v8,linux/arm/v7,linux/386 "platforms of all nested manifests, in order"
jqis '[.. | objects | select(.kind == "manifest") | .digest] | join(",")' \
	"$(awk '$1 == "oci" { print $3 }' "$PLATS" | paste -sd,)" "manifest digests equal expected/multiarch.platforms"
jqis '[.. | objects | select(.kind == "manifest") | .config.platform.architecture] | join(",")' \
	amd64,arm64,arm,386 "each config's own platform"
jqis .totals.manifests 4 "multiarch totals.manifests 4"
jqis .totals.layers 4 "multiarch totals.layers 4"

expect 0 "--json --platform linux/arm/v7 multiarch:latest exits 0" \
	oci-inspect --json --platform linux/arm/v7 "$TD/multiarch:latest"
jqis '[.. | objects | select(.kind == "manifest") | .digest] | join(",")' \
	"$(awk '$1 == "oci" && $2 == "linux/arm/v7" { print $3 }' "$PLATS")" "--platform keeps only the arm/v7 manifest"

expect 0 "--json multiarch:dockerlist exits 0" oci-inspect --json "$TD/multiarch:dockerlist"
jqis '.manifests[0].mediaType' application/vnd.docker.distribution.manifest.list.v2+json "Docker manifest list media type"
jqis '.manifests[0].kind' index "a Docker manifest list is an index"
jqis '[.manifests[0].manifests[].digest] | join(",")' \
	"$(awk '$1 == "docker" { print $3 }' "$PLATS" | paste -sd,)" "manifest list children digests"
jqis '[.manifests[0].manifests[].mediaType] | unique | join(",")' \
	application/vnd.docker.distribution.manifest.v2+json "children are Docker schema-2 manifests"
jqis '[.manifests[0].manifests[].config.mediaType] | unique | join(",")' \
	application/vnd.docker.container.image.v1+json "children's configs are Docker configs"

expect 0 "--json multiarch:amd64-only exits 0" oci-inspect --json "$TD/multiarch:amd64-only"
jqis '.manifests[0].platform.architecture' amd64 "platform from the config when the descriptor has none"

# ---- other sources ----
expect 0 "--json multi.tar.gz:v1 exits 0" oci-inspect --json "$TD/multi.tar.gz:v1"
jqis .source.kind oci-archive "gzip archive: kind oci-archive"
jqis .source.compression gzip "gzip archive: compression gzip"
jqis '.manifests[0].layers | map(.diffId) | join(",")' \
	"$(awk '{ print $2 }' "$TD/expected/multi-v1.layers" | paste -sd,)" "gzip archive: same diffIds"

expect 0 "--json multi.tar.zst exits 0" oci-inspect --json "$TD/multi.tar.zst"
jqis .source.compression zstd "zstd archive: compression zstd"
jqis '.manifests | length' 2 "zstd archive: both images"

expect 0 "--json docker-save.tar:1.0 exits 0" oci-inspect --json "$TD/docker-save.tar:1.0"
jqis .source.kind docker-archive "docker-save: kind docker-archive"
jqis '.manifests[0].config.digest' "$(awk '$1 == "example/app:1.0" { sub("config=", "", $2); print $2 }' "$TD/expected/docker-save.txt")" \
	"docker-save: config digest"
jqis '.manifests[0].layers | map(.diffId) | join(",")' \
	"$(awk '$1 == "example/app:1.0" { sub("layers=", "", $3); print $3 }' "$TD/expected/docker-save.txt")" \
	"docker-save: diffIds"

expect 0 "--json zstd:latest exits 0" oci-inspect --json "$TD/zstd:latest"
jqis '[.manifests[0].layers[].mediaType] | unique | join(",")' application/vnd.oci.image.layer.v1.tar+zstd "zstd layers"
jqis '.manifests[0].layers[0].diffId' "$(awk 'NR == 1 { print $2 }' "$TD/expected/multi-v1.layers")" \
	"zstd layer 1 has multi's layer-1 diff_id"

# ---- every document validates against its schema in docs/schemas ----
# (the outputs are collected first and validated by one python3 run: fast)
SCHEMAS="$OCI_SOURCE_DIR/docs/schemas"
if python3 -c 'import jsonschema' 2>/dev/null && [ -d "$SCHEMAS" ]; then
	: >"$TMP/schema-list"
	k=0
	# collect SCHEMA ARGS...: keep the output of oci-inspect ARGS... for SCHEMA
	collect() {
		local schema=$1
		shift
		k=$((k + 1))
		run oci-inspect "$@"
		[ "$status" -eq 0 ] || : >"$TMP/out"
		cp "$TMP/out" "$TMP/schema-$k.json"
		printf '%s\t%s\t%s\n' "$SCHEMAS/$schema.schema.json" "$TMP/schema-$k.json" "schema $schema: oci-inspect $*" >>"$TMP/schema-list"
	}
	for img in multi multi:v1 multiarch multiarch:dockerlist zstd:latest docker-mt:docker \
		multi.tar.zst docker-save.tar docker-save-multi.tar docker-save-oci.tar; do
		collect oci-inspect --json "$TD/$img"
		collect oci-inspect-refs --refs --json "$TD/$img"
	done
	for img in multi:v1 zstd:latest docker-mt:docker docker-save.tar:1.0 docker-save-oci.tar; do
		collect oci-inspect-files --files --json "$TD/$img"
	done
	collect oci-inspect --json --platform linux/arm/v7 "$TD/multiarch:latest"
	collect oci-inspect-files --files --json --platform linux/arm/v7 "$TD/multiarch:latest"
	python3 - "$TMP/schema-list" >"$TMP/schema-results" 2>&1 <<'PY'
import json, sys, jsonschema
for line in open(sys.argv[1]):
    schema, doc, name = line.rstrip("\n").split("\t")
    try:
        jsonschema.Draft202012Validator(json.load(open(schema))).validate(json.load(open(doc)))
        print("ok\t%s\t" % name)
    except Exception as e:
        print("fail\t%s\t%s" % (name, str(e).splitlines()[0][:200]))
PY
	while IFS=$'\t' read -r res name why; do
		if [ "$res" = ok ]; then pass "$name"; else fail "$name" "$why"; fi
	done <"$TMP/schema-results"
	is "$(wc -l <"$TMP/schema-results")" "$k" "every collected document was validated"
else
	for _ in $(seq 28); do _n=$((_n + 1)); echo "ok $_n # SKIP python3 jsonschema or docs/schemas missing"; done
fi

# ---- attestation manifests (platform unknown/unknown) are left out ----
mkdir -p "$TMP/att"
cp -r "$TD/multiarch/." "$TMP/att/"
chmod -R u+w "$TMP/att"
python3 - "$TMP/att" <<'PY'
import hashlib, json, os, sys
out = sys.argv[1]
def blob(b):
    h = hashlib.sha256(b).hexdigest()
    open(os.path.join(out, "blobs/sha256", h), "wb").write(b)
    return "sha256:" + h, len(b)
idx = json.load(open(os.path.join(out, "index.json")))
amd = [m for m in idx["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "amd64-only"][0]
att = {"mediaType": amd["mediaType"], "digest": amd["digest"], "size": amd["size"],
       "platform": {"os": "unknown", "architecture": "unknown"},
       "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}
real = dict(amd, platform={"os": "linux", "architecture": "amd64"})
real.pop("annotations")
d, n = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": [real, att]}).encode())
idx["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": d, "size": n,
                         "annotations": {"org.opencontainers.image.ref.name": "with-att"}})
open(os.path.join(out, "index.json"), "w").write(json.dumps(idx))
PY
expect 0 "--json on an index with an attestation exits 0" oci-inspect --json "$TMP/att:with-att"
jqis '.manifests[0].manifests | length' 1 "the unknown/unknown attestation manifest is left out"
jqis '.manifests[0].manifests[0].platform.architecture' amd64 "the real amd64 manifest stays"
jqis .totals.manifests 1 "totals do not count the attestation"
expect 0 "--refs on an index with an attestation exits 0" oci-inspect --refs "$TMP/att:with-att"
is "$(cut -f4 "$TMP/out")" linux/amd64 "--refs: the attestation's unknown/unknown is not a platform"

# errors stay on stderr, stdout stays empty
expect_fail "--json with a missing ref: exit 2" oci-inspect --json "$TD/multi:nope"
is "$(wc -c <"$TMP/out")" 0 "--json failure: no half JSON document on stdout"
expect_fail "--files --json on a layer that does not verify: exit 2" oci-inspect --files --json "$TD/hostile/diffid-mismatch:bad"
is "$(wc -c <"$TMP/out")" 0 "--files --json failure: nothing on stdout (docs/json.md)"
expect_fail "--json on an index nested too deep: exit 2" oci-inspect --json "$TD/hostile/deep-nesting:bad"
is "$(wc -c <"$TMP/out")" 0 "--json failure deep in the tree: nothing on stdout"

done_testing
