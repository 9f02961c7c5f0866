#!/usr/bin/env bash
# A layout's own files are untrusted (docs/security.md, "Layouts"): the
# temporary names and the lock file tools make in a layout may have been
# planted first. A symlink or hard link planted at a temporary name is
# never written through (temporaries are fresh names, made O_EXCL|O_NOFOLLOW),
# and a lock file that is a symlink or a FIFO is refused, never followed.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/t0610-layout-lib.sh"

mk_outside

# --repair recreates oci-layout; .oci-layout.tmp was its fixed temporary name
fresh sym
rm "$TMP/sym/oci-layout"
ln -s "$OUT/file" "$TMP/sym/.oci-layout.tmp"
run timeout -k 5 "$T" oci-inspect --repair "$TMP/sym"
is "$status" 0 ".oci-layout.tmp a symlink out: --repair exits 0"
[ -f "$TMP/sym/oci-layout" ] && [ ! -L "$TMP/sym/oci-layout" ] &&
	jq -e '.imageLayoutVersion == "1.0.0"' "$TMP/sym/oci-layout" >/dev/null
ok $? ".oci-layout.tmp a symlink out: oci-layout recreated as a file of its own"
untouched ".oci-layout.tmp a symlink out: --repair"

# a hard link to a file outside (same filesystem): O_TRUNC on it would
# empty the outside file
fresh hard
rm "$TMP/hard/oci-layout"
ln "$OUT/dir/notes" "$TMP/hard/.oci-layout.tmp"
snap >"$TMP/outside.snap" # the link count of notes changed, by us
run timeout -k 5 "$T" oci-inspect --repair "$TMP/hard"
is "$status" 0 ".oci-layout.tmp a hard link to an outside file: --repair exits 0"
is "$(cat "$OUT/dir/notes")" "not a blob" ".oci-layout.tmp a hard link: the outside file keeps its content"
untouched ".oci-layout.tmp a hard link to an outside file: --repair"
rm -f "$TMP/hard/.oci-layout.tmp"
mk_outside

# index.json's temporary names: symlinks planted at every name a tool of
# this toolkit has used are left alone
fresh idx
for n in .index.json.tmp-1 .index.json.repair-1 .index.json.new-1 .oci-layout.tmp-abcdef; do
	ln -s "$OUT/file" "$TMP/idx/$n"
done
printf '{"schemaVersion":2,"manifests":[' >"$TMP/idx/index.json" # unreadable: rebuilt
run timeout -k 5 "$T" oci-inspect --repair "$TMP/idx"
is "$status" 0 "planted temporary names: --repair rebuilds index.json, exits 0"
untouched "planted temporary names: --repair"
expect 0 "planted temporary names: oci-commit into the layout" \
	oci-commit --from "$TD/multi:v1" --env A=1 "$TMP/idx:new"
untouched "planted temporary names: oci-commit"

# the lock file
fresh locksym
ln -s "$OUT/file" "$TMP/locksym/.index.lock"
refused ".index.lock a symlink out: oci-commit into the layout" ': \.index\.lock: symbolic link' \
	oci-commit --from "$TD/multi:v1" --env A=1 "$TMP/locksym:new"
refused ".index.lock a symlink out: --repair" ': \.index\.lock: symbolic link' \
	oci-inspect --repair "$TMP/locksym"
untouched ".index.lock a symlink out"

fresh lockfifo
mkfifo "$TMP/lockfifo/.index.lock"
refused ".index.lock a FIFO: oci-commit into the layout" ': \.index\.lock: not a regular file \(FIFO\)' \
	oci-commit --from "$TD/multi:v1" --env A=1 "$TMP/lockfifo:new"
refused ".index.lock a FIFO: --repair" ': \.index\.lock: not a regular file \(FIFO\)' \
	oci-inspect --repair "$TMP/lockfifo"
expect 0 ".index.lock a FIFO: --repair --dry-run takes no lock and writes nothing" \
	oci-inspect --repair --dry-run "$TMP/lockfifo"
untouched ".index.lock a FIFO"

done_testing
