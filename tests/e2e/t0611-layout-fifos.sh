#!/usr/bin/env bash
# A layout's own files are untrusted (docs/security.md, "Layouts"):
# index.json, oci-layout, a manifest, config or layer blob that is a FIFO (or
# a device, or not a directory where one belongs) makes no tool wait: every
# tool is refused at once (exit 2, one line naming the file and what it is),
# SIGTERM or not, and nothing outside the layout is touched.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/t0610-layout-lib.sh"

mk_outside
fifo() { rm -f "$1" && mkfifo "$1"; }
HEX() { echo "${1#*:}"; }

fresh idx
fifo "$TMP/idx/index.json"
every_tool "index.json a FIFO" "$TMP/idx" ': index.json: not a regular file \(FIFO\)'

fresh ver
fifo "$TMP/ver/oci-layout"
every_tool "oci-layout a FIFO" "$TMP/ver" ': oci-layout: not a regular file \(FIFO\)'

fresh man
fifo "$(blobpath "$TMP/man" "$M_MAN")"
every_tool "manifest blob a FIFO" "$TMP/man" ": blobs/sha256/$(HEX "$M_MAN"): not a regular file \(FIFO\)"

fresh cfg
fifo "$(blobpath "$TMP/cfg" "$M_CFG")"
every_tool "config blob a FIFO" "$TMP/cfg" ": blobs/sha256/$(HEX "$M_CFG"): not a regular file \(FIFO\)"

fresh lay
fifo "$(blobpath "$TMP/lay" "$M_LAYER")"
every_tool "layer blob a FIFO" "$TMP/lay" ": blobs/sha256/$(HEX "$M_LAYER"): not a regular file \(FIFO\)" layer

fresh shafifo
rm -rf "$TMP/shafifo/blobs/sha256"
mkfifo "$TMP/shafifo/blobs/sha256"
every_tool "blobs/sha256 a FIFO" "$TMP/shafifo" ': blobs/sha256: not a directory \(FIFO\)'

fresh blobsfile
rm -rf "$TMP/blobsfile/blobs"
echo x >"$TMP/blobsfile/blobs"
every_tool "blobs a regular file" "$TMP/blobsfile" ': blobs: not a directory \(regular file\)'

# a device node where a blob belongs (root only: mknod)
if mknod "$TMP/devnode" c 1 5 2>/dev/null; then
	rm -f "$TMP/devnode"
	fresh dev
	rm -f "$(blobpath "$TMP/dev" "$M_LAYER")"
	mknod "$(blobpath "$TMP/dev" "$M_LAYER")" c 1 5
	every_tool "layer blob a character device" "$TMP/dev" ": blobs/sha256/$(HEX "$M_LAYER"): not a regular file \(character device\)" layer
	fresh devidx
	rm -f "$TMP/devidx/index.json"
	mknod "$TMP/devidx/index.json" c 1 5
	every_tool "index.json a character device" "$TMP/devidx" ': index.json: not a regular file \(character device\)'
else
	_n=$((_n + 1))
	echo "ok $_n # SKIP device nodes need root"
fi

# oci-commit into such a layout: refused before it writes anything
for c in idx ver shafifo; do
	case $c in
	idx) re=': index.json: not a regular file \(FIFO\)' ;;
	ver) re=': oci-layout: not a regular file \(FIFO\)' ;;
	shafifo) re=': blobs/sha256: not a directory \(FIFO\)' ;;
	esac
	before=$(cd "$TMP/$c" && find . | sort)
	refused "oci-commit into a layout whose $c is a FIFO" "$re" \
		oci-commit --from "$TD/multi:v1" --env A=1 "$TMP/$c:new"
	is "$(cd "$TMP/$c" && find . | sort)" "$before" "oci-commit into a layout whose $c is a FIFO: nothing written"
done
untouched "oci-commit into a FIFO layout"

# a reader still waiting would be a hang whatever the signal: SIGTERM
# stops none of the above because none of them waits
fresh term
fifo "$TMP/term/index.json"
timeout -k 5 "$T" oci-inspect "$TMP/term" >/dev/null 2>&1
st=$?
[ "$st" -ne 124 ] && [ "$st" -ne 137 ]
ok $? "index.json a FIFO: oci-inspect ends before any signal is needed (status $st)"

done_testing
