#!/usr/bin/env bash
# The merged stream is the unpacked tree, for random layer sequences: for each
# image, oci-unpack IMAGE B against oci-unpack IMAGE - (the stream) committed as
# a layer and unpacked again, and against GNU tar -x of the stream in a scratch
# directory (which must not write outside it, whatever the symlinks say).
# OCI_MERGE_SEED and OCI_MERGE_COUNT change the sequence and its length.
. "$(dirname "$0")/test-lib.sh"
CHECK=$OCI_SOURCE_DIR/tests/e2e/lib-mergecheck.py
SEED=${OCI_MERGE_SEED:-20261206}
COUNT=${OCI_MERGE_COUNT:-150}
umask 022
START=$(date +%s)
OUTSIDE=$TMP/outside
mkdir -p "$OUTSIDE/sub"

python3 "$CHECK" gen "$SEED" "$COUNT" "$TMP/img" "$OUTSIDE" >"$TMP/names" || { echo "Bail out! lib-mergecheck.py gen failed"; exit 1; }

# run_case IMAGE DIR: what lib-mergecheck.py check reads
run_case() {
	local img=$1 c=$2
	mkdir -p "$c/X"
	oci-unpack -q "$img" "$c/B" 2>"$c/err.disk"
	echo $? >"$c/rc.disk"
	oci-unpack "$img" - >"$c/s.tar" 2>"$c/err.stream"
	echo $? >"$c/rc.stream"
	[ "$(cat "$c/rc.disk")$(cat "$c/rc.stream")" = 00 ] || return 0
	oci-commit -q --compression none --layer "$c/s.tar" "$c/L:t" >/dev/null 2>"$c/err.b2" &&
		oci-unpack -q "$c/L:t" "$c/B2" 2>>"$c/err.b2"
	echo $? >"$c/rc.b2"
	tar -x -C "$c/X" -f "$c/s.tar" --numeric-owner --same-owner -p --xattrs --xattrs-include='*' 2>"$c/err.x"
	echo $? >"$c/rc.x"
}

cases=()
while read -r name; do
	run_case "$TMP/img/$name:t" "$TMP/c/$name"
	cases+=("$TMP/c/$name")
done <"$TMP/names"
python3 "$CHECK" check "$START" "${cases[@]}" >"$TMP/results" || { echo "Bail out! lib-mergecheck.py check failed"; exit 1; }

# label CASE: a random image says its seed, a hostile case its layers
label() {
	case $1 in
	h*) echo "hostile ${1%% *} $(python3 -c 'import json,sys; print(json.dumps([L["entries"] for L in json.load(open(sys.argv[1]))["layers"]]))' "$TMP/img/${1%% *}.json" | sed "s#$OUTSIDE#OUTSIDE#g")$([ "${1#* }" != "$1" ] && echo " ${1#* }")" ;;
	*) echo "seed $SEED $1" ;;
	esac
}
both=0 refused=0
while IFS= read -r line; do
	case $line in
	PASS*"(both refuse)") refused=$((refused + 1)); pass "$(label "${line#PASS }"), with the same error" ;;
	PASS*) both=$((both + 1)); pass "$(label "${line#PASS }"): the stream extracted (oci-unpack, GNU tar) = the unpacked tree" ;;
	FAIL*) name=${line#FAIL }; fail "$(label "${name%%:*}")" "$(awk -v n="${name%%:*}" '$0 ~ "^(PASS|FAIL) " { p = ($2 == n || $2 == n ":") } p' "$TMP/results" | head -n 60)"; diag "spec: $(cat "$TMP/img/${name%%:*}.json")" ;;
	esac
done < <(grep -E '^(PASS|FAIL) ' "$TMP/results")
diag "$both images unpacked both ways, $refused refused both ways"
# enough of the images must unpack for the comparison to mean something
if [ "$both" -ge $((COUNT / 3)) ]; then pass "at least a third of the images unpack ($both)"; else fail "at least a third of the images unpack ($both)"; fi
is "$(find "$OUTSIDE" -mindepth 1 | grep -vx "$OUTSIDE/sub" | head -n 5)" "" "nothing was written outside the scratch directories (symlinks into $OUTSIDE)"

# OCI_MERGE_KEEP=DIR keeps the images and what was made of them, to look at
[ -n "${OCI_MERGE_KEEP:-}" ] && mkdir -p "$OCI_MERGE_KEEP" && cp -a "$TMP/img" "$TMP/c" "$TMP/results" "$OCI_MERGE_KEEP/"
done_testing
