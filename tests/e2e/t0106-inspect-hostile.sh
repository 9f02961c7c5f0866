#!/usr/bin/env bash
# oci-inspect on hostile and broken input: exit 2, exactly one stderr line
# "oci-inspect: ..." naming the problem, never a crash or a hang; untrusted
# text never reaches the terminal raw.
. "$(dirname "$0")/test-lib.sh"
# test-lib's fail() marks only the first line of a multi-line diagnostic (a
# tool's stderr of several lines) as a TAP comment; mark every line.
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'; return 0; }

H="$TD/hostile"
# insp ARGS...: oci-inspect with a time limit (a loop is a failure, not a hang)
insp() { timeout 20 oci-inspect "$@"; }
no_stdout() { is "$(wc -c <"$TMP/out")" 0 "$1"; }
# msg_like SUBJECT REGEX NAME: stderr, with SUBJECT (the image named) cut
# out, matches REGEX; so that a case's name in the path cannot match
msg_like() {
	if awk -v s="$1" '{ while ((i = index($0, s)) > 0) $0 = substr($0, 1, i - 1) substr($0, i + length(s)); print }' \
		"$TMP/err" | grep -qE -- "$2"; then
		pass "$3"
	else
		fail "$3" "stderr lacks /$2/ (besides the image name): $(head -c 300 "$TMP/err")"
	fi
}

# CASE  MODES  ERROR-REGEX
#   MODES: which invocations must fail: t = tree (no option), m = --manifest,
#   j = --json, f = --files.  Cases whose defect lies in a layer blob only
#   fail where the layer is read (--files); the tree does not read layers.
cases='
digest-path           tmjf  (not lowercase hex|invalid|unsupported)
digest-algo           tmjf  (unsupported|md5)
digest-upper          tmjf  (lowercase|invalid)
digest-short          tmjf  (64 hex|length|short|invalid)
missing-blob          tmjf  (missing|not found|No such file)
missing-layer         f     (missing|not found|No such file)
size-mismatch-index   tmjf  size mismatch
size-mismatch-layer   f     size mismatch
digest-mismatch       f     digest mismatch
diffid-mismatch       f     diff_id mismatch
truncated-json        tmjf  invalid JSON
garbage-json          tmjf  invalid JSON
trailing-garbage      tmjf  trailing
duplicate-keys        tmjf  duplicate key
wrong-schema          tmjf  schemaVersion
wrong-mediatype       tmjf  application/x-foo
index-json-garbage    tmjf  index\.json.*invalid JSON
index-loop            tmjf  digest mismatch
deep-nesting          tmjf  nested deeper
huge-json             tmjf  exceeds
deep-json             tmjf  (nest|depth|deep)
config-not-json       tmjf  config.*invalid JSON
missing-layers-field  tmjf  layers
wrong-types           tmjf  size
'

# every case in expected/hostile.txt has a line above (new cases get noticed)
while IFS=$'\t' read -r c _; do
	if printf '%s\n' "$cases" | awk -v c="$c" '$1 == c { f = 1 } END { exit !f }' || [ "$c" = no-oci-layout ]; then
		pass "hostile case $c is covered"
	else
		fail "hostile case $c is covered" "add it to this test"
	fi
done <"$TD/expected/hostile.txt"

while read -r c modes re; do
	[ -n "$c" ] || continue
	for m in t m j f; do
		case "$modes" in *$m*) ;; *) continue ;; esac
		case $m in
		t) opt=() ;;
		m) opt=(--manifest) ;;
		j) opt=(--json) ;;
		f) opt=(--files) ;;
		esac
		expect_fail "$c ${opt[*]:-(tree)}: exit 2, one 'oci-inspect: ' line" insp "${opt[@]}" "$H/$c:bad"
		msg_like "$H/$c" "$re" "$c ${opt[*]:-(tree)}: the error says /$re/"
		err_like "hostile/$c" "$c ${opt[*]:-(tree)}: the error names the image"
		[ "$m" = f ] || no_stdout "$c ${opt[*]:-(tree)}: nothing on stdout"
	done
done <<<"$cases"

# the digest cases name the offending digest
run insp "$H/digest-path:bad"
err_like 'sha256:\.\./\.\./\.\./\.\./etc/passwd' "digest-path: the error quotes the bad digest"
unlike 'root:' "digest-path: nothing of /etc/passwd on stdout"
run insp "$H/digest-algo:bad"
err_like 'md5:d41d8cd98f00b204e9800998ecf8427e' "digest-algo: the error quotes the digest"
# the layer cases name the layer
LAYER=$(jq -r '.layers[0].digest' "$H/digest-mismatch/blobs/sha256/$(digest_of hostile/digest-mismatch:bad | cut -d: -f2)")
run insp --files "$H/digest-mismatch:bad"
err_like "$LAYER" "digest-mismatch --files: names the layer digest"
run insp --files "$H/diffid-mismatch:bad"
err_like 'diff_id mismatch.*sha256:[0-9a-f]{64}' "diffid-mismatch --files: shows the diff_id"
run insp --files "$H/size-mismatch-layer:bad"
err_like 'size mismatch.*151.*141|size mismatch.*141.*151' "size-mismatch-layer --files: both sizes"

# a corrupted layer blob is a digest mismatch whatever its compression
cp -r "$TD/multi" "$TMP/flip-tar" && chmod -R u+w "$TMP/flip-tar"
L3=$(awk 'NR == 3 { print $1 }' "$TD/expected/multi-v1.layers")
F="$TMP/flip-tar/blobs/sha256/${L3#sha256:}"
off=$(grep -boa 'again' "$F" | head -n1 | cut -d: -f1)
printf 'A' | dd of="$F" bs=1 seek="$off" conv=notrunc 2>/dev/null
expect_fail "plain tar layer with a flipped byte, --files: exit 2" insp --files "$TMP/flip-tar:v1"
err_like "layer $L3.*digest mismatch" "plain tar layer with a flipped byte: digest mismatch, naming the layer"
cp -r "$TD/zstd" "$TMP/flip-zst" && chmod -R u+w "$TMP/flip-zst"
LZ=$(jq -r '.layers[0].digest' "$TMP/flip-zst/blobs/sha256/$(digest_of zstd:latest | cut -d: -f2)")
F="$TMP/flip-zst/blobs/sha256/${LZ#sha256:}"
printf '\x55' | dd of="$F" bs=1 seek=$(($(stat -c %s "$F") / 2)) conv=notrunc 2>/dev/null
expect_fail "zstd layer with a flipped byte, --files: exit 2" insp --files "$TMP/flip-zst:latest"
err_like "layer $LZ.*digest mismatch" "zstd layer with a flipped byte: digest mismatch, naming the layer"

# the good part of a layer-defect image still inspects (the tree reads no layers)
for c in missing-layer size-mismatch-layer digest-mismatch diffid-mismatch; do
	expect 0 "$c: tree (no layer read) exits 0" insp "$H/$c:bad"
	like "manifest $(digest_of "hostile/$c:bad")" "$c: tree shows the manifest"
done
expect 0 "digest-mismatch --manifest exits 0" insp --manifest "$H/digest-mismatch:bad"
is "sha256:$(sha256sum <"$TMP/out" | cut -d' ' -f1)" "$(digest_of hostile/digest-mismatch:bad)" "digest-mismatch --manifest: the intact manifest"

# no-oci-layout: readable (--verify reports it, --repair recreates it)
expect 0 "no-oci-layout: tree exits 0" insp "$H/no-oci-layout:bad"
like "manifest $(digest_of hostile/no-oci-layout:bad)" "no-oci-layout: tree shows the manifest"
expect 0 "no-oci-layout: --files exits 0" insp --files "$H/no-oci-layout:bad"
like ' /etc/hostile$' "no-oci-layout: --files lists the layer"

# refs-only listing of a layout whose index.json is garbage fails too
expect_fail "index-json-garbage --refs: exit 2" insp --refs "$H/index-json-garbage"
err_like 'index\.json' "index-json-garbage --refs: names index.json"

# ---- not an image at all ----
expect_fail "nonexistent path: exit 2" insp "$TMP/does-not-exist"
err_like 'does-not-exist' "nonexistent path: named"
expect_fail "nonexistent path with a ref: exit 2" insp "$TMP/does-not-exist:v1"
err_like 'does-not-exist' "nonexistent path with a ref: named"
expect_fail "a ref that does not exist: exit 2" insp "$TD/multi:v3"
err_like 'v3' "missing ref: names it"
err_like 'v1' "missing ref: lists v1"
err_like 'v2' "missing ref: lists v2"
no_stdout "missing ref: nothing on stdout"
echo "just some text" >"$TMP/plain.txt"
expect_fail "a plain text file: exit 2" insp "$TMP/plain.txt"
err_like 'plain\.txt' "a plain text file: named"
: >"$TMP/empty"
expect_fail "an empty file: exit 2" insp "$TMP/empty"
mkdir "$TMP/emptydir"
expect_fail "an empty directory: exit 2" insp "$TMP/emptydir"
err_like 'index\.json' "an empty directory: says index.json is missing"
head -c 3000 "$TD/multi.tar" >"$TMP/trunc.tar"
expect_fail "multi.tar cut at 3000 bytes: exit 2" insp "$TMP/trunc.tar"
expect_fail "multi.tar cut at 3000 bytes, with a ref: exit 2" insp "$TMP/trunc.tar:v1"
head -c 3000 "$TD/multi.tar.gz" >"$TMP/trunc.tar.gz"
expect_fail "multi.tar.gz cut at 3000 bytes: exit 2" insp "$TMP/trunc.tar.gz"
err_like 'truncated|unexpected end|EOF' "truncated gzip: says truncated"
head -c 3000 "$TD/multi.tar.zst" >"$TMP/trunc.tar.zst"
expect_fail "multi.tar.zst cut at 3000 bytes: exit 2" insp "$TMP/trunc.tar.zst"
head -c 30000 /dev/zero | gzip -c >"$TMP/zeros.gz"
expect_fail "a gzip of zeros: exit 2" insp "$TMP/zeros.gz"
# an archive with index.json first, cut inside the big layer blob
tar -C "$TD/multi" -cf "$TMP/ordered.tar" index.json oci-layout blobs
head -c 40000 "$TMP/ordered.tar" >"$TMP/ordered-cut.tar"
expect_fail "archive cut inside a layer: --files exits 2" insp --files "$TMP/ordered-cut.tar:v1"
err_like 'truncated|missing|past the end|unexpected end|short' "archive cut inside a layer: says so"
expect_fail "bad digest syntax after @: exit 2" insp "$TD/multi@sha256:abc"
expect_fail "unknown digest algorithm after @: exit 2" insp "$TD/multi@md5:d41d8cd98f00b204e9800998ecf8427e"

# ---- untrusted text in data output ----
# A ref name and a config value carrying ESC and newline must not reach the
# terminal raw (the tool already escapes entry names and error messages).
mkdir -p "$TMP/evil"
python3 - "$TMP/evil" <<'EOF'
import gzip, hashlib, io, json, os, sys, tarfile
out = sys.argv[1]
def w(p, b):
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "wb").write(b)
def blob(b):
    h = hashlib.sha256(b).hexdigest()
    w(os.path.join(out, "blobs/sha256", h), b)
    return {"digest": "sha256:" + h, "size": len(b)}
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
    ti = tarfile.TarInfo("etc/x"); ti.size = 1; ti.mtime = 1700000000
    tf.addfile(ti, io.BytesIO(b"x"))
t = buf.getvalue()
l = dict(blob(gzip.compress(t, mtime=0)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip")
cfg = {"architecture": "amd64", "os": "linux",
       "config": {"Env": ["EVIL=\x1b]0;pwned\x07\x1b[2J", "X=a\nfake line"], "WorkingDir": "/\x1b[31m"},
       "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(t).hexdigest()]}}
c = dict(blob(json.dumps(cfg).encode()), mediaType="application/vnd.oci.image.config.v1+json")
m = dict(blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                          "config": c, "layers": [l]}).encode()),
         mediaType="application/vnd.oci.image.manifest.v1+json")
good = dict(m, annotations={"org.opencontainers.image.ref.name": "good"})
evil = dict(m, annotations={"org.opencontainers.image.ref.name": "x\x1b[31mred\nfake\tcolumn"})
w(os.path.join(out, "index.json"), json.dumps({"schemaVersion": 2, "manifests": [good, evil]}).encode())
w(os.path.join(out, "oci-layout"), b'{"imageLayoutVersion":"1.0.0"}')
EOF
no_esc() { if grep -q $'\x1b' "$TMP/out"; then fail "$1" "raw ESC byte on stdout"; else pass "$1"; fi; }
run insp --refs "$TMP/evil"
ok $((status == 0 || status == 2 ? 0 : 1)) "--refs with a hostile ref name: exit 0 or 2 (got $status)"
no_esc "--refs: no raw ESC from a ref name on stdout"
if [ "$status" -eq 0 ]; then
	is "$(wc -l <"$TMP/out")" 2 "--refs: a newline in a ref name does not add a line"
	is "$(awk -F'\t' 'NF != 4' "$TMP/out" | wc -l)" 0 "--refs: a tab in a ref name does not add a field"
fi
run insp "$TMP/evil"
no_esc "tree: no raw ESC from a ref name or config value on stdout"
run insp "$TMP/evil:good"
no_esc "tree of a clean ref: no raw ESC from config Env/WorkingDir on stdout"
unlike '^fake line' "tree: a newline in an Env value does not start a fake line"
run insp "$TMP/evil:nope"
if grep -q $'\x1b' "$TMP/err"; then fail "error listing the refs: no raw ESC on stderr"; else pass "error listing the refs: no raw ESC on stderr"; fi
is "$(wc -l <"$TMP/err")" 1 "error listing a hostile ref: still one line"
expect 0 "--json with hostile strings exits 0" insp --json "$TMP/evil:good"
is "$(jq -r '.manifests[0].config.env[0]' <"$TMP/out")" $'EVIL=\x1b]0;pwned\x07\x1b[2J' "--json keeps the exact value, JSON-escaped"

done_testing
