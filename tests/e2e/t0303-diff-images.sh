#!/usr/bin/env bash
# oci-diff IMAGE_A IMAGE_B: root filesystems (from the layers, without
# unpacking) and configs. Expected lines derived from testdata's expected
# trees; the same image in other forms; a commit against its parent.
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'; return 0; }

# tree_diff A.tree B.tree: the A/C/D lines that take tree A to tree B
# (a deleted directory once, an added one with its contents)
tree_diff() {
	awk '
	FNR == NR { a[$1] = $0; next }
	{ b[$1] = $0 }
	END {
		for (p in a) all[p] = 1
		for (p in b) all[p] = 1
		for (p in all) {
			if (!(p in b)) {
				q = p; hidden = 0
				while (sub(/\/[^\/]*$/, "", q)) if ((q in a) && !(q in b)) hidden = 1
				if (!hidden) print p "\tD /" p
			} else if (!(p in a)) print p "\tA /" p
			else if (a[p] != b[p]) print p "\tC /" p
		}
	}' "$1" "$2" | LC_ALL=C sort -t "$(printf '\t')" -k1,1 | cut -f2
}
# diff_is STATUS EXPECTED NAME ARG...
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

CFG_V1V2='C config.Entrypoint
C config.Cmd
C config.Env
C config.WorkingDir
C config.User
C config.Labels
C config.ExposedPorts
C config.Volumes
C config.StopSignal'

# ---- multi:v1 -> multi:v2 ----
files=$(tree_diff "$TD/expected/multi-v1.tree" "$TD/expected/multi-v2.tree")
is "$(printf '%s\n' "$files" | wc -l)" 9 "the oracle: 9 file-level differences between the expected trees"
diff_is 1 "$files
$CFG_V1V2" "multi:v1 -> multi:v2: the exact lines (files, then config)" "$TD/multi:v1" "$TD/multi:v2"
like '^D /opt$' "a deleted directory is listed once"
unlike '^D /opt/new.txt$' "... not its contents"
# and back: A and D swap, the added tree in full
files=$(tree_diff "$TD/expected/multi-v2.tree" "$TD/expected/multi-v1.tree")
run oci-diff "$TD/multi:v2" "$TD/multi:v1"
is "$status" 1 "multi:v2 -> multi:v1: exit 1"
is "$(grep -v '^C config\.' "$TMP/out")" "$files" "multi:v2 -> multi:v1: the file lines"
like '^A /opt/new.txt$' "multi:v2 -> multi:v1: the added directory with its contents"
is "$(grep -c '^C config\.' "$TMP/out")" 9 "multi:v2 -> multi:v1: the nine config lines"

run oci-diff --json "$TD/multi:v1" "$TD/multi:v2"
if jq -e . "$TMP/out" >/dev/null 2>&1; then pass "--json parses"; else fail "--json parses" "$(head -c 300 "$TMP/out")"; fi
is "$(jq -r '[.config[].field] | join(" ")' "$TMP/out")" \
	"config.Entrypoint config.Cmd config.Env config.WorkingDir config.User config.Labels config.ExposedPorts config.Volumes config.StopSignal" \
	"--json: a config array with the differing fields"
is "$(jq -c '.config[] | select(.field == "config.Cmd") | [.before, .after]' "$TMP/out")" '[["--help"],["/bin/sh"]]' \
	"--json: config.Cmd before and after"
is "$(jq -c '.config[] | select(.field == "config.Entrypoint") | [.before, .after]' "$TMP/out")" '[["/bin/tool"],null]' \
	"--json: config.Entrypoint before, after null"
is "$(jq -c '.config[] | select(.field == "config.Labels") | .after' "$TMP/out")" '{"org.example.name":"multi-v2"}' \
	"--json: config.Labels after"
is "$(jq -r '.changes[] | "\(.kind[0:1] | ascii_upcase) \(.path)"' "$TMP/out")" "$(tree_diff "$TD/expected/multi-v1.tree" "$TD/expected/multi-v2.tree")" \
	"--json: the changes are the file lines"
is "$(jq -c '.changes[] | select(.path == "/etc/hostname") | [.fields, .before.size, .after.size]' "$TMP/out")" '[["content"],6,6]' \
	"--json: /etc/hostname content changed, same size"
is "$(jq -c '.changes[] | select(.path == "/usr/lib/libx.so.1") | .fields' "$TMP/out")" '["content"]' \
	"--json: libx.so.1 content (the same size)"
is "$(jq -r '.changes[] | select(.path == "/var/cache/big.bin") | [.kind, .after.type, .after.size, .after.digest] | join(" ")' "$TMP/out")" \
	"added file 65536 sha256:$(awk '$1 == "var/cache/big.bin" { sub("sha256=", "", $6); print $6 }' "$TD/expected/multi-v2.tree")" \
	"--json: big.bin added, size and digest from the layer"

# ---- the same image, other forms: no differences ----
for other in multi.tar.zst:v1 multi.tar:v1 multi.tar.gz:v1 "multi@$(digest_of multi:v1)"; do
	diff_is 0 "" "multi:v1 against $other: exit 0, no output" "$TD/multi:v1" "$TD/$other"
done
diff_is 0 "" "an image against itself: exit 0" "$TD/multi:v2" "$TD/multi:v2"
expect 0 "--json, the same image: exit 0" oci-diff --json "$TD/multi:v1" "$TD/multi.tar.zst:v1"
is "$(jq -c '[.count, .changes, .config]' "$TMP/out")" '[0,[],[]]' "--json, the same image: empty changes and config"

# ---- multi:v1 against zstd:latest (a tar+zstd layout) ----
files=$(tree_diff "$TD/expected/multi-v1.tree" "$TD/expected/zstd-latest.tree")
run oci-diff "$TD/multi:v1" "$TD/zstd:latest"
is "$status" 1 "multi:v1 -> zstd:latest: exit 1"
is "$(grep -v '^C ' "$TMP/out"; grep '^C /' "$TMP/out")" "$(printf '%s\n' "$files" | grep -v '^C '; printf '%s\n' "$files" | grep '^C /')" \
	"multi:v1 -> zstd:latest: the file lines"
is "$(grep -v '^C config\.' "$TMP/out")" "$files" "multi:v1 -> zstd:latest: sorted like the oracle"
like '^A /etc/zstd.txt$' "zstd:latest's own file is added"
is "$(grep '^C config\.' "$TMP/out" | tr '\n' ' ')" "$(printf '%s\n' "$CFG_V1V2" | tr '\n' ' ')" \
	"multi:v1 -> zstd:latest: its config differs in the same nine fields"
files=$(tree_diff "$TD/expected/multi-v2.tree" "$TD/expected/zstd-latest.tree")
diff_is 1 "$files
C config.Labels" "multi:v2 -> zstd:latest: A /etc/zstd.txt, and the Labels only v2 has" \
	"$TD/multi:v2" "$TD/zstd:latest"

# ---- docker media types, docker-save, and platforms ----
files=$(tree_diff "$TD/expected/multi-v1.tree" "$TD/expected/docker-mt-docker.tree")
run oci-diff "$TD/multi:v1" "$TD/docker-mt:docker"
is "$(grep -v '^C config\.' "$TMP/out")" "$files" "multi:v1 -> docker-mt:docker (Docker media types): the file lines"
files=$(tree_diff "$TD/expected/multi-v1.tree" "$TD/expected/docker-save.tree")
run oci-diff "$TD/multi:v1" "$TD/docker-save.tar:example/app:1.0"
is "$status" 1 "multi:v1 -> docker-save.tar: exit 1"
is "$(grep -v '^C config\.' "$TMP/out")" "$files" "multi:v1 -> docker-save.tar: the file lines"
diff_is 1 $'C /etc/arch\nC architecture\nC variant' "multiarch arm64 against amd64: /etc/arch and the platform fields" \
	--platform linux/arm64/v8 "$TD/multiarch:latest" "$TD/multiarch:amd64-only"
diff_is 0 "" "multiarch:latest (host platform) against amd64-only: the same on amd64" \
	--platform linux/amd64 "$TD/multiarch:latest" "$TD/multiarch:amd64-only"

# ---- a commit against its parent: the bundle's diff, minus the root ----
B=$TMP/b
oci-unpack -q "$TD/multi:v1" "$B"
echo more >>"$B/rootfs/etc/passwd"
mkdir -p "$B/rootfs/opt/tree/sub" && echo x >"$B/rootfs/opt/tree/sub/x"
rm -rf "$B/rootfs/home"
chmod 0700 "$B/rootfs/srv/data"
rm "$B/rootfs/etc/group" && mkdir "$B/rootfs/etc/group"
# the bundle's own diff before the commit: afterwards its record describes
# the committed image (oci-commit without --keep-record)
oci-diff "$B" | grep -v '^C /$' >"$TMP/bundle.diff"
oci-commit -q "$B" "$TMP/L:c" >/dev/null || fail "commit of the changed bundle" ""
diff_is 1 "$(cat "$TMP/bundle.diff")" "multi:v1 -> its commit: the bundle's own lines (but C /)" "$TD/multi:v1" "$TMP/L:c"
oci-commit -q --from "$TMP/L:c" --cmd '["/bin/true"]' --env LANG=en --user root "$TMP/L:c2" >/dev/null
diff_is 1 $'C config.Cmd\nC config.Env\nC config.User' "a config-only commit: only config lines" "$TMP/L:c" "$TMP/L:c2"
run oci-diff --json "$TMP/L:c" "$TMP/L:c2"
is "$(jq -c '[.count, (.config[] | select(.field == "config.Env") | .after)]' "$TMP/out")" '[0,["PATH=/usr/bin:/bin","LANG=en"]]' \
	"a config-only commit --json: no changes, Env after"

# ---- deleted directories next to names sorting between them and their contents ----
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
cat >"$TMP/sa.json" <<'EOF'
{"ref": "a", "layers": [["d/", "d/f=f", "d/sub/", "d/sub/g=g", "d-x/", "d-x/h=h", "d.y/", "d.y/i=i", "e/"]]}
EOF
cat >"$TMP/sb.json" <<'EOF'
{"ref": "b", "layers": [["d.y/", "d.y/i=i", "e/"]]}
EOF
python3 "$LIB" build "$TMP/sa" "$TMP/sa.json" "$TMP/sb" "$TMP/sb.json" >/dev/null || { echo "Bail out! lib-layers.py build failed"; exit 1; }
diff_is 1 $'D /d\nD /d-x' "images: d and d-x gone: each D once, d's contents not listed" "$TMP/sa:a" "$TMP/sb:b"
diff_is 1 $'A /d\nA /d-x\nA /d-x/h\nA /d/f\nA /d/sub\nA /d/sub/g' "images, the other way: every added entry, sorted by path" "$TMP/sb:b" "$TMP/sa:a"

# ---- trouble ----
# between two images --tar writes the layer (t0152 checks it applied over A)
expect 0 "--tar between two images: exit 0, the layer written" oci-diff -q --tar "$TD/multi:v1" "$TD/multi:v2"
tar tf "$TMP/out" >/dev/null 2>&1
is "$?" 0 "--tar between two images: stdout is a tar"
expect_fail "an unknown ref: exit 2, one line" oci-diff "$TD/multi:v1" "$TD/multi:v9"
err_like 'v9' "an unknown ref: named"
expect_fail "a layout with several refs and no ref: exit 2" oci-diff "$TD/multi" "$TD/multi:v1"
err_like 'v1.*v2' "several refs: the message lists them"
expect_fail "a corrupt layer in IMAGE_B: exit 2, one line" oci-diff "$TD/multi:v1" "$TD/hostile/digest-mismatch:bad"
err_like 'digest-mismatch' "a corrupt layer in IMAGE_B: the message names IMAGE_B"
expect_fail "a corrupt layer in IMAGE_A: exit 2, one line" oci-diff "$TD/hostile/digest-mismatch:bad" "$TD/multi:v1"
err_like 'digest-mismatch' "a corrupt layer in IMAGE_A: the message names IMAGE_A"
expect_fail "a platform not in the index: exit 2" oci-diff --platform linux/s390x "$TD/multiarch:latest" "$TD/multiarch:amd64-only"

done_testing
