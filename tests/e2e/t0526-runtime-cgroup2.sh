#!/usr/bin/env bash
# oci-runtime on a cgroup v2 (unified) host, end to end: this script runs
# itself in a private mount namespace with cgroup2 mounted over
# /sys/fs/cgroup (on this hybrid host, the hierarchy otherwise at
# /sys/fs/cgroup/unified, with no controller enabled). run and create put
# the init in linux.cgroupsPath (absolute, relative, default), pause and
# resume go through cgroup.freeze, ps lists the pids, kill --all reaches
# an exec'd process, delete removes the cgroup; a memory or pids limit
# with no such controller is a warning naming the file not set; nothing
# is left in the hierarchy (checked after each step).
. "$(dirname "$0")/test-lib.sh"
if [ -z "${T0526_IN_NS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP oci-runtime tests need root"; exit 0; }
	grep -qw cgroup2 /proc/filesystems || { echo "1..0 # SKIP no cgroup2 file system"; exit 0; }
	command -v unshare >/dev/null || { echo "1..0 # SKIP no unshare"; exit 0; }
	T0526_IN_NS=1 exec unshare -m --propagation private bash "$0" "$@"
	echo "Bail out! unshare -m failed"; exit 1
fi
. "$(dirname "$0")/lib-runtime.sh"
PATH=$OCI_TOOLS_DIR:$PATH
CG=/sys/fs/cgroup
if ! mount -t cgroup2 none "$CG" 2>"$TMP/mount.err"; then
	echo "1..0 # SKIP cannot mount cgroup2 here: $(cat "$TMP/mount.err")"; exit 0
fi
if ! mkdir "$CG/oci-probe-$$" 2>/dev/null; then
	echo "1..0 # SKIP the cgroup2 hierarchy is not writable here"; exit 0
fi
rmdir "$CG/oci-probe-$$"
MARK=t0526-$$
left() { find "$CG" -maxdepth 6 -type d -name "*$1*" 2>/dev/null | head -n 3; }
noleft() { # noleft NAME WHAT
	local l
	l=$(left "$1")
	[ -z "$l" ] && pass "$2: nothing left in the hierarchy" || fail "$2: left $l"
}
cgof() { sed -n 's/^0:://p' "/proc/$1/cgroup"; }
is "$(stat -f -c %T "$CG")" cgroup2fs "/sys/fs/cgroup is cgroup2 in this mount namespace"

# ---- run: the init in the cgroupsPath (absolute), removed after ----
bundle r1 ".linux.cgroupsPath = \"/$MARK-run/sub\""
run rtc run --bundle "$B" r1 -- sh -c 'grep "^0::" /proc/self/cgroup'
is "$status" 0 "run with an absolute cgroupsPath: exit 0"
is "$(out)" "0::/" "run: the container sees its cgroup namespace's root"
noleft "$MARK-run" "run"

# ---- create: absolute, relative, default; ps; exec joins it ----
bundle a1 ".linux.cgroupsPath = \"/$MARK-abs\" | .process.args = [\"sh\", \"-c\", \"i=0; while :; do i=\$((i+1)); echo \$i >>/tmp/count; sleep 0.05; done\"]"
mkdir -p "$B/rootfs/tmp"
rtc create --bundle "$B" a1 >/dev/null 2>"$TMP/a1.err" || fail "create a1: $(cat "$TMP/a1.err")"
INIT=$(rtc state a1 | jq -r .pid)
is "$(cgof "$INIT")" "/$MARK-abs" "create: the init is in the absolute cgroupsPath before start"
is "$(cat "$CG/$MARK-abs/cgroup.procs" 2>/dev/null)" "$INIT" "create: cgroup.procs holds the init"
expect 0 "start a1" rtc start a1
rtc exec -d --pid-file "$TMP/x.pid" a1 -- sleep 30 || fail "exec -d into a1"
XP=$(cat "$TMP/x.pid" 2>/dev/null)
is "$(cgof "$XP")" "/$MARK-abs" "exec: the process joins the container's cgroup"
run rtc ps a1
jq -e --argjson p "$INIT" --argjson x "$XP" 'index($p) != null and index($x) != null' "$TMP/out" >/dev/null &&
	pass "ps: the init and the exec'd process" || fail "ps: $(out) (init $INIT, exec $XP)"

bundle b1 ".linux.cgroupsPath = \"$MARK-rel/x\" | .process.args = [\"sleep\", \"30\"]"
rtc create --bundle "$B" b1 >/dev/null 2>"$TMP/b1.err" || fail "create b1: $(cat "$TMP/b1.err")"
OWN=$(cgof $$)
is "$(cgof "$(rtc state b1 | jq -r .pid)")" "${OWN%/}/$MARK-rel/x" "create: a relative cgroupsPath is below our own cgroup"
expect 0 "delete b1" rtc delete --force b1
noleft "$MARK-rel" "delete of a relative path"
bundle c1 '.process.args = ["sleep", "30"]'
rtc create --bundle "$B" "$MARK-dflt" >/dev/null 2>"$TMP/c1.err" || fail "create (default path): $(cat "$TMP/c1.err")"
DP=$(cgof "$(rtc state "$MARK-dflt" | jq -r .pid)")
[[ "$DP" =~ ^${OWN%/}/oci-runtime-$MARK-dflt-[0-9a-f]{8}$ ]] && pass "create: the default path oci-runtime-ID-ROOTHASH (a --root of its own)" || fail "create: the default path: $DP"
expect 0 "delete the default-path container" rtc delete --force "$MARK-dflt"
noleft "$MARK-dflt" "delete of the default path"

# ---- one ID under two roots: two default cgroups, not one ----
bundle s1 '.process.args = ["sleep", "30"]'
B1=$B
bundle s2 '.process.args = ["sleep", "30"]'
rtc create --bundle "$B1" "$MARK-same" >/dev/null 2>&1 && rtc start "$MARK-same" || fail "create under root 1"
oci-runtime --root "$TMP/state2" create --bundle "$B" "$MARK-same" >/dev/null 2>&1 &&
	oci-runtime --root "$TMP/state2" start "$MARK-same" || fail "create under root 2"
P1=$(rtc state "$MARK-same" | jq -r .pid)
P2=$(oci-runtime --root "$TMP/state2" state "$MARK-same" | jq -r .pid)
[ "$(cgof "$P1")" != "$(cgof "$P2")" ] && pass "one ID under two roots: two cgroups" || fail "one ID under two roots: both in $(cgof "$P1")"
# root 1 made the cgroup first: its delete empties and removes what it made
expect 0 "delete --force under root 1" rtc delete --force "$MARK-same"
is "$(oci-runtime --root "$TMP/state2" state "$MARK-same" | jq -r .status)" running "one ID under two roots: the delete of one leaves the other running"
expect 0 "delete --force under root 2" oci-runtime --root "$TMP/state2" delete --force "$MARK-same"
noleft "$MARK-same" "one ID under two roots"

# ---- pause / resume: cgroup.freeze ----
count() { wc -l <"/proc/$INIT/root/tmp/count" 2>/dev/null; }
sleep 0.3
expect 0 "pause" rtc pause a1
is "$(rtc state a1 | jq -r .status)" paused "pause: status paused"
is "$(cat "$CG/$MARK-abs/cgroup.freeze")" 1 "pause: cgroup.freeze is 1"
grep -q '^frozen 1$' "$CG/$MARK-abs/cgroup.events" && pass "pause: cgroup.events says frozen" || fail "pause: $(cat "$CG/$MARK-abs/cgroup.events")"
C1=$(count)
sleep 0.5
C2=$(count)
[ -n "$C1" ] && [ "$C1" = "$C2" ] && pass "pause: no progress while frozen ($C1)" || fail "pause: no progress ($C1 -> $C2)"
expect 0 "resume" rtc resume a1
sleep 0.5
C3=$(count)
[ -n "$C3" ] && [ "$C3" -gt "$C2" ] && pass "resume: progress again ($C2 -> $C3)" || fail "resume: progress ($C2 -> $C3)"
is "$(cat "$CG/$MARK-abs/cgroup.freeze")" 0 "resume: cgroup.freeze is 0"
is "$(rtc state a1 | jq -r .status)" running "resume: status running"

# ---- events --stats: what a cgroup without controllers has ----
run rtc events --stats a1
is "$status" 0 "events --stats: exit 0"
jq -e '.type == "stats"' "$TMP/out" >/dev/null && pass "events --stats: JSON" || fail "events --stats: $(out) $(err)"

# ---- kill --all: the exec'd process too; delete removes the cgroup ----
expect 0 "kill --all a1 KILL" rtc kill --all a1 KILL
for _ in $(seq 50); do [ -d "/proc/$XP" ] || break; sleep 0.1; done
[ -d "/proc/$XP" ] && fail "kill --all: the exec'd process is killed" || pass "kill --all: the exec'd process is killed"
wait_status a1 stopped && pass "kill --all: the container is stopped" || fail "kill --all: $(rtc state a1 | jq -r .status)"
expect 0 "delete a1" rtc delete a1
noleft "$MARK-abs" "delete"

# ---- delete --force of a paused container ----
bundle f1 ".linux.cgroupsPath = \"/$MARK-frz\" | .process.args = [\"sleep\", \"30\"]"
rtc create --bundle "$B" f1 >/dev/null 2>&1 && rtc start f1 || fail "create f1"
expect 0 "pause f1" rtc pause f1
expect 0 "delete --force of a paused container" rtc delete --force f1
noleft "$MARK-frz" "delete --force of a paused container"

# ---- cgroups the container made inside its own: ps, kill --all, delete reach them ----
bundle n1 ".linux.cgroupsPath = \"/$MARK-nest\" | .mounts |= map(if .type == \"cgroup\" then .options -= [\"ro\"] else . end) | .process.args = [\"sh\", \"-c\", \"mkdir -p /sys/fs/cgroup/inner/deeper && sh -c 'echo \$\$ >/sys/fs/cgroup/inner/deeper/cgroup.procs && exec sleep 31' & sleep 32\"]"
rtc create --bundle "$B" n1 >/dev/null 2>"$TMP/n1.err" && rtc start n1 || fail "create n1: $(cat "$TMP/n1.err")"
for _ in $(seq 50); do [ -n "$(cat "$CG/$MARK-nest/inner/deeper/cgroup.procs" 2>/dev/null)" ] && break; sleep 0.1; done
NP=$(cat "$CG/$MARK-nest/inner/deeper/cgroup.procs" 2>/dev/null)
[ -n "$NP" ] && pass "the container made a cgroup of its own and moved a process there" || fail "nested cgroup: none made"
run rtc ps n1
jq -e --argjson p "${NP:-0}" 'index($p) != null' "$TMP/out" >/dev/null && pass "ps: lists a process of a cgroup the container made" || fail "ps: $(out) (nested $NP)"
expect 0 "kill --all n1 KILL" rtc kill --all n1 KILL
for _ in $(seq 50); do [ -d "/proc/$NP" ] || break; sleep 0.1; done
[ -n "$NP" ] && [ ! -d "/proc/$NP" ] && pass "kill --all: reaches a nested cgroup's process" || fail "kill --all: $NP still there"
expect 0 "delete --force n1" rtc delete --force n1
noleft "$MARK-nest" "delete of a container with cgroups of its own inside"
bundle n2 ".linux.cgroupsPath = \"/$MARK-nest2\" | .mounts |= map(if .type == \"cgroup\" then .options -= [\"ro\"] else . end) | .process.args = [\"sh\", \"-c\", \"mkdir -p /sys/fs/cgroup/inner && sh -c 'echo \$\$ >/sys/fs/cgroup/inner/cgroup.procs && exec sleep 33' & sleep 0.3\"]"
run rtc run --bundle "$B" n2
is "$status" 0 "run whose container left a process in a cgroup of its own: exit 0"
noleft "$MARK-nest2" "run with a cgroup of the container's own"
[ -z "$(pgrep -f 'sleep 33')" ] && pass "run: the process left in it is gone" || fail "run: sleep 33 still there"

# ---- limits of controllers not enabled: a warning naming the file ----
CTRLS=$(cat "$CG/cgroup.controllers")
for c in pids memory; do
	case " $CTRLS " in
	*" $c "*) pass "$c limit # SKIP $c is enabled on this host's v2"; continue ;;
	esac
	if [ $c = pids ]; then res='{"pids": {"limit": 20}}'; file=pids.max; else res='{"memory": {"limit": 67108864}}'; file=memory.max; fi
	bundle l$c ".linux.cgroupsPath = \"/$MARK-$c\" | .linux.resources = $res"
	run rtc run --bundle "$B" l$c -- true
	is "$status" 0 "$c limit, no $c controller: runs"
	err_like "warning: the $c controller is not available here: $file not set" "$c limit, no $c controller: a warning naming $file"
	noleft "$MARK-$c" "$c limit"
	run rtc -q run --bundle "$B" l$c -- true
	is "$(err)" "" "$c limit: -q silences the warning"
done

# ---- devices: the eBPF program of the v2 cgroup ----
bundle d1 ".linux.cgroupsPath = \"/$MARK-dev\" | .linux.resources = {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}, {\"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"rw\"}]}"
run rtc run --bundle "$B" d1 -- sh -c 'echo x >/dev/null && echo null-ok || echo null-denied; echo x >/dev/zero && echo zero-ok'
like 'null-denied' "devices on v2: a deny of c 1:3 blocks /dev/null"
like 'zero-ok' "devices on v2: the other default devices stay allowed"
noleft "$MARK-dev" "devices"

# ---- a failed create leaves nothing ----
bundle x1 ".linux.cgroupsPath = \"/$MARK-fail\" | .process.args = [\"/nonexistent\"]"
expect_fail "create of a missing program fails" rtc create --bundle "$B" x1
noleft "$MARK-fail" "a failed create"
noleft "$MARK" "the whole test"
done_testing
