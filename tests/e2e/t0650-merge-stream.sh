#!/usr/bin/env bash
# The merged view (oci-unpack IMAGE -, oci-inspect --files --merged, oci-diff
# IMAGE IMAGE) is the tree oci-unpack IMAGE B makes, in the cases an adversarial
# review found different: a hard-link group whose head a later layer deletes; a
# hard link then a symlink of one name; entries below a symlink the same layer
# made; a whiteout of a directory that keeps the layer's own children.
. "$(dirname "$0")/test-lib.sh"
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
umask 022
START=$(date +%s)
OUTSIDE=$TMP/outside
mkdir -p "$OUTSIDE"

python3 - "$TMP" "$OUTSIDE" <<'PY'
import json, sys
tmp, outside = sys.argv[1], sys.argv[2]
specs = {
    "head": [["x/", "x/f=1", "x/g=>x/f", "x/h=>x/g"], ["x/.wh.f"]],
    "hlsym": [["f=1", "g=>f", "g->f", "h=>g"]],
    "hlsym2": [["f=1", "g=>f"], ["g->/etc"]],
    "below": [["host/dir/", "d->/host/dir", "d/pwned=p"]],
    "below-out": [["d->" + outside, "d/pwned=p"]],
    "whdir": [[{"p": "d/", "t": "d", "mode": 0o700, "mtime": 1000}, "d/old=o"],
              ["d/new=n", ".wh.d"]],
    "opq": [["d/", "d/old=o", "d/keep/", "d/keep/k=k"], ["d/keep/new=n", "d/.wh..wh..opq"]],
    "rootopq": [["a=1", ".wh..wh..opq"], ["b=2"], [".wh..wh..opq", "c=3"]],
}
for name, layers in specs.items():
    json.dump({"ref": "t", "layers": layers}, open("%s/%s.json" % (tmp, name), "w"))
PY
for n in head hlsym hlsym2 below below-out whdir opq rootopq; do
	python3 "$LIB" build "$TMP/$n" "$TMP/$n.json" >/dev/null || { echo "Bail out! lib-layers.py build failed"; exit 1; }
done

# stream NAME: oci-unpack IMAGE B, the stream, its listing, GNU tar -x of it,
# and the two trees compared
stream() {
	local n=$1
	oci-unpack -q "$TMP/$n:t" "$TMP/$n.b"
	oci-unpack "$TMP/$n:t" - >"$TMP/$n.tar" 2>"$TMP/$n.err"
	is "$?" 0 "$n: oci-unpack IMAGE - exits 0"
	tar tvf "$TMP/$n.tar" 2>/dev/null | awk '{ $2 = $3 = $4 = $5 = ""; print }' | tr -s ' ' | sed 's#/$##' >"$TMP/$n.list"
	mkdir "$TMP/$n.x"
	tar -x -C "$TMP/$n.x" -f "$TMP/$n.tar" --numeric-owner --same-owner -p 2>/dev/null
	is "$?" 0 "$n: GNU tar extracts the stream"
	python3 "$LIB" tree --mtime "$TMP/$n.b/rootfs" "$TMP/$n.want" "$TMP/$n.x" "$TMP/$n.got"
	# a directory made as a parent (no entry gave it) has the time oci-unpack made it
	awk -v s="$START" 'NR == FNR { if ($2 == "dir" && substr($NF, 7) + 0 >= s) now[$1] = 1; next }
		($1 in now) { sub(/ mtime=[0-9]+$/, "") } { print > (FILENAME ".cmp") }' \
		"$TMP/$n.want" "$TMP/$n.want" "$TMP/$n.got"
	if diff -u "$TMP/$n.want.cmp" "$TMP/$n.got.cmp" >"$TMP/d"; then pass "$n: the extracted stream = oci-unpack's rootfs"; else fail "$n: the extracted stream = oci-unpack's rootfs" "$(cat "$TMP/d")"; fi
	run oci-inspect --files --merged "$TMP/$n:t"
	is "$(awk '{ print $6 }' "$TMP/out" | sed 's#^/##; s#/$##' | sort)" "$(cd "$TMP/$n.b/rootfs" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort)" \
		"$n: --merged lists oci-unpack's rootfs paths"
}
has() { # has NAME LINE TEST: the stream's listing holds LINE ("TYPE NAME [-> T | link to T]")
	if grep -qxF -- "$2" "$TMP/$1.list"; then pass "$3"; else fail "$3" "$(cat "$TMP/$1.list")"; fi
}
hasnt() {
	if grep -qE -- "$2" "$TMP/$1.list"; then fail "$3" "$(cat "$TMP/$1.list")"; else pass "$3"; fi
}

# a hard-link chain whose head goes: the next name carries the data
stream head
has head "-rw-r--r-- x/g" "head: x/g, the first name left, is the file with the data"
has head "hrw-r--r-- x/h link to x/g" "head: x/h is a hard link to x/g (not to the deleted x/f)"
hasnt head ' x/f( |$)' "head: x/f is not in the stream, as no link names it"
is "$(stat -c %i "$TMP/head.x/x/g")" "$(stat -c %i "$TMP/head.x/x/h")" "head: extracted, x/g and x/h are one inode"
is "$(cat "$TMP/head.x/x/h")" "1" "head: ... holding the data"

# a hard link, then a symlink of the same name: the symlink replaces the link
stream hlsym
has hlsym "lrwxrwxrwx g -> f" "hlsym: g is the symlink that replaced the hard link"
has hlsym "hrwxrwxrwx h link to g" "hlsym: h, a hard link to g made after, links the symlink (as linkat does on disk)"
has hlsym "-rw-r--r-- f" "hlsym: f is still a file"
stream hlsym2
has hlsym2 "lrwxrwxrwx g -> /etc" "hlsym2: a later layer's symlink g replaces the hard link"
has hlsym2 "-rw-r--r-- f" "hlsym2: f stays the file, alone"

# an entry below a symlink made by the same layer: where the disk unpack puts it
stream below
has below "-rw-r--r-- host/dir/pwned" "below: d/pwned is written where oci-unpack put it: host/dir/pwned"
hasnt below '^[^ ]+ d/' "below: nothing below the symlink d in the stream"
expect_fail "below-out: a symlink out of the root and an entry below it: oci-unpack IMAGE - refuses (exit 2, one line)" oci-unpack "$TMP/below-out:t" -
is "$(wc -c <"$TMP/out")" 0 "below-out: ... writing no byte of a stream"
cp "$TMP/err" "$TMP/below-out.err"
run oci-unpack -q "$TMP/below-out:t" "$TMP/below-out.b"
is "$(cat "$TMP/below-out.err")" "$(err)" "below-out: ... with oci-unpack IMAGE B's error"
is "$(find "$OUTSIDE" -mindepth 1 | wc -l)" 0 "below-out: nothing written outside"

# a whiteout of a directory that keeps this layer's own children
stream whdir
has whdir "drwx------ d" "whdir: d is in the stream with its lower layer's mode (the whiteout kept it for d/new)"
has whdir "-rw-r--r-- d/new" "whdir: d/new, this layer's, is kept"
hasnt whdir ' d/old$' "whdir: d/old, the lower layer's, is gone"
is "$(stat -c '%a %Y' "$TMP/whdir.x/d")" "700 1000" "whdir: extracted, d has its mode and mtime"
stream opq
has opq "drwxr-xr-x d/keep" "opq: d/keep, holding this layer's d/keep/new, is kept by the opaque whiteout"
hasnt opq ' d/(old|keep/k)$' "opq: the lower layer's d/old and d/keep/k are gone"

# an opaque whiteout of the root after another one (found by t0651: the disk
# unpack read the root through a dup of its fd, whose offset the first left at
# the end, so the second removed nothing and the record was empty)
stream rootopq
is "$(cd "$TMP/rootopq.b/rootfs" && ls)" "c" "rootopq: oci-unpack: the second opaque whiteout of the root hides a and b"
is "$(cut -d' ' -f2 "$TMP/rootopq.list")" "c" "rootopq: the stream holds c alone"
expect 0 "rootopq: oci-diff of the fresh bundle: no change (the record holds the tree)" oci-diff "$TMP/rootopq.b"

# oci-diff between an image and its stream committed as a layer: no change in the tree
for n in head hlsym below whdir opq; do
	oci-commit -q --compression none --layer "$TMP/$n.tar" "$TMP/$n.c:t" >/dev/null 2>&1
	run oci-diff "$TMP/$n:t" "$TMP/$n.c:t"
	is "$(grep -E '^[ACD] /' "$TMP/out")" "" "$n: oci-diff IMAGE (its stream committed): no change in the tree"
done

done_testing
