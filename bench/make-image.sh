#!/usr/bin/env bash
# bench/make-image.sh: build the benchmark image once and cache it.
#
# A Debian minbase root filesystem (debootstrap --variant=minbase), packed by
# umoci into an OCI layout as one gzip layer, ref $BENCH_TAG (default bookworm):
#   $BENCH_DIR/image        the OCI layout (BENCH_DIR defaults to /var/tmp/oci-bench)
#   $BENCH_DIR/image.info   how it was made: rootfs method, layer path, sizes, entries
#   $BENCH_DIR/rootfs       the root filesystem it was made from (kept for rebuilds)
# When image.info exists nothing is done; BENCH_REBUILD=1 makes the image again
# (from the cached rootfs), BENCH_REBUILD=2 makes the rootfs again too.
#
# If debootstrap cannot reach the mirror ($BENCH_MIRROR), a comparable rootfs is
# made instead by extracting the .deb files of the packages minbase would have
# (Priority: required, plus apt, and their dependencies) from the local apt
# cache or apt-get download; image.info and the output say which was used.
# BENCH_ROOTFS_METHOD=debs forces that fallback.
#
# Run as root: sudo bash bench/make-image.sh
. "$(dirname "$0")/lib.sh"

is_root || die "run as root (debootstrap, ownership of the rootfs): sudo bash $0"

if [ -f "$BENCH_INFO" ] && [ "${BENCH_REBUILD:-0}" = 0 ]; then
	log "cached: $BENCH_IMAGE:$BENCH_TAG (BENCH_REBUILD=1 to make it again)"
	cat "$BENCH_INFO"
	exit 0
fi

need umoci umoci
need jq jq
need dpkg-deb dpkg
mkdir -p "$BENCH_DIR"
rm -f "$BENCH_INFO"

# --- the root filesystem -----------------------------------------------------

# no_mounts DIR: unmount whatever a failed debootstrap left mounted under DIR
no_mounts() {
	local m
	findmnt -rn -o TARGET | grep -F "$1/" | sort -r | while read -r m; do
		umount -l "$m" || true
	done
}

rootfs_debootstrap() { # DIR
	need debootstrap debootstrap
	log "debootstrap --variant=minbase $BENCH_SUITE $1 $BENCH_MIRROR"
	local t0 rc=0
	t0=$(now)
	debootstrap --variant=minbase "$BENCH_SUITE" "$1" "$BENCH_MIRROR" \
		>"$BENCH_DIR/debootstrap.log" 2>&1 || rc=$?
	no_mounts "$1"
	if [ "$rc" -ne 0 ]; then
		log "debootstrap failed (exit $rc); last lines of $BENCH_DIR/debootstrap.log:"
		tail -n 5 "$BENCH_DIR/debootstrap.log" >&2
		return 1
	fi
	log "debootstrap done in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s"
	# Kept as debootstrap leaves it, with the downloaded .debs in
	# var/cache/apt/archives: that is the ~95 MB, ~7k entries the targets
	# were set on.
}

rootfs_debs() { # DIR
	local dir=$1 debs=$BENCH_DIR/debs pkgs p f n=0
	log "fallback: a minbase-like rootfs from the .deb files of its packages"
	# minbase = Priority: required + apt; then everything they depend on
	pkgs=$( { apt-cache dumpavail | awk '
		/^Package:/ { p = $2 }
		/^Priority: required$/ { print p }'; echo apt; } | sort -u)
	[ -n "$pkgs" ] || die "apt-cache knows no packages: run apt-get update"
	# shellcheck disable=SC2086
	pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances $pkgs |
		grep -E '^[a-z0-9][a-z0-9.+-]*$' | sort -u)
	mkdir -p "$debs" "$dir"
	for p in $pkgs; do
		f=$(ls /var/cache/apt/archives/"${p}"_*.deb "$debs/${p}"_*.deb 2>/dev/null | head -n1 || true)
		if [ -z "$f" ]; then
			(cd "$debs" && apt-get download -q "$p" >/dev/null 2>&1) ||
				{ log "cannot get $p, left out"; continue; }
			f=$(ls "$debs/${p}"_*.deb | head -n1)
		fi
		printf '%s\n' "$f"
	done >"$BENCH_DIR/debs.list"
	# bookworm is merged-/usr: make the links first and keep them
	mkdir -p "$dir/usr/bin" "$dir/usr/sbin" "$dir/usr/lib" "$dir/usr/lib64"
	for p in bin sbin lib lib64; do ln -sfn "usr/$p" "$dir/$p"; done
	while read -r f; do
		dpkg-deb --fsys-tarfile "$f" |
			tar -x -p --same-owner --keep-directory-symlink -C "$dir" ||
			die "cannot extract $f"
		n=$((n + 1))
	done <"$BENCH_DIR/debs.list"
	mkdir -p "$dir"/{dev,proc,sys,run,tmp,root,home,mnt,srv,opt,media} "$dir/var/cache/apt/archives"
	chmod 1777 "$dir/tmp"
	# as debootstrap does, leave the .debs in the apt cache of the rootfs
	xargs -r cp -t "$dir/var/cache/apt/archives" <"$BENCH_DIR/debs.list"
	log "extracted $n packages (list: $BENCH_DIR/debs.list)"
	echo "$n" >"$BENCH_DIR/debs.count"
}

if [ "${BENCH_REBUILD:-0}" = 2 ]; then
	rm -rf "$BENCH_ROOTFS" "$BENCH_DIR/rootfs.method"
fi
if [ ! -f "$BENCH_DIR/rootfs.method" ]; then
	rm -rf "$BENCH_ROOTFS" "$BENCH_ROOTFS.tmp"
	method=
	if [ "${BENCH_ROOTFS_METHOD:-debootstrap}" = debootstrap ]; then
		if rootfs_debootstrap "$BENCH_ROOTFS.tmp"; then
			method="debootstrap --variant=minbase $BENCH_SUITE $BENCH_MIRROR"
		else
			rm -rf "$BENCH_ROOTFS.tmp"
		fi
	fi
	if [ -z "$method" ]; then
		rootfs_debs "$BENCH_ROOTFS.tmp"
		method="fallback: extracted .deb files of $(cat "$BENCH_DIR/debs.count") packages (minbase set: Priority required + apt, with dependencies)"
	fi
	mv "$BENCH_ROOTFS.tmp" "$BENCH_ROOTFS"
	echo "$method" >"$BENCH_DIR/rootfs.method"
fi
method=$(cat "$BENCH_DIR/rootfs.method")
log "rootfs: $method"

# --- the OCI layout ------------------------------------------------------------

tmp=$BENCH_DIR/image.tmp
rm -rf "$tmp" "$BENCH_DIR/bundle.tmp"
log "umoci: init, new, unpack, copy the rootfs in, repack"
umoci init --layout "$tmp"
umoci new --image "$tmp:$BENCH_TAG"
umoci unpack --image "$tmp:$BENCH_TAG" "$BENCH_DIR/bundle.tmp"
cp -a "$BENCH_ROOTFS/." "$BENCH_DIR/bundle.tmp/rootfs/"
t0=$(now)
umoci repack --image "$tmp:$BENCH_TAG" "$BENCH_DIR/bundle.tmp"
repack_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
umoci gc --layout "$tmp"
rm -rf "$BENCH_DIR/bundle.tmp" "$BENCH_IMAGE"
mv "$tmp" "$BENCH_IMAGE"

layer=$(layer_blob "$BENCH_IMAGE" "$BENCH_TAG")
manifest=$(jq -r '.manifests[0].digest' "$BENCH_IMAGE/index.json")
nlayers=$(jq -r '.layers | length' "$BENCH_IMAGE/blobs/sha256/${manifest#sha256:}")
entries=$(tar -tzf "$layer" | wc -l)
{
	echo "image=$BENCH_IMAGE:$BENCH_TAG"
	echo "rootfs=$method"
	echo "layer=$layer"
	echo "layers=$nlayers"
	echo "layer_bytes=$(stat -c %s "$layer")"
	echo "unpacked_bytes=$(gzip -dc "$layer" | wc -c)"
	echo "entries=$entries"
	echo "files=$(find "$BENCH_ROOTFS" -type f | wc -l)"
	echo "rootfs_du=$(du -sh "$BENCH_ROOTFS" | cut -f1)"
	echo "umoci=$(umoci --version)"
	echo "repack_seconds=$repack_s"
	echo "made=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$BENCH_INFO.tmp"
mv "$BENCH_INFO.tmp" "$BENCH_INFO"
log "done: $BENCH_IMAGE:$BENCH_TAG"
cat "$BENCH_INFO"
