# lib-interop.sh: sourced by the t07NN interop tests (after test-lib.sh); not
# a test itself. Images made by other tools (umoci, buildah, skopeo, podman)
# are read by ours: `oci-inspect --verify` clean, `oci-unpack` giving the
# tree umoci gives for the same image (umoci as the oracle) and the source
# directory's content. A tool that is missing skips its checks.

LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
# test-lib's fail() marks only the first line of a diagnostic as a comment
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'; return 0; }
skip() { _n=$((_n + 1)); echo "ok $_n # SKIP $1"; }
# skip_n N WHY: N checks skipped
skip_n() { local i; for ((i = 0; i < $1; i++)); do skip "$2"; done; }
have() { command -v "$1" >/dev/null 2>&1; }
ROOT=false
[ "$(id -u)" -eq 0 ] && ROOT=true

# step NAME CMD...: a setup step by another tool; its output kept for a failure
step() {
	local name=$1
	shift
	if "$@" >"$TMP/step.log" 2>&1; then
		pass "$name"
		return 0
	fi
	fail "$name" "$(tail -n 8 "$TMP/step.log")"
	return 1
}

# mksrc DIR: the source tree every tool packs: directories with their own
# modes, files, an empty one, a setuid one, symlinks, a hard link, an xattr,
# owners other than root (when root), fixed mtimes
mksrc() {
	local d=$1
	mkdir -p "$d/app/sub" "$d/etc" "$d/opt/empty"
	printf 'hello\n' >"$d/app/hello.txt"
	printf 'deeper\n' >"$d/app/sub/deep.txt"
	printf 'NAME=interop\n' >"$d/etc/os-release"
	: >"$d/app/empty"
	printf '#!/bin/sh\n' >"$d/app/tool"
	ln -s hello.txt "$d/app/link"
	ln -s /etc/os-release "$d/app/abs-link"
	ln "$d/app/hello.txt" "$d/app/hard"
	chmod 0750 "$d/app/sub"
	chmod 0600 "$d/app/sub/deep.txt"
	chmod 4755 "$d/app/tool"
	chmod 0700 "$d/opt/empty"
	setfattr -n user.note -v interop "$d/app/hello.txt" 2>/dev/null || true
	if $ROOT; then
		chown -R 1000:1000 "$d/app/sub"
		chown 0:50 "$d/etc/os-release"
	fi
	find "$d" -exec touch -h -d @1700000000 {} +
}

# tree_of DIR OUT [--brief]: the listing lib-layers.py gives (modes, owners,
# content, link targets, xattrs and mtimes; --brief: names and content only)
tree_of() { python3 "$LIB" tree ${3:---mtime} "$1" >"$2"; }

# oracle LAYOUT REF OUT: umoci's unpack of the image, listed
oracle() {
	local b="$TMP/oracle-$RANDOM"
	local ro=""
	$ROOT || ro=--rootless
	if ! umoci unpack $ro --image "$1:$2" "$b" >"$TMP/umoci.log" 2>&1; then
		cat "$TMP/umoci.log" >&2
		return 1
	fi
	tree_of "$b/rootfs" "$3"
	rm -rf "$b"
}

# check NAME IMAGE WANT [WANT_BRIEF]: ours reads IMAGE: --verify clean,
# unpack equal to WANT (a tree listing), and its content to WANT_BRIEF
check() {
	local name=$1 img=$2 want=$3 brief=${4:-} u="$TMP/ours-$RANDOM"
	expect 0 "$name: --verify exits 0" oci-inspect --verify "$img"
	is "$(out)" "" "$name: --verify has nothing to say"
	expect 0 "$name: unpack" oci-unpack --rootfs "$img" "$u"
	if [ "$status" -ne 0 ]; then
		fail "$name: the tree umoci gives" "no rootfs"
		[ -n "$brief" ] && fail "$name: the source's content" "no rootfs"
		return
	fi
	tree_of "$u" "$TMP/got"
	if diff -u "$want" "$TMP/got" >"$TMP/diff"; then
		pass "$name: the tree umoci gives"
	else
		fail "$name: the tree umoci gives" "$(cat "$TMP/diff")"
	fi
	if [ -n "$brief" ]; then
		tree_of "$u" "$TMP/got-brief" --brief
		if diff -u "$brief" "$TMP/got-brief" >"$TMP/diff"; then
			pass "$name: the source's content"
		else
			fail "$name: the source's content" "$(cat "$TMP/diff")"
		fi
	fi
	rm -rf "$u"
}
CHECK_N=5 # checks in one check() with a brief tree
