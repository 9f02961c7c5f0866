#!/usr/bin/env bash
# oci-commit under concurrency: 8 commits to one layout at once (different
# refs: all land), the same into a layout that does not exist yet, many
# config-only commits at once, then 8 commits to the same ref (exactly one
# descriptor with it, pointing at one of the 8 manifests).
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'; return 0; }

# eight bundles, each with its own change
for i in 1 2 3 4 5 6 7 8; do
	oci-unpack -q "$TD/multi:v1" "$TMP/b$i" || { echo "Bail out! oci-unpack failed"; exit 1; }
	echo "bundle $i" >"$TMP/b$i/rootfs/etc/which"
	head -c $((200000 * i)) /dev/urandom >"$TMP/b$i/rootfs/opt/blob$i"
done

# check_layout LAYOUT NAME REF...: index.json parses, each REF once, oci-inspect
# of each works and its manifest's blobs are all there
check_layout() {
	local L=$1 name=$2 r bad=0 missing=0
	shift 2
	if jq -e '.manifests | type == "array"' "$L/index.json" >/dev/null 2>&1; then pass "$name: index.json parses"; else fail "$name: index.json parses" "$(head -c 300 "$L/index.json")"; fi
	for r in "$@"; do
		n=$(jq --arg r "$r" '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $r)] | length' "$L/index.json")
		[ "$n" = 1 ] || { bad=$((bad + 1)); diag "$name: ref $r: $n descriptors"; }
		oci-inspect --files "$L:$r" >/dev/null 2>"$TMP/ierr" || { missing=$((missing + 1)); diag "$name: $r: $(cat "$TMP/ierr")"; }
	done
	is "$bad" 0 "$name: every ref exactly once in index.json"
	is "$missing" 0 "$name: oci-inspect --files works on every ref"
	is "$(find "$L" -name '.*tmp*' -o -name '*.new-*' | wc -l)" 0 "$name: no temporary files left"
}

# ---- 8 bundle commits, 8 refs, one existing layout ----
cp -a "$TD/multi" "$TMP/L"
pids=()
for i in 1 2 3 4 5 6 7 8; do
	oci-commit -q "$TMP/b$i" "$TMP/L:r$i" >"$TMP/out$i" 2>"$TMP/err$i" &
	pids+=($!)
done
fails=0
for i in 1 2 3 4 5 6 7 8; do
	wait "${pids[$((i - 1))]}" || { fails=$((fails + 1)); diag "r$i: $(cat "$TMP/err$i")"; }
done
is "$fails" 0 "8 commits at once: all exit 0"
check_layout "$TMP/L" "8 at once" v1 v2 r1 r2 r3 r4 r5 r6 r7 r8
is "$(jq '.manifests | length' "$TMP/L/index.json")" 10 "8 at once: ten descriptors (v1, v2 and the eight)"
bad=0
for i in 1 2 3 4 5 6 7 8; do
	got=$(oci-inspect --refs "$TMP/L" | awk -F '\t' -v r="r$i" '$1 == r { print $2 }')
	[ "$got" = "$(cat "$TMP/out$i")" ] || bad=$((bad + 1))
	[ "$(oci-unpack "$TMP/L:r$i" - 2>/dev/null | tar xOf - etc/which 2>/dev/null)" = "bundle $i" ] || bad=$((bad + 1))
done
is "$bad" 0 "8 at once: each ref is the digest its commit printed, with its own content"
is "$(oci-inspect --refs "$TMP/L" | awk -F '\t' '$1 == "v1" { print $2 }')" "$(digest_of multi:v1)" "8 at once: v1 untouched"

# ---- the same into a layout that does not exist yet ----
pids=()
for i in 1 2 3 4 5 6 7 8; do
	oci-commit -q "$TMP/b$i" "$TMP/N:r$i" >/dev/null 2>"$TMP/err$i" &
	pids+=($!)
done
fails=0
for i in 1 2 3 4 5 6 7 8; do
	wait "${pids[$((i - 1))]}" || { fails=$((fails + 1)); diag "N r$i: $(cat "$TMP/err$i")"; }
done
is "$fails" 0 "8 commits at once into a missing layout: all exit 0"
check_layout "$TMP/N" "8 at once, new layout" r1 r2 r3 r4 r5 r6 r7 r8
is "$(jq '.manifests | length' "$TMP/N/index.json" 2>/dev/null)" 8 "new layout: eight descriptors"

# ---- 24 config-only commits at once ----
pids=()
for i in $(seq 1 24); do
	oci-commit -q --from "$TD/multi:v1" --env "N=$i" "$TMP/L:c$i" >/dev/null 2>"$TMP/cerr$i" &
	pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
is "$fails" 0 "24 config-only commits at once: all exit 0"
check_layout "$TMP/L" "24 more at once" v1 v2 r1 r2 r3 r4 r5 r6 r7 r8 $(printf 'c%d ' $(seq 1 24))
is "$(jq '.manifests | length' "$TMP/L/index.json")" 34 "24 more at once: 34 descriptors"
bad=0
for i in $(seq 1 24); do
	[ "$(oci-inspect --config "$TMP/L:c$i" | jq -r '.config.Env[-1]')" = "N=$i" ] || bad=$((bad + 1))
done
is "$bad" 0 "24 more at once: each ref has its own config"

# ---- 8 commits to the same ref ----
pids=()
for i in 1 2 3 4 5 6 7 8; do
	oci-commit -q "$TMP/b$i" "$TMP/L:same" >"$TMP/sout$i" 2>"$TMP/serr$i" &
	pids+=($!)
done
fails=0
for i in 1 2 3 4 5 6 7 8; do
	wait "${pids[$((i - 1))]}" || { fails=$((fails + 1)); diag "same $i: $(cat "$TMP/serr$i")"; }
done
is "$fails" 0 "8 commits to the same ref: all exit 0"
is "$(jq '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "same")] | length' "$TMP/L/index.json")" 1 \
	"8 commits to the same ref: exactly one descriptor with it"
got=$(oci-inspect --refs "$TMP/L" | awk -F '\t' '$1 == "same" { print $2 }')
if cat "$TMP"/sout* | grep -qxF "$got"; then pass "the ref points at one of the eight manifests"; else fail "the ref points at one of the eight manifests" "$got"; fi
check_layout "$TMP/L" "after the same-ref race" v1 v2 same r1 c1 c24
is "$(jq '.manifests | length' "$TMP/L/index.json")" 35 "after the same-ref race: 35 descriptors"
# every manifest that was printed is whole in blobs/ (the losers too)
bad=0
for f in "$TMP"/sout*; do
	d=$(cat "$f")
	[ "$(sha256sum <"$TMP/L/blobs/sha256/${d#sha256:}" 2>/dev/null | cut -c1-64)" = "${d#sha256:}" ] || bad=$((bad + 1))
done
is "$bad" 0 "every printed manifest is a whole blob"

done_testing
