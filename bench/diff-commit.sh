#!/usr/bin/env bash
# bench/diff-commit.sh: oci-diff and oci-commit against umoci repack, on the
# image bench/make-image.sh cached, on a tmpfs, in one run.
#
#   diff, one file changed:   oci-diff B          umoci repack (its diff walk)   rsync -an -i
#   commit, whole rootfs:     oci-commit DIR (gzip, zstd)   umoci repack of a new image
#   commit, one file changed: oci-commit B        umoci repack of the same change
#
# Medians of BENCH_RUNS runs (default 5) and blob sizes. Prints; never asserts.
# Run as root: sudo bash bench/diff-commit.sh
. "$(dirname "$0")/lib.sh"

RUNS=${BENCH_RUNS:-5}
[ -f "$BENCH_INFO" ] || die "no cached image: run sudo bash bench/make-image.sh first"
T=$OCI_BUILD_DIR/tools
for t in oci-unpack oci-diff oci-commit; do [ -x "$T/$t" ] || die "no $T/$t: ninja -C build"; done
need umoci umoci
need bc bc
need rsync rsync
need jq jq

MNT=$BENCH_DIR/tmpfs
mkdir -p "$MNT"
mounted=
if ! mountpoint -q "$MNT" && is_root && mount -t tmpfs -o size=6g tmpfs "$MNT"; then mounted=1; fi
W=$(mktemp -d "$MNT/dc.XXXXXX")
cleanup() {
	rm -rf "$W"
	[ -n "$mounted" ] && umount "$MNT"
	return 0
}
trap cleanup EXIT
cp -a "$BENCH_IMAGE" "$W/img"
IMG="$W/img:$BENCH_TAG"

# median SECONDS... of its arguments
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# timeit CMD...: seconds, one run
timeit() {
	local s e
	s=$(now)
	"$@" >/dev/null 2>&1; [ $? -le 1 ] || log "failed: $*"
	e=$(now)
	echo "$e - $s" | bc -l
}
# cputime CMD...: the CPU seconds (user + system, all threads and children) of CMD
cputime() {
	/usr/bin/time -f '%U %S' -o "$W/.cpu" "$@" >/dev/null 2>&1; [ $? -le 1 ] || log "failed: $*"
	awk '{ print $1 + $2 }' "$W/.cpu"
}
change() { echo "changed $RANDOM" >>"$1/etc/debian_version"; }

log "preparing bundles"
"$T/oci-unpack" -q "$IMG" "$W/B"
umoci unpack --image "$IMG" "$W/U" >/dev/null
change "$W/B/rootfs"
change "$W/U/rootfs"

# --- diff of a one-file change ---------------------------------------------------
d=() r=()
for _ in $(seq "$RUNS"); do d+=("$(timeit "$T/oci-diff" "$W/B")"); done
cp -a "$W/B/rootfs" "$W/rsync-ref"
for _ in $(seq "$RUNS"); do r+=("$(timeit rsync -an --itemize-changes "$W/B/rootfs/" "$W/rsync-ref/")"); done
u=()
for i in $(seq "$RUNS"); do
	cp -a "$W/img" "$W/uimg$i"
	s=$(now)
	umoci repack --image "$W/uimg$i:$BENCH_TAG" "$W/U" >/dev/null 2>&1
	e=$(now)
	u+=("$(echo "$e - $s" | bc -l)")
	rm -rf "$W/uimg$i"
done
dm=$(median "${d[@]}") rm_=$(median "${r[@]}") um=$(median "${u[@]}")
echo "== diff of a one-file change ($(info entries) entries)"
printf '%-34s %8.3f s\n' "oci-diff BUNDLE" "$dm" "umoci repack (diff walk + layer)" "$um" "rsync -an --itemize-changes" "$rm_"
printf 'umoci repack / oci-diff = %.1f (target >= 10); oci-diff = %.0f ms (target < 100)\n' \
	"$(echo "$um / $dm" | bc -l)" "$(echo "$dm * 1000" | bc -l)"

# --- commit of the one-file change ------------------------------------------------
c=()
for i in $(seq "$RUNS"); do
	cp -a "$W/img" "$W/cimg$i"
	# --keep-record: each run commits the same change (a commit otherwise
	# makes the bundle's record the new image's, which this copy lacks)
	c+=("$(timeit "$T/oci-commit" -q --keep-record "$W/B" "$W/cimg$i:next")")
	rm -rf "$W/cimg$i"
done
cm=$(median "${c[@]}")
echo "== commit of a one-file change"
printf '%-34s %8.3f s\n' "oci-commit BUNDLE" "$cm" "umoci repack" "$um"
printf 'umoci repack / oci-commit = %.1f; oci-commit = %.0f ms (target < 200)\n' \
	"$(echo "$um / $cm" | bc -l)" "$(echo "$cm * 1000" | bc -l)"

# --- whole-rootfs commit ------------------------------------------------------------
"$T/oci-unpack" -q --rootfs "$IMG" "$W/tree"
echo "== commit of the whole rootfs ($(info rootfs_du))"
for comp in gzip zstd; do
	t=() tc=()
	for i in $(seq "$RUNS"); do
		rm -rf "$W/w$i"
		t+=("$(timeit "$T/oci-commit" -q --compression "$comp" "$W/tree" "$W/w$i:x")")
		rm -rf "$W/w$i"
		tc+=("$(cputime "$T/oci-commit" -q --compression "$comp" "$W/tree" "$W/w$i:x")")
	done
	blob=$(ls -S "$W/w1/blobs/sha256" | head -n1)
	printf '%-34s %8.3f s  blob %s bytes\n' "oci-commit --compression $comp" "$(median "${t[@]}")" \
		"$(stat -c %s "$W/w1/blobs/sha256/$blob")"
	eval "whole_$comp=$(median "${t[@]}")"
	eval "cpu_$comp=$(median "${tc[@]}")"
	eval "size_$comp=$(stat -c %s "$W/w1/blobs/sha256/$blob")"
	for i in $(seq "$RUNS"); do rm -rf "$W/w$i"; done
done
t=() tc=()
for i in $(seq "$RUNS"); do
	rm -rf "$W/um$i" "$W/ub$i"
	umoci init --layout "$W/um$i" >/dev/null && umoci new --image "$W/um$i:x" >/dev/null &&
		umoci unpack --image "$W/um$i:x" "$W/ub$i" >/dev/null 2>&1
	cp -a "$W/tree/." "$W/ub$i/rootfs/"
	# a second copy of the layout and bundle for the CPU-timed run: a repack
	# updates the bundle's mtree, and a second repack of it finds nothing
	cp -a "$W/um$i" "$W/um$i.again"
	cp -a "$W/ub$i" "$W/ub$i.again"
	s=$(now)
	umoci repack --image "$W/um$i:x" "$W/ub$i" >/dev/null 2>&1
	e=$(now)
	t+=("$(echo "$e - $s" | bc -l)")
	tc+=("$(cputime umoci repack --image "$W/um$i.again:x" "$W/ub$i.again")")
	rm -rf "$W/um$i.again" "$W/ub$i.again"
done
ucpu=$(median "${tc[@]}")
ublob=$(ls -S "$W/um1/blobs/sha256" | head -n1)
usize=$(stat -c %s "$W/um1/blobs/sha256/$ublob")
uw=$(median "${t[@]}")
printf '%-34s %8.3f s  blob %s bytes\n' "umoci repack (new image)" "$uw" "$usize"
printf 'CPU seconds (user + system): oci-commit gzip %.2f, zstd %.2f; umoci repack %.2f\n' \
	"$cpu_gzip" "$cpu_zstd" "$ucpu"
printf 'umoci / oci-commit gzip = %.2f wall, %.2f CPU (target >= 3, blob <= umoci'"'"'s: %s)\n' \
	"$(echo "$uw / $whole_gzip" | bc -l)" "$(echo "$ucpu / $cpu_gzip" | bc -l)" \
	"$([ "$size_gzip" -le "$usize" ] && echo yes || echo no)"
printf 'umoci / oci-commit zstd = %.2f wall, %.2f CPU (target >= 5, blob < umoci'"'"'s gzip: %s)\n' \
	"$(echo "$uw / $whole_zstd" | bc -l)" "$(echo "$ucpu / $cpu_zstd" | bc -l)" \
	"$([ "$size_zstd" -lt "$usize" ] && echo yes || echo no)"
machine
