#!/usr/bin/env bash
# oci-unpack as an unprivileged user (rootless): everything owned by the
# caller on disk, the image's owners and device nodes kept in the record,
# a user namespace in config.json; read-only directories still filled.
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 30 | sed 's/^/#   /'; return 0; }
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
	echo "1..0 # SKIP needs root and setpriv to become uid 65534"
	exit 0
fi
NB=65534
asnobody() { setpriv --reuid=$NB --regid=$NB --clear-groups "$@"; }
if ! asnobody test -x "$OCI_TOOLS_DIR/oci-unpack"; then
	echo "1..0 # SKIP uid $NB cannot reach the build directory"
	exit 0
fi

# a work directory the unprivileged user owns, with copies of the images
chmod 0711 "$TMP"
W=$TMP/w
mkdir "$W"
cp -r "$TD/multi" "$W/multi"
cat >"$TMP/dev.json" <<'EOF'
{"layers":[
  ["dev/", {"p":"dev/null","t":"c","maj":1,"min":3,"mode":438},
   {"p":"dev/sda","t":"b","maj":8,"min":0,"mode":432},
   {"p":"ro/","t":"d","mode":365}, "ro/a=a",
   {"p":"locked/","t":"d","mode":0}, "locked/f=f",
   {"p":"suid","c":"x","mode":3565},
   {"p":"sgid","c":"x","mode":1512,"gid":50},
   {"p":"sticky/","t":"d","mode":1023},
   {"p":"owned","c":"o","uid":1234,"gid":5678},
   {"p":"xf","c":"x","x":{"user.a":"1","security.capability":"\u0001\u0000\u0000\u0002\u0000\u0004\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000"}},
   "p|"],
  ["ro/b=b", "ro/a=new", "dev/n2=>dev/null", "locked/g=g", "locked/.wh.f",
   {"p":"ro/sub/","t":"d","mode":365}, "ro/sub/c=c"],
  ["ro/sub/d=d", "ro/.wh.b"]
]}
EOF
cat >"$TMP/repl.json" <<'EOF'
{"layers":[
  [{"p":"l2/","t":"d","mode":0}, {"p":"l2/sub/","t":"d","mode":0}, "l2/sub/f=f",
   {"p":"ro/","t":"d","mode":365}, "ro/x=x", {"p":"ro/f","c":"f","mode":256}],
  ["l2=nowfile", "ro->l2", {"p":"w/","t":"d","mode":0}, "w/inside=1"],
  [".wh.w", "ro/.wh.x"]
]}
EOF
python3 "$LIB" build "$W/dev" "$TMP/dev.json" "$W/repl" "$TMP/repl.json" >/dev/null || { echo "Bail out! lib-layers.py build failed"; exit 1; }
chown -R $NB:$NB "$W"

# ---- multi:v1 as uid 65534 ----
cd "$W" || exit 1
expect 0 "uid $NB: unpack multi:v1 exits 0 (rootless by default)" asnobody oci-unpack multi:v1 b
B=$W/b
R=$B/rootfs
is "$(find "$B" ! -user $NB -printf '%P\n' | head -n3)" "" "every file of the bundle is owned by uid $NB"
is "$(find "$B" ! -group $NB -printf '%P\n' | head -n3)" "" "every file of the bundle has gid $NB"
python3 "$LIB" tree "$R" >"$TMP/got"
sed -E "s/ [0-9]+:[0-9]+( |\$)/ $NB:$NB\\1/" "$TD/expected/multi-v1.tree" >"$TMP/want"
if diff -u "$TMP/want" "$TMP/got" >"$TMP/diff"; then pass "the tree is multi-v1's but for the owners"; else fail "the tree is multi-v1's but for the owners" "$(cat "$TMP/diff")"; fi
is "$(stat -c %a "$R/bin/tool")" 4755 "bin/tool keeps its setuid bit (4755)"
is "$(stat -c %a "$R/tmp")" 1777 "tmp keeps 1777"
if [ -p "$R/tmp/fifo" ]; then pass "tmp/fifo is a FIFO"; else fail "tmp/fifo is a FIFO"; fi
is "$(getfattr -n user.test --only-values "$R/etc/xattr-file" 2>/dev/null)" hello "user.test xattr set"
is "$(find "$R" -mindepth 1 -printf '%T@\n' | sort -u)" "1700000000.0000000000" "every entry keeps its mtime"

REC=$B/oci-unpack.record
is "$(sed -n 5p "$REC")" "rootless 1" "record: rootless 1"
is "$(sed -n 3p "$REC")" "manifest $(digest_of multi:v1)" "record: the manifest digest"
recf() { awk -F'\t' -v p="/$1" -v c="$2" '$1 == p { print $c }' "$REC"; }
is "$(recf home/app/notes.txt 3):$(recf home/app/notes.txt 4)" 1000:1000 "record: home/app/notes.txt is the image's 1000:1000"
is "$(recf home/app 3):$(recf home/app 4)" 1000:1000 "record: home/app is the image's 1000:1000"
others=$(awk -F'\t' 'NR > 6 && $1 != "/" && $1 != "/home/app" && $1 != "/home/app/notes.txt" && ($3 != 0 || $4 != 0) { print $1 " " $3 ":" $4 }' "$REC")
is "$others" "" "record: every other entry is the image's 0:0"
is "$(recf '' 3):$(recf '' 4)" 0:0 "record: the root directory / is 0:0 as well (not the caller's ids)"
is "$(recf bin/tool 2)" 104755 "record: bin/tool 104755"

C=$B/config.json
is "$(jq -r '[.linux.namespaces[].type] | index("user") != null' "$C")" true "config.json: a user namespace"
is "$(jq -c '[.linux.uidMappings[] | select(.containerID == 0) | .hostID, .size]' "$C")" "[$NB,1]" "config.json: uidMappings maps container 0 to host $NB"
is "$(jq -c '[.linux.gidMappings[] | select(.containerID == 0) | .hostID, .size]' "$C")" "[$NB,1]" "config.json: gidMappings maps container 0 to host $NB"
is "$(jq -r '[.linux.namespaces[].type] | index("network") == null' "$C")" true "config.json: no network namespace (rootless)"
is "$(jq -c .process.args "$C")" '["/bin/tool","--help"]' "config.json: process.args"

# ---- devices, setuid, read-only directories ----
expect 0 "uid $NB: unpack an image with devices and read-only dirs" asnobody oci-unpack dev:t d
R=$W/d/rootfs
REC=$W/d/oci-unpack.record
if [ -f "$R/dev/null" ] && [ ! -s "$R/dev/null" ] && [ ! -c "$R/dev/null" ]; then pass "dev/null on disk is an empty placeholder file"; else fail "dev/null on disk is an empty placeholder file" "$(ls -l "$R/dev/null" 2>&1)"; fi
is "$(recf dev/null 2)" 20666 "record: dev/null is a char device 0666"
is "$(recf dev/null 10)" $(((1 << 8) | 3)) "record: dev/null rdev 1,3"
is "$(recf dev/null 14)" 1 "record: dev/null flagged VIRTUAL (1)"
is "$(recf dev/sda 2):$(recf dev/sda 10):$(recf dev/sda 14)" "60660:$((8 << 8)):1" "record: dev/sda a block device 8,0, VIRTUAL"
is "$(recf dev/n2 2):$(recf dev/n2 14)" "20666:1" "record: dev/n2 (a hard link to dev/null) is the device too"
is "$(recf dev/null 11)" - "record: no content digest for a device"
is "$(recf p 2):$(recf p 14)" "10644:0" "record: a FIFO is real (not VIRTUAL)"
if [ -p "$R/p" ]; then pass "the FIFO is a FIFO on disk"; else fail "the FIFO is a FIFO on disk"; fi
is "$(stat -c %a "$R/suid")" 6755 "setuid+setgid file keeps 6755 on disk"
is "$(recf suid 2)" 106755 "record: suid 106755"
is "$(recf sgid 2):$(recf sgid 4)" "102750:50" "record: setgid file 2750, image gid 50"
is "$(stat -c %a "$R/sticky")" 1777 "sticky directory 1777 on disk"
is "$(recf owned 3):$(recf owned 4)" 1234:5678 "record: owner 1234:5678 from the image"
is "$(stat -c %u:%g "$R/owned")" $NB:$NB "on disk: owned by the caller"
is "$(recf xf 13)" "security.capability=0100000200040000000000000000000000000000;user.a=31" "record: xattrs kept (sorted by name), security.capability too"
is "$(getfattr -n user.a --only-values "$R/xf" 2>/dev/null)" 1 "user.a set on disk"
is "$(stat -c %a "$R/ro")" 555 "ro/ is 0555 on disk"
is "$(recf ro 2)" 40555 "record: ro 40555"
is "$(cd "$R/ro" && find . | sort | tr '\n' ' ')" ". ./a ./sub ./sub/c ./sub/d " "ro/: later layers added, replaced and removed files inside it"
is "$(cat "$R/ro/a")" new "ro/a replaced by layer 2"
is "$(stat -c %a "$R/ro/sub")" 555 "ro/sub 0555 (filled by layer 3)"
is "$(stat -c %a "$R/locked")" 0 "locked/ is 0000 on disk"
is "$(recf locked 2)" 40000 "record: locked 40000"
is "$(cd "$R/locked" && ls -A | tr '\n' ' ')" "g " "locked/: layer 2's g added, f whited out"
is "$(recf ro 7)" 1700000000000000000 "record: ro's mtime is the image's (layer 2 added inside without a ro/ entry)"

# ---- locked and read-only directories replaced and removed by later layers ----
cd "$W" || exit 1
expect 0 "uid $NB: 0000 and 0555 directories replaced by a file and a symlink, a 0000 one whited out" asnobody oci-unpack repl:t rp
python3 "$LIB" tree --brief "$W/rp/rootfs" >"$TMP/got"
is "$(tr '\n' ';' <"$TMP/got")" "l2 f nowfile;ro l l2;" "the tree: l2 a file, ro a symlink, w gone"

# ---- failures as the unprivileged user ----
mkdir "$TMP/rootonly"
expect_fail "uid $NB: a BUNDLE in a directory it cannot write: exit 2" asnobody oci-unpack multi:v1 "$TMP/rootonly/b"
is "$(ls -A "$TMP/rootonly")" "" "nothing left there"
mkdir "$W/nonempty" && touch "$W/nonempty/x" && chown -R $NB:$NB "$W/nonempty"
expect_fail "uid $NB: non-empty BUNDLE: exit 2" asnobody oci-unpack multi:v1 nonempty
is "$(find "$W" -maxdepth 1 -name '.*.unpack-*' | head -n1)" "" "no temporary directory left"

# ---- --rootless as root: no chown, the record keeps the owners ----
cd "$TMP" || exit 1
expect 0 "root --rootless: exit 0" oci-unpack --rootless "$TD/multi:v1" "$TMP/rl"
is "$(stat -c %u:%g "$TMP/rl/rootfs/home/app/notes.txt")" 0:0 "root --rootless: notes.txt owned by the caller (no chown)"
REC=$TMP/rl/oci-unpack.record
is "$(recf home/app/notes.txt 3):$(recf home/app/notes.txt 4)" 1000:1000 "root --rootless: the record keeps 1000:1000"
is "$(sed -n 5p "$REC")" "rootless 1" "root --rootless: record says rootless 1"
is "$(jq -c '.linux.uidMappings[0].hostID' "$TMP/rl/config.json")" 0 "root --rootless: uidMappings maps the caller (0)"

# ---- --rootfs as the unprivileged user ----
cd "$W" || exit 1
expect 0 "uid $NB: --rootfs exits 0" asnobody oci-unpack --rootfs multi:v2 r2
is "$(ls -A "$W/r2" | tr '\n' ' ')" "bin etc home tmp usr var " "uid $NB --rootfs: just the tree"

done_testing
