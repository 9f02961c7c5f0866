#!/usr/bin/env bash
# oci-runtime: the state directory is trusted only when it is ours. Without
# root and without XDG_RUNTIME_DIR the default root is /tmp/oci-runtime-UID,
# a name anyone can take first: a root (and every container directory and
# file in it) not owned by the caller, or open to others, is refused with
# one line and nothing in it (hooks above all) is used. What the runtime
# makes there is 0700/0600; state files are regular files, never followed.
. "$(dirname "$0")/test-lib.sh"
. "$(dirname "$0")/lib-runtime.sh"

# a victim uid of our own (not 65534: two builds may run this test at once)
V=$((200000 + $$ % 100000))
VROOT=/tmp/oci-runtime-$V
ATTACKER=$((V + 1))
trap 'rm -rf "$VROOT"; cleanup' EXIT
VICTIM=(env -u XDG_RUNTIME_DIR setpriv --reuid=$V --regid=$V --clear-groups --)
as_victim() { "${VICTIM[@]}" "$@"; }
BIN=$(command -v oci-runtime)

# plant ROOT ID: a stopped container whose config.json has a poststop hook
# (run at delete) and a poststart one, each touching ROOT/pwned
plant() {
	mkdir -p "$1/$2"
	printf '{"ociVersion":"1.0.2","id":"%s","status":"stopped","pid":0,"bundle":"/","rootfs":"/nonexistent","created":"2024-01-01T00:00:00Z"}' "$2" >"$1/$2/state.json"
	printf '{"ociVersion":"1.0.2","hooks":{"poststop":[{"path":"/bin/sh","args":["sh","-c","touch %s/pwned"]}]}}' "$1" >"$1/$2/config.json"
}

# ---- the predictable default root, made first by another user ----
rm -rf "$VROOT"
plant "$VROOT" x
chown -R $ATTACKER:$ATTACKER "$VROOT"
chmod 0777 "$VROOT" "$VROOT/x"
chmod 0666 "$VROOT/x/"*
run as_victim "$BIN" list
is "$(out)" "" "(the victim can run the tool)"
expect_fail "delete: a default root owned by another user is refused" as_victim "$BIN" delete x
err_like "$VROOT: not owned by" "... saying whose it is"
[ ! -e "$VROOT/pwned" ] && pass "... and the planted poststop hook never ran" || fail "... and the planted poststop hook never ran"
[ -f "$VROOT/x/state.json" ] && pass "... nothing in it was removed" || fail "... nothing in it was removed"
expect_fail "state: refused too" as_victim "$BIN" state x
expect_fail "list: refused too" as_victim "$BIN" list
expect_fail "start: refused too" as_victim "$BIN" start x
expect_fail "kill: refused too" as_victim "$BIN" kill x KILL
[ ! -e "$VROOT/pwned" ] && pass "no planted hook ran at all" || fail "no planted hook ran at all"

# ---- ours, but open to others ----
chown -R $V:$V "$VROOT"
chmod 0755 "$VROOT"
chmod 0700 "$VROOT/x"
chmod 0600 "$VROOT/x/"*
expect_fail "a root of ours readable by others is refused" as_victim "$BIN" delete x
err_like "open to others" "... saying so"
chmod 0730 "$VROOT"
expect_fail "a root of ours writable by its group is refused" as_victim "$BIN" delete x
chmod 0700 "$VROOT"
chown $ATTACKER "$VROOT/x"
expect_fail "a container directory owned by another user is refused" as_victim "$BIN" delete x
chown $V "$VROOT/x"
chmod 0777 "$VROOT/x"
expect_fail "a container directory open to others is refused" as_victim "$BIN" delete x
chmod 0700 "$VROOT/x"
chown $ATTACKER "$VROOT/x/config.json"
expect_fail "a config.json owned by another user is refused" as_victim "$BIN" delete x
chown $V "$VROOT/x/config.json"
chmod 0666 "$VROOT/x/config.json"
expect_fail "a config.json writable by others is refused" as_victim "$BIN" delete x
[ ! -e "$VROOT/pwned" ] && pass "... no hook ran in any of these" || fail "... no hook ran in any of these"
chmod 0600 "$VROOT/x/config.json"
expect 0 "all ours and private: delete works (and runs our own hook)" as_victim "$BIN" delete x
[ -e "$VROOT/pwned" ] && pass "... the hook of our own container ran" || fail "... the hook of our own container ran"
rm -f "$VROOT/pwned"

# a symlink as the root: not followed
rm -rf "$VROOT"
mkdir -m 0700 "$TMP/elsewhere" && chown $V "$TMP/elsewhere"
ln -s "$TMP/elsewhere" "$VROOT"
expect_fail "a root that is a symlink is refused" as_victim "$BIN" list
rm -f "$VROOT"

# ---- state files: regular files only, never blocking ----
plant "$VROOT" y
chown -R $V:$V "$VROOT"
chmod 0700 "$VROOT" "$VROOT/y"
chmod 0600 "$VROOT/y/"*
rm "$VROOT/y/state.json"
mkfifo -m 0600 "$VROOT/y/state.json"
chown $V "$VROOT/y/state.json"
run timeout -k 5 20 "${VICTIM[@]}" "$BIN" state y
[ "$status" -eq 2 ] && pass "state.json a FIFO: refused, not waited on" || fail "state.json a FIFO: refused, not waited on" "exit $status $(err)"
rm "$VROOT/y/state.json"
ln -s /etc/hostname "$VROOT/y/state.json"
expect_fail "state.json a symlink: refused" as_victim "$BIN" state y
rm "$VROOT/y/state.json"
printf '{"ociVersion":"1.0.2","id":"y","status":"stopped","pid":0,"bundle":"/","rootfs":"/nonexistent","created":"x"}' >"$VROOT/y/state.json"
chown $V "$VROOT/y/state.json"; chmod 0600 "$VROOT/y/state.json"
rm "$VROOT/y/config.json"
mkfifo -m 0600 "$VROOT/y/config.json"; chown $V "$VROOT/y/config.json"
mkfifo -m 0600 "$VROOT/y/created"; chown $V "$VROOT/y/created"
run timeout -k 5 20 "${VICTIM[@]}" "$BIN" delete y
[ "$status" -ne 124 ] && pass "config.json and the record FIFOs: delete does not hang" || fail "config.json and the record FIFOs: delete does not hang" "timed out"
rm -rf "$VROOT"

# ---- what the runtime makes: 0700 and 0600, whatever the umask ----
bundle b1 '.process.args = ["sleep", "100"]'
(umask 0; oci-runtime --root "$TMP/made/state" create --bundle "$B" m1)
is "$(stat -c %a "$TMP/made/state")" 700 "a new root is 0700 under umask 0"
is "$(stat -c %a "$TMP/made/state/m1")" 700 "... a container directory too"
is "$(stat -c '%a' "$TMP/made/state/m1/"* | sort -u | tr '\n' ' ')" "600 " "... its files 0600"
oci-runtime --root "$TMP/made/state" delete --force m1
chmod 0755 "$TMP/made/state"
expect_fail "root too: an existing --root open to others is refused" oci-runtime --root "$TMP/made/state" create --bundle "$B" m2
chmod 0700 "$TMP/made/state" && oci-runtime --root "$TMP/made/state" delete --force m2 >/dev/null 2>&1
mkdir -m 0700 "$TMP/theirs" && chown $ATTACKER "$TMP/theirs"
expect_fail "root too: a --root owned by another user is refused" oci-runtime --root "$TMP/theirs" list

done_testing
