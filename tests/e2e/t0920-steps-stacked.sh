#!/usr/bin/env bash
# Stacked build steps: unpack once, then run and commit three steps from the
# same bundle. After each commit the bundle's record describes the committed
# image, so each new layer holds only its own step's changes; --keep-record
# keeps the old record (and so the next layer repeats the changes).
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-runtime.sh"

# the build script, as a user writes it: any failure stops it
cat >"$TMP/build.sh" <<'SCRIPT'
set -euo pipefail
L=$1 B=$2 RT=$3
oci-unpack -q "$L:bb" "$B"
oci-runtime --root "$RT" run --bundle "$B" s1 -- sh -c 'echo one > /one'
oci-commit -q -m step1 "$B" "$L:s1" >/dev/null
test -z "$(oci-diff "$B")"
oci-runtime --root "$RT" run --bundle "$B" s2 -- sh -c 'mkdir -p /two && echo two > /two/f && rm /etc/group'
oci-commit -q -m step2 "$B" "$L:s2" >/dev/null
test -z "$(oci-diff "$B")"
oci-runtime --root "$RT" run --bundle "$B" s3 -- sh -c 'echo three >> /one'
oci-commit -q -m step3 "$B" "$L:s3"
SCRIPT
run bash "$TMP/build.sh" "$TMP/L" "$TMP/b" "$RT"
is "$status" 0 "a set -euo pipefail build script of three steps passes (oci-diff is empty after each commit)"
is "$(wc -l <"$TMP/out")" 1 "the last commit prints one digest"

# a layer's entry names (the header line, the root directory and whiteout notes left out)
names() {
	oci-inspect --files --layer "$1" "$TMP/L:s3" | sed -n 's/^[^ ]* [^ ]* *[0-9]* [^ ]* [^ ]* \(\/[^ ]*\).*/\1/p' |
		grep -v '^/$' | tr '\n' ' '
}
run oci-inspect --json "$TMP/L:s3"
is "$(jq '[.. | objects | select(has("layers")) | .layers | length] | max' "$TMP/out")" 4 \
	"three steps on a one-layer base: four layers"
is "$(names 2)" "/one " "layer 2 holds only step 1's change"
is "$(names 3)" "/etc/ /etc/.wh.group /two/ /two/f " "layer 3 holds only step 2's changes"
is "$(names 4)" "/one " "layer 4 holds only step 3's change"
run oci-unpack -q "$TMP/L:s3" "$TMP/check"
is "$(cat "$TMP/check/rootfs/one" 2>&1)|$(cat "$TMP/check/rootfs/two/f" 2>&1)|$([ -e "$TMP/check/rootfs/etc/group" ] && echo here || echo gone)" \
	"one
three|two|gone" "the final image unpacks to the sum of the three steps"

# the record names the committed image, absolutely, as its source
src=$(sed -n 's/^source //p' "$TMP/b/oci-unpack.record")
is "$src" "$(realpath "$TMP/L"):s3" "the record's source is the last committed image"
run oci-inspect --refs "$TMP/L:s3"
is "$(grep -c "$(sed -n 's/^manifest //p' "$TMP/b/oci-unpack.record")" "$TMP/out")" 1 \
	"the record's manifest is the one s3 points at"

# a fourth commit with nothing done: no layer, no changes
run oci-commit "$TMP/b" "$TMP/L:s4"
is "$status" 0 "a commit right after a commit: exit 0"
err_like 'no changes' "a commit right after a commit: no changes"

# --keep-record: the old record stays, and a later commit repeats its changes
bundle k
rtc run --bundle "$B" k1 -- sh -c 'echo k1 > /k1'
cp "$B/oci-unpack.record" "$TMP/rec.before"
run oci-commit -q --keep-record "$B" "$TMP/L:k1"
is "$status" 0 "--keep-record: exit 0"
cmp -s "$B/oci-unpack.record" "$TMP/rec.before" && pass "--keep-record: the record is unchanged" ||
	fail "--keep-record: the record is unchanged"
run oci-diff "$B"
like '^A /k1$' "--keep-record: oci-diff still shows the step"

# the record is replaced by rename, never written in place
bundle r
rtc run --bundle "$B" r1 -- sh -c 'echo r > /r'
ino=$(stat -c %i "$B/oci-unpack.record")
run oci-commit -q "$B" "$TMP/L:r1"
[ "$(stat -c %i "$B/oci-unpack.record")" != "$ino" ] && pass "the new record replaced the old by rename" ||
	fail "the new record replaced the old by rename"
ls -a "$B" | grep -q '\.tmp' && fail "no temporary record left" || pass "no temporary record left"

# a squash commit also leaves the record describing what it committed
bundle sq
rtc run --bundle "$B" q1 -- sh -c 'echo q > /q'
run oci-commit -q --squash "$B" "$TMP/L:sq"
is "$status" 0 "--squash: exit 0"
run oci-diff "$B"
is "$status:$(out)" "0:" "--squash: oci-diff is empty afterwards"

# rootless: a user without root stacks steps the same way; what the user
# made is root's in the image, in the layer and in the new record alike
if command -v setpriv >/dev/null; then
	chmod 711 "$TMP"
	R=$TMP/rl
	mkdir -m 777 "$R"
	cp -r "$TD/multi" "$R/L" && chmod -R a+rwX "$R/L"
	cat >"$R/s.sh" <<'SCRIPT'
set -euo pipefail
cd "$1"
oci-unpack -q --rootless L:v1 b
echo one >b/rootfs/one
oci-commit -q b L:s1 >/dev/null
test -z "$(oci-diff b)"
echo two >b/rootfs/two
echo more >>b/rootfs/one
oci-commit -q b L:s2 >/dev/null
test -z "$(oci-diff b)"
SCRIPT
	run setpriv --reuid=65534 --regid=65534 --clear-groups env PATH="$PATH" bash "$R/s.sh" "$R"
	is "$status" 0 "rootless (uid 65534): two stacked commits, oci-diff empty after each" || err | head -3 | sed 's/^/# /'
	run oci-inspect --files --layer 4 "$R/L:s2"
	is "$(sed -n 's/^[^ ]* \([^ ]*\) .* \(\/[^ ]*\)$/\1 \2/p' "$TMP/out" | tr '\n' ' ')" "0/0 /one " \
		"rootless: step 1's layer holds /one, owned 0/0"
	run oci-inspect --files --layer 5 "$R/L:s2"
	is "$(sed -n 's/^[^ ]* \([^ ]*\) .* \(\/[^ ]*\)$/\1 \2/p' "$TMP/out" | tr '\n' ' ')" "0/0 /one 0/0 /two " \
		"rootless: step 2's layer holds /one and /two, owned 0/0"
	is "$(awk -F '\t' '$1 == "/two" { print $3 ":" $4 }' "$R/b/oci-unpack.record")" "0:0" \
		"rootless: the new record has the image's owner for a file the user made"
else
	pass "# SKIP no setpriv for the rootless steps"
fi

done_testing
