#!/usr/bin/env bash
# oci-diff --tar: the round trip. Random change sets (seeded) on bundles of
# multi:v1, written as a layer (plain, gzip, zstd), committed on top of
# multi:v1 with oci-commit --layer, unpacked again (oci-unpack, and umoci when
# it can read the layer): the tree must be the changed bundle's rootfs, entry
# by entry. Then the shape of the tar: sorted, whiteouts, opaque whiteouts;
# and the refusal to write to a terminal.
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'; return 0; }
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py

fresh() {
	B=$TMP/$1
	R=$B/rootfs
	rm -rf "$B"
	oci-unpack -q "$TD/multi:v1" "$B" || { echo "Bail out! oci-unpack failed"; exit 1; }
}

# pick VAR ARRAY: a random element of ARRAY into VAR (no subshell, so that
# the seeded $RANDOM sequence stays the same from run to run)
pick() {
	local -n _v=$1 _a=$2
	_v=
	[ "${#_a[@]}" -gt 0 ] && _v=${_a[RANDOM % ${#_a[@]}]}
	return 0
}

# mutate ROOT SEED COUNT: COUNT random changes of every kind under ROOT
mutate() {
	local R=$1 n=$3 i op f d e m
	local -a F D L E H
	local modes=(0600 0640 0755 0700 04755 02755 01777 0444)
	local owners=(0:0 1000:1000 123:456 0:7)
	RANDOM=$2
	for ((i = 0; i < n; i++)); do
		mapfile -t F < <(cd "$R" && find . -mindepth 1 -type f -printf '%P\n' | sort)
		mapfile -t D < <(cd "$R" && find . -mindepth 1 -type d -printf '%P\n' | sort)
		mapfile -t L < <(cd "$R" && find . -mindepth 1 -type l -printf '%P\n' | sort)
		mapfile -t E < <(cd "$R" && find . -mindepth 1 -printf '%P\n' | sort)
		mapfile -t H < <(cd "$R" && find . -mindepth 1 -type f -links +1 -printf '%P\n' | sort)
		D+=(.)
		op=$((RANDOM % 13))
		case $op in
		0) pick d D && echo "new $i $RANDOM" >"$R/$d/n$i" ;;
		1) pick f F
			if [ -n "$f" ] && [ $((RANDOM % 2)) = 0 ]; then
				echo "appended $RANDOM" >>"$R/$f"
			elif [ -n "$f" ]; then # same size, in place (keeps the inode)
				tr 'a-zA-Z0-9' 'b-zaB-ZA1-90' <"$R/$f" >"$TMP/swap" && cat "$TMP/swap" >"$R/$f"
			fi ;;
		2) E=("${F[@]}" "${L[@]}"); pick e E && [ -n "$e" ] && rm -f "$R/$e" ;;
		3) E=("${F[@]}" "${D[@]}"); pick e E; pick m modes; chmod "$m" "$R/$e" ;;
		4) if [ "${#L[@]}" -gt 0 ] && [ $((RANDOM % 2)) = 0 ]; then
				pick e L && ln -sfn "t$RANDOM" "$R/$e"
			else
				pick d D && ln -s "../target$i" "$R/$d/s$i"
			fi ;;
		5) pick d D && mkdir -p "$R/$d/m$i/sub" && echo "in $i" >"$R/$d/m$i/sub/f" && ln -s f "$R/$d/m$i/sub/l" ;;
		6) unset 'D[-1]'; pick d D && [ -n "$d" ] && rm -rf "${R:?}/$d" ;;
		7) unset 'D[-1]'; pick d D
			if [ -n "$d" ] && [ $((RANDOM % 2)) = 0 ]; then
				mv "$R/$d" "$R/$d.old$i" && mkdir "$R/$d" && rm -rf "$R/$d.old$i"
			elif [ -n "$d" ]; then
				rm -rf "${R:?}/$d" && mkdir "$R/$d"
			fi
			[ -n "$d" ] && [ $((RANDOM % 2)) = 0 ] && echo "after $i" >"$R/$d/after$i" ;;
		8) pick f F; pick d D; [ -n "$f" ] && ln "$R/$f" "$R/$d/h$i" ;;
		9) pick e E; pick m owners; chown -h "$m" "$R/$e" ;;
		10) if [ $((RANDOM % 2)) = 0 ]; then
				pick f F && [ -n "$f" ] && rm "$R/$f" && mkdir "$R/$f" && echo "was a file" >"$R/$f/in"
			else
				unset 'D[-1]'; pick d D && [ -n "$d" ] && rm -rf "${R:?}/$d" && echo "was a dir" >"$R/$d"
			fi ;;
		11) pick f H && [ -n "$f" ] && rm "$R/$f" && echo "broken $i" >"$R/$f" ;;
		12) E=("${F[@]}" "${L[@]}"); pick e E && [ -n "$e" ] && touch -h -d "@$((1600000000 + RANDOM * 1000))" "$R/$e" ;;
		esac
	done
}

# trees DIR OUT...: each DIR's tree (lib-layers.py format, hard links as links,
# mtimes of everything but directories) into OUT
trees() {
	python3 "$LIB" tree --mtime "$@" || { echo "Bail out! lib-layers.py tree failed"; exit 1; }
	local o
	for o in "${@:2}"; do
		[ -f "$o" ] && sed -i -E '/^[^ ]+ dir /s/ mtime=[0-9]+$//' "$o"
	done
	return 0
}
# shift args pairwise: trees A a B b -> "${@:2}" is "a B b": only files get sed'd
tree_same() { # tree_same EXPECTED GOT NAME
	if diff -u "$1" "$2" >"$TMP/tree.diff"; then pass "$3"; else fail "$3" "$(cat "$TMP/tree.diff")"; fi
}

L=$TMP/L
have_umoci=0
command -v umoci >/dev/null && have_umoci=1

# ---- the round trip, six seeds ----
comps=(none gzip zstd gzip none zstd)
seeds=(11 2024 7 31337 4242 99)
for k in "${!seeds[@]}"; do
	seed=${seeds[$k]}
	comp=${comps[$k]}
	fresh "rt$k"
	mutate "$R" "$seed" 14
	copt=()
	[ "$comp" != none ] && copt=(--compress "$comp")
	oci-diff --tar "${copt[@]}" "$B" >"$TMP/layer$k" 2>"$TMP/err"
	st=$?
	is "$st" 0 "seed $seed ($comp): oci-diff --tar exits 0 (it wrote the layer)"
	diffid=$(sed -n 's/.*diff_id \(sha256:[0-9a-f]*\).*/\1/p' "$TMP/err")
	case $comp in
	gzip) magic=1f8b ;; zstd) magic=28b52ffd ;; none) magic= ;;
	esac
	got=$(head -c 4 "$TMP/layer$k" | od -An -tx1 | tr -d ' \n')
	if [ -n "$magic" ]; then
		is "${got:0:${#magic}}" "$magic" "seed $seed: the layer is $comp"
	else
		is "$(tar tf "$TMP/layer$k" >/dev/null 2>&1 && echo tar)" "tar" "seed $seed: the layer is a plain tar"
	fi
	case $comp in
	gzip) raw=$(gzip -dc <"$TMP/layer$k" | sha256sum | cut -c1-64) ;;
	zstd) raw=$(zstd -dcq <"$TMP/layer$k" | sha256sum | cut -c1-64) ;;
	none) raw=$(sha256sum <"$TMP/layer$k" | cut -c1-64) ;;
	esac
	is "$diffid" "sha256:$raw" "seed $seed: the diff_id noted on stderr is the uncompressed tar's sha256"
	run oci-commit -q --layer "$TMP/layer$k" --from "$TD/multi:v1" "$L:t$k"
	if [ "$status" -ne 0 ]; then
		fail "seed $seed: oci-commit --layer" "exit $status: $(err)"
		continue
	fi
	pass "seed $seed: oci-commit --layer"
	mt=$(oci-inspect --manifest "$L:t$k" | jq -r '.layers[-1].mediaType')
	case $comp in
	gzip) want=application/vnd.oci.image.layer.v1.tar+gzip ;;
	zstd) want=application/vnd.oci.image.layer.v1.tar+zstd ;;
	none) want=application/vnd.oci.image.layer.v1.tar+gzip ;; # compressed by the commit
	esac
	is "$mt" "$want" "seed $seed: the committed layer's media type"
	is "$(oci-inspect --config "$L:t$k" | jq -r '.rootfs.diff_ids[-1]')" "$diffid" "seed $seed: the config's diff_id is the tar's"
	oci-unpack -q "$L:t$k" "$TMP/u$k" || fail "seed $seed: oci-unpack of the commit" "$(err)"
	pairs=("$R" "$TMP/want$k" "$TMP/u$k/rootfs" "$TMP/got$k")
	if [ "$have_umoci" = 1 ] && [ "$comp" != zstd ]; then
		umoci unpack --image "$L:t$k" "$TMP/um$k" >"$TMP/umoci.log" 2>&1 ||
			fail "seed $seed: umoci unpack of the commit" "$(tail -n 5 "$TMP/umoci.log")"
		pairs+=("$TMP/um$k/rootfs" "$TMP/umgot$k")
	fi
	trees "${pairs[@]}"
	tree_same "$TMP/want$k" "$TMP/got$k" "seed $seed ($comp): oci-unpack of base + layer = the changed rootfs"
	if [ "$have_umoci" = 1 ] && [ "$comp" != zstd ]; then
		tree_same "$TMP/want$k" "$TMP/umgot$k" "seed $seed ($comp): umoci unpack of base + layer = the changed rootfs"
	fi
	# the unpacked commit is a bundle with no differences from its own record
	expect 0 "seed $seed: oci-diff of the bundle unpacked from the commit: exit 0" oci-diff "$TMP/u$k"
	# the tar: sorted names, nothing absolute
	case $comp in
	gzip) gzip -dc <"$TMP/layer$k" >"$TMP/plain$k" ;;
	zstd) zstd -dcq <"$TMP/layer$k" >"$TMP/plain$k" ;;
	none) cp "$TMP/layer$k" "$TMP/plain$k" ;;
	esac
	tar tf "$TMP/plain$k" 2>/dev/null | sed 's#/$##' >"$TMP/names$k"
	if python3 "$LIB" tarorder <"$TMP/names$k" >"$TMP/sortc"; then pass "seed $seed: tar entries sorted, whiteouts first in each directory"; else fail "seed $seed: tar entries sorted, whiteouts first in each directory" "$(cat "$TMP/sortc")"; fi
	is "$(grep -cE '^(/|\./|\.\./)|/\.\./' "$TMP/names$k")" 0 "seed $seed: no absolute, ./ or .. names"
	is "$(sort "$TMP/names$k" | uniq -d | head -n 3)" "" "seed $seed: no name twice"
	diag "seed $seed: $(oci-diff "$B" | tr "\n" " ")"
done

# ---- the shape of the tar, on known changes ----
fresh shape
rm -rf "$R/home"                                             # a directory deleted
rm "$R/etc/group"                                           # a file deleted
mv "$R/var/cache" "$R/var/c.old" && mkdir "$R/var/cache" && rm -rf "$R/var/c.old"
echo new >"$R/var/cache/new.txt"                             # a directory replaced
rm -rf "$R/etc/conf.d" && echo file >"$R/etc/conf.d"         # dir -> file
rm "$R/opt/new.txt" && mkdir "$R/opt/new.txt"                 # file -> dir
echo in >"$R/opt/new.txt/in"
ln "$R/etc/passwd" "$R/etc/passwd.link"                      # a hard link to an unchanged file
echo changed >>"$R/usr/lib/libx.so.1"
mknod "$R/tmp/null" c 1 3                                    # a device
oci-diff --tar "$B" >"$TMP/shape.tar" 2>/dev/null
tar tvf "$TMP/shape.tar" >"$TMP/shape.tv" 2>/dev/null
tar tf "$TMP/shape.tar" >"$TMP/shape.names" 2>/dev/null
cat >"$TMP/shape.exp" <<'EOF'
.wh.home
etc/
etc/.wh.group
etc/conf.d
etc/passwd
etc/passwd.link
opt/
opt/new.txt/
opt/new.txt/in
tmp/
tmp/null
usr/
usr/lib/
usr/lib/libx.so.1
var/
var/cache/
var/cache/.wh.fresh.txt
var/cache/new.txt
EOF
is "$(cat "$TMP/shape.names")" "$(cat "$TMP/shape.exp")" "known changes: exactly these tar entries, in this order"
is "$(awk '$NF == "etc/passwd.link" || $(NF-3) == "etc/passwd.link" { print substr($1, 1, 1) }' "$TMP/shape.tv")" "h" \
	"the new hard link is a hard link entry"
is "$(grep -c 'etc/passwd.link link to etc/passwd' "$TMP/shape.tv")" 1 "the hard link points at etc/passwd, which is in the layer too"
is "$(awk '/\.wh\./ { print $3 }' "$TMP/shape.tv" | sort -u)" "0" "whiteouts are empty"
is "$(awk '/\.wh\./ { print substr($1, 1, 1) }' "$TMP/shape.tv" | sort -u)" "-" "whiteouts are regular files"
is "$(awk '$NF == "tmp/null" { print substr($1, 1, 1), $3 }' "$TMP/shape.tv")" "c 1,3" "the new device is a char device 1,3"
is "$(grep -c 'var/cache/fresh.txt' "$TMP/shape.names")" 0 "the replaced directory's old child is not in the layer (its explicit whiteout hides it)"
is "$(grep -c '\.wh\.\.wh\.\.opq' "$TMP/shape.names")" 0 "no opaque whiteout: a replaced directory is explicit whiteouts"
# apply it with GNU tar over a copy of the original rootfs, then remove the
# whiteouts by hand: the result is the changed rootfs
oci-unpack -q --rootfs "$TD/multi:v1" "$TMP/gnu"
(
	cd "$TMP/gnu" || exit 1
	while read -r n; do
		case $n in
		*/.wh..wh..opq) d=${n%/.wh..wh..opq}; find "$d" -mindepth 1 -maxdepth 1 -exec rm -rf {} + ;;
		*.wh.*) b=${n##*/}; d=${n%"$b"}; rm -rf "./$d${b#.wh.}" ;;
		esac
	done <"$TMP/shape.names"
	# a type change replaces what is there
	rm -rf etc/conf.d opt/new.txt
	tar xf "$TMP/shape.tar" --xattrs --xattrs-include='*' --same-owner -p 2>/dev/null
	find . -name '.wh.*' -exec rm -f {} +
)
trees "$R" "$TMP/shape.want" "$TMP/gnu" "$TMP/shape.got"
tree_same "$TMP/shape.want" "$TMP/shape.got" "GNU tar + whiteouts by hand gives the changed rootfs"

# deleted directories next to names sorting between them and their contents:
# nothing below a deleted directory, nothing below a new non-directory
cat >"$TMP/sib.json" <<'EOF'
{"ref": "t", "layers": [["d/", "d/f=f", "d/sub/", "d/sub/g=g", "d-x/", "d-x/h=h", "d.y/", "d.y/i=i", "e/"]]}
EOF
python3 "$LIB" build "$TMP/sibimg" "$TMP/sib.json" >/dev/null || { echo "Bail out! lib-layers.py build failed"; exit 1; }
oci-unpack -q "$TMP/sibimg:t" "$TMP/sib" || { echo "Bail out! unpack failed"; exit 1; }
rm -rf "$TMP/sib/rootfs/d" "$TMP/sib/rootfs/d-x"
echo file >"$TMP/sib/rootfs/d"
oci-diff --tar "$TMP/sib" 2>/dev/null | tar tf - >"$TMP/sib.names" 2>/dev/null
is "$(tr '\n' ' ' <"$TMP/sib.names")" ".wh.d-x d " "d now a file, d-x deleted: the tar holds .wh.d-x and d, nothing below d"
oci-commit -q "$TMP/sib" "$TMP/sibimg:t2" >/dev/null
oci-unpack -q "$TMP/sibimg:t2" "$TMP/sibu"
trees "$TMP/sib/rootfs" "$TMP/sib.want" "$TMP/sibu/rootfs" "$TMP/sib.got"
tree_same "$TMP/sib.want" "$TMP/sib.got" "... and the commit unpacks to the changed rootfs"

# names that are not ASCII (UTF-8, and bytes that are not UTF-8 at all)
fresh names
printf 'caf\xc3\xa9\n' >"$R/etc/caf$(printf '\xc3\xa9')"
printf 'raw\n' >"$R/etc/raw$(printf '\xff')name"
mkdir "$R/opt/$(printf '\xe6\x97\xa5\xe6\x9c\xac')"
echo x >"$R/opt/$(printf '\xe6\x97\xa5\xe6\x9c\xac')/f"
run oci-diff --tar "$B"
is "$status" 0 "non-ASCII names: oci-diff --tar exits 0 (wrote the layer, no trouble)"
[ "$status" = 1 ] || diag "$(err)"
is "$(tar tf "$TMP/out" 2>/dev/null | grep -c .)" 6 "non-ASCII names: six entries (etc/, two files, opt/, the dir and its file)"
run oci-commit -q "$B" "$L:names"
is "$status" 0 "non-ASCII names: oci-commit exits 0"
[ "$status" = 0 ] && oci-unpack -q "$L:names" "$TMP/namesu" && {
	trees "$R" "$TMP/names.want" "$TMP/namesu/rootfs" "$TMP/names.got"
	tree_same "$TMP/names.want" "$TMP/names.got" "non-ASCII names: the commit unpacks to the changed rootfs"
} || fail "non-ASCII names: the commit unpacks to the changed rootfs" "no commit"

# an unchanged bundle: an empty layer (just the end blocks), exit 0
fresh empty
run oci-diff --tar "$B"
is "$status" 0 "no changes: --tar exits 0"
is "$(tar tf "$TMP/out" | wc -l)" 0 "no changes: an empty tar"

# ---- a terminal ----
if command -v script >/dev/null; then
	script -qec "oci-diff --tar '$B'" /dev/null >"$TMP/tty.out" 2>&1
	st=$?
	is "$st" 2 "--tar to a terminal: exit 2"
	is "$(grep -c . "$TMP/tty.out")" 1 "--tar to a terminal: one line"
	if grep -q '^oci-diff: .*terminal' "$TMP/tty.out"; then pass "--tar to a terminal: says why"; else fail "--tar to a terminal: says why" "$(cat "$TMP/tty.out")"; fi
	script -qec "oci-diff --tar --compress gzip '$B' >/dev/null" /dev/null >"$TMP/tty.out" 2>&1
	is "$?" 0 "--tar with stdout redirected from a terminal session: fine"
else
	for i in 1 2 3 4; do pass "# SKIP no script(1) to fake a terminal"; done
fi
expect_fail "--compress with an unknown method: exit 2" oci-diff --tar --compress lz4 "$B"

done_testing
