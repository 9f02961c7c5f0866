#!/usr/bin/env bash
# Every tar we write (a commit's layer, oci-diff --tar, oci-unpack IMAGE -)
# gives an entry a pax extended header only when it needs one: a name or link
# target that is not ASCII or does not fit ustar, an id out of range, xattrs.
# Never hdrcharset; GNU tar lists every one of them without a word on stderr.
. "$(dirname "$0")/test-lib.sh"
export SOURCE_DATE_EPOCH=1700000000

# paxmap TAR: one line per entry, "NAME<TAB>pax-keys" (sorted, comma-separated; "-" for none)
paxmap() {
	python3 - "$1" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
off, pending = 0, None
out = []
while off + 512 <= len(data):
    h = data[off:off + 512]
    if h == b"\0" * 512:
        break
    name = h[0:100].rstrip(b"\0")
    prefix = h[345:500].rstrip(b"\0")
    if prefix:
        name = prefix + b"/" + name
    size = int(h[124:136].rstrip(b"\0 ") or b"0", 8)
    typ = h[156:157]
    body = data[off + 512:off + 512 + size]
    off += 512 + (size + 511) // 512 * 512
    if typ in (b"x", b"g"):
        keys, recs, pname = [], body, None
        while recs:
            n = int(recs.split(b" ", 1)[0])
            rec, recs = recs[:n], recs[n:]
            k, _, v = rec.split(b" ", 1)[1].partition(b"=")
            keys.append(k.decode())
            if k == b"path":
                pname = v[:-1]
        pending = (sorted(keys), pname)
        continue
    keys = "-"
    if pending:
        keys = ",".join(pending[0])
        if pending[1] is not None:
            name = pending[1]
        pending = None
    out.append(name.decode("utf-8", "backslashreplace").rstrip("/") + "\t" + keys)
print("\n".join(out))
PY
}
# tvsilent NAME TAR: GNU tar lists it, nothing on stderr
tvsilent() {
	if tar -tvf "$2" >/dev/null 2>"$TMP/tverr" && [ ! -s "$TMP/tverr" ]; then pass "$1: tar -tvf says nothing on stderr"; else fail "$1: tar -tvf says nothing on stderr" "$(head -5 "$TMP/tverr")"; fi
}
layer_of() { # IMAGE: the last layer, uncompressed, to stdout
	local d
	d=$(oci-inspect --manifest "$1" | jq -r '.layers[-1].digest')
	local f="${1%%:*}/blobs/sha256/${d#sha256:}"
	case $(oci-inspect --manifest "$1" | jq -r '.layers[-1].mediaType') in
	*gzip) gzip -dc "$f" ;; *zstd) zstd -qdc "$f" ;; *) cat "$f" ;;
	esac
}

# ---- plain names: no entry has a pax header ----
S=$TMP/plain
mkdir -p "$S/etc/conf" "$S/usr/bin"
echo a >"$S/etc/conf/a"
echo hi >"$S/usr/bin/hi"
ln -s hi "$S/usr/bin/hello"
ln "$S/usr/bin/hi" "$S/usr/bin/hi2"
mkfifo "$S/etc/fifo"
touch -d '2023-01-01 00:00:00.123456789' "$S/etc/conf/a" # a sub-second time
expect 0 "commit of a tree with plain names" oci-commit -q "$S" "$TMP/L:plain"
layer_of "$TMP/L:plain" >"$TMP/plain.tar"
paxmap "$TMP/plain.tar" >"$TMP/plain.map"
is "$(awk -F '\t' '$2 != "-"' "$TMP/plain.map")" "" "plain names, a sub-second mtime: no entry has a pax header"
is "$(grep -c hdrcharset "$TMP/plain.tar")" 0 "no hdrcharset anywhere"
tvsilent "plain commit" "$TMP/plain.tar"

# ---- the entries that need one, and only those ----
S=$TMP/special
mkdir -p "$S/d"
long=$(printf 'n%.0s' $(seq 120))
echo l >"$S/d/$long"                                  # a component over 100 bytes
deep=$(printf 'p%.0s' $(seq 60))/$(printf 'q%.0s' $(seq 60))
mkdir -p "$S/$deep" && echo s >"$S/$deep/short"       # 128 bytes, ustar prefix+name: no header
printf 'u\n' >"$S/d/caf$(printf '\xc3\xa9')"         # UTF-8
printf 'b\n' >"$S/d/bad$(printf '\xff')"              # not UTF-8
echo x >"$S/d/xattr"
setfattr -n user.k -v v "$S/d/xattr" 2>/dev/null || diag "no user xattrs here"
echo o >"$S/d/bigid"
chown 3000000:3000001 "$S/d/bigid" 2>/dev/null || diag "cannot chown (not root)"
ln -s "$(printf 't%.0s' $(seq 150))" "$S/d/longlink"
echo p >"$S/d/plain"
expect 0 "commit of a tree with names that need pax" oci-commit -q "$S" "$TMP/L:special"
layer_of "$TMP/L:special" >"$TMP/special.tar"
paxmap "$TMP/special.tar" >"$TMP/special.map"
got() { N=$1 awk -F '\t' '$1 == ENVIRON["N"] { print $2 }' "$TMP/special.map"; }
is "$(got "d/$long")" path "a name over 100 bytes: a path record"
is "$(got "$deep/short")" - "a long name ustar can split: no header"
is "$(got "d/caf$(printf '\xc3\xa9')")" path "a UTF-8 name: a path record"
is "$(got 'd/bad\xff')" path "a name that is not UTF-8: a path record (bytes as they are, no hdrcharset)"
if getfattr -n user.k "$S/d/xattr" >/dev/null 2>&1; then
	is "$(got d/xattr)" SCHILY.xattr.user.k "an xattr: a SCHILY.xattr record"
fi
if [ "$(stat -c %u "$S/d/bigid")" = 3000000 ]; then
	is "$(got d/bigid)" gid,uid "ids over 2097151: uid and gid records"
fi
is "$(got d/longlink)" linkpath "a link target over 100 bytes: a linkpath record"
is "$(got d/plain)" - "a plain file next to them: no header"
is "$(got d)" - "their directory: no header"
is "$(grep -c hdrcharset "$TMP/special.tar")" 0 "no hdrcharset anywhere"
tvsilent "special commit" "$TMP/special.tar"
rm -rf "$TMP/u"
oci-unpack -q --rootfs "$TMP/L:special" "$TMP/u"
run oci-diff --ignore-mtime "$S" "$TMP/u"
is "$(out)" "C /" "the special names come back as they were (only the root, which layers do not carry, differs)"

# ---- the other writers: oci-diff --tar and oci-unpack IMAGE - ----
oci-unpack -q "$TD/multi:v1" "$TMP/b"
echo more >>"$TMP/b/rootfs/etc/passwd"
rm -rf "$TMP/b/rootfs/home"
printf 'n\n' >"$TMP/b/rootfs/etc/caf$(printf '\xc3\xa9')"
oci-diff -q --tar "$TMP/b" >"$TMP/diff.tar"
paxmap "$TMP/diff.tar" >"$TMP/diff.map"
is "$(awk -F '\t' '$2 != "-" { print $1 "=" $2 }' "$TMP/diff.map" | sort | tr '\n' ' ')" "etc/café=path " "oci-diff --tar: a header only for the UTF-8 name"
tvsilent "oci-diff --tar" "$TMP/diff.tar"
oci-unpack "$TD/multi:v1" - >"$TMP/export.tar" 2>/dev/null
paxmap "$TMP/export.tar" >"$TMP/export.map"
is "$(awk -F '\t' '$2 != "-" { print $1 "=" $2 }' "$TMP/export.map" | tr '\n' ' ')" "etc/xattr-file=SCHILY.xattr.user.test " \
	"oci-unpack IMAGE -: a header only for the file with an xattr"
tvsilent "oci-unpack IMAGE -" "$TMP/export.tar"
oci-commit -q --squash "$TMP/b" "$TMP/L:squash" >/dev/null
layer_of "$TMP/L:squash" >"$TMP/squash.tar"
tvsilent "squashed layer" "$TMP/squash.tar"
is "$(paxmap "$TMP/squash.tar" | awk -F '\t' '$2 != "-" { print $1 }' | tr '\n' ' ')" "etc/café etc/xattr-file " \
	"squash: headers only for the UTF-8 name and the xattr"
# the size is what ustar needs: 512 per header, data in 512-byte blocks, the end
want=$(python3 -c '
import tarfile, sys
t = tarfile.open(sys.argv[1])
n = 0
for m in t.getmembers():
    n += 512 + (m.size + 511) // 512 * 512 if m.isreg() else 512
print(n + 1024)' "$TMP/plain.tar")
is "$(stat -c %s "$TMP/plain.tar")" "$want" "the plain layer is exactly its ustar headers, data and end blocks"

done_testing
