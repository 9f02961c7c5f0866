#!/usr/bin/env bash
# oci-unpack: atomicity (a failure or a signal leaves neither a bundle nor a
# temporary directory), signals (128+N), --progress, -q.
. "$(dirname "$0")/test-lib.sh"
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 30 | sed 's/^/#   /'; return 0; }
LIB=$OCI_SOURCE_DIR/tests/e2e/lib-layers.py
cd "$TMP" || exit 1

cat >"$TMP/bad3.json" <<'EOF'
{"layers":[["a/", "a/one=1"], ["b/", "b/two=2"], {"diff_id":"wrong","entries":["c/", "c/three=3"]}, ["d=4"]]}
EOF
cat >"$TMP/small.json" <<EOF
{"oci_archive":"$TMP/small.tar","layers":[["a/", "a/one=1"], ["b=2"], ["c=3"]]}
EOF
# a big layer: 3000 files of 16 kB (48 MB), uncompressed, between two small ones
cat >"$TMP/big.json" <<EOF
{"comp":"none","layers":[["first=1"], {"many":{"dir":"many","count":3000,"size":16000}}, ["last=3"]]}
EOF
cat >"$TMP/late.json" <<'EOF'
{"layers":[["etc/", "etc/passwd=root:x:0:0::/:/bin/sh\n", "etc/group|"]]}
EOF
python3 "$LIB" build "$TMP/bad3" "$TMP/bad3.json" "$TMP/small" "$TMP/small.json" "$TMP/big" "$TMP/big.json" "$TMP/late" "$TMP/late.json" >/dev/null ||
	{ echo "Bail out! lib-layers.py build failed"; exit 1; }

# leftovers DIR: what is in DIR besides what we put there
leftovers() { ls -A "$1" | tr '\n' ' '; }

# ---- failure at the third layer ----
mkdir "$TMP/p1"
expect_fail "bad diff_id in layer 3: exit 2, one line" oci-unpack "$TMP/bad3:t" "$TMP/p1/b"
err_like 'diff_id' "bad diff_id in layer 3: says diff_id"
is "$(leftovers "$TMP/p1")" "" "bad diff_id in layer 3: no bundle, no temporary directory"
mkdir -p "$TMP/p2/b"
expect_fail "bad diff_id in layer 3, existing empty BUNDLE: exit 2" oci-unpack "$TMP/bad3:t" "$TMP/p2/b"
is "$(leftovers "$TMP/p2")" "b " "existing empty BUNDLE: still there, nothing else"
is "$(leftovers "$TMP/p2/b")" "" "existing empty BUNDLE: still empty"
mkdir "$TMP/p3"
expect_fail "bad diff_id in layer 3, --rootfs: exit 2" oci-unpack --rootfs "$TMP/bad3:t" "$TMP/p3/r"
is "$(leftovers "$TMP/p3")" "" "--rootfs: no rootfs, no temporary directory"
mkdir "$TMP/p4"
expect_fail "bad diff_id in layer 3, from stdin: exit 2" oci-unpack - "$TMP/p4/b" <"$TMP/bad3/blobs/../index.json"
is "$(leftovers "$TMP/p4")" "" "stdin garbage: nothing left"

# ---- signals during a big unpack ----
# interrupt SIG DIR: start the unpack, wait until its temporary rootfs is being
# filled, send SIG; sets $status and $seen (the bundle name existed meanwhile)
interrupt() {
	local sig=$1 dir=$2 i
	mkdir "$dir"
	# SIGHUP default even when this test runs under nohup (a tool keeps an
	# ignored SIGHUP ignored, as nohup means)
	env --default-signal=HUP oci-unpack "$TMP/big:t" "$dir/b" 2>"$TMP/err" &
	local pid=$!
	seen=no
	for i in $(seq 500); do
		compgen -G "$dir/.b.unpack-*/rootfs/many/f0000*" >/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	[ -e "$dir/b" ] && seen=yes
	kill "-$sig" "$pid" 2>/dev/null
	{ wait "$pid"; } 2>/dev/null
	status=$?
}
for sig in INT TERM HUP; do
	n=$(kill -l "$sig")
	interrupt "$sig" "$TMP/s-$sig"
	if [ "$status" -eq 0 ]; then
		diag "SIG$sig: the unpack finished first"
	fi
	is "$status" $((128 + n)) "SIG$sig during the big layer: exit $((128 + n))"
	is "$seen" no "SIG$sig: BUNDLE did not exist while unpacking"
	is "$(leftovers "$TMP/s-$sig")" "" "SIG$sig: no bundle, no temporary directory"
	is "$(grep -c . "$TMP/err")" 0 "SIG$sig: nothing on stderr"
done

# SIGKILL cannot be cleaned up after, but the bundle must not look whole
interrupt KILL "$TMP/s-KILL"
is "$status" 137 "SIGKILL: exit 137"
if [ ! -e "$TMP/s-KILL/b" ]; then pass "SIGKILL: no BUNDLE (only a temporary name)"; else fail "SIGKILL: no BUNDLE (only a temporary name)" "$(leftovers "$TMP/s-KILL")"; fi

# timeout -s INT, as a user would: 130, or 0 when it won the race
mkdir "$TMP/s-timeout"
timeout --preserve-status -s INT 0.3 oci-unpack "$TMP/big:t" "$TMP/s-timeout/b" 2>"$TMP/err"
st=$?
if [ "$st" -eq 0 ]; then
	is "$(leftovers "$TMP/s-timeout")" "b " "timeout INT: finished first, a whole bundle"
else
	is "$st" 130 "timeout -s INT 0.3: exit 130"
	is "$(leftovers "$TMP/s-timeout")" "" "timeout -s INT: nothing left"
fi

# SIGINT while the archive is still arriving on stdin: stop, do not wait for EOF
mkfifo "$TMP/fifo"
mkdir "$TMP/s-stdin"
oci-unpack - "$TMP/s-stdin/b" <"$TMP/fifo" 2>"$TMP/err" &
pid=$!
exec 7>"$TMP/fifo"
head -c 20000 "$TMP/small.tar" >&7
sleep 0.3
kill -INT "$pid"
gone=no
for i in $(seq 30); do
	kill -0 "$pid" 2>/dev/null || { gone=yes; break; }
	sleep 0.1
done
is "$gone" yes "SIGINT while reading stdin: exits within 3 s (does not wait for the end of the input)"
exec 7>&-
wait "$pid"
is "$?" 130 "SIGINT while reading stdin: exit 130"
is "$(leftovers "$TMP/s-stdin")" "" "SIGINT while reading stdin: nothing left"

# SIGTERM after the layers, while config.json is being made: an image whose
# etc/group is a FIFO holds oci-unpack there (where it reads the user
# database), if it opens it. Then: exit 143 and nothing left; or, if it
# never waited there, exit 0 and a whole bundle. Never both a bundle and 143.
mkdir "$TMP/s-late"
oci-unpack "$TMP/late:t" "$TMP/s-late/b" 2>"$TMP/err" &
pid=$!
for i in $(seq 100); do
	compgen -G "$TMP/s-late/.b.unpack-*/rootfs/etc/group" >/dev/null && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.02
done
sleep 0.3
kill -TERM "$pid" 2>/dev/null
{ wait "$pid"; } 2>/dev/null
st=$?
left=$(leftovers "$TMP/s-late")
diag "SIGTERM after the layers: exit $st, left: $left"
if { [ "$st" -eq 143 ] && [ -z "$left" ]; } || { [ "$st" -eq 0 ] && [ "$left" = "b " ] && [ -f "$TMP/s-late/b/config.json" ]; }; then
	pass "SIGTERM after the layers: exit 143 and nothing left (or exit 0 and a whole bundle)"
else
	fail "SIGTERM after the layers: exit 143 and nothing left (or exit 0 and a whole bundle)" "exit $st, left: $left; stderr: $(err)"
fi
if [ "$st" -ne 0 ]; then
	is "$(grep -c 'unpacked' "$TMP/err")" 0 "SIGTERM after the layers: no 'unpacked' note when stopped by the signal"
fi

# the big image unpacks whole when left alone
expect 0 "big image: exit 0 when not interrupted" oci-unpack -q "$TMP/big:t" "$TMP/big-ok"
is "$(find "$TMP/big-ok/rootfs/many" -type f | wc -l)" 3000 "big image: all 3000 files"
is "$(cat "$TMP/big-ok/rootfs/last")" 3 "big image: the last layer applied"

# ---- progress ----
expect 0 "--progress: exit 0" oci-unpack --progress "$TMP/small:t" "$TMP/pr1"
err_like 'layer 1/3' "--progress: a progress line for layer 1/3 on stderr"
err_like 'layer 3/3' "--progress: and for layer 3/3"
is "$(wc -c <"$TMP/out")" 0 "--progress: nothing on stdout"
expect 0 "no --progress, stderr not a terminal: exit 0" oci-unpack "$TMP/small:t" "$TMP/pr2"
if grep -q 'layer [0-9]/' "$TMP/err"; then fail "no --progress in a pipe: no progress line" "$(err)"; else pass "no --progress in a pipe: no progress line"; fi
is "$(grep -c . "$TMP/err")" 1 "no --progress: just the one closing note"
oci-unpack "$TMP/small:t" "$TMP/pr3" 2>&1 | cat >"$TMP/piped"
if grep -q 'layer [0-9]/' "$TMP/piped"; then fail "stderr into a pipe: no progress line"; else pass "stderr into a pipe: no progress line"; fi
if command -v script >/dev/null; then
	script -qec "oci-unpack '$TMP/small:t' '$TMP/pr4'" /dev/null >"$TMP/tty" 2>&1
	if grep -q 'layer 3/3' "$TMP/tty"; then pass "stderr a terminal: progress without --progress"; else fail "stderr a terminal: progress without --progress" "$(cat -v "$TMP/tty")"; fi
fi
expect 0 "-q --progress: exit 0" oci-unpack -q --progress "$TMP/small:t" "$TMP/pr5"
is "$(wc -c <"$TMP/err")" 0 "-q --progress: nothing on stderr"

# ---- -q ----
expect 0 "-q: exit 0" oci-unpack -q "$TMP/small:t" "$TMP/q1"
is "$(wc -c <"$TMP/err")" 0 "-q: nothing on stderr"
is "$(wc -c <"$TMP/out")" 0 "-q: nothing on stdout"
expect 0 "--quiet from stdin: exit 0" oci-unpack --quiet - "$TMP/q2" <"$TMP/small.tar"
is "$(wc -c <"$TMP/err")" 0 "--quiet: nothing on stderr"
expect_fail "-q does not silence errors: exit 2, one line" oci-unpack -q "$TMP/bad3:t" "$TMP/q3"

is "$(find "$TMP" -name '.*.unpack-*' | grep -v s-KILL | head -n3)" "" "no temporary directory anywhere (but after SIGKILL)"
done_testing
