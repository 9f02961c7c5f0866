#!/usr/bin/env bash
# oci-unpack: whiteouts in every order relative to the same layer's entries,
# type replacements across layers, for every compression, OCI and Docker
# media types, and the input forms directory, oci-archive, docker-save, stdin.
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'; return 0; }
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py

# Each case lives under its own top directory, so that one image holds them all.
# Layer 1: the lower entries.
L1='[
 "a1/", "a1/x=lower", "a1/keep=k",
 "a2/", "a2/x=lower",
 "b1/", "b1/d/", "b1/d/old=old", "b1/d/sub/", "b1/d/sub/f=f", "b1/sibling=s",
 "b2/", "b2/d/", "b2/d/old=old", "b2/d/sub/", "b2/d/sub/f=f",
 "b3/", "b3/d/", "b3/d/old=old", "b3/d/sub/", "b3/d/sub/f=f",
 "c1/", "c1/dir/", "c1/dir/old=old", "c1/dir/sub/", "c1/dir/sub/x=x",
 "c2/", "c2/dir/", "c2/dir/old=old", "c2/dir/sub/", "c2/dir/sub/x=x",
 "c3/", "c3/dir/", "c3/dir/old=old",
 "d/", "d/file=f",
 "e/", "e/f2d=file",
 "e/d2f/", "e/d2f/child=c",
 "e/d2l/", "e/d2l/child=c",
 "e/l2d->../elsewhere",
 "e/tgt=tgt", "e/l2f->tgt",
 "e/h1=orig", "e/h2=>e/h1",
 "e/p2f|",
 "f/", "f/dir/", "f/dir/a=a", "f/dir/b=b", "f/dir/sub/", "f/dir/sub/c=c",
 "g/", "g/dir/", "g/dir/a=a"
]'
# Layer 2: whiteouts before and after the same layer's entries.
L2='[
 "a1/.wh.x", "a1/x=upper",
 "a2/x=upper", "a2/.wh.x",
 "b1/d/.wh..wh..opq", "b1/d/new=new",
 "b2/d/new=new", "b2/d/.wh..wh..opq",
 "b3/d/sub/n2=n2", "b3/d/.wh..wh..opq",
 "c1/.wh.dir", "c1/dir/new=new",
 "c2/dir/new=new", "c2/.wh.dir",
 "c3/.wh.dir", {"p": "c3/dir/", "t": "d", "mode": 448},
 "d/.wh.nothere", "d/.wh.nodir", "d/sub/", "d/sub/.wh.x", "d/sub/.wh.y",
 "e/f2d/", "e/f2d/in=in",
 "e/d2f=file",
 "e/d2l->tgt",
 "e/l2d/", "e/l2d/x=x",
 "e/l2f=new",
 "e/h2=new",
 "e/p2f=nowfile",
 "f/dir/.wh.a", "f/dir/.wh.b", "f/dir/.wh.sub",
 "g/dir/b=b"
]'
# Layer 3: a whiteout of what layer 2 made, and a directory whited out whole.
L3='[
 "g/.wh.dir",
 "e/.wh.h2",
 "a1/x=again"
]'

cat >"$TMP/expect" <<'EOF'
a1 d
a1/keep f k
a1/x f again
a2 d
a2/x f upper
b1 d
b1/d d
b1/d/new f new
b1/sibling f s
b2 d
b2/d d
b2/d/new f new
b3 d
b3/d d
b3/d/sub d
b3/d/sub/n2 f n2
c1 d
c1/dir d
c1/dir/new f new
c2 d
c2/dir d
c2/dir/new f new
c3 d
c3/dir d
d d
d/file f f
d/sub d
e d
e/d2f f file
e/d2l l tgt
e/f2d d
e/f2d/in f in
e/h1 f orig
e/l2d d
e/l2d/x f x
e/l2f f new
e/p2f f nowfile
e/tgt f tgt
f d
f/dir d
g d
EOF
CASES="a1:.wh.x-before-x a2:.wh.x-after-x b1:opaque-before-new b2:opaque-after-new b3:opaque-after-new-subdir c1:dir-whiteout-before-recreate c2:dir-whiteout-after-recreate c3:dir-whiteout-then-dir d:whiteout-of-nothing e:type-replacements f:children-whited-out"

# spec MEDIA COMP1 COMP2 COMP3 [EXTRA-JSON]
spec() {
	printf '{"media":"%s","layers":[{"comp":"%s","entries":%s},{"comp":"%s","entries":%s},{"comp":"%s","entries":%s}]%s}' \
		"$1" "$2" "$L1" "$3" "$L2" "$4" "$L3" "${5:-}"
}

# check_bundle LABEL BUNDLE: the rootfs (listed in BUNDLE.tree) against $TMP/expect, case by case
check_bundle() {
	local label=$1 r=$2/rootfs c p name
	if [ ! -d "$r" ]; then
		fail "$label: unpacked" "no rootfs; stderr: $(cat "$2.err")"
		return
	fi
	for c in $CASES; do
		p=${c%%:*} name=${c#*:}
		grep -E "^$p( |/)" "$TMP/expect" >"$TMP/want.$p"
		grep -E "^$p( |/)" "$2.tree" >"$TMP/got.$p"
		if diff -u "$TMP/want.$p" "$TMP/got.$p" >"$TMP/diff"; then
			pass "$label: $name"
		else
			fail "$label: $name" "$(cat "$TMP/diff")"
		fi
	done
	if diff -u "$TMP/expect" "$2.tree" >"$TMP/diff"; then pass "$label: whole tree"; else fail "$label: whole tree" "$(cat "$TMP/diff")"; fi
	is "$(stat -c %a "$r/c3/dir" 2>/dev/null)" 700 "$label: c3/dir re-created with its own mode 0700"
	if [ ! -e "$r/elsewhere" ] && [ ! -e "$2/elsewhere" ]; then pass "$label: nothing written through the old symlink e/l2d"; else fail "$label: nothing written through the old symlink e/l2d"; fi
	is "$(stat -c %h "$r/e/h1" 2>/dev/null)" 1 "$label: e/h1 no longer hard-linked"
	is "$(find "$r" -name '.wh.*' | head -n1)" "" "$label: no .wh.* left in the rootfs"
}

# Python starts slowly here: write every spec, build all images in one call,
# unpack, list all trees in one call, then check.
VARIANTS="
oci gzip gzip gzip dir
oci zstd zstd zstd dir
oci none none none dir
oci gzip zstd none dir
docker gzip gzip gzip dir
docker none none none dir
docker zstd zstd zstd dir
oci gzip gzip gzip oci-archive
oci none zstd gzip oci-archive-gz
oci zstd zstd zstd stdin
docker none none none stdin
docker gzip gzip gzip docker-save
docker none none none docker-save-stdin"

# three small extra images
cat >"$TMP/spec-x1.json" <<'EOF'
{"layers":[["./w/", "./w/x=lower", "./w/y=lower"],
           ["./w/x=mine", "w/.wh.x", "./w/y/", "./w/y/in=in", "./w/.wh.y"]]}
EOF
cat >"$TMP/spec-x2.json" <<'EOF'
{"layers":[["top/", "top/a=a", "file=f"], [".wh..wh..opq", "new=new", "top/", "top/b=b"]]}
EOF
cat >"$TMP/spec-x3.json" <<'EOF'
{"layers":[["t=content", "l=>t"], [".wh.t"], ["l2=>l"]]}
EOF
cat >"$TMP/spec-x5.json" <<'EOF'
{"layers":[[{"p":"./","t":"d","mode":448,"uid":7,"gid":8,"x":{"user.root":"r"}},
            {"p":"d/","t":"d","x":{"user.a":"1"}}, "d/f=f"],
           [{"p":"d/","t":"d","mode":488,"x":{"user.b":"2"}}, "d/g=g"]]}
EOF
cat >"$TMP/spec-x4.json" <<'EOF'
{"layers":[[{"p":"add/","t":"d","mtime":1600000000}, "add/a=a",
            {"p":"rm/","t":"d","mtime":1600000000}, "rm/x=x", "rm/y=y",
            {"p":"opq/","t":"d","mtime":1600000000}, "opq/x=x"],
           ["add/b=b", "rm/.wh.x", "opq/.wh..wh..opq"]]}
EOF
args=()
n=0
while read -r media c1 c2 c3 form; do
	[ -n "$media" ] || continue
	n=$((n + 1))
	img=$TMP/img$n
	spec "$media" "$c1" "$c2" "$c3" ",\"oci_archive\":\"$img.tar\",\"docker_save\":\"$img.docker.tar\"" >"$TMP/spec$n.json"
	args+=("$img" "$TMP/spec$n.json")
done <<<"$VARIANTS"
for x in x1 x2 x3 x4 x5; do args+=("$TMP/img-$x" "$TMP/spec-$x.json"); done
python3 "$LIB" build "${args[@]}" >/dev/null || { echo "Bail out! lib-layers.py build failed"; exit 1; }

targs=()
n=0
while read -r media c1 c2 c3 form; do
	[ -n "$media" ] || continue
	n=$((n + 1))
	img=$TMP/img$n b=$TMP/b$n
	case $form in
	dir) oci-unpack "$img:t" "$b" ;;
	oci-archive) oci-unpack "$img.tar:t" "$b" ;;
	oci-archive-gz) gzip -c "$img.tar" >"$img.tar.gz" && oci-unpack "$img.tar.gz:t" "$b" ;;
	stdin) oci-unpack - "$b" <"$img.tar" ;;
	docker-save) oci-unpack "$img.docker.tar:img:t" "$b" ;;
	docker-save-stdin) oci-unpack - "$b" <"$img.docker.tar" ;;
	esac 2>"$b.err"
	echo $? >"$b.status"
	targs+=("$b/rootfs" "$b.tree")
done <<<"$VARIANTS"
for x in x1 x2 x3 x4 x5; do
	oci-unpack "$TMP/img-$x:t" "$TMP/b-$x" 2>"$TMP/b-$x.err"
	echo $? >"$TMP/b-$x.status"
	targs+=("$TMP/b-$x/rootfs" "$TMP/b-$x.tree")
done
python3 "$LIB" tree --brief "${targs[@]}"

n=0
while read -r media c1 c2 c3 form; do
	[ -n "$media" ] || continue
	n=$((n + 1))
	label="$media $c1/$c2/$c3 $form"
	is "$(cat "$TMP/b$n.status")" 0 "$label: exit 0"
	check_bundle "$label" "$TMP/b$n"
done <<<"$VARIANTS"
is "$(find "$TMP" -maxdepth 1 -name '.*.unpack-*' | head -n1)" "" "no temporary directory left"

# A whiteout hides only lower layers: the same layer's file survives a
# whiteout listed later, also with ./ spellings.
is "$(cat "$TMP/b-x1.status")" 0 "./ spellings: exit 0"
is "$(tr '\n' ';' <"$TMP/b-x1.tree")" "w d;w/x f mine;w/y d;w/y/in f in;" "./ spellings: the same layer's x and y/ survive the later whiteouts"

# Opaque whiteout of the root in a later layer: only that layer's entries remain.
is "$(cat "$TMP/b-x2.status")" 0 "opaque whiteout of the root: exit 0"
is "$(tr '\n' ';' <"$TMP/b-x2.tree")" "new f new;top d;top/b f b;" "opaque whiteout of the root: lower entries gone, this layer's kept"

# Whiteout of a hard link's target: the other name keeps the content.
is "$(cat "$TMP/b-x3.status")" 0 "whiteout of a hard link's target: exit 0"
is "$(tr '\n' ';' <"$TMP/b-x3.tree")" "l f content;l2 f content;" "whiteout of a hard link's target: the link keeps the content"
is "$(stat -c %i "$TMP/b-x3/rootfs/l2" 2>/dev/null)" "$(stat -c %i "$TMP/b-x3/rootfs/l" 2>/dev/null)" "a later layer links to the surviving name"

# A later layer that adds or removes inside a directory without an entry for
# the directory itself: the directory keeps the image's mtime (as umoci does).
is "$(cat "$TMP/b-x4.status")" 0 "changes inside a directory without its entry: exit 0"
is "$(tr '\n' ';' <"$TMP/b-x4.tree")" "add d;add/a f a;add/b f b;opq d;rm d;rm/y f y;" "changes inside a directory without its entry: the tree"
for d in add rm opq; do
	is "$(stat -c %Y "$TMP/b-x4/rootfs/$d" 2>/dev/null)" 1600000000 "$d/ changed by layer 2 without a $d/ entry keeps its mtime 1600000000"
done

# A directory given again by a later layer takes that entry's metadata whole:
# xattrs of the earlier entry do not stay (umoci clears them too); the root
# entry ./ gets its xattrs like any directory. Disk and record agree.
R5=$TMP/b-x5/rootfs
is "$(cat "$TMP/b-x5.status")" 0 "directories given again: exit 0"
is "$(stat -c %a "$R5/d" 2>/dev/null)" 750 "d/ given again: the later mode 0750"
is "$(getfattr -d -m '^user\.' --absolute-names "$R5/d" 2>/dev/null | grep '^user' | tr '\n' ' ')" 'user.b="2" ' "d/ given again: only the later entry's xattr user.b"
is "$(awk -F'\t' '$1 == "/d" { print $13 }' "$TMP/b-x5/oci-unpack.record")" "user.b=32" "d/ given again: the record says user.b only"
is "$(stat -c %a:%u:%g "$R5" 2>/dev/null)" 700:7:8 "./ entry: the rootfs gets its mode and owner"
is "$(getfattr -n user.root --only-values "$R5" 2>/dev/null)" r "./ entry: the rootfs gets its xattr user.root"

done_testing
