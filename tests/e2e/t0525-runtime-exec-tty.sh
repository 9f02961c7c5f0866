#!/usr/bin/env bash
# oci-runtime exec --tty and --console-socket: the process gets a new pty
# of the container's own devpts (its session, its controlling terminal),
# driven here through a python3 pty as a user's terminal would; its exit
# status, stdin and signals pass through; --console-socket hands the
# master to a listener (foreground and --detach); process.terminal and
# consoleSize of a --process file; the refusals; no fd of the runtime in
# the process.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
PATH=$OCI_TOOLS_DIR:$PATH

# ptyrun [--input TEXT] [--term-after WORD] [--size ROWS COLS]
# [--resize-after WORD ROWS COLS] CMD...: CMD on a new pty (its stdin,
# stdout, stderr, controlling terminal); what it wrote on stdout, its exit
# status ours. --input is typed once CMD printed "ready"; --term-after:
# SIGTERM to CMD once WORD was printed; --size: the pty's window before
# CMD runs; --resize-after: the window changed (the kernel sends CMD
# SIGWINCH) once WORD was printed. 20 s at most.
cat >"$TMP/ptyrun.py" <<'EOF'
import fcntl, os, pty, select, signal, struct, sys, termios, time
args = sys.argv[1:]
inp = term = size = resize = None
while args and args[0].startswith("--"):
    if args[0] == "--input":
        inp = args[1].encode(); args = args[2:]
    elif args[0] == "--term-after":
        term = args[1].encode(); args = args[2:]
    elif args[0] == "--size":
        size = (int(args[1]), int(args[2])); args = args[3:]
    elif args[0] == "--resize-after":
        resize = (args[1].encode(), int(args[2]), int(args[3])); args = args[4:]
pid, fd = pty.fork()
if pid == 0:
    # the size set by the child on its own terminal before CMD runs: set by
    # the parent only, CMD could read the window first under load
    if size:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
    os.execvp(args[0], args)
def setsize(r, c):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", r, c, 0, 0))
if size:
    setsize(*size)
out = b""
end = time.time() + 20
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            b = os.read(fd, 4096)
        except OSError:
            b = b""
        if not b:
            break
        out += b
    if inp is not None and b"ready" in out:
        os.write(fd, inp); inp = None
    if term is not None and term in out:
        os.kill(pid, signal.SIGTERM); term = None
    if resize is not None and resize[0] in out:
        setsize(resize[1], resize[2]); resize = None
else:
    os.kill(pid, signal.SIGKILL)
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r\n", "\n"))
sys.exit(os.waitstatus_to_exitcode(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st))
EOF
ptyrun() { python3 "$TMP/ptyrun.py" "$@"; }

# consock PATH: listen at PATH, take one master (SCM_RIGHTS), write what
# the process writes on it to PATH.out until it ends
cat >"$TMP/consock.py" <<'EOF'
import array, os, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(1)
open(path + ".ready", "w").close()
s.settimeout(20)
c, _ = s.accept()
fds = array.array("i")
msg, anc, _, _ = c.recvmsg(64, socket.CMSG_SPACE(4))
for lvl, typ, data in anc:
    if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
        fds.frombytes(data[:4])
out = b""
if fds:
    while True:
        try:
            b = os.read(fds[0], 4096)
        except OSError:
            break
        if not b:
            break
        out += b
with open(path + ".out", "wb") as f:
    f.write(b"fd=%d msg=%s\n" % (len(fds), msg) + out.replace(b"\r\n", b"\n"))
EOF
consock() { # consock PATH: a listener in the background, ready on return
	rm -f "$1" "$1.ready" "$1.out"
	python3 "$TMP/consock.py" "$1" &
	CPID=$!
	for _ in $(seq 100); do [ -e "$1.ready" ] && return 0; sleep 0.05; done
}
consock_out() { # consock_out PATH: wait for the listener (in this shell), CO its file
	wait "$CPID" 2>/dev/null
	CO=$(cat "$1.out" 2>/dev/null)
}

ID=t0525-$$
bundle c1 '.hostname = "ttybox" | .process.args = ["sleep", "100000"]'
rtc create --bundle "$B" $ID >/dev/null 2>"$TMP/$ID.err" || fail "create $ID: $(cat "$TMP/$ID.err")"
expect 0 "start $ID" rtc start $ID

# ---- a terminal for the process, driven like a user's ----
run ptyrun oci-runtime --root "$RT" exec -t $ID -- sh -c 'tty; test -t 0 && echo stdin-tty; test -t 1 && echo stdout-tty; hostname; set -- $(cat /proc/$$/stat); [ "$6" = "$$" ] && echo session-leader; [ "$(stat -L -c %d /proc/self/fd/0)" = "$(stat -c %d /dev/pts/ptmx)" ] && echo container-devpts'
is "$status" 0 "exec -t: exit 0"
like '^/dev/pts/[0-9]+' "exec -t: tty names a pty"
like '^stdin-tty' "exec -t: stdin is a terminal"
like '^stdout-tty' "exec -t: stdout is a terminal"
like '^ttybox' "exec -t: the container's hostname"
like '^session-leader' "exec -t: the process leads its own session"
like '^container-devpts' "exec -t: the pty is of the container's devpts"
run ptyrun oci-runtime --root "$RT" exec -t $ID -- sh -c 'exit 7'
is "$status" 7 "exec -t: the exit status passes through"
run ptyrun oci-runtime --root "$RT" exec -t $ID -- sh -c 'kill -KILL $$'
is "$status" 137 "exec -t: killed by a signal: 128+N"
run ptyrun --input $'hello-in\n' oci-runtime --root "$RT" exec -t $ID -- sh -c 'echo ready; read x; echo "got=$x"'
like '^got=hello-in' "exec -t: stdin reaches the process"
is "$(grep -c 'hello-in' "$TMP/out")" 2 "exec -t: our terminal in raw mode (the input echoed once, by the container's pty, not twice)"
# the size first thing, a few times: the process must never see 0 0 (it
# runs before the copy loop starts)
sizes=""
for i in 1 2 3 4 5 6; do
	sizes="$sizes$(ptyrun --size 41 97 oci-runtime --root "$RT" exec -t $ID -- busybox stty size | tr -d '\r\n');"
done
is "$sizes" "41 97;41 97;41 97;41 97;41 97;41 97;" "exec -t: the process starts with our window's size"
run ptyrun --size 41 97 --resize-after resize-me 23 77 oci-runtime --root "$RT" exec -t $ID -- sh -c 'busybox stty size; trap "busybox stty size; exit 0" WINCH; echo resize-me; i=0; while [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; echo no-winch'
like '^41 97' "exec -t: the window size of our terminal passes on"
like '^23 77' "exec -t: a change of our window (SIGWINCH) passes on"
run ptyrun --term-after armed oci-runtime --root "$RT" exec -t $ID -- sh -c 'trap "echo got-term; exit 3" TERM; echo armed; while :; do sleep 0.1; done'
is "$status" 3 "exec -t: a SIGTERM to the runtime is forwarded (the process's own exit)"
like '^got-term' "exec -t: the process handled the forwarded SIGTERM"
# (ls -1 of the shell's fds, no pipe, not the last command: ls's own, a pipeline's or a glob's fd would show too)
run ptyrun oci-runtime --root "$RT" exec -t $ID -- sh -c 'ls -1 /proc/$$/fd; true'
is "$(grep -E '^[0-9]+$' "$TMP/out" | tr '\n' ' ')" "0 1 2 " "exec -t: no fd of the runtime in the process"
run ptyrun oci-runtime --root "$RT" exec -t --user 1000:1000 $ID -- sh -c 'stat -L -c "%u:%g" /proc/self/fd/0; echo hi >"$(tty)" && echo reopened'
like '^1000:1000' "exec -t --user: the terminal is the process's user's"
like '^reopened' "exec -t --user: the process may reopen its tty"
# without a pty of ours: still a terminal for the process
run oci-runtime --root "$RT" exec -t $ID -- sh -c 'test -t 0 && echo no-caller-tty-but-tty' </dev/null
is "$status" 0 "exec -t with stdin not a terminal: exit 0"
like 'no-caller-tty-but-tty' "exec -t with stdin not a terminal: the process has one"

# without a terminal, in the foreground: signals are forwarded too
oci-runtime --root "$RT" exec $ID -- sh -c 'trap "echo got-term; exit 3" TERM; echo armed; while :; do sleep 0.1; done' >"$TMP/fwd.out" 2>&1 &
EP=$!
for _ in $(seq 100); do grep -q armed "$TMP/fwd.out" && break; sleep 0.05; done
kill -TERM $EP
wait $EP
is "$?" 3 "exec without a terminal: a SIGTERM to the runtime is forwarded (the process's own exit)"
grep -q '^got-term' "$TMP/fwd.out" && pass "exec without a terminal: the process handled it" || fail "exec without a terminal: $(cat "$TMP/fwd.out")"

# ---- --console-socket: the master goes to the listener ----
S=$TMP/con.sock
consock "$S"
run rtc exec -t --console-socket "$S" $ID -- sh -c 'echo via-socket; test -t 1 && echo is-tty; exit 5'
is "$status" 5 "exec --console-socket: waits, the exit status passes through"
is "$(out)" "" "exec --console-socket: nothing on our stdout"
consock_out "$S"
grep -q '^fd=1 ' <<<"$CO" && pass "exec --console-socket: one fd received" || fail "exec --console-socket: $CO"
grep -q '^via-socket' <<<"$CO" && grep -q '^is-tty' <<<"$CO" && pass "exec --console-socket: the process writes on the master" ||
	fail "exec --console-socket: output $CO"
consock "$S"
run rtc exec -d -t --console-socket "$S" --pid-file "$TMP/d.pid" $ID -- sh -c 'echo detached-out; sleep 0.5; echo later'
is "$status" 0 "exec --detach --console-socket: exit 0 at once"
[ -s "$TMP/d.pid" ] && pass "exec --detach --console-socket: pid file" || fail "exec --detach --console-socket: pid file"
consock_out "$S"
grep -q '^later' <<<"$CO" && pass "exec --detach --console-socket: the process runs on" || fail "exec --detach: $CO"
echo '{"terminal": true, "consoleSize": {"height": 31, "width": 101}, "args": ["sh", "-c", "busybox stty size; ls -1 /proc/$$/fd; true"], "cwd": "/", "user": {"uid": 0, "gid": 0}}' >"$TMP/tproc.json"
consock "$S"
run rtc exec --process "$TMP/tproc.json" --console-socket "$S" $ID
is "$status" 0 "exec --process with terminal: exit 0"
consock_out "$S"
grep -q '^31 101' <<<"$CO" && pass "exec --process: consoleSize sets the window" || fail "exec --process consoleSize: $CO"
[ "$(grep -E '^[0-9]+$' <<<"$CO" | tr '\n' ' ')" = "0 1 2 " ] && pass "exec --console-socket: no fd of the runtime in the process" || fail "exec --console-socket fds: $CO"

# ---- the init's terminal (run in the foreground) is its user's too ----
bundle u1 '.process.terminal = true | .process.user = {"uid": 1000, "gid": 1000} | .process.args = ["sh", "-c", "stat -L -c %u:%g /proc/self/fd/0; echo hi >/dev/console && echo reopened; busybox stty size"]'
run ptyrun --size 37 91 oci-runtime --root "$RT" run --bundle "$B" "$ID-u1"
is "$status" 0 "run with process.terminal and a user: exit 0"
like '^1000:1000' "run with process.terminal: the terminal is the process's user's"
like '^reopened' "run with process.terminal: the process may reopen /dev/console"
like '^37 91' "run with process.terminal: the window of our terminal, from the start"

# ---- a container in a user namespace: the pty is made and given inside it ----
bundle n1 '.linux.namespaces += [{"type": "user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] | .process.args = ["sleep", "100000"]'
rtc create --bundle "$B" "$ID-n1" >/dev/null 2>"$TMP/n1.err" && rtc start "$ID-n1" || fail "create in a user namespace: $(cat "$TMP/n1.err")"
run ptyrun oci-runtime --root "$RT" exec -t --user 1000:1000 "$ID-n1" -- sh -c 'test -t 0 && echo userns-tty; stat -L -c "%u:%g" /proc/self/fd/0; cat /proc/self/uid_map'
is "$status" 0 "exec -t into a container in a user namespace: exit 0"
like '^userns-tty' "exec -t in a user namespace: a terminal"
like '^1000:1000' "exec -t in a user namespace: given to the process's user (mapped)"
like '^ *0 +100000 +65536' "exec -t in a user namespace: the process is in it"
expect 0 "delete the user-namespace container" rtc delete --force "$ID-n1"

# ---- refusals ----
expect_fail "exec --detach -t without --console-socket: refused" rtc exec -d -t $ID -- true
err_like 'console-socket' "exec --detach -t: the line names --console-socket"
expect_fail "exec --console-socket without a terminal: refused" rtc exec --console-socket "$S" $ID -- true
rm -f "$TMP/nosock"
expect_fail "exec --console-socket to nothing: refused" rtc exec -t --console-socket "$TMP/nosock" $ID -- sleep 30
for _ in $(seq 20); do [ "$(rtc ps $ID | jq length)" = 1 ] && break; sleep 0.1; done
PS=$(rtc ps $ID)
is "$(jq length <<<"$PS")" 1 "exec: a process whose terminal found no listener is not left running: $(for p in $(jq '.[]' <<<"$PS"); do tr '\0' ' ' </proc/$p/cmdline; echo -n '; '; done)"
# the container's /dev/ptmx replaced by a regular file: refused, not used
INIT=$(rtc state $ID | jq -r .pid)
run rtc exec $ID -- sh -c 'rm -f /dev/ptmx && touch /dev/ptmx'
expect_fail "exec -t with /dev/ptmx a regular file: refused" rtc exec -d -t --console-socket "$S" $ID -- true
err_like 'ptmx' "exec -t with a bad /dev/ptmx: named"
expect 0 "delete --force $ID" rtc delete --force $ID
done_testing
