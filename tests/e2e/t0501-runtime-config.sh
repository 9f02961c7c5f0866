#!/usr/bin/env bash
# oci-runtime: what config.json asks for, seen from inside the container:
# hostname, env, cwd, user and groups, umask, rlimits, capabilities,
# no_new_privs, namespaces (pid, network, uts, ipc, user), mounts (proc,
# tmpfs options, bind ro), masked and read-only paths, root.readonly,
# devices, sysctl, hooks in order with the state on stdin, a terminal.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-runtime.sh"

# inside: run a command in a fresh bundle (jq filter $1), output in $TMP/out
inside() { # inside NAME JQ CMD...
	local name=$1 filter=$2
	shift 2
	bundle "$name" "$filter"
	run rtc run --bundle "$B" "$name" -- "$@"
}

# ---- rootfsPropagation shared: the root its own peer group, nothing reaches the host ----
hostmounts=$(wc -l </proc/self/mountinfo)
inside pr1 '.linux.rootfsPropagation = "shared"' cat /proc/self/mountinfo
is "$status" 0 "rootfsPropagation shared: runs"
like '^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / [^ ]+ shared:[0-9]+' "rootfsPropagation shared: the root mount is shared inside"
is "$(wc -l </proc/self/mountinfo)" "$hostmounts" "rootfsPropagation shared: no mount reached the host"

# ---- process ----
inside p1 '.hostname = "box1" | .process.env += ["FOO=bar baz"]' sh -c 'hostname; echo "$FOO"; echo "$HOME"; pwd'
is "$status" 0 "a plain run: exit 0"
is "$(out | tr '\n' '|')" "box1|bar baz|/root|/|" "hostname, env, HOME from the image's passwd, cwd /"
inside p2 '.process.cwd = "/home/u"' pwd
is "$(out)" "/home/u" "process.cwd"
inside p3 '.process.cwd = "/work/deep"' pwd
is "$(out)" "/work/deep" "a missing process.cwd is created"
run oci-diff "$B"
is "$status" 0 "... and removed again at delete (oci-diff: no changes)"
inside p4 '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [2000, 3000]}' sh -c 'id -u; id -g; id -G; echo $HOME; id -un'
is "$(out | tr '\n' '|')" "1000|1000|1000 2000 3000|/home/u|u|" "user: uid, gid, additionalGids; HOME and name from the image"
inside p5 '.process.user.umask = 63' sh -c 'umask'
is "$(out)" "0077" "user.umask"
inside p6 '.process.rlimits = [{"type": "RLIMIT_NOFILE", "hard": 200, "soft": 123}]' sh -c 'ulimit -n; ulimit -Hn'
is "$(out | tr '\n' ' ')" "123 200 " "rlimits: RLIMIT_NOFILE soft and hard"
inside p7 '.' sh -c 'grep -E "^(Cap|NoNewPrivs)" /proc/self/status'
is "$(out | tr '\n' ' ' | tr '\t' ' ')" \
	"CapInh: 0000000000000000 CapPrm: 00000000a80425fb CapEff: 00000000a80425fb CapBnd: 00000000a80425fb CapAmb: 0000000000000000 NoNewPrivs: 1 " \
	"default capabilities: runc's bounding set, no inheritable or ambient; no_new_privs"
inside p8 '.process.user = {"uid": 1000, "gid": 1000} | .process.capabilities = {"bounding": ["CAP_NET_ADMIN", "CAP_KILL"], "effective": ["CAP_NET_ADMIN"], "permitted": ["CAP_NET_ADMIN"], "inheritable": ["CAP_NET_ADMIN"], "ambient": ["CAP_NET_ADMIN"]} | .process.noNewPrivileges = false' \
	sh -c 'grep -E "^(Cap|NoNewPrivs)" /proc/self/status'
is "$(out | tr '\n' ' ' | tr '\t' ' ')" \
	"CapInh: 0000000000001000 CapPrm: 0000000000001000 CapEff: 0000000000001000 CapBnd: 0000000000001020 CapAmb: 0000000000001000 NoNewPrivs: 0 " \
	"capabilities in all five sets (a non-root user keeps the ambient one)"
inside p9 'del(.process.capabilities)' sh -c 'grep CapBnd /proc/self/status'
is "$(out | tr '\t' ' ')" "CapBnd: 0000000000000000" "no capabilities object: none at all"
bundle p10 '.process.capabilities.bounding += ["CAP_NO_SUCH"]'
expect_fail "an unknown capability: refused" rtc run --bundle "$B" p10
bundle p11 '.process.rlimits = [{"type": "RLIMIT_BOGUS", "hard": 1, "soft": 1}]'
expect_fail "an unknown rlimit: refused" rtc run --bundle "$B" p11

# ---- namespaces ----
inside n1 '.' sh -c 'echo $$; ls /sys/class/net; readlink /proc/self/ns/ipc /proc/self/ns/uts /proc/self/ns/cgroup'
is "$(out | head -n2 | tr '\n' ' ')" "1 lo " "pid namespace (pid 1) and network namespace (only lo)"
for ns in ipc uts cgroup; do
	grep -qx "$(readlink /proc/self/ns/$ns)" "$TMP/out" && fail "$ns namespace: a new one" || pass "$ns namespace: a new one"
done
inside n2 'del(.linux.namespaces[] | select(.type == "network"))' ls /sys/class/net
is "$(out | tr '\n' ' ')" "$(ls /sys/class/net | tr '\n' ' ')" "no network namespace: the host's interfaces"
inside n3 '.linux.namespaces += [{"type": "user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]' \
	sh -c 'id -u; cat /proc/self/uid_map; echo $$; stat -c %u /bin/busybox'
is "$status" 0 "user namespace: runs"
is "$(out | tr -s ' ' | tr '\n' '|')" "0| 0 100000 65536|1|65534|" "user namespace: root inside, mapped to 100000; the host's root unmapped"
inside n4 '.linux.namespaces += [{"type": "user"}]' true
is "$status" 2 "a user namespace without mappings: refused"
sleep 100 &
sl=$!
inside n5 "del(.linux.namespaces[] | select(.type == \"uts\")) | .linux.namespaces += [{\"type\": \"uts\", \"path\": \"/proc/$sl/ns/uts\"}] | del(.hostname)" hostname
is "$(out)" "$(hostname)" "joining a namespace by path (the host's uts)"
kill $sl
# a mount namespace joined by path: the container lives in it, the host's is untouched
hostmounts=$(wc -l </proc/self/mountinfo)
unshare -m --propagation private sleep 100 &
um=$!
sleep 0.2
inside n6 "del(.linux.namespaces[] | select(.type == \"mount\")) | .linux.namespaces += [{\"type\": \"mount\", \"path\": \"/proc/$um/ns/mnt\"}]" readlink /proc/self/ns/mnt
is "$status" 0 "joining a mount namespace by path: runs"
is "$(out)" "$(readlink /proc/$um/ns/mnt)" "joining a mount namespace by path: the container is in it"
is "$(wc -l </proc/self/mountinfo)" "$hostmounts" "joining a mount namespace by path: the host's mounts unchanged"
kill $um

# ---- mounts ----
mkdir -p "$TMP/share" && echo shared >"$TMP/share/f"
inside m1 ".mounts += [{\"destination\": \"/scratch/x\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"size=1m\", \"mode=1777\", \"nosuid\"]}, {\"destination\": \"/share\", \"type\": \"bind\", \"source\": \"$TMP/share\", \"options\": [\"rbind\", \"ro\"]}]" \
	sh -c 'grep -E " /(proc|scratch/x) " /proc/mounts | cut -d" " -f2-4 | cut -d, -f1-4; grep -q " /share [^ ]* ro," /proc/mounts && echo share-ro; stat -c %a /scratch/x; cat /share/f; touch /share/g && echo writable'
is "$(out | tr '\n' '|')" "/proc proc rw,relatime|/scratch/x tmpfs rw,nosuid,relatime,size=1024k|share-ro|1777|shared|" \
	"mounts: proc, tmpfs with size and mode, a read-only bind"
[ ! -e "$TMP/share/g" ] && pass "a read-only bind: not written" || fail "a read-only bind: not written"
run oci-diff "$B"
is "$status" 0 "mount points that did not exist are removed at delete"
bundle m2 '.mounts += [{"destination": "/x", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"]}]'
expect_fail "an unsupported mount option: refused" rtc run --bundle "$B" m2
inside m3 '.root.readonly = true' sh -c 'touch /x 2>/dev/null && echo writable; touch /dev/shm/y && echo shm-ok'
is "$(out)" "shm-ok" "root.readonly: / is read-only, /dev/shm is not"

# ---- masked and read-only paths ----
inside k1 '.linux.maskedPaths += ["/etc/group", "/home"] | .linux.readonlyPaths += ["/etc"]' \
	sh -c 'wc -c </proc/keys; wc -c </etc/group; ls -A /home | wc -l; touch /home/x 2>/dev/null && echo home-writable; echo 1 >/proc/sys/kernel/printk 2>/dev/null && echo sys-writable; touch /etc/x 2>/dev/null && echo etc-writable; touch /ok && echo root-writable; rm /ok'
is "$(out | tr '\n' ' ')" "0 0 0 root-writable " "masked paths empty (files and dirs), read-only paths not writable"

# ---- devices ----
inside d1 '.linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}]' \
	sh -c 'ls /dev | tr "\n" " "; echo; ls /dev/pts | tr "\n" " "; echo; stat -c "%F %t:%T %a" /dev/null /dev/fuse; readlink /dev/ptmx; readlink /dev/fd; echo x >/dev/null && echo null-ok'
is "$(out | tr '\n' '|')" "fd full fuse mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero |ptmx |character special file 1:3 666|character special file a:e5 666|pts/ptmx|/proc/self/fd|null-ok|" \
	"a fresh /dev: the standard devices, linux.devices, links, a new devpts"

# ---- sysctl ----
inside s1 '.linux.sysctl = {"net.ipv4.ip_forward": "1"}' cat /proc/sys/net/ipv4/ip_forward
is "$(out)" "1" "linux.sysctl in the container's network namespace"
bundle s2 '.linux.sysctl = {"kernel.panic": "1"}'
expect_fail "a sysctl that is not namespaced: refused" rtc run --bundle "$B" s2

# ---- hooks ----
H=$TMP/hooks.log
hook() { # hook NAME: appends "NAME STATUS PID-is-set" to $H
	printf '{"path": "/bin/sh", "args": ["sh", "-c", "s=$(cat); echo %s $(echo \\"$s\\" | jq -r .status) $(echo \\"$s\\" | jq -r .id) >>%s"]}' "$1" "$H"
}
HOOKS="{\"prestart\": [$(hook prestart)], \"createRuntime\": [$(hook createRuntime)], \"createContainer\": [$(hook createContainer)], \"startContainer\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"echo startContainer >>/hooks.log\"]}], \"poststart\": [$(hook poststart)], \"poststop\": [$(hook poststop)]}"
inside h1 ".hooks = $HOOKS" sh -c 'cat /hooks.log; rm /hooks.log'
is "$status" 0 "hooks: exit 0"
is "$(out)" "startContainer" "startContainer runs in the container, before the process"
is "$(tr '\n' '|' <"$H")" "prestart created h1|createRuntime creating h1|createContainer creating h1|poststart running h1|poststop stopped h1|" \
	"hooks: called in order, each given the state"
rm -f "$H"
bundle h2 '.hooks = {"prestart": [{"path": "/bin/false"}]}'
expect_fail "a failing prestart hook: exit 2" rtc run --bundle "$B" h2 -- true
err_like 'prestart hook' "a failing prestart hook: named"
is "$(rtc list -q)" "" "a failing prestart hook: nothing left"
bundle h3 '.hooks = {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "5"], "timeout": 1}]}'
expect_fail "a hook past its timeout: exit 2" rtc run --bundle "$B" h3 -- true
err_like 'timed out' "a hook past its timeout: says so"
bundle h4 '.hooks = {"poststop": [{"path": "/bin/false"}]}'
run rtc run --bundle "$B" h4 -- true
is "$status" 0 "a failing poststop hook: a warning only"
err_like 'warning: poststop' "a failing poststop hook: warned"

# ---- terminal ----
bundle t1 '.process.terminal = true'
rtc run --bundle "$B" t1 -- sh -c 'test -t 0 && test -t 1 && echo is-a-tty; tty' </dev/null >"$TMP/out" 2>"$TMP/err"
is "$?" 0 "terminal: exit 0"
like 'is-a-tty' "terminal: stdin and stdout are a terminal"
like '/dev/(pts/0|console)' "terminal: a pty of the container's devpts"
expect_fail "terminal with create and no --console-socket: refused" rtc create --bundle "$B" t2

done_testing
