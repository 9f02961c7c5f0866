#!/usr/bin/env bash
# oci-diff --tar IMAGE_A IMAGE_B: the changeset between two images as a layer
# with B's content (read from B's layers, lower ones too), which applied over
# A gives B's tree: by oci-unpack, by the merge model (oci-diff AB B finds
# nothing) and by umoci.
. "$(dirname "$0")/test-lib.sh"
. "$OCI_SOURCE_DIR/tests/e2e/lib-interop.sh"
umask 022

# A: base, then etc/b overwritten. B: the same base, then content changed,
# mode-only change, deletions (a file, a directory), a directory replaced by
# a file and a file by a directory, new files, a hard link pair, a symlink,
# an xattr, and etc/b as the base had it (its content from B's lower layer).
python3 - "$TMP" <<'PY'
import json, sys
t = sys.argv[1]
base = ["etc/", {"p": "etc/a", "t": "f", "c": "A1"}, {"p": "etc/b", "t": "f", "c": "B1\n" * 5000},
        {"p": "keep", "t": "f", "c": "same"}, {"p": "gone", "t": "f", "c": "bye"},
        "olddir/", {"p": "olddir/x", "t": "f", "c": "x"}, {"p": "olddir/y", "t": "f", "c": "y"},
        "d2f/", {"p": "d2f/in", "t": "f", "c": "in"}, {"p": "f2d", "t": "f", "c": "file"},
        {"p": "mode", "t": "f", "c": "m" * 300, "mode": 0o644}, "link->keep",
        {"p": "big", "t": "f", "c": "z" * 200000}]
a = {"layers": [base, [{"p": "etc/b", "t": "f", "c": "B2"}]]}
b = {"layers": [base, [{"p": "etc/a", "t": "f", "c": "A2 changed"}, ".wh.gone", ".wh.olddir",
                       {"p": "d2f", "t": "f", "c": "now a file"},
                       {"p": "f2d", "t": "d", "mode": 0o750}, {"p": "f2d/in", "t": "f", "c": "inside"},
                       {"p": "mode", "t": "f", "c": "m" * 300, "mode": 0o755},
                       "new/", {"p": "new/h1", "t": "f", "c": "linked"}, "new/h2=>new/h1",
                       "new/l->../etc/a",
                       {"p": "new/x", "t": "f", "c": "xattr", "x": {"user.note": "v"}}],
                [{"p": "new/late", "t": "f", "c": "from layer 3", "mtime": 1700000100}]]}
json.dump(a, open(t + "/a.json", "w"))
json.dump(b, open(t + "/b.json", "w"))
PY
python3 "$LIB" build "$TMP/A" "$TMP/a.json" "$TMP/B" "$TMP/b.json" >/dev/null || { echo "Bail out! build failed"; exit 1; }

run sh -c 'oci-diff -q --tar "$1" "$2" >"$3"' sh "$TMP/A:t" "$TMP/B:t" "$TMP/d.tar"
is "$status" 0 "--tar A B: exit 0, the layer written (a stream tool)"
is "$(wc -c <"$TMP/err")" 0 "--tar A B -q: nothing on stderr"
tar tf "$TMP/d.tar" | sort >"$TMP/names"
is "$(tr '\n' ' ' <"$TMP/names")" \
	".wh.gone .wh.olddir d2f etc/ etc/a etc/b f2d/ f2d/in mode new/ new/h1 new/h2 new/l new/late new/x " \
	"the layer holds the changes, whiteouts for the deletions"
is "$(tar xOf "$TMP/d.tar" etc/b | sha256sum | cut -c1-16)" "$(python3 -c 'import hashlib; print(hashlib.sha256(b"B1\n" * 5000).hexdigest()[:16])')" "etc/b carries B's content from B's lower layer"
is "$(tar xOf "$TMP/d.tar" new/late)" "from layer 3" "new/late carries B's top layer content"
is "$(tar tvf "$TMP/d.tar" new/h2 | grep -c 'link to new/h1')" 1 "the hard link pair stays a pair"
python3 "$LIB" tarorder < <(tar tf "$TMP/d.tar") >"$TMP/order" 2>&1
is "$?" 0 "entries sorted, whiteouts before their siblings $(cat "$TMP/order")"

# applied over A: a new image AB
step "oci-commit --layer d.tar --from A" oci-commit -q --compression none --layer "$TMP/d.tar" \
	--from "$TMP/A:t" "$TMP/AB:t"
expect 0 "oci-diff AB B: no differences (the merge model agrees)" oci-diff "$TMP/AB:t" "$TMP/B:t"
is "$(out)" "" "oci-diff AB B prints nothing"
expect 0 "oci-unpack AB" oci-unpack --rootfs "$TMP/AB:t" "$TMP/ab-root"
expect 0 "oci-unpack B" oci-unpack --rootfs "$TMP/B:t" "$TMP/b-root"
tree_of "$TMP/ab-root" "$TMP/ab.tree" --brief
tree_of "$TMP/b-root" "$TMP/b.tree" --brief
if diff -u "$TMP/b.tree" "$TMP/ab.tree" >"$TMP/diff"; then
	pass "oci-unpack: A + the layer gives B's tree"
else
	fail "oci-unpack: A + the layer gives B's tree" "$(cat "$TMP/diff")"
fi
# modes, owners, links and xattrs too (directory times aside: unpacking
# sets them where it writes)
python3 "$LIB" tree "$TMP/ab-root" | grep -v '^d' >"$TMP/ab.full"
python3 "$LIB" tree "$TMP/b-root" | grep -v '^d' >"$TMP/b.full"
if diff -u "$TMP/b.full" "$TMP/ab.full" >"$TMP/diff"; then
	pass "oci-unpack: modes, owners, link targets and xattrs are B's"
else
	fail "oci-unpack: modes, owners, link targets and xattrs are B's" "$(cat "$TMP/diff")"
fi

if have umoci; then
	if oracle "$TMP/AB" t "$TMP/ab.umoci" && oracle "$TMP/B" t "$TMP/b.umoci"; then
		grep -v '^d' "$TMP/ab.umoci" >"$TMP/ab.u"
		grep -v '^d' "$TMP/b.umoci" >"$TMP/b.u"
		if diff -u "$TMP/b.u" "$TMP/ab.u" >"$TMP/diff"; then
			pass "umoci: A + the layer gives B's tree"
		else
			fail "umoci: A + the layer gives B's tree" "$(cat "$TMP/diff")"
		fi
	else
		fail "umoci: A + the layer gives B's tree" "umoci unpack failed: $(tail -3 "$TMP/umoci.log")"
	fi
else
	skip "umoci not installed"
fi

# compressed, the same layer
run sh -c 'oci-diff -q --tar --compress gzip "$1" "$2" | gzip -dc | cmp - "$3"' sh "$TMP/A:t" "$TMP/B:t" "$TMP/d.tar"
is "$status" 0 "--compress gzip: the same tar, compressed"
# B from an oci-archive on stdin: the same layer
python3 - "$TMP/b.json" "$TMP/B.oar" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); s["oci_archive"] = sys.argv[2]; json.dump(s, open(sys.argv[1], "w"))
PY
python3 "$LIB" build "$TMP/B2" "$TMP/b.json" >/dev/null
run sh -c 'oci-diff -q --tar "$1" - <"$2" | cmp - "$3"' sh "$TMP/A:t" "$TMP/B.oar" "$TMP/d.tar"
is "$status" 0 "B as an oci-archive on stdin: the same layer"

# no differences: an empty layer, exit 0
run sh -c 'oci-diff -q --tar "$1" "$1" >"$2"' sh "$TMP/B:t" "$TMP/same.tar"
is "$status" 0 "--tar B B: exit 0"
is "$(tar tf "$TMP/same.tar" | wc -l)" 0 "--tar B B: a layer with no entries"

# nothing of the content spool is left behind in TMPDIR
mkdir -p "$TMP/spool"
TMPDIR=$TMP/spool oci-diff -q --tar "$TMP/A:t" "$TMP/B:t" >/dev/null 2>&1
is "$(ls -A "$TMP/spool" | wc -l)" 0 "the content spool leaves nothing in TMPDIR"

done_testing
