#!/usr/bin/env bash
# Every option a tool's --help lists is accepted by the tool (with a value
# when --help shows one), and is described in its man page; an option --help
# does not list is refused, so the check can fail.
. "$(dirname "$0")/test-lib.sh"
mkdir -p "$TMP/cwd"
cd "$TMP/cwd" || exit 1
RT=$TMP/state

# opts TEXT: the options TEXT names, one per line as "OPTION[ VALUE]"
opts() {
	{
		# where a synopsis puts an option: first on a line, after two spaces,
		# "[" or ", " (not "... until --repair" in a description)
		grep -oE -- '(^ *|  |\[|, )--[A-Za-z][A-Za-z-]*( [A-Za-z0-9|/=._-]+)?' <<<"$1"
		# "-m, --message TEXT": -m takes what --message takes
		grep -oE -- '^ +-[A-Za-z](, --[a-z-]+)?( [A-Z][A-Za-z0-9|/=._-]*)?' <<<"$1" |
			sed 's/, --[a-z-]*//'
	} | sed 's/^[ ,[]*//' | sort -u
}
# value OPT ARG: a value that the option's own parser accepts, so that only
# the option's name is under test
value() {
	case $2 in
	*'|'*) echo "${2%%|*}" ;;
	OS/ARCH*) echo linux/amd64 ;;
	N | N\|*) echo 1 ;;
	T) echo 1700000000 ;;
	K=V) echo k=v ;;
	PORT*) echo 80 ;;
	ARGS) echo '["x"]' ;;
	*) echo x ;;
	esac
}
# accepted TOOL [CMD] OPT [VALUE]: not refused as unknown or as missing its value
accepted() {
	local name=$1
	shift
	run "$@"
	if grep -qE -- "(unknown option|needs an argument|unrecognized|invalid option)" "$TMP/err"; then
		fail "$name" "$(head -c 300 "$TMP/err")"
	else
		pass "$name"
	fi
}

check_tool() { # TOOL [CMD]: every option of its --help (or of CMD's usage line)
	local tool=$1 sub=${2-} help line o arg v man
	help=$("$tool" --help)
	if [ "$tool" = oci-runtime ] && [ -z "$sub" ]; then
		help=$(sed -n '/^Global options:/,/^$/p' <<<"$help")
	elif [ -n "$sub" ]; then
		help=$(awk -v s="$sub" '$1 == s && /^  [a-z]/ { on = 1; print; next }
			on && (/^  [a-z]/ || /^$/) { exit } on' <<<"$help")
	fi
	man=$(sed 's/\\-/-/g; s/\\f[BIRP]//g; s/\\(em/--/g' "$OCI_SOURCE_DIR/docs/$tool.1")
	while read -r o arg; do
		[ -n "$o" ] || continue
		case $o in --help | --version) continue ;; esac
		local pre=()
		[ "$tool" = oci-runtime ] && pre=(--root "$RT")
		# a value when --help shows one in capitals or as a|b
		if [[ -n $arg && ( $arg =~ ^[A-Z] || $arg == *'|'* ) ]]; then
			v=$(value "$o" "$arg")
			if [ -n "$sub" ]; then
				accepted "$tool $sub $o $arg: accepted" "$tool" "${pre[@]}" "$sub" "$o" "$v"
			else
				accepted "$tool $o $arg: accepted" "$tool" "${pre[@]}" "$o" "$v"
			fi
		else
			if [ -n "$sub" ]; then
				accepted "$tool $sub $o: accepted" "$tool" "${pre[@]}" "$sub" "$o"
			else
				accepted "$tool $o: accepted" "$tool" "${pre[@]}" "$o"
			fi
		fi
		if grep -qF -- "$o" <<<"$man"; then
			pass "$tool $o: in $tool(1)"
		else
			fail "$tool $o: in $tool(1)"
		fi
	done < <(opts "$help")
}

for t in oci-inspect oci-unpack oci-diff oci-commit oci-copy; do
	check_tool "$t" </dev/null
	accepted "$t --help: accepted" "$t" --help
	expect_fail "$t --no-such-option: refused" "$t" --no-such-option
	err_like 'unknown option' "$t --no-such-option: says so"
done
# oci-runtime: the global options, then each command's own
check_tool oci-runtime </dev/null
for sub in $(oci-runtime --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p'); do
	check_tool oci-runtime "$sub" </dev/null
done
[ ! -e "$TMP/cwd/config.json" ] || pass "# note: spec wrote a config.json in the scratch directory"

done_testing
