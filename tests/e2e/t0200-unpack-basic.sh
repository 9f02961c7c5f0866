#!/usr/bin/env bash
# oci-unpack: usage, the bundle of multi:v1 (tree, config.json, record),
# --rootfs, the BUNDLE rules, and every input form against expected/*.tree.
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'; return 0; }

VERSION=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$OCI_SOURCE_DIR/meson.build" | head -n1)
V1=$(digest_of multi:v1)
CFG1=$(jq -r .config.digest "$TD/multi/blobs/sha256/${V1#sha256:}")

# shtree ROOT: the tree under ROOT in the format of expected/*.tree, made with
# find/stat/sha256sum/getfattr (independent of lib-layers.py). Hard links:
# the first path of an inode (in sorted order) is the file, the others link to it.
shtree() {
	local root=$1 p y m u g ino n s l line
	declare -A seen=()
	(cd "$root" && find . -mindepth 1 -printf '%P\t%y\t%m\t%U\t%G\t%i\t%n\t%s\t%l\n') | sort |
		while IFS=$'\t' read -r p y m u g ino n s l; do
			line="$p"
			case $y in
			d) line+=" dir" ;; l) line+=" symlink" ;; p) line+=" fifo" ;;
			c) line+=" char" ;; b) line+=" block" ;; s) line+=" socket" ;;
			f) if [ "$n" -gt 1 ] && [ -n "${seen[$ino]:-}" ]; then line+=" hardlink"; else line+=" file"; fi ;;
			esac
			line+=" $(printf '%04o' "$((8#$m))") $u:$g"
			case $y in
			f)
				if [ "$n" -gt 1 ] && [ -n "${seen[$ino]:-}" ]; then line+=" link=${seen[$ino]}"; fi
				[ "$n" -gt 1 ] && [ -z "${seen[$ino]:-}" ] && seen[$ino]=$p
				line+=" size=$s sha256=$(sha256sum <"$root/$p" | cut -d' ' -f1)"
				;;
			l) line+=" target=$l" ;;
			c | b) line+=" rdev=$(stat -c '%Hr,%Lr' "$root/$p")" ;;
			esac
			while IFS= read -r x; do
				case $x in '' | '#'* | security.selinux=*) continue ;; esac
				k=${x%%=*} v=${x#*=}
				v=${v#\"} v=${v%\"}
				line+=" xattr.$k=$v"
			done < <(getfattr -h -d -m - --absolute-names "$root/$p" 2>/dev/null | sort)
			printf '%s\n' "$line"
		done
}

# tree_is ROOT EXPECTED-FILE NAME
tree_is() {
	if [ ! -d "$1" ]; then
		fail "$3" "no directory $1"
		return
	fi
	shtree "$1" >"$TMP/tree.got"
	if diff -u "$2" "$TMP/tree.got" >"$TMP/tree.diff"; then
		pass "$3"
	else
		fail "$3" "$(cat "$TMP/tree.diff")"
	fi
}

# no_temp DIR NAME: no .*.unpack-* left in DIR
no_temp() {
	local left
	left=$(find "$1" -maxdepth 1 -name '.*.unpack-*' | head -n3)
	is "$left" "" "$2"
}

# ---- --help / --version ----
expect 0 "--help exits 0" oci-unpack --help
like '^Usage: oci-unpack ' "--help prints Usage on stdout"
is "$(wc -c <"$TMP/err")" 0 "--help writes nothing on stderr"
for o in --rootfs --rootless --platform --quiet --progress --version; do
	like "$o" "--help mentions $o"
done
expect 0 "--version exits 0" oci-unpack --version
is "$(out)" "oci-unpack $VERSION" "--version prints 'oci-unpack VERSION'"
is "$(wc -c <"$TMP/err")" 0 "--version writes nothing on stderr"

# ---- usage errors: exit 2, one line on stderr, nothing created ----
mkdir "$TMP/u"
cd "$TMP/u" || exit 1
expect_fail "unknown long option: exit 2, one 'oci-unpack: ' line" oci-unpack --bogus "$TD/multi:v1" b
err_like 'bogus' "unknown long option: the message names it"
expect_fail "unknown short option: exit 2, one line" oci-unpack -Z "$TD/multi:v1" b
expect_fail "--platform without its argument: exit 2, one line" oci-unpack "$TD/multi:v1" b --platform
expect_fail "no arguments: exit 2" oci-unpack
expect_fail "IMAGE without BUNDLE: exit 2" oci-unpack "$TD/multi:v1"
expect_fail "three arguments: exit 2" oci-unpack "$TD/multi:v1" b c
err_like 'too many' "three arguments: says too many"
expect_fail "--platform garbage: exit 2" oci-unpack --platform nonsense "$TD/multi:v1" b
err_like 'nonsense' "--platform garbage: names the value"
expect_fail "missing image: exit 2, one line" oci-unpack "$TMP/nonexistent:v1" b
err_like "^oci-unpack: $TMP/nonexistent" "missing image: the message names the image"
expect_fail "unknown ref: exit 2" oci-unpack "$TD/multi:v9" b
err_like 'v9' "unknown ref: names it"
expect_fail "no ref in a layout of two: exit 2" oci-unpack "$TD/multi" b
err_like 'v1' "no ref in a layout of two: the message lists v1"
err_like 'v2' "no ref in a layout of two: the message lists v2"
expect_fail "platform absent from the index: exit 2" oci-unpack --platform linux/s390x "$TD/multiarch:latest" b
err_like 'linux/arm64' "platform absent: the message lists the platforms present"
expect_fail "BUNDLE in a missing directory: exit 2" oci-unpack "$TD/multi:v1" "$TMP/u/no/such/b"
is "$(ls -A "$TMP/u")" "" "usage errors and failures create nothing"

# ---- multi:v1 into a new directory ----
cd "$TMP" || exit 1
B=$TMP/b1
expect 0 "unpack multi:v1 into a new BUNDLE: exit 0" oci-unpack "$TD/multi:v1" "$B"
is "$(wc -c <"$TMP/out")" 0 "unpack: nothing on stdout"
err_like '^oci-unpack: ' "unpack: a note on stderr naming the tool"
is "$(ls "$B" | tr '\n' ' ')" "config.json oci-unpack.record rootfs " "BUNDLE holds config.json, the record and rootfs/"
no_temp "$TMP" "no temporary directory left next to BUNDLE"
R=$B/rootfs
tree_is "$R" "$TD/expected/multi-v1.tree" "rootfs of multi:v1 equals expected/multi-v1.tree"
python3 "$OCI_SOURCE_DIR/tests/e2e/lib-layers.py" tree "$R" >"$TMP/tree.py"
if cmp -s "$TMP/tree.py" "$TD/expected/multi-v1.tree"; then pass "lib-layers.py tree agrees"; else fail "lib-layers.py tree agrees" "$(diff "$TD/expected/multi-v1.tree" "$TMP/tree.py")"; fi
is "$(stat -c %a "$R/bin/tool")" 4755 "bin/tool is setuid 4755"
is "$(stat -c %i "$R/bin/tool2")" "$(stat -c %i "$R/bin/tool")" "bin/tool2 is a hard link of bin/tool (same inode)"
is "$(stat -c %h "$R/bin/tool")" 2 "bin/tool has 2 links"
is "$(stat -c %u:%g "$R/home/app" "$R/home/app/notes.txt" | tr '\n' ' ')" "1000:1000 1000:1000 " "home/app and notes.txt owned by 1000:1000"
is "$(stat -c %a "$R/tmp")" 1777 "tmp is 1777 (sticky)"
if [ -p "$R/tmp/fifo" ]; then pass "tmp/fifo is a FIFO"; else fail "tmp/fifo is a FIFO"; fi
is "$(readlink "$R/usr/lib/libx.so")" libx.so.1 "usr/lib/libx.so -> libx.so.1"
is "$(getfattr -n user.test --only-values "$R/etc/xattr-file" 2>/dev/null)" hello "etc/xattr-file has user.test=hello"
is "$(cat "$R/etc/hostname")" again "etc/hostname is layer 3's (whited out in layer 2)"
if [ ! -e "$R/etc/conf.d/a.conf" ] && [ -f "$R/etc/conf.d/c.conf" ]; then pass "opaque etc/conf.d: only c.conf"; else fail "opaque etc/conf.d: only c.conf"; fi
if [ ! -e "$R/var/cache/big.bin" ] && [ "$(cat "$R/var/cache/fresh.txt")" = fresh ]; then
	pass "var/.wh.cache after var/cache/fresh.txt: fresh.txt stays, big.bin gone"
else
	fail "var/.wh.cache after var/cache/fresh.txt: fresh.txt stays, big.bin gone"
fi
is "$(find "$R" -mindepth 1 -printf '%T@\n' | sort -u)" "1700000000.0000000000" "every entry (directories and symlinks too) keeps its mtime"
is "$(find "$R" -mindepth 1 -name '.wh.*' | head -n1)" "" "no .wh.* file in the rootfs"

# config.json
C=$B/config.json
if jq -e . "$C" >/dev/null 2>&1; then pass "config.json is JSON"; else fail "config.json is JSON"; fi
is "$(jq -c .process.args "$C")" '["/bin/tool","--help"]' "process.args = Entrypoint + Cmd"
is "$(jq -r .process.cwd "$C")" /srv "process.cwd = WorkingDir"
is "$(jq -c .process.env "$C")" '["PATH=/usr/bin:/bin","LANG=C.UTF-8"]' "process.env = Env"
is "$(jq -c '[.process.user.uid, .process.user.gid]' "$C")" '[1000,1000]' "user app resolved from the image's /etc/passwd: 1000/1000"
is "$(jq -r .root.path "$C")" rootfs "root.path = rootfs"
is "$(jq -r '.ociVersion | test("^1\\.[0-9]+\\.[0-9]+$")' "$C")" true "ociVersion is 1.x.y"
is "$(jq -r '.annotations["org.opencontainers.image.stopSignal"]' "$C")" SIGTERM "annotation stopSignal"
is "$(jq -r '.annotations["org.opencontainers.image.exposedPorts"]' "$C")" 8080/tcp "annotation exposedPorts"
is "$(jq -r '.annotations["org.example.name"]' "$C")" multi "labels become annotations"
is "$(jq -r '[.linux.namespaces[].type] | sort | join(",")' "$C")" cgroup,ipc,mount,network,pid,uts "root: the runc-like namespaces (no user namespace)"
is "$(jq -r '.linux.uidMappings // "none"' "$C")" none "root: no uidMappings"
is "$(jq -r '[.mounts[].destination] | index("/proc") != null' "$C")" true "mounts include /proc"
is "$(jq -r '.linux.maskedPaths | length > 0' "$C")" true "maskedPaths set"

# the record
REC=$B/oci-unpack.record
if [ -f "$REC" ]; then pass "oci-unpack.record exists"; else fail "oci-unpack.record exists"; fi
is "$(sed -n 1p "$REC")" "oci-unpack-record 2" "record: magic line"
is "$(sed -n 2p "$REC")" "source $TD/multi:v1" "record: source image"
is "$(sed -n 3p "$REC")" "manifest $V1" "record: the manifest digest from manifest.txt"
is "$(sed -n 4p "$REC")" "config $CFG1" "record: the config digest"
is "$(sed -n 5p "$REC")" "rootless 0" "record: rootless 0 as root"
nrec=$(grep -c $'^/' "$REC")
is "$(sed -n 6p "$REC")" "count $nrec" "record: count matches the path lines"
is "$nrec" "$(($(wc -l <"$TD/expected/multi-v1.tree") + 1))" "record: one line per path, and one for /"
missing=$(cut -d' ' -f1 "$TD/expected/multi-v1.tree" | while read -r p; do grep -q "^/$p"$'\t' "$REC" || echo "$p"; done)
is "$missing" "" "record: every expected path has its line"
recf() { awk -F'\t' -v p="/$1" -v c="$2" '$1 == p { print $c }' "$REC"; }
is "$(recf bin/tool 2)" 104755 "record: bin/tool mode 104755"
is "$(recf home/app/notes.txt 3):$(recf home/app/notes.txt 4)" 1000:1000 "record: notes.txt owner 1000:1000"
is "$(recf bin/tool 11)" "sha256:$(sha256sum <"$R/bin/tool" | cut -d' ' -f1)" "record: bin/tool content digest"
is "$(recf bin/tool 9)" "$(stat -c %i "$R/bin/tool")" "record: bin/tool's inode"
is "$(recf bin/tool2 9)" "$(recf bin/tool 9)" "record: bin/tool2 has bin/tool's inode"
is "$(recf bin/tool 5)" 2 "record: bin/tool has 2 links"
is "$(recf usr/lib/libx.so 12)" libx.so.1 "record: symlink target"
is "$(recf etc/xattr-file 13)" user.test=68656c6c6f "record: xattr user.test (hex)"
is "$(recf tmp/fifo 2)" 10644 "record: tmp/fifo is a FIFO 0644"
is "$(recf etc/hostname 7)" 1700000000000000000 "record: mtime in ns"

# ---- --rootfs ----
expect 0 "--rootfs: exit 0" oci-unpack --rootfs "$TD/multi:v1" "$TMP/r1"
tree_is "$TMP/r1" "$TD/expected/multi-v1.tree" "--rootfs: BUNDLE is the tree itself"
if [ ! -e "$TMP/r1/config.json" ] && [ ! -e "$TMP/r1/oci-unpack.record" ] && [ ! -e "$TMP/r1/rootfs" ]; then
	pass "--rootfs: no config.json, no record, no rootfs/"
else
	fail "--rootfs: no config.json, no record, no rootfs/"
fi

# ---- BUNDLE existing: empty is fine, non-empty is refused and left alone ----
mkdir "$TMP/empty"
expect 0 "existing empty BUNDLE: exit 0" oci-unpack "$TD/multi:v2" "$TMP/empty"
tree_is "$TMP/empty/rootfs" "$TD/expected/multi-v2.tree" "existing empty BUNDLE: filled with multi:v2"
mkdir "$TMP/mnt"
trap 'umount "$TMP/mnt" 2>/dev/null; rm -rf "$TMP"' EXIT
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs oci-test "$TMP/mnt" 2>/dev/null; then
	expect 0 "existing empty BUNDLE that is a mount point: exit 0" oci-unpack "$TD/multi:v2" "$TMP/mnt"
	tree_is "$TMP/mnt/rootfs" "$TD/expected/multi-v2.tree" "existing empty mount point: filled with multi:v2"
	is "$(findmnt -n -o FSTYPE --mountpoint "$TMP/mnt")" tmpfs "existing empty mount point: still the mount"
	umount "$TMP/mnt"
fi
mkdir "$TMP/full"
echo keep >"$TMP/full/mine"
touch -d @1600000000 "$TMP/full/mine" "$TMP/full"
before=$(find "$TMP/full" -printf '%P %y %m %s %T@\n' | sort)
expect_fail "existing non-empty BUNDLE: exit 2, one line" oci-unpack "$TD/multi:v1" "$TMP/full"
err_like 'not empty' "existing non-empty BUNDLE: says not empty"
is "$(find "$TMP/full" -printf '%P %y %m %s %T@\n' | sort)" "$before" "existing non-empty BUNDLE: untouched"
echo x >"$TMP/afile"
expect_fail "BUNDLE is a file: exit 2" oci-unpack "$TD/multi:v1" "$TMP/afile"
is "$(cat "$TMP/afile")" x "BUNDLE is a file: untouched"
expect_fail "BUNDLE the same again (now non-empty): exit 2" oci-unpack "$TD/multi:v1" "$B"
no_temp "$TMP" "after the failures: no temporary directory left"

# ---- other images and input forms ----
# unpack_is NAME EXPECTED-TREE OCI-UNPACK-ARGS...
n=0
unpack_is() {
	local name=$1 exp=$2
	shift 2
	n=$((n + 1))
	local b=$TMP/f$n
	expect 0 "$name: exit 0" oci-unpack "$@" "$b"
	if [ -n "$exp" ]; then tree_is "$b/rootfs" "$exp" "$name: tree equals $(basename "$exp")"; fi
	BUN=$b
}
unpack_is "zstd:latest" "$TD/expected/zstd-latest.tree" "$TD/zstd:latest"
unpack_is "docker-mt:docker (Docker media types)" "$TD/expected/docker-mt-docker.tree" "$TD/docker-mt:docker"
is "$(sed -n 3p "$BUN/oci-unpack.record")" "manifest $(digest_of docker-mt:docker)" "docker-mt: record has its manifest digest"
unpack_is "multiarch:latest --platform linux/arm64" "" --platform linux/arm64 "$TD/multiarch:latest"
is "$(cat "$BUN/rootfs/etc/arch" 2>/dev/null)" "linux/arm64/v8" "linux/arm64: etc/arch says arm64"
is "$(sed -n 3p "$BUN/oci-unpack.record")" "manifest $(awk '$1 == "oci" && $2 == "linux/arm64/v8" { print $3 }' "$TD/expected/multiarch.platforms")" "linux/arm64: the record names the arm64 manifest"
is "$(jq -r '.annotations["org.opencontainers.image.architecture"]' "$BUN/config.json")" arm64 "linux/arm64: config.json says arm64"
unpack_is "multiarch:latest --platform linux/arm/v7 (nested index)" "" --platform linux/arm/v7 "$TD/multiarch:latest"
is "$(cat "$BUN/rootfs/etc/arch" 2>/dev/null)" "linux/arm/v7" "linux/arm/v7: etc/arch from the nested index"
unpack_is "multiarch:dockerlist --platform linux/arm64/v8" "" --platform linux/arm64/v8 "$TD/multiarch:dockerlist"
is "$(cat "$BUN/rootfs/etc/arch" 2>/dev/null)" "linux/arm64/v8" "dockerlist linux/arm64/v8: etc/arch"
unpack_is "multiarch.tar:latest --platform linux/386" "" --platform linux/386 "$TD/multiarch.tar:latest"
is "$(cat "$BUN/rootfs/etc/arch" 2>/dev/null)" "linux/386" "multiarch.tar linux/386: etc/arch"
unpack_is "multi@DIGEST" "$TD/expected/multi-v1.tree" "$TD/multi@$V1"
unpack_is "docker-save.tar:1.0" "$TD/expected/docker-save.tree" "$TD/docker-save.tar:1.0"
unpack_is "docker-save.tar:example/app:latest" "$TD/expected/docker-save.tree" "$TD/docker-save.tar:example/app:latest"
unpack_is "multi.tar:v1" "$TD/expected/multi-v1.tree" "$TD/multi.tar:v1"
unpack_is "multi.tar.gz:v1" "$TD/expected/multi-v1.tree" "$TD/multi.tar.gz:v1"
unpack_is "multi.tar.zst:v2" "$TD/expected/multi-v2.tree" "$TD/multi.tar.zst:v2"
unpack_is "docker-save-oci.tar:1.0" "$TD/expected/docker-save-oci.tree" "$TD/docker-save-oci.tar:1.0"

# stdin, written as the contract names it: -:REF
n=$((n + 1))
run oci-unpack -:v1 "$TMP/f$n" <"$TD/multi.tar"
is "$status" 0 "stdin: 'oci-unpack -:v1 B < multi.tar' exits 0"
if [ -d "$TMP/f$n/rootfs" ]; then tree_is "$TMP/f$n/rootfs" "$TD/expected/multi-v1.tree" "stdin -:v1: tree"; else fail "stdin -:v1: tree" "no rootfs: $(err)"; fi
n=$((n + 1))
expect 0 "stdin after --: 'oci-unpack -- -:v1 B < multi.tar.gz' exits 0" oci-unpack -- -:v1 "$TMP/f$n" <"$TD/multi.tar.gz"
tree_is "$TMP/f$n/rootfs" "$TD/expected/multi-v1.tree" "stdin (gzip) -- -:v1: tree"
is "$(sed -n 3p "$TMP/f$n/oci-unpack.record")" "manifest $V1" "stdin: the record has the manifest digest"
n=$((n + 1))
expect 0 "stdin docker-save: '- B < docker-save-oci.tar' (one image) exits 0" oci-unpack - "$TMP/f$n" <"$TD/docker-save-oci.tar"
tree_is "$TMP/f$n/rootfs" "$TD/expected/docker-save-oci.tree" "stdin docker-save-oci.tar: tree"

# -q: nothing on stderr on success
expect 0 "-q: exit 0" oci-unpack -q "$TD/multi:v2" "$TMP/q1"
is "$(wc -c <"$TMP/err")" 0 "-q: nothing on stderr"
no_temp "$TMP" "at the end: no temporary directory left"

done_testing
