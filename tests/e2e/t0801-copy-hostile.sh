#!/usr/bin/env bash
# oci-copy on bad input and hostile destinations: a corrupted source blob
# stops the copy with nothing named or renamed into place (no new layout, no
# archive, no temporary file, index.json untouched); a destination that is a
# symlink or a FIFO is refused without being followed or waited on; member
# names an archive source smuggles never reach what we write; a recompression
# whose tar does not hash to the config's diff_id is refused.
. "$(dirname "$0")/test-lib.sh"
cd "$TMP" || exit 1
v1=$(digest_of multi:v1)
blob() { echo "$1/blobs/sha256/${2#sha256:}"; }
layers() { oci-inspect --manifest "$1" | python3 -c 'import json,sys; print("\n".join(l["digest"] for l in json.load(sys.stdin)["layers"]))'; }

# a layout whose last layer has one byte changed (same size)
cp -a "$TD/multi" bad
last=$(layers bad:v1 | tail -n 1)
f=$(blob bad "$last")
chmod u+w "$f"
python3 - "$f" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0xff
open(p, "wb").write(b)
PY

expect_fail "corrupt source -> new layout: refused" oci-copy bad:v1 newL:x
err_like "blob $last.*(digest|mismatch)" "the error names the bad blob"
[ ! -e newL ] && pass "no layout left behind" || fail "no layout left behind" "$(find newL | head)"

oci-copy -q "$TD/multi:v2" old:keep || fail "setup old layout"
cp old/index.json old.idx
expect_fail "corrupt source -> existing layout: refused" oci-copy bad:v1 old:x
cmp -s old/index.json old.idx && pass "index.json untouched" || fail "index.json untouched"
[ -z "$(find old -name '.tmp-*' -o -name '.index.json.new-*')" ] && pass "no temporary blob left" || fail "no temporary blob left" "$(find old -name '.*')"
[ ! -e "$(blob old "$last")" ] && pass "the bad blob is not in the destination" || fail "the bad blob is not in the destination"
expect 0 "the destination still verifies" oci-inspect --verify old

for dest in out.tar out.docker.tar; do
	expect_fail "corrupt source -> $dest: refused" oci-copy bad:v1 "$dest"
	[ -z "$(ls -A | grep -E '^\.?out\.')" ] && pass "$dest: no archive, no temporary file" || fail "$dest: no archive, no temporary file" "$(ls -A)"
done
echo old >keep.tar
expect_fail "corrupt source over an existing archive: refused" oci-copy bad:v1 keep.tar
is "$(cat keep.tar)" old "the existing archive is untouched"
run sh -c 'oci-copy bad:v1 - >/dev/null'
is "$status" 2 "to stdout: exit 2"
expect_fail "recompressing the corrupt layer: refused" oci-copy --compression zstd bad:v1 rc:x
[ ! -e rc ] && pass "nothing left after a failed recompression" || fail "nothing left after a failed recompression"

# a layer whose tar is not the config's diff_id: caught when it is recompressed
expect_fail "diff_id mismatch caught by recompression" oci-copy --compression none "$TD/hostile/diffid-mismatch:bad" dm:x
err_like "diff_id" "the error says diff_id"

# --- hostile destinations ---
mkfifo fifo.tar
expect_fail "a FIFO destination is refused" timeout 20 oci-copy "$TD/multi:v1" fifo.tar
err_like "not a regular file \(FIFO\)" "the error says FIFO"
echo precious >precious
ln -s precious link.tar
expect_fail "a symlink destination is refused" oci-copy "$TD/multi:v1" link.tar
is "$(cat precious)" precious "the symlink's target is untouched"
[ -L link.tar ] && pass "the symlink is still a symlink" || fail "the symlink is still a symlink"
mkdir -p planted/blobs/sha256
echo '{"imageLayoutVersion":"1.0.0"}' >planted/oci-layout
echo '{"schemaVersion":2,"manifests":[]}' >outside.json
cp outside.json outside.orig
ln -s ../outside.json planted/index.json
expect_fail "a layout whose index.json is a symlink out of it is refused" oci-copy "$TD/multi:v1" planted:x
cmp -s outside.json outside.orig && pass "the file outside is untouched" || fail "the file outside is untouched"
mkdir -p fifol/blobs/sha256
echo '{"imageLayoutVersion":"1.0.0"}' >fifol/oci-layout
mkfifo fifol/index.json
expect_fail "a layout whose index.json is a FIFO is refused, no hang" timeout 20 oci-copy "$TD/multi:v1" fifol:x
mkdir -p pblob/blobs
echo '{"imageLayoutVersion":"1.0.0"}' >pblob/oci-layout
echo '{"schemaVersion":2,"manifests":[]}' >pblob/index.json
mkdir elsewhere
ln -s ../../elsewhere pblob/blobs/sha256
expect_fail "a layout whose blobs/sha256 is a symlink out of it is refused" oci-copy "$TD/multi:v1" pblob:x
[ -z "$(ls -A elsewhere)" ] && pass "nothing written through it" || fail "nothing written through it" "$(ls elsewhere)"

# --- member names in an archive source ---
python3 - "$TD/multi.tar" evil.tar <<'PY'
import io, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as o:
    for m in t.getmembers():
        o.addfile(m, t.extractfile(m) if m.isfile() else None)
    for name in ["../escape", "/abs/path", "blobs/sha256/../../../x", "./blobs/sha256/zz"]:
        data = b"evil\n"
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        o.addfile(ti, io.BytesIO(data))
PY
mkdir sub && cd sub || exit 1
run oci-copy ../evil.tar:v1 ../clean.tar
cd .. || exit 1
if [ "$status" -eq 0 ]; then
	pass "an archive with hostile member names still gives its image"
	bad=$(tar tf clean.tar | grep -Ev '^(blobs/sha256/[0-9a-f]{64}|oci-layout|index.json)$')
	[ -z "$bad" ] && pass "only blobs/sha256/HEX, oci-layout and index.json written" || fail "only safe member names written" "$bad"
	is "$(oci-inspect --refs clean.tar | cut -f2)" "$v1" "the same image"
else
	grep -q '^oci-copy: ' "$TMP/err" && pass "an archive with hostile member names is refused in one line" || fail "refused in one line" "$(cat "$TMP/err")"
	pass "(nothing written)"
	[ ! -e clean.tar ] && pass "no archive" || fail "no archive"
fi
[ ! -e "$TMP/escape" ] && [ ! -e /abs/path ] && [ ! -e "$TMP/x" ] && pass "nothing written outside" || fail "nothing written outside"
done_testing
