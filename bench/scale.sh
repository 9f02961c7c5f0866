#!/usr/bin/env bash
# bench/scale.sh [N...]: every tool on generated images of N small files
# (default: 200000), against umoci and the stages' own limits, on a tmpfs.
#
# For each N: a tree of N files (1,000 a directory, 40-1,000 bytes each, content
# from a seeded PRNG), packed by GNU tar (--sort=name) and `gzip -6` into an OCI
# layout by bench/mklayout.py (no oci-tools involved in making it). Then:
#   stages:  cat BLOB (read), openssl sha256 BLOB, igzip -dc BLOB (inflate),
#            bsdtar -tf TAR (tar parse), tar -xf TAR (parse + syscalls)
#   tools:   oci-unpack, umoci unpack, oci-inspect --verify, oci-diff of one
#            change, umoci repack of that change, oci-commit of the tree,
#            umoci repack of the tree as a new image
# with median seconds of BENCH_RUNS runs (default 3) and peak RSS, then the
# target lines and one markdown row of peak RSS per N. umoci is run only for
# N <= BENCH_UMOCI_MAX (default 200000): at 1M entries it takes minutes.
# Prints; never asserts. Run as root (tmpfs): sudo bash bench/scale.sh 7000 200000 1000000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/measure.sh"

T=$OCI_BUILD_DIR/tools
for t in oci-unpack oci-inspect oci-diff oci-commit; do [ -x "$T/$t" ] || die "no $T/$t: ninja -C build"; done
need umoci umoci
need igzip isal
need bsdtar libarchive-tools
need openssl openssl
UMAX=${BENCH_UMOCI_MAX:-200000}
tmpfs_area scale

echo "== bench/scale.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ), $RUNS runs each (median s, peak RSS MB)"
machine
declare -a ROWS
for N in "${@:-200000}"; do
	rm -rf "${W:?}"/*
	log "N=$N: making the tree"
	python3 - "$W/tree" "$N" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(16)
os.makedirs(root)
for i in range(n):
    d = os.path.join(root, "d%04d" % (i // 1000))
    if i % 1000 == 0:
        os.mkdir(d)
    with open(os.path.join(d, "f%06d" % i), "wb") as f:
        f.write(rnd.randbytes(rnd.randint(20, 500)) * 2)
PY
	tar --sort=name --numeric-owner -C "$W/tree" -cf "$W/layer.tar" .
	cp "$W/layer.tar" "$W/stage.tar"
	python3 "$BENCH_SRC/bench/mklayout.py" "$W/img" s "$W/layer.tar"
	BLOB=$(layer_blob "$W/img" s)
	echo "-- N=$N: $(tar -tf "$W/stage.tar" | wc -l) entries, tar $(du -m "$W/stage.tar" | cut -f1) MB, gzip $(du -m "$BLOB" | cut -f1) MB; $(load_line)"
	echo " stages (each alone):"
	m read "" "cat $BLOB"
	m sha256 "" "openssl sha256 $BLOB"
	m inflate "" "igzip -dc $BLOB"
	m "tar parse" "" "bsdtar -tf $W/stage.tar"
	m "tar -x (parse+syscalls)" "rm -rf $W/x; mkdir $W/x" "tar -xf $W/stage.tar -C $W/x"
	rm -rf "$W/x"
	echo " tools:"
	m oci-unpack "rm -rf $W/B" "$T/oci-unpack -q $W/img:s $W/B"
	m "oci-inspect --verify" "" "$T/oci-inspect -q --verify $W/img"
	echo "changed" >>"$W/B/rootfs/d0000/f000000"
	m "oci-diff (one change)" "" "$T/oci-diff $W/B"
	m "oci-commit tree (gzip)" "rm -rf $W/c" "$T/oci-commit -q $W/tree $W/c:x"
	if [ "$N" -le "$UMAX" ]; then
		m "umoci unpack" "rm -rf $W/U" "umoci unpack --image $W/img:s $W/U"
		m "umoci repack (one change)" "rm -rf $W/ui; cp -a $W/img $W/ui; echo c\$RANDOM >>$W/U/rootfs/d0000/f000000" \
			"umoci repack --image $W/ui:s $W/U"
		rm -rf "$W/U" "$W/ui"
		m "umoci repack tree" "rm -rf $W/un $W/ub; umoci init --layout $W/un && umoci new --image $W/un:x && umoci unpack --image $W/un:x $W/ub && cp -a $W/tree/. $W/ub/rootfs/" \
			"umoci repack --image $W/un:x $W/ub"
		rm -rf "$W/un" "$W/ub"
	fi
	echo " ratios (N=$N):"
	echo "  umoci unpack / oci-unpack = $(ratio "umoci unpack" oci-unpack) (target >= 8)"
	echo "  oci-unpack / igzip -dc = $(ratio oci-unpack inflate); oci-unpack / tar -x of the plain tar = $(ratio oci-unpack "tar -x (parse+syscalls)")"
	echo "  oci-diff = $(awk -v s="${SEC[oci-diff (one change)]}" 'BEGIN { printf "%.0f", s * 1000 }') ms (target < 300); umoci repack (one change) / oci-diff = $(ratio "umoci repack (one change)" "oci-diff (one change)") (target >= 20)"
	echo "  umoci repack tree / oci-commit tree = $(ratio "umoci repack tree" "oci-commit tree (gzip)") (target >= 3)"
	ROWS+=("| $N | ${RSS[oci-unpack]} | ${RSS[oci-inspect --verify]} | ${RSS[oci-diff (one change)]} | ${RSS[oci-commit tree (gzip)]} | ${RSS[umoci unpack]:--} | ${RSS[umoci repack tree]:--} | ${RSS[tar -x (parse+syscalls)]} |")
	unset 'RSS[umoci unpack]' 'RSS[umoci repack tree]' 'SEC[umoci unpack]' 'SEC[umoci repack tree]' 'SEC[umoci repack (one change)]'
done
echo
echo "peak RSS (MB) by entries:"
echo "| files | oci-unpack | oci-inspect --verify | oci-diff | oci-commit | umoci unpack | umoci repack | GNU tar -x |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${ROWS[@]}"
load_line
