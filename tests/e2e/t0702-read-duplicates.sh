#!/usr/bin/env bash
# A layer with two entries for one path (layer.md: MUST NOT): --verify
# reports it (kind "duplicate", once, with its refs, in text and --json);
# oci-unpack still applies it as Docker and containerd do, the last entry
# winning, with one note on stderr (none with -q). A docker save archive
# with such a layer reads the same way.
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 30 | sed 's/^/#   /'; return 0; }
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
SCHEMA=$OCI_SOURCE_DIR/docs/schemas/oci-inspect-verify.schema.json

cat >"$TMP/dup.json" <<EOF2
{"ref": "t", "docker_save": "$TMP/dup-docker.tar", "layers": [
  ["etc/", "etc/a=first", {"p": "etc/m", "c": "m", "mode": 384}, "bin/"],
  ["etc/a=second", {"p": "etc/a", "c": "third", "mode": 416}, "./etc/b=b", "etc/b=b again",
   {"p": "etc/m", "c": "m", "mode": 420}, {"p": "etc/", "t": "d", "mode": 448},
   {"p": "etc", "t": "d", "mode": 493}, "x->etc/a", "x=>etc/b"]
]}
EOF2
cat >"$TMP/clean.json" <<'EOF2'
{"ref": "t", "layers": [["etc/", "etc/a=first"], ["etc/a=second", "etc/b=b"]]}
EOF2
python3 "$LIB" build "$TMP/dup" "$TMP/dup.json" "$TMP/clean" "$TMP/clean.json" >/dev/null || fail "build images"
L2=$(jq -r '.layers[1].digest' "$TMP/dup/blobs/sha256/$(jq -r '.manifests[0].digest' "$TMP/dup/index.json" | cut -d: -f2)")

expect 0 "a layer with no duplicates: --verify exits 0" oci-inspect --verify "$TMP/clean"
is "$(out)" "" "no duplicates: nothing to say"

expect 1 "duplicate entries: --verify exits 1" oci-inspect --verify "$TMP/dup"
is "$(wc -l <"$TMP/out")" 1 "one line for the layer"
like "^duplicate $L2 t .*4 duplicate entries, the first for \"etc/a\"" "the line: kind, layer, ref, count and first path"
unlike "sha256:.* t .*etc/m\"" "the first layer's etc/m is not a duplicate"
expect 1 "--verify --json exits 1" oci-inspect --verify --json "$TMP/dup"
is "$(jq -r '[.problems[] | .kind] | join(",")' "$TMP/out" 2>&1)" duplicate "--json: kind duplicate"
if python3 -c 'import jsonschema' 2>/dev/null; then
	python3 -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' "$SCHEMA" "$TMP/out" 2>"$TMP/v"
	ok $? "--json: valid against the schema" 
else
	_n=$((_n + 1)); echo "ok $_n # SKIP python3-jsonschema missing"
fi

expect 0 "unpack applies it" oci-unpack "$TMP/dup:t" "$TMP/b"
is "$(cat "$TMP/b/rootfs/etc/a")" third "the last entry of etc/a wins"
is "$(stat -c %a "$TMP/b/rootfs/etc/a" "$TMP/b/rootfs/etc/m" "$TMP/b/rootfs/etc" | paste -sd' ')" "640 644 755" "the last entry's modes, directories too"
is "$(cat "$TMP/b/rootfs/etc/b")" "b again" "etc/b and ./etc/b are one path: the later wins"
[ -f "$TMP/b/rootfs/x" ] && [ ! -L "$TMP/b/rootfs/x" ] && [ "$(stat -c %i "$TMP/b/rootfs/x")" = "$(stat -c %i "$TMP/b/rootfs/etc/b")" ]
ok $? "x: the later hard link replaced the symlink"
grep -c "duplicate" "$TMP/err" >"$TMP/n"
is "$(cat "$TMP/n")" 1 "one note on stderr"
err_like "^oci-unpack: .*dup:t: layer $L2: 4 duplicate entries \\(the first for \"etc/a\"\\): the last entry of each path applied$" "the note names the image, the layer, the count and the first path"
expect 0 "oci-diff BUNDLE: clean" oci-diff "$TMP/b"
expect 0 "unpack -q" oci-unpack -q "$TMP/dup:t" "$TMP/bq"
is "$(err)" "" "-q: no note"
expect 0 "unpack of the clean image" oci-unpack "$TMP/clean:t" "$TMP/bc"
if grep -q duplicate "$TMP/err"; then fail "a clean image gets no note" "$(err)"; else pass "a clean image gets no note"; fi

# the same layers in a docker save archive
expect 1 "docker-archive with duplicate entries: --verify exits 1" oci-inspect --verify "$TMP/dup-docker.tar"
like "^duplicate sha256:[0-9a-f]{64} img:t .*4 duplicate entries" "docker-archive: the duplicate line"
expect 0 "docker-archive: unpack applies it" oci-unpack --rootfs "$TMP/dup-docker.tar:t" "$TMP/bd"
is "$(cat "$TMP/bd/etc/a")" third "docker-archive: the last entry wins"

done_testing
