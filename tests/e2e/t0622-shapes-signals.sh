#!/usr/bin/env bash
# SIGTERM, SIGINT and SIGHUP end every tool quickly with 128+N, whatever it
# is doing (walking indexes, reading a long layer, verifying, diffing,
# streaming), with no error line for what the signal interrupted and no
# partial result. The input: one 8 GiB layer of zeros (a few MiB of gzip
# members) that takes seconds to read.
. "$(dirname "$0")/test-lib.sh"
L=$TMP/big
python3 - "$L" <<'PY' || exit 1
import gzip, hashlib, json, os, sys, tarfile
out = sys.argv[1]
os.makedirs(out + "/blobs/sha256")
open(out + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
chunk = 16 << 20
zeros = gzip.compress(b"\0" * chunk, compresslevel=9, mtime=0)
per = (1 << 30) // chunk
parts = []
for i in range(8):
    ti = tarfile.TarInfo("f%d" % i); ti.size = per * chunk; ti.mtime = 0
    parts.append(gzip.compress(ti.tobuf(tarfile.PAX_FORMAT), mtime=0))
    parts.extend([zeros] * per)
parts.append(gzip.compress(b"\0" * 1024, mtime=0))
def put(data, mt):
    h = hashlib.sha256(data).hexdigest()
    open(out + "/blobs/sha256/" + h, "wb").write(data)
    return {"mediaType": mt, "digest": "sha256:" + h, "size": len(data)}
layer = put(b"".join(parts), "application/vnd.oci.image.layer.v1.tar+gzip")
# the diff_id is not the tar's: nobody reads that far here
cfg = put(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers",
          "diff_ids": ["sha256:" + "0" * 64]}}).encode(), "application/vnd.oci.image.config.v1+json")
man = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
          "config": cfg, "layers": [layer]}).encode(), "application/vnd.oci.image.manifest.v1+json")
man["annotations"] = {"org.opencontainers.image.ref.name": "big"}
json.dump({"schemaVersion": 2, "manifests": [man]}, open(out + "/index.json", "w"))
PY
mkdir -p "$TMP/empty"

# signalled SIG STATUS NAME CMD...: CMD runs 1.5 s, gets SIG, and must end with
# STATUS within 5 s of it, with nothing on stderr
signalled() {
	local sig=$1 want=$2 name=$3
	shift 3
	env --default-signal=HUP "$@" >/dev/null 2>"$TMP/err" &
	local pid=$! t0 t1 st
	sleep 1.5
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		fail "$name" "it ended before the signal (exit $?): the input is not slow enough"
		return
	fi
	t0=$(date +%s%N)
	kill -"$sig" "$pid"
	# a tool that ignores the signal is killed after 20 s
	(sleep 20 && kill -KILL "$pid" 2>/dev/null) &
	local guard=$!
	wait "$pid"
	st=$?
	t1=$(date +%s%N)
	kill "$guard" 2>/dev/null
	wait "$guard" 2>/dev/null
	local ms=$(((t1 - t0) / 1000000))
	if [ "$st" -eq "$want" ] && [ "$ms" -lt 5000 ] && [ ! -s "$TMP/err" ]; then
		pass "$name (exit $st ${ms} ms after SIG$sig)"
	else
		fail "$name" "exit $st (want $want) ${ms} ms after SIG$sig; stderr: $(head -c 200 "$TMP/err")"
	fi
}

signalled TERM 143 "verify: SIGTERM while reading a layer" oci-inspect --verify "$L"
signalled INT 130 "verify: SIGINT" oci-inspect --verify "$L"
signalled HUP 129 "verify: SIGHUP" oci-inspect --verify -q "$L"
signalled TERM 143 "unpack to a stream: SIGTERM while reading a layer" oci-unpack --rootless "$L" -
signalled INT 130 "unpack to a stream: SIGINT" oci-unpack --rootless "$L" -
signalled TERM 143 "diff of two images: SIGTERM while merging a layer" oci-diff "$L" "$L"
signalled TERM 143 "inspect --files: SIGTERM while listing" oci-inspect --files "$L"
signalled TERM 143 "inspect --files --merged: SIGTERM" oci-inspect --files --merged "$L"

# unpack into a bundle: interrupted, no bundle is left that looks complete
signalled TERM 143 "unpack to a bundle: SIGTERM" oci-unpack --rootless "$L" "$TMP/bundle"
[ ! -e "$TMP/bundle" ] && pass "... and no bundle is left" || fail "... and no bundle is left" "$(ls -la "$TMP/bundle" 2>&1 | head -5)"

# SIGHUP ignored on entry stays ignored (nohup meant it)
nohup oci-inspect --verify -q "$L" >/dev/null 2>&1 &
pid=$!
sleep 1
kill -HUP "$pid"
sleep 0.5
kill -0 "$pid" 2>/dev/null && pass "under nohup, SIGHUP is ignored" || fail "under nohup, SIGHUP is ignored"
kill -TERM "$pid" 2>/dev/null
wait "$pid"
is "$?" 143 "... and SIGTERM still ends it"

done_testing
