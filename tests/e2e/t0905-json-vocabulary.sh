#!/bin/bash
# One JSON vocabulary across tools: every --json document matches its schema
# in docs/schemas (tested against real output here), and the same things have
# the same names and encodings everywhere: paths absolute with the leading
# "/", modes as integers, lists as arrays (never comma-joined strings), link
# targets as "linkname", device numbers as "devmajor"/"devminor", field names
# camelCase in every tool (oci-copy's too).
. "$(dirname "$0")/test-lib.sh"

S="$OCI_SOURCE_DIR/docs/schemas"
cp -r "$TD/multi" "$TMP/L"
oci-unpack -q "$TMP/L:v1" "$TMP/b" || fail "unpack"
echo new >"$TMP/b/rootfs/new"
chmod 600 "$TMP/b/rootfs/etc/passwd"
ln -sfn elsewhere "$TMP/b/rootfs/usr/lib/libx.so"
mknod "$TMP/b/rootfs/null2" c 1 3 2>/dev/null || true
rm -rf "$TMP/b/rootfs/home"
mkdir -p "$TMP/d1" "$TMP/d2" && echo a >"$TMP/d1/f" && echo b >"$TMP/d2/f" && mkdir "$TMP/d2/sub"
# a broken layout for --verify: v1 and v2 share the layer it breaks
cp -r "$TD/multi" "$TMP/broken"
L1=$(jq -r '.layers[0].digest' <<<"$(oci-inspect --manifest "$TD/multi:v1")")
printf 'x' | dd of="$TMP/broken/blobs/sha256/${L1#sha256:}" bs=1 seek=100 conv=notrunc 2>/dev/null
oci-commit -q --from "$TMP/L:v1" --env A=1 "$TMP/L:cfg" >/dev/null || fail "config-only commit"

: >"$TMP/list"
k=0
# doc SCHEMA WANT-STATUS TOOL ARGS...: keep the tool's output for SCHEMA
doc() {
	local schema=$1 want=$2
	shift 2
	k=$((k + 1))
	run "$@"
	if [ "$status" -ne "$want" ]; then
		fail "$*: exit $status, want $want" "$(head -c 300 "$TMP/err")"
		return
	fi
	cp "$TMP/out" "$TMP/doc-$k.json"
	printf '%s\t%s\t%s\n' "$S/$schema.schema.json" "$TMP/doc-$k.json" "$*" >>"$TMP/list"
}
doc oci-inspect 0 oci-inspect --json "$TMP/L"
doc oci-inspect-refs 0 oci-inspect --refs --json "$TMP/L"
doc oci-inspect-files 0 oci-inspect --files --json "$TMP/L:v1"
doc oci-inspect-files 0 oci-inspect --files --merged --json "$TMP/L:v1"
doc oci-inspect-history 0 oci-inspect --history --json "$TMP/L:cfg"
doc oci-inspect-verify 0 oci-inspect --verify --json "$TMP/L"
doc oci-inspect-verify 1 oci-inspect --verify --json "$TMP/broken"
doc oci-diff 1 oci-diff --json "$TMP/b"
doc oci-diff 1 oci-diff --json "$TMP/d1" "$TMP/d2"
doc oci-diff 1 oci-diff --json "$TMP/L:v1" "$TMP/L:v2"
doc oci-diff 1 oci-diff --json "$TMP/L:v1" "$TMP/L:cfg"
doc oci-copy 0 oci-copy -q --json "$TMP/L:v1" "$TMP/C:a"
doc oci-copy 0 oci-copy -q --json "$TMP/C:a" "$TMP/C:b"

if python3 -c 'import jsonschema' 2>/dev/null; then
	python3 - "$TMP/list" >"$TMP/results" <<'PY'
import json, sys, jsonschema
for line in open(sys.argv[1]):
    schema, doc, name = line.rstrip("\n").split("\t")
    try:
        jsonschema.validate(json.load(open(doc)), json.load(open(schema)))
        print("ok\t" + name)
    except Exception as e:
        print("bad\t%s\t%s" % (name, str(e).splitlines()[0][:200]))
PY
	while IFS=$'\t' read -r res name why; do
		if [ "$res" = ok ]; then pass "schema: $name"; else fail "schema: $name" "$why"; fi
	done <"$TMP/results"
else
	diag "python3-jsonschema missing: schemas not checked"
fi

# the shared vocabulary, checked on every document at once
python3 - "$TMP/list" >"$TMP/vocab" <<'PY'
import json, sys
bad = []
def walk(v, where, name):
    if isinstance(v, dict):
        for key, x in v.items():
            w = where + "." + key
            if key in ("path", "hides") and isinstance(x, str) and not x.startswith("/"):
                if not (key == "path" and where == ".source"):
                    bad.append("%s: %s %r is not absolute" % (name, w, x))
            if key == "mode" and not isinstance(x, int):
                bad.append("%s: %s %r is not an integer" % (name, w, x))
            if key in ("refs", "platforms", "fields", "env", "cmd", "entrypoint") and x is not None and not isinstance(x, list):
                bad.append("%s: %s %r is not an array" % (name, w, x))
            if "_" in key and not where.startswith(".config") and not where.startswith(".manifests"):
                bad.append("%s: %s: field names are camelCase" % (name, w))
            if key in ("link", "device"):
                bad.append("%s: %s: the vocabulary says linkname / devmajor+devminor" % (name, w))
            walk(x, w, name)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            walk(x, where + "[%d]" % i, name)
for line in open(sys.argv[1]):
    schema, doc, name = line.rstrip("\n").split("\t")
    walk(json.load(open(doc)), "", name)
print("\n".join(bad))
PY
is "$(cat "$TMP/vocab")" "" "every document: absolute paths, integer modes, arrays for lists, one name per field"

# the same file seen by two tools is written the same way
M=$(oci-inspect --files --merged --json "$TMP/L:v1" | jq -c '.entries[] | select(.path == "/etc/passwd") | [.path, .mode]')
D=$(oci-diff --json "$TMP/b" | jq -c '.changes[] | select(.path == "/etc/passwd") | [.path, .before.mode]')
is "$D" "$M" "/etc/passwd: the same path and mode in oci-inspect --files --merged and oci-diff"
is "$(oci-diff --json "$TMP/b" | jq -c '.changes[] | select(.path == "/etc/passwd") | .after.mode')" 384 "oci-diff: mode 0600 is 384"
is "$(oci-inspect --verify --json "$TMP/broken" | jq -c '[.problems[] | .refs]')" '[["v1","v2"]]' "--verify --json: refs are an array"
is "$(oci-inspect --verify --json "$TMP/L" | jq -c '[.notes[] | .refs] | unique')" '[]' "--verify --json: a clean layout has no notes"
done_testing
