#!/usr/bin/env bash
# bench/unpack.sh: time oci-unpack against umoci and plain tar extractors on
# the image that bench/make-image.sh cached, all on a tmpfs, in one run.
#
#   oci-unpack IMG:tag B                  the tool under test (a full bundle)
#   umoci unpack --image IMG:tag B        the same job, by umoci
#   bsdtar -xpf LAYER -C D                libarchive, layer only
#   igzip -dc LAYER | tar -x -C D         the fastest plain gunzip + GNU tar
#   zcat LAYER | tar -x -C D              for reference
#
# Each tool: one untimed run under /usr/bin/time -f %M for its peak RSS (and as
# a warm-up), then BENCH_RUNS timed runs (default 5), each into a fresh
# directory (the rm -rf between runs is not timed). Timed by hyperfine when it is
# installed (BENCH_TIMER=date to force date +%s.%N). For a pipeline the peak RSS
# is the sum of its two processes' peaks (they run at the same time).
# Prints a table and the target lines; never asserts.
#
# Run as root (to mount the tmpfs): sudo bash bench/unpack.sh
# BENCH_DIR (default /var/tmp/oci-bench), BENCH_RUNS, BENCH_TIMER,
# OCI_UNPACK (default build/tools/oci-unpack) change what it does.
. "$(dirname "$0")/lib.sh"

RUNS=${BENCH_RUNS:-5}
[ "$RUNS" -ge 1 ] 2>/dev/null || die "BENCH_RUNS must be a number >= 1"
[ -f "$BENCH_INFO" ] || die "no cached image: run sudo bash bench/make-image.sh first"
[ -x "$OCI_UNPACK" ] || die "no $OCI_UNPACK: build it first (ninja -C build)"

need jq jq
need umoci umoci
need bsdtar libarchive-tools
need igzip isal
need zcat gzip
[ -x /usr/bin/time ] || { need time time; [ -x /usr/bin/time ] || die "no /usr/bin/time"; }

TIMER="date"
if [ "${BENCH_TIMER:-}" != date ] && command -v hyperfine >/dev/null 2>&1; then
	TIMER=hyperfine
fi

# --- the work area: a tmpfs ------------------------------------------------------
MNT=$BENCH_DIR/tmpfs
mounted=
W=
cleanup() {
	[ -n "$W" ] && rm -rf "$W"
	if [ -n "$mounted" ]; then umount "$MNT" && rmdir "$MNT" 2>/dev/null; fi
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$MNT"
if mountpoint -q "$MNT"; then
	fs="tmpfs already mounted at $MNT"
elif is_root && mount -t tmpfs -o size=4g tmpfs "$MNT"; then
	mounted=1
	fs="tmpfs mounted at $MNT (size=4g)"
else
	fs="NOT a tmpfs: $MNT on $(df --output=fstype "$MNT" | tail -n1) (run as root to mount one)"
fi
[ "$(stat -f -c %T "$MNT")" = tmpfs ] || fs="NOT a tmpfs: $MNT is $(stat -f -c %T "$MNT")"
W=$(mktemp -d "$MNT/run.XXXXXX")

cp -a "$BENCH_IMAGE" "$W/image"
IMG=$W/image:$BENCH_TAG
LAYER=$(layer_blob "$W/image" "$BENCH_TAG")
D=$W/out
R=$W/rss

q() { printf '%q' "$1"; }
T="/usr/bin/time -f %M -o"

# name | timed command | the same under /usr/bin/time (writes $R.*) | mkdir D first
NAMES=(oci-unpack umoci bsdtar "igzip|tar" "zcat|tar")
CMDS=(
	"$(q "$OCI_UNPACK") -q $(q "$IMG") $(q "$D")"
	"umoci unpack --image $(q "$IMG") $(q "$D")"
	"bsdtar -xpf $(q "$LAYER") -C $(q "$D")"
	"igzip -dc $(q "$LAYER") | tar -x -C $(q "$D")"
	"zcat $(q "$LAYER") | tar -x -C $(q "$D")"
)
RSSCMDS=(
	"$T $R.1 $(q "$OCI_UNPACK") -q $(q "$IMG") $(q "$D")"
	"$T $R.1 umoci unpack --image $(q "$IMG") $(q "$D")"
	"$T $R.1 bsdtar -xpf $(q "$LAYER") -C $(q "$D")"
	"$T $R.1 igzip -dc $(q "$LAYER") | $T $R.2 tar -x -C $(q "$D")"
	"$T $R.1 zcat $(q "$LAYER") | $T $R.2 tar -x -C $(q "$D")"
)
MKDIR=(0 0 1 1 1)

# prep I: a fresh, empty destination for tool I
prep() {
	rm -rf "$D"
	if [ "${MKDIR[$1]}" = 1 ]; then mkdir "$D"; fi
}

# stats: read seconds, one a line; print "median min"
stats() {
	sort -g | awk '{ t[NR] = $1 } END {
		if (NR == 0) { print "- -"; exit }
		m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
		printf "%.3f %.3f\n", m, t[1] }'
}

# bench I: prints "median min rssMB entries", or "FAILED ..." on a failure
bench() {
	local i=$1 f rss=0 entries n t0 t1
	prep "$i"
	rm -f "$R".*
	if ! bash -c "set -o pipefail; ${RSSCMDS[$i]}" >/dev/null 2>"$W/err"; then
		echo "FAILED $(head -c 200 "$W/err" | tr '\n' ' ')"
		return 0
	fi
	for f in "$R".*; do rss=$((rss + $(grep -E '^[0-9]+$' "$f" | tail -n1))); done
	if [ -d "$D/rootfs" ]; then entries=$(find "$D/rootfs" | wc -l); else entries=$(find "$D" | wc -l); fi
	: >"$W/times"
	if [ "$TIMER" = hyperfine ]; then
		local pre
		pre="rm -rf $(q "$D")"
		[ "${MKDIR[$i]}" = 1 ] && pre="$pre && mkdir $(q "$D")"
		if ! hyperfine --shell bash --runs "$RUNS" --prepare "$pre" --style none \
			--export-json "$W/h.json" "set -o pipefail; ${CMDS[$i]}" >/dev/null 2>"$W/err"; then
			echo "FAILED $(head -c 200 "$W/err" | tr '\n' ' ')"
			return 0
		fi
		jq -r '.results[0].times[]' "$W/h.json" >"$W/times"
	else
		for ((n = 0; n < RUNS; n++)); do
			prep "$i"
			t0=$(now)
			if ! bash -c "set -o pipefail; ${CMDS[$i]}" >/dev/null 2>"$W/err"; then
				echo "FAILED $(head -c 200 "$W/err" | tr '\n' ' ')"
				return 0
			fi
			t1=$(now)
			awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }' >>"$W/times"
		done
	fi
	rm -rf "$D"
	echo "$(stats <"$W/times") $(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }') $entries"
}

# --- the report --------------------------------------------------------------------
ver() { "$@" 2>&1 | head -n1; }
echo "== oci-unpack benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
machine
load=$(cut -d' ' -f1 /proc/loadavg)
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)$(awk -v l="$load" -v n="$(nproc)" \
	'BEGIN { if (l > n / 2) print " -- WARNING: the machine is busy, the times are skewed" }')"
echo "image: $(info image) ($(info layers) layer)"
echo "  rootfs: $(info rootfs)"
echo "  layer: $(awk -v b="$(info layer_bytes)" 'BEGIN { printf "%.1f MB", b / 1e6 }') gzip, $(awk -v b="$(info unpacked_bytes)" 'BEGIN { printf "%.1f MB", b / 1e6 }') tar, $(info entries) entries"
echo "work area: $fs (image copied there)"
echo "timer: $TIMER$([ "$TIMER" = hyperfine ] && echo " ($(ver hyperfine --version))"), $RUNS runs each after one untimed run for peak RSS"
echo "versions: $(ver "$OCI_UNPACK" --version); $(ver umoci --version); $(ver bsdtar --version | cut -d' ' -f1-2);" \
	"igzip $(ver igzip --version | grep -oE '[0-9][0-9.]+' | head -n1); $(ver tar --version); $(ver gzip --version)"
echo

declare -A MED MIN RSS ENT ERR
for i in "${!NAMES[@]}"; do
	log "${NAMES[$i]}: ${CMDS[$i]}"
	read -r a b c d <<<"$(bench "$i")"
	if [ "$a" = FAILED ]; then
		ERR[$i]="$b $c $d"
		MED[$i]=-; MIN[$i]=-; RSS[$i]=-; ENT[$i]=-
	else
		MED[$i]=$a; MIN[$i]=$b; RSS[$i]=$c; ENT[$i]=$d
	fi
done

ratio() { # A B: A/B, or - when either is missing
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'
}

printf '%-12s %10s %10s %13s %14s %9s\n' tool "median s" "min s" "peak RSS MB" "x oci-unpack" entries
for i in "${!NAMES[@]}"; do
	printf '%-12s %10s %10s %13s %14s %9s\n' "${NAMES[$i]}" "${MED[$i]}" "${MIN[$i]}" "${RSS[$i]}" \
		"$(ratio "${MED[$i]}" "${MED[0]}")" "${ENT[$i]}"
done
for i in "${!NAMES[@]}"; do
	[ -n "${ERR[$i]:-}" ] && echo "${NAMES[$i]} FAILED: ${ERR[$i]}"
done
echo "(x oci-unpack: median / oci-unpack's median; entries: paths in the result's root filesystem, counted once)"
echo
echo "umoci/oci-unpack = $(ratio "${MED[1]}" "${MED[0]}") (target >= 5)"
echo "oci-unpack/(igzip|tar) = $(ratio "${MED[0]}" "${MED[3]}") (target <= 1.2)"
echo "oci-unpack peak RSS = ${RSS[0]} MB (target < 64)"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
