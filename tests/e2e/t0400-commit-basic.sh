#!/usr/bin/env bash
# oci-commit: usage; a changed bundle (digest, layer, history); every config
# option; empty changesets; config-only commits; scratch images from a plain
# directory; ready layers from a file and stdin; compressions; --squash; the
# destination layout (created, refs moving, parents in other layouts).
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'; return 0; }
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
MT_GZ=application/vnd.oci.image.layer.v1.tar+gzip
MT_ZS=application/vnd.oci.image.layer.v1.tar+zstd
MT_TAR=application/vnd.oci.image.layer.v1.tar
V1=$(digest_of multi:v1)
V2=$(digest_of multi:v2)

fresh() {
	B=$TMP/$1
	R=$B/rootfs
	rm -rf "$B"
	oci-unpack -q "$TD/multi:v1" "$B" || { echo "Bail out! oci-unpack failed"; exit 1; }
}
cfg() { oci-inspect --config "$1" 2>/dev/null | jq -c "$2"; }
man() { oci-inspect --manifest "$1" 2>/dev/null | jq -c "$2"; }
refdigest() { oci-inspect --refs "$1" 2>/dev/null | awk -F '\t' -v r="$2" '$1 == r { print $2 }'; }
same_tree() { # same_tree DIR_A DIR_B NAME
	python3 "$LIB" tree "$1" "$TMP/ta" "$2" "$TMP/tb" || { echo "Bail out! lib-layers.py tree failed"; exit 1; }
	if diff -u "$TMP/ta" "$TMP/tb" >"$TMP/td"; then pass "$3"; else fail "$3" "$(cat "$TMP/td")"; fi
}

# ---- usage ----
VERSION=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$OCI_SOURCE_DIR/meson.build" | head -n1)
expect 0 "--help exits 0" oci-commit --help
like '^Usage: oci-commit ' "--help prints usage on stdout"
for o in --from --layer --compression --squash --allow-empty --timestamp --entrypoint --cmd --env \
	--workdir --user --label --expose --volume --stop-signal --author --message --annotation --platform; do
	like -- "$o" "--help mentions $o"
done
is "$(wc -c <"$TMP/err")" 0 "--help: nothing on stderr"
expect 0 "--version exits 0" oci-commit --version
is "$(out)" "oci-commit $VERSION" "--version prints the name and version"
fresh u
L=$TMP/L
expect_fail "no arguments: exit 2, one line" oci-commit
expect_fail "a destination without :REF: exit 2, one line" oci-commit --keep-record "$B" "$TMP/noref"
expect_fail "--compression lz4: exit 2, one line" oci-commit --keep-record --compression lz4 "$B" "$L:x"
expect_fail "--squash of a plain directory: exit 2" oci-commit --keep-record --squash "$TMP" "$L:x"
expect_fail "--layer and a SOURCE: exit 2" oci-commit --layer /dev/null "$B" "$L:x"
expect_fail "--timestamp yesterday: exit 2" oci-commit --keep-record --timestamp yesterday "$B" "$L:x"
expect_fail "--env without =: exit 2" oci-commit --env FOO --from "$TD/multi:v1" "$TMP/L-env:x"
expect_fail "--cmd not an array of strings: exit 2" oci-commit --cmd '[1]' --from "$TD/multi:v1" "$TMP/L-cmd:x"
expect_fail "a missing SOURCE: exit 2" oci-commit --keep-record "$TMP/nothere" "$TMP/L-src:x"
err_like 'nothere' "a missing SOURCE: named"
expect_fail "a missing --from image: exit 2" oci-commit --from "$TD/multi:v9" "$TMP/L-from:x"
err_like 'v9' "a missing --from ref: named"
expect_fail "a missing --layer file: exit 2" oci-commit --layer "$TMP/nolayer" --from "$TD/multi:v1" "$TMP/L-layer:x"
is "$(cd "$TMP" && ls -d L-* 2>/dev/null | tr '\n' ' ')" "" "failed commits did not create their destination layouts"

# ---- a changed bundle ----
fresh b
echo more >>"$R/etc/passwd"
mkdir "$R/opt/pkg" && echo bin >"$R/opt/pkg/bin"
rm "$R/etc/group"
t0=$(date -u +%s)
run oci-commit --keep-record -m "my change" "$B" "$L:c1"
t1=$(date -u +%s)
is "$status" 0 "commit of a changed bundle: exit 0"
is "$(wc -l <"$TMP/out")" 1 "commit: one line on stdout"
like '^sha256:[0-9a-f]{64}$' "commit: prints a digest"
D1=$(out)
err_like '^oci-commit: .*layer sha256:' "commit: a note on stderr names the layer"
is "$(refdigest "$L" c1)" "$D1" "commit: the printed digest is the ref's (oci-inspect --refs)"
is "$(sha256sum <"$L/blobs/sha256/${D1#sha256:}" | cut -c1-64)" "${D1#sha256:}" "commit: the manifest blob hashes to its name"
is "$(man "$L:c1" '[.layers[:3][].digest]')" "$(man "$TD/multi:v1" '[.layers[].digest]')" "commit: the parent's three layers come first"
is "$(man "$L:c1" '[(.layers | length), .layers[3].mediaType, .mediaType, .config.mediaType]')" \
	"[4,\"$MT_GZ\",\"application/vnd.oci.image.manifest.v1+json\",\"application/vnd.oci.image.config.v1+json\"]" \
	"commit: four layers, the new one gzip, OCI media types"
run oci-inspect --files --layer 4 "$L:c1"
is "$status" 0 "oci-inspect --files --layer 4: exit 0"
is "$(awk 'NR > 1 { print $6 }' "$TMP/out" | sort | tr '\n' ' ')" "/etc/ /etc/.wh.group /etc/passwd /opt/ /opt/pkg/ /opt/pkg/bin " \
	"the new layer holds the changes (and their parent directories)"
is "$(cfg "$L:c1" '.history | length')" 4 "history: one entry more"
is "$(cfg "$L:c1" '.history[-1] | [.comment, .created_by, (.empty_layer // false)]')" '["my change","oci-commit",false]' \
	"history: -m as the comment, created_by oci-commit, not empty"
is "$(cfg "$L:c1" '.rootfs.diff_ids | length')" 4 "config: four diff_ids"
is "$(cfg "$L:c1" '.rootfs.diff_ids[:3]')" "$(cfg "$TD/multi:v1" '.rootfs.diff_ids')" "config: the parent's diff_ids first"
is "$(cfg "$L:c1" '.config')" "$(cfg "$TD/multi:v1" '.config')" "config: the run config is the parent's when no option changes it"
created=$(cfg "$L:c1" '.created' | tr -d '"')
ct=$(date -u -d "$created" +%s 2>/dev/null || echo 0)
if [ "$ct" -ge "$t0" ] && [ "$ct" -le "$t1" ]; then pass "created is the time of the commit"; else fail "created is the time of the commit" "$created"; fi
is "$(cfg "$L:c1" '.history[-1].created')" "\"$created\"" "history created = config created"
oci-unpack -q "$L:c1" "$TMP/c1u" || fail "oci-unpack of the commit" ""
same_tree "$R" "$TMP/c1u/rootfs" "the commit unpacks to the changed rootfs"
expect 0 "-q: exit 0" oci-commit --keep-record -q --created-by "step 2" "$B" "$L:c1q"
is "$(wc -c <"$TMP/err")" 0 "-q: nothing on stderr"
is "$(cfg "$L:c1q" '.history[-1].created_by')" '"step 2"' "--created-by sets created_by"

# a bundle unpacked from an oci-archive
oci-unpack -q "$TD/multi.tar:v1" "$TMP/arch"
echo x >"$TMP/arch/rootfs/from-archive"
run oci-commit --keep-record -q "$TMP/arch" "$TMP/LA:a"
is "$status" 0 "a bundle unpacked from an oci-archive: commit into a layout, exit 0"
oci-unpack -q "$TMP/LA:a" "$TMP/lau" && same_tree "$TMP/arch/rootfs" "$TMP/lau/rootfs" "... and it unpacks to the changed rootfs"
# a bundle unpacked by a relative name, committed from another directory
mkdir "$TMP/rel"
cp -a "$TD/multi" "$TMP/rel/img"
(cd "$TMP/rel" && oci-unpack -q img:v1 bb && echo x >bb/rootfs/new)
(cd / && oci-commit --keep-record -q "$TMP/rel/bb" "$TMP/rel/img:rel") >/dev/null 2>"$TMP/err"
st=$?
is "$st" 0 "a bundle unpacked by a relative image name commits from another working directory"
[ "$st" = 0 ] || diag "$(cat "$TMP/err")"
expect 0 "... and with --from naming the parent, it does" oci-commit -q --from "$TMP/rel/img:v1" "$TMP/rel/bb" "$TMP/rel/img:rel2"

# a bundle with a socket in it (a daemon's leftover): tar cannot hold one, so it
# is left out (as tar, docker and umoci do), with a note, and the rest committed
fresh sock
echo kept >"$R/etc/kept"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$R/tmp/daemon.sock"
run oci-commit --keep-record "$B" "$L:sock"
is "$status" 0 "a socket in the bundle: the commit still succeeds"
[ "$status" = 0 ] || diag "$(err)"
err_like 'sock' "a socket in the bundle: a note names it"
run oci-inspect --files --layer 4 "$L:sock"
like '/etc/kept$' "a socket in the bundle: the other change is committed"
unlike 'daemon.sock' "a socket in the bundle: the socket is not in the layer"
# names that are not ASCII
fresh utf
printf 'x\n' >"$R/etc/caf$(printf '\xc3\xa9')"
printf 'y\n' >"$R/etc/raw$(printf '\xff')"
run oci-commit --keep-record -q "$B" "$L:utf"
is "$status" 0 "non-ASCII file names: oci-commit exits 0"
[ "$status" = 0 ] || diag "$(err)"
run oci-inspect --files --layer 4 "$L:utf"
is "$(grep -c '/etc/caf' "$TMP/out")" 1 "non-ASCII file names: the layer holds them"

# ---- config options ----
run oci-commit -q --from "$TD/multi:v1" \
	--entrypoint '["/bin/app","--serve"]' --cmd 'echo hello' \
	--env PATH=/opt/bin --env NEW=1 --workdir /work --user 1000:1000 \
	--label org.example.name=changed --label new.label=yes \
	--expose 80 --expose 53/udp --volume /data --stop-signal SIGINT \
	--author "A. Author <a@example.org>" --annotation org.example.note=hi --annotation k2=v2 \
	"$L:cfg"
is "$status" 0 "config options: exit 0"
SK=$TMP/skopeo.json
if skopeo inspect --config "oci:$L:cfg" >"$SK" 2>"$TMP/skerr"; then pass "skopeo inspect --config reads it"; else fail "skopeo inspect --config reads it" "$(cat "$TMP/skerr")"; fi
sk() { jq -c "$1" "$SK"; }
is "$(sk .config.Entrypoint)" '["/bin/app","--serve"]' "--entrypoint JSON array"
is "$(sk .config.Cmd)" '["/bin/sh","-c","echo hello"]' "--cmd string -> /bin/sh -c"
is "$(sk .config.Env)" '["PATH=/opt/bin","LANG=C.UTF-8","NEW=1"]' "--env replaces PATH in place, adds NEW"
is "$(sk .config.WorkingDir)" '"/work"' "--workdir"
is "$(sk .config.User)" '"1000:1000"' "--user"
is "$(sk '.config.Labels | to_entries | sort_by(.key) | from_entries')" '{"new.label":"yes","org.example.name":"changed"}' "--label replaces and adds (any order)"
is "$(sk '.config.ExposedPorts | keys')" '["53/udp","80/tcp","8080/tcp"]' "--expose 80 -> 80/tcp, 53/udp kept, 8080/tcp inherited"
is "$(sk '.config.Volumes | keys')" '["/data","/var/cache"]' "--volume adds /data"
is "$(sk .config.StopSignal)" '"SIGINT"' "--stop-signal"
is "$(sk .author)" '"A. Author <a@example.org>"' "--author in the config"
is "$(sk '.history[-1].author')" '"A. Author <a@example.org>"' "--author in the history entry"
is "$(man "$L:cfg" '.annotations')" '{"org.example.note":"hi","k2":"v2"}' "--annotation on the manifest"
is "$(oci-inspect --config "$L:cfg" | jq -cS .config)" "$(jq -cS .config "$SK")" "oci-inspect --config shows the same"
run oci-commit -q --from "$TD/multi:v1" --entrypoint '/bin/run this' --cmd '["a","b c"]' "$L:cfg2"
is "$(cfg "$L:cfg2" '[.config.Entrypoint, .config.Cmd]')" '[["/bin/sh","-c","/bin/run this"],["a","b c"]]' \
	"--entrypoint string -> /bin/sh -c; --cmd JSON array"
run oci-commit -q --from "$TD/multi:v1" --cmd '[]' --env LANG=C "$L:cfg3"
is "$(cfg "$L:cfg3" '[.config.Cmd, .config.Env]')" '[[],["PATH=/usr/bin:/bin","LANG=C"]]' "--cmd [] empties Cmd; --env LANG replaces"

# ---- config-only commit ----
run oci-commit --from "$TD/multi:v1" --env X=1 "$L:r"
is "$status" 0 "config-only commit: exit 0"
is "$(man "$L:r" '[.layers[].digest]')" "$(man "$TD/multi:v1" '[.layers[].digest]')" "config-only: the same layers"
is "$(cfg "$L:r" '.rootfs.diff_ids')" "$(cfg "$TD/multi:v1" '.rootfs.diff_ids')" "config-only: the same diff_ids"
is "$(cfg "$L:r" '[(.history | length), .history[-1].empty_layer]')" '[4,true]' "config-only: a history entry with empty_layer"
is "$(cfg "$L:r" '.config.Env[-1]')" '"X=1"' "config-only: the env is set"

# ---- empty changesets ----
fresh e
run oci-commit --keep-record "$B" "$L:e"
is "$status" 0 "empty changeset: exit 0"
err_like 'no (changes|layer)' "empty changeset: a note says no layer was added"
is "$(man "$L:e" '.layers | length')" 3 "empty changeset: no layer added"
is "$(cfg "$L:e" '.history[-1].empty_layer')" true "empty changeset: the history entry says empty_layer"
run oci-commit --keep-record -q --allow-empty "$B" "$L:e2"
is "$status" 0 "--allow-empty: exit 0"
is "$(man "$L:e2" '.layers | length')" 4 "--allow-empty: a layer is added"
run oci-inspect --files --layer 4 "$L:e2"
is "$(awk 'NR > 1' "$TMP/out" | wc -l)" 0 "--allow-empty: the layer has no entries"
is "$(cfg "$L:e2" '[(.rootfs.diff_ids | length), (.history[-1].empty_layer // false)]')" '[4,false]' "--allow-empty: a diff_id and a non-empty history entry"

# ---- a plain directory: a scratch image ----
S=$TMP/scratch
mkdir -p "$S/bin" "$S/etc"
echo hi >"$S/bin/hello" && chmod 0755 "$S/bin/hello"
echo cfg >"$S/etc/app.conf"
ln -s hello "$S/bin/hi"
run oci-commit --keep-record -q "$S" "$L:scratch"
is "$status" 0 "plain directory: exit 0"
is "$(man "$L:scratch" '.layers | length')" 1 "scratch: one layer"
is "$(cfg "$L:scratch" '[.os, (.rootfs.diff_ids | length), (.history | length)]')" '["linux",1,1]' "scratch: os linux, one diff_id, one history entry"
case $(uname -m) in x86_64) harch=amd64 ;; aarch64) harch=arm64 ;; *) harch=$(uname -m) ;; esac
is "$(cfg "$L:scratch" .architecture)" "\"$harch\"" "scratch: the host's architecture by default"
run oci-inspect --files "$L:scratch"
is "$(awk 'NR > 1 { print $6 }' "$TMP/out" | tr '\n' ' ')" "/bin/ /bin/hello /bin/hi /etc/ /etc/app.conf " "scratch: the layer holds the directory's entries, sorted"
oci-unpack -q "$L:scratch" "$TMP/su"
same_tree "$S" "$TMP/su/rootfs" "scratch: unpacks to the directory"
run oci-commit --keep-record -q --platform linux/arm64 "$S" "$L:arm"
is "$(cfg "$L:arm" '[.os, .architecture]')" '["linux","arm64"]' "--platform linux/arm64: config architecture arm64"
is "$(oci-inspect --refs "$L" | awk -F '\t' '$1 == "arm" { print $4 }')" "linux/arm64" "--platform linux/arm64: --refs shows linux/arm64"

# ---- --layer FILE and --layer - ----
fresh lb
echo layer >"$R/etc/from-layer"
oci-diff --tar --compress gzip "$B" >"$TMP/l.tar.gz" 2>/dev/null
oci-diff --tar "$B" >"$TMP/l.tar" 2>/dev/null
run oci-commit -q --layer "$TMP/l.tar.gz" --from "$TD/multi:v1" "$L:lf"
is "$status" 0 "--layer FILE (gzip): exit 0"
is "$(man "$L:lf" '.layers[3] | [.digest, .size, .mediaType]')" \
	"[\"sha256:$(sha256sum <"$TMP/l.tar.gz" | cut -c1-64)\",$(stat -c %s "$TMP/l.tar.gz"),\"$MT_GZ\"]" \
	"--layer FILE (gzip): the blob is the file as it is"
is "$(cfg "$L:lf" '.rootfs.diff_ids[3]')" "\"sha256:$(sha256sum <"$TMP/l.tar" | cut -c1-64)\"" "--layer FILE: the diff_id is the tar's sha256"
run oci-commit -q --layer - --from "$TD/multi:v1" "$L:lstdin" <"$TMP/l.tar"
is "$status" 0 "--layer - (plain tar on stdin): exit 0"
is "$(man "$L:lstdin" '.layers[3].mediaType')" "\"$MT_GZ\"" "--layer - (plain): compressed with gzip by default"
is "$(cfg "$L:lstdin" '.rootfs.diff_ids[3]')" "\"sha256:$(sha256sum <"$TMP/l.tar" | cut -c1-64)\"" "--layer -: the diff_id is the tar's sha256"
oci-unpack -q "$L:lstdin" "$TMP/lsu"
same_tree "$R" "$TMP/lsu/rootfs" "--layer -: unpacks to the changed rootfs"
run oci-commit -q --layer "$TMP/l.tar" --compression none --from "$TD/multi:v1" "$L:lnone"
is "$(man "$L:lnone" '.layers[3] | [.digest, .mediaType]')" "[\"sha256:$(sha256sum <"$TMP/l.tar" | cut -c1-64)\",\"$MT_TAR\"]" \
	"--layer FILE --compression none: the tar itself"
printf 'not a tar at all' >"$TMP/junk"
expect_fail "--layer of a file that is not a tar: exit 2" oci-commit --layer "$TMP/junk" --from "$TD/multi:v1" "$L:junk"
is "$(refdigest "$L" junk)" "" "--layer junk: no ref made"
head -c 100 "$TMP/l.tar.gz" >"$TMP/cut.gz"
expect_fail "--layer of a truncated gzip: exit 2" oci-commit --layer "$TMP/cut.gz" --from "$TD/multi:v1" "$L:cut"
is "$(refdigest "$L" cut)" "" "--layer truncated: no ref made"

# ---- compressions ----
for c in gzip zstd none; do
	case $c in gzip) mt=$MT_GZ; dec="gzip -dc" ;; zstd) mt=$MT_ZS; dec="zstd -dcq" ;; none) mt=$MT_TAR; dec=cat ;; esac
	run oci-commit --keep-record -q --compression "$c" "$TMP/lb" "$L:comp-$c"
	is "$(man "$L:comp-$c" '.layers[3].mediaType')" "\"$mt\"" "--compression $c: media type $mt"
	ld=$(man "$L:comp-$c" '.layers[3].digest' | tr -d '"')
	is "\"sha256:$($dec <"$L/blobs/sha256/${ld#sha256:}" | sha256sum | cut -c1-64)\"" "$(cfg "$L:comp-$c" '.rootfs.diff_ids[3]')" \
		"--compression $c: the blob decompresses to the diff_id"
done
run oci-commit --keep-record -q --compression zstd --level 19 "$TMP/lb" "$L:z19"
is "$status" 0 "--compression zstd --level 19: exit 0"
is "$(cfg "$L:z19" '.rootfs.diff_ids[3]')" "$(cfg "$L:comp-zstd" '.rootfs.diff_ids[3]')" "--level changes the blob, not the diff_id"

# ---- --squash ----
fresh sq
echo more >>"$R/etc/passwd"
rm -rf "$R/home"
mkdir "$R/sq" && echo s >"$R/sq/f"
run oci-commit --keep-record -q --squash -m squashed "$B" "$L:sq"
is "$status" 0 "--squash: exit 0"
is "$(man "$L:sq" '.layers | length')" 1 "--squash: one layer"
is "$(cfg "$L:sq" '[(.rootfs.diff_ids | length), (.history | length), .history[0].comment]')" '[1,1,"squashed"]' "--squash: one diff_id, one history entry"
is "$(cfg "$L:sq" '.config')" "$(cfg "$TD/multi:v1" '.config')" "--squash: the parent's run config kept"
run oci-inspect --files "$L:sq"
is "$(grep -c '\.wh\.' "$TMP/out")" 0 "--squash: no whiteouts in the layer"
oci-unpack -q "$L:sq" "$TMP/squ"
same_tree "$R" "$TMP/squ/rootfs" "--squash: the one layer unpacks to the bundle's rootfs"

# ---- the destination layout ----
run oci-commit --keep-record -q "$TMP/lb" "$TMP/newlayout:x"
NL=$TMP/newlayout
is "$status" 0 "a missing destination layout: exit 0"
is "$(cat "$NL/oci-layout" 2>/dev/null | jq -c .)" '{"imageLayoutVersion":"1.0.0"}' "the new layout has oci-layout"
is "$(jq -c '[.schemaVersion, (.manifests | length), .manifests[0].annotations["org.opencontainers.image.ref.name"]]' "$NL/index.json")" '[2,1,"x"]' \
	"the new layout's index.json has the one ref"
# the source layout can go: every blob was copied
cp -a "$TD/multi" "$TMP/src"
oci-unpack -q "$TMP/src:v2" "$TMP/fromsrc"
echo y >"$TMP/fromsrc/rootfs/y"
run oci-commit --keep-record -q "$TMP/fromsrc" "$TMP/dst:y"
is "$status" 0 "a parent in another layout: exit 0"
rm -rf "$TMP/src"
run oci-inspect "$TMP/dst:y"
is "$status" 0 "oci-inspect works on the destination alone"
missing=0
for d in $(man "$TMP/dst:y" '[.config.digest, .layers[].digest] | .[]' | tr -d '"'); do
	[ -f "$TMP/dst/blobs/sha256/${d#sha256:}" ] || missing=$((missing + 1))
done
is "$missing" 0 "every blob of the new image is in the destination"
expect 0 "oci-inspect --files on the destination alone" oci-inspect --files "$TMP/dst:y"
oci-unpack -q "$TMP/dst:y" "$TMP/dstu"
same_tree "$TMP/fromsrc/rootfs" "$TMP/dstu/rootfs" "the destination alone unpacks to the changed rootfs"

# an existing ref moves; the others stay
cp -a "$TD/multi" "$TMP/M"
run oci-commit --keep-record -q "$TMP/lb" "$TMP/M:v1"
new=$(out)
is "$status" 0 "commit to an existing ref: exit 0"
is "$(refdigest "$TMP/M" v1)" "$new" "the ref moved to the new manifest"
is "$(refdigest "$TMP/M" v2)" "$V2" "the other ref is untouched"
is "$(oci-inspect --refs "$TMP/M" | cut -f1 | sort | tr '\n' ' ')" "v1 v2 " "each ref once"
is "$(jq '.manifests | length' "$TMP/M/index.json")" 2 "index.json: two descriptors"
is "$(man "$TMP/M:v1" '.layers | length')" 4 "the moved ref's image is the commit"
[ "$new" != "$V1" ] && pass "the moved ref's digest differs from the old" || fail "the moved ref's digest differs from the old"
is "$(ls -A "$TMP/M/blobs/sha256" | grep -c '^\.')" 0 "no temporary files left in blobs/"

done_testing
