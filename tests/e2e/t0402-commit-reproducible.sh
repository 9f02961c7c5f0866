#!/usr/bin/env bash
# oci-commit is reproducible with SOURCE_DATE_EPOCH or --timestamp: the same
# input gives the same digests (the same bundle twice, two bundles with the
# same changes, a bundle and its cp -a copy), created fields are the
# timestamp, and no entry of the new layer is later than it; gzip, zstd, none.
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'; return 0; }
T=1700000000
TS=2023-11-14T22:13:20Z

fresh() {
	B=$TMP/$1
	R=$B/rootfs
	rm -rf "$B"
	oci-unpack -q "$TD/multi:v1" "$B" || { echo "Bail out! oci-unpack failed"; exit 1; }
}
# the same changes, whatever the bundle
change() {
	local R=$1
	echo more >>"$R/etc/passwd"
	mkdir -p "$R/opt/app/bin" && printf 'run\n' >"$R/opt/app/bin/run" && chmod 0755 "$R/opt/app/bin/run"
	seq 1 50000 >"$R/opt/app/data.txt"
	rm -rf "$R/home"
	ln -s ../../opt/app/bin/run "$R/usr/lib/run"
	setfattr -n user.k -v v "$R/etc/hostname" 2>/dev/null
	touch -d @1600000000 "$R/srv/data/x.txt"
	if [ "${2:-}" = replace ]; then
		mv "$R/var/cache" "$R/var/c.old" && mkdir "$R/var/cache" && rm -rf "$R/var/c.old"
	fi
	ln "$R/etc/passwd" "$R/etc/passwd.hl"
	mkfifo "$R/opt/app/fifo"
}
cfg() { oci-inspect --config "$1" 2>/dev/null | jq -c "$2"; }
# layer_check LAYOUT:REF LIMIT: the top layer's entries: every mtime <= LIMIT,
# no user/group names, no access/change/creation times, names sorted
layer_check() {
	local img=$1 limit=$2 d mt
	d=$(oci-inspect --manifest "$img" | jq -r '.layers[-1].digest')
	mt=$(oci-inspect --manifest "$img" | jq -r '.layers[-1].mediaType')
	local blob=${img%:*}/blobs/sha256/${d#sha256:}
	case $mt in
	*zstd) zstd -dcq <"$blob" ;;
	*gzip) gzip -dc <"$blob" ;;
	*) cat "$blob" ;;
	esac >"$TMP/layer.tar"
	python3 - "$TMP/layer.tar" "$limit" <<'EOF'
import sys, tarfile
limit = int(sys.argv[2])
bad = []
names = []
with tarfile.open(sys.argv[1]) as tf:
    for m in tf:
        names.append(m.name.rstrip("/"))
        if m.mtime > limit:
            bad.append("%s: mtime %s > %d" % (m.name, m.mtime, limit))
        if m.uname or m.gname:
            bad.append("%s: uname/gname %r/%r" % (m.name, m.uname, m.gname))
        for k in m.pax_headers:
            if k in ("atime", "ctime") or k.startswith("LIBARCHIVE.") or "creationtime" in k:
                bad.append("%s: host-dependent pax record %s" % (m.name, k))
if names != sorted(names):
    bad.append("names not sorted")
if not names:
    bad.append("no entries")
print("\n".join(bad) if bad else "ok")
EOF
}

fresh b1
change "$TMP/b1/rootfs"
fresh b2
change "$TMP/b2/rootfs"
cp -a "$TMP/b1" "$TMP/elsewhere-b1"

for comp in gzip zstd none; do
	d1=$(SOURCE_DATE_EPOCH=$T oci-commit --keep-record -q --compression "$comp" "$TMP/b1" "$TMP/L1:$comp")
	d1b=$(SOURCE_DATE_EPOCH=$T oci-commit --keep-record -q --compression "$comp" "$TMP/b1" "$TMP/L1b:$comp")
	d2=$(oci-commit --keep-record -q --timestamp "$TS" --compression "$comp" "$TMP/b1" "$TMP/L2:$comp")
	d3=$(oci-commit --keep-record -q --timestamp "$T" --compression "$comp" "$TMP/b2" "$TMP/L3:$comp")
	d4=$(SOURCE_DATE_EPOCH=$T oci-commit --keep-record -q --compression "$comp" "$TMP/elsewhere-b1" "$TMP/L4:$comp")
	if [[ $d1 == sha256:* ]]; then pass "$comp: SOURCE_DATE_EPOCH commit prints a digest"; else fail "$comp: SOURCE_DATE_EPOCH commit prints a digest" "$d1"; fi
	is "$d1b" "$d1" "$comp: the same bundle committed twice (SOURCE_DATE_EPOCH): the same manifest digest"
	is "$d2" "$d1" "$comp: --timestamp $TS gives what SOURCE_DATE_EPOCH=$T gives"
	is "$d3" "$d1" "$comp: another bundle with the same changes (--timestamp $T): the same manifest digest"
	is "$d4" "$d1" "$comp: the bundle copied with cp -a to another path: the same manifest digest"
	is "$(oci-inspect --manifest "$TMP/L2:$comp" | sha256sum | cut -c1-64)" "${d1#sha256:}" "$comp: the manifest bytes hash to the digest"
	is "$(cfg "$TMP/L1:$comp" '[.created, .history[-1].created]')" "[\"$TS\",\"$TS\"]" "$comp: created and the history entry's created are the timestamp"
	is "$(cfg "$TMP/L1:$comp" '.history[:3]')" "$(cfg "$TD/multi:v1" '.history')" "$comp: the parent's history is kept as it was"
	is "$(layer_check "$TMP/L1:$comp" "$T")" ok "$comp: the new layer: mtimes <= T, no names, no host times, sorted"
	is "$(cmp -s "$TMP/L1/blobs/sha256/${d1#sha256:}" "$TMP/L3/blobs/sha256/${d3#sha256:}" && echo same)" same "$comp: the manifest files are byte-identical"
done

# with a replaced directory among the changes (its inode is new; in a copy
# every inode is new): the same bytes from the bundle and from its copy
fresh r1
change "$TMP/r1/rootfs" replace
fresh r2
change "$TMP/r2/rootfs" replace
cp -a "$TMP/r1" "$TMP/elsewhere-r1"
e1=$(oci-commit --keep-record -q --timestamp "$T" "$TMP/r1" "$TMP/LR1:r")
e2=$(oci-commit --keep-record -q --timestamp "$T" "$TMP/r2" "$TMP/LR2:r")
e3=$(oci-commit --keep-record -q --timestamp "$T" "$TMP/elsewhere-r1" "$TMP/LR3:r")
is "$e2" "$e1" "a replaced directory: two bundles with the same changes, the same digest"
# In a copy every inode is new, so "deleted and made again" cannot be told
# from "copied": the copy's layer lists the old children's whiteouts where
# the original has an opaque whiteout. Both must give the same tree.
oci-unpack -q --rootfs "$TMP/LR1:r" "$TMP/x1" && oci-unpack -q --rootfs "$TMP/LR3:r" "$TMP/x3"
ok $? "a replaced directory: both commits unpack"
is "$(cd "$TMP/x1" && find . -printf '%p %y %m %s\n' | sort | md5sum)" \
	"$(cd "$TMP/x3" && find . -printf '%p %y %m %s\n' | sort | md5sum)" \
	"a replaced directory: the bundle and its cp -a copy give the same tree"

# the timestamp earlier than the tree: everything newer is brought down to it
T2=1650000000
d=$(oci-commit --keep-record -q --timestamp "$T2" "$TMP/b1" "$TMP/L5:early")
is "$(layer_check "$TMP/L5:early" "$T2")" ok "--timestamp earlier than the base's mtimes: no entry later than it"
is "$(cfg "$TMP/L5:early" .created)" '"2022-04-15T05:20:00Z"' "--timestamp in seconds: created in RFC 3339"
run oci-inspect --files --layer 4 "$TMP/L5:early"
is "$(grep -c ' 2020-09-13 ' "$TMP/out")" 1 "srv/data/x.txt keeps its older mtime (2020-09-13)"
# a squash is reproducible too
s1=$(SOURCE_DATE_EPOCH=$T oci-commit --keep-record -q --squash "$TMP/b1" "$TMP/L6:s")
s2=$(SOURCE_DATE_EPOCH=$T oci-commit --keep-record -q --squash "$TMP/b2" "$TMP/L7:s")
is "$s2" "$s1" "--squash of two bundles with the same tree: the same digest"
is "$(layer_check "$TMP/L6:s" "$T")" ok "--squash: mtimes <= T, no names, sorted"
# a scratch image from two copies of a directory
mkdir -p "$TMP/dir1/a/b" && echo x >"$TMP/dir1/a/b/x" && ln -s b "$TMP/dir1/a/l"
cp -a "$TMP/dir1" "$TMP/dir2"
touch "$TMP/dir2/a/b/x"
c1=$(SOURCE_DATE_EPOCH=$T oci-commit --keep-record -q --platform linux/amd64 "$TMP/dir1" "$TMP/L8:d")
c2=$(SOURCE_DATE_EPOCH=$T oci-commit --keep-record -q --platform linux/amd64 "$TMP/dir2" "$TMP/L9:d")
is "$c2" "$c1" "scratch images of two copies of a directory (one touched later): the same digest"
# config-only commits
k1=$(SOURCE_DATE_EPOCH=$T oci-commit -q --from "$TD/multi:v1" --env A=1 "$TMP/L10:k")
k2=$(oci-commit -q --timestamp "$TS" --from "$TD/multi:v1" --env A=1 "$TMP/L11:k")
is "$k2" "$k1" "config-only commits: the same digest"
# and not by accident: without a timestamp, created is now
sleep 1
n1=$(oci-commit -q --from "$TD/multi:v1" --env A=1 "$TMP/L12:k")
[ "$n1" != "$k1" ] && pass "without a timestamp the digest differs (created is now)" || fail "without a timestamp the digest differs (created is now)"
expect_fail "SOURCE_DATE_EPOCH=garbage: exit 2, one line" env SOURCE_DATE_EPOCH=garbage oci-commit -q --from "$TD/multi:v1" "$TMP/L13:k"

done_testing
