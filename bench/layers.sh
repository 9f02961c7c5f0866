#!/usr/bin/env bash
# bench/layers.sh: unpack and verify of the Debian image (1 layer, the one
# bench/make-image.sh cached) and of a 5-layer variant of the same tree, with
# the stage breakdown, against umoci and `igzip -dc` of the same layers, on a
# tmpfs, in one run.
#
# The 5-layer variant: the cached rootfs's paths (find, sorted) cut into five
# runs of equal count, each packed by GNU tar --no-recursion and `gzip -6` into
# one layer by bench/mklayout.py (no oci-tools involved). Every directory comes
# before its contents, so each layer adds to the ones below it.
#   stages:  cat BLOBS (read), openssl sha256 BLOBS, igzip -dc BLOBS in
#            sequence (inflate), bsdtar -tf TARS (tar parse), tar -xf TARS
#            (parse + syscalls)
#   tools:   oci-unpack, umoci unpack, oci-inspect --verify
# OCI_BASE_BUILD=DIR also times DIR/tools/oci-unpack (another build, e.g. the
# last commit's) in the same run. Median of BENCH_RUNS (default 3) runs, peak
# RSS. Prints; never asserts. Run as root: sudo bash bench/layers.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/measure.sh"

[ -f "$BENCH_INFO" ] || die "no cached image: run sudo bash bench/make-image.sh first"
T=$OCI_BUILD_DIR/tools
for t in oci-unpack oci-inspect; do [ -x "$T/$t" ] || die "no $T/$t: ninja -C build"; done
need umoci umoci
need igzip isal
need bsdtar libarchive-tools
need openssl openssl
need jq jq
tmpfs_area layers

# the 1-layer image, and the tar of its layer for the tar-only stages
cp -a "$BENCH_IMAGE" "$W/img1"
L1=$(layer_blob "$W/img1" "$BENCH_TAG")
igzip -dc "$L1" >"$W/t1.tar"

# the 5-layer image
(cd "$BENCH_ROOTFS" && find . -mindepth 1 | sort) >"$W/paths"
n=$(wc -l <"$W/paths")
split -n l/5 -d -a 1 "$W/paths" "$W/part."
tars=()
for p in "$W"/part.?; do
	tar --numeric-owner --no-recursion -C "$BENCH_ROOTFS" -cf "$p.tar" -T "$p"
	cp "$p.tar" "$W/t5.${p##*.}.tar"
	tars+=("$p.tar")
done
python3 "$BENCH_SRC/bench/mklayout.py" "$W/img5" five "${tars[@]}"
m5=$(jq -r '.manifests[0].digest' "$W/img5/index.json")
L5=$(jq -r '.layers[].digest | sub("sha256:"; "")' "$W/img5/blobs/sha256/${m5#sha256:}" |
	sed "s|^|$W/img5/blobs/sha256/|" | tr '\n' ' ')

echo "== bench/layers.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ), $RUNS runs each (median s, peak RSS MB)"
machine
echo "image: $(info rootfs); $n paths; 1 layer $(du -m "$L1" | cut -f1) MB gzip, 5 layers $(du -cm $L5 | tail -n1 | cut -f1) MB gzip"
echo "versions: $("$T/oci-unpack" --version | head -n1); $(umoci --version); igzip $(igzip --version 2>&1 | grep -oE '[0-9][0-9.]+' | head -n1)"

for k in 1 5; do
	if [ "$k" = 1 ]; then IMG=$W/img1:$BENCH_TAG B=$L1 TARS=$W/t1.tar; else IMG=$W/img5:five B=$L5 TARS=$(echo "$W"/t5.?.tar); fi
	echo "-- $k layer(s); $(load_line)"
	echo " stages (each alone, the layers in sequence):"
	m "read $k" "" "cat $B"
	m "sha256 $k" "" "openssl sha256 $B"
	m "inflate $k" "" "for f in $B; do igzip -dc \$f; done"
	m "tar parse $k" "" "for f in $TARS; do bsdtar -tf \$f; done"
	m "tar -x $k" "rm -rf $W/x; mkdir $W/x" "for f in $TARS; do tar -xf \$f -C $W/x; done"
	rm -rf "$W/x"
	echo " tools:"
	m "oci-unpack $k" "rm -rf $W/B" "$T/oci-unpack -q $IMG $W/B"
	if [ -n "${OCI_BASE_BUILD:-}" ]; then
		m "oci-unpack (OCI_BASE_BUILD) $k" "rm -rf $W/B" "$OCI_BASE_BUILD/tools/oci-unpack -q $IMG $W/B"
	fi
	m "umoci unpack $k" "rm -rf $W/U" "umoci unpack --image $IMG $W/U"
	m "oci-inspect --verify $k" "" "$T/oci-inspect -q --verify ${IMG%:*}"
	rm -rf "$W/B" "$W/U"
	echo " ratios ($k layer(s)):"
	echo "  umoci unpack / oci-unpack = $(ratio "umoci unpack $k" "oci-unpack $k") (target >= 8)"
	echo "  oci-unpack / igzip -dc of the layers = $(ratio "oci-unpack $k" "inflate $k") (target <= 1.15 for 1 layer, < 1 for 5)"
	[ -n "${OCI_BASE_BUILD:-}" ] && echo "  oci-unpack (OCI_BASE_BUILD) / oci-unpack = $(ratio "oci-unpack (OCI_BASE_BUILD) $k" "oci-unpack $k")"
	echo "  oci-inspect --verify / igzip -dc of the layers = $(ratio "oci-inspect --verify $k" "inflate $k") (target <= 1 for 5)"
done
load_line
