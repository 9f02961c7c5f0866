#!/bin/bash
# Writes onto a full small tmpfs: unpack, commit, diff --tar, repair -o. Each
# fails with exit 2, one line naming the real errno ("No space left on
# device", never "(null)" or a stale one), and leaves nothing behind: no
# bundle, no half copy, no blob or temporary file, no partial tar; so the
# same command can simply be run again.
. "$(dirname "$0")/test-lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! unshare -m true 2>/dev/null; then
	echo "1..0 # SKIP needs root to mount a small tmpfs"
	exit 0
fi

# in_full FILL_KB CMD...: run CMD (a bash snippet; $F is the tmpfs) in a
# private mount namespace with a 512 KiB tmpfs on $F, FILL_KB of it taken;
# then list what is left on it (besides the filler) into $TMP/left
F="$TMP/full"
mkdir -p "$F"
in_full() {
	local fill=$1
	shift
	run unshare -m bash -c '
		set -u
		mount -t tmpfs -o size=512k tmpfs "$F" || exit 99
		head -c $(($1 * 1024)) /dev/zero >"$F/.fill" 2>/dev/null
		shift
		eval "$1" 2>"$TMP/err.cmd"
		st=$?
		(cd "$F" && find . -mindepth 1 ! -name .fill ! -path "./L" ! -path "./L/*" | sort) >"$TMP/left"
		if [ -d "$F/L" ]; then (cd "$F/L" && find . | sort) >"$TMP/left.L"; fi
		exit $st' _ "$fill" "$@"
	cp "$TMP/err.cmd" "$TMP/err"
}
export F TMP

# an image a bit bigger than what is left on the tmpfs
python3 - "$TMP/img.json" <<'PY'
import json, random, sys
rnd = random.Random(7)
blob = lambda n: "".join(chr(rnd.randrange(33, 127)) for _ in range(n))
json.dump({"ref": "v1", "oci_archive": sys.argv[1].replace("img.json", "img.tar"),
           "layers": [["etc/", {"p": "etc/a", "c": blob(150000)}],
                      [{"p": "etc/b", "c": blob(150000)}]]}, open(sys.argv[1], "w"))
PY
python3 "$OCI_SOURCE_DIR/tests/e2e/lib-layers.py" build "$TMP/img" "$TMP/img.json" >/dev/null || fail "build the image"
ENOSPC='No space left on device'

check() { # check NAME: exit 2, one line naming ENOSPC, nothing left behind
	local name=$1
	if [ "$status" -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "$ENOSPC" "$TMP/err"; then
		pass "$name: exit 2, one line naming ENOSPC"
	else
		fail "$name: exit 2, one line naming ENOSPC" "exit $status: $(head -c 300 "$TMP/err")"
	fi
	is "$(cat "$TMP/left")" "" "$name: nothing left behind"
}

for fill in 350 450; do
	in_full $fill 'oci-unpack "$TMP/img:v1" "$F/bundle"'
	check "oci-unpack onto a full disk ($fill KiB taken)"

	in_full $fill 'oci-inspect --repair -o "$F/copy" "$TMP/img.tar"'
	check "oci-inspect --repair -o onto a full disk ($fill KiB taken)"
	unlike 'No such file|File exists|\(null\)' "repair -o: not a stale errno"

	in_full $fill 'oci-inspect -q --repair -o "$F/copy.tar" "$TMP/img.tar"'
	check "oci-inspect --repair -o ARCHIVE onto a full disk ($fill KiB taken)"
done

# diff --tar into a file on the full disk: the partial tar is cut back
oci-unpack -q "$TMP/img:v1" "$TMP/b" || fail "unpack"
head -c 400000 /dev/urandom >"$TMP/b/rootfs/new.bin"
in_full 200 'oci-diff --tar "$TMP/b" >"$F/layer.tar"'
check_tar() {
	if [ "$status" -eq 2 ] && grep -q "$ENOSPC" "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ]; then
		pass "oci-diff --tar >full: exit 2, one line naming ENOSPC"
	else
		fail "oci-diff --tar >full: exit 2, one line naming ENOSPC" "exit $status: $(head -c 300 "$TMP/err")"
	fi
}
check_tar
is "$(cat "$TMP/left")" "./layer.tar" "oci-diff --tar >full: only the shell's file is there"
in_full 200 'oci-diff --tar "$TMP/b" >"$F/layer.tar"; s=$?; stat -c %s "$F/layer.tar" >"$TMP/size"; exit $s'
is "$(cat "$TMP/size")" 0 "oci-diff --tar >full: the partial tar was cut back to nothing"

# commit into a layout on the full disk: the layout is as it was
in_full 0 'cp -r "$TMP/img" "$F/L" && head -c $((200 * 1024)) /dev/zero >"$F/.fill2"; (cd "$F/L" && find . | sort) >"$TMP/before.L"; rm -f "$F/.fill2"
	head -c $((420 * 1024)) /dev/zero >>"$F/.fill" 2>/dev/null
	oci-commit --compression none "$TMP/b" "$F/L:next"'
check "oci-commit onto a full disk"
is "$(cat "$TMP/left.L")" "$(cat "$TMP/before.L")" "oci-commit onto a full disk: the layout's files are as they were"
done_testing
