#!/usr/bin/env bash
# oci-runtime: every integer of config.json is read exactly from its text,
# never through a double: a seccomp mask of 0xFFFFFFFFFFFFFFFF stays that
# (the loaded filter behaves as the config says), 2^53+1 stays 2^53+1, and
# a number written with a fraction or an exponent where an integer belongs
# is refused rather than rounded.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-runtime.sh"

# ---- seccomp: the filter loaded is the one in the config ----
# kill(pid, sig) refused when sig & 0xFFFFFFFFFFFFFFFF == 0: kill -0 fails,
# kill -CONT works. Read through a double the mask becomes 0 and both fail.
# jq reads numbers as doubles: numbers go in as "@NAME@" strings, then raw
rule='.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": [{"index": 1, "value": "@V1@", "valueTwo": "@V2@", "op": "SCMP_CMP_MASKED_EQ"}]}]}'
raw() { # raw NAME TEXT: "@NAME@" in $B/config.json becomes TEXT
	sed -i "s/\"@$1@\"/$2/" "$B/config.json"
}
seccomp_bundle() { # seccomp_bundle NAME MASK VALUE [JQ]
	bundle "$1" "$rule${4:+ | $4}"
	raw V1 "$2"
	raw V2 "$3"
}
PROBE='kill -0 $$ 2>/dev/null && echo zero-ok || echo zero-blocked; kill -CONT $$ 2>/dev/null && echo cont-ok || echo cont-blocked'
seccomp_bundle s1 18446744073709551615 0
run rtc run --bundle "$B" s1 -- sh -c "$PROBE"
is "$(out | tr '\n' ' ')" "zero-blocked cont-ok " "seccomp: mask 0xFFFFFFFFFFFFFFFF kept exactly (kill -0 blocked, kill -CONT allowed)"
seccomp_bundle s2 18446744073709551615 18446744073709551615
run rtc run --bundle "$B" s2 -- sh -c "$PROBE"
is "$(out | tr '\n' ' ')" "zero-ok cont-ok " "seccomp: value 0xFFFFFFFFFFFFFFFF kept exactly (blocks neither)"
seccomp_bundle s3 18446744073709551615 0
run rtc run --bundle "$B" s3 -- sh -c 'kill -0 $$'
err_like "[Pp]ermission denied" "seccomp: errnoRet 13 is the errno returned"
for bad in -1 1.5 1e3 18446744073709551616 '"0"'; do
	seccomp_bundle sb "$bad" 0
	expect_fail "seccomp: an argument value $bad is refused" rtc run --bundle "$B" sb -- true
done
seccomp_bundle sb 1 0 '.linux.seccomp.syscalls[0].args[0].index = "@I@"'
raw I 0.5
expect_fail "seccomp: an argument index 0.5 is refused" rtc run --bundle "$B" sb -- true
seccomp_bundle sb 1 0 '.linux.seccomp.syscalls[0].errnoRet = "@E@"'
raw E 1.5
expect_fail "seccomp: errnoRet 1.5 is refused" rtc run --bundle "$B" sb -- true

# ---- rlimits: exact up to 2^64-1 ----
bundle r1 '.process.rlimits += [{"type": "RLIMIT_CORE", "soft": "@S@", "hard": "@H@"}]'
raw S 9007199254740993
raw H 18446744073709551615
run rtc run --bundle "$B" r1 -- sh -c 'grep "core file" /proc/self/limits'
like "Max core file size +9007199254740993 +unlimited" "rlimits: 2^53+1 set exactly, 2^64-1 is unlimited"

# ---- numbers with a fraction or an exponent where an integer belongs ----
bundle n1 '.process.oomScoreAdj = 100.5'
expect_fail "process.oomScoreAdj 100.5 is refused" rtc run --bundle "$B" n1 -- true
bundle n2 '.process.user.uid = "@U@"'
raw U 1000.0
expect_fail "process.user.uid 1000.0 is refused" rtc run --bundle "$B" n2 -- true
bundle n3 '.process.user.additionalGids = ["@G@"]'
raw G 1e0
expect_fail "process.user.additionalGids [1e0] is refused" rtc run --bundle "$B" n3 -- true
bundle n4 '.hooks.poststart = [{"path": "/bin/true", "timeout": "@T@"}]'
raw T 10.0
expect_fail "a hook timeout 10.0 is refused" rtc run --bundle "$B" n4 -- true
bundle n5 '.linux.uidMappings = [{"containerID": 0, "hostID": 0, "size": 4294967296}] | .linux.gidMappings = [{"containerID": 0, "hostID": 0, "size": 1}] | .linux.namespaces += [{"type": "user"}]'
expect_fail "a uid mapping size above 2^32-1 is refused" rtc run --bundle "$B" n5 -- true
bundle n6 '.process.user.uid = "@U@"'
raw U 4294967295.00000001
expect_fail "process.user.uid 4294967295.00000001 is refused (not rounded)" rtc run --bundle "$B" n6 -- true

done_testing
