#!/usr/bin/env bash
# The quick start's main job, on a small image made here from Debian's
# busybox-static: commit a directory as an image, unpack it, run a build
# step in it, diff, commit the change, inspect the result.
set -euo pipefail
build=${1:-build}
tools="$(cd "$build/tools" && pwd)"
demo="$build/demo"
rm -rf "$demo"
mkdir -p "$demo/root/bin" "$demo/root/etc" "$demo/root/tmp"
cp /bin/busybox "$demo/root/bin/busybox"
for c in sh echo cat ls rm mkdir; do ln -s busybox "$demo/root/bin/$c"; done
echo "root:x:0:0:root:/root:/bin/sh" >"$demo/root/etc/passwd"
echo "demo" >"$demo/root/etc/hostname"

step() { printf '\n$ %s\n' "$*" | sed "s|$tools/||g"; "$@"; }
img="$demo/layout"
step "$tools/oci-commit" -q --timestamp 1700000000 --cmd '["/bin/sh"]' "$demo/root" "$img:base"
step "$tools/oci-unpack" "$img:base" "$demo/bundle"
# the build step, run by oci-runtime in what oci-unpack made; it leaves no
# trace of its own (no /proc, /sys, /dev mount points) in the changeset
step "$tools/oci-runtime" --root "$demo/run" run --bundle "$demo/bundle" "oci-demo-$$" -- \
	/bin/sh -c 'echo hello > /hello; rm /etc/hostname; mkdir -p /app && echo v1 > /app/version'
step "$tools/oci-diff" --ignore-mtime "$demo/bundle" || true
step "$tools/oci-commit" -m "demo step" --env APP=1 "$demo/bundle" "$img:next"
step "$tools/oci-inspect" "$img:next"
step "$tools/oci-inspect" --files --layer 2 "$img:next"
printf '\ndemo: done; the image is in %s (refs base and next)\n' "$img"
