#!/usr/bin/env bash
# oci-inspect: usage, version, usage errors, and the default tree.
. "$(dirname "$0")/test-lib.sh"
# test-lib's fail() marks only the first line of a multi-line diagnostic (a
# tool's stderr of several lines) as a TAP comment; mark every line.
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'; return 0; }

V1=$(digest_of multi:v1)
V2=$(digest_of multi:v2)
CFG1=$(jq -r .config.digest "$TD/multi/blobs/sha256/${V1#sha256:}")
CFG2=$(jq -r .config.digest "$TD/multi/blobs/sha256/${V2#sha256:}")
VERSION=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$OCI_SOURCE_DIR/meson.build" | head -n1)

# ---- --help / --version ----
expect 0 "--help exits 0" oci-inspect --help
like '^Usage: oci-inspect ' "--help prints Usage on stdout"
is "$(wc -c <"$TMP/err")" 0 "--help writes nothing on stderr"
for o in --json --refs --manifest --config --index --files --layer --platform --quiet; do
	like "$o" "--help mentions $o"
done

expect 0 "--version exits 0" oci-inspect --version
is "$(out)" "oci-inspect $VERSION" "--version prints 'oci-inspect VERSION'"
like '^oci-inspect [0-9]+\.[0-9]+\.[0-9]+$' "--version is NAME X.Y.Z"
is "$(wc -c <"$TMP/err")" 0 "--version writes nothing on stderr"

# ---- usage errors: exit 2, one line on stderr, tool prefix ----
expect_fail "unknown long option: exit 2, one 'oci-inspect: ' line" oci-inspect --bogus "$TD/multi:v1"
err_like 'bogus' "unknown long option: the message names it"
is "$(wc -c <"$TMP/out")" 0 "unknown long option: nothing on stdout"
expect_fail "unknown short option: exit 2, one 'oci-inspect: ' line" oci-inspect -Z "$TD/multi:v1"
expect_fail "--layer without its argument: exit 2, one line" oci-inspect --files --layer
expect_fail "missing IMAGE: exit 2, one line" oci-inspect
err_like 'IMAGE' "missing IMAGE: says so"
expect_fail "missing IMAGE after options: exit 2" oci-inspect --json
expect_fail "two IMAGEs: exit 2" oci-inspect "$TD/multi:v1" "$TD/multi:v2"
err_like 'too many' "two IMAGEs: says too many arguments"
expect_fail "--refs with --files: exit 2" oci-inspect --refs --files "$TD/multi"
expect_fail "--manifest with --config: exit 2" oci-inspect --manifest --config "$TD/multi:v1"
expect_fail "--layer without --files: exit 2" oci-inspect --layer 1 "$TD/multi:v1"
err_like '--files' "--layer without --files: names --files"
expect_fail "--json with --manifest: exit 2" oci-inspect --json --manifest "$TD/multi:v1"
expect_fail "empty IMAGE: exit 2" oci-inspect ""
expect_fail "--platform garbage: exit 2" oci-inspect --platform nonsense "$TD/multiarch:latest"
err_like 'nonsense' "--platform garbage: names the value"

expect_fail "--platform with 4 parts: exit 2" oci-inspect --platform linux/arm/v7/x "$TD/multiarch:latest"
expect_fail "--platform with a space: exit 2" oci-inspect --platform 'linux/a b' "$TD/multiarch:latest"
expect_fail "--platform with an empty part: exit 2" oci-inspect --platform linux/ "$TD/multiarch:latest"
expect_fail "an empty ref (PATH:): exit 2" oci-inspect "$TD/multi:"
expect_fail "a ref with a control character: exit 2" oci-inspect "$TD/multi:"$'v\001'
if grep -q $'\001' "$TMP/err"; then fail "a ref with a control character: not echoed raw"; else pass "a ref with a control character: not echoed raw"; fi
expect_fail "nothing before the ref (:v1): exit 2" oci-inspect ":v1"
expect 0 "--files --merged: exit 0" oci-inspect --files --merged "$TD/multi:v1"
expect 0 "--verify of a good layout: exit 0" oci-inspect --verify "$TD/multi"
expect 2 "--repair of a layout with -o (archives only): exit 2" oci-inspect --repair -o "$TMP/x" "$TD/multi"

# ---- default tree of multi:v1 ----
expect 0 "tree multi:v1 exits 0" oci-inspect "$TD/multi:v1"
is "$(wc -c <"$TMP/err")" 0 "tree multi:v1: nothing on stderr"
cp "$TMP/out" "$TMP/tree-v1"
like "manifest $V1" "tree shows the manifest digest from manifest.txt"
like "v1: manifest $V1" "tree names the ref v1 on the manifest line"
like "manifest $V1 .*linux/amd64" "tree shows the manifest's platform"
like "config $CFG1" "tree shows the config digest"
like 'created +2023-11-14T22:13:20Z$' "tree shows created"
like 'entrypoint +\["/bin/tool"\]$' "tree shows the entrypoint"
like 'cmd +\["--help"\]$' "tree shows the cmd"
like 'env +PATH=/usr/bin:/bin$' "tree shows the first env entry"
like ' LANG=C\.UTF-8$' "tree shows the second env entry"
like 'workdir +/srv$' "tree shows the workdir"
like 'user +app$' "tree shows the user"
like 'layers: 3' "tree says 3 layers"
i=0
while read -r dg diff mt _; do
	i=$((i + 1))
	short=${mt#application/vnd.oci.image.layer.v1.}
	short=${short//+/\\+}
	like "── $i $dg +$short .*diff_id $diff\$" "tree layer $i: digest, media type and diff_id"
done <"$TD/expected/multi-v1.layers"
is "$(grep -c 'diff_id sha256:' "$TMP/out")" 3 "tree has exactly 3 layer lines"
like '^total: 1 manifest, 3 layers' "tree ends with the totals line"
is "$(tail -n1 "$TMP/out" | cut -d' ' -f1)" "total:" "the totals line is the last line"
unlike "$V2" "tree of multi:v1 does not show v2"

# -q keeps the data on stdout
expect 0 "-q tree exits 0" oci-inspect -q "$TD/multi:v1"
if cmp -s "$TMP/out" "$TMP/tree-v1"; then pass "-q: stdout unchanged"; else fail "-q: stdout unchanged"; fi
is "$(wc -c <"$TMP/err")" 0 "-q: nothing on stderr"
expect 0 "--quiet --refs exits 0" oci-inspect --quiet --refs "$TD/multi"
is "$(wc -l <"$TMP/out")" 2 "--quiet --refs still prints both refs"

# ---- the whole layout, no REF ----
expect 0 "tree of the whole layout exits 0" oci-inspect "$TD/multi"
like "v1: manifest $V1" "whole layout: v1 shown"
like "v2: manifest $V2" "whole layout: v2 shown"
like "config $CFG1" "whole layout: v1's config"
like "config $CFG2" "whole layout: v2's config"
like 'cmd +\["/bin/sh"\]$' "whole layout: v2's cmd"
like '^total: 2 manifests, 4 layers' "whole layout: totals count both"
is "$(grep -c 'diff_id sha256:' "$TMP/out")" 4 "whole layout: 4 layer lines"

# v2 by ref alone
expect 0 "tree multi:v2 exits 0" oci-inspect "$TD/multi:v2"
like "v2: manifest $V2" "multi:v2 shows its manifest"
unlike "$V1" "multi:v2 does not show v1"
like '^total: 1 manifest, 1 layer,' "multi:v2 totals: 1 layer (singular)"

# by digest
expect 0 "tree multi@DIGEST exits 0" oci-inspect "$TD/multi@$V2"
like "manifest $V2" "multi@DIGEST shows that manifest"

# ---- other layouts ----
expect 0 "tree multiarch:latest exits 0" oci-inspect "$TD/multiarch:latest"
like "latest: index $(digest_of multiarch:latest)" "multiarch: the ref is an index"
while read -r kind plat dg; do
	[ "$kind" = oci ] || continue
	like "manifest $dg .*$plat\$" "multiarch tree: $plat manifest"
done <"$TD/expected/multiarch.platforms"
like "index $(awk '$1 == "oci-index-inner" { print $3 }' "$TD/expected/multiarch.platforms")" \
	"multiarch tree: the nested index"
like '^total: 4 manifests, 4 layers' "multiarch tree: totals"

expect 0 "tree zstd:latest exits 0" oci-inspect "$TD/zstd:latest"
is "$(grep -c 'tar+zstd' "$TMP/out")" 2 "zstd tree: two tar+zstd layers"

expect 0 "tree docker-mt:docker exits 0" oci-inspect "$TD/docker-mt:docker"
like "manifest $(digest_of docker-mt:docker) +docker manifest" "docker-mt: Docker manifest media type"
like 'config sha256:[0-9a-f]{64} +docker config' "docker-mt: Docker config media type"
like 'workdir +/$' "docker-mt: workdir /"

# ---- a layout whose directory name holds ':' ----
mkdir "$TMP/odd:name"
cp -r "$TD/multi/." "$TMP/odd:name/"
expect 0 "a layout path containing ':' works as a whole" oci-inspect --refs "$TMP/odd:name"
is "$(wc -l <"$TMP/out")" 2 "path with ':': both refs"
expect 0 "PATH-with-colon:REF splits at the last ':'" oci-inspect "$TMP/odd:name:v2"
like "v2: manifest $V2" "PATH-with-colon:REF picks v2"

# nothing on stderr for a normal listing in a pipe (no progress by default)
expect 0 "--files in a pipe exits 0" oci-inspect --files "$TD/multi:v1"
is "$(wc -c <"$TMP/err")" 0 "no progress or messages on stderr when not a terminal"

done_testing
