#!/usr/bin/env bash
# Every untrusted string printed as text is escaped: ESC, DEL and the C1
# control CSI in a ref, an annotation, a platform, a media type, every config
# field, a layer's file name, and in arguments, come out as \ooo (or \xHH on
# stderr), in the tree, --refs, --files, --merged, --verify, --repair, the
# notes, usage errors and error lines of oci-inspect and oci-diff.
. "$(dirname "$0")/test-lib.sh"
SHAPES="$OCI_SOURCE_DIR/tests/e2e/lib-shapes.py"
C=$TMP/ctrl
python3 "$SHAPES" ctrl "$C" --tar "$TMP/ctrl.tar" && python3 "$SHAPES" deep "$TMP/plain" 1 || exit 1
dg=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$C/index.json")

# clean NAME: neither stdout nor stderr of the last run holds a control
# character other than newline and tab (C0, DEL, or C1 as UTF-8)
clean() {
	if python3 - "$TMP/out" "$TMP/err" <<'PY'; then pass "$1"; else fail "$1" "$(cat -v "$TMP/out" "$TMP/err" | grep -m3 -e '\^\[' -e '\^?' -e 'M-B')"; fi
import re, sys
bad = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]|\xc2[\x80-\x9f]")
for f in sys.argv[1:]:
    for line in open(f, "rb").read().split(b"\n"):
        if bad.search(line):
            sys.exit(1)
PY
}

expect 0 "tree" oci-inspect "$C"
clean "tree: ref, platform, media type, created, entrypoint, cmd, env, workdir, user escaped"
like 'r\\033\[31mX\\177\\302\\233: manifest' "the ref is shown escaped, byte for byte"
like 'linux/amd64/v\\033\[31mX\\177\\302\\233' "the platform is shown escaped"
like 'application/x\\033\[31mX' "the odd media type is shown escaped"
like 'entrypoint  \["/bin/\\u001b\[31mX\\177\\302\\233"\]' "JSON arrays: C0 as JSON escapes, DEL and C1 as \\ooo"

expect 0 "--refs" oci-inspect --refs "$C"
clean "--refs: ref, media type and platforms escaped"
expect 0 "--files" oci-inspect --files "$C@$dg"
clean "--files: the file name escaped"
like '/etc/\\033\[31mX\\177\\302\\233$' "... byte for byte"
expect 0 "--files --merged" oci-inspect --files --merged "$C@$dg"
clean "--merged: the file name escaped"
expect 0 "tree of the archive" oci-inspect "$TMP/ctrl.tar"
clean "archive: escaped too"

expect 1 "--verify" oci-inspect --verify "$C"
clean "--verify: refs and details escaped"
like '^mediatype sha256:[0-9a-f]{64} odd\\033\[31mX\\177\\302\\233 descriptor says "application/x\\033' "... the problem line names both, escaped"
cp -r "$C" "$TMP/c2"
expect 0 "--repair --dry-run" oci-inspect --repair --dry-run "$TMP/c2"
clean "--repair --dry-run: fix lines escaped"
expect 0 "--repair" oci-inspect --repair "$TMP/c2"
clean "--repair: fix lines escaped"

run oci-inspect $'--layer=9\e[31m' --files "$C@$dg"
is "$status" 2 "a bad --layer: exit 2"
clean "usage errors: the argument escaped"
run oci-inspect $'/nonexistent/\e[31m\x7f'
is "$status" 2 "a missing path: exit 2"
clean "error lines: the path escaped"

expect 1 "oci-diff of two images" oci-diff --platform linux/amd64 "$C@$dg" "$TMP/plain"
clean "oci-diff: paths escaped"
like '^D /etc/\\033\[31mX' "... byte for byte"
run oci-diff $'/nonexistent/\e[31m' "$TMP/plain"
clean "oci-diff errors: escaped"

done_testing
