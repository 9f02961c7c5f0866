#!/usr/bin/env bash
# oci-inspect --verify --json: one document valid against
# docs/schemas/oci-inspect-verify.schema.json, with the same problems and
# notes as the text lines, the same exit status, and repairable set as
# --repair behaves.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/t0600-verify-lib.sh"

SCHEMA="$OCI_SOURCE_DIR/docs/schemas/oci-inspect-verify.schema.json"
mkdir "$TMP/cases"

# case NAME DIR WANT-STATUS: run --verify as text and as JSON, keep both
case_() {
	local name=$1 dir=$2 want=$3
	expect "$want" "$name: --verify exits $want" oci-inspect --verify "$dir"
	cp "$TMP/out" "$TMP/cases/$name.txt"
	expect "$want" "$name: --verify --json exits $want too" oci-inspect --verify --json "$dir"
	cp "$TMP/out" "$TMP/cases/$name.json"
	is "$(err)" "" "$name: --verify --json: nothing on stderr"
}

case_ clean "$TD/multi" 0
case_ clean-archive "$TD/multi.tar.gz" 0
case_ clean-docker "$TD/docker-save.tar" 0

fresh flip "$TD/multi"
flip "$(blobpath "$TMP/flip" "$M_L1")" 30000
case_ flip "$TMP/flip" 1

fresh trunc "$TD/multi"
truncate -s 40000 "$(blobpath "$TMP/trunc" "$M_L1")"
case_ trunc "$TMP/trunc" 1

fresh size "$TD/multi"
set_index "$TMP/size" '.manifests[0].size = 700'
case_ size "$TMP/size" 1

fresh mediatype "$TD/multi"
set_manifest "$TMP/mediatype" v1 ".layers[2].mediaType = \"$MT_GZ\"" >/dev/null
case_ mediatype "$TMP/mediatype" 1

fresh diffid "$TD/multi"
set_config "$TMP/diffid" v1 ".rootfs.diff_ids[2] = \"$OTHER_DIFF\"" >/dev/null
case_ diffid "$TMP/diffid" 1

fresh notes "$TD/multi"
printf 'x' >"$TMP/notes/blobs/sha256/.tmp-123-abc"
printf 'x' >"$TMP/notes/.index.json.tmp-1"
printf 'orphan\n' >"$TMP/orphan"
put_blob "$TMP/notes" "$TMP/orphan" >/dev/null
case_ notes "$TMP/notes" 0

fresh several "$TD/multi"
rm "$TMP/several/oci-layout"
rm "$(blobpath "$TMP/several" "$M_L3")"
printf 'not json' >"$TMP/notjson"
set_config "$TMP/several" v2 --raw "$TMP/notjson" >/dev/null
case_ several "$TMP/several" 1

fresh noindex "$TD/multi"
rm "$TMP/noindex/index.json"
case_ noindex "$TMP/noindex" 1

mk_three "$TMP/three" ''
rm "$(blobpath "$TMP/three" "$(layer_of "$TMP/three" a 0)")"
case_ three-missing "$TMP/three" 1

cp -a "$TD/hostile/wrong-types" "$TMP/wrong-types"
case_ hostile-wrong-types "$TMP/wrong-types" 1

# one python for all the checks; it prints "ok NAME" or "not ok NAME: WHY"
python3 - "$SCHEMA" "$TMP/cases" >"$TMP/py.out" 2>&1 <<'EOF'
import json, os, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
d = sys.argv[2]
try:
    jsonschema.Draft202012Validator.check_schema(schema)
    print("ok the schema is a valid draft 2020-12 schema")
except Exception as e:
    print("not ok the schema is a valid draft 2020-12 schema: %s" % str(e).splitlines()[0])
v = jsonschema.Draft202012Validator(schema)

def text_entries(path):
    probs, notes = [], []
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        note = line.startswith("note ")
        if note:
            line = line[5:]
        f = line.split(" ", 3)
        (notes if note else probs).append(tuple(f))
    return probs, notes

for name in sorted(n[:-5] for n in os.listdir(d) if n.endswith(".json")):
    try:
        doc = json.load(open(os.path.join(d, name + ".json")))
    except Exception as e:
        print("not ok %s: valid JSON: %s" % (name, e))
        continue
    errs = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
    if errs:
        print("not ok %s: validates against the schema: %s at %s" % (name, errs[0].message[:200], list(errs[0].path)))
    else:
        print("ok %s: validates against the schema" % name)
    tp, tn = text_entries(os.path.join(d, name + ".txt"))
    jp = [(e["kind"], e["digest"], ",".join(e["refs"]) or "-", e["detail"]) for e in doc.get("problems", [])]
    jn = [(e["kind"], e["digest"], ",".join(e["refs"]) or "-", e["detail"]) for e in doc.get("notes", [])]
    if tp == jp:
        print("ok %s: the same problems as the text lines" % name)
    else:
        print("not ok %s: the same problems as the text lines: text %s json %s" % (name, tp, jp))
    if tn == jn:
        print("ok %s: the same notes as the text lines" % name)
    else:
        print("not ok %s: the same notes as the text lines: text %s json %s" % (name, tn, jn))
EOF
while IFS= read -r line; do
	case $line in
	"ok "*) pass "${line#ok }" ;;
	"not ok "*) fail "${line#not ok }" ;;
	*) fail "python: $line" ;;
	esac
done <"$TMP/py.out"

# ---- a few fields, exactly ----
jqc() { jq -c "$1" "$TMP/cases/$2.json" 2>&1; }
is "$(jqc '[.problems, .notes, .blobs, .bytes > 0]' clean)" '[[],[],7,true]' "clean: no problem, no note, 7 blobs"
is "$(jqc '[.problems[] | [.kind, .digest, .refs, .repairable]]' flip)" "[[\"digest\",\"$M_L1\",[\"v1\",\"v2\"],false]]" \
	"flip: digest, the layer, v1,v2, not repairable"
is "$(jqc '[.problems[] | [.kind, .digest, .refs, .repairable]]' size)" "[[\"size\",\"$M_V1\",[\"v1\"],true]]" \
	"size: size, v1's manifest, v1, repairable"
is "$(jqc '[.problems[] | [.kind, .digest, .refs, .repairable]]' mediatype)" "[[\"mediatype\",\"$M_L3\",[\"v1\"],true]]" \
	"mediatype: mediatype, the layer, v1, repairable"
is "$(jqc '[.problems[] | [.kind, .refs, .repairable]]' diffid)" '[["diffid",["v1"],false]]' \
	"diffid: diffid, v1, not repairable"
is "$(jqc '[.problems[] | [.kind, .digest, .refs, .repairable]]' noindex)" '[["index","-",[],true]]' \
	"noindex: index, -, -, repairable"
is "$(jqc '[.notes[] | select(.kind == "unreferenced")] | length' noindex)" 7 \
	"noindex: every blob is an unreferenced note"
is "$(jqc '[.notes[] | [.kind, .repairable]] | sort' notes)" \
	'[["stray",true],["stray",true],["unreferenced",true]]' "notes: two stray temporary files and an unreferenced blob, each repairable"
is "$(jqc '[.problems[] | .kind] | sort' several)" '["json","layout","missing"]' \
	"several: layout, missing and json, once each"
is "$(jqc '[.problems[] | select(.kind == "missing") | .refs]' several)" '[["v1"]]' "several: the missing layer breaks v1"
is "$(jqc '[.problems[] | select(.kind == "json") | .refs]' several)" '[["v2"]]' "several: the bad config breaks v2"
is "$(jqc '[.problems[] | select(.kind == "missing") | .refs]' three-missing)" '[["a","b","c"]]' \
	"three-missing: one entry, naming a,b,c"

done_testing
