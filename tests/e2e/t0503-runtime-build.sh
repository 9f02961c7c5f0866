#!/usr/bin/env bash
# oci-runtime as a build step: unpack, run a command, and the changeset is
# only the command's own (no /proc, /sys, /dev or mount point traces, the
# times of directories the runtime touched restored); then commit it.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-runtime.sh"


# a run that changes nothing leaves nothing, mtimes included
bundle b0
run rtc run --bundle "$B" s0 -- sh -c 'ls / >/dev/null'
is "$status" 0 "a run that changes nothing: exit 0"
run oci-diff "$B"
is "$status" 0 "oci-diff (with mtimes): no changes at all"
is "$(out)" "" "oci-diff: prints nothing"
for d in proc sys dev; do
	[ ! -e "$B/rootfs/$d" ] && pass "/$d made for the run is gone" || fail "/$d made for the run is gone"
done
# a created container that is deleted without running leaves nothing either
rtc create --bundle "$B" s1 >/dev/null 2>&1
[ -d "$B/rootfs/proc" ] && pass "while created, /proc exists in the rootfs" || fail "while created, /proc exists"
rtc delete s1
run oci-diff "$B"
is "$status" 0 "create then delete: no changes"
# extra mount points (deep, and a file for a file bind) are removed too
echo data >"$TMP/file"
bundle b1 ".mounts += [{\"destination\": \"/a/b/c\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}, {\"destination\": \"/etc/resolv.conf\", \"type\": \"bind\", \"source\": \"$TMP/file\", \"options\": [\"bind\", \"ro\"]}] | .process.cwd = \"/w/x\""
run rtc run --bundle "$B" s2 -- cat /etc/resolv.conf
is "$(out)" "data" "a file bind mount over a missing file"
run oci-diff "$B"
is "$status:$(out)" "0:" "deep mount points, a file mount point and the cwd: all removed"

# the build step
bundle step
run rtc run --bundle "$B" step -- sh -c 'echo hi > /new; rm /etc/group'
is "$status" 0 "the step: exit 0"
run oci-diff --ignore-mtime "$B"
is "$status" 1 "oci-diff --ignore-mtime: differences"
is "$(out | sort | tr '\n' '|')" "A /new|D /etc/group|" "oci-diff: exactly the step's own changes"
run oci-diff "$B"
is "$(out | sort | tr '\n' '|')" "A /new|C /|C /etc|D /etc/group|" "with mtimes: the step's own directories changed too, nothing else"
run oci-commit -q "$B" "$TMP/L:next"
is "$status" 0 "oci-commit of the bundle: exit 0"
run oci-inspect --files --layer 2 "$TMP/L:next"
like ' /new$' "the new layer has /new"
like '/etc/\.wh\.group ' "the new layer has the whiteout of /etc/group"
unlike '/(proc|sys|dev)/?$' "the new layer has no /proc, /sys or /dev"

# a step that fails: its status, and still no traces
bundle fail
run rtc run --bundle "$B" stepf -- sh -c 'mkdir /made; exit 4'
is "$status" 4 "a failing step: its exit status"
run oci-diff --ignore-mtime "$B"
is "$(out)" "A /made" "a failing step: only its own change"

done_testing
