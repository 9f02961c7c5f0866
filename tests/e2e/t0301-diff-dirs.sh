#!/usr/bin/env bash
# oci-diff DIR_A DIR_B: two directories made by hand (cp -a, then changes);
# identical trees; missing directories.
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'; return 0; }

# diff_is STATUS EXPECTED NAME ARG...: oci-diff ARG... exits STATUS and prints EXPECTED
diff_is() {
	local want=$1 exp=$2 name=$3
	shift 3
	run oci-diff "$@"
	if [ "$status" -ne "$want" ]; then
		fail "$name" "exit $status, want $want; stderr: $(head -c 300 "$TMP/err")"
	elif [ "$(out)" != "$exp" ]; then
		fail "$name" "$(diff <(printf '%s\n' "$exp") "$TMP/out")"
	else
		pass "$name"
	fi
}

A=$TMP/a
B=$TMP/b
mkdir -p "$A/etc/conf.d" "$A/home/app/deep" "$A/usr/lib" "$A/var/cache" "$A/empty"
echo root:x:0:0 >"$A/etc/passwd"
echo hostname >"$A/etc/hostname"
echo a >"$A/etc/conf.d/a.conf"
echo b >"$A/etc/conf.d/b.conf"
echo notes >"$A/home/app/deep/notes"
echo lib >"$A/usr/lib/libx.so.1"
ln -s libx.so.1 "$A/usr/lib/libx.so"
head -c 65536 /dev/urandom >"$A/var/cache/big.bin"
mkfifo "$A/var/fifo"
chown -R 1000:1000 "$A/home/app"
chmod 4755 "$A/usr/lib/libx.so.1"
find "$A" -exec touch -h -d @1700000000 {} +

# ---- identical ----
cp -a "$A" "$B"
diff_is 0 "" "cp -a copy: exit 0, no output" "$A" "$B"
is "$(wc -c <"$TMP/err")" 0 "cp -a copy: nothing on stderr"
diff_is 0 "" "a directory against itself: exit 0" "$A" "$A"
expect 0 "cp -a copy --json: exit 0" oci-diff --json "$A" "$B"
is "$(jq -c '[.count, .changes]' "$TMP/out")" "[0,[]]" "cp -a copy --json: no changes"
mkdir "$TMP/e1" "$TMP/e2"
touch -d @1700000000 "$TMP/e1" "$TMP/e2"
diff_is 0 "" "two empty directories: exit 0" "$TMP/e1" "$TMP/e2"

# ---- changes in B ----
echo more >>"$B/etc/passwd"                          # content + size
printf 'HOSTNAME\n' >"$B/etc/hostname"               # content, same size ...
touch -d @1700000000 "$B/etc/hostname"               # ... and the same mtime
chmod 0600 "$B/etc/conf.d/a.conf"                    # mode
chown 0:0 "$B/home/app/deep/notes"                   # owner
ln -sfn libx.so.2 "$B/usr/lib/libx.so"                # link
rm -rf "$B/etc/conf.d/b.conf"                        # file deleted
rm -rf "$B/home/app"                                 # directory deleted (with contents)
mkdir -p "$B/new/sub" && echo n >"$B/new/sub/f"      # new tree
rm "$B/var/fifo" && mkdir "$B/var/fifo"              # type
touch -d @1600000000 "$B/var/cache/big.bin"          # mtime alone
rmdir "$B/empty" && echo now-a-file >"$B/empty"      # dir -> file

cat >"$TMP/exp" <<'EOF'
C /empty
C /etc/conf.d/a.conf
D /etc/conf.d/b.conf
C /etc/hostname
C /etc/passwd
D /home/app
A /new
A /new/sub
A /new/sub/f
C /usr/lib/libx.so
C /var/fifo
EOF
diff_is 1 "$(cat "$TMP/exp")" "changes, --ignore-mtime: the exact lines" --ignore-mtime "$A" "$B"
run oci-diff "$A" "$B"
is "$(grep -vxFf "$TMP/exp" "$TMP/out" | tr '\n' ' ')" "C / C /etc/conf.d C /home C /usr/lib C /var C /var/cache/big.bin " \
	"without --ignore-mtime: plus the changed parents and the touched file"
is "$(grep -vxFf "$TMP/out" "$TMP/exp")" "" "without --ignore-mtime: none of the lines missing"
# the other way round: A and D swap, C stays
cat >"$TMP/rexp" <<'EOF'
C /empty
C /etc/conf.d/a.conf
A /etc/conf.d/b.conf
C /etc/hostname
C /etc/passwd
A /home/app
A /home/app/deep
A /home/app/deep/notes
D /new
C /usr/lib/libx.so
C /var/fifo
EOF
diff_is 1 "$(cat "$TMP/rexp")" "B against A: A and D swap (the added tree listed whole, the deleted once)" \
	--ignore-mtime "$B" "$A"

run oci-diff --json --ignore-mtime "$A" "$B"
if jq -e . "$TMP/out" >/dev/null 2>&1; then pass "--json parses"; else fail "--json parses" "$(head -c 300 "$TMP/out")"; fi
f() { jq -r --arg p "$1" '.changes[] | select(.path == $p) | "\(.kind):\(.fields | join(","))"' "$TMP/out"; }
is "$(f /etc/passwd)" "changed:size,content" "--json: /etc/passwd size, content"
is "$(f /etc/hostname)" "changed:content" "--json: /etc/hostname content (same size, same mtime)"
is "$(f /etc/conf.d/a.conf)" "changed:mode" "--json: a.conf mode"
is "$(f /usr/lib/libx.so)" "changed:link" "--json: libx.so link"
is "$(f /var/fifo)" "changed:type" "--json: /var/fifo type"
is "$(f /empty)" "changed:type" "--json: /empty type"
is "$(f /home/app)" "deleted:" "--json: /home/app deleted"
is "$(jq -c '.changes[] | select(.path == "/var/fifo") | [.before.type, .after.type]' "$TMP/out")" '["fifo","dir"]' \
	"--json: /var/fifo was a fifo, is a dir"
is "$(jq -c '.changes[] | select(.path == "/usr/lib/libx.so") | [.before.linkname, .after.linkname]' "$TMP/out")" '["libx.so.1","libx.so.2"]' \
	"--json: the link targets"
run oci-diff --json "$A" "$B"
is "$(f /var/cache/big.bin)" "changed:mtime" "--json without --ignore-mtime: big.bin mtime"

# owner: a change of its own (the tree above has the notes file deleted with its dir)
cp -a "$A" "$TMP/o"
chown 0:0 "$TMP/o/home/app/deep/notes"
diff_is 1 "C /home/app/deep/notes" "chown in a copy: C the file" "$A" "$TMP/o"
run oci-diff --json "$A" "$TMP/o"
is "$(jq -c '.changes[0] | [.fields, .before.uid, .after.uid]' "$TMP/out")" '[["owner"],1000,0]' "chown: the field is owner, uid 1000 -> 0"
if setfattr -n user.k -v v "$TMP/o/etc/passwd" 2>/dev/null; then
	diff_is 1 $'C /etc/passwd\nC /home/app/deep/notes' "xattr set in a copy: C the file" "$A" "$TMP/o"
else
	pass "# SKIP no user xattrs here"
fi

# ---- trouble: exit 2, one line naming the path ----
expect_fail "DIR_B missing: exit 2, one line" oci-diff "$A" "$TMP/nothere"
err_like 'nothere' "DIR_B missing: the message names it"
expect_fail "DIR_A missing: exit 2, one line" oci-diff "$TMP/nothere" "$B"
err_like 'nothere' "DIR_A missing: the message names it"
is "$(wc -c <"$TMP/out")" 0 "DIR_A missing: nothing on stdout"
expect_fail "both missing: exit 2, one line" oci-diff "$TMP/x1" "$TMP/x2"
echo file >"$TMP/regular"
expect_fail "a regular file against a directory: exit 2, one line" oci-diff "$TMP/regular" "$A"
expect_fail "--tar with --json: exit 2, one line" oci-diff --tar --json "$A" "$B"

done_testing
