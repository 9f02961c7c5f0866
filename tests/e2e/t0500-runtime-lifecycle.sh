#!/usr/bin/env bash
# oci-runtime: usage; spec; create/start/state/kill/delete with the state
# JSON checked; list; delete refused while running; run's exit status
# (exit N, 128+N when killed, SIGTERM forwarded); a dead init reads as
# stopped; errors as one line.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-runtime.sh"

# ---- usage ----
VERSION=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$OCI_SOURCE_DIR/meson.build" | head -n1)
expect 0 "--help exits 0" oci-runtime --help
like '^Usage: oci-runtime ' "--help prints usage on stdout"
for c in create start state kill delete list spec run; do like "^  $c" "--help lists $c"; done
expect 0 "--version exits 0" oci-runtime --version
is "$(out)" "oci-runtime $VERSION" "--version prints the name and version"
expect_fail "no command: exit 2, one line" oci-runtime
expect_fail "an unknown command: exit 2, one line" oci-runtime frob
expect_fail "an unknown option: exit 2, one line" oci-runtime --frob list
expect_fail "start without an ID: exit 2" rtc start
expect_fail "a bad ID: exit 2" rtc state '../x'
expect_fail "state of a missing container: exit 2" rtc state nothere
err_like 'nothere.*does not exist' "state of a missing container: named"
expect_fail "kill with a bad signal: exit 2" rtc kill x NOSUCH

# ---- spec ----
mkdir "$TMP/sp"
(cd "$TMP/sp" && oci-runtime spec) >"$TMP/out" 2>"$TMP/err"
is "$?" 0 "spec: exit 0"
is "$(jq -r '.ociVersion + " " + .root.path + " " + (.process.args | join(","))' "$TMP/sp/config.json")" \
	"1.0.2 rootfs sh" "spec: a runc-like default config.json in the cwd"
is "$(jq -c '[.linux.namespaces[].type] | sort' "$TMP/sp/config.json")" \
	'["cgroup","ipc","mount","network","pid","uts"]' "spec: the default namespaces"
echo keep >"$TMP/sp2"
mkdir "$TMP/sp3" && echo mine >"$TMP/sp3/config.json"
(cd "$TMP/sp3" && oci-runtime spec) >"$TMP/out" 2>"$TMP/err"
is "$?" 2 "spec: refuses to overwrite config.json"
is "$(cat "$TMP/sp3/config.json")" "mine" "spec: the existing config.json is untouched"
err_like 'config.json.*exists' "spec: says it exists"
mkdir "$TMP/sp4"
expect 0 "spec --rootless --bundle DIR: exit 0" oci-runtime spec --rootless --bundle "$TMP/sp4"
is "$(jq -c '[.linux.uidMappings[0].hostID, ([.linux.namespaces[].type] | index("user") != null)]' "$TMP/sp4/config.json")" \
	"[$(id -u),true]" "spec --rootless: a user namespace mapping the caller"

# ---- create, start, state, kill, delete ----
bundle b1 '.process.args = ["sh", "-c", "echo started; exec sleep 100"] | .annotations.note = "hello"'
rtc create --bundle "$B" --pid-file "$TMP/c1.pid" c1 >"$TMP/c1.out" 2>"$TMP/c1.err"
is "$?" 0 "create: exit 0"
is "$(cat "$TMP/c1.out")" "" "create: the process has not run yet"
run rtc state c1
is "$status" 0 "state: exit 0"
is "$(jq -r .status "$TMP/out")" created "state: created"
PID=$(jq -r .pid "$TMP/out")
is "$(cat "$TMP/c1.pid")" "$PID" "create --pid-file: the init's pid"
is "$(jq -c '[.ociVersion, .id, .bundle, .annotations.note]' "$TMP/out")" \
	"[\"1.0.2\",\"c1\",\"$B\",\"hello\"]" "state: ociVersion, id, bundle, annotations"
[ -d "/proc/$PID" ] && pass "create: the init exists" || fail "create: the init exists"
run rtc list
like "^c1 +$PID +created " "list: c1, its pid, created"
run rtc list -q
is "$(out)" "c1" "list -q: the ids"
run rtc list --format json
is "$(jq -c '[.[] | [.id, .status]]' "$TMP/out")" '[["c1","created"]]' "list --format json"
expect_fail "create of an existing ID: exit 2" rtc create --bundle "$B" c1
err_like 'already exists' "create of an existing ID: says so"
expect 0 "start: exit 0" rtc start c1
wait_status c1 running && pass "state: running after start" || fail "state: running after start"
for _ in $(seq 50); do [ -s "$TMP/c1.out" ] && break; sleep 0.1; done
is "$(cat "$TMP/c1.out")" "started" "start: the process writes to create's stdout"
expect_fail "start twice: exit 2" rtc start c1
err_like 'running, not created' "start twice: says it is running"
expect_fail "delete while running: exit 2" rtc delete c1
err_like 'running' "delete while running: says it runs"
run rtc state c1
is "$(jq -r .status "$TMP/out")" running "delete refused: still running"
expect 0 "kill c1 KILL: exit 0" rtc kill c1 KILL
wait_status c1 stopped && pass "state: stopped once the init died" || fail "state: stopped once the init died"
is "$(rtc state c1 | jq -r .pid)" 0 "state: pid 0 when stopped"
expect_fail "kill of a stopped container: exit 2" rtc kill c1
expect 0 "delete of a stopped container: exit 0" rtc delete c1
expect_fail "state after delete: exit 2" rtc state c1
is "$(ls -A "$RT")" "" "delete: the state directory is gone"

# a created container can be deleted (its init is killed)
bundle b2
rtc create --bundle "$B" c2 >/dev/null 2>&1
PID=$(rtc state c2 | jq -r .pid)
expect 0 "delete of a created container: exit 0" rtc delete c2
sleep 0.2
[ ! -d "/proc/$PID" ] || grep -q '^State:.*Z' "/proc/$PID/status" 2>/dev/null &&
	pass "delete of a created container: the init is gone" ||
	fail "delete of a created container: the init is gone"
# signals by name and number; delete --force
rtc create --bundle "$B" c3 >/dev/null 2>&1
rtc start c3
rtc kill c3 SIGKILL
wait_status c3 stopped && pass "kill SIGKILL (with SIG prefix)" || fail "kill SIGKILL (with SIG prefix)"
rtc delete c3
bundle b3 '.process.args = ["sleep", "100"]'
rtc create --bundle "$B" c4 >/dev/null 2>&1
rtc start c4
expect 0 "delete --force of a running container: exit 0" rtc delete --force c4
expect_fail "gone after delete --force" rtc state c4
rtc create --bundle "$B" c5 >/dev/null 2>&1 && rtc start c5
expect 0 "kill c5 9: exit 0" rtc kill c5 9
wait_status c5 stopped && pass "kill by number" || fail "kill by number"
rtc delete c5

# ---- run ----
bundle r1
run rtc run --bundle "$B" r1 -- sh -c 'echo out; echo err >&2; exit 3'
is "$status" 3 "run: exits with the container's status"
is "$(out)" "out" "run: the container's stdout"
is "$(err)" "err" "run: the container's stderr"
is "$(rtc list -q)" "" "run: the container is deleted afterwards"
run rtc run --bundle "$B" r1 -- true
is "$status" 0 "run -- true: exit 0"
run rtc run --bundle "$B" r1 -- sh -c 'exit 255'
is "$status" 255 "run: exit 255"
run rtc run --bundle "$B" r1 -- nosuchcmd
is "$status" 2 "run -- a missing command: exit 2"
err_like 'nosuchcmd.*not found' "run -- a missing command: named"
is "$(rtc list -q)" "" "a failed create leaves no state"
(cd "$B" && oci-runtime --root "$RT" run r1 -- sh -c 'echo from-cwd') >"$TMP/out" 2>&1
is "$(out)" "from-cwd" "run: the bundle defaults to the cwd"

# killed by a signal: 128+N
rtc run --bundle "$B" r2 -- sleep 100 >/dev/null 2>&1 &
bg=$!
wait_status r2 running
rtc kill r2 KILL
wait $bg
is "$?" 137 "run: killed by SIGKILL exits 137"
# without a pid namespace, SIGTERM's default action applies
bundle r3 'del(.linux.namespaces[] | select(.type == "pid"))'
run rtc run --bundle "$B" r3 -- sh -c 'kill -TERM $$; sleep 5'
is "$status" 143 "run: killed by SIGTERM exits 143"
# SIGTERM to the runtime is forwarded to the container
bundle r4
oci-runtime --root "$RT" run --bundle "$B" r4 -- sh -c 'trap "exit 7" TERM; touch /ready; while :; do sleep 0.1; done' \
	>/dev/null 2>&1 &
bg=$!
for _ in $(seq 50); do [ -e "$B/rootfs/ready" ] && break; sleep 0.1; done
kill -TERM $bg
wait $bg
is "$?" 7 "run: SIGTERM forwarded to the container (its trap exits 7)"
oci-runtime --root "$RT" run --bundle "$B" r4 -- sh -c 'trap "exit 9" INT; rm -f /ready; touch /ready; while :; do sleep 0.1; done' \
	>/dev/null 2>&1 &
bg=$!
sleep 0.3
for _ in $(seq 50); do [ -e "$B/rootfs/ready" ] && break; sleep 0.1; done
kill -INT $bg
wait $bg
is "$?" 9 "run: SIGINT forwarded to the container"
# --detach
bundle r5 '.process.args = ["sleep", "100"]'
expect 0 "run --detach: exit 0" rtc run --detach --bundle "$B" r5
is "$(rtc state r5 | jq -r .status)" running "run --detach: running afterwards"
rtc delete --force r5

# ---- config errors: one line, nothing left ----
bundle e1 '.process.args = []'
expect_fail "empty process.args: exit 2, one line" rtc run --bundle "$B" e1
err_like 'process.args' "empty process.args: named"
# seccomp: a filter that denies mkdir with EPERM, everything else allowed
bundle e2 '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
run rtc run --bundle "$B" e2 -- sh -c 'mkdir /nope 2>/dev/null && echo made || echo refused; echo still-running'
is "$(out | tr '\n' ' ')" "refused still-running " "seccomp: the denied syscall fails, the rest runs"
bundle e2b '.linux.seccomp = {"defaultAction": "SCMP_ACT_FROB"}'
expect_fail "seccomp: an unknown action is refused" rtc run --bundle "$B" e2b
err_like 'seccomp' "seccomp: the refusal names seccomp"
bundle e3 '.linux.resources = {"memory": {"limit": 10000000}}'
run rtc run --bundle "$B" e3 -- true
is "$status" 0 "linux.resources: a memory limit runs (t0520 checks it)"
bundle e3b '.linux.resources = {"memory": {"limit": "big"}}'
expect_fail "linux.resources: a limit that is not an integer: refused" rtc run --bundle "$B" e3b
err_like 'memory.limit' "linux.resources: the refusal names the key"
bundle e4 '.linux.namespaces += [{"type": "time"}]'
expect_fail "an unknown namespace type: refused" rtc run --bundle "$B" e4
bundle e5
echo '{"ociVersion": "1.0.2", "ociVersion": "1.0.2"}' >"$B/config.json"
expect_fail "a config.json with a duplicate key: refused" rtc run --bundle "$B" e5
expect_fail "a missing bundle: exit 2" rtc run --bundle "$TMP/nothere" e6
is "$(rtc list -q)" "" "failed creates leave no state"

done_testing
