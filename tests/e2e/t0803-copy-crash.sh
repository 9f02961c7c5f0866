#!/usr/bin/env bash
# oci-copy killed at any moment, and tags under concurrency. SIGKILL after a
# random 0-1200 ms, 12 times each, of a copy (with recompression) into an
# existing layout and over an existing archive: the layout verifies with its
# old refs as they were and the new one absent or whole; the archive is the
# old file or a whole new one, and no temporary file is left beside it.
# Then tag and untag in one layout while eight oci-commits write to it: every
# ref lands, every untag holds. SIGTERM: 128+15, nothing left.
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'; return 0; }
cd "$TMP" || exit 1
RANDOM=803

# a source big enough to be killed in the middle: 3 layers, 24 MB
mkdir -p s1/opt s2/opt s3/opt
head -c 8000000 /dev/urandom >s1/opt/a
seq 1 1200000 >s2/opt/b
head -c 8000000 /dev/urandom >s3/opt/c
oci-commit -q --platform linux/amd64 --compression none s1 src:big >/dev/null &&
	oci-unpack -q src:big b2 && cp -a s2/opt/b b2/rootfs/opt/ && oci-commit -q b2 src:big >/dev/null &&
	oci-unpack -q src:big b3 && cp -a s3/opt/c b3/rootfs/opt/ && oci-commit -q b3 src:big >/dev/null ||
	{ echo "Bail out! cannot make the source"; exit 1; }

oci-copy -q "$TD/multi:v1" "$TD/multi:v2" D
before=$(oci-inspect --refs D | cut -f1,2)
oci-copy -q "$TD/multi:v1" A.tar
cp A.tar A.orig

layout_ok() {
	local problems=()
	oci-inspect --verify D >vout 2>&1 || problems+=("--verify: $(grep -v '^note' vout | head -3)")
	now=$(oci-inspect --refs D | cut -f1,2 | grep -v '^new	')
	[ "$now" = "$before" ] || problems+=("old refs changed: $now")
	if oci-inspect --refs D | grep -q '^new	'; then
		oci-inspect --files D:new >/dev/null 2>ierr || problems+=("new ref not whole: $(cat ierr)")
	fi
	if [ ${#problems[@]} -eq 0 ]; then pass "$1"; else fail "$1" "$(printf '%s\n' "${problems[@]}")"; fi
}
archive_ok() {
	local problems=()
	if ! cmp -s A.tar A.orig; then
		oci-inspect --verify A.tar >vout 2>&1 || problems+=("neither the old archive nor a whole one: $(head -3 vout)")
	fi
	[ -z "$(ls -A | grep '^\.A\.tar')" ] || problems+=("left: $(ls -A | grep '^\.A\.tar')")
	if [ ${#problems[@]} -eq 0 ]; then pass "$1"; else fail "$1" "$(printf '%s\n' "${problems[@]}")"; fi
}

landed=0
for i in $(seq 1 12); do
	ms=$((RANDOM % 1200))
	oci-copy -q --compression gzip src:big D:new 2>/dev/null &
	pid=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	layout_ok "layout: SIGKILL after ${ms} ms: valid, old refs kept, new absent or whole"
	oci-inspect --refs D | grep -q '^new	' && landed=$((landed + 1))
	oci-copy -q --delete D:new 2>/dev/null

	ms=$((RANDOM % 1200))
	oci-copy -q src:big "$TD/multi:v2" A.tar 2>/dev/null &
	pid=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	archive_ok "archive: SIGKILL after ${ms} ms: old or whole, nothing beside it"
	cp A.orig A.tar
done
diag "the new ref landed in $landed of 12 kills"

# (a SIGKILL can leave blobs/sha256/.tmp-* as it can for oci-commit: --verify
# notes them, --repair drops them; a SIGTERM must leave none)
oci-inspect --repair D >/dev/null 2>&1
oci-copy -q --compression zstd src:big D:term 2>/dev/null &
pid=$!
sleep 0.2
kill -TERM "$pid"
wait "$pid"
st=$?
[ "$st" -eq 143 ] || [ "$st" -eq 0 ] && pass "SIGTERM: exit 128+15 (or done first)" || fail "SIGTERM: exit 128+15" "exit $st"
is "$(find D -name '.tmp-*' | wc -l)" 0 "SIGTERM: no temporary blob left"
layout_ok "SIGTERM: the layout is valid"

# ---- tags and untags while eight commits write ----
cp -a "$TD/multi" L
pids=()
for i in 1 2 3 4 5 6 7 8; do
	oci-commit -q --from "$TD/multi:v2" --env "K=$i" "L:c$i" >/dev/null 2>"cerr$i" &
	pids+=($!)
	oci-copy -q L:v1 "L:t$i" 2>"terr$i" &
	pids+=($!)
done
for i in 1 2 3 4; do oci-copy -q L:v1 "L:u$i" 2>/dev/null; done
for i in 1 2 3 4; do oci-copy -q --delete "L:u$i" 2>"derr$i" & pids+=($!); done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
is "$fails" 0 "8 commits, 8 tags and 4 untags at once: all exit 0"
refs=$(oci-inspect --refs L | cut -f1 | sort | tr '\n' ' ')
is "$refs" "c1 c2 c3 c4 c5 c6 c7 c8 t1 t2 t3 t4 t5 t6 t7 t8 v1 v2 " "every commit and tag landed, every untag held"
v1=$(digest_of multi:v1)
bad=0
for i in 1 2 3 4 5 6 7 8; do
	[ "$(oci-inspect --refs L | awk -F '\t' -v r="t$i" '$1 == r { print $2 }')" = "$v1" ] || bad=$((bad + 1))
done
is "$bad" 0 "every tag names v1's manifest"
expect 0 "the layout verifies" oci-inspect --verify L
done_testing
