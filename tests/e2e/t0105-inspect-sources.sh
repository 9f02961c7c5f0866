#!/usr/bin/env bash
# oci-inspect on every kind of source: oci-archive (plain, gzip, zstd), stdin
# (file and pipe), docker-save (legacy and Docker 25+); no temporary files left.
. "$(dirname "$0")/test-lib.sh"
# test-lib's fail() marks only the first line of a multi-line diagnostic (a
# tool's stderr of several lines) as a TAP comment; mark every line.
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'; return 0; }

V1=$(digest_of multi:v1)
jqis() {
	local got
	got=$(jq -r "$1" <"$TMP/out" 2>&1)
	is "$got" "$2" "$3"
}
sha_is() { is "sha256:$(sha256sum <"$TMP/out" | cut -d' ' -f1)" "$1" "$2"; }
same_as() { if cmp -s "$TMP/out" "$1"; then pass "$2"; else fail "$2" "stdout differs from $1"; fi; }
# the directory is empty
empty_dir() { is "$(find "$1" -mindepth 1 | head -n 5)" "" "$2"; }

# reference outputs from the layout directory
run oci-inspect --refs "$TD/multi"
cp "$TMP/out" "$TMP/refs-dir"
run oci-inspect --files "$TD/multi:v1"
cp "$TMP/out" "$TMP/files-dir"
run oci-inspect --config "$TD/multi:v1"
cp "$TMP/out" "$TMP/config-dir"

# ---- oci-archives ----
for a in multi.tar multi.tar.gz multi.tar.zst; do
	expect 0 "--refs $a exits 0" oci-inspect --refs "$TD/$a"
	same_as "$TMP/refs-dir" "--refs $a equals the directory's"
	expect 0 "--manifest $a:v1 exits 0" oci-inspect --manifest "$TD/$a:v1"
	sha_is "$V1" "--manifest $a:v1 is v1's manifest"
	expect 0 "--config $a:v1 exits 0" oci-inspect --config "$TD/$a:v1"
	same_as "$TMP/config-dir" "--config $a:v1 equals the directory's"
	expect 0 "--files $a:v1 exits 0" oci-inspect --files "$TD/$a:v1"
	same_as "$TMP/files-dir" "--files $a:v1 equals the directory's"
	expect 0 "tree $a:v1 exits 0" oci-inspect "$TD/$a:v1"
	like "/$a:v1 +\(oci-archive" "tree $a: the source is an oci-archive"
done
run oci-inspect "$TD/multi.tar.gz:v1"
like '\(oci-archive, gzip\)' "tree multi.tar.gz names gzip"
run oci-inspect "$TD/multi.tar.zst:v1"
like '\(oci-archive, zstd\)' "tree multi.tar.zst names zstd"

# ---- stdin ----
expect 0 "--refs - < multi.tar.gz exits 0" oci-inspect --refs - <"$TD/multi.tar.gz"
same_as "$TMP/refs-dir" "--refs from stdin (gzip file) equals the directory's"
expect 0 "--refs - < multi.tar exits 0" oci-inspect --refs - <"$TD/multi.tar"
same_as "$TMP/refs-dir" "--refs from stdin (plain tar file)"
expect 0 "--refs - from a pipe (zstd) exits 0" oci-inspect --refs - < <(cat "$TD/multi.tar.zst")
same_as "$TMP/refs-dir" "--refs from a zstd pipe"
expect 0 "--files -- -:v1 from a gzip pipe exits 0" oci-inspect --files -- -:v1 < <(cat "$TD/multi.tar.gz")
same_as "$TMP/files-dir" "--files from a gzip pipe equals the directory's"
expect 0 "--manifest -:v1 from a pipe exits 0 ('-:REF' as IMAGE)" oci-inspect --manifest -:v1 < <(cat "$TD/multi.tar.zst")
sha_is "$V1" "--manifest -:v1 from a zstd pipe is v1's manifest"
expect 0 "--manifest -- -:v1 from a pipe exits 0" oci-inspect --manifest -- -:v1 < <(cat "$TD/multi.tar.zst")
sha_is "$V1" "--manifest -- -:v1 from a zstd pipe is v1's manifest"
expect 0 "--manifest --platform linux/arm/v7 - from a pipe, nested index" \
	oci-inspect --manifest --platform linux/arm/v7 -- -:latest < <(cat "$TD/multiarch.tar")
sha_is "$(awk '$1 == "oci" && $2 == "linux/arm/v7" { print $3 }' "$TD/expected/multiarch.platforms")" \
	"nested arm/v7 manifest from a piped oci-archive"
# a regular file on stdin is read from the current offset
{ head -c 4096 /dev/zero; cat "$TD/multi.tar"; } >"$TMP/prefixed.tar"
expect 0 "stdin read from its current offset exits 0" python3 -c '
import os, sys
os.lseek(0, 4096, os.SEEK_SET)
os.execvp(sys.argv[1], sys.argv[1:])' oci-inspect --manifest -- -:v1 <"$TMP/prefixed.tar"
sha_is "$V1" "stdin from its current offset: v1's manifest"
expect 0 "--refs - < docker-save.tar exits 0" oci-inspect --refs - < <(cat "$TD/docker-save.tar")
is "$(cut -f1 "$TMP/out" | paste -sd,)" "example/app:1.0,example/app:latest" "docker-save from a pipe: both tags"
expect_fail "--refs - < /dev/null: exit 2" oci-inspect --refs - </dev/null
expect_fail "--refs - from a pipe of garbage: exit 2" oci-inspect --refs - < <(head -c 5000 /dev/zero | tr '\0' x)

# no temporary files left behind in TMPDIR
SPOOL="$TMP/spool"
mkdir "$SPOOL"
expect 0 "pipe with TMPDIR set exits 0" env TMPDIR="$SPOOL" oci-inspect --files -- -:v1 < <(cat "$TD/multi.tar.zst")
same_as "$TMP/files-dir" "pipe with TMPDIR set: right listing"
empty_dir "$SPOOL" "no temporary file left in TMPDIR after reading a zstd pipe"
expect 0 "gzip pipe with TMPDIR set exits 0" env TMPDIR="$SPOOL" oci-inspect --refs - < <(cat "$TD/multi.tar.gz")
empty_dir "$SPOOL" "no temporary file left in TMPDIR after reading a gzip pipe"
expect 0 "gzip file with TMPDIR set exits 0" env TMPDIR="$SPOOL" oci-inspect --files "$TD/multi.tar.gz:v1"
empty_dir "$SPOOL" "no temporary file left in TMPDIR after reading a gzip file"
head -c 40000 "$TD/multi.tar.gz" >"$TMP/cut.tar.gz"
expect_fail "truncated gzip pipe with TMPDIR set: exit 2" env TMPDIR="$SPOOL" oci-inspect --refs - < <(cat "$TMP/cut.tar.gz")
empty_dir "$SPOOL" "no temporary file left in TMPDIR after a failed read"
expect_fail "TMPDIR that does not exist, compressed pipe: exit 2" \
	env TMPDIR="$TMP/no-such-dir" oci-inspect --refs - < <(cat "$TD/multi.tar.gz")
err_like 'no-such-dir' "TMPDIR that does not exist: named in the error"

# ---- docker-save (legacy) ----
DS="$TD/docker-save.tar"
DSCFG=$(awk '$1 == "example/app:1.0" { sub("config=", "", $2); print $2 }' "$TD/expected/docker-save.txt")
DSLAYERS=$(awk '$1 == "example/app:1.0" { sub("layers=", "", $3); print $3 }' "$TD/expected/docker-save.txt")
expect 0 "docker-save.tar:1.0 (tag only) exits 0" oci-inspect "$DS:1.0"
like '\(docker-archive\)' "docker-save: the tree names docker-archive"
like "config $DSCFG" "docker-save:1.0: the config digest"
expect 0 "--manifest docker-save.tar:1.0 exits 0" oci-inspect --manifest "$DS:1.0"
cp "$TMP/out" "$TMP/ds-manifest"
is "$(jq -r .mediaType <"$TMP/out")" application/vnd.docker.distribution.manifest.v2+json "docker-save: a synthesised schema-2 manifest"
is "$(jq -r .config.digest <"$TMP/out")" "$DSCFG" "docker-save: the manifest's config digest"
expect 0 "--manifest docker-save.tar:latest exits 0" oci-inspect --manifest "$DS:latest"
same_as "$TMP/ds-manifest" "docker-save: :latest is the same image as :1.0"
expect 0 "docker-save.tar:example/app:1.0 (whole RepoTag) exits 0" oci-inspect --manifest "$DS:example/app:1.0"
same_as "$TMP/ds-manifest" "docker-save: the whole RepoTag names the same image"
expect 0 "docker-save.tar:example/app:latest (whole RepoTag) exits 0" oci-inspect --refs "$DS:example/app:latest"
is "$(cut -f1 "$TMP/out")" example/app:latest "docker-save: --refs with the whole RepoTag"
expect 0 "--config docker-save.tar:1.0 exits 0" oci-inspect --config "$DS:1.0"
tar -xOf "$DS" "${DSCFG#sha256:}.json" >"$TMP/ds-config-member"
same_as "$TMP/ds-config-member" "docker-save: --config bytes equal the config member"
sha_is "$DSCFG" "docker-save: --config bytes hash to the config digest"
expect 0 "--json docker-save.tar:1.0 exits 0" oci-inspect --json "$DS:1.0"
jqis '.manifests[0].layers | map(.diffId) | join(",")' "$DSLAYERS" "docker-save: diff_ids equal expected/docker-save.txt"
expect 0 "--files docker-save.tar:1.0 exits 0" oci-inspect --files "$DS:1.0"
is "$(grep -c '^layer [0-9]/2 ' "$TMP/out")" 2 "docker-save --files: both layers"
like ' /bin/hello$' "docker-save --files: base layer's /bin/hello"
like ' /usr/share/doc/README$' "docker-save --files: base layer's README"
like ' /app/main\.txt$' "docker-save --files: top layer's /app/main.txt"
like ' /etc/\.wh\.motd .*whiteout.*/etc/motd' "docker-save --files: the whiteout of /etc/motd"
expect_fail "docker-save.tar:nope: exit 2" oci-inspect "$DS:nope"
err_like 'example/app:1\.0' "docker-save missing tag: lists the tags"

# ---- docker-save with two images ----
DM="$TD/docker-save-multi.tar"
expect 0 "--refs docker-save-multi.tar exits 0" oci-inspect --refs "$DM"
is "$(cut -f1 "$TMP/out" | paste -sd,)" "one:1,two:2" "docker-save-multi: refs one:1, two:2"
expect_fail "--manifest docker-save-multi.tar without REF: exit 2" oci-inspect --manifest "$DM"
err_like 'one:1' "docker-save-multi without REF: lists one:1"
err_like 'two:2' "docker-save-multi without REF: lists two:2"
for t in one:1 two:2; do
	cfg=$(awk -v t="$t" '$1 == t { sub("config=", "", $2); print $2 }' "$TD/expected/docker-save.txt")
	lay=$(awk -v t="$t" '$1 == t { sub("layers=", "", $3); print $3 }' "$TD/expected/docker-save.txt")
	expect 0 "--json docker-save-multi.tar:${t#*:} exits 0" oci-inspect --json "$DM:${t#*:}"
	jqis '.manifests[0].config.digest' "$cfg" "docker-save-multi :${t#*:}: config of $t"
	jqis '.manifests[0].layers | map(.diffId) | join(",")' "$lay" "docker-save-multi :${t#*:}: layers of $t"
	expect 0 "--config docker-save-multi.tar:$t (whole RepoTag) exits 0" oci-inspect --config "$DM:$t"
	sha_is "$cfg" "docker-save-multi $t: config bytes"
done
expect 0 "--files docker-save-multi.tar:2 exits 0" oci-inspect --files "$DM:2"
like ' /two/two\.txt$' "docker-save-multi two:2: its own layer"
like ' /bin/hello$' "docker-save-multi two:2: the shared base layer"

# ---- Docker 25+ docker save (manifest.json + OCI layout) ----
DO="$TD/docker-save-oci.tar"
expect 0 "--refs docker-save-oci.tar exits 0" oci-inspect --refs "$DO"
is "$(cut -f1,2 "$TMP/out" | tr '\t' ' ')" "1.0 $(digest_of docker-save-oci.tar:1.0)" "docker-save-oci: ref 1.0 and its digest"
expect 0 "--manifest docker-save-oci.tar:1.0 exits 0" oci-inspect --manifest "$DO:1.0"
sha_is "$(digest_of docker-save-oci.tar:1.0)" "docker-save-oci: the manifest bytes"
expect 0 "--files docker-save-oci.tar exits 0 (one image)" oci-inspect --files "$DO"
is "$(grep -c '^layer [0-9]/2 ' "$TMP/out")" 2 "docker-save-oci --files: 2 layers"
like '^-.* 17 .* /app/main\.txt$' "docker-save-oci --files: its own main.txt (17 bytes)"
like ' /etc/\.wh\.motd .*whiteout' "docker-save-oci --files: the whiteout"
# the io.containerd.image.name annotation names the image too (man page)
expect 0 "docker-save-oci.tar:example/app:1.0 (io.containerd.image.name tag) exits 0" oci-inspect --manifest "$DO:example/app:1.0"
sha_is "$(digest_of docker-save-oci.tar:1.0)" "docker-save-oci by example/app:1.0"
expect 0 "docker-save-oci.tar:docker.io/example/app:1.0 (whole annotation) exits 0" oci-inspect --manifest "$DO:docker.io/example/app:1.0"
sha_is "$(digest_of docker-save-oci.tar:1.0)" "docker-save-oci by docker.io/example/app:1.0"
expect 0 "--refs docker-save-oci.tar from a pipe exits 0" oci-inspect --refs - < <(cat "$DO")
is "$(cut -f1 "$TMP/out")" 1.0 "docker-save-oci from a pipe: ref 1.0"

done_testing
