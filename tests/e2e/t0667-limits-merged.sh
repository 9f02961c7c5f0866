#!/usr/bin/env bash
# The merged view (oci-inspect --files --merged, and what oci-diff and
# oci-commit --layer read of an image) resolves paths as unpack does on disk:
# at most 40 symlinks in one resolution (the kernel's MAXSYMLINKS, which
# openat2 applies to unpack), names of at most 255 bytes (NAME_MAX). At each
# limit both accept the image and agree on its tree; one past it both refuse
# it in one line, exit 2, with the same errno.
. "$(dirname "$0")/test-lib.sh"
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
python3 - "$TMP" <<'PY'
import json, os, sys
t = sys.argv[1]
def chain(n):  # l1 -> l2 -> ... -> lN -> d: N symlinks to reach d from l1
    e = ["d/"] + [{"p": "l%d" % i, "t": "l", "to": "l%d" % (i + 1) if i < n else "d"} for i in range(1, n + 1)]
    return {"ref": "t", "layers": [e, ["l1/f=x"]]}
def name(n):
    return {"ref": "t", "layers": [["d/", "d/" + "a" * n + "=y"]]}
for k, spec in {"links40": chain(40), "links41": chain(41), "name255": name(255), "name256": name(256)}.items():
    json.dump(spec, open(os.path.join(t, k + ".json"), "w"))
PY
for k in links40 links41 name255 name256; do
	python3 "$LIB" build "$TMP/$k" "$TMP/$k.json" >/dev/null || { echo "Bail out! build $k"; exit 1; }
done

expect 0 "40 symlinks to the parent: unpack" oci-unpack -q "$TMP/links40:t" "$TMP/b40"
is "$(cat "$TMP/b40/rootfs/d/f" 2>/dev/null)" x "... puts f in d, through the 40 links"
expect 0 "... and the merged view" oci-inspect --files --merged "$TMP/links40:t"
like "/d/f\$" "... lists /d/f"
unlike "/l1/f" "... not under the link's name"

expect_fail "41 symlinks: unpack refuses" oci-unpack -q "$TMP/links41:t" "$TMP/b41"
err_like "Too many levels of symbolic links" "... with ELOOP"
[ ! -e "$TMP/b41" ] && pass "... and leaves no bundle" || fail "... and leaves no bundle"
expect_fail "... and so does the merged view" oci-inspect --files --merged "$TMP/links41:t"
err_like "Too many levels of symbolic links" "... with ELOOP"

A255=$(printf 'a%.0s' $(seq 255))
expect 0 "a name of 255 bytes: unpack" oci-unpack -q "$TMP/name255:t" "$TMP/n255"
is "$(cat "$TMP/n255/rootfs/d/$A255" 2>/dev/null)" y "... makes it"
expect 0 "... and the merged view" oci-inspect --files --merged "$TMP/name255:t"
like "/d/$A255\$" "... lists it"

expect_fail "a name of 256 bytes: unpack refuses" oci-unpack -q "$TMP/name256:t" "$TMP/n256"
err_like "File name too long" "... with ENAMETOOLONG"
expect_fail "... and so does the merged view" oci-inspect --files --merged "$TMP/name256:t"
err_like "File name too long" "... with ENAMETOOLONG"

done_testing
