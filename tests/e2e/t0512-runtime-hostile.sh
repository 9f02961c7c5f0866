#!/usr/bin/env bash
# oci-runtime: hostile inputs that once broke it. A record of many distinct
# directories (a heap overflow at delete), the image's /etc/passwd a FIFO
# (run hung), a signal name RTMIN+HUGE (an integer overflow), a mount whose
# options were parsed before a later error (a leak, seen by the sanitizer
# build).
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-runtime.sh"

# ---- the record of what was made in the rootfs ----
bundle c1 '.process.args = ["sleep", "100"]'
rtc create --bundle "$B" c1
python3 - "$RT/c1/created" <<'PY'
import sys
with open(sys.argv[1], "ab") as f:
    for i in range(3000):
        f.write(b"T 1 0 no/such/dir%d\0" % i)
        f.write(b"A 2 0 no/such/dir%d\0" % i)
PY
expect 0 "delete: a record with 3000 distinct directories (no overflow)" rtc delete --force c1
is "$(err)" "" "... and nothing on stderr"
[ ! -e "$RT/c1" ] && pass "... the container is gone" || fail "... the container is gone"

# ---- the image's /etc/passwd ----
bundle p1
rm "$B/rootfs/etc/passwd"
mkfifo "$B/rootfs/etc/passwd"
run timeout -k 5 30 oci-runtime --root "$RT" run --bundle "$B" p1 -- sh -c 'echo "home=$HOME"'
is "$status" 0 "run: /etc/passwd a FIFO does not hang"
is "$(out)" "home=/" "... HOME falls back to /"
rtc delete --force p1 >/dev/null 2>&1
bundle p2
rm "$B/rootfs/etc/passwd"
ln -s /proc/self/environ "$B/rootfs/etc/passwd"
run timeout -k 5 30 oci-runtime --root "$RT" run --bundle "$B" p2 -- sh -c 'echo "home=$HOME"'
is "$(out)" "home=/" "run: /etc/passwd a symlink is not followed"

# ---- signal names ----
for s in RTMIN+99999999999999999999 RTMIN+9223372036854775807 RTMAX-9223372036854775807 \
	RTMIN+ 'RTMIN+ 3' RTMIN+31 RTMAX+1 RTMIN-1 SIG 99999999999; do
	expect_fail "kill: \"$s\" is not a signal" oci-runtime --root "$RT" kill nosuch "$s"
	err_like "not a signal" "... says so"
done
for s in RTMIN+3 RTMAX-3 RTMIN RTMAX SIGRTMIN+30 64; do
	expect_fail "kill: \"$s\" is a signal (the container is what is missing)" oci-runtime --root "$RT" kill nosuch "$s"
	err_like "does not exist" "... says so"
done

# ---- mounts refused after their options were parsed ----
bundle m1 '.mounts += [{"destination": "relative", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "size=1m"]}]'
expect_fail "a relative mount destination is refused (options freed)" rtc run --bundle "$B" m1 -- true
bundle m2 '.mounts += [{"destination": "/", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "size=1m"]}]'
expect_fail "a mount over / is refused (options freed)" rtc run --bundle "$B" m2 -- true
bundle m3 '.mounts += [{"destination": "/x", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "size=1m"], "uidMappings": []}]'
expect_fail "an id-mapped mount is refused (options freed)" rtc run --bundle "$B" m3 -- true

done_testing
