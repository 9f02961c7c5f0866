#!/usr/bin/env bash
# oci-unpack: hostile layers. No entry may create, change or remove anything
# outside rootfs/. Each case either succeeds with the effect confined inside
# the rootfs, or fails with exit 2 and one line on stderr, leaving neither a
# bundle nor a temporary directory.
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 30 | sed 's/^/#   /'; return 0; }
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py

# ---- the host: a directory outside every bundle, watched after each case ----
HOST=$TMP/host
mkdir -p "$HOST/sub/deeper"
printf 'victim\n' >"$HOST/victim"
printf 'inner\n' >"$HOST/sub/inner"
chmod 0640 "$HOST/victim"
chmod 0750 "$HOST/sub"
printf 'app:x:4242:4242::/:/bin/sh\n' >"$HOST/passwd"
printf 'staff:x:4242:app\n' >"$HOST/group"
touch -h -d @1500000000 "$HOST/passwd" "$HOST/group" "$HOST/victim" "$HOST/sub/inner" "$HOST/sub/deeper" "$HOST/sub" "$HOST"
TOK=ocihostile$$x$RANDOM
REL=${TMP#/}
# what must never change or appear outside the bundles
hostsnap() {
	find "$HOST" -printf '%P %y %m %U:%G %s %n %T@ %l\n' | sort
	find "$HOST" -type f -exec sha256sum {} + | sort
	getfattr -R -h -d -m - --absolute-names "$HOST" 2>/dev/null | grep -v '^#' | sort
	stat -c '%i %h %s %Y %a' /etc/passwd
	ls -d "/etc/$TOK" "/$TOK" "/tmp/$TOK" "/dev/$TOK" "$TMP/$TOK" "$TMP/victim" 2>/dev/null
	ls -A "$TMP" | grep -v -e '^c-' -e '^out$' -e '^err$'
}

# ---- the cases ----
# hc ID EXPECT DESCRIPTION SPEC [CHECK]
#   EXPECT: ok (must succeed), fail (must fail), either (confined success or clean failure)
#   SPEC: lib-layers.py JSON; @HOST@ = the host dir, @REL@ = $TMP without its leading /,
#         @TOK@ = a name unique to this run
#   CHECK: a function run (with $R = the rootfs) when the unpack succeeded
IDS=()
declare -A EXP DESC CHK
hc() {
	IDS+=("$1")
	EXP[$1]=$2 DESC[$1]=$3 CHK[$1]=${5:-}
	printf '%s' "$4" | sed -e "s#@HOST@#$HOST#g" -e "s#@REL@#$REL#g" -e "s#@TOK@#$TOK#g" >"$TMP/spec-$1.json"
}
# checks (run in the rootfs $R after a success)
evil_inside() { # the EVIL content landed somewhere inside the rootfs
	[ -n "$(grep -rlF -D skip EVIL "$R" | head -n1)" ] || { echo "EVIL not found inside the rootfs"; return 1; }
}
evil_at() { # evil_at PATH: the EVIL content landed at PATH inside the rootfs
	[ "$(cat "$R/$1" 2>/dev/null)" = EVIL ] || { echo "$1 in the rootfs is not EVIL"; return 1; }
}
chk_newline() {
	[ "$(cat "$R/new"$'\n'"line" 2>/dev/null)" = EVIL ] && [ "$(cat "$R/tab"$'\t'"here" 2>/dev/null)" = t ] ||
		{ echo "new<NL>line or tab<TAB>here missing"; return 1; }
	grep -q '^/new%0aline'$'\t' "$R/../oci-unpack.record" || { echo "the record does not escape the newline"; return 1; }
}
chk_no_host_uid() { # config.json did not take the host file's uid/gid 4242
	! grep -q 4242 "$R/../config.json" || { echo "config.json has the host's 4242: $(jq -c .process.user "$R/../config.json")"; return 1; }
}
root_is_dir() { [ -d "$R" ] && [ ! -L "$R" ] || { echo "rootfs is not a directory"; return 1; }; }
not_host_inode() { # not_host_inode PATH: PATH in the rootfs is not a host file's inode
	local i
	i=$(stat -c %i "$R/$1" 2>/dev/null) || return 0
	[ "$i" != "$(stat -c %i "$HOST/victim")" ] && [ "$i" != "$(stat -c %i /etc/passwd)" ] ||
		{ echo "$1 is a hard link to a host file"; return 1; }
}

hc dotdot-name either "../../host/victim as a name" \
	'{"layers":[["../../host/victim=EVIL"]]}' 'evil_at host/victim'
hc dotdot-mid either "a/../../x as a name" \
	'{"layers":[["a/", "a/../../x=EVIL"]]}' 'evil_at x'
hc dotdot-deep either "../ up to the host's victim by its real path" \
	'{"layers":[["../../../../../../../../../../../@REL@/host/victim=EVIL"]]}' 'evil_at $REL/host/victim'
hc dotdot-dir either "a directory entry ../../host/sub with mode 0777" \
	'{"layers":[[{"p":"../../host/sub/","t":"d","mode":511,"mtime":1000}]]}'
hc abs-etc either "/etc/@TOK@ as a name" \
	'{"layers":[["/etc/@TOK@=EVIL"]]}' 'evil_at etc/$TOK'
hc abs-double either "//@TOK@ as a name" \
	'{"layers":[["//@TOK@=EVIL"]]}' 'evil_at $TOK'
hc abs-host either "the host victim's absolute path as a name" \
	'{"layers":[["@HOST@/victim=EVIL"]]}' 'evil_at $REL/host/victim'
hc symlink-abs-same either "link -> host dir, then link/victim in the same layer" \
	'{"layers":[["link->@HOST@", "link/victim=EVIL"]]}' evil_inside
hc symlink-abs-later either "link -> host dir, then link/victim in a later layer" \
	'{"layers":[["link->@HOST@"], ["link/victim=EVIL"]]}' evil_inside
hc symlink-rel-same either "link -> ../../../host (the real relative way out), link/victim" \
	'{"layers":[["link->../../../host", "link/victim=EVIL", "link/sub/new=EVIL"]]}' evil_inside
hc symlink-rel-later either "link -> ../../../host, link/victim in a later layer" \
	'{"layers":[["link->../../../host"], ["link/victim=EVIL"]]}' evil_inside
hc symlink-up4 either "link -> ../../../.., then link/@TOK@" \
	'{"layers":[["link->../../../..", "link/@TOK@=EVIL", "link/victim=EVIL"]]}' evil_inside
hc symlink-chain either "a -> b -> c -> ../../../host, then a/victim" \
	'{"layers":[["a->b", "b->c", "c->../../../host"], ["a/victim=EVIL", "a/sub/inner=EVIL"]]}' evil_inside
hc symlink-chain-dir either "d/ -> chain through a symlinked directory component" \
	'{"layers":[["d/", "d/up->../..", "x->d/up/../../host"], ["x/victim=EVIL"]]}' evil_inside
hc symlink-root either "r -> /, then r/@TOK@ and r/<host path>/victim" \
	'{"layers":[["r->/", "r/@TOK@=EVIL"], ["r/@REL@/host/victim=EVIL"]]}' evil_inside
hc symlink-dot-parent either "r -> ., then r/r/../../host/victim" \
	'{"layers":[["r->.", "r/r/../../../host/victim=EVIL"]]}' evil_inside
hc symlink-then-dir either "link -> host dir, then a directory entry link/ with mode 0777" \
	'{"layers":[["link->@HOST@"], [{"p":"link/","t":"d","mode":511,"mtime":1000}, "link/victim=EVIL"]]}' evil_inside
hc file-over-symlink either "s -> host victim, then a file s in a later layer" \
	'{"layers":[["s->@HOST@/victim"], ["s=EVIL"]]}' 'evil_at s'
hc file-over-relsymlink either "s -> ../../../host/victim, then a file s in the same layer" \
	'{"layers":[["s->../../../host/victim", "s=EVIL"]]}' 'evil_at s'
hc fifo-through-symlink either "link -> host dir, then a FIFO and a device link/victim" \
	'{"layers":[["link->@HOST@"], ["link/victim|", {"p":"link/sub","t":"c","maj":1,"min":3}]]}'
hc hardlink-etc-passwd fail "hard link to /etc/passwd (none in the image)" \
	'{"layers":[["h=>/etc/passwd"]]}'
hc hardlink-etc-passwd-in ok "hard link to /etc/passwd (the image's own)" \
	'{"layers":[["etc/", "etc/passwd=IMAGEPW"], ["h=>/etc/passwd"]]}' \
	'[ "$(cat "$R/h")" = IMAGEPW ] && [ "$(stat -c %i "$R/h")" = "$(stat -c %i "$R/etc/passwd")" ] || { echo "h is not the image passwd"; false; }'
hc hardlink-host-abs fail "hard link to the host victim's absolute path" \
	'{"layers":[["h=>@HOST@/victim"]]}'
hc hardlink-dotdot fail "hard link to ../../../host/victim" \
	'{"layers":[["h=>../../../host/victim"]]}'
hc hardlink-dotdot-inside either "hard link to ../../in/f (cleaned to a file in the image)" \
	'{"layers":[["in/", "in/f=INNER", "h=>../../in/f"]]}' \
	'[ "$(cat "$R/h")" = INNER ] || { echo "h is not in/f"; false; }'
hc hardlink-via-symlink either "l -> host dir, then a hard link to l/victim" \
	'{"layers":[["l->@HOST@", "h=>l/victim"]]}' 'not_host_inode h'
hc hardlink-via-relsymlink either "l -> ../../../host, then (later layer) a hard link to l/victim" \
	'{"layers":[["l->../../../host"], ["h=>l/victim", "h2=>l/sub/inner"]]}' 'not_host_inode h'
hc hardlink-to-outside-symlink either "s -> host victim, h => s, then a file h in a later layer" \
	'{"layers":[["s->@HOST@/victim", "h=>s"], ["h=EVIL"]]}' 'evil_at h'
hc hardlink-to-dir fail "hard link to a directory" \
	'{"layers":[["dir/", "dir/f=f", "h=>dir"]]}'
hc hardlink-missing fail "hard link to a target that does not exist" \
	'{"layers":[["h=>nothere"]]}'
hc whiteout-via-symlink either "l -> host dir, then l/.wh.victim and l/.wh.sub" \
	'{"layers":[["l->@HOST@"], ["l/.wh.victim", "l/.wh.sub"]]}'
hc whiteout-via-relsymlink either "l -> ../../../host, then l/.wh.victim in the same layer" \
	'{"layers":[["l->../../../host", "l/.wh.victim", "l/sub/.wh.inner"]]}'
hc opaque-via-symlink either "l -> host dir, then l/.wh..wh..opq" \
	'{"layers":[["l->@HOST@"], ["l/.wh..wh..opq"]]}'
hc opaque-via-relsymlink either "l -> ../../../host/sub, then l/.wh..wh..opq" \
	'{"layers":[["l->../../../host/sub"], ["l/.wh..wh..opq"]]}'
hc whiteout-dotdot fail "a whiteout of .. (.wh...)" \
	'{"layers":[["a/", "a/.wh..."]]}'
hc whiteout-dotdot-path either "../../host/.wh.victim" \
	'{"layers":[["x=x"], ["../../host/.wh.victim", "../../../host/.wh.sub"]]}'
hc opaque-root ok ".wh..wh..opq at the root (and as ../.wh..wh..opq)" \
	'{"layers":[["x=x", "d/", "d/y=y"], [".wh..wh..opq", "../.wh..wh..opq", "new=new"]]}' \
	'[ "$(ls -A "$R")" = new ] || { echo "rootfs holds: $(ls -A "$R")"; false; }'
hc symlink-dot either "a symlink named . pointing at the host dir, then victim" \
	'{"layers":[[".->@HOST@", "victim=EVIL"]]}' 'root_is_dir && evil_at victim'
hc symlink-dotslash either "./ as a symlink to /, then victim in a later layer" \
	'{"layers":[["a=a"], ["./->/"], ["victim=EVIL"]]}' 'root_is_dir && evil_at victim'
hc dir-then-symlink-same either "d/ and d/a, then d -> host dir, then d/victim (one layer)" \
	'{"layers":[["d/", "d/a=1", "d->@HOST@", "d/victim=EVIL"]]}' evil_inside
hc dir-then-symlink-later either "d/ in layer 1, d -> ../../../host in 2, d/victim in 3" \
	'{"layers":[["d/", "d/a=1"], ["d->../../../host"], ["d/victim=EVIL"]]}' evil_inside
hc dirmeta-late-symlink either "d/ mode 0777 mtime 1000, then d -> host sub dir in the same layer" \
	'{"layers":[[{"p":"d/","t":"d","mode":511,"mtime":1000}, "d/x=1", "d->@HOST@/sub"]]}'
hc dirmeta-late-relsymlink either "d/ mode 0700, then d -> ../../../host/sub; and ./ mode 0777" \
	'{"layers":[[{"p":"./","t":"d","mode":511}, {"p":"d/","t":"d","mode":448,"mtime":1000}, "d->../../../host/sub"]]}'
hc device-sda ok "a block device with /dev/sda's numbers, and a char device named by ../" \
	'{"layers":[["dev/", {"p":"dev/sda","t":"b","maj":8,"min":0,"mode":432}, {"p":"../../dev/@TOK@","t":"c","maj":1,"min":3}]]}' \
	'[ -b "$R/dev/sda" ] && [ "$(stat -c %t,%T "$R/dev/sda")" = 8,0 ] && [ -c "$R/dev/$TOK" ] || { echo "devices not as expected"; false; }'
hc setuid-root ok "a setuid file owned by root" \
	'{"layers":[["bin/", {"p":"bin/su","c":"#!/bin/sh\n","mode":2541}]]}' \
	'[ "$(stat -c %a:%u:%g "$R/bin/su")" = 4755:0:0 ] || { echo "bin/su is $(stat -c %a:%u:%g "$R/bin/su")"; false; }'
hc truncated-huge fail "a file header claiming 20 GB, the data cut short" \
	'{"layers":[["a=a", {"p":"big","c":"short","claim":20000000000}]]}'
hc truncated-small fail "a file header claiming 1 MB, uncompressed, data cut short" \
	'{"layers":[{"comp":"none","entries":["a=a", {"p":"big","c":"short","claim":1000000}]}]}'
hc gzip-tail-corrupt fail "the gzip trailer after the tar end corrupted (digest mismatch)" \
	'{"layers":[["a=a"], {"comp":"gzip","corrupt_tail":3,"entries":["b=b"]}]}'
hc zstd-tail-corrupt fail "the zstd frame's last byte corrupted (digest mismatch)" \
	'{"layers":[{"comp":"zstd","corrupt_tail":1,"entries":["b=b"]}]}'
hc tar-tail-differs fail "uncompressed: a byte in the end-of-archive blocks differs from the digest" \
	'{"layers":[{"comp":"none","corrupt_tail":10,"entries":["b=b"]}]}'
hc wrong-diffid fail "a wrong diff_id (second layer)" \
	'{"layers":[["a=a"], {"diff_id":"wrong","entries":["b=b"]}]}'
hc reserved-wh fail "a reserved whiteout name .wh..wh..foo" \
	'{"layers":[["a=a", ".wh..wh..foo"]]}'
hc newline-name either "a name with a newline and a tab" \
	'{"layers":[["new\nline=EVIL", "tab\there=t"]]}' \
	chk_newline
hc nul-name either "a PAX path with a NUL: a<NUL>/../../../host/victim" \
	'{"layers":[[{"p":"a\u0000/../../../host/victim","c":"EVIL"}]]}' evil_inside
hc long-name either "a 5000-byte name (25 components of 199)" \
	'{"layers":[["@LONG@=EVIL"]]}' evil_inside
hc long-component either "a 300-byte component" \
	'{"layers":[["@C300@=EVIL"]]}'
hc deep-dirs ok "200 levels of directories" \
	'{"layers":[["@DEEP@/f=deep"]]}' \
	'[ "$(cat "$R/$DEEP/f")" = deep ] || { echo "the deep file is missing"; false; }'
hc symlink-loop either "a -> b, b -> a, then a/x" \
	'{"layers":[["a->b", "b->a", "a/x=EVIL"]]}' evil_inside
hc hardlink-self either "a hard link to itself" \
	'{"layers":[["h=h", "h=>h"]]}'
hc xattr-on-outside-symlink either "s -> host victim with xattrs user.evil and trusted.evil" \
	'{"layers":[[{"p":"s","t":"l","to":"@HOST@/victim","x":{"user.evil":"1","trusted.evil":"1"}}]]}'
hc chmod-via-symlink either "s -> host victim, then a hard link and a file with mode 0777 on s" \
	'{"layers":[["s->@HOST@/victim"], [{"p":"s","c":"EVIL","mode":511}]]}' 'evil_at s'

# media types that do not match the bytes, and entries hidden after the tar's end
hc gzip-as-tar fail "a gzip layer declared as a plain tar" \
	'{"layers":[{"comp":"gzip","mt":"application/vnd.oci.image.layer.v1.tar","entries":["a=a"]}]}'
hc tar-as-gzip fail "a plain tar layer declared as tar+gzip" \
	'{"layers":[{"comp":"none","mt":"application/vnd.oci.image.layer.v1.tar+gzip","entries":["a=a"]}]}'
hc zstd-as-gzip fail "a zstd layer declared as tar+gzip" \
	'{"layers":[{"comp":"zstd","mt":"application/vnd.oci.image.layer.v1.tar+gzip","entries":["a=a"]}]}'
hc unknown-mediatype fail "a layer of media type application/x-foo" \
	'{"layers":[{"mt":"application/x-foo","entries":["a=a"]}]}'
hc after-end either "entries after the end-of-archive blocks (counted in digest and diff_id)" \
	'{"layers":[{"entries":["a=a"],"after_end":["hidden=EVIL", "../../host/victim=EVIL"]}]}' \
	'[ -f "$R/a" ] && [ ! -e "$R/hidden" ] || { echo "a missing or hidden extracted: $(ls -A "$R")"; false; }'

# the config's user is looked up in the image's /etc/passwd and /etc/group:
# never the host's, and never by opening something that blocks
hc passwd-abs-symlink either "etc/passwd -> the host's passwd-like file, User app" \
	'{"config":{"User":"app"},"layers":[["etc/", "etc/passwd->@HOST@/passwd"]]}' chk_no_host_uid
hc passwd-rel-symlink either "etc/passwd -> ../../../../host/passwd, User app:staff" \
	'{"config":{"User":"app:staff"},"layers":[["etc/", "etc/passwd->../../../../host/passwd", "etc/group->../../../../host/group"]]}' chk_no_host_uid
hc passwd-fifo either "etc/passwd is a FIFO, User app (must not block)" \
	'{"config":{"User":"app"},"layers":[["etc/", "etc/passwd|"]]}'
hc group-fifo either "etc/group is a FIFO, no User (must not block)" \
	'{"layers":[["etc/", "etc/passwd=root:x:0:0::/:/bin/sh\n", "etc/group|"]]}'

# names too long to write out above
long=$(printf 'n%.0s' {1..199})
LONG=$long
for i in {2..25}; do LONG+="/$long"; done
C300=$(printf 'c%.0s' {1..300})
DEEP=d
for i in {2..200}; do DEEP+=/d; done
sed -i -e "s#@LONG@#$LONG#; s#@C300@#$C300#; s#@DEEP@#$DEEP#" "$TMP/spec-long-name.json" "$TMP/spec-long-component.json" "$TMP/spec-deep-dirs.json"

args=()
for id in "${IDS[@]}"; do args+=("$TMP/img-$id" "$TMP/spec-$id.json"); done
python3 "$LIB" build "${args[@]}" >/dev/null || { echo "Bail out! lib-layers.py build failed"; exit 1; }

# ---- run them ----
SNAP0=$(hostsnap)
for id in "${IDS[@]}"; do
	p=$TMP/c-$id
	mkdir "$p"
	run timeout -k 1 3 oci-unpack "$TMP/img-$id:t" "$p/b"
	hung=false
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		hung=true
		echo "(the test: still running after 3 s, stopped by timeout)" >>"$TMP/err"
	fi
	lines=$(wc -l <"$TMP/err")
	clean_fail=false
	if [ "$status" -eq 2 ] && [ "$lines" -eq 1 ] && grep -q "^oci-unpack: $TMP/img-$id:t: " "$TMP/err"; then
		clean_fail=true
	fi
	what="$id (${DESC[$id]})"
	diag "$id: exit $status $(head -c 200 "$TMP/err")"
	case ${EXP[$id]} in
	ok) if [ "$status" -eq 0 ]; then pass "$what: succeeds"; else fail "$what: succeeds" "exit $status: $(err)"; fi ;;
	fail) if $clean_fail; then pass "$what: exit 2, one line naming the image"; else fail "$what: exit 2, one line naming the image" "exit $status, $lines lines: $(err)"; fi ;;
	either) if [ "$status" -eq 0 ] || $clean_fail; then pass "$what: confined success or clean failure (exit $status)"; else fail "$what: confined success or clean failure" "exit $status, $lines lines: $(err)"; fi ;;
	esac
	if $hung; then
		diag "$id: hung; what it left is not checked"
	elif [ "$status" -eq 0 ]; then
		is "$(ls -A "$p" | tr '\n' ' ')" "b " "$id: the bundle's parent holds only the bundle"
		if [ -n "${CHK[$id]}" ]; then
			R=$p/b/rootfs
			if msg=$(eval "${CHK[$id]}" 2>&1); then pass "$id: landed inside the rootfs"; else fail "$id: landed inside the rootfs" "$msg"; fi
		fi
	else
		is "$(ls -A "$p" | tr '\n' ' ')" "" "$id: after the failure no bundle and no temporary directory"
	fi
	snap=$(hostsnap)
	if [ "$snap" = "$SNAP0" ]; then
		pass "$id: the host is untouched"
	else
		fail "$id: the host is untouched" "$(diff <(echo "$SNAP0") <(echo "$snap"))"
		SNAP0=$snap
	fi
done

# ---- messages: one line, the layer named once ----
run oci-unpack "$TMP/img-truncated-huge:t" "$TMP/c-msg"
if grep -qE "^oci-unpack: $TMP/img-truncated-huge:t: layer sha256:[0-9a-f]{64}: " "$TMP/err"; then pass "truncated: the message names the layer"; else fail "truncated: the message names the layer" "$(err)"; fi
dg=$(grep -oE 'sha256:[0-9a-f]{64}' "$TMP/err" | head -n1)
is "$(grep -o "$dg" "$TMP/err" | wc -l)" 1 "truncated: the layer digest appears once in the message"
run oci-unpack "$TMP/img-wrong-diffid:t" "$TMP/c-msg"
err_like 'diff_id' "wrong diff_id: the message says diff_id"
run oci-unpack "$TMP/img-gzip-tail-corrupt:t" "$TMP/c-msg"
err_like 'digest' "corrupt gzip tail: the message says digest"
run oci-unpack "$TMP/img-reserved-wh:t" "$TMP/c-msg"
err_like '\.wh\.\.wh\.\.foo' "reserved whiteout: the message names the entry"
run oci-unpack "$TMP/img-unknown-mediatype:t" "$TMP/c-msg"
err_like 'application/x-foo' "unknown media type: the message names it"
is "$(find / -xdev -maxdepth 3 -name "$TOK" 2>/dev/null | grep -v "^$TMP/" | head -n3)" "" "no $TOK file anywhere outside the test directory"

done_testing
