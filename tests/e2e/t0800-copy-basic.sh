#!/usr/bin/env bash
# oci-copy between every kind of source and destination: layouts, several
# images in one oci-archive read back whole, docker-archives in docker save's
# shape, standard input and output, one platform of an index, Docker->OCI
# conversion, gzip->zstd->gzip recompression (same diff_ids, same tree), and
# the --json summary against its schema.
. "$(dirname "$0")/test-lib.sh"
cd "$TMP" || exit 1
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
tarjs() { tar xOf "$1" "$2" >"$TMP/tj.json" && js "$TMP/tj.json" "$3"; }
nblobs() { find "$1/blobs" -type f | wc -l; }
v1=$(digest_of multi:v1)
v2=$(digest_of multi:v2)
ma=$(digest_of multiarch:latest)

# --- layout to layout, tag, untag ---
expect 0 "layout -> new layout" oci-copy -q "$TD/multi:v1" L:a
expect 0 "the copy verifies" oci-inspect --verify L
run oci-inspect --refs L
like "^a	$v1	" "ref a names the same manifest"
before=$(nblobs L)
cp L/index.json idx.before
expect 0 "tag L:a L:b" oci-copy --json L:a L:b
is "$(js "$TMP/out" 'd["tagOnly"]')" True "a tag is reported as tagOnly"
is "$(nblobs L)" "$before" "a tag writes no blob"
run oci-inspect --refs L
like "^b	$v1	" "ref b names a's manifest"
like "^a	$v1	" "ref a is still there"
expect 0 "--delete L:b" oci-copy -q --delete L:b
run oci-inspect --refs L
unlike "^b	" "ref b is gone"
is "$(nblobs L)" "$before" "--delete keeps the blobs"
cmp -s L/index.json idx.before && pass "tag then untag gives index.json back" || fail "tag then untag gives index.json back"
expect_fail "--delete of a missing ref" oci-copy --delete L:nope
err_like 'ref "nope" not found' "the error names the ref"
expect_fail "--delete on an archive is refused" oci-copy --delete "$TD/multi.tar:v1"
for bad in 'has space' '-lead' 'a..b' 'tr/' 'é'; do
	expect_fail "ref \"$bad\" is refused" oci-copy "$TD/multi:v1" "L:$bad"
done
err_like 'not a valid ref name' "the error says why"
is "$(nblobs L)" "$before" "a refused ref writes nothing"
expect_fail "several images, one ref" oci-copy "$TD/multi:v1" "$TD/multi:v2" L:one

# --- several images into one oci-archive, read back whole ---
expect 0 "three images (one multi-platform) into one oci-archive" \
	oci-copy -q "$TD/multi:v1" "$TD/multi:v2" "$TD/multiarch:latest" three.tar
run oci-inspect --refs three.tar
like "^v1	$v1	" "v1 in the archive"
like "^v2	$v2	" "v2 in the archive"
like "^latest	$ma	.*linux/amd64,linux/arm64/v8,linux/arm/v7,linux/386" "the index whole, every platform"
expect 0 "the archive verifies" oci-inspect --verify three.tar
members=$(tar tf three.tar | grep -cv '^blobs/sha256/[0-9a-f]\{64\}$')
is "$members" 2 "members: blobs/sha256/HEX, oci-layout and index.json only"
dups=$(tar tf three.tar | sort | uniq -d | wc -l)
is "$dups" 0 "each blob is written once"
expect 0 "--all of the archive back into a layout" oci-copy -q --all three.tar L3
run oci-inspect --refs L3
for r in "v1	$v1" "v2	$v2" "latest	$ma"; do like "^$r	" "read back whole: ${r%%	*}"; done
expect 0 "--all of a layout" oci-copy -q --all "$TD/multiarch" all.tar
is "$(oci-inspect --refs all.tar | wc -l)" "$(oci-inspect --refs "$TD/multiarch" | wc -l)" "--all: every ref"
oci-copy -q "$TD/multi:v1" grow.tar
expect 0 "an archive as SRC and DEST: images added by rewriting it whole" oci-copy -q --all grow.tar "$TD/multiarch" grow.tar
is "$(oci-inspect --refs grow.tar | cut -f1 | sort | tr '\n' ' ')" "amd64-only dockerlist latest v1 " "its old refs and the new ones"
expect 0 "the grown archive verifies" oci-inspect --verify grow.tar
expect_fail "--all with a ref is refused" oci-copy --all "$TD/multi:v1" x.tar

# --- standard output and input ---
oci-copy "$TD/multi:v1" - >s.tar 2>s.err
is "$?" 0 "an archive on stdout exits 0"
is "$(oci-inspect --refs s.tar | cut -f2)" "$v1" "stdout's archive holds the image"
oci-copy --format docker-archive "$TD/multi:v1" - >sd.tar 2>/dev/null
is "$?" 0 "a docker-archive on stdout (layers spooled: stdout cannot seek)"
expect 0 "that docker-archive verifies" oci-inspect --verify sd.tar
oci-copy -q "$TD/multi:v1" f.docker.tar:f:1
cmp -s <(tar xOf sd.tar manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Layers"])') \
	<(tar xOf f.docker.tar manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Layers"])') &&
	pass "the same layers written to a file (header patched in place) and to stdout" || fail "the same layers to a file and to stdout"
tar tf f.docker.tar | grep -q placeholder && fail "no placeholder member left" || pass "no placeholder member left"
expect_fail "--json with DEST - is refused" oci-copy --json "$TD/multi:v1" -
oci-copy "$TD/multi:v1" - 2>/dev/null | head -c 100 >/dev/null
st=("${PIPESTATUS[@]}")
[ "${st[0]}" -eq 0 ] || [ "${st[0]}" -eq 141 ] && pass "a reader going away ends the copy quietly" || fail "a reader going away ends the copy quietly" "status ${st[0]}"
expect 0 "an archive on stdin" sh -c "oci-copy -q -:v2 L:fromstdin <'$TD/multi.tar'"
expect 0 "stdin with a RepoTag holding / and :" sh -c "oci-copy -q -:example/app:1.0 L:fromstdin2 <'$TD/docker-save.tar'"
run oci-inspect --refs L
like "^fromstdin	$v2	" "the image from stdin landed"
expect 0 "a compressed oci-archive as source" oci-copy -q "$TD/multi.tar.zst:v1" L:zst
run oci-inspect --refs L
like "^zst	$v1	" "same manifest from the zstd archive"

# --- one platform ---
expect 0 "--platform keeps one platform" oci-copy -q --platform linux/arm64 "$TD/multiarch:latest" L:arm
run oci-inspect --refs L
like "^arm	sha256:[0-9a-f]+	application/vnd.oci.image.manifest.v1\+json	linux/arm64" "the ref names the arm64 manifest"

# --- docker-archive: docker save's shape ---
expect 0 "a docker-archive with a RepoTag" oci-copy -q "$TD/multi:v1" "d.docker.tar:example/app:1.0"
is "$(tarjs d.docker.tar manifest.json 'd[0]["RepoTags"]')" "['example/app:1.0']" "manifest.json RepoTags"
cfg=$(tarjs d.docker.tar manifest.json 'd[0]["Config"]')
case $cfg in blobs/sha256/*) pass "Config is a blob path" ;; *) fail "Config is a blob path" "$cfg" ;; esac
is "$(tarjs d.docker.tar index.json 'd["manifests"][0]["annotations"]["io.containerd.image.name"]')" docker.io/example/app:1.0 "index.json names it as Docker 25 does"
is "$(tarjs d.docker.tar index.json 'd["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]')" 1.0 "index.json ref.name is the tag"
is "$(tarjs d.docker.tar index.json 'd["manifests"][0]["mediaType"]')" application/vnd.docker.distribution.manifest.v2+json "a Docker manifest"
tar xOf d.docker.tar oci-layout | grep -q imageLayoutVersion && pass "oci-layout present" || fail "oci-layout present"
# layers uncompressed, as docker save writes them: the blob digest is the diff_id
oci-inspect --config d.docker.tar:example/app:1.0 >dcfg.json
tarjs d.docker.tar manifest.json '"\n".join(x.split("/")[-1] for x in d[0]["Layers"])' >dl.txt
js dcfg.json '"\n".join(x.split(":")[1] for x in d["rootfs"]["diff_ids"])' >di.txt
cmp -s dl.txt di.txt && pass "layers are the uncompressed tars (digest = diff_id)" || fail "layers are the uncompressed tars" "$(paste dl.txt di.txt)"
oci-inspect --manifest d.docker.tar:example/app:1.0 >dman.json
is "$(js dman.json 'sorted(set(l["mediaType"] for l in d["layers"]))')" "['application/vnd.docker.image.rootfs.diff.tar']" "Docker layer media types"
is "$(js dman.json 'd["config"]["mediaType"]')" application/vnd.docker.container.image.v1+json "Docker config media type"
expect 0 "the docker-archive verifies" oci-inspect --verify d.docker.tar
expect 0 "read by its RepoTag" oci-inspect --refs d.docker.tar:example/app:1.0
expect 0 "a ref without a tag gets :latest" oci-copy -q "$TD/multi:v2" two.docker.tar:plain
is "$(tarjs two.docker.tar manifest.json 'd[0]["RepoTags"]')" "['plain:latest']" "RepoTags plain:latest"
expect 0 "--all into a docker-archive: the source's tags under its name" oci-copy -q --all "$TD/multiarch" ma.docker.tar
is "$(tarjs ma.docker.tar manifest.json 'sorted(t for e in d for t in e["RepoTags"])')" "['multiarch:amd64-only', 'multiarch:dockerlist', 'multiarch:latest']" "RepoTags multiarch:TAG"
is "$(oci-inspect --refs ma.docker.tar:multiarch:dockerlist | cut -f1)" dockerlist "read back by NAME:TAG"
expect_fail "a docker-archive of a multi-platform index needs one platform that exists" \
	oci-copy --platform linux/s390x "$TD/multiarch:latest" m.docker.tar
expect 0 "--format docker-archive on any name, one platform" \
	oci-copy -q --format docker-archive --platform linux/arm64 "$TD/multiarch:latest" m.tar:ma:arm
is "$(tarjs m.tar manifest.json 'd[0]["RepoTags"]')" "['ma:arm']" "one image, tagged"

# --- Docker -> OCI ---
expect 0 "docker-archive -> layout" oci-copy -q "d.docker.tar:example/app:1.0" L:fromdocker
oci-inspect --manifest L:fromdocker >oman.json
is "$(js oman.json 'd["mediaType"]')" application/vnd.oci.image.manifest.v1+json "OCI manifest"
is "$(js oman.json 'd["config"]["mediaType"]')" application/vnd.oci.image.config.v1+json "OCI config"
is "$(js oman.json 'sorted(set(l["mediaType"] for l in d["layers"]))')" "['application/vnd.oci.image.layer.v1.tar']" "OCI layers"
expect 0 "a Docker manifest list -> OCI index" oci-copy -q "$TD/multiarch:dockerlist" L:dl
run oci-inspect --refs L
like "^dl	sha256:[0-9a-f]+	application/vnd.oci.image.index.v1\+json	" "the list became an OCI index"
expect 0 "the layout verifies" oci-inspect --verify L
if python3 "$OCI_SOURCE_DIR/tests/e2e/lib-schema.py" check 2>/dev/null; then
	expect 0 "every document valid against the image-spec schemas" python3 "$OCI_SOURCE_DIR/tests/e2e/lib-schema.py" layout L
fi

# --- recompression: gzip -> zstd -> gzip ---
oci-inspect --config "$TD/multi:v1" >c0.json
expect 0 "gzip -> zstd" oci-copy -q --compression zstd "$TD/multi:v1" R:zstd
oci-inspect --manifest R:zstd >z.json
is "$(js z.json 'sorted(set(l["mediaType"] for l in d["layers"]))')" "['application/vnd.oci.image.layer.v1.tar+zstd']" "zstd layers"
oci-inspect --config R:zstd >c1.json
cmp -s c0.json c1.json && pass "the config (diff_ids) is unchanged" || fail "the config is unchanged"
expect 0 "zstd -> gzip" oci-copy -q --compression gzip --level 6 R:zstd R:gz
oci-inspect --config R:gz >c2.json
cmp -s c0.json c2.json && pass "same diff_ids after the round trip" || fail "same diff_ids after the round trip"
oci-inspect --files --merged "$TD/multi:v1" >t0.txt
oci-inspect --files --merged R:gz >t2.txt
cmp -s t0.txt t2.txt && pass "the same tree after gzip->zstd->gzip" || fail "the same tree" "$(diff t0.txt t2.txt | head)"
expect 0 "the recompressed layout verifies" oci-inspect --verify R
expect 0 "recompress an index: every platform" oci-copy -q --compression zstd --json "$TD/multiarch:latest" R:maz
rc=$(js "$TMP/out" 'd["blobs"]["recompressed"]')
[ "$rc" -ge 2 ] && pass "layers of every platform recompressed ($rc)" || fail "layers of every platform recompressed" "$rc"
expect 0 "--compression zstd into a docker-archive" oci-copy --compression zstd "$TD/multi:v1" z.docker.tar:z:1
err_like 'cannot carry zstd layers: recompressed to gzip' "the tool says zstd became gzip"
oci-inspect --manifest z.docker.tar:z:1 >zd.json
is "$(js zd.json 'sorted(set(l["mediaType"] for l in d["layers"]))')" "['application/vnd.docker.image.rootfs.diff.tar.gzip']" "gzip layers in the docker-archive"
expect 0 "that docker-archive verifies" oci-inspect --verify z.docker.tar

# --- progress: only when asked (stderr is not a terminal here) ---
expect 0 "--progress" oci-copy --progress "$TD/multi:v1" prog.tar
err_like 'blob [0-9]+ .* in all' "a progress line on stderr"
expect 0 "no --progress" oci-copy "$TD/multi:v1" noprog.tar
if grep -q 'in all' "$TMP/err"; then fail "no progress line in a pipe"; else pass "no progress line in a pipe"; fi

# --- the JSON summary ---
expect 0 "--json" oci-copy --json "$TD/multi:v1" "$TD/multiarch:dockerlist" J
is "$(js "$TMP/out" 'len(d["images"])')" 2 "two images in the summary"
is "$(js "$TMP/out" 'd["images"][1]["converted"]')" True "the Docker list is marked converted"
cp "$TMP/out" j.json
if python3 -c 'import jsonschema' 2>/dev/null; then
	python3 - "$OCI_SOURCE_DIR/docs/schemas/oci-copy.schema.json" j.json <<'PY' >js.out 2>&1
import json, sys, jsonschema
s = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(s)
jsonschema.Draft202012Validator(s).validate(json.load(open(sys.argv[2])))
PY
	[ $? -eq 0 ] && pass "--json matches docs/schemas/oci-copy.schema.json" || fail "--json matches its schema" "$(tail -3 js.out)"
fi
expect 0 "copying again skips what is there" oci-copy --json "$TD/multi:v1" J:again
is "$(js "$TMP/out" 'd["blobs"]["copied"]')" 0 "nothing copied the second time"
# every archive written reads in GNU tar without a word on stderr
for a in three.tar all.tar grow.tar s.tar sd.tar; do
	if tar -tvf "$a" >/dev/null 2>"$TMP/tverr" && [ ! -s "$TMP/tverr" ]; then
		pass "$a: tar -tvf says nothing on stderr"
	else
		fail "$a: tar -tvf says nothing on stderr" "$(head -3 "$TMP/tverr")"
	fi
done
done_testing
