#!/usr/bin/env bash
# process.apparmorProfile and process.selinuxLabel are applied for the
# process's execve (the init's and every exec's), written to its own
# /proc/thread-self/attr as runc does; on a host where that LSM is not
# enabled the container is refused in one line, exit 2, rather than run
# unconfined with a warning. "" is no label. On a host with AppArmor, the
# "unconfined" profile is checked to be the one the process runs under.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
aa=no
[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] && [ -d /sys/kernel/security/apparmor ] && aa=yes
se=no
[ -e /sys/fs/selinux/enforce ] && se=yes
diag "AppArmor enabled: $aa; SELinux enabled: $se"

bundle l0 '.process.args = ["true"] | .process.apparmorProfile = "" | .process.selinuxLabel = ""'
expect 0 "empty profile and label: no LSM asked, run" rtc run --bundle "$B" l0

bundle l1 '.process.args = ["cat", "/proc/self/attr/current"] | .process.apparmorProfile = "unconfined"'
if [ "$aa" = no ]; then
	expect_fail "an AppArmor profile on a host without AppArmor: refused" rtc run --bundle "$B" l1
	err_like 'process.apparmorProfile "unconfined": AppArmor is not enabled on this host' "... saying so"
	[ ! -e "$RT/l1" ] && pass "... and no container left" || fail "... and no container left"
else
	expect 0 "the unconfined profile: run" rtc run --bundle "$B" l1
	like "unconfined" "... and the process runs under it"
fi

bundle l2 '.process.args = ["true"] | .process.selinuxLabel = "system_u:system_r:container_t:s0"'
if [ "$se" = no ]; then
	expect_fail "an SELinux label on a host without SELinux: refused" rtc run --bundle "$B" l2
	err_like 'process.selinuxLabel "system_u:system_r:container_t:s0": SELinux is not enabled on this host' "... saying so"
else
	pass "# SKIP SELinux is enabled here: its labels need the host's policy"
	pass "# SKIP"
fi

bundle l3 '.process.args = ["true"] | .process.apparmorProfile = "a\nb"'
expect_fail "a profile with a newline: refused" rtc run --bundle "$B" l3
err_like "process.apparmorProfile: longer than 4,095 bytes or with a newline" "... saying why"

# exec: the profile of --process is checked as the init's
bundle l4 '.process.args = ["sleep", "100"]'
rtc run -d --bundle "$B" l4 >/dev/null 2>&1 || rtc create --bundle "$B" l4
rtc start l4 >/dev/null 2>&1
jq '.process | .args = ["true"] | .apparmorProfile = "unconfined"' "$B/config.json" >"$TMP/p.json"
if [ "$aa" = no ]; then
	expect_fail "exec --process with an AppArmor profile, no AppArmor: refused" rtc exec --process "$TMP/p.json" l4
	err_like "AppArmor is not enabled on this host" "... saying so"
else
	expect 0 "exec --process with the unconfined profile" rtc exec --process "$TMP/p.json" l4
	pass "... runs"
fi
# (not an LSM, but create's other refusal of a config and an option that
# disagree) a console socket that would never be sent a terminal
bundle l5 '.process.args = ["true"] | .process.terminal = false'
expect_fail "create --console-socket without process.terminal: refused" rtc create --console-socket "$TMP/nosock" --bundle "$B" l5
err_like "console-socket without process.terminal" "... saying why"
[ ! -e "$RT/l5" ] && pass "... and no container left" || fail "... and no container left"
run oci-runtime features
jq -e '.linux.apparmor.enabled == true and .linux.selinux.enabled == true' "$TMP/out" >/dev/null &&
	pass "features: AppArmor and SELinux supported" || fail "features: $(out)"
done_testing
