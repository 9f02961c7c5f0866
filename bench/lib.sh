# shellcheck shell=bash disable=SC2034
# bench/lib.sh: sourced by bench/make-image.sh and bench/unpack.sh.
# Where the cached image lives, how to find the built tools, how to get the
# programs a benchmark needs. Benchmarks print; they never assert.
set -euo pipefail
export LC_ALL=C

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/oci-bench}
BENCH_TAG=${BENCH_TAG:-bookworm}
BENCH_SUITE=${BENCH_SUITE:-bookworm}
BENCH_MIRROR=${BENCH_MIRROR:-http://deb.debian.org/debian}
OCI_BUILD_DIR=${OCI_BUILD_DIR:-$BENCH_SRC/build}
OCI_UNPACK=${OCI_UNPACK:-$OCI_BUILD_DIR/tools/oci-unpack}

# The cached image: an OCI layout with one ref ($BENCH_TAG) and one gzip layer.
# image.info (key=value lines) is written last, once the layout is complete.
BENCH_IMAGE=$BENCH_DIR/image
BENCH_INFO=$BENCH_DIR/image.info
BENCH_ROOTFS=$BENCH_DIR/rootfs

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

_apt_updated=
# need CMD PACKAGE: make sure CMD is on PATH, installing Debian PACKAGE if not.
need() {
	local cmd=$1 pkg=$2
	command -v "$cmd" >/dev/null 2>&1 && return 0
	is_root || die "$cmd is missing: apt-get install $pkg (as root)"
	log "installing $pkg (for $cmd)"
	if [ -z "$_apt_updated" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || die "apt-get update failed"
		_apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg" >&2 ||
		die "apt-get install $pkg failed"
	command -v "$cmd" >/dev/null 2>&1 || die "$pkg installed but $cmd not found"
}

# info KEY: a value from image.info
info() { sed -n "s/^$1=//p" "$BENCH_INFO" | head -n1; }

# layer_blob LAYOUT TAG: the path of the first layer blob of LAYOUT:TAG
# (index.json -> manifest with that ref name -> layers[0]).
layer_blob() {
	local layout=$1 tag=$2 m l
	m=$(jq -r --arg t "$tag" '.manifests[] |
		select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' \
		"$layout/index.json" | head -n1)
	[ -n "$m" ] || die "no ref $tag in $layout/index.json"
	l=$(jq -r '.layers[0].digest' "$layout/blobs/${m%%:*}/${m#*:}")
	if [ -z "$l" ] || [ "$l" = null ]; then die "manifest $m has no layer"; fi
	printf '%s\n' "$layout/blobs/${l%%:*}/${l#*:}"
}

# now: seconds since the epoch, nanosecond resolution
now() { date +%s.%N; }

# machine: one line per fact about this machine, for the report
machine() {
	echo "nproc: $(nproc)"
	echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
	echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "kernel: $(uname -sr)"
	[ -r /etc/os-release ] && echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
	return 0
}
