# shellcheck shell=bash
# bench/measure.sh: sourced by bench/scale.sh and bench/layers.sh, after lib.sh.
# A tmpfs work area, and `m NAME PREP CMD`: CMD run BENCH_RUNS times (PREP,
# untimed, before each), each under /usr/bin/time, printing the median wall
# seconds and the largest peak RSS (MiB) of the runs, and keeping both in
# SEC[NAME], RSS[NAME], with the median CPU seconds (user + system, all
# threads and children) in CPU[NAME]: on a busy machine wall time is noise,
# CPU time much less so. CMD is a bash string; a pipeline's RSS is its largest
# process's (time measures the bash that runs it, which counts its children's
# peak as the largest of them).

RUNS=${BENCH_RUNS:-3}
[ -x /usr/bin/time ] || need time time
declare -A SEC RSS CPU

tmpfs_area() { # NAME: sets W to a fresh directory of its own on a tmpfs
	# /dev/shm when it is a tmpfs (nothing to mount, and no mount shared with
	# another run that could unmount it); else a private mount
	local base=${BENCH_TMPFS:-/dev/shm}
	mounted=
	if [ "$(stat -f -c %T "$base" 2>/dev/null)" != tmpfs ]; then
		base=$(mktemp -d /tmp/oci-bench-tmpfs.XXXXXX)
		if is_root && mount -t tmpfs -o size=12g tmpfs "$base"; then mounted=$base; fi
	fi
	[ "$(stat -f -c %T "$base")" = tmpfs ] || log "WARNING: $base is not a tmpfs (run as root)"
	W=$(mktemp -d "$base/oci-bench-$1.XXXXXX")
	trap 'rm -rf "$W"; if [ -n "$mounted" ]; then umount "$mounted" && rmdir "$mounted"; fi; true' EXIT
}

m() { # NAME PREP CMD
	local name=$1 prep=$2 cmd=$3 i t=() c=() r=0 line
	for ((i = 0; i < RUNS; i++)); do
		bash -c "$prep" >/dev/null 2>&1 || true
		# exit 1 is an answer for some (oci-diff: the trees differ), 2 an error
		if ! /usr/bin/time -f '%e %U %S %M' -o "$W/.time" bash -c "$cmd; [ \$? -le 1 ]" >/dev/null 2>"$W/.err"; then
			log "$name FAILED: $(head -c 300 "$W/.err")"
			SEC[$name]=- RSS[$name]=- CPU[$name]=-
			printf '  %-40s %9s\n' "$name" FAILED
			return 0
		fi
		line=$(tail -n1 "$W/.time")
		t+=("${line%% *}")
		c+=("$(echo "$line" | awk '{ print $2 + $3 }')")
		[ "${line##* }" -gt "$r" ] && r=${line##* }
	done
	SEC[$name]=$(printf '%s\n' "${t[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	CPU[$name]=$(printf '%s\n' "${c[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	RSS[$name]=$(awk -v k="$r" 'BEGIN { printf "%.1f", k / 1024 }')
	printf '  %-40s %8.2f s %8.2f s CPU %9s MB\n' "$name" "${SEC[$name]}" "${CPU[$name]}" "${RSS[$name]}"
}

ratio() { # A B: A/B of two SEC names
	awk -v a="${SEC[$1]:--}" -v b="${SEC[$2]:--}" \
		'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'
}

load_line() {
	echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores$(awk -v l="$(cut -d' ' -f1 /proc/loadavg)" \
		-v n="$(nproc)" 'BEGIN { if (l > n / 2) print " -- WARNING: busy machine, times skewed" }')"
}
