#!/usr/bin/env bash
# Hard links in the unpack record: every name of an inode gets the inode's
# content digest, not a digest remembered for the link's target path that a
# later layer made stale (the target reached through a symlink that replaced
# a directory, a target whited out and made again). So a chmod (which moves
# the ctime of every name) is reported as a mode change, never as content.
. "$(dirname "$0")/test-lib.sh"
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py

python3 "$LIB" build "$TMP/img" - >/dev/null <<'EOF2' || { echo "Bail out! cannot build the image"; exit 1; }
{"layers": [
  ["x/", "x/f=old", "w/", "w/g=old-g"],
  ["x->y", "y/", "y/f=new", {"p": "h", "t": "h", "to": "x/f"},
   ".wh.w", "w->z", "z/", "z/g=new-g", {"p": "k", "t": "h", "to": "w/g"}]
]}
EOF2
B=$TMP/b
expect 0 "unpack: hard links whose target path is reached through a new symlink" oci-unpack -q "$TMP/img:t" "$B"
R=$B/rootfs
REC=$B/oci-unpack.record
recf() { awk -F'\t' -v p="/$1" -v c="$2" '$1 == p { print $c }' "$REC"; }
is "$(cat "$R/h")" "new" "h is y/f's inode (content new)"
is "$(stat -c %i "$R/h")" "$(stat -c %i "$R/y/f")" "h and y/f share an inode"
want="sha256:$(sha256sum <"$R/y/f" | cut -d' ' -f1)"
is "$(recf h 11)" "$want" "record: h has its inode's digest (not x/f's from layer 1)"
is "$(recf y/f 11)" "$want" "record: y/f has the same"
is "$(recf k 11)" "sha256:$(sha256sum <"$R/z/g" | cut -d' ' -f1)" "record: k has z/g's digest (not w/g's, whited out)"

expect 0 "oci-diff of the bundle as unpacked: no change" oci-diff "$B"
chmod 0600 "$R/y/f" "$R/z/g"
expect 1 "oci-diff after a chmod of y/f and z/g (their links' ctimes move too)" oci-diff --json "$B"
python3 - "$TMP/out" >"$TMP/f" <<'PY'
import json, sys
for c in json.load(open(sys.argv[1]))["changes"]:
    print(c["path"], ",".join(c.get("fields", [])))
PY
is "$(sort "$TMP/f" | tr '\n' ' ')" "/h mode /k mode /y/f mode /z/g mode " \
	"only the modes changed: no content change that never happened"

done_testing
