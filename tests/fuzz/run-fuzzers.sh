#!/bin/bash
# Run every libFuzzer target of a fuzzing build for SECONDS each, on a
# scratch copy of its seed corpus (the corpus in the repository never
# grows). One line per target; exits non-zero if any target crashed.
#   usage: tests/fuzz/run-fuzzers.sh BUILD_DIR SECONDS
# Crash inputs are kept in $FUZZ_CRASH_DIR (default /tmp/fuzz-crashes).
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS" >&2
	exit 2
fi
build=$1
seconds=$2
case $seconds in
'' | *[!0-9]*)
	echo "$0: SECONDS must be a whole number" >&2
	exit 2
	;;
esac
here=$(cd "$(dirname "$0")" && pwd)
crashes=${FUZZ_CRASH_DIR:-/tmp/fuzz-crashes}
mkdir -p "$crashes" || exit 2
work=$(mktemp -d "${TMPDIR:-/tmp}/run-fuzzers.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT

# UBSan only reports by default; a finding must stop the run so libFuzzer
# saves the input.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}

targets=$(cd "$build/tests/fuzz" 2>/dev/null && ls fuzz-* 2>/dev/null | grep -v '\.p$' | sort)
if [ -z "$targets" ]; then
	echo "$0: no fuzz targets in $build/tests/fuzz (configure with -Dfuzzing=true)" >&2
	exit 2
fi

failed=0
for t in $targets; do
	exe=$build/tests/fuzz/$t
	[ -x "$exe" ] && [ -f "$exe" ] || continue
	corpus=$work/$t
	mkdir -p "$corpus"
	if [ -d "$here/corpus/$t" ]; then
		cp -R "$here/corpus/$t/." "$corpus/"
	fi
	seeds=$(find "$corpus" -type f | wc -l)
	dict=()
	if [ -f "$here/$t.dict" ]; then
		dict=(-dict="$here/$t.dict")
	fi
	log=$work/$t.log
	"$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$crashes/$t-" "${dict[@]}" "$corpus" \
		>"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	found=$(find "$corpus" -type f | wc -l)
	if [ $rc -eq 0 ]; then
		printf '%-14s ok     %s runs, cov %s, corpus %s -> %s\n' "$t" "${runs:-?}" \
			"${cov:-?}" "$seeds" "$found"
	else
		artifact=$(grep -o "Test unit written to [^ ]*" "$log" | tail -n 1 | cut -d' ' -f5)
		why=$(grep -m 1 -E 'invariant failed|runtime error|ERROR: [A-Za-z]*Sanitizer' "$log")
		[ -n "$why" ] || why=$(grep -m 1 -E 'ERROR: libFuzzer' "$log")
		why=$(printf '%s' "$why" | sed 's/^.*\/tests\/fuzz\///; s/^.*\/libimage\//libimage\//')
		cp "$log" "$crashes/$t.log"
		printf '%-14s FAILED exit %s: %s; input %s (log %s)\n' "$t" "$rc" "${why:-?}" \
			"${artifact:-(none)}" "$crashes/$t.log"
		failed=1
	fi
done
exit $failed
