#!/usr/bin/env bash
# The in-memory merge: oci-inspect --files --merged against the expected trees
# and oci-unpack's rootfs; oci-unpack IMAGE - (the merged tar stream) extracted
# by GNU tar against oci-unpack's rootfs; the stream refuses a terminal.
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'; return 0; }
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py

# merged_lines: stdin, oci-inspect --files --merged -> "PATH T MODE UID:GID SIZE[ -> TARGET]"
merged_lines() {
	awk '
	function oct(s,   m, i, c, bits) {
		m = 0
		for (i = 2; i <= 10; i++) {
			c = substr(s, i, 1)
			if (c != "-" && c != "S" && c != "T") m += 2 ^ (10 - i)
		}
		if (substr(s, 4, 1) ~ /[sS]/) m += 2048
		if (substr(s, 7, 1) ~ /[sS]/) m += 1024
		if (substr(s, 10, 1) ~ /[tT]/) m += 512
		return sprintf("%04o", m)
	}
	{
		p = $6; sub(/^\//, "", p); sub(/\/$/, "", p); o = $2; sub("/", ":", o)
		t = substr($1, 1, 1)
		line = p " " t " " oct($1) " " o " " (t == "-" ? $3 : "")
		if (t == "l") line = line "-> " $8
		print line
	}'
}
# tree_lines: stdin, an expected/*.tree -> the same form
tree_lines() {
	awk '{
		t = $2 == "dir" ? "d" : $2 == "symlink" ? "l" : $2 == "fifo" ? "p" : $2 == "char" ? "c" : $2 == "block" ? "b" : "-"
		size = ""
		for (i = 5; i <= NF; i++) if ($i ~ /^size=/) size = substr($i, 6)
		line = $1 " " t " " $3 " " $4 " " size
		if (t == "l") { tg = $5; sub(/^target=/, "", tg); line = line "-> " tg }
		print line
	}'
}
same() { # same EXPECTED-FILE GOT-FILE NAME
	if diff -u "$1" "$2" >"$TMP/d"; then pass "$3"; else fail "$3" "$(cat "$TMP/d")"; fi
}

n=0
for img in multi:v1 multi:v2 zstd:latest docker-mt:docker docker-save.tar:example/app:1.0 docker-save-oci.tar:1.0 multi.tar.zst:v2; do
	n=$((n + 1))
	case $img in
	multi.tar.zst:v2) tree=multi-v2 ;;
	docker-save.tar:*) tree=docker-save ;;
	docker-save-oci.tar:*) tree=docker-save-oci ;;
	*) tree=${img//:/-} ;;
	esac
	exp=$TD/expected/$tree.tree
	# --merged against the expected tree
	run oci-inspect --files --merged "$TD/$img"
	is "$status" 0 "$img: oci-inspect --files --merged exits 0"
	merged_lines <"$TMP/out" >"$TMP/m$n"
	tree_lines <"$exp" >"$TMP/e$n"
	is "$(cut -d' ' -f1 "$TMP/m$n")" "$(cut -d' ' -f1 "$TMP/e$n")" "$img: --merged lists the expected tree's paths, sorted"
	same "$TMP/e$n" "$TMP/m$n" "$img: --merged types, modes, owners, sizes and link targets are the expected tree's"
	# --merged against what oci-unpack makes
	oci-unpack -q "$TD/$img" "$TMP/b$n" || fail "$img: oci-unpack" ""
	is "$(cd "$TMP/b$n/rootfs" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort)" "$(cut -d' ' -f1 "$TMP/m$n")" \
		"$img: --merged paths are oci-unpack's rootfs paths"
	# the merged tar stream, extracted by GNU tar
	oci-unpack "$TD/$img" - >"$TMP/s$n.tar" 2>"$TMP/err"
	st=$?
	is "$st" 0 "$img: oci-unpack IMAGE - exits 0"
	[ "$st" = 0 ] || diag "stderr: $(cat "$TMP/err")"
	is "$(wc -l <"$TMP/err")" 0 "$img: oci-unpack IMAGE - to a file: nothing on stderr (not a terminal, no progress)"
	mkdir "$TMP/x$n"
	tar -x -C "$TMP/x$n" -f "$TMP/s$n.tar" --same-owner -p --xattrs --xattrs-include='*' 2>"$TMP/tarerr"
	is "$?" 0 "$img: GNU tar extracts the stream"
	is "$(tar tf "$TMP/s$n.tar" 2>/dev/null | sed 's#/$##' | sort | uniq -d | head -n 3)" "" "$img: no name twice in the stream"
	python3 "$LIB" tree "$TMP/b$n/rootfs" "$TMP/ut$n" "$TMP/x$n" "$TMP/xt$n" || { echo "Bail out! lib-layers.py tree failed"; exit 1; }
	same "$TMP/ut$n" "$TMP/xt$n" "$img: the extracted stream = oci-unpack's rootfs (types, modes, owners, content, links, xattrs)"
	python3 "$LIB" tree --mtime "$TMP/b$n/rootfs" "$TMP/ut$n" "$TMP/x$n" "$TMP/xt$n"
	same "$TMP/ut$n" "$TMP/xt$n" "$img: ... and the mtimes too"
done

# the stream is the same bytes every time
oci-unpack "$TD/multi:v1" - 2>/dev/null | sha256sum >"$TMP/h1"
oci-unpack "$TD/multi.tar.gz:v1" - 2>/dev/null | sha256sum >"$TMP/h2"
is "$(cat "$TMP/h2")" "$(cat "$TMP/h1")" "the stream of multi:v1 is the same bytes from the layout and from multi.tar.gz"
# no whiteouts in the stream, and the whited-out paths are absent
names=$(tar tf "$TMP/s1.tar" 2>/dev/null)
is "$(printf '%s\n' "$names" | grep -c '\.wh\.')" 0 "multi:v1 stream: no whiteout entries"
is "$(printf '%s\n' "$names" | grep -cE '^(etc/conf.d/(a|b)\.conf|var/cache/big\.bin)$')" 0 "multi:v1 stream: whited-out files absent"
is "$(printf '%s\n' "$names" | grep -c '^var/cache/fresh.txt$')" 1 "multi:v1 stream: the same-layer file kept"
is "$(tar tvf "$TMP/s1.tar" 2>/dev/null | grep -c '^h.* bin/tool2 link to bin/tool$')" 1 "multi:v1 stream: bin/tool2 is still a hard link to bin/tool"

# a platform of an index
oci-unpack --platform linux/arm/v7 "$TD/multiarch:latest" - 2>/dev/null | tar xOf - etc/arch >"$TMP/arch"
is "$(cat "$TMP/arch")" "linux/arm/v7" "--platform linux/arm/v7: the stream holds that image's etc/arch"
run oci-inspect --files --merged --platform linux/386 "$TD/multiarch:latest"
like '/etc/arch$' "--merged --platform linux/386: lists /etc/arch"

# names that are not ASCII in the layers: the stream carries them as they are
python3 - "$TMP/nonascii.json" <<'EOF'
import json, sys
spec = {"ref": "t", "layers": [["etc/", "etc/caf\u00e9=x", "etc/raw\udcffname=y",
                                "opt/", "opt/\u65e5\u672c/", "opt/\u65e5\u672c/f=z"]]}
json.dump(spec, open(sys.argv[1], "w"))
EOF
python3 "$LIB" build "$TMP/na" "$TMP/nonascii.json" >/dev/null || { echo "Bail out! lib-layers.py build failed"; exit 1; }
oci-unpack -q "$TMP/na:t" "$TMP/nab" || fail "non-ASCII names: oci-unpack" ""
run oci-unpack "$TMP/na:t" -
is "$status" 0 "non-ASCII names: oci-unpack IMAGE - exits 0"
[ "$status" = 0 ] || diag "$(err)"
mkdir "$TMP/nax"
tar -x -C "$TMP/nax" -f "$TMP/out" 2>/dev/null
python3 "$LIB" tree "$TMP/nab/rootfs" "$TMP/na.want" "$TMP/nax" "$TMP/na.got"
same "$TMP/na.want" "$TMP/na.got" "non-ASCII names: the extracted stream = oci-unpack's rootfs"
run oci-inspect --files --merged "$TMP/na:t"
is "$(grep -c '/etc/raw' "$TMP/out")" 1 "non-ASCII names: --merged lists the name that is not UTF-8"

# a bad image: exit 2, one line
expect_fail "a corrupt layer: oci-unpack IMAGE - exits 2, one line" oci-unpack "$TD/hostile/digest-mismatch:bad" -
expect_fail "a corrupt layer: --files --merged exits 2, one line" oci-inspect --files --merged "$TD/hostile/digest-mismatch:bad"
expect_fail "--merged of a several-ref layout without a ref: exit 2" oci-inspect --files --merged "$TD/multi"

# a terminal
if command -v script >/dev/null; then
	script -qec "oci-unpack '$TD/multi:v1' -" /dev/null >"$TMP/tty.out" 2>&1
	is "$?" 2 "oci-unpack IMAGE - to a terminal: exit 2"
	is "$(tr -d '\r' <"$TMP/tty.out" | grep -c .)" 1 "oci-unpack IMAGE - to a terminal: one line"
	if tr -d '\r' <"$TMP/tty.out" | grep -q '^oci-unpack: .*terminal'; then pass "... saying why"; else fail "... saying why" "$(cat "$TMP/tty.out")"; fi
	is "$(wc -c <"$TMP/tty.out")" "$(tr -d '\r' <"$TMP/tty.out" | grep -a . | wc -c | awk '{ print $1 + 1 }')" "... and no tar bytes reached the terminal"
else
	for i in 1 2 3 4; do pass "# SKIP no script(1) to fake a terminal"; done
fi

done_testing
