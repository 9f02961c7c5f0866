#!/usr/bin/env bash
# oci-commit killed at any moment leaves the layout valid: SIGKILL after a
# random 0-200 ms, 20 times, against a layout with several refs; after each,
# index.json parses, every old ref resolves and its blobs verify, and a new
# ref, if there, is whole. SIGTERM: 128+15 and no temporary files left.
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'; return 0; }
RANDOM=404

B=$TMP/b
oci-unpack -q "$TD/multi:v1" "$B" || { echo "Bail out! oci-unpack failed"; exit 1; }
for i in 1 2 3; do head -c 4000000 /dev/urandom >"$B/rootfs/opt/big$i"; done
seq 1 1500000 >"$B/rootfs/opt/seq.txt"
rm -rf "$B/rootfs/home"
L=$TMP/L
cp -a "$TD/multi" "$L"
oci-commit -q -m small --from "$TD/multi:v2" --env K=1 "$L:k1" >/dev/null || fail "setup: config-only commit"
oci-unpack -q "$TD/multi:v2" "$TMP/b2" && echo s >"$TMP/b2/rootfs/small" && oci-commit -q "$TMP/b2" "$L:k2" >/dev/null ||
	fail "setup: a small commit"
OLD="v1 v2 k1 k2"
declare -A before
for r in $OLD; do before[$r]=$(oci-inspect --refs "$L" | awk -F '\t' -v r="$r" '$1 == r { print $2 }'); done

# layout_ok NAME: the layout is valid, every old ref as it was
layout_ok() {
	local name=$1 r problems=()
	jq -e '.manifests | type == "array"' "$L/index.json" >/dev/null 2>&1 || problems+=("index.json does not parse")
	oci-inspect --refs "$L" >"$TMP/refs" 2>"$TMP/rerr" || problems+=("oci-inspect --refs: $(cat "$TMP/rerr")")
	for r in $OLD; do
		got=$(awk -F '\t' -v r="$r" '$1 == r { print $2 }' "$TMP/refs")
		[ "$got" = "${before[$r]}" ] || problems+=("ref $r is '$got', was ${before[$r]}")
		oci-inspect --manifest "$L:$r" >/dev/null 2>"$TMP/rerr" || problems+=("--manifest $r: $(cat "$TMP/rerr")")
		oci-inspect --files "$L:$r" >/dev/null 2>"$TMP/rerr" || problems+=("--files $r: $(cat "$TMP/rerr")")
	done
	# the new ref: absent, or whole
	if grep -q '^new	' "$TMP/refs"; then
		oci-inspect --files "$L:new" >/dev/null 2>"$TMP/rerr" || problems+=("new ref not whole: $(cat "$TMP/rerr")")
	fi
	if [ "${#problems[@]}" -eq 0 ]; then pass "$name"; else fail "$name" "$(printf '%s\n' "${problems[@]}")"; fi
}

comps=(gzip zstd none)
landed=0
for i in $(seq 1 20); do
	comp=${comps[$((i % 3))]}
	delay=$((RANDOM % 201))
	oci-commit -q --compression "$comp" "$B" "$L:new" >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%03d' "$delay")"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	st=$?
	[ "$st" = 0 ] && landed=$((landed + 1))
	layout_ok "SIGKILL $i ($comp, after ${delay} ms, exit $st): the layout is valid, old refs intact"
done
diag "$landed of 20 commits finished before the kill"

# blobs: every named blob is whole (its name is its content's digest)
bad=0
for f in "$L"/blobs/sha256/*; do
	[ "$(sha256sum <"$f" | cut -c1-64)" = "${f##*/}" ] || { bad=$((bad + 1)); diag "blob ${f##*/} is not whole"; }
done
is "$bad" 0 "after 20 kills: every named blob hashes to its name"
# the lock is not held by the dead: a commit now goes through
run oci-commit -q "$B" "$L:after"
is "$status" 0 "after the kills: a commit succeeds (no stale lock)"
expect 0 "after the kills: the new commit unpacks" oci-unpack -q "$L:after" "$TMP/after"
is "$(cmp -s "$TMP/after/rootfs/opt/seq.txt" "$B/rootfs/opt/seq.txt" && echo same)" same "after the kills: its content is the bundle's"

# SIGTERM: cleanup, then 128+15
for i in 1 2 3 4 5; do
	delay=$((RANDOM % 150 + 20))
	oci-commit -q --compression gzip "$B" "$L:term" >/dev/null 2>"$TMP/terr" &
	pid=$!
	sleep "$(printf '0.%03d' "$delay")"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	st=$?
	if [ "$st" = 143 ] || [ "$st" = 0 ]; then pass "SIGTERM $i after ${delay} ms: exit 143 (or 0 when done first)"; else fail "SIGTERM $i after ${delay} ms: exit 143 (or 0 when done first)" "exit $st: $(cat "$TMP/terr")"; fi
	is "$(find "$L" -name "*-$pid-*" -o -name "*-$pid" | wc -l)" 0 "SIGTERM $i: no temporary files of the process left"
	[ "$st" = 143 ] && is "$(wc -l <"$TMP/terr")" 0 "SIGTERM $i: -q: nothing on stderr" || pass "SIGTERM $i: finished first"
	layout_ok "SIGTERM $i: the layout is valid"
done

done_testing
