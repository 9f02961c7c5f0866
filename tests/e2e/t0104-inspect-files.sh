#!/usr/bin/env bash
# oci-inspect --files [--layer N|DIGEST] [--json]: the entries of each layer.
. "$(dirname "$0")/test-lib.sh"
# test-lib's fail() marks only the first line of a multi-line diagnostic (a
# tool's stderr of several lines) as a TAP comment; mark every line.
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'; return 0; }

V1=$(digest_of multi:v1)
L1=$(awk 'NR == 1 { print $1 }' "$TD/expected/multi-v1.layers")
L2=$(awk 'NR == 2 { print $1 }' "$TD/expected/multi-v1.layers")
L3=$(awk 'NR == 3 { print $1 }' "$TD/expected/multi-v1.layers")
jqis() {
	local got
	got=$(jq -r "$1" <"$TMP/out" 2>&1)
	is "$got" "$2" "$3"
}
# entry lines only (no "layer i/n" headers)
entries() { grep -v '^layer [0-9]' "$TMP/out"; }

# ---- all layers of multi:v1 ----
expect 0 "--files multi:v1 exits 0" oci-inspect --files "$TD/multi:v1"
is "$(wc -c <"$TMP/err")" 0 "--files: nothing on stderr"
cp "$TMP/out" "$TMP/files-v1"
is "$(grep -c '^layer [0-9]' "$TMP/out")" 3 "--files: a header for each of the 3 layers"
like "^layer 1/3 $L1" "--files: layer 1 header names its digest"
like "^layer 2/3 $L2" "--files: layer 2 header names its digest"
like "^layer 3/3 $L3" "--files: layer 3 header names its digest"
is "$(awk '/^layer 1\//{n=1;next} /^layer 2\//{n=2;next} /^layer 3\//{n=3;next} {c[n]++} END{print c[1]+0, c[2]+0, c[3]+0}' "$TMP/out")" \
	"23 14 5" "--files: 23, 14 and 5 entries in layers 1, 2, 3"
# layer 1
like ' /etc/passwd$' "layer 1: /etc/passwd"
like ' /etc/conf\.d/a\.conf$' "layer 1: /etc/conf.d/a.conf"
like ' 65536 .* /var/cache/big\.bin$' "layer 1: big.bin with its size 65536"
like '^d.* /etc/$' "layer 1: /etc/ is a directory"
like '^-rws.* /bin/tool$' "setuid file shows rws"
like '^h.* /bin/tool2 link to /bin/tool$' "hardlink shows 'link to' its target"
like '^l.* /usr/lib/libx\.so -> libx\.so\.1$' "symlink shows '->' and its target"
like '^p.* /tmp/fifo$' "fifo shows type p"
like '^drwxrwxrwt .* /tmp/$' "sticky directory shows rwt"
like '^-.* 1000/1000 .* /home/app/notes\.txt$' "owner 1000/1000 shown"
like '^-.* /etc/xattr-file$' "the file with an xattr is listed"
# layer 2: whiteouts
like ' /etc/\.wh\.hostname .*whiteout.*/etc/hostname' "'.wh.hostname' is marked as a whiteout of /etc/hostname"
like ' /etc/conf\.d/\.wh\.\.wh\.\.opq .*opaque' "'.wh..wh..opq' is marked opaque"
like ' /etc/conf\.d/\.wh\.\.wh\.\.opq .*/etc/conf\.d\]?$' "the opaque whiteout names /etc/conf.d"
like ' /var/\.wh\.cache .*whiteout.*/var/cache' "same-layer '.wh.cache' is a whiteout of /var/cache"
like ' /var/cache/fresh\.txt$' "layer 2: fresh.txt listed"
like ' /opt/new\.txt$' "layer 2: /opt/new.txt"
unlike ' /etc/conf\.d/c\.conf .*whiteout' "c.conf is no whiteout"
is "$(grep -c 'whiteout' "$TMP/out")" 3 "exactly 3 whiteout lines"
# layer 3
like ' /srv/data/x\.txt$' "layer 3: /srv/data/x.txt"
is "$(grep -c ' /etc/hostname$' "$TMP/out")" 2 "/etc/hostname in layers 1 and 3"

# ---- --layer ----
expect 0 "--files --layer 2 exits 0" oci-inspect --files --layer 2 "$TD/multi:v1"
is "$(grep -c '^layer [0-9]' "$TMP/out")" 1 "--layer 2: one header"
like "^layer 2/3 $L2" "--layer 2: it is layer 2"
unlike 'big\.bin' "--layer 2: nothing of layer 1"
unlike 'srv/data' "--layer 2: nothing of layer 3"
is "$(entries | wc -l)" 14 "--layer 2: its 14 entries"
if diff <(sed -n '/^layer 2\//,/^layer 3\//p' "$TMP/files-v1" | sed '$d') "$TMP/out" >/dev/null; then
	pass "--layer 2: the same lines as in the full listing"
else
	fail "--layer 2: the same lines as in the full listing"
fi

expect 0 "--files --layer DIGEST exits 0" oci-inspect --files --layer "$L3" "$TD/multi:v1"
like "^layer 3/3 $L3" "--layer DIGEST: that layer"
is "$(entries | wc -l)" 5 "--layer DIGEST: its 5 entries"
HEX=${L1#sha256:}
expect 0 "--files --layer HEX-PREFIX exits 0" oci-inspect --files --layer "${HEX:0:12}" "$TD/multi:v1"
like "^layer 1/3 $L1" "--layer with a hex prefix: layer 1"
is "$(grep -c '^layer [0-9]' "$TMP/out")" 1 "--layer with a hex prefix: only one layer"

expect_fail "--layer 9: exit 2" oci-inspect --files --layer 9 "$TD/multi:v1"
err_like '9' "--layer 9: names the number"
err_like '3' "--layer 9: says how many layers there are"
is "$(wc -c <"$TMP/out")" 0 "--layer 9: nothing on stdout"
expect_fail "--layer 0: exit 2" oci-inspect --files --layer 0 "$TD/multi:v1"
expect_fail "--layer with an absent digest: exit 2" oci-inspect --files --layer "sha256:$(printf 'f%.0s' $(seq 64))" "$TD/multi:v1"
expect_fail "--layer sha256: (matches all): exit 2" oci-inspect --files --layer sha256: "$TD/multi:v1"
expect_fail "--files on multi without REF: exit 2" oci-inspect --files "$TD/multi"
err_like 'v1.*v2' "--files without REF: lists the refs"

# ---- --files --json ----
expect 0 "--files --json exits 0" oci-inspect --files --json "$TD/multi:v1"
is "$(jq -s length <"$TMP/out")" 1 "--files --json: one JSON document"
jqis .manifest "$V1" "--files --json: .manifest"
jqis '.layers | length' 3 "--files --json: 3 layers"
jqis '[.layers[].layer] | join(",")' 1,2,3 "--files --json: layer numbers"
jqis '[.layers[].digest] | join(",")' "$L1,$L2,$L3" "--files --json: layer digests"
jqis '[.layers[].diffId] | join(",")' "$(awk '{ print $2 }' "$TD/expected/multi-v1.layers" | paste -sd,)" "--files --json: diffIds"
jqis '[.layers[].entries | length] | join(",")' 23,14,5 "--files --json: entry counts"
jqis '.layers[1].entries[] | select(.path == "/etc/.wh.hostname") | "\(.whiteout) \(.hides)"' "file /etc/hostname" \
	"--files --json: whiteout fields of .wh.hostname"
jqis '.layers[1].entries[] | select(.path == "/etc/conf.d/.wh..wh..opq") | "\(.whiteout) \(.hides)"' "opaque /etc/conf.d" \
	"--files --json: opaque whiteout fields"
jqis '.layers[1].entries[] | select(.path == "/var/.wh.cache") | .whiteout' file "--files --json: same-layer whiteout"
jqis '[.layers[].entries[] | select(.whiteout)] | length' 3 "--files --json: 3 whiteouts in all"
jqis '.layers[0].entries[] | select(.path == "/bin/tool2") | "\(.type) \(.linkname)"' "hardlink /bin/tool" "--files --json: hardlink"
jqis '.layers[0].entries[] | select(.path == "/usr/lib/libx.so") | "\(.type) \(.linkname)"' "symlink libx.so.1" "--files --json: symlink"
jqis '.layers[0].entries[] | select(.path == "/tmp/fifo") | .type' fifo "--files --json: fifo"
jqis '.layers[0].entries[] | select(.path == "/bin/tool") | .mode' "$((8#4755))" "--files --json: mode 04755"
jqis '.layers[0].entries[] | select(.path == "/tmp") | .mode' "$((8#1777))" "--files --json: mode 01777"
jqis '.layers[0].entries[] | select(.path == "/var/cache/big.bin") | .size' 65536 "--files --json: size"
jqis '.layers[0].entries[] | select(.path == "/home/app/notes.txt") | "\(.uid):\(.gid)"' 1000:1000 "--files --json: uid:gid"
jqis '.layers[0].entries[] | select(.path == "/etc/passwd") | .mtime' 1700000000 "--files --json: mtime"
jqis '.layers[0].entries[] | select(.path == "/etc/xattr-file") | .xattrs | keys | join(",")' user.test \
	"--files --json: the xattr's name"

expect 0 "--files --json --layer 2 exits 0" oci-inspect --files --json --layer 2 "$TD/multi:v1"
jqis '[.layers[].layer] | join(",")' 2 "--files --json --layer 2: only layer 2"

# ---- zstd, Docker media types, platforms ----
expect 0 "--files zstd:latest exits 0" oci-inspect --files "$TD/zstd:latest"
is "$(grep -c '^layer [0-9]/2 .*(tar+zstd)' "$TMP/out")" 2 "zstd: both layers listed as tar+zstd"
like ' /etc/zstd\.txt$' "zstd: layer 2's file"
if diff <(sed -n '/^layer 1\//,/^layer 2\//p' "$TMP/out" | sed '1d;$d') \
	<(sed -n '/^layer 1\//,/^layer 2\//p' "$TMP/files-v1" | sed '1d;$d') >/dev/null; then
	pass "zstd layer 1 lists the same entries as multi's gzip layer 1"
else
	fail "zstd layer 1 lists the same entries as multi's gzip layer 1"
fi

expect 0 "--files docker-mt:docker exits 0" oci-inspect --files "$TD/docker-mt:docker"
like ' /etc/docker\.txt$' "docker-mt: Docker gzip layer listed"
is "$(grep -c '^layer [0-9]' "$TMP/out")" 2 "docker-mt: 2 layers"

expect 0 "--files --platform linux/arm/v7 multiarch:latest exits 0" oci-inspect --files --platform linux/arm/v7 "$TD/multiarch:latest"
like '^-.* 13 .* /etc/arch$' "multiarch arm/v7: /etc/arch (13 bytes: 'linux/arm/v7\\n')"

# ---- untrusted names are escaped ----
mkdir -p "$TMP/names"
python3 - "$TMP/names" <<'EOF'
import gzip, hashlib, io, json, os, sys, tarfile
out = sys.argv[1]
def w(p, b):
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "wb").write(b)
def blob(b):
    h = hashlib.sha256(b).hexdigest()
    w(os.path.join(out, "blobs/sha256", h), b)
    return {"digest": "sha256:" + h, "size": len(b)}
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
    for name, typ, data in [("etc/new\nline", tarfile.REGTYPE, b"x"),
                            ("etc/esc\x1b[31mred", tarfile.REGTYPE, b"y"),
                            ("etc/lnk", tarfile.SYMTYPE, b"\x1b[2Jx"),
                            ("dev/null", tarfile.CHRTYPE, b"")]:
        ti = tarfile.TarInfo(name); ti.mtime = 1700000000; ti.type = typ
        if typ == tarfile.CHRTYPE: ti.devmajor, ti.devminor = 1, 3
        if typ == tarfile.SYMTYPE: ti.linkname = data.decode()
        if typ == tarfile.REGTYPE:
            ti.size = len(data); tf.addfile(ti, io.BytesIO(data))
        else:
            tf.addfile(ti)
t = buf.getvalue()
l = dict(blob(gzip.compress(t, mtime=0)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip")
c = dict(blob(json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                          "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(t).hexdigest()]}}).encode()),
         mediaType="application/vnd.oci.image.config.v1+json")
m = dict(blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                          "config": c, "layers": [l]}).encode()),
         mediaType="application/vnd.oci.image.manifest.v1+json",
         annotations={"org.opencontainers.image.ref.name": "t"})
w(os.path.join(out, "index.json"), json.dumps({"schemaVersion": 2, "manifests": [m]}).encode())
w(os.path.join(out, "oci-layout"), b'{"imageLayoutVersion":"1.0.0"}')
EOF
expect 0 "--files on names with control characters exits 0" oci-inspect --files "$TMP/names:t"
is "$(wc -l <"$TMP/out")" 5 "a newline in a name does not add a line (header + 4 entries)"
if grep -q $'\x1b' "$TMP/out"; then fail "no raw ESC byte from entry names or link targets on stdout"; else pass "no raw ESC byte from entry names or link targets on stdout"; fi
like ' /etc/new\\012line$' "newline shown escaped as \\012"
like '^c.* 1, +3 .* /dev/null$' "character device shows c and major, minor"
expect 0 "--files --json on names with control characters exits 0" oci-inspect --files --json "$TMP/names:t"
jqis '.layers[0].entries[0].path' $'/etc/new\nline' "--files --json keeps the exact name (JSON-escaped)"
jqis '.layers[0].entries[] | select(.type == "char") | "\(.devmajor),\(.devminor)"' 1,3 "--files --json: device numbers"

done_testing
