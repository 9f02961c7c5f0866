#!/usr/bin/env bash
# What oci-copy writes, read by the tools we are checked against: skopeo
# copies each archive kind into an oci: layout, umoci unpacks the results,
# buildah takes the oci-archive, and podman loads both archive kinds (vfs
# storage, nothing pulled) with the same tree as oci-unpack's. Sources: a
# legacy docker save archive (Docker->OCI) and an OCI image made by
# oci-commit, also recompressed to zstd.
. "$(dirname "$0")/test-lib.sh"
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
command -v skopeo >/dev/null || { echo "1..0 # SKIP skopeo not installed"; exit 0; }
command -v umoci >/dev/null || { echo "1..0 # SKIP umoci not installed"; exit 0; }
cd "$TMP" || exit 1
export HOME=$TMP/home XDG_RUNTIME_DIR=$TMP/run XDG_CONFIG_HOME=$TMP/home/.config
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
um_opts=()
[ "$(id -u)" -eq 0 ] || um_opts=(--rootless)
PODMAN=(podman --storage-driver vfs --root "$TMP/ps" --runroot "$TMP/pr" --cgroup-manager cgroupfs --events-backend none)
BUILDAH=(buildah --storage-driver vfs --root "$TMP/ps" --runroot "$TMP/pr")
have_podman=0
command -v podman >/dev/null && "${PODMAN[@]}" images >/dev/null 2>&1 && have_podman=1
have_buildah=0
command -v buildah >/dev/null && [ "$(id -u)" -eq 0 ] && "${BUILDAH[@]}" images >/dev/null 2>&1 && have_buildah=1

# the sources
mkdir -p s/bin s/etc s/usr/share/doc
echo hi >s/bin/hi && chmod 0755 s/bin/hi
ln -s hi s/bin/hello
printf 'root:x:0:0::/root:/bin/sh\n' >s/etc/passwd
head -c 300000 /dev/urandom >s/usr/share/doc/blob
oci-commit -q --platform linux/amd64 --timestamp 1700000000 s src:new >/dev/null || { echo "Bail out! oci-commit"; exit 1; }
oci-copy -q --compression zstd src:new src:new-zstd || { echo "Bail out! zstd copy"; exit 1; }
sources=("src:new" "src:new-zstd" "$TD/docker-save.tar:example/app:1.0")
names=(new zstd dsave)

# listing of a tree as oci-unpack gives it, to compare with the others'
want_tree() { # IMAGE OUT
	rm -rf ou && oci-unpack -q --rootfs "$1" ou && python3 "$LIB" tree ou "$2"
}
list_of() { # a tar stream on stdin: sorted names, no "./", directories without "/"
	tar -t 2>/dev/null | sed -e 's|^\./||' -e 's|/$||' | grep -v '^$' | sort -u
}

for i in "${!sources[@]}"; do
	S=${sources[$i]} n=${names[$i]}
	want_tree "$S" "want-$n"
	oci-unpack "$S" - 2>/dev/null | list_of >"wantlist-$n"
	expect 0 "$n: oci-archive written" oci-copy -q "$S" "$n.tar:$n"
	expect 0 "$n: docker-archive written" oci-copy -q "$S" "$n.docker.tar:oci-copy/$n:1"

	# skopeo: each archive kind into an oci: layout
	for kind in oci-archive docker-archive; do
		f=$n.tar
		[ $kind = docker-archive ] && f=$n.docker.tar
		rm -rf "sk-$n-$kind"
		if skopeo copy -q "$kind:$f" "oci:sk-$n-$kind:x" >/dev/null 2>sk.err; then
			pass "$n: skopeo copy $kind: -> oci:"
		else
			fail "$n: skopeo copy $kind: -> oci:" "$(tail -n 3 sk.err)"
			continue
		fi
		case $n in zstd) continue ;; esac # umoci 0.4.7 reads no zstd
		rm -rf um
		if umoci unpack "${um_opts[@]}" --image "sk-$n-$kind:x" um >um.log 2>&1; then
			python3 "$LIB" tree um/rootfs got
			diff -u "want-$n" got >d && pass "$n: $kind: umoci unpack = oci-unpack" || fail "$n: $kind: umoci unpack = oci-unpack" "$(head -20 d)"
		else
			fail "$n: $kind: umoci unpack" "$(tail -n 3 um.log)"
		fi
	done
	# our own reading of what skopeo wrote from our docker-archive: the same tree
	if [ -d "sk-$n-docker-archive" ]; then
		want_tree "sk-$n-docker-archive:x" got2
		diff -u "want-$n" got2 >d && pass "$n: docker-archive via skopeo: same tree" || fail "$n: docker-archive via skopeo: same tree" "$(head -20 d)"
	fi

	# podman load of both kinds: the same tree
	if [ $have_podman -eq 1 ]; then
		for f in "$n.tar" "$n.docker.tar"; do
			if "${PODMAN[@]}" load -q -i "$f" >pl.out 2>pl.err; then
				img=$(sed -n 's/^Loaded image: //p' pl.out | head -n 1)
				pass "$n: podman load $f ($img)"
				cid=$("${PODMAN[@]}" create "$img" true 2>/dev/null)
				if [ -n "$cid" ] && "${PODMAN[@]}" export "$cid" | list_of >got-list; then
					diff -u "wantlist-$n" got-list >d && pass "$n: podman's tree of $f = oci-unpack's" || fail "$n: podman's tree of $f" "$(head -20 d)"
				else
					fail "$n: podman create/export of $f"
				fi
				"${PODMAN[@]}" rm -f "$cid" >/dev/null 2>&1
				"${PODMAN[@]}" rmi -f "$img" >/dev/null 2>&1
			else
				fail "$n: podman load $f" "$(tail -n 3 pl.err)"
			fi
		done
	fi
	# buildah from the oci-archive
	if [ $have_buildah -eq 1 ]; then
		if ctr=$("${BUILDAH[@]}" from -q "oci-archive:$n.tar" 2>bf.err) && mnt=$("${BUILDAH[@]}" mount "$ctr" 2>>bf.err); then
			(cd "$mnt" && find . -mindepth 1 | sed 's|^\./||' | sort) >got-list
			diff -u "wantlist-$n" got-list >d && pass "$n: buildah from oci-archive: same tree" || fail "$n: buildah from oci-archive: same tree" "$(head -20 d)"
			"${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1
		else
			fail "$n: buildah from oci-archive:" "$(tail -n 3 bf.err)"
		fi
	fi
done

# Docker -> OCI into a layout, read by skopeo, umoci, buildah
expect 0 "docker save -> layout (Docker->OCI)" oci-copy -q "$TD/docker-save.tar:example/app:1.0" conv:app
skopeo inspect oci:conv:app >/dev/null 2>sk.err && pass "skopeo reads the converted image" || fail "skopeo reads the converted image" "$(cat sk.err)"
rm -rf um
if umoci unpack "${um_opts[@]}" --image conv:app um >um.log 2>&1; then
	python3 "$LIB" tree um/rootfs got
	diff -u want-dsave got >d && pass "umoci unpacks the converted image: same tree" || fail "umoci: same tree" "$(head -20 d)"
else
	fail "umoci unpacks the converted image" "$(tail -n 3 um.log)"
fi
if [ $have_buildah -eq 1 ]; then
	"${BUILDAH[@]}" from -q oci:conv:app >/dev/null 2>bf.err && pass "buildah from oci: of the converted image" || fail "buildah from oci:" "$(tail -n 3 bf.err)"
fi
# several images in one archive: skopeo reads each by its ref
expect 0 "two images in one oci-archive" oci-copy -q src:new "$TD/docker-save.tar:example/app:1.0" two.tar
for r in new example/app:1.0; do
	skopeo inspect "oci-archive:two.tar:$r" >/dev/null 2>sk.err && pass "skopeo reads $r from the two-image archive" || fail "skopeo reads $r" "$(tail -n 2 sk.err)"
done
done_testing
