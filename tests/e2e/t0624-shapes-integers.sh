#!/usr/bin/env bash
# Sizes are integers, read from their JSON text (never through a double):
# --repair corrects a descriptor size written as 1e300 (undefined behaviour
# as an int64 before), 4.01e2 or 401.0 (equal to the right size as doubles,
# yet not integers: the documents' parser refuses them, so repair must fix
# them), in index.json and in a nested index.
. "$(dirname "$0")/test-lib.sh"
SHAPES="$OCI_SOURCE_DIR/tests/e2e/lib-shapes.py"
python3 "$SHAPES" deep "$TMP/base" 2 || exit 1

# mk NAME WHERE TEXT: a copy whose size at WHERE (top: index.json's entry;
# nested: the inner index's entry) is spelled TEXT; prints the digest involved
mk() {
	cp -r "$TMP/base" "$TMP/$1"
	python3 - "$TMP/$1" "$2" "$3" <<'PY'
import hashlib, json, os, sys
d, where, text = sys.argv[1:]
idx = json.load(open(d + "/index.json"))
top = idx["manifests"][0]
if where == "top":
    raw = json.dumps(idx).replace('"size": %d' % top["size"], '"size": ' + text)
    open(d + "/index.json", "w").write(raw)
    print(top["digest"])
else:
    p = d + "/blobs/sha256/" + top["digest"][7:]
    outer = json.load(open(p))
    inner = outer["manifests"][0]
    ip = d + "/blobs/sha256/" + inner["digest"][7:]
    doc = json.load(open(ip))
    m = doc["manifests"][0]
    raw = json.dumps(doc, separators=(",", ":")).replace('"size":%d' % m["size"], '"size":' + text).encode()
    h = hashlib.sha256(raw).hexdigest()
    open(d + "/blobs/sha256/" + h, "wb").write(raw)
    inner.update(digest="sha256:" + h, size=len(raw))
    raw = json.dumps(outer, separators=(",", ":")).encode()
    h = hashlib.sha256(raw).hexdigest()
    open(d + "/blobs/sha256/" + h, "wb").write(raw)
    top.update(digest="sha256:" + h, size=len(raw))
    json.dump(idx, open(d + "/index.json", "w"))
    print(m["digest"])
PY
}

for where in top nested; do
	for text in 1e300 4.01e2 401.0 -1 1.5 18446744073709551617; do
		# 4.01e2 and 401.0 only mean "right" for a descriptor of 401 bytes
		n="$where-$text"
		dg=$(mk "$n" "$where" "$text") || { fail "$n: made"; continue; }
		run oci-inspect --verify "$TMP/$n"
		[ "$status" -eq 1 ] && pass "$n: verify finds it" || fail "$n: verify finds it" "exit $status $(head -c 200 "$TMP/err")"
		# (its status: verify does not know that repair fixes a size that is
		# not an integer, so it may say 1)
		run oci-inspect --repair --dry-run "$TMP/$n"
		like "^would fix size $dg - descriptor size ${text//./\\.} -> [0-9]+\$|^would fix size $dg deep descriptor size ${text//./\\.} -> [0-9]+\$" \
			"$n: the fix names the size as written"
		expect 0 "$n: repair" oci-inspect --repair "$TMP/$n"
		expect 0 "$n: then it verifies" oci-inspect --verify "$TMP/$n"
		expect 0 "$n: and loads" oci-inspect "$TMP/$n"
	done
done

done_testing
