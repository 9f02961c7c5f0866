#!/usr/bin/env bash
# bench/runtime.sh: start-to-exit time of `run` for /bin/true in a small
# busybox bundle with a cgroup (memory and pids limits): oci-runtime
# against runc and crun in the same run, N runs each (default 50),
# medians and ratios, and the CPU time (user+sys of the runtime and all it
# waits for) per run, which a busy machine disturbs less than wall time;
# the load average before and after. Prints; never asserts. Needs root.
# crun refuses the hybrid cgroup layout (v1 controllers, v2 at
# /sys/fs/cgroup/unified): the whole benchmark then runs in a mount
# namespace of its own where an empty file is bound over the unified
# hierarchy's cgroup.controllers, the same for all three runtimes.
#   bash bench/runtime.sh [N]
. "$(dirname "$0")/lib.sh"
U=/sys/fs/cgroup/unified/cgroup.controllers
if [ -z "${BENCH_RT_NS:-}" ] && [ -f "$U" ] && [ "$(id -u)" -eq 0 ]; then
	exec unshare -m env BENCH_RT_NS=1 bash "$0" "$@"
fi
if [ -n "${BENCH_RT_NS:-}" ] && [ -f "$U" ]; then
	E=$(mktemp /var/tmp/oci-bench-empty.XXXXXX)
	mount --bind "$E" "$U" || die "bind an empty file over $U"
	rm -f "$E"
fi
N=${1:-50}
OCI_RUNTIME=${OCI_RUNTIME:-$OCI_BUILD_DIR/tools/oci-runtime}
is_root || die "needs root"
[ -x "$OCI_RUNTIME" ] || die "$OCI_RUNTIME: not built (ninja -C build)"
need busybox busybox-static
need runc runc
need jq jq
need bc bc
W=$(mktemp -d /var/tmp/oci-bench-rt.XXXXXX)
trap 'rm -rf "$W"' EXIT
# a bundle by hand: busybox as /bin/true, the runtime-spec default config
mkdir -p "$W/b/rootfs/bin" "$W/b/rootfs/etc"
cp "$(command -v busybox)" "$W/b/rootfs/bin/busybox"
ln -s busybox "$W/b/rootfs/bin/true"
ln -s busybox "$W/b/rootfs/bin/sh"
(cd "$W/b" && "$OCI_RUNTIME" spec)
jq '.process.args = ["/bin/true"] | .process.terminal = false |
	.linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 64}}' "$W/b/config.json" >"$W/c" &&
	mv "$W/c" "$W/b/config.json"

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# the CPU seconds (user + sys) of this shell's waited-for children so far,
# from a `times` written to FILE by this very shell (a $(...) would be a
# new process, with none)
children_cpu() { sed -n 2p "$1" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] } printf "%.3f", t }'; }
# time_runs NAME CMD...: N runs of CMD ID, one duration (ms) a line; the
# CPU ms per run in $W/NAME.cpu
time_runs() {
	local name=$1 i t0 t1
	shift
	times >"$W/times0"
	# bash's clock, in microseconds: no date(1) forked, in the times or the CPU
	for i in $(seq "$N"); do
		t0=${EPOCHREALTIME/./}
		"$@" "bench-$$-$i" >/dev/null 2>&1 </dev/null || return 1
		t1=${EPOCHREALTIME/./}
		echo $((t1 - t0))
	done >"$W/$name.us"
	times >"$W/times1"
	echo "($(children_cpu "$W/times1") - $(children_cpu "$W/times0")) * 1000 / $N" | bc -l >"$W/$name.cpu"
}
log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A med cpu
for rt in oci-runtime runc crun; do
	case $rt in
	oci-runtime) cmd=("$OCI_RUNTIME" --root "$W/state-$rt" run --bundle "$W/b") ;;
	*) command -v "$rt" >/dev/null || { log "$rt: not installed, skipped"; continue; }
	   cmd=("$rt" --root "$W/state-$rt" run --bundle "$W/b") ;;
	esac
	if ! "${cmd[@]}" probe-$$ >/dev/null 2>"$W/$rt.err" </dev/null; then
		log "$rt: does not run here, skipped: $(head -c 200 "$W/$rt.err")"
		continue
	fi
	time_runs "$rt" "${cmd[@]}" || { log "$rt: a run failed, skipped"; continue; }
	med[$rt]=$(median <"$W/$rt.us")
	cpu[$rt]=$(cat "$W/$rt.cpu")
	printf '%-12s median %8.2f ms over %d runs, CPU %6.2f ms a run\n' "$rt" \
		"$(echo "${med[$rt]} / 1000" | bc -l)" "$N" "${cpu[$rt]}"
done
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "${med[oci-runtime]:-}" ] || exit 0
for rt in runc crun; do
	[ -n "${med[$rt]:-}" ] || continue
	printf 'oci-runtime / %-5s %.2f (CPU %.2f)\n' "$rt" "$(echo "${med[oci-runtime]} / ${med[$rt]}" | bc -l)" \
		"$(echo "${cpu[oci-runtime]} / ${cpu[$rt]}" | bc -l)"
done
