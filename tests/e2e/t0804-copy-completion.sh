#!/usr/bin/env bash
# The bash completion of oci-copy: its options, their values, and the refs of
# a layout after "PATH:".
. "$(dirname "$0")/test-lib.sh"
C=$OCI_SOURCE_DIR/tools/completion/oci-copy.bash
bash -n "$C" && pass "the completion file parses" || fail "the completion file parses"
cd "$TMP" || exit 1
oci-copy -q --all "$TD/multi" L
comp() { # WORDS...: the completions of the last word
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_WORDBREAKS=" "; _oci_copy; printf "%s\n" "${COMPREPLY[@]}"' _ "$C" "$@" | sort | tr '\n' ' '
}
is "$(comp oci-copy --comp)" "--compression " "an option"
is "$(comp oci-copy --format '')" "docker-archive oci oci-archive " "--format's values"
is "$(comp oci-copy --compression z)" "zstd " "--compression's values"
is "$(comp oci-copy L:)" "L:v1 L:v2 " "the refs of a layout"
is "$(comp oci-copy L:v1 L:v)" "L:v1 L:v2 " "refs by prefix"
done_testing
