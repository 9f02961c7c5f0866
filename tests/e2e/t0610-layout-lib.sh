# t0610-layout-lib.sh: sourced by the t061N-layout-*.sh tests (after
# test-lib.sh); not a test itself, so not in meson.build's list.
# A layout's own files are untrusted: helpers to plant a symlink out of the
# layout, a FIFO or a device in a fresh copy of a good layout, to run every
# tool on it under a timeout, and to check that a sentinel directory outside
# the layout is left exactly as it was (names, types, modes, sizes, times,
# link targets, contents).

# LAYOUT_TEST_TIMEOUT: seconds before a run counts as a hang (status 124)
T=${LAYOUT_TEST_TIMEOUT:-20}
V1=$(digest_of multi:v1)

blobpath() { echo "$1/blobs/${2%%:*}/${2#*:}"; }
# the pieces of multi:v1
M_MAN=$V1
M_CFG=$(jq -r .config.digest "$(blobpath "$TD/multi" "$V1")")
M_LAYER=$(jq -r '.layers[0].digest' "$(blobpath "$TD/multi" "$V1")")

# fresh NAME: a copy of the multi layout at $TMP/NAME
fresh() { rm -rf "${TMP:?}/$1"; cp -a "$TD/multi" "$TMP/$1"; }

# The sentinel: outside every layout under test, a directory holding files,
# dot-files and a whole other layout (whose blobs/sha256 the hostile layouts
# point at). snap lists everything about it, times to the nanosecond.
OUT=$TMP/outside
mk_outside() {
	rm -rf "$OUT"
	mkdir -p "$OUT/dir"
	cp -a "$TD/multi" "$OUT/other"
	printf 'precious\n' >"$OUT/file"
	printf 'dot\n' >"$OUT/dir/.tmp-stray"
	printf 'dot\n' >"$OUT/other/blobs/sha256/.tmp-1-abcdef"
	printf 'not a blob\n' >"$OUT/dir/notes"
	# a well-named blob that no hostile layout references: --gc bait
	printf 'bait\n' >"$OUT/other/blobs/sha256/$(printf 'bait\n' | sha256sum | cut -c1-64)"
	sleep 0.01
	snap >"$TMP/outside.snap"
}
snap() {
	(cd "$OUT" && find . -printf '%p %y %m %s %n %T@ %C@ %l\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}
# untouched NAME: the sentinel is still exactly as mk_outside left it
untouched() {
	local d
	d=$(snap | diff "$TMP/outside.snap" - | grep '^[<>]' | head -4)
	if [ -z "$d" ]; then
		pass "$1: nothing outside the layout touched"
	else
		fail "$1: nothing outside the layout touched" "$d"
		mk_outside # so that the next case is judged on its own
	fi
}

# refused NAME REGEX CMD...: within the timeout, exit 2 and one stderr line
# "oci-TOOL: ..." matching REGEX (the file and what it is)
refused() {
	local name=$1 re=$2 lines
	shift 2
	run timeout -k 5 "$T" "$@"
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		fail "$name: no hang" "timed out after ${T}s (status $status)"
		return 0
	fi
	lines=$(wc -l <"$TMP/err")
	if [ "$status" -eq 2 ] && [ "$lines" -eq 1 ] && grep -q '^oci-[a-z]*: ' "$TMP/err" &&
		grep -qE -- "$re" "$TMP/err"; then
		pass "$name: exit 2, one line naming it"
	else
		fail "$name: exit 2, one line naming it" "exit $status, $lines lines, want /$re/: $(head -c 300 "$TMP/err")"
	fi
}

# every_tool NAME LAYOUT REGEX [layer]: each tool, each mode, on LAYOUT (ref
# v1) is refused with REGEX, leaves the sentinel untouched and makes nothing.
# With "layer" the bad file is a layer blob, which plain oci-inspect never
# opens: it must just not hang.
every_tool() {
	local name=$1 L=$2 re=$3
	if [ "${4:-}" = layer ]; then
		run timeout -k 5 "$T" oci-inspect "$L:v1"
		[ "$status" -ne 124 ] && [ "$status" -ne 137 ]
		ok $? "$name: oci-inspect, which reads no layer blob, does not hang"
	else
		refused "$name: oci-inspect" "$re" oci-inspect "$L:v1"
		refused "$name: oci-inspect --json" "$re" oci-inspect --json "$L:v1"
	fi
	refused "$name: oci-inspect --files" "$re" oci-inspect --files "$L:v1"
	refused "$name: oci-inspect --verify" "$re" oci-inspect --verify "$L"
	refused "$name: oci-inspect --repair --dry-run" "$re" oci-inspect --repair --dry-run "$L"
	refused "$name: oci-inspect --repair --dry-run --gc" "$re" oci-inspect --repair --dry-run --gc "$L"
	refused "$name: oci-inspect --repair" "$re" oci-inspect --repair "$L"
	refused "$name: oci-inspect --repair --gc" "$re" oci-inspect --repair --gc "$L"
	rm -rf "$TMP/bundle"
	refused "$name: oci-unpack" "$re" oci-unpack "$L:v1" "$TMP/bundle"
	[ ! -e "$TMP/bundle" ]
	ok $? "$name: oci-unpack left no bundle"
	refused "$name: oci-diff IMAGE IMAGE" "$re" oci-diff "$L:v1" "$TD/multi:v1"
	rm -rf "$TMP/dest"
	refused "$name: oci-commit from it" "$re" oci-commit --from "$L:v1" --env A=1 "$TMP/dest:x"
	[ ! -e "$TMP/dest" ]
	ok $? "$name: oci-commit from it made no layout"
	untouched "$name"
}
