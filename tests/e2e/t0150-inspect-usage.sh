#!/usr/bin/env bash
# oci-inspect --usage: images built to known waste, with the exact byte
# counts; the same numbers from every input form of one image; --json.
. "$(dirname "$0")/test-lib.sh"
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
umask 022

# layer 1 adds 116000 bytes in 8 files (dup written twice: 700 then 300);
# layer 2 deletes big (100000), overwrites over (2000 -> 2500), rewrites c
# with only its mode changed (5000), and replaces dir with an opaque whiteout
# (dir/x 3000 + dir/y 4000 go, dir/z 600 comes); layer 3 adds n (10). The
# empty history entry between them names no layer.
python3 - "$TMP/spec.json" "$TMP" <<'PY'
import json, sys
t = sys.argv[2]
def f(p, n, ch="a", mode=420):
    return {"p": p, "t": "f", "c": ch * n, "mode": mode}
spec = {"ref": "t", "oci_archive": t + "/waste.oar", "docker_save": t + "/waste.dar",
        "top": {"history": [{"created_by": "ADD big keep c dir dup over"},
                            {"created_by": "ENV X=1", "empty_layer": True},
                            {"created_by": "RUN rm big; chmod +x c; rm -r dir"},
                            {"created_by": "COPY n"}]},
        "layers": [
    ["f=unused" and f("big", 100000), f("keep", 1000), f("c", 5000, "c"), "dir/",
     f("dir/x", 3000), f("dir/y", 4000), f("dup", 700), f("dup", 300, "b"),
     f("over", 2000)],
    [".wh.big", f("over", 2500, "o"), f("c", 5000, "c", 0o755), "dir/.wh..wh..opq",
     f("dir/z", 600)],
    [f("n", 10)]]}
json.dump(spec, open(sys.argv[1], "w"))
PY
python3 "$LIB" build "$TMP/waste" "$TMP/spec.json" >/dev/null || { echo "Bail out! lib-layers.py build failed"; exit 1; }
W=$TMP/waste:t

expect 0 "--usage exits 0" oci-inspect --usage "$W"
is "$(wc -c <"$TMP/err")" 0 "--usage: nothing on stderr"
cp "$TMP/out" "$TMP/usage.txt"
# LAYER ADDED WASTED FILES WHITEOUTS HIDDEN
is "$(awk '$1 == 1 { print $2, $3, $4, $5, $6 }' "$TMP/usage.txt")" "116000 114700 8 0 0" \
	"layer 1: 116000 added, 114700 wasted (big, over, c, dir/x, dir/y, the first dup)"
is "$(awk '$1 == 2 { print $2, $3, $4, $5, $6 }' "$TMP/usage.txt")" "8100 0 3 2 3" \
	"layer 2: 8100 added, 2 whiteouts hiding 3 names"
is "$(awk '$1 == 3 { print $2, $3, $4, $5, $6 }' "$TMP/usage.txt")" "10 0 1 0 0" "layer 3: 10 added"
like "^ +2 .*RUN rm big; chmod \\+x c; rm -r dir$" "layer 2's history entry skips the empty one"
like "^ +3 .*COPY n$" "layer 3's history entry"
like "^total 124110 bytes .*effective 9410 .*wasted 114700 .*92\\.42%.*efficiency 0\\.0758$" \
	"image totals: 124110 total, 9410 effective"
like "^ +100000 +1 +2  deleted  /big$" "big: added in 1, deleted in 2"
like "^ +5000 +1 +2  replaced /c$" "chmod-only rewrite of c wastes all 5000 bytes"
like "^ +4000 +1 +2  deleted  /dir/y$" "dir/y under the opaque whiteout"
like "^ +3000 +1 +2  deleted  /dir/x$" "dir/x under the opaque whiteout"
like "^ +2000 +1 +2  replaced /over$" "over: the 2000 bytes written over"
like "^ +700 +1 +1  replaced /dup$" "dup written twice in one layer: its first 700 bytes"
is "$(awk '/^largest wasted/ { n = 1; next } n && $1 ~ /^[0-9]+$/' "$TMP/usage.txt" | wc -l)" 6 \
	"exactly 6 wasted paths"

# ---- --json: the same numbers ----
expect 0 "--usage --json exits 0" oci-inspect --usage --json "$W"
cp "$TMP/out" "$TMP/usage.json"
jqis() { is "$(jq -c "$1" <"$TMP/usage.json" 2>&1)" "$2" "$3"; }
jqis '[.total, .effective, .wasted]' '[124110,9410,114700]' "--json: total, effective, wasted"
jqis '[.layers[] | [.added, .wasted, .files, .whiteouts, .hidden, .history]]' \
	'[[116000,114700,8,0,0,0],[8100,0,3,2,3,2],[10,0,1,0,0,3]]' "--json: per layer"
jqis '[.wastedPaths[] | [.path, .size, .addedIn, .removedIn, .how]]' \
	'[["big",100000,1,2,"deleted"],["c",5000,1,2,"replaced"],["dir/y",4000,1,2,"deleted"],["dir/x",3000,1,2,"deleted"],["over",2000,1,2,"replaced"],["dup",700,1,1,"replaced"]]' \
	"--json: every wasted path with its layers"
jqis ".efficiency * 1000000 | floor" 75819 "--json: efficiency"
if python3 -c 'import jsonschema' 2>/dev/null; then
	if python3 - "$OCI_SOURCE_DIR/docs/schemas/oci-inspect-usage.schema.json" "$TMP/usage.json" >"$TMP/schema.err" 2>&1 <<'PY'; then
import json, sys, jsonschema
jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))
PY
		pass "--json validates against oci-inspect-usage.schema.json"
	else
		fail "--json validates against oci-inspect-usage.schema.json" "$(tail -3 "$TMP/schema.err")"
	fi
else
	echo "ok $((_n += 1)) # SKIP python3 jsonschema missing"
fi

# ---- every input form gives the same numbers ----
for form in "$TMP/waste.oar" "$TMP/waste.dar"; do
	expect 0 "--usage ${form##*.} exits 0" oci-inspect --usage "$form"
	is "$(cat "$TMP/out")" "$(cat "$TMP/usage.txt")" "--usage ${form##*.}: the same report"
done
run sh -c 'oci-inspect --usage - <"$1"' sh "$TMP/waste.oar"
is "$(cat "$TMP/out")" "$(cat "$TMP/usage.txt")" "--usage - (an oci-archive on stdin): the same report"
run sh -c 'gzip -c "$1" | oci-inspect --usage -' sh "$TMP/waste.dar"
is "$(cat "$TMP/out")" "$(cat "$TMP/usage.txt")" "--usage - (a gzipped docker-archive on stdin): the same report"

# ---- hard links count once; an image without waste ----
python3 "$LIB" build "$TMP/clean" - >/dev/null <<'PY' || { echo "Bail out! build failed"; exit 1; }
{"layers": [[{"p": "a", "t": "f", "c": "0123456789"}, "b=>a", "d/", {"p": "d/e", "t": "f", "c": "xyz"}],
            ["c=>a", ".wh.b"]]}
PY
expect 0 "--usage of an image without waste" oci-inspect --usage --json "$TMP/clean:t"
is "$(jq -c '[.total, .effective, .wasted, .efficiency, (.wastedPaths | length)]' <"$TMP/out")" \
	'[13,13,0,1,0]' "hard links count once; removing one name of a file wastes nothing"
is "$(jq -c '[.layers[] | [.files, .whiteouts, .hidden]]' <"$TMP/out")" '[[2,0,0],[0,1,1]]' \
	"a hard link is not a new file; the whiteout hid one name"

# ---- untrusted names are printed escaped ----
python3 "$LIB" build "$TMP/esc" - >/dev/null <<'PY' || { echo "Bail out! build failed"; exit 1; }
{"layers": [[{"p": "e\u001b[31mx", "t": "f", "c": "12345"}], [".wh.e\u001b[31mx"]],
 "top": {"history": [{"created_by": "RUN \u001b]0;title\u0007"}, {"created_by": "RUN rm"}]}}
PY
expect 0 "--usage of names with control characters" oci-inspect --usage "$TMP/esc:t"
like '^ +5 +1 +2  deleted  /e\\033\[31mx$' "a wasted path's control characters are escaped"
like 'RUN \\033\]0;title\\007$' "a history entry's control characters are escaped"
is "$(tr -d '\n -~' <"$TMP/out" | wc -c)" 0 "nothing but printable ASCII on stdout"

# ---- every platform of an index, by --platform ----
for p in linux/amd64 linux/arm/v7 linux/arm64; do
	run oci-inspect --usage --json --platform "$p" "$TD/multiarch:latest"
	got=$(jq -r '"\(.manifest) \(.total)"' <"$TMP/out")
	run oci-inspect --files --merged --json --platform "$p" "$TD/multiarch:latest"
	want=$(jq -r '"\(.manifest) \([.entries[] | .size] | add)"' <"$TMP/out")
	is "$got" "$want" "--platform $p: that platform's manifest, its files' bytes"
done

# ---- memory follows the paths, not the bytes ----
# the same two paths, once with 1-byte files and once with 32 MiB ones
# (added, overwritten, deleted): peak RSS must not follow the bytes (less
# than half of one file more; one file held would be 32 MiB)
if [ -x /usr/bin/time ]; then
	python3 - "$TMP" <<'PY'
import json, sys
t = sys.argv[1]
for name, n in (("small", 1), ("large", 32 << 20)):
    json.dump({"comp": "zstd", "layers": [[{"p": "a", "t": "f", "c": "a" * n}, {"p": "b", "t": "f", "c": "b" * n}],
                                          [{"p": "a", "t": "f", "c": "c" * n}, ".wh.b"], [".wh.a"]]},
              open("%s/%s.json" % (t, name), "w"))
PY
	python3 "$LIB" build "$TMP/small" "$TMP/small.json" "$TMP/large" "$TMP/large.json" >/dev/null
	# (a sanitizer build keeps freed memory in quarantine: not for this run)
	rss() { ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 /usr/bin/time -f %M oci-inspect --usage "$1" 2>&1 >"$TMP/rss.out" | tail -n1; }
	rs=$(rss "$TMP/small:t") rl=$(rss "$TMP/large:t")
	is "$(awk '/^total/ { print $2 }' "$TMP/rss.out")" $((3 * (32 << 20))) "96 MiB added in the large image"
	if [ "$rl" -lt $((rs + 16384)) ]; then
		pass "peak RSS ${rl} KiB with 96 MiB wasted, ${rs} KiB with 3 bytes: bounded by paths"
	else
		fail "peak RSS bounded by paths" "${rl} KiB for 32 MiB files against ${rs} KiB for 1-byte ones"
	fi
else
	echo "ok $((_n += 1)) # SKIP no /usr/bin/time"
	echo "ok $((_n += 1)) # SKIP no /usr/bin/time"
fi

expect_fail "--usage with --files is refused" oci-inspect --usage --files "$W"
expect_fail "a gate without --usage and with --files is refused" oci-inspect --files --max-wasted-bytes 1 "$W"

done_testing
