#!/usr/bin/env bash
# bench/verify.sh: oci-inspect --verify of the cached image against
# `igzip -dc` of its layer (which checks nothing), on a tmpfs. Prints; never
# asserts. Run as root: sudo bash bench/verify.sh
. "$(dirname "$0")/lib.sh"

RUNS=${BENCH_RUNS:-5}
[ -f "$BENCH_INFO" ] || die "no cached image: run sudo bash bench/make-image.sh first"
I=$OCI_BUILD_DIR/tools/oci-inspect
[ -x "$I" ] || die "no $I: ninja -C build"
need igzip isal
need bc bc
MNT=$BENCH_DIR/tmpfs
mkdir -p "$MNT"
mounted=
if ! mountpoint -q "$MNT" && is_root && mount -t tmpfs -o size=4g tmpfs "$MNT"; then mounted=1; fi
W=$(mktemp -d "$MNT/vf.XXXXXX")
trap 'rm -rf "$W"; [ -n "$mounted" ] && umount "$MNT"; true' EXIT
cp -a "$BENCH_IMAGE" "$W/img"
layer=$(layer_blob "$W/img" "$BENCH_TAG")
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
v=() g=()
for _ in $(seq "$RUNS"); do
	s=$(now); "$I" -q --verify "$W/img" >/dev/null; e=$(now); v+=("$(echo "$e - $s" | bc -l)")
	s=$(now); igzip -dc "$layer" >/dev/null; e=$(now); g+=("$(echo "$e - $s" | bc -l)")
done
vm=$(median "${v[@]}") gm=$(median "${g[@]}")
printf '%-28s %8.3f s\n' "oci-inspect --verify" "$vm" "igzip -dc LAYER" "$gm"
printf 'oci-inspect --verify / igzip -dc = %.2f (target <= 1.5)\n' "$(echo "$vm / $gm" | bc -l)"
machine
