#!/usr/bin/env bash
# The record's number ranges (docs/record.md, docs/security.md "the record"):
# UID and GID 0..2^32-1, SIZE 0..2^63-1, each exactly at its bound (a value:
# oci-diff reads the record and reports the difference) and one past it
# (malformed record, one line, exit 2). t0641 has the mtime bounds.
. "$(dirname "$0")/test-lib.sh"

B=$TMP/b
oci-unpack -q "$TD/multi:v1" "$B" || { echo "Bail out! oci-unpack failed"; exit 1; }
REC=$B/oci-unpack.record
cp "$REC" "$TMP/orig"
edit() { # edit PATH FIELD VALUE
	awk -F'\t' -v OFS='\t' -v p="/$1" -v c="$2" -v v="$3" '$1 == p { $c = v } { print }' "$TMP/orig" >"$REC"
}
# at FIELD NAME VALUE: a value, the record is read by oci-diff and oci-commit
# (oci-diff does not compare owners here, so uid/gid are only read)
at() {
	edit etc/hostname "$1" "$3"
	run oci-diff "$B"
	if [ "$status" -le 1 ] && [ ! -s "$TMP/err" ]; then pass "$2 $3: a value, oci-diff reads the record"; else
		fail "$2 $3: a value, oci-diff reads the record" "exit $status: $(head -c 300 "$TMP/err")"; fi
	run oci-commit -q "$B" "$TMP/img$1:x"
	if ! grep -q malformed "$TMP/err"; then pass "... and oci-commit reads it too"; else
		fail "... and oci-commit reads it too" "$(head -c 300 "$TMP/err")"; fi
}
past() { # past FIELD NAME VALUE
	edit etc/hostname "$1" "$3"
	expect_fail "$2 $3: oci-diff refuses the record" oci-diff "$B"
	err_like "oci-unpack.record: malformed record at line [0-9]+: bad number" "... naming the line"
	expect_fail "$2 $3: oci-commit refuses it too" oci-commit -q "$B" "$TMP/out-img:x"
}
at 3 uid 4294967295
past 3 uid 4294967296
at 4 gid 4294967295
past 4 gid 4294967296
at 6 size 9223372036854775807
past 6 size 9223372036854775808

done_testing
