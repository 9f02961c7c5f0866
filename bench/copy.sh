#!/usr/bin/env bash
# bench/copy.sh: oci-copy against skopeo copy, on the image bench/make-image.sh
# cached, on a tmpfs, in one run:
#
#   layout -> oci-archive        oci-copy IMG A.tar            skopeo copy oci: oci-archive:
#   layout -> docker-archive     oci-copy IMG D.docker.tar     skopeo copy oci: docker-archive:
#   docker-archive -> layout     oci-copy D.docker.tar L       skopeo copy docker-archive: oci:
#   gzip -> zstd                 oci-copy --compression zstd   skopeo copy --dest-compress-format zstd
#
# and, as the floor for an archive write, cp of the layer blob plus one
# sha256 pass over it (openssl, as fast as our own hashing). Medians of
# BENCH_RUNS runs (default 3), blob sizes for the recompression. Prints;
# never asserts. Run as root: sudo bash bench/copy.sh
. "$(dirname "$0")/lib.sh"

RUNS=${BENCH_RUNS:-3}
[ -f "$BENCH_INFO" ] || die "no cached image: run sudo bash bench/make-image.sh first"
T=$OCI_BUILD_DIR/tools
[ -x "$T/oci-copy" ] || die "no $T/oci-copy: ninja -C build"
need skopeo skopeo
need bc bc
need jq jq
need openssl openssl
need /usr/bin/time time

MNT=$BENCH_DIR/tmpfs
mkdir -p "$MNT"
mounted=
if ! mountpoint -q "$MNT" && is_root && mount -t tmpfs -o size=6g tmpfs "$MNT"; then mounted=1; fi
W=$(mktemp -d "$MNT/cp.XXXXXX")
cleanup() {
	rm -rf "$W"
	[ -n "$mounted" ] && umount "$MNT"
	return 0
}
trap cleanup EXIT
cp -a "$BENCH_IMAGE" "$W/img"
IMG="$W/img:$BENCH_TAG"
LAYER=$(layer_blob "$W/img" "$BENCH_TAG")

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# bench NAME PREP CMD...: BENCH_RUNS runs of CMD, each after PREP (untimed);
# prints the median wall-clock seconds and the median CPU seconds (user +
# system): on a shared machine the wall clock also waits for the CPU, so
# both are shown. Sets $REAL and $CPU.
bench() {
	local name=$1 prep=$2 reals=() cpus=()
	shift 2
	for _ in $(seq "$RUNS"); do
		eval "$prep"
		/usr/bin/time -f '%e %U %S' -o "$W/time" "$@" >/dev/null 2>&1 || log "failed: $*"
		reals+=("$(awk '{ print $1 }' "$W/time")")
		cpus+=("$(awk '{ printf "%.3f", $2 + $3 }' "$W/time")")
	done
	REAL=$(median "${reals[@]}")
	CPU=$(median "${cpus[@]}")
	printf '%-46s %7.3f s  (cpu %7.3f s)\n' "$name" "$REAL" "$CPU"
}
ratio() { printf '%-46s %7.2fx  (cpu %.2fx)\n' "$1" "$(echo "$2 / $3" | bc -l)" "$(echo "$4 / $5" | bc -l)"; }

echo "# bench/copy.sh  $(date -u +%Y-%m-%dT%H:%M:%SZ)  runs=$RUNS  load: $(cut -d' ' -f1-3 /proc/loadavg)"
machine | sed 's/^/# /'
sed 's/^/# image: /' "$BENCH_INFO"
echo

# --- layout -> oci-archive ---
bench "layout -> oci-archive: oci-copy" 'rm -f $W/A.tar' "$T/oci-copy" -q "$IMG" "$W/A.tar"
A=$REAL AC=$CPU
bench "layout -> oci-archive: skopeo copy" 'rm -f $W/S.tar' skopeo copy -q "oci:$IMG" "oci-archive:$W/S.tar:$BENCH_TAG"
S=$REAL SC=$CPU
bench "floor: cp of the layer + openssl sha256" 'rm -f $W/floor' bash -c "cp '$LAYER' '$W/floor' && openssl dgst -sha256 '$W/floor'"
F=$REAL FC=$CPU
ratio "  skopeo / oci-copy" "$S" "$A" "$SC" "$AC"
ratio "  oci-copy / floor" "$A" "$F" "$AC" "$FC"

# --- layout -> docker-archive ---
bench "layout -> docker-archive: oci-copy" 'rm -f $W/D.docker.tar' "$T/oci-copy" -q "$IMG" "$W/D.docker.tar:bench:1"
A=$REAL AC=$CPU
bench "layout -> docker-archive: skopeo copy" 'rm -f $W/SD.tar' skopeo copy -q "oci:$IMG" "docker-archive:$W/SD.tar:bench:1"
S=$REAL SC=$CPU
ratio "  skopeo / oci-copy" "$S" "$A" "$SC" "$AC"
echo "  (both inflate the layer: a docker-archive holds uncompressed tars, as docker save writes them)"

# --- docker-archive -> layout ---
bench "docker-archive -> layout: oci-copy" 'rm -rf $W/L' "$T/oci-copy" -q "$W/D.docker.tar:bench:1" "$W/L:x"
A=$REAL AC=$CPU
bench "docker-archive -> layout: skopeo copy" 'rm -rf $W/SL' skopeo copy -q "docker-archive:$W/D.docker.tar:bench:1" "oci:$W/SL:x"
S=$REAL SC=$CPU
ratio "  skopeo / oci-copy" "$S" "$A" "$SC" "$AC"

# --- gzip -> zstd ---
bench "gzip -> zstd: oci-copy --compression zstd" 'rm -rf $W/Z' "$T/oci-copy" -q --compression zstd "$IMG" "$W/Z:x"
A=$REAL AC=$CPU
bench "gzip -> zstd: skopeo --dest-compress-format zstd" 'rm -rf $W/SZ' skopeo copy -q --dest-compress-format zstd "oci:$IMG" "oci:$W/SZ:x"
S=$REAL SC=$CPU
ratio "  skopeo / oci-copy" "$S" "$A" "$SC" "$AC"
za=$(stat -c %s "$(layer_blob "$W/Z" x)")
zs=$(stat -c %s "$(layer_blob "$W/SZ" x)")
printf '  zstd blob: oci-copy %s bytes, skopeo %s bytes (gzip source %s)\n' "$za" "$zs" "$(stat -c %s "$LAYER")"
