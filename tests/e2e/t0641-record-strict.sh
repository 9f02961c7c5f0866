#!/usr/bin/env bash
# The unpack record is input like any other: oci-diff and oci-commit read
# only the one canonical form oci-unpack writes (docs/record.md), with
# every number range-checked, every escape and digest checked, and refuse
# anything else (exit 2, one line naming the record, its line and what is
# wrong). A version 1 record is refused with a word to unpack again.
. "$(dirname "$0")/test-lib.sh"

B=$TMP/b
oci-unpack -q "$TD/multi:v1" "$B" || { echo "Bail out! oci-unpack failed"; exit 1; }
REC=$B/oci-unpack.record
cp "$REC" "$TMP/orig"

# edit PATH FIELD VALUE: the record with one field of one line replaced
edit() {
	awk -F'\t' -v OFS='\t' -v p="/$1" -v c="$2" -v v="$3" '$1 == p { $c = v } { print }' "$TMP/orig" >"$REC"
}
# refused NAME WHY-REGEX: oci-diff and oci-commit both refuse the record
refused() {
	expect_fail "$1: oci-diff refuses the record" oci-diff "$B"
	err_like "oci-unpack.record: malformed record at line [0-9]+: $2" "$1: the message names the line and says why"
	expect_fail "$1: oci-commit refuses it too" oci-commit -q "$B" "$TMP/out-img:x"
}

edit etc/xattr-file 13 user.test=zz
refused "xattr value not hex (was read by an unchecked sscanf)" "bad xattrs"
edit etc/xattr-file 13 user.test=6
refused "xattr value of an odd length" "bad xattrs"
edit etc/xattr-file 13 'user.a;trusted.x=00'
refused "a raw ';' in an xattr name" "bad xattrs"
edit etc/xattr-file 13 'user.b=00;user.a=00'
refused "xattrs out of order" "bad xattrs"
edit etc/hostname 7 -9223372036854775809
refused "mtime below INT64_MIN (wrapped around before)" "bad number"
edit etc/hostname 7 9223372036854775808
refused "mtime above INT64_MAX" "bad number"
edit etc/hostname 7 -0
refused "mtime -0" "bad number"
edit etc/hostname 3 4294967296
refused "uid 2^32 (kept as 0, root, before)" "bad number"
edit etc/hostname 2 0100644
refused "mode with a leading zero" "bad number"
edit etc/hostname 6 +5
refused "size with a sign" "bad number"
edit etc/hostname 14 2
refused "an unknown flag" "unknown flags"
edit etc/hostname 14 '0	junk'
refused "text after the last field (ignored before)" "too many fields"
edit etc/hostname 11 SHA256:0000
refused "a digest that does not parse" "bad digest"
edit etc 11 "$(awk -F'\t' '$1 == "/etc/hostname" { print $11 }' "$TMP/orig")"
refused "a digest on a directory" "a digest on what is not a regular file"
edit etc/hostname 12 /x
refused "a link target on a regular file" "a target on what is not a symbolic link"
edit bin/tool2 11 "sha256:$(printf '%064d' 0)"
refused "hard links of one inode with different digests" "hard links of one inode with different digests"
sed 's|^/etc/hostname\t|/etc/host%4eame\t|' "$TMP/orig" >"$REC"
refused "an escape of a byte that needs none" "bad path"
sed 's|^/etc/hostname\t|/etc/host name\t|' "$TMP/orig" >"$REC"
refused "a raw space in a path" "bad path"
sed 's|^/etc/hostname\t|/etc/../etc/hostname\t|' "$TMP/orig" >"$REC"
refused "a path with .." "path not clean"
sed '1s/.*/oci-unpack-record 1/' "$TMP/orig" >"$REC"
expect_fail "version 1: oci-diff refuses it" oci-diff "$B"
err_like "version 1 is no longer read .*unpack the image again" "version 1: the message says to unpack again"
sed '1s/.*/oci-unpack-record 3/' "$TMP/orig" >"$REC"
refused "version 3" "unknown version"
sed '6s/.*/count 99999999999999999999/' "$TMP/orig" >"$REC"
refused "count past 2^64" "bad count"
sed '$d' "$TMP/orig" >"$REC"
refused "a truncated record" "fewer entries than count"
{ cat "$TMP/orig"; printf '/zzz\t100644\t0\t0\t1\t0\t0\t0\t1\t0\t-\t-\t-\t0\n'; } >"$REC"
refused "an entry more than count" "more entries than count"

# the limits themselves are values
edit etc/hostname 7 -9223372036854775808
expect 1 "mtime INT64_MIN is a value: oci-diff reads the record" oci-diff --json "$B"
is "$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["changes"]; print(c[0]["path"], c[0]["fields"], int(c[0]["before"]["mtime"]))' "$TMP/out")" \
	"/etc/hostname ['mtime'] -9223372036" "... and reports the mtime that differs, from its lowest value"
edit etc/hostname 7 9223372036854775807
expect 1 "mtime INT64_MAX is a value" oci-diff "$B"
like '^C +/etc/hostname' "... and differs"
cp "$TMP/orig" "$REC"
expect 0 "the record as written: no change" oci-diff "$B"

done_testing
