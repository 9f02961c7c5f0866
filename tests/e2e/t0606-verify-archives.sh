#!/usr/bin/env bash
# --verify on archives (oci-archive, compressed or not, docker-archive, on
# stdin), and --repair of an archive: never in place (no -o: exit 2, the
# archive untouched); with -o NEWDIR a repaired copy, the archive unchanged.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/t0600-verify-lib.sh"

DS_LAYERS=$(awk '$1 == "example/app:1.0" { sub("layers=", "", $3); gsub(",", "|", $3); print $3 }' "$TD/expected/docker-save.txt")

# ---- good archives ----
for a in multi.tar multi.tar.gz docker-save.tar; do
	expect 0 "--verify $a: exit 0" oci-inspect --verify "$TD/$a"
	is "$(out)" "" "--verify $a: nothing to say"
done
run oci-inspect --verify - <"$TD/multi.tar"
is "$status" 0 "--verify - < multi.tar: exit 0"
run sh -c 'cat "$1" | oci-inspect --verify -' sh "$TD/multi.tar.gz"
is "$status" 0 "--verify - from a pipe (multi.tar.gz): exit 0"

# ---- corrupted copies: a byte flipped inside a layer member ----
cp "$TD/multi.tar" "$TMP/bad.tar"
cp "$TD/docker-save.tar" "$TMP/bad-docker.tar"
python3 - "$TMP/bad.tar" "blobs/sha256/${M_L1#sha256:}" "$TMP/bad-docker.tar" layer.tar <<'EOF'
import sys, tarfile
args = sys.argv[1:]
for path, member in zip(args[::2], args[1::2]):
    with tarfile.open(path) as t:
        m = next(m for m in t.getmembers() if m.name == member or m.name.endswith("/" + member))
        off = m.offset_data + min(m.size // 2, 20000)
    with open(path, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 1]))
EOF
cp "$TMP/bad.tar" "$TMP/bad.tar.orig"

expect 1 "corrupted multi.tar: --verify exits 1" oci-inspect --verify "$TMP/bad.tar"
only_problem digest "$M_L1" v1,v2 "corrupted multi.tar: 'digest LAYER v1,v2', once"
well_formed "corrupted multi.tar: lines well formed"
run oci-inspect --verify - <"$TMP/bad.tar"
is "$status" 1 "corrupted multi.tar on stdin: --verify exits 1"
only_problem digest "$M_L1" v1,v2 "corrupted multi.tar on stdin: the same line"

expect 1 "corrupted docker-save.tar: --verify exits 1" oci-inspect --verify "$TMP/bad-docker.tar"
only_problem 'digest|diffid' "$DS_LAYERS" example/app:1.0,example/app:latest \
	"corrupted docker-save.tar: the layer, naming both tags, once"

# ---- --repair of an archive: never in place ----
expect_fail "--repair of an archive without -o: exit 2" oci-inspect --repair "$TMP/bad.tar"
cmp -s "$TMP/bad.tar" "$TMP/bad.tar.orig"
ok $? "--repair without -o: the archive is unchanged"
expect_fail "--repair --dry-run of an archive without -o: exit 2" oci-inspect --repair --dry-run "$TMP/bad.tar"

# what cannot be fixed in the copy is named; nothing of the copy deleted
expect 1 "corrupted multi.tar: --repair -o NEWDIR exits 1" oci-inspect --repair -o "$TMP/bad-copy" "$TMP/bad.tar"
has_problem digest "$M_L1" v1,v2 "corrupted multi.tar: --repair -o names the layer with v1,v2"
cmp -s "$TMP/bad.tar" "$TMP/bad.tar.orig"
ok $? "corrupted multi.tar: --repair -o leaves the archive unchanged"
if [ -d "$TMP/bad-copy" ]; then
	is "$(blob_count "$TMP/bad-copy")" "$(blob_count "$TD/multi")" "corrupted multi.tar: the copy holds every blob"
else
	fail "corrupted multi.tar: the copy holds every blob" "no copy"
fi
is "$(ref_names "$TMP/bad-copy")" v1,v2 "corrupted multi.tar: the copy keeps v1 and v2"

# a fixable fault in an archive: the copy is repaired
fresh w "$TD/multi"
set_index "$TMP/w" '.manifests[1].size = 1'
tar -C "$TMP/w" -cf "$TMP/w.tar" oci-layout index.json blobs
gzip -n -c "$TMP/w.tar" >"$TMP/w.tar.gz"
cp "$TMP/w.tar" "$TMP/w.tar.orig"
cp "$TMP/w.tar.gz" "$TMP/w.tar.gz.orig"
expect 1 "wrong size in an archive's index.json: --verify exits 1" oci-inspect --verify "$TMP/w.tar"
only_problem size "$M_V2" v2 "wrong size in an archive: 'size V2 v2'"
expect 0 "wrong size in an archive: --repair -o NEWDIR exits 0" oci-inspect --repair -o "$TMP/w-copy" "$TMP/w.tar"
has_fix size "$M_V2" "wrong size in an archive: 'fixed size' in the copy"
cmp -s "$TMP/w.tar" "$TMP/w.tar.orig"
ok $? "wrong size in an archive: the archive is unchanged"
[ -f "$TMP/w-copy/oci-layout" ] && [ -f "$TMP/w-copy/index.json" ]
ok $? "wrong size in an archive: the copy is a layout directory"
expect 0 "wrong size in an archive: --verify of the copy exits 0" oci-inspect --verify "$TMP/w-copy"
is "$(out)" "" "wrong size in an archive: the copy verifies clean"
is "$(refs_of "$TMP/w-copy")" "$(refs_of "$TD/multi")" "wrong size in an archive: the copy has v1 and v2, as multi"
readable "$TMP/w-copy" v1 "repaired copy"
readable "$TMP/w-copy" v2 "repaired copy"

expect 0 "wrong size in a gzip archive: --repair -o exits 0" oci-inspect --repair -o "$TMP/wgz-copy" "$TMP/w.tar.gz"
cmp -s "$TMP/w.tar.gz" "$TMP/w.tar.gz.orig"
ok $? "wrong size in a gzip archive: the archive is unchanged"
expect 0 "wrong size in a gzip archive: the copy verifies" oci-inspect --verify "$TMP/wgz-copy"

mkdir "$TMP/exists"
printf 'keep\n' >"$TMP/exists/mine"
expect_fail "--repair -o an existing path: exit 2" oci-inspect --repair -o "$TMP/exists" "$TMP/w.tar"
is "$(ls -A "$TMP/exists")" mine "--repair -o an existing path: the path untouched"
expect_fail "--repair -o the archive itself: exit 2" oci-inspect --repair -o "$TMP/w.tar" "$TMP/w.tar"
cmp -s "$TMP/w.tar" "$TMP/w.tar.orig"
ok $? "--repair -o the archive itself: the archive is unchanged"

# ---- docker-archive: the copy is a layout that holds the images ----
expect 0 "docker-save.tar: --repair -o NEWDIR exits 0" oci-inspect --repair -o "$TMP/ds-copy" "$TD/docker-save.tar"
no_problems "docker-save.tar: --repair -o: no problem in the copy"
expect 0 "docker-save.tar: --verify of the copy exits 0" oci-inspect --verify "$TMP/ds-copy"
expect 0 "docker-save.tar: the copy's config read" \
	oci-inspect --config "$TMP/ds-copy@$(jq -r '.manifests[0].digest' "$TMP/ds-copy/index.json" 2>/dev/null)"
expect 0 "docker-save-oci.tar: --repair -o NEWDIR exits 0" oci-inspect --repair -o "$TMP/dso-copy" "$TD/docker-save-oci.tar"
expect 0 "docker-save-oci.tar: --verify of the copy exits 0" oci-inspect --verify "$TMP/dso-copy"

done_testing
