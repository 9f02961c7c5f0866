#!/usr/bin/env bash
# The record right after whiteouts: a path that a later layer whited out
# (or replaced) and that is made again without an entry of its own (a
# parent directory of a later entry) is a new directory. Neither the
# rootless record nor the disk keep the whited-out entry's mode, owners or
# xattrs; the normal record keeps none of its xattrs.
. "$(dirname "$0")/test-lib.sh"
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py

python3 "$LIB" build "$TMP/img" - >/dev/null <<'EOF2' || { echo "Bail out! cannot build the image"; exit 1; }
{"layers": [
  [{"p": "d/", "t": "d", "mode": 448, "uid": 1000, "gid": 1001, "x": {"user.old": "1"}}, "d/a=a",
   "o/", {"p": "o/s/", "t": "d", "mode": 320, "uid": 7, "gid": 8, "x": {"user.old": "2"}}, "o/s/a=a",
   {"p": "f", "t": "d", "mode": 448, "uid": 5, "gid": 5}, "f/x=x"],
  [".wh.d", "d/b=b",
   "o/.wh..wh..opq", "o/s/n=n",
   {"p": "f", "t": "f", "c": "file", "mode": 384, "uid": 6, "gid": 6}],
  [".wh.f", "f/y=y"]
]}
EOF2

for mode in rootless normal; do
	B=$TMP/$mode
	if [ $mode = rootless ]; then opt=--rootless; else opt=; fi
	expect 0 "$mode: unpack" oci-unpack -q $opt "$TMP/img:t" "$B"
	REC=$B/oci-unpack.record
	recf() { awk -F'\t' -v p="/$1" '$1 == p { print $2 " " $3 ":" $4 " " $13 }' "$REC"; }
	for p in d o/s; do
		if [ $mode = rootless ]; then
			is "$(recf $p)" "40755 0:0 -" "$mode: record: $p made again is 0755 0:0, no xattrs (not the whited-out one's)"
		else
			is "$(awk -F'\t' -v p="/$p" '$1 == p { print $2 " " $13 }' "$REC")" "40755 -" \
				"$mode: record: $p made again is 0755 with no xattrs"
		fi
		is "$(stat -c %a "$B/rootfs/$p")" 755 "$mode: on disk: $p is 0755"
	done
	if [ $mode = rootless ]; then
		is "$(recf f)" "40755 0:0 -" "$mode: record: f (a directory, then a file, whited out, made again as a parent) is a new 0755 0:0"
	fi
	expect 0 "$mode: oci-diff of the bundle as unpacked: no change" oci-diff "$B"
done

done_testing
