#!/usr/bin/env bash
# A layout's own files are untrusted (docs/security.md, "Layouts"): blobs/,
# blobs/sha256, index.json, oci-layout or a blob that is a symlink out of
# the layout is refused by every tool (exit 2, one line naming the file),
# and nothing outside the layout is read, listed, written or deleted through
# it: not by --repair --gc or its stray-file removal, not by --verify's
# listing, not by oci-commit writing its blobs. Symlinks that stay inside
# the layout still work.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/t0610-layout-lib.sh"

mk_outside
HEX() { echo "${1#*:}"; }

# ---- the layout's directories ----
fresh blobs
rm -rf "$TMP/blobs/blobs"
ln -s "$OUT/other/blobs" "$TMP/blobs/blobs"
every_tool "blobs -> outside" "$TMP/blobs" ': blobs: symbolic link out of the layout'

fresh sha
rm -rf "$TMP/sha/blobs/sha256"
ln -s "$OUT/other/blobs/sha256" "$TMP/sha/blobs/sha256"
every_tool "blobs/sha256 -> outside" "$TMP/sha" ': blobs/sha256: symbolic link out of the layout'

# an empty index: nothing reachable is damaged, so --gc would collect every
# blob it lists, and the stray-file pass every dot-file
for link in blobs blobs/sha256; do
	fresh empty
	rm -rf "${TMP:?}/empty/$link"
	ln -s "$OUT/other/$link" "$TMP/empty/$link"
	printf '{"schemaVersion":2,"manifests":[]}' >"$TMP/empty/index.json"
	for mode in --verify "--repair --gc" "--repair --gc --dry-run" --repair; do
		# shellcheck disable=SC2086
		refused "empty index, $link -> outside: oci-inspect $mode" \
			": $link: symbolic link out of the layout" oci-inspect $mode "$TMP/empty"
		unlike 'sha256:|stray' "empty index, $link -> outside: oci-inspect $mode lists nothing outside"
	done
	untouched "empty index, $link -> outside"
done

# ---- the layout's top-level files ----
fresh idx
ln -sf "$OUT/other/index.json" "$TMP/idx/index.json"
every_tool "index.json -> outside" "$TMP/idx" ': index.json: symbolic link out of the layout'

fresh ver
ln -sf "$OUT/other/oci-layout" "$TMP/ver/oci-layout"
every_tool "oci-layout -> outside" "$TMP/ver" ': oci-layout: symbolic link out of the layout'

# ---- blobs: absolute and relative symlinks out ----
fresh man
ln -sf "$OUT/other/blobs/sha256/$(HEX "$M_MAN")" "$(blobpath "$TMP/man" "$M_MAN")"
every_tool "manifest blob -> outside (absolute)" "$TMP/man" ": blobs/sha256/$(HEX "$M_MAN"): symbolic link out of the layout"

fresh cfg
ln -sf "../../../outside/other/blobs/sha256/$(HEX "$M_CFG")" "$(blobpath "$TMP/cfg" "$M_CFG")"
every_tool "config blob -> outside (relative)" "$TMP/cfg" ": blobs/sha256/$(HEX "$M_CFG"): symbolic link out of the layout"

fresh lay
ln -sf "../../../outside/other/blobs/sha256/$(HEX "$M_LAYER")" "$(blobpath "$TMP/lay" "$M_LAYER")"
every_tool "layer blob -> outside (relative)" "$TMP/lay" ": blobs/sha256/$(HEX "$M_LAYER"): symbolic link out of the layout" layer

# ---- oci-commit into such a layout: its blobs and index.json stay inside ----
for c in blobs sha idx ver; do
	case $c in
	blobs) re=': blobs: symbolic link out of the layout' ;;
	sha) re=': blobs/sha256: symbolic link out of the layout' ;;
	idx) re=': index.json: symbolic link out of the layout' ;;
	ver) re=': oci-layout: symbolic link out of the layout' ;;
	esac
	refused "oci-commit into a layout whose $c is a symlink out" "$re" \
		oci-commit --from "$TD/multi:v1" --env A=1 "$TMP/$c:new"
	refused "oci-commit of a directory into a layout whose $c is a symlink out" "$re" \
		oci-commit "$OCI_SOURCE_DIR/docs" "$TMP/$c:new"
	untouched "oci-commit into a layout whose $c is a symlink out"
done

# ---- symlinks that stay inside the layout are fine ----
fresh inside
mkdir "$TMP/inside/store"
mv "$(blobpath "$TMP/inside" "$M_LAYER")" "$TMP/inside/store/"
ln -s "../../store/$(HEX "$M_LAYER")" "$(blobpath "$TMP/inside" "$M_LAYER")"
expect 0 "a blob symlinked inside the layout: oci-inspect reads it" oci-inspect "$TMP/inside:v1"
expect 0 "a blob symlinked inside the layout: oci-unpack unpacks it" oci-unpack "$TMP/inside:v1" "$TMP/b-inside"
expect 0 "a blob symlinked inside the layout: --verify finds no problem" oci-inspect --verify "$TMP/inside"
fresh inside2
mv "$TMP/inside2/blobs/sha256" "$TMP/inside2/store256"
ln -s ../store256 "$TMP/inside2/blobs/sha256"
expect 0 "blobs/sha256 symlinked inside the layout: oci-inspect reads it" oci-inspect "$TMP/inside2:v1"
expect 0 "blobs/sha256 symlinked inside the layout: oci-commit writes into it" \
	oci-commit --from "$TMP/inside2:v1" --env A=1 "$TMP/inside2:new"
expect 0 "blobs/sha256 symlinked inside the layout: --verify after the commit" oci-inspect --verify "$TMP/inside2"
untouched "symlinks inside the layout"

done_testing
