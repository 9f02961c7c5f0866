# test-lib.sh: sourced by every end-to-end test. TAP output, one temporary
# directory per test, helpers to run a tool and check status/stdout/stderr.
# Usage in a test:  . "$(dirname "$0")/test-lib.sh"; ...; done_testing
set -u
: "${OCI_BUILD_DIR:?run through meson test}"
PATH="$OCI_TOOLS_DIR:$PATH"
export LC_ALL=C
TD="$OCI_TESTDATA_DIR"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/oci-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
_n=0
_failed=0

# Make the generated test data once for all tests, under a lock.
(
	flock 9
	if [ ! -f "$TD/manifest.txt" ]; then
		python3 "$OCI_SOURCE_DIR/testdata/mkdata.py" "$TD" >/dev/null || exit 1
	fi
) 9>"$OCI_BUILD_DIR/.testdata.lock" || { echo "Bail out! cannot make test data"; exit 1; }

ok() { # ok COND-STATUS NAME
	_n=$((_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $_n - $2"; else echo "not ok $_n - $2"; _failed=$((_failed + 1)); fi
}
pass() { ok 0 "$1"; }
fail() { ok 1 "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'; return 0; }
diag() { echo "# $*"; }

# run CMD...: runs it, keeping status in $status, stdout in $TMP/out, stderr in $TMP/err
run() {
	"$@" >"$TMP/out" 2>"$TMP/err"
	status=$?
	return 0
}
out() { cat "$TMP/out"; }
err() { cat "$TMP/err"; }

# expect STATUS NAME CMD...: run and check the exit status
expect() {
	local want=$1 name=$2
	shift 2
	run "$@"
	if [ "$status" -eq "$want" ]; then
		pass "$name"
	else
		fail "$name" "exit $status, want $want; stderr: $(head -c 300 "$TMP/err")"
	fi
}

# expect_fail NAME CMD...: exit 2 and exactly one line on stderr naming the tool
expect_fail() {
	local name=$1
	shift
	run "$@"
	local lines
	lines=$(wc -l <"$TMP/err")
	if [ "$status" -eq 2 ] && [ "$lines" -eq 1 ] && grep -q '^oci-[a-z]*: ' "$TMP/err"; then
		pass "$name"
	else
		fail "$name" "exit $status, $lines stderr lines: $(head -c 300 "$TMP/err")"
	fi
}

# like PATTERN NAME: stdout of the last run matches the extended regex
like() {
	if grep -qE -- "$1" "$TMP/out"; then pass "$2"; else fail "$2" "stdout lacks /$1/"; fi
}
unlike() {
	if grep -qE -- "$1" "$TMP/out"; then fail "$2" "stdout has /$1/"; else pass "$2"; fi
}
err_like() {
	if grep -qE -- "$1" "$TMP/err"; then pass "$2"; else fail "$2" "stderr lacks /$1/: $(head -c 300 "$TMP/err")"; fi
}
# is GOT WANT NAME
is() {
	if [ "$1" = "$2" ]; then pass "$3"; else fail "$3" "got '$1', want '$2'"; fi
}

# digest_of IMAGE_LINE: the manifest digest recorded by mkdata.py (e.g. "multi:v1")
digest_of() { awk -v k="$1" '$1 == k { print $2 }' "$TD/manifest.txt"; }

done_testing() {
	echo "1..$_n"
	[ "$_failed" -eq 0 ]
}
