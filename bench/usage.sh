#!/usr/bin/env bash
# bench/usage.sh: oci-inspect --usage against oci-inspect --files --merged of
# the same image (the merge it builds on; target: --usage within 1.2x of it),
# on the cached Debian image and on a 3-layer variant of it with known waste,
# with each one's peak RSS. Prints; never asserts.
# Run as root (the tmpfs): sudo bash bench/usage.sh
. "$(dirname "$0")/lib.sh"

RUNS=${BENCH_RUNS:-5}
[ -f "$BENCH_INFO" ] || die "no cached image: run sudo bash bench/make-image.sh first"
I=$OCI_BUILD_DIR/tools/oci-inspect
C=$OCI_BUILD_DIR/tools/oci-commit
[ -x "$I" ] && [ -x "$C" ] || die "no $I or $C: ninja -C build"
need bc bc
need jq jq
[ -x /usr/bin/time ] || need time time
MNT=$BENCH_DIR/tmpfs
mkdir -p "$MNT"
mounted=
if ! mountpoint -q "$MNT" && is_root && mount -t tmpfs -o size=4g tmpfs "$MNT"; then mounted=1; fi
W=$(mktemp -d "$MNT/us.XXXXXX")
trap 'rm -rf "$W"; [ -n "$mounted" ] && umount "$MNT"; true' EXIT
cp -a "$BENCH_IMAGE" "$W/img"

# The 3-layer variant: layer 2 rewrites var/cache/apt/archives (the .debs)
# and usr/share/doc with only their modes changed (all of their bytes
# wasted), layer 3 deletes var/cache/apt/archives with a whiteout.
[ -d "$BENCH_ROOTFS/var/cache/apt/archives" ] || die "no $BENCH_ROOTFS: BENCH_REBUILD=2 bash bench/make-image.sh"
tar -C "$BENCH_ROOTFS" --numeric-owner --mode=u+x -cf "$W/l2.tar" var/cache/apt/archives usr/share/doc
mkdir -p "$W/l3/var/cache/apt"
: >"$W/l3/var/cache/apt/.wh.archives"
tar -C "$W/l3" --numeric-owner -cf "$W/l3.tar" var
"$C" -q --layer "$W/l2.tar" --from "$W/img:$BENCH_TAG" "$W/img:l2" >/dev/null
"$C" -q --layer "$W/l3.tar" --from "$W/img:l2" "$W/img:three" >/dev/null
rm -f "$W/l2.tar" "$W/l3.tar"

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# bench NAME CMD...: median seconds of RUNS runs and peak RSS (KiB) of one
bench() {
	local name=$1 t=() s e
	shift
	for _ in $(seq "$RUNS"); do
		s=$(now); "$@" >/dev/null; e=$(now); t+=("$(echo "$e - $s" | bc -l)")
	done
	local rss
	rss=$(/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n1)
	printf '%s %s %s\n' "$name" "$(median "${t[@]}")" "$rss"
}

machine
for ref in "$BENCH_TAG" three; do
	img=$W/img:$ref
	echo
	echo "image $ref: $(jq '.layers | length' <("$I" --manifest "$img")) layer(s)"
	"$I" --usage "$img" | sed -n '/^LAYER/,/^total/p'
	u=$(bench "--usage" "$I" --usage "$img")
	m=$(bench "--files --merged" "$I" --files --merged "$img")
	read -r _ ut ur <<<"$u"
	read -r _ _ mt mr <<<"$m"
	printf '%-32s %8.3f s  %8d KiB peak RSS\n' "oci-inspect --usage" "$ut" "$ur" \
		"oci-inspect --files --merged" "$mt" "$mr"
	printf '%s: --usage / --files --merged = %.2f (target <= 1.2)\n' "$ref" "$(echo "$ut / $mt" | bc -l)"
done
