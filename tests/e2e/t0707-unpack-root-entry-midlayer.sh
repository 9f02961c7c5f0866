#!/usr/bin/env bash
# An entry for the root directory ("./") in the middle of a layer changes the
# root's group, setgid bit and default ACL without going through the parent
# cache that lets a regular file skip fchown, fchmod and the removal of an
# inherited ACL: files after it still get exactly their entry's owner, mode
# and no ACL (the cache is dropped there).
. "$(dirname "$0")/test-lib.sh"
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root (owners, setgid)"; exit 0; }
python3 - "$TMP" <<'PY'
import json, os, struct, sys
t = sys.argv[1]
def acl(*entries):  # the kernel's xattr form: version 2, then (tag, perm, id)
    b = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", tg, p, i) for tg, p, i in entries)
    return b.decode("utf-8", "surrogateescape")
OBJ = 0xffffffff
grp = {"ref": "t", "layers": [
    [{"p": "./", "t": "d", "mode": 0o2755}],
    ["f1=a", {"p": "./", "t": "d", "mode": 0o2755, "gid": 50},
     {"p": "f2", "c": "b", "uid": 0, "gid": 0, "mode": 0o644}]]}
dacl = {"ref": "t", "layers": [
    ["f1=a", {"p": "./", "t": "d", "mode": 0o755,
              "x": {"system.posix_acl_default": acl((1, 7, OBJ), (4, 0, OBJ), (0x20, 0, OBJ))}},
     {"p": "f2", "c": "b", "mode": 0o644},
     {"p": "f3", "c": "c", "mode": 0o640}]]}
json.dump(grp, open(os.path.join(t, "grp.json"), "w"))
json.dump(dacl, open(os.path.join(t, "acl.json"), "w"))
PY
python3 "$LIB" build "$TMP/grp" "$TMP/grp.json" "$TMP/acl" "$TMP/acl.json" >/dev/null

expect 0 "unpack: the root made setgid group 50 between two files" oci-unpack -q "$TMP/grp:t" "$TMP/b"
is "$(stat -c %g "$TMP/b/rootfs/f2")" 0 "... the file after it has its entry's group, not the root's"
expect 0 "... and the bundle diffs clean" oci-diff "$TMP/b"

touch "$TMP/probe"
if python3 -c 'import os,struct,sys; os.setxattr(sys.argv[1], "system.posix_acl_access", struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, p, 0xffffffff) for t, p in ((1, 6), (4, 4), (0x20, 4))))' "$TMP/probe" 2>/dev/null; then
	expect 0 "unpack: a default ACL given to the root between two files" oci-unpack -q "$TMP/acl:t" "$TMP/c"
	is "$(stat -c %a "$TMP/c/rootfs/f2") $(stat -c %a "$TMP/c/rootfs/f3")" "644 640" "... the files after it have their entries' modes"
	n=$(python3 -c 'import os,sys; print(len([x for x in os.listxattr(sys.argv[1]) if x.startswith("system.posix_acl")]))' "$TMP/c/rootfs/f2")
	is "$n" 0 "... and no inherited ACL"
	expect 0 "... and the bundle diffs clean" oci-diff "$TMP/c"
else
	for i in 1 2 3 4; do pass "# SKIP $TMP keeps no POSIX ACLs"; done
fi
done_testing
