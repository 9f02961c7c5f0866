#!/usr/bin/env bash
# oci-diff BUNDLE: a fresh bundle has no changes; then each kind of change
# alone in a fresh bundle (exact A/C/D lines, --json fields and before/after),
# then all of them together; usage errors; a 5000-file bundle with one change.
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'; return 0; }
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py

# fresh NAME: a new bundle of multi:v1 at $TMP/NAME; sets B and R (its rootfs)
fresh() {
	B=$TMP/$1
	R=$B/rootfs
	rm -rf "$B"
	oci-unpack -q "$TD/multi:v1" "$B" || { echo "Bail out! oci-unpack failed"; exit 1; }
}

# diff_is STATUS EXPECTED NAME [OPTION]...: oci-diff OPTIONS $B exits STATUS
# and prints exactly EXPECTED (lines)
diff_is() {
	local want=$1 exp=$2 name=$3
	shift 3
	run oci-diff "$@" "$B"
	if [ "$status" -ne "$want" ]; then
		fail "$name" "exit $status, want $want; stderr: $(head -c 300 "$TMP/err")"
	elif [ "$(out)" != "$exp" ]; then
		fail "$name" "$(diff <(printf '%s\n' "$exp") "$TMP/out")"
	else
		pass "$name"
	fi
}

# json_is FILTER WANT NAME: jq -c FILTER over oci-diff --json --ignore-mtime $B
json_is() {
	local got
	got=$(oci-diff --json --ignore-mtime "$B" 2>/dev/null | jq -c "$1" 2>&1)
	is "$got" "$2" "$3"
}
# fields PATH: the kind and the fields of PATH's change, as "kind:f1,f2"
fields() {
	oci-diff --json "${2:---ignore-mtime}" "$B" 2>/dev/null |
		jq -r --arg p "$1" '.changes[] | select(.path == $p) | "\(.kind):\(.fields | join(","))"'
}

# ---- usage ----
expect 0 "--help exits 0" oci-diff --help
like '^Usage: oci-diff ' "--help prints usage on stdout"
for o in --json --tar --compress --ignore-mtime; do like -- "$o" "--help mentions $o"; done
expect_fail "no argument: exit 2, one line" oci-diff
expect_fail "three arguments: exit 2, one line" oci-diff a b c
mkdir "$TMP/plain"
expect_fail "a directory without a record: exit 2, one line" oci-diff "$TMP/plain"
err_like 'plain' "the message names the directory"
expect_fail "a missing bundle: exit 2, one line" oci-diff "$TMP/nothere"
err_like 'nothere' "the message names the missing path"

# ---- a fresh bundle: no differences ----
fresh clean
diff_is 0 "" "fresh bundle: exit 0, no output"
diff_is 0 "" "fresh bundle, --ignore-mtime: exit 0, no output" --ignore-mtime
is "$(wc -c <"$TMP/err")" 0 "fresh bundle: nothing on stderr"
expect 0 "fresh bundle --json: exit 0" oci-diff --json "$B"
is "$(jq -c '[.count, (.changes | length)]' "$TMP/out")" "[0,0]" "fresh bundle --json: no changes"
expect 0 "oci-diff -q on a fresh bundle: exit 0" oci-diff -q "$B"

# ---- content, size changed ----
fresh size
echo more >>"$R/etc/passwd"
diff_is 1 "C /etc/passwd" "content+size: exactly C /etc/passwd"
diff_is 1 "C /etc/passwd" "content+size, --ignore-mtime: the same line" --ignore-mtime
is "$(fields /etc/passwd --)" "changed:size,content,mtime" "content+size: fields size, content, mtime"
is "$(fields /etc/passwd)" "changed:size,content" "content+size, --ignore-mtime: fields size, content"
json_is '.changes[0] | [.before.size, .after.size, .before.type, .after.type]' '[65,70,"file","file"]' \
	"content+size: before/after sizes 65 and 70"
json_is '.changes[0].before.digest' '"sha256:1f6bddd4e5987e2464ddde2ddfe6ba91a50c94e4400db441c41877dae4def504"' \
	"content+size: before carries the recorded digest"

# ---- content, same size ----
fresh samesize
printf 'HELLO\n' >"$R/etc/hostname" # "again\n" before: 6 bytes too
diff_is 1 "C /etc/hostname" "content, same size: C /etc/hostname"
is "$(fields /etc/hostname)" "changed:content" "content, same size: the field is content alone"
json_is '.changes[0] | [.before.size == .after.size, .before.digest != .after.digest, .after.digest]' \
	"[true,true,\"sha256:$(printf 'HELLO\n' | sha256sum | cut -d' ' -f1)\"]" \
	"content, same size: before/after digests differ, after's is the new content's"
# the same, with the old mtime put back: the ctime still says it changed
fresh samemtime
printf 'HELLO\n' >"$R/etc/hostname"
touch -d @1700000000 "$R/etc/hostname"
diff_is 1 "C /etc/hostname" "content, same size, mtime restored: still C /etc/hostname"
is "$(fields /etc/hostname --)" "changed:content" "content, same size, mtime restored: the field is content"

# ---- mode ----
fresh chmod
chmod 0600 "$R/etc/group"
diff_is 1 "C /etc/group" "chmod: C /etc/group (no mtime change)"
is "$(fields /etc/group --)" "changed:mode" "chmod: the field is mode"
json_is '.changes[0] | [.before.mode, .after.mode]' '[420,384]' "chmod: modes before and after"
fresh chmod-suid
chmod u-s "$R/bin/tool"
diff_is 1 $'C /bin/tool\nC /bin/tool2' "chmod of a hard-linked file: both names are C"
json_is '[.changes[].after.mode]' '[493,493]' "chmod u-s: both now 0755"

# ---- owner ----
fresh chown
chown 1234:5678 "$R/etc/passwd"
diff_is 1 "C /etc/passwd" "chown: C /etc/passwd"
is "$(fields /etc/passwd --)" "changed:owner" "chown: the field is owner"
json_is '.changes[0] | [.before.uid, .before.gid, .after.uid, .after.gid]' '[0,0,1234,5678]' "chown: uid/gid before and after"
fresh chgrp
chgrp 7 "$R/home/app/notes.txt"
is "$(fields /home/app/notes.txt --)" "changed:owner" "chgrp alone: the field is owner"

# ---- xattrs ----
fresh xattr-add
if setfattr -n user.x -v hello "$R/etc/passwd" 2>/dev/null; then
	diff_is 1 "C /etc/passwd" "xattr added: C /etc/passwd"
	is "$(fields /etc/passwd --)" "changed:xattrs" "xattr added: the field is xattrs"
	json_is '.changes[0] | [.before.xattrs["user.x"], (.after.xattrs["user.x"] | IN("hello", "68656c6c6f"))]' \
		'[null,true]' "xattr added: after.xattrs has user.x=hello, before has none"
	fresh xattr-del
	setfattr -x user.test "$R/etc/xattr-file"
	diff_is 1 "C /etc/xattr-file" "xattr removed: C /etc/xattr-file"
	is "$(fields /etc/xattr-file --)" "changed:xattrs" "xattr removed: the field is xattrs"
	json_is '.changes[0] | [(.before.xattrs["user.test"] | IN("hello", "68656c6c6f")), .after.xattrs["user.test"]]' \
		'[true,null]' "xattr removed: before has user.test, after has not"
	fresh xattr-mod
	setfattr -n user.test -v HELLO "$R/etc/xattr-file"
	is "$(fields /etc/xattr-file --)" "changed:xattrs" "xattr value changed: the field is xattrs"
else
	for i in 1 2 3 4 5 6 7; do pass "# SKIP user xattrs not supported here"; done
fi

# ---- mtime alone ----
fresh mtime
touch -d @1600000000 "$R/srv/data/x.txt"
diff_is 1 "C /srv/data/x.txt" "touch -d: C /srv/data/x.txt without --ignore-mtime"
is "$(fields /srv/data/x.txt --)" "changed:mtime" "touch -d: the field is mtime"
json_is '.changes' '[]' "touch -d: nothing with --ignore-mtime (json)"
diff_is 0 "" "touch -d, --ignore-mtime: exit 0, no output" --ignore-mtime
run oci-diff --json "$B"
is "$(jq -c '.changes[0] | [.before.mtime, .after.mtime]' "$TMP/out")" "[1700000000,1600000000]" "touch -d: mtimes before and after"
fresh mtime-dir
touch -d @1600000000 "$R/usr/lib"
diff_is 1 "C /usr/lib" "touch -d of a directory: C /usr/lib"
diff_is 0 "" "touch -d of a directory, --ignore-mtime: nothing" --ignore-mtime

# ---- type changes ----
fresh f2d
rm "$R/etc/group" && mkdir "$R/etc/group"
diff_is 1 "C /etc/group" "file->dir: C /etc/group" --ignore-mtime
diff_is 1 $'C /etc\nC /etc/group' "file->dir without --ignore-mtime: the parent /etc too"
is "$(fields /etc/group)" "changed:type" "file->dir: the field is type"
json_is '.changes[0] | [.before.type, .after.type]' '["file","dir"]' "file->dir: types before and after"
echo in >"$R/etc/group/in"
diff_is 1 $'C /etc/group\nA /etc/group/in' "file->dir with a child: C the dir, A the child" --ignore-mtime

fresh d2f
rm -rf "$R/etc/conf.d" && echo z >"$R/etc/conf.d"
diff_is 1 "C /etc/conf.d" "dir->file: C /etc/conf.d, its old contents not listed" --ignore-mtime
is "$(fields /etc/conf.d)" "changed:type" "dir->file: the field is type"
json_is '.changes[0] | [.before.type, .after.type, .after.size]' '["dir","file",2]' "dir->file: types before and after"

fresh f2l
rm "$R/etc/group" && ln -s passwd "$R/etc/group"
diff_is 1 "C /etc/group" "file->symlink: C /etc/group" --ignore-mtime
json_is '.changes[0] | [.fields, .after.type, .after.linkname]' '[["type"],"symlink","passwd"]' "file->symlink: type, the new link"

# ---- symlink retargeted ----
fresh symlink
ln -sfn libx.so.2 "$R/usr/lib/libx.so"
diff_is 1 "C /usr/lib/libx.so" "symlink retargeted: C /usr/lib/libx.so" --ignore-mtime
is "$(fields /usr/lib/libx.so)" "changed:link" "symlink retargeted: the field is link"
json_is '.changes[0] | [.before.linkname, .after.linkname]' '["libx.so.1","libx.so.2"]' "symlink: targets before and after"
diff_is 1 $'C /usr/lib\nC /usr/lib/libx.so' "symlink retargeted without --ignore-mtime: the parent too"

# ---- hard links ----
fresh hl-add
ln "$R/etc/passwd" "$R/etc/passwd2"
diff_is 1 "A /etc/passwd2" "hard link added: A /etc/passwd2 (the old name is unchanged)" --ignore-mtime
diff_is 1 $'C /etc\nA /etc/passwd2' "hard link added without --ignore-mtime: C /etc too"
json_is '.changes[0] | [.kind, .before, .after.type, .after.size]' '["added",null,"file",65]' "hard link added: after is a 65-byte file"

fresh hl-break
rm "$R/bin/tool2" && printf 'other\n' >"$R/bin/tool2" && chmod 4755 "$R/bin/tool2"
diff_is 1 "C /bin/tool2" "hard link broken (new content): C /bin/tool2 only" --ignore-mtime
f=$(fields /bin/tool2)
if [[ $f =~ ^changed:size,content(,link)?$ ]]; then pass "hard link broken: fields size, content (and link)"; else fail "hard link broken: fields size, content (and link)" "$f"; fi

# the same, the new file a copy with the same content, mode and mtime: the
# link is gone all the same (a layer from this diff would keep it)
fresh hl-copy
rm "$R/bin/tool2" && cp -p "$R/bin/tool" "$R/bin/tool2"
run oci-diff --ignore-mtime "$B"
if [ "$status" -eq 1 ] && grep -qx 'C /bin/tool2' "$TMP/out"; then
	pass "hard link broken by an identical copy: C /bin/tool2"
else
	fail "hard link broken by an identical copy: C /bin/tool2" "exit $status; stdout: $(out)"
fi

# ---- directories deleted and replaced ----
fresh rmdir
rm -rf "$R/etc/conf.d"
diff_is 1 "D /etc/conf.d" "directory deleted: D once, not its contents" --ignore-mtime
rm -rf "$R/home"
diff_is 1 $'D /etc/conf.d\nD /home' "a nested directory deleted: D /home once" --ignore-mtime
diff_is 1 $'C /\nC /etc\nD /etc/conf.d\nD /home' "without --ignore-mtime: the parents too"
json_is '[.changes[] | [.path, .kind, .after]]' '[["/etc/conf.d","deleted",null],["/home","deleted",null]]' \
	"directory deleted: json kind deleted, after null"

# replaced: the new directory made before the old one is gone (a new inode)
fresh replace
mv "$R/etc/conf.d" "$R/etc/conf.d.old" && mkdir "$R/etc/conf.d" && rm -rf "$R/etc/conf.d.old"
diff_is 1 $'C /etc/conf.d\nD /etc/conf.d/c.conf' "directory replaced: C the dir, D its old child" --ignore-mtime
is "$(fields /etc/conf.d)" "changed:replaced" "directory replaced: the field is replaced"
is "$(fields /etc/conf.d --)" "changed:mtime,replaced" "directory replaced: mtime and replaced"
# rm -rf then mkdir (the inode number may well be reused): still a correct diff
fresh replace2
rm -rf "$R/etc/conf.d" && mkdir "$R/etc/conf.d"
run oci-diff --ignore-mtime "$B"
if [ "$status" -eq 1 ] && grep -qx 'D /etc/conf.d/c.conf' "$TMP/out" && ! grep -qv '^[CD] /etc/conf.d' "$TMP/out"; then
	pass "rm -rf + mkdir: D of the old child (and at most C of the dir)"
else
	fail "rm -rf + mkdir: D of the old child (and at most C of the dir)" "exit $status; $(out)"
fi

# ---- a deep new tree ----
fresh deep
mkdir -p "$R/n/a/b/c/d"
echo 1 >"$R/n/a/1"
echo 2 >"$R/n/a/b/c/d/2"
ln -s ../1 "$R/n/a/b/l"
mkdir "$R/n/a/b/e"
diff_is 1 "$(printf 'A /n\nA /n/a\nA /n/a/1\nA /n/a/b\nA /n/a/b/c\nA /n/a/b/c/d\nA /n/a/b/c/d/2\nA /n/a/b/e\nA /n/a/b/l')" \
	"deep new tree: every entry A, sorted" --ignore-mtime
json_is '[.changes[] | select(.kind != "added" or .before != null)] | length' '0' "deep new tree: all added, before null"
json_is '[.changes[] | .after.type] | unique' '["dir","file","symlink"]' "deep new tree: after types"

# ---- a FIFO and a character device ----
fresh special
mkfifo "$R/tmp/pipe2"
mknod "$R/tmp/null" c 1 3
diff_is 1 $'A /tmp/null\nA /tmp/pipe2' "FIFO and char device added: A both" --ignore-mtime
json_is '[.changes[].after | [.type, (if .devmajor then "\(.devmajor):\(.devminor)" else null end)]]' '[["char","1:3"],["fifo",null]]' "FIFO and char device: types, device 1:3"
rm "$R/tmp/fifo" && mknod "$R/tmp/fifo" c 1 5
json_is '[.changes[] | select(.path == "/tmp/fifo") | .fields, .before.type, .after.type, "\(.after.devmajor):\(.after.devminor)"]' \
	'[["type"],"fifo","char","1:5"]' "FIFO replaced by a char device: type changed"

# ---- everything at once ----
fresh mixed
echo more >>"$R/etc/passwd"
printf 'HELLO\n' >"$R/etc/hostname"
chmod 0600 "$R/etc/group"
chown 1000:1000 "$R/usr/lib/libx.so.1"
setfattr -n user.x -v 1 "$R/opt/new.txt" 2>/dev/null || chmod 0640 "$R/opt/new.txt"
touch -d @1600000000 "$R/srv/data/x.txt"
rm -rf "$R/etc/conf.d" && echo z >"$R/etc/conf.d"
ln -sfn elsewhere "$R/usr/lib/libx.so"
ln "$R/etc/passwd" "$R/etc/pw-link"
rm -rf "$R/home"
mv "$R/var/cache" "$R/var/old" && mkdir "$R/var/cache" && rm -rf "$R/var/old"
mkdir -p "$R/new/deep/er" && echo x >"$R/new/deep/er/f"
mkfifo "$R/new/p"
mknod "$R/new/c" c 1 3
rm "$R/bin/tool2" && echo other >"$R/bin/tool2"
cat >"$TMP/mixed.exp" <<'EOF'
C /bin/tool2
C /etc/conf.d
C /etc/group
C /etc/hostname
C /etc/passwd
A /etc/pw-link
D /home
A /new
A /new/c
A /new/deep
A /new/deep/er
A /new/deep/er/f
A /new/p
C /opt/new.txt
C /usr/lib/libx.so
C /usr/lib/libx.so.1
C /var/cache
D /var/cache/fresh.txt
EOF
diff_is 1 "$(cat "$TMP/mixed.exp")" "all changes at once, --ignore-mtime: the exact lines" --ignore-mtime
run oci-diff "$B"
# without --ignore-mtime: the same lines, plus the mtime-only file and the parent dirs
extra=$(grep -vxFf "$TMP/mixed.exp" "$TMP/out" | tr '\n' ' ')
is "$extra" "C / C /bin C /etc C /srv/data/x.txt C /usr/lib C /var " "all at once without --ignore-mtime: plus the touched file and changed parents"
is "$(grep -vxFf "$TMP/out" "$TMP/mixed.exp")" "" "all at once without --ignore-mtime: nothing missing"
run oci-diff --json "$B"
if jq -e . "$TMP/out" >/dev/null 2>&1; then pass "--json parses"; else fail "--json parses" "$(head -c 300 "$TMP/out")"; fi
is "$(jq '.count' "$TMP/out")" "$(oci-diff "$B" | wc -l)" "--json count equals the number of lines"
is "$(jq -r '.changes[] | "\(.kind[0:1] | ascii_upcase) \(.path)"' "$TMP/out")" "$(oci-diff "$B")" \
	"--json changes are the lines' kinds and paths, in the same order"
is "$(jq -c '[.changes[] | select(.kind == "added" and (.before != null or .after == null or .fields != []))] | length' "$TMP/out")" "0" \
	"--json: added entries have before null, an after object, no fields"
is "$(jq -c '[.changes[] | select(.kind == "deleted" and (.after != null or .before == null))] | length' "$TMP/out")" "0" \
	"--json: deleted entries have after null and a before object"
is "$(jq -c '[.changes[] | select(.kind == "changed" and (.before == null or .after == null or .fields == []))] | length' "$TMP/out")" "0" \
	"--json: changed entries have before, after and at least one field"
is "$(jq -c '[.changes[].fields[]] | unique' "$TMP/out")" \
	'["content","link","mode","mtime","owner","replaced","size","type","xattrs"]' "--json: every field name appears in the mix"
is "$(jq -r '.changes[] | select(.path == "/usr/lib/libx.so.1") | "\(.fields | join(",")) \(.after.uid):\(.after.gid)"' "$TMP/out")" \
	"owner 1000:1000" "--json: the chown'd file shows owner 1000:1000"

# ---- deleted directories next to names that sort between them and their
# contents ("d-x" and "d.y" sort after "d" but before "d/f") ----
W=$TMP/sib
mkdir -p "$W"
cat >"$TMP/sib.json" <<'EOF'
{"ref": "t", "layers": [["d/", "d/f=f", "d/sub/", "d/sub/g=g", "d-x/", "d-x/h=h", "d.y/", "d.y/i=i", "e/"]]}
EOF
python3 "$LIB" build "$W/img" "$TMP/sib.json" >/dev/null || { echo "Bail out! lib-layers.py build failed"; exit 1; }
oci-unpack -q "$W/img:t" "$W/b" || { echo "Bail out! unpack failed"; exit 1; }
B=$W/b
rm -rf "$B/rootfs/d" "$B/rootfs/d-x"
diff_is 1 $'D /d\nD /d-x' "two deleted directories, one's name a prefix of the other's: each D once, no contents" --ignore-mtime
rm -rf "$B/rootfs/d.y"
diff_is 1 $'D /d\nD /d-x\nD /d.y' "three deleted directories d, d-x, d.y: each D once" --ignore-mtime
oci-unpack -q "$W/img:t" "$W/b2" || { echo "Bail out! unpack failed"; exit 1; }
B=$W/b2
rm -rf "$B/rootfs/d" "$B/rootfs/d-x"
echo file >"$B/rootfs/d"
diff_is 1 $'C /d\nD /d-x' "d now a file, d-x deleted: C /d, D /d-x, d's old contents not listed" --ignore-mtime

# ---- a bundle moved elsewhere (cp -a keeps everything but inode numbers) ----
fresh tocopy
echo more >>"$R/etc/passwd"
mkdir "$R/opt/x"
oci-diff "$B" >"$TMP/orig.diff"
cp -a "$B" "$TMP/copied"
B=$TMP/copied
diff_is 1 "$(cat "$TMP/orig.diff")" "a bundle copied with cp -a: the same lines as the original"
run oci-diff --json "$B"
is "$(jq -c '[.changes[] | select(.fields | index("replaced"))] | length' "$TMP/out")" 0 \
	"a bundle copied with cp -a: no directory counts as replaced"

# ---- a large bundle, one change: exactly that change ----
W=$TMP/big
mkdir -p "$W"
cat >"$TMP/big.json" <<'EOF'
{"ref": "big", "layers": [{"entries": ["etc/", "etc/x=x"], "many": {"dir": "data", "count": 5000, "size": 64}}]}
EOF
python3 "$LIB" build "$W/img" "$TMP/big.json" >/dev/null || { echo "Bail out! lib-layers.py build failed"; exit 1; }
oci-unpack -q "$W/img:big" "$W/b" || { echo "Bail out! unpack of the 5000-file image failed"; exit 1; }
B=$W/b
diff_is 0 "" "5000 files, untouched: no output"
echo changed >>"$W/b/rootfs/data/f002500"
s=$(date +%s%N)
diff_is 1 "C /data/f002500" "5000 files, one appended to: exactly that change"
diag "oci-diff of a 5000-file bundle: $((($(date +%s%N) - s) / 1000000)) ms"
printf 'x' | dd of="$W/b/rootfs/data/f000007" bs=1 seek=3 conv=notrunc status=none
touch -d @1700000000 "$W/b/rootfs/data/f000007"
diff_is 1 $'C /data/f000007\nC /data/f002500' "5000 files, one more rewritten in place with its mtime restored: both found"

done_testing
