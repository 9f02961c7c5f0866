#!/bin/bash
# oci-diff --tar produces a layer: it exits 0 when it wrote one, with changes
# or none, so `oci-diff --tar B | oci-commit --layer - ...` passes under
# set -o pipefail; the text and --json forms keep diff(1)'s 0/1/2.
. "$(dirname "$0")/test-lib.sh"

cp -r "$TD/multi" "$TMP/L"
oci-unpack -q "$TMP/L:v1" "$TMP/b" || fail "unpack"

expect 0 "--tar, no changes: exit 0" sh -c 'exec oci-diff --tar "$1" >"$2"' _ "$TMP/b" "$TMP/empty.tar"
expect 0 "text, no changes: exit 0" oci-diff "$TMP/b"
echo step >"$TMP/b/rootfs/step.txt"
expect 1 "text, changes: exit 1 (diff(1))" oci-diff "$TMP/b"
expect 1 "--json, changes: exit 1 (diff(1))" oci-diff --json "$TMP/b"
expect 0 "--tar, changes: exit 0 (it wrote the layer)" sh -c 'exec oci-diff --tar "$1" >"$2"' _ "$TMP/b" "$TMP/l.tar"
is "$(tar tf "$TMP/l.tar" | grep -c step.txt)" 1 "--tar wrote the change"
expect 0 "--tar --compress gzip, changes: exit 0" sh -c 'exec oci-diff --tar --compress gzip "$1" >"$2"' _ "$TMP/b" "$TMP/l.tar.gz"
expect_fail "missing bundle: still exit 2" sh -c 'exec oci-diff --tar "$1" >/dev/null' _ "$TMP/nope"

# the pipeline the issue names, under set -euo pipefail
run bash -c 'set -euo pipefail
	oci-diff -q --tar "$1" | oci-commit -q --layer - --from "$2:v1" "$2:next"
	echo done' _ "$TMP/b" "$TMP/L"
is "$status" 0 "set -euo pipefail: oci-diff --tar B | oci-commit --layer - passes"
like '^sha256:[0-9a-f]{64}$' "oci-commit printed the manifest digest"
like '^done$' "the script went on"
expect 0 "the new image has the step's file" oci-inspect --files "$TMP/L:next"
like 'step\.txt' "the layer from the pipe holds step.txt"
expect 0 "the layout verifies" oci-inspect -q --verify "$TMP/L"
done_testing
