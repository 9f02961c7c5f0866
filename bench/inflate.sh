#!/usr/bin/env bash
# bench/inflate.sh: parallel inflate within a layer. The cached Debian image
# (one gzip member) is re-encoded by oci-copy: --compression gzip (our
# members of 1 MiB, each with its "OT" size hint: inflated on all cores)
# zstd (one frame: serial) and, where pigz is installed, `pigz -i -6` (one
# member of independent blocks, cut at its full flushes); then, for each, `oci-inspect --verify` and
# `oci-unpack` to a tmpfs, against `igzip -dc` (or `zstd -dc`) of the same
# blob to /dev/null, which checks nothing. OCI_BASE_BUILD_DIR=DIR also runs
# that build's tools on the same blobs, in the same loop (before/after).
#
# With perf, also the CPU seconds of each thread of one run (perf record
# -F 2000, samples / 2000), busiest first: the busiest thread bounds the
# wall time on idle cores, whatever the load was when it ran.
#
# Every line: the median of BENCH_RUNS runs (default 5) of wall seconds,
# user and system CPU seconds (/usr/bin/time) and the peak RSS of the last,
# with the load average when the command ran: on a shared machine compare
# CPU seconds, and wall seconds only at a low load. Prints; never asserts.
# Run as root (to mount the tmpfs): sudo bash bench/inflate.sh
. "$(dirname "$0")/lib.sh"

RUNS=${BENCH_RUNS:-5}
[ -f "$BENCH_INFO" ] || die "no cached image: run sudo bash bench/make-image.sh first"
N=$OCI_BUILD_DIR/tools
[ -x "$N/oci-copy" ] || die "no $N/oci-copy: ninja -C build"
B=${OCI_BASE_BUILD_DIR:+$OCI_BASE_BUILD_DIR/tools}
need igzip isal
need zstd zstd
need jq jq
PIGZ=$(command -v pigz || true)
[ -x /usr/bin/time ] || die "no /usr/bin/time"
MNT=$BENCH_DIR/tmpfs
mkdir -p "$MNT"
mounted=
if ! mountpoint -q "$MNT" && is_root && mount -t tmpfs -o size=4g tmpfs "$MNT"; then mounted=1; fi
W=$(mktemp -d "$MNT/inflate.XXXXXX")
trap 'rm -rf "$W"; [ -n "$mounted" ] && umount "$MNT"; true' EXIT

machine
echo "work area: $(stat -f -c %T "$W")"
"$N/oci-copy" -q --compression none "$BENCH_IMAGE" "$W/none:$BENCH_TAG"
"$N/oci-copy" -q --compression gzip "$W/none:$BENCH_TAG" "$W/gzip:$BENCH_TAG"
"$N/oci-copy" -q --compression zstd "$W/none:$BENCH_TAG" "$W/zstd:$BENCH_TAG"
cp -a "$BENCH_IMAGE" "$W/orig"
KINDS="orig gzip zstd"
if [ -n "$PIGZ" ]; then
	# the same tar as one pigz --independent member: the layer's blob and
	# the manifest that names it replaced, the diff_id the same
	cp -a "$W/none" "$W/pigzi"
	tarblob=$(layer_blob "$W/none" "$BENCH_TAG")
	"$PIGZ" -i -6 -c "$tarblob" >"$W/pigzi.gz"
	python3 - "$W/pigzi" "$W/pigzi.gz" "$BENCH_TAG" <<'EOF'
import hashlib, json, os, sys
out, gz, tag = sys.argv[1:4]
def put(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)
idx = json.load(open(os.path.join(out, "index.json")))
for m in idx["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag:
        continue
    man = json.load(open(os.path.join(out, "blobs", "sha256", m["digest"].split(":")[1])))
    l = man["layers"][0]
    l["digest"], l["size"] = put(open(gz, "rb").read())
    l["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
    m["digest"], m["size"] = put(json.dumps(man).encode())
json.dump(idx, open(os.path.join(out, "index.json"), "w"))
EOF
	KINDS="$KINDS pigzi"
fi
for i in $KINDS; do
	blob=$(layer_blob "$W/$i" "$BENCH_TAG")
	printf '%-5s layer: %s bytes, %s gzip members with a size hint\n' "$i" "$(stat -c %s "$blob")" \
		"$(python3 -c 'import sys; print(open(sys.argv[1],"rb").read().count(b"\x1f\x8b\x08\x04\0\0\0\0"))' "$blob" 2>/dev/null || echo '?')"
done

# measure LABEL CMD...: median wall/user/sys over RUNS, peak RSS, load
measure() {
	local label=$1 w=() u=() s=() m= a b c
	shift
	for _ in $(seq "$RUNS"); do
		rm -rf "$W/bundle"
		/usr/bin/time -o "$W/time" -f '%e %U %S %M' "$@" >/dev/null 2>&1 || true
		read -r a b c m <"$W/time"
		w+=("$a") u+=("$b") s+=("$c")
	done
	med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
	printf '%-44s wall %6.2f  user %6.2f  sys %5.2f  rss %4d MB  load %s\n' "$label" \
		"$(med "${w[@]}")" "$(med "${u[@]}")" "$(med "${s[@]}")" "$((m / 1024))" \
		"$(cut -d' ' -f1 /proc/loadavg)"
}

# threads LABEL CMD...: CPU seconds per thread of one run, busiest first
threads() {
	local label=$1
	shift
	command -v perf >/dev/null || return 0
	rm -rf "$W/bundle"
	perf record -q -F 2000 -o "$W/perf.data" "$@" >/dev/null 2>&1 || return 0
	printf '%-44s threads (CPU s): %s\n' "$label" "$(perf report -i "$W/perf.data" --sort pid \
		--stdio -F sample,pid 2>/dev/null | awk '!/^#/ && NF { printf "%.2f\n", $1 / 2000 }' |
		sort -rn | tr '\n' ' ')"
}

for i in $KINDS; do
	blob=$(layer_blob "$W/$i" "$BENCH_TAG")
	case $i in zstd) measure "zstd -dc LAYER ($i)" zstd -dc "$blob" ;;
	*) measure "igzip -dc LAYER ($i)" igzip -dc "$blob" ;; esac
	for t in ${B:+B} N; do
		T=$N tag=after
		[ "$t" = B ] && T=$B tag=before
		[ -z "$B" ] && tag=
		measure "oci-inspect --verify $i${tag:+ ($tag)}" "$T/oci-inspect" -q --verify "$W/$i"
		measure "oci-unpack $i${tag:+ ($tag)}" "$T/oci-unpack" "$W/$i:$BENCH_TAG" "$W/bundle"
		threads "oci-inspect --verify $i${tag:+ ($tag)}" "$T/oci-inspect" -q --verify "$W/$i"
		threads "oci-unpack $i${tag:+ ($tag)}" "$T/oci-unpack" "$W/$i:$BENCH_TAG" "$W/bundle"
	done
done
