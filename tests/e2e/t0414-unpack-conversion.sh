#!/usr/bin/env bash
# The image config -> config.json conversion (conversion.md): os.version and
# os.features become org.opencontainers.image.os.version / .os.features
# annotations; a numeric User leaves additionalGids alone (the SHOULD NOT
# wins over the SHOULD), a user name gets its groups from the image's
# /etc/group; config.json validates against the runtime-spec's schema.
. "$(dirname "$0")/test-lib.sh"
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
SCHEMA=$OCI_SOURCE_DIR/tests/e2e/lib-schema.py

img() { # REF USER [TOP-JSON]
	printf '{"ref": "%s", "top": %s, "config": {"User": "%s", "Volumes": {"/data": {}}, "Labels": {"org.example.l": "v"}},
	  "layers": [["etc/", "etc/passwd=root:x:0:0::/root:/bin/sh\\nu:x:1000:1000::/home/u:/bin/sh\\n",
	  "etc/group=root:x:0:\\nu:x:1000:\\nwheel:x:10:u\\naudio:x:29:u,root\\n"]]}' "$1" "${3:-{\}}" "$2"
}
{ img osv u '{"os.version": "10.0.17763.1", "os.features": ["win32k", "sse4"]}' >"$TMP/osv.json"
  img num 1000 >"$TMP/num.json"
  img name u >"$TMP/name.json"
  img numgrp 1000:10 >"$TMP/numgrp.json"
  img plain u >"$TMP/plain.json"; } 
python3 "$LIB" build "$TMP/L1" "$TMP/osv.json" "$TMP/L2" "$TMP/num.json" "$TMP/L3" "$TMP/name.json" \
	"$TMP/L4" "$TMP/numgrp.json" "$TMP/L5" "$TMP/plain.json" >/dev/null || { echo "Bail out! lib-layers.py build failed"; exit 1; }
ann() { jq -r --arg k "$2" '.annotations[$k] // "(none)"' "$1/config.json"; }

oci-unpack -q "$TMP/L1:osv" "$TMP/b1" || { echo "Bail out! unpack failed"; exit 1; }
is "$(ann "$TMP/b1" org.opencontainers.image.os.version)" 10.0.17763.1 "os.version -> org.opencontainers.image.os.version"
is "$(ann "$TMP/b1" org.opencontainers.image.os.features)" win32k,sse4 "os.features -> org.opencontainers.image.os.features (comma-separated)"
oci-unpack -q "$TMP/L5:plain" "$TMP/b5"
is "$(ann "$TMP/b5" org.opencontainers.image.os.version)/$(ann "$TMP/b5" org.opencontainers.image.os.features)" "(none)/(none)" "no os.version or os.features: no annotation"
is "$(ann "$TMP/b5" org.opencontainers.image.volumes)" "(none)" "no org.opencontainers.image.volumes (the spec defines no such key)"
is "$(ann "$TMP/b5" org.oci-tools.image.volumes)" "/data" "the volumes under our own key"

oci-unpack -q "$TMP/L2:num" "$TMP/b2"
is "$(jq -c .process.user "$TMP/b2/config.json")" '{"uid":1000,"gid":1000}' "User 1000 (numeric): uid and gid from /etc/passwd, additionalGids left alone"
oci-unpack -q "$TMP/L3:name" "$TMP/b3"
is "$(jq -c .process.user "$TMP/b3/config.json")" '{"uid":1000,"gid":1000,"additionalGids":[10,29]}' "User u (a name): its groups from the image's /etc/group"
oci-unpack -q "$TMP/L4:numgrp" "$TMP/b4"
is "$(jq -c .process.user "$TMP/b4/config.json")" '{"uid":1000,"gid":10}' "User 1000:10 (a group named): no additionalGids"

if python3 "$SCHEMA" check; then
	for b in b1 b2 b3 b4 b5; do
		if python3 "$SCHEMA" runtime "$TMP/$b/config.json" >"$TMP/sch"; then pass "$b: config.json valid against the runtime-spec's schema"; else fail "$b: config.json valid against the runtime-spec's schema" "$(head -10 "$TMP/sch")"; fi
	done
	oci-unpack -q --rootless "$TMP/L3:name" "$TMP/b6"
	if python3 "$SCHEMA" runtime "$TMP/b6/config.json" >"$TMP/sch"; then pass "rootless config.json valid too"; else fail "rootless config.json valid too" "$(head -10 "$TMP/sch")"; fi
else
	pass "# SKIP runtime-spec schema or python3-jsonschema not installed"
fi

done_testing
