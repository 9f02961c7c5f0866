#!/usr/bin/env bash
# The unpack record and xattr names: a name holding ";" (or "=", or "%";
# any user.* name may) is one name from the layer to the record to a
# committed layer; it can neither be split into a second, injected, name
# (trusted.*) nor lose its value. Also for names read from the disk by
# oci-diff --tar. (A tar cannot hold "=", "%", spaces or non-ASCII bytes in
# a name as they are: such a name is refused when a layer is written.)
. "$(dirname "$0")/test-lib.sh"
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py

# pax xattr names of each entry of a (possibly compressed) tar: "path name=hexvalue"
tar_xattrs() {
	python3 - "$1" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        for k, v in sorted(m.pax_headers.items()):
            if k.startswith("SCHILY.xattr."):
                print(m.name.rstrip("/"), k[len("SCHILY.xattr."):] + "=" + v.encode("utf-8", "surrogateescape").hex())
PY
}
# the top layer blob of IMAGE:REF in an OCI layout
top_layer() {
	python3 - "$1" "$2" <<'PY'
import json, sys, os
lay, ref = sys.argv[1], sys.argv[2]
blob = lambda d: os.path.join(lay, "blobs", *d.split(":"))
idx = json.load(open(os.path.join(lay, "index.json")))
m = [x for x in idx["manifests"] if x.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref][0]
man = json.load(open(blob(m["digest"])))
if "manifests" in man:
    man = json.load(open(blob(man["manifests"][0]["digest"])))
print(blob(man["layers"][-1]["digest"]))
PY
}

python3 "$LIB" build "$TMP/img" - >/dev/null <<'EOF2' || { echo "Bail out! cannot build the image"; exit 1; }
{"layers": [[
  {"p": "d/", "t": "d", "x": {"user.a;trusted.injected": "v", "user.b;c": "w"}},
  {"p": "d/f", "t": "f", "c": "one", "x": {"user.x;security.capability": "z"}}
]]}
EOF2
B=$TMP/b
expect 0 "unpack an image whose xattr names hold ';' and '='" oci-unpack -q "$TMP/img:t" "$B"
REC=$B/oci-unpack.record
recf() { awk -F'\t' -v p="/$1" -v c="$2" '$1 == p { print $c }' "$REC"; }
is "$(recf d 13)" "user.a%3btrusted.injected=76;user.b%3bc=77" \
	"record: ';' and '=' in a name are escaped, the value hex"
is "$(recf d/f 13)" "user.x%3bsecurity.capability=7a" "record: d/f's name escaped too"

# d/f changed in place: d (untouched) goes into the layer as f's parent,
# with the record's xattrs
printf two >"$B/rootfs/d/f"
expect 0 "oci-diff --tar of the bundle (exit 0: it wrote the layer)" oci-diff --tar "$B"
cp "$TMP/out" "$TMP/l.tar"
tar_xattrs "$TMP/l.tar" >"$TMP/x"
grep -q '^[^ ]* trusted\.' "$TMP/x" && fail "--tar: no trusted.injected split out of a user.* name" "$(cat "$TMP/x")" ||
	pass "--tar: no trusted.injected split out of a user.* name"
is "$(grep '^d ' "$TMP/x" | sort | tr '\n' ' ')" "d user.a;trusted.injected=76 d user.b;c=77 " \
	"--tar: d/ keeps its two names whole, with their values"

expect 0 "oci-commit of the bundle" oci-commit -q "$B" "$TMP/img:c"
L=$(top_layer "$TMP/img" c)
tar_xattrs "$L" >"$TMP/xc"
grep -q '^[^ ]* \(trusted\|security\)\.' "$TMP/xc" &&
	fail "commit: no injected trusted.* or security.* xattr in the layer" "$(cat "$TMP/xc")" ||
	pass "commit: no injected trusted.* or security.* xattr in the layer"
is "$(grep '^d ' "$TMP/xc" | sort | tr '\n' ' ')" "d user.a;trusted.injected=76 d user.b;c=77 " \
	"commit: d/ has exactly its two names"

expect 1 "oci-diff --json after a chmod of d/f" sh -c "chmod 0600 '$B/rootfs/d/f' && oci-diff --json '$B'"
python3 - "$TMP/out" >"$TMP/j" <<'PY'
import json, sys
for c in json.load(open(sys.argv[1]))["changes"]:
    for side in ("before", "after"):
        x = (c.get(side) or {}).get("xattrs")
        if x:
            print(c["path"], side, " ".join(sorted(x)))
PY
grep -q "security.capability" "$TMP/j" && ! grep -qE "(^| )security.capability( |$)" "$TMP/j" &&
	pass "--json: the name user.x;security.capability is one key" ||
	fail "--json: the name user.x;security.capability is one key" "$(cat "$TMP/j")"

# the same through the disk: a name set by hand on the rootfs (where the
# file system takes user.* xattrs)
if python3 -c "import os,sys; os.setxattr(sys.argv[1], b'user.p;trusted.q', b'1')" "$B/rootfs/d/f" 2>/dev/null; then
	expect 0 "oci-diff --tar with a hand-set user.p;trusted.q" oci-diff --tar "$B"
	cp "$TMP/out" "$TMP/l2.tar"
	tar_xattrs "$TMP/l2.tar" >"$TMP/x2"
	if grep -q '^d/f user.p;trusted.q=31$' "$TMP/x2" && ! grep -q 'd/f trusted.q' "$TMP/x2"; then
		pass "--tar: a name read from the disk stays whole"
	else
		fail "--tar: a name read from the disk stays whole" "$(cat "$TMP/x2")"
	fi
	python3 -c "import os,sys; os.setxattr(sys.argv[1], b'user.r=s', b'1')" "$B/rootfs/d/f"
	expect_fail "--tar: a name with '=' (a tar would mangle it) refused, one line" oci-diff --tar "$B"
	err_like "user.r=s" "... naming the attribute"
else
	pass "# SKIP the file system here takes no user.* xattrs"
fi

done_testing
