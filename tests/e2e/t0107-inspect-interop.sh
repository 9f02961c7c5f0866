#!/usr/bin/env bash
# oci-inspect on images made by other tools: umoci (a layout built from
# scratch) and skopeo (an OCI copy and a docker-archive).
. "$(dirname "$0")/test-lib.sh"
# test-lib's fail() marks only the first line of a multi-line diagnostic (a
# tool's stderr of several lines) as a TAP comment; mark every line.
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'; return 0; }

skip() { _n=$((_n + 1)); echo "ok $_n # SKIP $1"; }
jqis() {
	local got
	got=$(jq -r "$1" <"$TMP/out" 2>&1)
	is "$got" "$2" "$3"
}
sha_is() { is "sha256:$(sha256sum <"$TMP/out" | cut -d' ' -f1)" "$1" "$2"; }
# layer entries of a --files listing, without the per-layer headers
entries_of() { grep -v '^layer [0-9]' "$1"; }

V1=$(digest_of multi:v1)
CFG1=$(jq -r .config.digest "$TD/multi/blobs/sha256/${V1#sha256:}")
DIFFS=$(awk '{ print $2 }' "$TD/expected/multi-v1.layers" | paste -sd,)
run oci-inspect --files "$TD/multi:v1"
entries_of "$TMP/out" >"$TMP/entries-v1"

# ---- umoci ----
if command -v umoci >/dev/null 2>&1; then
	L="$TMP/umoci"
	B="$TMP/bundle"
	if (
		set -e
		cd "$TMP"
		umoci init --layout "$L"
		umoci new --image "$L:t"
		umoci unpack --rootless --image "$L:t" "$B"
		mkdir -p "$B/rootfs/app/sub"
		printf 'hello\n' >"$B/rootfs/app/hello.txt"
		printf 'deeper\n' >"$B/rootfs/app/sub/deep.txt"
		ln -s hello.txt "$B/rootfs/app/link"
		chmod 0750 "$B/rootfs/app/sub"
		umoci repack --image "$L:t" "$B"
		umoci config --image "$L:t" --config.cmd /bin/x --config.env FOO=bar \
			--config.workingdir /app --config.user 1000:1000
	) >"$TMP/umoci.log" 2>&1; then
		pass "umoci built an image"
	else
		fail "umoci built an image" "$(tail -n 5 "$TMP/umoci.log")"
	fi
	MD=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "t") | .digest' "$L/index.json")
	CD=$(jq -r .config.digest "$L/blobs/sha256/${MD#sha256:}")

	expect 0 "oci-inspect umoci:t exits 0" oci-inspect "$L:t"
	like "t: manifest $MD" "umoci: the manifest digest from index.json"
	like "config $CD" "umoci: the config digest"
	like 'cmd +\["/bin/x"\]$' "umoci: cmd set by umoci config"
	like 'env +FOO=bar$|^.* FOO=bar$' "umoci: env FOO=bar"
	like 'workdir +/app$' "umoci: workdir"
	like 'user +1000:1000$' "umoci: user"
	like '^total: 1 manifest, 1 layer,' "umoci: one layer"

	expect 0 "oci-inspect --files umoci:t exits 0" oci-inspect --files "$L:t"
	like '^-.* /app/hello\.txt$' "umoci --files: /app/hello.txt"
	like '^-.* 7 .* /app/sub/deep\.txt$' "umoci --files: /app/sub/deep.txt, 7 bytes"
	like '^l.* /app/link -> hello\.txt$' "umoci --files: the symlink"
	like '^drwxr-x--- .* /app/sub/$' "umoci --files: directory mode 0750"

	expect 0 "oci-inspect --config umoci:t exits 0" oci-inspect --config "$L:t"
	cp "$TMP/out" "$TMP/umoci-config"
	if cmp -s "$TMP/out" "$L/blobs/sha256/${CD#sha256:}"; then pass "umoci --config: the blob's exact bytes"; else fail "umoci --config: the blob's exact bytes"; fi
	is "$(jq -c .config.Cmd <"$TMP/umoci-config")" '["/bin/x"]' "umoci --config: Cmd"
	expect 0 "oci-inspect --manifest umoci:t exits 0" oci-inspect --manifest "$L:t"
	sha_is "$MD" "umoci --manifest: hashes to its digest"

	run umoci stat --json --image "$L:t"
	cp "$TMP/out" "$TMP/umoci-stat"
	USD=$(jq -r '[.history[] | select(.layer != null)][0].layer.digest' "$TMP/umoci-stat")
	USDIFF=$(jq -r '[.history[] | select(.layer != null)][0].diff_id' "$TMP/umoci-stat")
	expect 0 "oci-inspect --json umoci:t exits 0" oci-inspect --json "$L:t"
	jqis '.manifests[0].layers[0].digest' "$USD" "umoci: layer digest equals umoci stat's"
	jqis '.manifests[0].layers[0].diffId' "$USDIFF" "umoci: diff_id equals umoci stat's"
	jqis '.manifests[0].config.env | index("FOO=bar") != null' true "umoci --json: env has FOO=bar"
	jqis '.manifests[0].config.cmd | tojson' "$(jq -c .config.Cmd "$TMP/umoci-config")" "umoci --json: cmd equals the config's (jq)"
	jqis '.manifests[0].config.workdir' "$(jq -r .config.WorkingDir "$TMP/umoci-config")" "umoci --json: workdir equals the config's (jq)"
	jqis '.manifests[0].layers | map(.diffId) | join(",")' "$(jq -r '.rootfs.diff_ids | join(",")' "$TMP/umoci-config")" \
		"umoci --json: diffIds equal the config's rootfs.diff_ids"

	# and back: umoci reads what the test data's layout is, oci-inspect agrees
	run umoci stat --json --image "$TD/multi:v1"
	is "$(jq -r '[.history[] | select(.layer != null) | .diff_id] | join(",")' "$TMP/out")" "$DIFFS" \
		"umoci stat on multi:v1 agrees with expected diff_ids"
else
	for _ in $(seq 27); do skip "umoci not installed"; done
fi

# ---- skopeo ----
if command -v skopeo >/dev/null 2>&1; then
	L2="$TMP/skopeo-oci"
	if skopeo --insecure-policy copy -q "oci:$TD/multi:v1" "oci:$L2:copied" >"$TMP/sk.log" 2>&1; then
		pass "skopeo copy to oci:"
	else
		fail "skopeo copy to oci:" "$(tail -n 3 "$TMP/sk.log")"
	fi
	expect 0 "oci-inspect on skopeo's OCI copy exits 0" oci-inspect --json "$L2:copied"
	jqis '.manifests[0].ref' copied "skopeo oci: ref copied"
	jqis '.manifests[0].layers | map(.diffId) | join(",")' "$DIFFS" "skopeo oci: diff_ids equal the originals"
	jqis '.manifests[0].config.digest' "$CFG1" "skopeo oci: config digest kept"
	expect 0 "--config on skopeo's OCI copy exits 0" oci-inspect --config "$L2:copied"
	sha_is "$CFG1" "skopeo oci: config bytes unchanged"
	expect 0 "--files on skopeo's OCI copy exits 0" oci-inspect --files "$L2:copied"
	entries_of "$TMP/out" >"$TMP/entries-sk"
	if cmp -s "$TMP/entries-sk" "$TMP/entries-v1"; then pass "skopeo oci: same entries as the original"; else fail "skopeo oci: same entries as the original"; fi

	D="$TMP/d.tar"
	if skopeo --insecure-policy copy -q "oci:$TD/multi:v1" "docker-archive:$D:ex/img:1" >"$TMP/sk.log" 2>&1; then
		pass "skopeo copy to docker-archive:"
	else
		fail "skopeo copy to docker-archive:" "$(tail -n 3 "$TMP/sk.log")"
	fi
	expect 0 "--refs on skopeo's docker-archive exits 0" oci-inspect --refs "$D"
	is "$(wc -l <"$TMP/out")" 1 "docker-archive: one ref"
	like '(^|/)ex/img:1	' "docker-archive: the ref is ex/img:1 (as RepoTags has it)"
	expect 0 "docker-archive :1 (tag only) exits 0" oci-inspect --json "$D:1"
	jqis .source.kind docker-archive "docker-archive: kind"
	jqis '.manifests[0].layers | map(.diffId) | join(",")' "$DIFFS" "docker-archive: diff_ids equal the originals"
	jqis '.manifests[0].config.digest' "$CFG1" "docker-archive: config digest kept"
	expect 0 "docker-archive ex/img:1 exits 0" oci-inspect --config "$D:ex/img:1"
	sha_is "$CFG1" "docker-archive ex/img:1: the config"
	WHOLE=$(tar -xOf "$D" manifest.json | jq -r '.[0].RepoTags[0]')
	expect 0 "docker-archive with the whole RepoTag ($WHOLE) exits 0" oci-inspect --config "$D:$WHOLE"
	sha_is "$CFG1" "docker-archive whole RepoTag: the config"
	expect 0 "--files on skopeo's docker-archive exits 0" oci-inspect --files "$D:1"
	entries_of "$TMP/out" >"$TMP/entries-da"
	if cmp -s "$TMP/entries-da" "$TMP/entries-v1"; then pass "docker-archive: same entries as the original"; else fail "docker-archive: same entries as the original"; fi
	expect 0 "docker-archive from a pipe exits 0" oci-inspect --refs - < <(cat "$D")
	like 'ex/img:1' "docker-archive from a pipe: the ref"
else
	for _ in $(seq 25); do skip "skopeo not installed"; done
fi

done_testing
