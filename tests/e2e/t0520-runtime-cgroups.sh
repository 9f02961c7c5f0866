#!/usr/bin/env bash
# oci-runtime cgroups and exec: linux.resources written for real (memory
# OOM-kills past its limit, pids stops a fork bomb, a devices deny blocks
# /dev/null), cgroupsPath absolute and relative and refused when it
# leaves the mount, exec into a running container (pid namespace,
# hostname, mounts, cgroup, exit status), pause/resume, ps, events
# --stats, update; nothing left in any hierarchy after each.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
PATH=$OCI_TOOLS_DIR:$PATH
CG=/sys/fs/cgroup
if ! mount | grep -q ' type cgroup2\? '; then
	echo "1..0 # SKIP no cgroup file system mounted"; exit 0
fi
if ! mkdir "$CG/pids/oci-probe-$$" 2>/dev/null && ! mkdir "$CG/oci-probe-$$" 2>/dev/null; then
	echo "1..0 # SKIP the cgroup file system is not writable here"; exit 0
fi
rmdir "$CG/pids/oci-probe-$$" "$CG/oci-probe-$$" 2>/dev/null
MARK=t0520-$$
left() { find "$CG" -maxdepth 6 -type d -name "*$1*" 2>/dev/null | head -n 3; }
noleft() { # noleft NAME WHAT
	local l
	l=$(left "$1")
	[ -z "$l" ] && pass "$2: nothing left in any cgroup hierarchy" || fail "$2: left $l"
}
# the cgroup of pid in the memory (v1) or unified (v2) hierarchy
cgof() { grep -E '(^[0-9]+:memory:|^0::)' "/proc/$1/cgroup" | head -n1 | cut -d: -f3; }

# ---- memory: OOM-killed past the limit, run reports it ----
bundle m1 ".linux.cgroupsPath = \"/$MARK-mem\" | .linux.resources = {\"memory\": {\"limit\": 33554432, \"swap\": 33554432}}"
run rtc run --bundle "$B" m1 -- sh -c 'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null; x=a; while :; do x="$x$x"; done'
is "$status" 137 "memory: allocating past memory.limit is OOM-killed (run exits 137)"
noleft "$MARK-mem" "memory"

# ---- pids: a fork bomb is stopped ----
bundle p1 '.linux.cgroupsPath = "'"$MARK"'-pids" | .linux.resources = {"pids": {"limit": 12}}'
run rtc run --bundle "$B" p1 -- sh -c 'i=0; while [ $i -lt 40 ]; do sleep 1 & i=$((i+1)); done; wait; echo all-forked'
[ "$status" -ne 0 ] && pass "pids: the fork bomb fails" || fail "pids: the fork bomb fails"
err_like 'fork' "pids: a fork is refused (the limit of 12)"
noleft "$MARK-pids" "pids"

# ---- devices: deny blocks /dev/null when asked ----
bundle d1 ".linux.cgroupsPath = \"/$MARK-dev\" | .linux.resources = {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}, {\"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"rw\"}]}"
run rtc run --bundle "$B" d1 -- sh -c 'echo x >/dev/null && echo null-ok || echo null-denied; echo x >/dev/zero && echo zero-ok'
like 'null-denied' "devices: a deny of c 1:3 blocks /dev/null"
like 'zero-ok' "devices: the other default devices stay allowed"
noleft "$MARK-dev" "devices"

# ---- cgroupsPath: refused out of the mount; bad values refused ----
bundle x1 '.linux.cgroupsPath = "/a/../../etc"'
expect_fail "cgroupsPath with ..: refused" rtc run --bundle "$B" x1 -- true
err_like 'cgroupsPath' "cgroupsPath with ..: named"
bundle x2 '.linux.resources = {"pids": {"limit": 1.5}}'
expect_fail "pids.limit 1.5: refused" rtc run --bundle "$B" x2 -- true
bundle x3 '.linux.resources = {"cpu": {"cpus": "0\nfoo"}}'
expect_fail "cpu.cpus with a newline: refused" rtc run --bundle "$B" x3 -- true

# ---- a failed create leaves nothing ----
bundle f1 ".linux.cgroupsPath = \"/$MARK-fail\" | .process.args = [\"/nonexistent\"]"
expect_fail "create of a missing program fails" rtc create --bundle "$B" f1
noleft "$MARK-fail" "a failed create"

# ---- exec, ps, pause/resume, events, update ----
bundle e1 ".linux.cgroupsPath = \"/$MARK-exec\" | .hostname = \"box1\" | .process.args = [\"sh\", \"-c\", \"mkdir -p /tmp; i=0; while :; do i=\$((i+1)); echo \$i >>/tmp/count; sleep 0.05; done\"]"
rtc create --bundle "$B" e1 >/dev/null 2>"$TMP/e1.err" || fail "create e1: $(cat "$TMP/e1.err")"
expect 0 "start e1" rtc start e1
INIT=$(rtc state e1 | jq -r .pid)
sleep 0.5
run rtc exec e1 -- sh -c 'echo pid=$$; hostname; ls /tmp/marker; cat /proc/self/cgroup | grep -E "^(0::|[0-9]+:memory:)"'
is "$status" 0 "exec: exit 0"
like '^pid=[0-9]+$' "exec: runs"
like '^box1$' "exec: sees the container's hostname"
for ns in mnt uts ipc net pid cgroup; do
	is "$(rtc exec e1 -- readlink /proc/self/ns/$ns)" "$(readlink /proc/$INIT/ns/$ns)" "exec: joins the container's $ns namespace"
done
is "$(rtc exec e1 -- sh -c 'ls /proc/1/root/bin/busybox')" "/proc/1/root/bin/busybox" "exec: sees the container's root and its pid 1"
[ "$(out | sed -n 's/^pid=//p')" -lt 100 ] 2>/dev/null && pass "exec: in the container's pid namespace (small pid)" ||
	fail "exec: in the container's pid namespace: $(out | head -n1)"
for f in CapEff CapBnd NoNewPrivs Seccomp; do
	is "$(rtc exec e1 -- grep "^$f:" /proc/self/status)" "$(grep "^$f:" /proc/$INIT/status)" "exec: the init's $f"
done
run rtc exec e1 -- nosuchcmd
is "$status" 2 "exec of a missing command: exit 2"
err_like 'nosuchcmd' "exec of a missing command: named"
is "$(rtc exec --user 1000:2000 e1 -- sh -c 'id -u; id -g' | tr '\n' ' ')" "1000 2000 " "exec --user UID:GID"
expect_fail "exec --user with a name: refused" rtc exec --user root e1 -- true
echo '{"args": ["sh", "-c", "echo $X; id -u"], "cwd": "/bin", "env": ["X=fromfile"], "user": {"uid": 1000, "gid": 1000}}' >"$TMP/proc.json"
is "$(rtc exec --process "$TMP/proc.json" e1 | tr '\n' ' ')" "fromfile 1000 " "exec --process FILE"
echo '{"args": ["true"], "cwd": "/", "user": {"uid": 1.5, "gid": 0}}' >"$TMP/proc2.json"
expect_fail "exec --process with uid 1.5: refused" rtc exec --process "$TMP/proc2.json" e1
run rtc exec e1 -- sh -c 'exit 7'
is "$status" 7 "exec: the exit status is passed through"
run rtc exec --env FOO=bar --cwd /bin e1 -- sh -c 'echo $FOO $(pwd)'
is "$(out)" "bar /bin" "exec --env --cwd"
rtc exec --detach --pid-file "$TMP/x.pid" e1 -- sleep 30 3</dev/null 4</dev/null || fail "exec --detach"
XP=$(cat "$TMP/x.pid" 2>/dev/null)
is "$(ls /proc/$XP/fd 2>&1 | tr '\n' ' ')" "0 1 2 " "exec: no fd of the runtime (or its caller) in the process"
[ -n "$XP" ] && [ "$(cgof "$XP")" = "$(cgof "$INIT")" ] && pass "exec: the process is in the container's cgroup" ||
	fail "exec: in the cgroup: $XP $(cgof "$XP") vs $(cgof "$INIT")"
[ "$(readlink /proc/$XP/ns/pid)" = "$(readlink /proc/$INIT/ns/pid)" ] && pass "exec: same pid namespace as the init" ||
	fail "exec: same pid namespace as the init"
run rtc ps e1
echo "$(out)" | jq -e --argjson p "$INIT" 'index($p) != null' >/dev/null && pass "ps: lists the init" || fail "ps: $(out)"
echo "$(out)" | jq -e --argjson p "$XP" 'index($p) != null' >/dev/null && pass "ps: lists the exec'd process" || fail "ps: $(out)"
run rtc events --stats e1
jq -e '.data.pids.current >= 2 and .data.memory.usage.usage > 0' "$TMP/out" >/dev/null && pass "events --stats: pids and memory" || fail "events --stats: $(out)"
expect 0 "update --pids-limit 50" rtc update --pids-limit 50 e1
PF=$(find "$CG" -maxdepth 4 -path "*$MARK-exec*" -name pids.max | head -n1)
[ -z "$PF" ] || is "$(cat "$PF")" 50 "update: pids.max written"
expect 0 "pause" rtc pause e1
is "$(rtc state e1 | jq -r .status)" paused "pause: status paused"
C1=$(wc -l <"/proc/$INIT/root/tmp/count" 2>/dev/null)
sleep 0.5
C2=$(wc -l <"/proc/$INIT/root/tmp/count" 2>/dev/null)
[ -n "$C1" ] && [ "$C1" = "$C2" ] && pass "pause: no progress while frozen ($C1)" || fail "pause: no progress ($C1 -> $C2)"
expect 0 "resume" rtc resume e1
sleep 0.5
C3=$(wc -l <"/proc/$INIT/root/tmp/count" 2>/dev/null)
[ -n "$C3" ] && [ "$C3" -gt "$C2" ] && pass "resume: progress again ($C2 -> $C3)" || fail "resume: progress ($C2 -> $C3)"
rtc exec --detach --pid-file "$TMP/y.pid" e1 -- sleep 31 || fail "exec --detach (2)"
YP=$(cat "$TMP/y.pid")
expect 0 "kill --all e1 KILL" rtc kill --all e1 KILL
for _ in $(seq 50); do [ -d "/proc/$YP" ] || break; sleep 0.1; done
[ -d "/proc/$YP" ] && fail "kill --all: an exec'd process is killed too" || pass "kill --all: an exec'd process is killed too"
expect 0 "delete --force e1" rtc delete --force e1
[ -d "/proc/$XP" ] && fail "delete --force: the exec'd process is gone" || pass "delete --force: the exec'd process is gone"
noleft "$MARK-exec" "delete --force"

# ---- hooks: prestart sees "created" ----
bundle h1 '.hooks = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "cat >'"$TMP"'/pre.json"]}]}'
run rtc run --bundle "$B" h1 -- true
is "$(jq -r .status "$TMP/pre.json" 2>/dev/null)" created "hooks: prestart's state says created"

# ---- hooks: a failing poststart/poststop hook is a warning, the next ones run ----
bundle h2 '.hooks = {"poststart": [{"path": "/bin/false"}, {"path": "/bin/sh", "args": ["sh", "-c", "echo ps >>'"$TMP"'/post.out"]}], "poststop": [{"path": "/bin/false"}, {"path": "/bin/sh", "args": ["sh", "-c", "echo pt >>'"$TMP"'/post.out"]}]}'
run rtc run --bundle "$B" h2 -- true
is "$status" 0 "hooks: failing poststart/poststop hooks: run exits 0"
is "$(tr '\n' ' ' <"$TMP/post.out" 2>/dev/null)" "ps pt " "hooks: the hooks after a failing one run"
err_like 'warning: .*poststart hook 0' "hooks: the failing poststart hook is warned about"

# ---- rootfsPropagation unbindable ----
bundle u1 '.linux.rootfsPropagation = "unbindable"'
run rtc run --bundle "$B" u1 -- sh -c 'grep -E "^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / " /proc/self/mountinfo'
is "$status" 0 "rootfsPropagation unbindable: runs"
like 'unbindable' "rootfsPropagation unbindable: the root is unbindable"

# ---- no mount namespace: refused on purpose, with the reason ----
bundle n1 '.linux.namespaces |= map(select(.type != "mount"))'
expect_fail "no mount namespace: refused" rtc run --bundle "$B" n1 -- true
err_like "mount namespace is required.*host" "no mount namespace: the reason is given"

# ---- default path and features ----
bundle g1
run rtc run --bundle "$B" g1 -- sh -c 'grep -E "^(0::|[0-9]+:pids:)" /proc/self/cgroup'
is "$status" 0 "default cgroup: runs"
noleft "oci-runtime-g1" "the default cgroup"
run oci-runtime features
jq -e '.linux.cgroup.v1 == true' "$TMP/out" >/dev/null && pass "features: JSON" || fail "features: $(out)"
done_testing
