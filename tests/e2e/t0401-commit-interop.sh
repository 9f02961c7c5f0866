#!/usr/bin/env bash
# oci-commit's images read back by other tools: umoci unpack (the tree against
# the committed bundle's rootfs), skopeo inspect, skopeo copy oci: -> oci:
# (then oci-inspect, oci-unpack and oci-diff on the copy).
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'; return 0; }
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
command -v umoci >/dev/null || { echo "1..0 # SKIP umoci not installed"; exit 0; }
command -v skopeo >/dev/null || { echo "1..0 # SKIP skopeo not installed"; exit 0; }

fresh() {
	B=$TMP/$1
	R=$B/rootfs
	rm -rf "$B"
	oci-unpack -q "$TD/multi:v1" "$B" || { echo "Bail out! oci-unpack failed"; exit 1; }
}
L=$TMP/L
cp -a "$TD/multi" "$L"

# the commits: NAME DIR-THAT-IT-SHOULD-UNPACK-TO COMPRESSION
cases=()
# 1. a bundle with every kind of change
fresh b1
echo more >>"$R/etc/passwd"
printf 'HELLO\n' >"$R/etc/hostname"
chmod 0600 "$R/etc/group"
chown 1000:1000 "$R/opt/new.txt"
rm -rf "$R/home"
mv "$R/var/cache" "$R/var/c.old" && mkdir "$R/var/cache" && rm -rf "$R/var/c.old" && echo n >"$R/var/cache/n"
rm -rf "$R/etc/conf.d" && echo file >"$R/etc/conf.d"
rm "$R/srv/data/x.txt" && mkdir "$R/srv/data/x.txt" && echo in >"$R/srv/data/x.txt/in"
ln -sfn libx.so.9 "$R/usr/lib/libx.so"
ln "$R/etc/passwd" "$R/etc/passwd.hl"
mkdir -p "$R/new/a/b" && echo deep >"$R/new/a/b/f" && ln -s ../a "$R/new/a/b/up"
mkfifo "$R/new/fifo"
setfattr -n user.k -v v "$R/etc/hostname" 2>/dev/null
rm "$R/bin/tool2" && echo other >"$R/bin/tool2"
oci-commit -q "$B" "$L:all" >/dev/null || fail "commit of b1" ""
cases+=("all $R gzip")
oci-commit -q --compression none "$B" "$L:all-none" >/dev/null || fail "commit of b1 (none)" ""
cases+=("all-none $R none")
oci-commit -q --compression zstd "$B" "$L:all-zstd" >/dev/null || fail "commit of b1 (zstd)" ""
cases+=("all-zstd $R zstd")
oci-commit -q --squash "$B" "$L:squash" >/dev/null || fail "commit of b1 (squash)" ""
cases+=("squash $R gzip")
# 2. a second commit on top of the first (a bundle of a commit)
oci-unpack -q "$L:all" "$TMP/b2"
echo again >>"$TMP/b2/rootfs/new/a/b/f"
rm -rf "$TMP/b2/rootfs/usr"
oci-commit -q -m second "$TMP/b2" "$L:second" >/dev/null || fail "commit of b2" ""
cases+=("second $TMP/b2/rootfs gzip")
# 3. a scratch image from a plain directory
S=$TMP/scratch
mkdir -p "$S/bin" "$S/etc/x"
echo hi >"$S/bin/hello" && chmod 0755 "$S/bin/hello"
ln -s hello "$S/bin/hi"
echo c >"$S/etc/x/c"
oci-commit -q --platform linux/amd64 "$S" "$L:scratch" >/dev/null || fail "commit of a scratch dir" ""
cases+=("scratch $S gzip")
# 4. config only
oci-commit -q --from "$L:all" --env X=1 --cmd '["/bin/x"]' "$L:cfg" >/dev/null || fail "config-only commit" ""
cases+=("cfg $R gzip")

for c in "${cases[@]}"; do
	read -r ref dir comp <<<"$c"
	# skopeo inspect
	if skopeo inspect "oci:$L:$ref" >"$TMP/sk.json" 2>"$TMP/skerr"; then
		pass "$ref: skopeo inspect reads it"
	else
		fail "$ref: skopeo inspect reads it" "$(cat "$TMP/skerr")"
	fi
	is "$(jq -c .Layers "$TMP/sk.json")" "$(oci-inspect --manifest "$L:$ref" | jq -c '[.layers[].digest]')" "$ref: skopeo sees the manifest's layers"
	is "$(jq -r .Digest "$TMP/sk.json")" "$(oci-inspect --refs "$L" | awk -F '\t' -v r="$ref" '$1 == r { print $2 }')" \
		"$ref: skopeo's digest is the ref's"
	skopeo inspect --config "oci:$L:$ref" >"$TMP/skc.json" 2>/dev/null
	is "$(jq -cS .config "$TMP/skc.json")" "$(oci-inspect --config "$L:$ref" | jq -cS .config)" "$ref: skopeo inspect --config: the same run config"
	# umoci unpack (not zstd: umoci 0.4.7 cannot)
	if [ "$comp" != zstd ]; then
		rm -rf "$TMP/um"
		if umoci unpack --image "$L:$ref" "$TMP/um" >"$TMP/umlog" 2>&1; then
			pass "$ref: umoci unpack reads it"
			python3 "$LIB" tree "$dir" "$TMP/want" "$TMP/um/rootfs" "$TMP/got" || { echo "Bail out! lib-layers.py tree failed"; exit 1; }
			if diff -u "$TMP/want" "$TMP/got" >"$TMP/d"; then pass "$ref: umoci's tree = the committed rootfs"; else fail "$ref: umoci's tree = the committed rootfs" "$(cat "$TMP/d")"; fi
		else
			fail "$ref: umoci unpack reads it" "$(tail -n 5 "$TMP/umlog")"
			fail "$ref: umoci's tree = the committed rootfs"
		fi
	fi
	# skopeo copy to another layout, then our tools on the copy
	if skopeo copy -q "oci:$L:$ref" "oci:$TMP/L2:$ref" >"$TMP/cplog" 2>&1; then
		pass "$ref: skopeo copy oci: -> oci:"
	else
		fail "$ref: skopeo copy oci: -> oci:" "$(tail -n 5 "$TMP/cplog")"
	fi
	expect 0 "$ref: oci-inspect of skopeo's copy" oci-inspect "$TMP/L2:$ref"
	expect 0 "$ref: oci-inspect --files of skopeo's copy" oci-inspect --files "$TMP/L2:$ref"
	expect 0 "$ref: oci-diff of the commit and skopeo's copy: no difference" oci-diff "$L:$ref" "$TMP/L2:$ref"
done

# the copy unpacks to the same tree
oci-unpack -q "$TMP/L2:all" "$TMP/u2"
python3 "$LIB" tree "$TMP/b1/rootfs" "$TMP/want" "$TMP/u2/rootfs" "$TMP/got"
if diff -u "$TMP/want" "$TMP/got" >"$TMP/d"; then pass "oci-unpack of skopeo's copy = the committed rootfs"; else fail "oci-unpack of skopeo's copy = the committed rootfs" "$(cat "$TMP/d")"; fi
# umoci sees our commit as we do: its unpack of multi:v1 plus umoci's own
# repack would be another test; here: umoci stat lists our history entry
if umoci stat --image "$L:second" --json >"$TMP/stat.json" 2>/dev/null; then
	is "$(jq -r '.history[-1].comment' "$TMP/stat.json")" "second" "umoci stat: the commit's history comment"
else
	fail "umoci stat reads the commit"
fi
# and an oci-archive of the layout, through skopeo
skopeo copy -q "oci:$L:all" "oci-archive:$TMP/all.tar:all" >/dev/null 2>&1
expect 0 "oci-inspect of skopeo's oci-archive of a commit" oci-inspect "$TMP/all.tar:all"
expect 0 "oci-diff of the commit and that archive: no difference" oci-diff "$L:all" "$TMP/all.tar:all"

done_testing
