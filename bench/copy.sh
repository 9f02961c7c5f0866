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
# timeit PREP CMD...: seconds of one run of CMD, after running PREP (untimed)
timeit() {
	local prep=$1 s e
	shift
	eval "$prep"
	s=$(now)
	"$@" >/dev/null 2>&1 || log "failed: $*"
	e=$(now)
	echo "$e - $s" | bc -l
}
row() { printf '%-44s %8.3f s\n' "$1" "$2"; }
ratio() { printf '%-44s %8.2fx\n' "$1" "$(echo "$2 / $3" | bc -l)"; }
floor() { cp "$LAYER" "$W/floor" && openssl dgst -sha256 "$W/floor" >/dev/null; }

echo "# bench/copy.sh  $(date -u +%Y-%m-%dT%H:%M:%SZ)  runs=$RUNS"
machine | sed 's/^/# /'
sed 's/^/# image: /' "$BENCH_INFO"
echo

# --- layout -> oci-archive ---
a=() s=() f=()
for _ in $(seq "$RUNS"); do
	a+=("$(timeit 'rm -f $W/A.tar' "$T/oci-copy" -q "$IMG" "$W/A.tar")")
	s+=("$(timeit 'rm -f $W/S.tar' skopeo copy -q "oci:$IMG" "oci-archive:$W/S.tar:$BENCH_TAG")")
	f+=("$(timeit 'rm -f $W/floor' floor)")
done
A=$(median "${a[@]}") S=$(median "${s[@]}") F=$(median "${f[@]}")
row "layout -> oci-archive: oci-copy" "$A"
row "layout -> oci-archive: skopeo copy" "$S"
row "floor: cp of the layer + openssl sha256" "$F"
ratio "  skopeo / oci-copy" "$S" "$A"
ratio "  oci-copy / floor" "$A" "$F"

# --- layout -> docker-archive ---
a=() s=()
for _ in $(seq "$RUNS"); do
	a+=("$(timeit 'rm -f $W/D.docker.tar' "$T/oci-copy" -q "$IMG" "$W/D.docker.tar:bench:1")")
	s+=("$(timeit 'rm -f $W/SD.tar' skopeo copy -q "oci:$IMG" "docker-archive:$W/SD.tar:bench:1")")
done
A=$(median "${a[@]}") S=$(median "${s[@]}")
row "layout -> docker-archive: oci-copy" "$A"
row "layout -> docker-archive: skopeo copy" "$S"
ratio "  skopeo / oci-copy" "$S" "$A"
echo "  (both inflate the layer: a docker-archive holds uncompressed tars, as docker save writes them)"

# --- docker-archive -> layout ---
a=() s=()
for _ in $(seq "$RUNS"); do
	a+=("$(timeit 'rm -rf $W/L' "$T/oci-copy" -q "$W/D.docker.tar:bench:1" "$W/L:x")")
	s+=("$(timeit 'rm -rf $W/SL' skopeo copy -q "docker-archive:$W/D.docker.tar:bench:1" "oci:$W/SL:x")")
done
A=$(median "${a[@]}") S=$(median "${s[@]}")
row "docker-archive -> layout: oci-copy" "$A"
row "docker-archive -> layout: skopeo copy" "$S"
ratio "  skopeo / oci-copy" "$S" "$A"

# --- gzip -> zstd ---
a=() s=()
for _ in $(seq "$RUNS"); do
	a+=("$(timeit 'rm -rf $W/Z' "$T/oci-copy" -q --compression zstd "$IMG" "$W/Z:x")")
	s+=("$(timeit 'rm -rf $W/SZ' skopeo copy -q --dest-compress-format zstd "oci:$IMG" "oci:$W/SZ:x")")
done
A=$(median "${a[@]}") S=$(median "${s[@]}")
row "gzip -> zstd: oci-copy --compression zstd" "$A"
row "gzip -> zstd: skopeo --dest-compress-format zstd" "$S"
ratio "  skopeo / oci-copy" "$S" "$A"
za=$(stat -c %s "$(layer_blob "$W/Z" x)")
zs=$(stat -c %s "$(layer_blob "$W/SZ" x)")
printf '  zstd blob: oci-copy %s bytes, skopeo %s bytes (gzip source %s)\n' "$za" "$zs" "$(stat -c %s "$LAYER")"
