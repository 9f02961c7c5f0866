#!/usr/bin/env bash
# oci-unpack sets exactly the metadata a layer gives, whatever the host
# would add when an entry is created: no access ACL inherited from a default
# ACL the layer set on a directory (nor a default ACL on subdirectories), no
# umask, no group or setgid bit inherited from a setgid directory. The
# bundle then diffs clean against its record, and a --squash commit holds
# nothing the layers did not.
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 30 | sed 's/^/#   /'; return 0; }
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root (owners and setgid directories)"
	exit 0
fi
# does this filesystem keep POSIX ACLs?
touch "$TMP/acl-probe"
if ! python3 -c 'import os,struct,sys; os.setxattr(sys.argv[1], "system.posix_acl_access", struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, p, 0xffffffff) for t, p in ((1, 6), (4, 4), (0x20, 4))))' "$TMP/acl-probe" 2>/dev/null; then
	echo "1..0 # SKIP $TMP keeps no POSIX ACLs"
	exit 0
fi

python3 - "$TMP/spec.json" <<'PY'
import json, struct, sys
def acl(*entries):  # the kernel's xattr form: version 2, then (tag, perm, id)
    b = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, p, i) for t, p, i in entries)
    return b.decode("utf-8", "surrogateescape")
OBJ = 0xffffffff
default = acl((1, 7, OBJ), (2, 7, 1000), (4, 5, OBJ), (0x10, 7, OBJ), (0x20, 5, OBJ))
access = acl((1, 6, OBJ), (2, 6, 2000), (4, 4, OBJ), (0x10, 6, OBJ), (0x20, 4, OBJ))
spec = {"ref": "t", "layers": [
    [{"p": "d/", "t": "d", "mode": 0o755, "x": {"system.posix_acl_default": default}},
     {"p": "d/f", "c": "hello", "mode": 0o644},
     {"p": "d/sub/", "t": "d", "mode": 0o755},
     {"p": "d/p", "t": "p", "mode": 0o644},
     {"p": "d/acl", "c": "mine", "mode": 0o664, "x": {"system.posix_acl_access": access}},
     {"p": "d/keep/", "t": "d", "mode": 0o755, "x": {"system.posix_acl_default": default}},
     {"p": "g/", "t": "d", "mode": 0o2775, "gid": 1234},
     {"p": "u/", "t": "d", "mode": 0o777},
     {"p": "u/f", "c": "u", "mode": 0o666},
     {"p": "u/p", "t": "p", "mode": 0o666}],
    [{"p": "d/f2", "c": "two", "mode": 0o644},
     {"p": "d/sub2/", "t": "d", "mode": 0o700},
     {"p": "d/sub2/f", "c": "deep", "mode": 0o600},
     {"p": "d/p2", "t": "p", "mode": 0o600},
     {"p": "g/sub/", "t": "d", "mode": 0o755, "gid": 0},
     {"p": "g/sub/f", "c": "f", "mode": 0o644, "gid": 0},
     {"p": "g/f", "c": "f", "mode": 0o644, "gid": 0},
     {"p": "g/p", "t": "p", "mode": 0o644, "gid": 0}]]}
json.dump(spec, open(sys.argv[1], "w"))
PY
python3 "$LIB" build "$TMP/img" "$TMP/spec.json" >/dev/null || fail "build the image"

run sh -c 'umask 077 && exec oci-unpack "$1" "$2"' sh "$TMP/img:t" "$TMP/b"
is "$status" 0 "unpack under umask 077"
R=$TMP/b/rootfs

acls() { # PATH: the POSIX ACL xattrs on it, by name
	python3 -c 'import os,sys; print(",".join(sorted(x for x in os.listxattr(sys.argv[1], follow_symlinks=False) if x.startswith("system.posix_acl"))))' "$1"
}
for p in d/f d/sub d/p d/f2 d/sub2 d/sub2/f d/p2; do
	is "$(acls "$R/$p")" "" "$p: no ACL the layer did not give (none inherited from d's default)"
done
is "$(acls "$R/d")" system.posix_acl_default "d: the default ACL the layer gave"
is "$(acls "$R/d/acl")" system.posix_acl_access "d/acl: the access ACL the layer gave"
is "$(acls "$R/d/keep")" system.posix_acl_default "d/keep: its own default ACL"
is "$(getfattr -h --only-values -n system.posix_acl_default "$R/d/keep" | od -An -tx1 | tr -d ' \n')" \
	"$(getfattr -h --only-values -n system.posix_acl_default "$R/d" | od -An -tx1 | tr -d ' \n')" \
	"d/keep: the default ACL's bytes as given"

modes() { (cd "$R" && for p in "$@"; do stat -c '%n %a %u:%g' "$p"; done); }
is "$(modes d d/f d/sub d/p d/acl d/f2 d/sub2 d/sub2/f d/p2 u u/f u/p)" "d 755 0:0
d/f 644 0:0
d/sub 755 0:0
d/p 644 0:0
d/acl 664 0:0
d/f2 644 0:0
d/sub2 700 0:0
d/sub2/f 600 0:0
d/p2 600 0:0
u 777 0:0
u/f 666 0:0
u/p 666 0:0" "modes exactly the layers' (no umask, no ACL mask)"
is "$(modes g g/sub g/sub/f g/f g/p)" "g 2775 0:1234
g/sub 755 0:0
g/sub/f 644 0:0
g/f 644 0:0
g/p 644 0:0" "nothing inherited from the setgid directory g: no group, no setgid bit"

expect 0 "oci-diff BUNDLE: no differences right after unpack" oci-diff "$TMP/b"
is "$(out)" "" "oci-diff BUNDLE: nothing listed"

# a squashed commit holds only what the layers gave: the same tree again
expect 0 "commit --squash" oci-commit --squash "$TMP/b" "$TMP/sq:s"
expect 0 "unpack the squashed image" oci-unpack "$TMP/sq:s" "$TMP/b2"
python3 "$LIB" tree "$TMP/b/rootfs" "$TMP/t1" "$TMP/b2/rootfs" "$TMP/t2" >/dev/null
if diff "$TMP/t1" "$TMP/t2" >"$TMP/d"; then pass "the squashed image unpacks to the same tree"; else fail "the squashed image unpacks to the same tree" "$(cat "$TMP/d")"; fi
run oci-inspect --files "$TMP/sq:s"
is "$(grep -c 'posix_acl_access' "$TMP/out")" "$(run oci-inspect --files "$TMP/img:t"; grep -c 'posix_acl_access' "$TMP/out")" "the squashed layer has no more access ACLs than the layers"
expect 0 "oci-diff IMAGE IMAGE: the squashed image equals the original" oci-diff "$TMP/img:t" "$TMP/sq:s"

done_testing
