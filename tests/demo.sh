#!/usr/bin/env bash
# The quick start's main job, on a small image the repo generates:
# inspect it every way, then show what each step printed.
set -euo pipefail
build=${1:-build}
tools="$build/tools"
demo="$build/demo"
python3 testdata/mkdata.py "$demo/data" >/dev/null
img="$demo/data/multi:v1"

step() { printf '\n$ %s\n' "$*"; "$@"; }
step "$tools/oci-inspect" "$img"
step "$tools/oci-inspect" --refs "$demo/data/multiarch"
step "$tools/oci-inspect" --files --layer 2 "$img"
step "$tools/oci-inspect" --refs "$demo/data/docker-save.tar"
printf '\ndemo: done; the image is in %s\n' "$demo/data/multi"
