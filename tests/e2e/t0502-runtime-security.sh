#!/usr/bin/env bash
# oci-runtime: security properties. No fd of the runtime reaches the
# container; the runtime's binary is a sealed copy no container can write;
# cwd, mount destinations and symlinks resolve inside the rootfs; /proc,
# /sys and /dev refused as symlinks; nothing propagates to the host's mount
# table; the old root is gone; default no_new_privs and no inheritable or
# ambient capabilities; users from the image only; a fresh /dev.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-runtime.sh"


# ---- file descriptors ----
bundle f1
rtc run --bundle "$B" f1 -- ls /proc/self/fd 5</etc/hostname 7>"$TMP/fd7" 9<"$TMP" >"$TMP/out" 2>"$TMP/err"
is "$(out | tr '\n' ' ')" "0 1 2 3 " "no fd of the runtime or its caller leaks (only 0-2 and ls's own)"
rtc create --bundle "$B" f2 6</etc/hostname >/dev/null 2>&1
PID=$(rtc state f2 | jq -r .pid)
is "$(ls /proc/$PID/fd | wc -l)" 5 "the waiting init holds 0-2, its socket and exec.fifo only"
[ ! -e /proc/$PID/fd/6 ] && pass "... not the caller's fd 6" || fail "... not the caller's fd 6"
is "$(for f in /proc/$PID/fd/*; do readlink "$f"; done | grep -c 'exec.fifo$')" 1 "... one of them exec.fifo (closed at exec)"

# ---- the runtime's binary ----
EXE=$(readlink "/proc/$PID/exe")
case $EXE in /memfd:oci-runtime*) pass "the init runs from a memfd copy, not the binary" ;; *) fail "the init runs from a memfd copy" "$EXE" ;; esac
sh -c "echo x >>/proc/$PID/exe" 2>/dev/null && fail "the memfd copy is not writable" || pass "the memfd copy is not writable (sealed)"
rtc delete f2
BIN=$(command -v oci-runtime)
SUM=$(sha256sum <"$BIN")
bundle f3
printf '#!/proc/self/exe\n' >"$B/rootfs/evil" && chmod 755 "$B/rootfs/evil"
run rtc run --bundle "$B" f3 -- /evil
[ "$status" -ne 0 ] && pass "a '#!/proc/self/exe' entrypoint does not run the runtime's binary" ||
	fail "a '#!/proc/self/exe' entrypoint" "exit $status"
is "$(sha256sum <"$BIN")" "$SUM" "the runtime's binary is unchanged"
run rtc run --bundle "$B" f3 -- sh -c 'echo x >>/proc/self/exe 2>/dev/null || echo refused'
is "$(out)" "refused" "/proc/self/exe is not writable from inside"

# ---- resolution inside the rootfs ----
bundle r1 '.process.cwd = "/link"'
ln -s ../../../../../../../etc "$B/rootfs/link"
run rtc run --bundle "$B" r1 -- sh -c 'pwd -P; ls'
is "$(out | tr '\n' ' ')" "/etc group passwd " "cwd through a symlink stays in the rootfs"
mkdir "$TMP/host"
bundle r2 ".mounts += [{\"destination\": \"/mnt/x\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}]"
ln -s "$TMP/host" "$B/rootfs/mnt"
mkdir -p "$B/rootfs/$TMP/host"
run rtc run --bundle "$B" r2 -- sh -c 'grep -c " /mnt/x \| '"$TMP"'/host/x " /proc/mounts'
is "$(ls -A "$TMP/host")" "" "a mount destination through an absolute symlink: the host is untouched"
[ -d "$B/rootfs/$TMP/host" ] && [ "$status" -eq 0 ] && pass "... it resolves inside the rootfs" || fail "... it resolves inside the rootfs" "exit $status $(err)"
for d in proc sys dev; do
	bundle s$d
	ln -s /tmp "$B/rootfs/$d"
	expect_fail "/$d a symlink in the rootfs: refused" rtc run --bundle "$B" s$d -- true
	err_like "/$d.*symlink" "/$d a symlink: says so"
done
bundle r3 '.linux.maskedPaths += ["/../../../../etc/hostname"] | .linux.readonlyPaths += ["/../../../tmp"]'
run rtc run --bundle "$B" r3 -- true
is "$status" 0 "masked and read-only paths with .. stay in the rootfs"
echo probe >"$TMP/probe" && is "$(cat "$TMP/probe")" probe "... the host's /tmp stays writable"

# ---- mounts: private, pivoted ----
before=$(wc -l </proc/self/mountinfo)
bundle p1 '.process.args = ["sleep", "100"]'
rtc run --detach --bundle "$B" p1
is "$(grep -c "$B" /proc/self/mountinfo)" 0 "no mount of a running container shows on the host"
rtc delete --force p1
is "$(wc -l </proc/self/mountinfo)" "$before" "the host's mount table is unchanged"
run rtc run --bundle "$B" p1 -- sh -c 'cut -d" " -f5 /proc/self/mountinfo | grep -c "oci-test"; ls /'
is "$(out | tr '\n' ' ')" "0 bin dev etc home proc sys " "pivot_root: only the rootfs, no mount point of the old root"
run rtc run --bundle "$B" p1 -- sh -c 'grep " / " /proc/self/mountinfo | grep -c shared:'
is "$(out)" "0" "the container's root mount is private"

# ---- privileges, users, /dev ----
run rtc run --bundle "$B" p1 -- sh -c 'grep -E "^(NoNewPrivs|CapInh|CapAmb)" /proc/self/status | tr -d "\t" | tr "\n" " "'
is "$(out)" "CapInh:0000000000000000 CapAmb:0000000000000000 NoNewPrivs:1 " "no_new_privs, no inheritable or ambient capabilities by default"
bundle u1 '.process.user = {"uid": 1000, "gid": 1000}'
run rtc run --bundle "$B" u1 -- sh -c 'id; echo $HOME'
is "$(out | tr '\n' ' ')" "uid=1000(u) gid=1000(u) /home/u " "user and group names from the image's files, not the host's NSS"
run rtc run --bundle "$B" p1 -- sh -c 'ls /dev/pts; ls /dev | wc -l; test -e /dev/sda || test -e /dev/vda || echo no-disks'
is "$(out | tr '\n' ' ')" "ptmx 14 no-disks " "a fresh /dev: a new devpts, the standard entries, no host disks"
run rtc run --bundle "$B" p1 -- sh -c 'cat /proc/1/environ >/dev/null 2>&1 && echo environ-ok'
is "$(out)" "environ-ok" "after exec the container's process is dumpable again (its own /proc/1 readable)"

done_testing
