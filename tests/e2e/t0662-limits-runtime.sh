#!/usr/bin/env bash
# oci-runtime's documented integer ranges (docs/security.md "integers in
# config.json", "signal names"), each exactly at its bound (the container
# runs) and one past it (refused, one line, exit 2).
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
raw() { # raw NAME TEXT: "@NAME@" in $B/config.json becomes TEXT
	sed -i "s/\"@$1@\"/$2/" "$B/config.json"
}

# oomScoreAdj -1000..1000 (lowering it needs CAP_SYS_RESOURCE: only the
# upper bound is run here)
for v in 1000; do
	bundle o '.process.oomScoreAdj = "@V@"' && raw V "$v"
	expect 0 "oomScoreAdj $v: runs" rtc run --bundle "$B" o -- cat /proc/self/oom_score_adj
	is "$(cat "$TMP/out")" "$v" "... with oom_score_adj $v"
done
for v in 1001 -1001; do
	bundle o '.process.oomScoreAdj = "@V@"' && raw V "$v"
	expect_fail "oomScoreAdj $v: refused" rtc run --bundle "$B" o -- true
done

# umask 0..0777
bundle u '.process.user.umask = 511'
expect 0 "umask 0777: runs" rtc run --bundle "$B" u -- sh -c umask
is "$(cat "$TMP/out")" 0777 "... with umask 0777"
bundle u '.process.user.umask = 512'
expect_fail "umask 01000: refused" rtc run --bundle "$B" u -- true

# hook timeout 1..31536000 s
for v in 1 31536000; do
	bundle h '.hooks.poststart = [{"path": "/bin/true", "timeout": "@T@"}]' && raw T "$v"
	expect 0 "hook timeout $v: runs" rtc run --bundle "$B" h -- true
done
for v in 0 31536001; do
	bundle h '.hooks.poststart = [{"path": "/bin/true", "timeout": "@T@"}]' && raw T "$v"
	expect_fail "hook timeout $v: refused" rtc run --bundle "$B" h -- true
done

# seccomp: argument index 0..5, errnoRet 0..4094 (4095 was documented and
# parsed, then refused by libseccomp with a bare EINVAL)
sc() { # sc INDEX ERRNO (a rule on mmap, which has six arguments)
	bundle s '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mmap"], "action": "SCMP_ACT_ERRNO", "errnoRet": "@E@", "args": [{"index": "@I@", "value": 1, "op": "SCMP_CMP_EQ"}]}]}'
	raw I "$1"
	raw E "$2"
}
sc 5 1
expect 0 "seccomp index 5: runs" rtc run --bundle "$B" s -- true
sc 0 4094
expect 0 "seccomp errnoRet 4094: runs" rtc run --bundle "$B" s -- true
sc 6 1
expect_fail "seccomp index 6: refused" rtc run --bundle "$B" s -- true
sc 0 4095
expect_fail "seccomp errnoRet 4095: refused" rtc run --bundle "$B" s -- true
err_like "errnoRet: not an integer in 0..4094" "... saying the range"

# signal numbers 1..SIGRTMAX (64 here), at most three digits (064 is 64); t0512 has the
# names (RTMIN+30 at, RTMIN+31 and RTMAX+1 past) and 64
for n in 1 64 064; do
	expect_fail "kill: $n is a signal (the container is what is missing)" rtc kill nosuch "$n"
	err_like "does not exist" "... says so"
done
for n in 0 65 0064; do
	expect_fail "kill: $n is not a signal" rtc kill nosuch "$n"
	err_like "not a signal" "... says so"
done

done_testing
