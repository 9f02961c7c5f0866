#!/usr/bin/env bash
# --verify and --repair on the hostile layouts of the test data (ref "bad",
# one defect each): --verify names the defect (exit 1, never a crash, never
# exit 2 for a layout it can open), and --repair on a copy fixes what is a
# wrong descriptor or a missing oci-layout, names the rest, and never deletes
# a blob or the ref.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/t0600-verify-lib.sh"

# case KIND REFS FIXABLE (REFS "*": not checked here; see t0604 for a bad
# descriptor in index.json)
want() {
	case $1 in
	config-not-json) echo "json bad no" ;;
	deep-json) echo "json bad no" ;;
	deep-nesting) echo "index bad no" ;;
	diffid-mismatch) echo "diffid bad no" ;;
	digest-algo | digest-path | digest-short | digest-upper) echo "index * no" ;;
	digest-mismatch) echo "digest bad no" ;;
	duplicate-keys) echo "json bad no" ;;
	garbage-json) echo "json bad no" ;;
	huge-json) echo "json bad no" ;;
	index-json-garbage) echo "index - yes" ;;
	index-loop) echo "digest bad no" ;;
	missing-blob) echo "missing bad no" ;;
	missing-layer) echo "missing bad no" ;;
	missing-layers-field) echo "json bad no" ;;
	no-oci-layout) echo "layout - yes" ;;
	size-mismatch-index) echo "size bad yes" ;;
	size-mismatch-layer) echo "size bad yes" ;;
	trailing-garbage) echo "json bad no" ;;
	truncated-json) echo "json bad no" ;;
	wrong-mediatype) echo "mediatype bad yes" ;;
	wrong-schema) echo "json bad no" ;;
	wrong-types) echo "json bad yes" ;;
	*) echo "? ? ?" ;;
	esac
}

while IFS=$'\t' read -r c _; do
	[ -d "$TD/hostile/$c" ] || continue
	read -r kind refs fixable <<<"$(want "$c")"
	if [ "$kind" = "?" ]; then
		fail "$c: a case this test knows" "add it to want()"
		continue
	fi
	run timeout 60 oci-inspect --verify "$TD/hostile/$c"
	is "$status" 1 "$c: --verify exits 1"
	is "$(problems | wc -l)" 1 "$c: one problem line"
	is "$(problems | awk '{ print $1 }')" "$kind" "$c: KIND $kind"
	[ "$refs" != "*" ] && is "$(problems | awk '{ print $3 }')" "$refs" "$c: REFS $refs"
	well_formed "$c: lines well formed"
	grep -qv '^oci-inspect: [0-9]* problems\?, ' "$TMP/err"
	ok $((!$?)) "$c: nothing on stderr but the summary"

	rm -rf "$TMP/h"
	cp -a "$TD/hostile/$c" "$TMP/h"
	nb=$(blob_count "$TMP/h")
	run timeout 60 oci-inspect --repair "$TMP/h"
	if [ "$fixable" = yes ]; then
		is "$status" 0 "$c: --repair exits 0"
		run oci-inspect --verify "$TMP/h"
		is "$status" 0 "$c: --verify after --repair exits 0"
	else
		is "$status" 1 "$c: --repair exits 1 (it cannot fix this)"
		is "$(problems | awk '{ print $1 }' | sort -u | paste -sd,)" "$kind" "$c: --repair names the $kind problem"
	fi
	[ "$(blob_count "$TMP/h")" -ge "$nb" ]
	ok $? "$c: --repair deletes no blob"
	[ "$c" = index-json-garbage ] ||
		is "$(ref_names "$TMP/h")" bad "$c: --repair keeps the ref"
done <"$TD/expected/hostile.txt"

# the digest-path case: nothing outside the layout is read for it or written
[ -f /etc/passwd ] && is "$(find "$TMP" -name passwd | wc -l)" 0 "digest-path: nothing named passwd appears"

done_testing
