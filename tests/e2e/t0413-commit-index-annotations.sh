#!/usr/bin/env bash
# index.json descriptors we write carry the manifest's platform
# (descriptor.md SHOULD); nothing we write uses an org.opencontainers.image.*
# key the image-spec does not define, and a user's --annotation or --label in
# that namespace gets a warning naming the rule (silenced by -q).
. "$(dirname "$0")/test-lib.sh"
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
export SOURCE_DATE_EPOCH=1700000000
L=$TMP/L
plat() { jq -c --arg r "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $r) | .platform' "$1/index.json"; }

# ---- platform ----
mkdir -p "$TMP/s/etc" && echo x >"$TMP/s/etc/x"
oci-commit -q --platform linux/arm64/v8 "$TMP/s" "$L:scratch" >/dev/null
is "$(plat "$L" scratch)" '{"architecture":"arm64","os":"linux","variant":"v8"}' "a scratch image: its platform in index.json"
oci-commit -q "$TMP/s" "$L:host" >/dev/null
is "$(plat "$L" host | jq -r .os)" linux "a scratch image for the host: a platform too"
oci-unpack -q "$TD/multi:v1" "$TMP/b"
echo y >"$TMP/b/rootfs/y"
oci-commit -q "$TMP/b" "$L:child" >/dev/null
is "$(plat "$L" child)" '{"architecture":"amd64","os":"linux"}' "a child of multi:v1: the parent's platform"
oci-commit -q --from "$L:child" --env A=1 "$L:cfg" >/dev/null
is "$(plat "$L" cfg)" '{"architecture":"amd64","os":"linux"}' "a config-only commit: the platform"
# os.version comes along
echo '{"ref": "w", "top": {"os.version": "10.0.17763.1"}, "layers": [["f=1"]]}' |
	python3 "$LIB" build "$TMP/W" - >/dev/null
oci-commit -q --from "$TMP/W:w" --env A=1 "$L:osv" >/dev/null
is "$(plat "$L" osv)" '{"architecture":"amd64","os":"linux","os.version":"10.0.17763.1"}' "os.version in the descriptor's platform"
# an index as the ref's target has no platform of its own
oci-unpack -q --platform linux/arm64 "$TD/multiarch:latest" "$TMP/bi"
echo z >"$TMP/bi/rootfs/z"
oci-commit -q "$TMP/bi" "$L:idx" >/dev/null
is "$(plat "$L" idx)" null "a ref to an index: no platform on its descriptor"
is "$(oci-inspect --index "$L:idx" | jq -c '[.manifests[] | select(.platform == null and (.mediaType | test("manifest")))] | length')" 0 "the index's manifests all have platforms"

# ---- reserved annotations ----
run oci-commit --from "$L:child" --annotation org.opencontainers.image.foo=1 \
	--annotation org.opencontainers.image.title=t --label org.opencontainers.image.bar=2 \
	--label org.opencontainers.image.version=3 --label com.example.x=4 "$L:ann"
is "$status" 0 "a commit with keys in the reserved namespace: exit 0 (the user's image)"
is "$(grep -c warning "$TMP/err")" 2 "two warnings: one per undefined key"
err_like '^oci-commit: --annotation org\.opencontainers\.image\.foo: warning: .*reserved org\.opencontainers\.image\.\* namespace \(annotations\.md\)' \
	"the --annotation warning names the key and the rule"
err_like '^oci-commit: --label org\.opencontainers\.image\.bar: warning: ' "the --label warning names the key"
if grep -qE 'image\.(title|version)|com\.example' "$TMP/err"; then fail "no warning for defined or foreign keys" "$(err)"; else pass "no warning for defined or foreign keys"; fi
run oci-commit -q --from "$L:child" --annotation org.opencontainers.image.foo=1 "$L:ann2"
is "$(cat "$TMP/err")" "" "-q silences the warning"
# what we write ourselves: index.json, manifests, configs, config.json
oci-commit -q --from "$L:child" --volume /data --expose 80 "$L:vol" >/dev/null
oci-unpack -q "$L:vol" "$TMP/bv"
keys=$( (cat "$L/index.json"; for r in scratch child cfg vol idx; do oci-inspect --manifest "$L:$r"; oci-inspect --config "$L:$r"; done; cat "$TMP/bv/config.json") |
	jq -r '.. | objects | keys[]' | grep '^org\.opencontainers\.image\.' | sort -u)
bad=$(grep -vxE 'org\.opencontainers\.image\.(ref\.name|os|architecture|variant|os\.version|os\.features|author|created|stopSignal|exposedPorts)' <<<"$keys")
is "$bad" "" "no undefined org.opencontainers.image.* key in what we wrote"
is "$(jq -r '.annotations["org.oci-tools.image.volumes"]' "$TMP/bv/config.json")" "/var/cache,/data" "config.json: the volumes under our own key"

done_testing
