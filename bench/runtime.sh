#!/usr/bin/env bash
# bench/runtime.sh: start-to-exit time of `run` for /bin/true in a small
# busybox bundle with a cgroup (memory and pids limits): oci-runtime
# against runc and crun in the same run, N runs each (default 50),
# medians and ratios. Prints; never asserts. Needs root.
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
# time_runs NAME CMD...: N runs of CMD ID, one duration (ms) a line
time_runs() {
	local name=$1 i t0 t1
	shift
	for i in $(seq "$N"); do
		t0=$(date +%s%N)
		"$@" "bench-$$-$i" >/dev/null 2>&1 </dev/null || return 1
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000))
	done >"$W/$name.us"
}
declare -A med
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
	printf '%-12s median %8.2f ms over %d runs\n' "$rt" "$(echo "${med[$rt]} / 1000" | bc -l)" "$N"
done
[ -n "${med[oci-runtime]:-}" ] || exit 0
for rt in runc crun; do
	[ -n "${med[$rt]:-}" ] || continue
	printf 'oci-runtime / %-5s %.2f\n' "$rt" "$(echo "${med[oci-runtime]} / ${med[$rt]}" | bc -l)"
done
