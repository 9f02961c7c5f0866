#!/usr/bin/env bash
# oci-inspect --usage gates: --max-wasted-bytes, --max-wasted-percent and
# --min-efficiency at their edges (the limit itself passes); exit 1 with one
# stderr line per broken gate, 0 when all pass, 2 for a bad value.
. "$(dirname "$0")/test-lib.sh"
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py

# 1000 bytes added, 250 of them deleted again: 25% wasted, efficiency 0.75
python3 - "$TMP/spec" <<'PY'
import json, sys
json.dump({"layers": [[{"p": "w", "t": "f", "c": "w" * 250}, {"p": "k", "t": "f", "c": "k" * 750}],
                      [".wh.w"]]}, open(sys.argv[1], "w"))
PY
python3 "$LIB" build "$TMP/g" "$TMP/spec" >/dev/null || { echo "Bail out! build failed"; exit 1; }
echo '{"layers": [["d/", "d/e/"]]}' | python3 "$LIB" build "$TMP/z" - >/dev/null || { echo "Bail out! build failed"; exit 1; }
G=$TMP/g:t

gate() { # gate WANT NAME ARGS...: exit WANT; on 1, one stderr line naming the gate
	local want=$1 name=$2
	shift 2
	expect "$want" "$name" oci-inspect --usage "$@" "$G"
}
gate 0 "--max-wasted-bytes 250 (the edge) passes" --max-wasted-bytes 250
gate 1 "--max-wasted-bytes 249 fails" --max-wasted-bytes 249
is "$(wc -l <"$TMP/err")" 1 "one stderr line for the one broken gate"
err_like "^oci-inspect: .*/g:t: gate --max-wasted-bytes 249: failed: 250 bytes wasted$" "the line names gate, limit and value"
like "^total 1000 bytes" "the report is printed too"
gate 0 "--max-wasted-bytes 1K passes" --max-wasted-bytes 1K
gate 1 "--max-wasted-bytes 0 fails" --max-wasted-bytes 0
gate 0 "--max-wasted-percent 25 (the edge) passes" --max-wasted-percent 25
gate 1 "--max-wasted-percent 24.99 fails" --max-wasted-percent 24.99
err_like "gate --max-wasted-percent 24.99: failed: 25.00% wasted$" "percent gate line"
gate 0 "--min-efficiency 0.75 (the edge) passes" --min-efficiency 0.75
gate 1 "--min-efficiency 0.7501 fails" --min-efficiency 0.7501
err_like "gate --min-efficiency 0.7501: failed: efficiency 0.7500$" "efficiency gate line"
gate 0 "all three gates at their edges pass" --max-wasted-bytes 250 --max-wasted-percent 25 --min-efficiency 0.75
is "$(wc -c <"$TMP/err")" 0 "passing gates: nothing on stderr"
gate 1 "all three gates broken" -q --max-wasted-bytes 100 --max-wasted-percent 10 --min-efficiency 0.9
is "$(grep -c '^oci-inspect: .*: gate --' "$TMP/err")/$(wc -l <"$TMP/err")" 3/3 \
	"three broken gates: three lines (even with -q)"
gate 1 "two of three broken" --max-wasted-bytes 1G --max-wasted-percent 10 --min-efficiency 0.9
is "$(wc -l <"$TMP/err")" 2 "two broken gates: two lines"

# a gate alone implies --usage
expect 1 "a gate without --usage is --usage" oci-inspect --max-wasted-bytes 1 "$G"
like "^total 1000 bytes" "a gate alone prints the usage report"

# --json carries the verdicts
expect 1 "--json with gates exits 1 when one fails" oci-inspect --usage --json \
	--max-wasted-bytes 250 --min-efficiency 0.8 "$G"
is "$(jq -c '[.gates[] | [.gate, .limit, .value, .passed]]' <"$TMP/out")" \
	'[["max-wasted-bytes",250,250,true],["min-efficiency",0.8,0.75,false]]' "--json: gates with limit, value, verdict"
is "$(jq -c '[.total, .wasted, .wastedPercent, .efficiency]' <"$TMP/out")" '[1000,250,25,0.75]' "--json: 25% wasted"

# an image with no file bytes passes every gate
expect 0 "no bytes at all: every gate passes" oci-inspect --max-wasted-bytes 0 \
	--max-wasted-percent 0 --min-efficiency 1 "$TMP/z:t"

# bad values are usage errors
expect_fail "--max-wasted-bytes 1X is refused" oci-inspect --max-wasted-bytes 1X "$G"
expect_fail "--max-wasted-bytes -1 is refused" oci-inspect --max-wasted-bytes -1 "$G"
expect_fail "--max-wasted-bytes too large is refused" oci-inspect --max-wasted-bytes 99999999999G "$G"
expect_fail "--max-wasted-percent 101 is refused" oci-inspect --max-wasted-percent 101 "$G"
expect_fail "--min-efficiency 1.5 is refused" oci-inspect --min-efficiency 1.5 "$G"
expect_fail "--min-efficiency nan is refused" oci-inspect --min-efficiency nan "$G"

done_testing
