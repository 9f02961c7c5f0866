#!/usr/bin/env bash
# What `meson install` puts where: the tools, the library and its headers, a
# pkg-config file that builds a program against them, man pages, and a bash
# completion for every tool that completes options, option values and the
# refs of a layout or archive after "IMAGE:" (tried with compgen).
. "$(dirname "$0")/test-lib.sh"
I=$TMP/inst
run meson install -C "$OCI_BUILD_DIR" --no-rebuild --destdir "$I"
is "$status" 0 "meson install --destdir: exit 0" || { err | head -5 | sed 's/^/# /'; }
P=$(find "$I" -path '*/bin/oci-inspect' | sed 's|/bin/oci-inspect$||')
[ -n "$P" ] && pass "the tools land in PREFIX/bin" || fail "the tools land in PREFIX/bin"
TOOLS="oci-commit oci-diff oci-inspect oci-runtime oci-unpack"
for t in $TOOLS oci-copy; do
	[ -x "$P/bin/$t" ] && pass "$t installed" || fail "$t installed"
	[ -f "$P/share/man/man1/$t.1" ] && pass "$t.1 installed" || fail "$t.1 installed"
	[ -f "$P/share/bash-completion/completions/$t" ] && pass "$t: a bash completion installed" ||
		fail "$t: a bash completion installed"
done
[ -f "$P/include/oci/oci.h" ] && pass "the headers land in PREFIX/include/oci" || fail "the headers land in PREFIX/include/oci"
pc=$(find "$I" -name libimage.pc)
[ -n "$pc" ] && pass "libimage.pc installed" || fail "libimage.pc installed"

# a program built with nothing but pkg-config's answer
if command -v pkg-config >/dev/null && command -v cc >/dev/null; then
	export PKG_CONFIG_PATH=$(dirname "$pc")
	flags=$(pkg-config --define-variable=prefix="$P" --cflags --libs libimage)
	is "$?" 0 "pkg-config --cflags --libs libimage: exit 0"
	cat >"$TMP/p.c" <<'C'
#include <stdio.h>
#include <oci/oci.h>
int main(int argc, char **argv)
{
	struct oci_error *err = NULL;
	int bad = oci_ref_name_check(argv[1], &err);
	printf("%s\n", bad ? err->msg : "ok");
	oci_error_free(err);
	return argc > 1 && bad ? 1 : 0;
}
C
	libdir=$(pkg-config --define-variable=prefix="$P" --variable=libdir libimage)
	# shellcheck disable=SC2086
	# a sanitized build's library needs its runtime in the program too
	san=$(meson introspect "$OCI_BUILD_DIR" --buildoptions 2>/dev/null |
		jq -r '.[] | select(.name == "b_sanitize") | .value' 2>/dev/null)
	sanflag=()
	[ -n "$san" ] && [ "$san" != none ] && sanflag=(-fsanitize="$san")
	run cc "${sanflag[@]}" -o "$TMP/p" "$TMP/p.c" $flags -Wl,-rpath,"$libdir"
	is "$status" 0 "a program builds against the installed headers and library" || err | head -5 | sed 's/^/# /'
	run "$TMP/p" v1.0
	is "$status:$(out)" "0:ok" "... and runs with the installed library"
	run "$TMP/p" 'no good'
	like 'not a ref the image-spec allows' "... and calls into it"
else
	pass "# SKIP no pkg-config or cc"
fi

# ---- the completion, as bash runs it ----
cd "$TMP" || exit 1
cp -r "$TD/multi" L
cp "$TD/docker-save.tar" save.tar
PATH=$P/bin:$PATH
export LD_LIBRARY_PATH=$(dirname "$pc")/..:${LD_LIBRARY_PATH-}
comp() { # TOOL WORDS...: the completions of the last word, by TOOL's installed completion
	local f=$P/share/bash-completion/completions/$1
	shift
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_WORDBREAKS=" "
		f=$(complete -p "$1" | sed "s/.*-F \([^ ]*\) .*/\1/"); $f
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"' _ "$f" "$@" |
		sort | tr '\n' ' '
}
for t in $TOOLS; do
	bash -n "$P/share/bash-completion/completions/$t" && pass "$t: the completion parses" || fail "$t: the completion parses"
	all=$(comp "$t" "$t" --)
	[[ " $all " == *" --help "* && " $all " == *" --version "* ]] && pass "$t --: --help and --version offered" ||
		fail "$t --: --help and --version offered" "got: $all"
done
is "$(comp oci-inspect oci-inspect --ref)" "--refs " "oci-inspect --ref<TAB>: --refs"
is "$(comp oci-inspect oci-inspect --m)" "--manifest --max-wasted-bytes --max-wasted-percent --merged --min-efficiency " "oci-inspect --m<TAB>: every --m option"
is "$(comp oci-commit oci-commit --keep)" "--keep-record " "oci-commit --keep<TAB>: --keep-record"
is "$(comp oci-diff oci-diff --compress '')" "gzip none zstd " "oci-diff --compress <TAB>: its values"
is "$(comp oci-commit oci-commit --compression z)" "zstd " "oci-commit --compression z<TAB>"
is "$(comp oci-unpack oci-unpack --platform linux/arm64)" "linux/arm64 linux/arm64/v8 " "--platform: platforms"
is "$(comp oci-inspect oci-inspect L:)" "L:v1 L:v2 " "oci-inspect L:<TAB>: the layout's refs"
is "$(comp oci-unpack oci-unpack L:v)" "L:v1 L:v2 " "oci-unpack L:v<TAB>: refs by prefix"
is "$(comp oci-commit oci-commit --from L:v2)" "L:v2 " "oci-commit --from L:v2<TAB>: a ref as an option's value"
is "$(comp oci-inspect oci-inspect save.tar:)" "save.tar:example/app:1.0 save.tar:example/app:latest " \
	"a docker-save archive's tags"
is "$(comp oci-inspect oci-inspect save.tar:example/app:l)" "save.tar:example/app:latest " "a tag holding ':'"
is "$(comp oci-diff oci-diff sa)" "save.tar " "files otherwise"
is "$(comp oci-runtime oci-runtime de)" "delete " "oci-runtime: its commands"
is "$(comp oci-runtime oci-runtime --root /x cr)" "create " "oci-runtime: a command after a global option"
is "$(comp oci-runtime oci-runtime delete --)" "--force " "oci-runtime delete --<TAB>: its own options"
is "$(comp oci-runtime oci-runtime list --format '')" "json table " "oci-runtime list --format: its values"
is "$(comp oci-inspect oci-inspect nothere:)" "" "a missing path: nothing"

done_testing
