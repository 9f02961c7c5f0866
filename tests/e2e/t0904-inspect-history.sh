#!/bin/bash
# oci-inspect --history: the config's history as a table (created, the
# layer each step made and its size, created_by, comment; empty layers
# marked) and as JSON valid against docs/schemas/oci-inspect-history.schema.json.
. "$(dirname "$0")/test-lib.sh"

cp -r "$TD/multi" "$TMP/L"
oci-unpack -q "$TMP/L:v1" "$TMP/b" || fail "unpack"
echo one >"$TMP/b/rootfs/one"
oci-commit -q --created-by 'RUN make one' -m 'step one' --timestamp 1700000100 "$TMP/b" "$TMP/L:s1" >/dev/null ||
	fail "commit s1"
oci-commit -q --from "$TMP/L:s1" --env A=1 -m 'config only' --timestamp 1700000200 "$TMP/L:s2" >/dev/null ||
	fail "commit s2"
n_v1=$(jq '.history | length' "$TMP/L/blobs/sha256/$(oci-inspect --config "$TMP/L:v1" | sha256sum | cut -c1-64)")

expect 0 "--history exits 0" oci-inspect --history "$TMP/L:s2"
like '^CREATED +LAYER +SIZE +CREATED BY +COMMENT$' "a header line"
is "$(($(out | wc -l) - 1))" "$((n_v1 + 2))" "one row per history entry"
like '^2023-11-14T22:15:00Z +[0-9]+ +[0-9.]+ [KMG]?i?B +RUN make one  step one$' "the committed step: its layer and size, created_by, comment"
like '^2023-11-14T22:16:40Z +- +\(empty\) +oci-commit  config only$' "the config-only step is marked empty"
expect 0 "--history --json exits 0" oci-inspect --history --json "$TMP/L:s2"
cp "$TMP/out" "$TMP/h.json"
is "$(jq -c '.history[-2] | [.createdBy, .comment, .emptyLayer, .layer.index]' "$TMP/h.json")" \
	"[\"RUN make one\",\"step one\",false,$(oci-inspect --files "$TMP/L:s1" | grep -c '^layer ')]" "--json: the step's entry and layer index"
is "$(jq -c '.history[-1] | [.emptyLayer, .layer]' "$TMP/h.json")" '[true,null]' "--json: the empty layer has no layer"
M=$(oci-inspect --manifest "$TMP/L:s1")
is "$(jq -r '.history[-2].layer | "\(.digest) \(.size)"' "$TMP/h.json")" \
	"$(jq -r '.layers[-1] | "\(.digest) \(.size)"' <<<"$M")" "--json: the layer's digest and size are the manifest's"
is "$(jq '.totals | [.entries, .layers] | join(",")' -r "$TMP/h.json")" "$((n_v1 + 2)),$(jq '.layers | length' <<<"$M")" "--json: totals"
if python3 -c 'import jsonschema' 2>/dev/null; then
	for img in "$TMP/L:s2" "$TD/multi:v1" "$TD/docker-save.tar" "$TD/multiarch:amd64-only"; do
		oci-inspect --history --json "$img" >"$TMP/d.json" 2>/dev/null || { fail "--history --json $img"; continue; }
		if python3 -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
			"$OCI_SOURCE_DIR/docs/schemas/oci-inspect-history.schema.json" "$TMP/d.json" 2>"$TMP/v"; then
			pass "--history --json $(basename "$img") validates against its schema"
		else
			fail "--history --json $(basename "$img") validates against its schema" "$(tail -3 "$TMP/v")"
		fi
	done
fi
expect_fail "--history with --files: one line" oci-inspect --history --files "$TMP/L:s2"

# untrusted text stays on its line
python3 "$OCI_SOURCE_DIR/tests/e2e/lib-layers.py" build "$TMP/h" - >/dev/null <<'JSON' || fail "build"
{"ref": "t", "top": {"history": [{"created": "2024-01-01T00:00:00Z", "created_by": "evil\n\u001b[31mred", "comment": "c"}]},
 "layers": [["f=x"]]}
JSON
expect 0 "--history of a hostile created_by" oci-inspect --history "$TMP/h:t"
is "$(out | wc -l)" 2 "the control characters are escaped: one row"
unlike $'\x1b' "no raw escape character"
done_testing
