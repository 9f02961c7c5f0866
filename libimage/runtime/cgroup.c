/* The container's cgroups: linux.cgroupsPath resolved under each cgroup
 * mount (never out of it), linux.resources turned into the values of
 * cgroup files (formatted here from validated integers and strings), the
 * init put in them before it runs anything of the container, and what
 * create made recorded in the state directory so that delete removes
 * exactly that. cgroup v2 (unified), v1, and the hybrid layout (v1
 * controllers, v2 at /sys/fs/cgroup/unified) are handled: with any v1
 * controller mounted the controllers are driven through v1. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include "runtime.h"

#define CG_RECORD     "cgroup.json"
#define CG_RECORD_MAX (64 * 1024)

/* ---- linux.resources -> the values of cgroup files ---- */

struct wl {
	struct rt_cg_write *v;
	size_t n;
};

static void wl_add(struct wl *w, const char *ctrl, const char *file, char *value)
{
	w->v = xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
	w->v[w->n++] = (struct rt_cg_write){.ctrl = ctrl, .file = xstrdup(file), .value = value};
}

void rt_cg_writes_free(struct rt_cg_write *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].file);
		free(v[i].value);
	}
	free(v);
}

/* an int64 member: 1 when present, 0 when absent, <0 error */
static int res_i64(const cJSON *o, const char *what, const char *key, int64_t min, int64_t *out,
		   struct oci_error **err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!oci_json_int64(v, min, INT64_MAX, out))
		return error_set(err, OCI_E_INVALID, 0,
				 "linux.resources.%s.%s: not an integer in %" PRId64 "..%" PRId64,
				 what, key, min, INT64_MAX);
	return 1;
}

static int res_u64(const cJSON *o, const char *what, const char *key, uint64_t max, uint64_t *out,
		   struct oci_error **err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!oci_json_uint64(v, max, out))
		return error_set(err, OCI_E_INVALID, 0,
				 "linux.resources.%s.%s: not an integer in 0..%" PRIu64, what, key,
				 max);
	return 1;
}

/* a string made only of chars in set (cpuset lists, page sizes) */
static int res_str(const cJSON *o, const char *what, const char *key, const char *set,
		   const char **out, struct oci_error **err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || strlen(v->valuestring) > 4096 ||
	    strspn(v->valuestring, set) != strlen(v->valuestring))
		return error_set(err, OCI_E_INVALID, 0,
				 "linux.resources.%s.%s: not a string of \"%s\"", what, key, set);
	*out = v->valuestring;
	return 1;
}

static char *fmt_i64(int64_t x)
{
	return xasprintf("%" PRId64, x);
}

static char *fmt_u64(uint64_t x)
{
	return xasprintf("%" PRIu64, x);
}

/* v2 takes "max" where v1 takes -1 */
static char *fmt_max(int64_t x)
{
	return x < 0 ? xstrdup("max") : fmt_i64(x);
}

static int res_memory(const cJSON *m, bool v2, struct wl *w, struct oci_error **err)
{
	int64_t limit = 0, resv = 0, swap = 0, kernel = 0, ktcp = 0;
	uint64_t swappiness = 0;
	bool nooom = false;
	int hl, hr, hs, hk, ht, hsw, r;
	if ((hl = res_i64(m, "memory", "limit", -1, &limit, err)) < 0 ||
	    (hr = res_i64(m, "memory", "reservation", -1, &resv, err)) < 0 ||
	    (hs = res_i64(m, "memory", "swap", -1, &swap, err)) < 0 ||
	    (hk = res_i64(m, "memory", "kernel", -1, &kernel, err)) < 0 ||
	    (ht = res_i64(m, "memory", "kernelTCP", -1, &ktcp, err)) < 0 ||
	    (hsw = res_u64(m, "memory", "swappiness", 100, &swappiness, err)) < 0)
		return OCI_E_INVALID; /* what res_* set */
	if ((r = rt_json_bool(m, "disableOOMKiller", &nooom, err)) < 0)
		return error_wrap(err, "linux.resources.memory");
	if (hs && hl && swap >= 0 && limit >= 0 && swap < limit)
		return error_set(err, OCI_E_INVALID, 0,
				 "linux.resources.memory: swap (%" PRId64
				 ") is less than limit (%" PRId64 ")",
				 swap, limit);
	if (v2) {
		if (hl)
			wl_add(w, "memory", "memory.max", fmt_max(limit));
		if (hr)
			wl_add(w, "memory", "memory.low", fmt_max(resv));
		/* v1's swap is memory+swap, v2's is the swap alone */
		if (hs)
			wl_add(w, "memory", "memory.swap.max",
			       swap < 0 || !hl || limit < 0 ? fmt_max(swap)
							    : fmt_i64(swap - limit));
		if (hk || ht)
			rt_warn(
			    "linux.resources.memory.kernel/kernelTCP: not on cgroup v2: ignored");
		if (hsw)
			rt_warn("linux.resources.memory.swappiness: not on cgroup v2: ignored");
		if (nooom)
			rt_warn("linux.resources.memory.disableOOMKiller: not on cgroup v2: "
				"ignored");
		return 0;
	}
	if (hl)
		wl_add(w, "memory", "memory.limit_in_bytes", fmt_i64(limit));
	if (hr)
		wl_add(w, "memory", "memory.soft_limit_in_bytes", fmt_i64(resv));
	if (hs)
		wl_add(w, "memory", "memory.memsw.limit_in_bytes", fmt_i64(swap));
	if (hk)
		wl_add(w, "memory", "memory.kmem.limit_in_bytes", fmt_i64(kernel));
	if (ht)
		wl_add(w, "memory", "memory.kmem.tcp.limit_in_bytes", fmt_i64(ktcp));
	if (hsw)
		wl_add(w, "memory", "memory.swappiness", fmt_u64(swappiness));
	if (nooom)
		wl_add(w, "memory", "memory.oom_control", xstrdup("1"));
	return 0;
}

static int res_cpu(const cJSON *c, bool v2, struct wl *w, struct oci_error **err)
{
	uint64_t shares = 0, period = 0, rtperiod = 0, burst = 0;
	int64_t quota = 0, rtrun = 0, idle = 0;
	const char *cpus, *mems;
	int hsh, hq, hp, hrr, hrp, hb, hi, hc, hm;
	static const char list[] = "0123456789,- ";
	if ((hsh = res_u64(c, "cpu", "shares", 262144, &shares, err)) < 0 ||
	    (hq = res_i64(c, "cpu", "quota", -1, &quota, err)) < 0 ||
	    (hp = res_u64(c, "cpu", "period", 1000000, &period, err)) < 0 ||
	    (hb = res_u64(c, "cpu", "burst", UINT32_MAX, &burst, err)) < 0 ||
	    (hrr = res_i64(c, "cpu", "realtimeRuntime", -1, &rtrun, err)) < 0 ||
	    (hrp = res_u64(c, "cpu", "realtimePeriod", 1000000, &rtperiod, err)) < 0 ||
	    (hi = res_i64(c, "cpu", "idle", 0, &idle, err)) < 0 ||
	    (hc = res_str(c, "cpu", "cpus", list, &cpus, err)) < 0 ||
	    (hm = res_str(c, "cpu", "mems", list, &mems, err)) < 0)
		return OCI_E_INVALID; /* what res_* set */
	if (hi && idle > 1)
		return error_set(err, OCI_E_INVALID, 0, "linux.resources.cpu.idle: not 0 or 1");
	if (hc && *cpus)
		wl_add(w, "cpuset", "cpuset.cpus", xstrdup(cpus));
	if (hm && *mems)
		wl_add(w, "cpuset", "cpuset.mems", xstrdup(mems));
	if (hi)
		wl_add(w, "cpu", "cpu.idle", fmt_i64(idle));
	if (v2) {
		if (hsh && shares) {
			/* runc's conversion of v1 shares (2..262144) to a weight (1..10000) */
			uint64_t s = shares < 2 ? 2 : shares;
			wl_add(w, "cpu", "cpu.weight", fmt_u64(1 + ((s - 2) * 9999) / 262142));
		}
		if (hq || hp) {
			uint64_t p = hp && period ? period : 100000;
			wl_add(w, "cpu", "cpu.max",
			       hq && quota >= 0 ? xasprintf("%" PRId64 " %" PRIu64, quota, p)
						: xasprintf("max %" PRIu64, p));
		}
		if (hb)
			wl_add(w, "cpu", "cpu.max.burst", fmt_u64(burst));
		if (hrr || hrp)
			rt_warn("linux.resources.cpu.realtime*: not on cgroup v2: ignored");
		return 0;
	}
	if (hsh && shares)
		wl_add(w, "cpu", "cpu.shares", fmt_u64(shares));
	/* the period first: the kernel checks the quota against it */
	if (hp && period)
		wl_add(w, "cpu", "cpu.cfs_period_us", fmt_u64(period));
	if (hq && quota)
		wl_add(w, "cpu", "cpu.cfs_quota_us", fmt_i64(quota));
	if (hb)
		wl_add(w, "cpu", "cpu.cfs_burst_us", fmt_u64(burst));
	if (hrp && rtperiod)
		wl_add(w, "cpu", "cpu.rt_period_us", fmt_u64(rtperiod));
	if (hrr && rtrun)
		wl_add(w, "cpu", "cpu.rt_runtime_us", fmt_i64(rtrun));
	return 0;
}

static int res_majmin(const cJSON *d, const char *what, int64_t *maj, int64_t *min,
		      struct oci_error **err)
{
	int a, b;
	if ((a = res_i64(d, what, "major", -1, maj, err)) < 0 ||
	    (b = res_i64(d, what, "minor", -1, min, err)) < 0)
		return OCI_E_INVALID; /* what res_* set */
	if (!a || !b || *maj > UINT32_MAX || *min > UINT32_MAX)
		return error_set(err, OCI_E_INVALID, 0,
				 "linux.resources.%s: major and minor: missing or too large", what);
	return 0;
}

static int res_blkio(const cJSON *b, bool v2, struct wl *w, struct oci_error **err)
{
	uint64_t weight = 0, leaf = 0;
	int hw, hl;
	if ((hw = res_u64(b, "blockIO", "weight", 1000, &weight, err)) < 0 ||
	    (hl = res_u64(b, "blockIO", "leafWeight", 1000, &leaf, err)) < 0)
		return OCI_E_INVALID; /* what res_* set */
	if (hw && weight)
		wl_add(w, v2 ? "io" : "blkio", v2 ? "io.bfq.weight" : "blkio.weight",
		       fmt_u64(weight));
	if (hl && leaf && !v2)
		wl_add(w, "blkio", "blkio.leaf_weight", fmt_u64(leaf));
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(b, "weightDevice"), *d;
	if (a && !cJSON_IsArray(a))
		return error_set(err, OCI_E_INVALID, 0,
				 "linux.resources.blockIO.weightDevice: not an array");
	cJSON_ArrayForEach (d, a) {
		int64_t maj, min;
		uint64_t wt = 0;
		int h;
		if (res_majmin(d, "blockIO.weightDevice", &maj, &min, err) < 0 ||
		    (h = res_u64(d, "blockIO.weightDevice", "weight", 1000, &wt, err)) < 0)
			return OCI_E_INVALID; /* what res_* set */
		if (h && maj >= 0 && min >= 0)
			wl_add(w, v2 ? "io" : "blkio", v2 ? "io.bfq.weight" : "blkio.weight_device",
			       xasprintf("%" PRId64 ":%" PRId64 " %" PRIu64, maj, min, wt));
	}
	static const struct {
		const char *key, *v1, *v2key;
	} thr[] = {
	    {"throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps"},
	    {"throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps"},
	    {"throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops"},
	    {"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops"},
	};
	for (size_t i = 0; i < sizeof(thr) / sizeof(thr[0]); i++) {
		a = cJSON_GetObjectItemCaseSensitive(b, thr[i].key);
		if (a && !cJSON_IsArray(a))
			return error_set(err, OCI_E_INVALID, 0,
					 "linux.resources.blockIO.%s: not an array", thr[i].key);
		cJSON_ArrayForEach (d, a) {
			int64_t maj, min;
			uint64_t rate = 0;
			if (res_majmin(d, "blockIO", &maj, &min, err) < 0 ||
			    res_u64(d, "blockIO", "rate", UINT64_MAX, &rate, err) < 0)
				return OCI_E_INVALID; /* what res_* set */
			if (maj < 0 || min < 0)
				return error_set(err, OCI_E_INVALID, 0,
						 "linux.resources.blockIO.%s: a device needs its "
						 "major and minor",
						 thr[i].key);
			if (v2)
				wl_add(w, "io", "io.max",
				       xasprintf("%" PRId64 ":%" PRId64 " %s=%" PRIu64, maj, min,
						 thr[i].v2key, rate));
			else
				wl_add(
				    w, "blkio", thr[i].v1,
				    xasprintf("%" PRId64 ":%" PRId64 " %" PRIu64, maj, min, rate));
		}
	}
	return 0;
}

static int res_hugetlb(const cJSON *a, bool v2, struct wl *w, struct oci_error **err)
{
	const cJSON *d;
	if (!cJSON_IsArray(a))
		return error_set(err, OCI_E_INVALID, 0,
				 "linux.resources.hugepageLimits: not an array");
	cJSON_ArrayForEach (d, a) {
		const char *ps;
		uint64_t limit = 0;
		int hp;
		if ((hp = res_str(d, "hugepageLimits", "pageSize", "0123456789KMGB", &ps, err)) <
			0 ||
		    res_u64(d, "hugepageLimits", "limit", UINT64_MAX, &limit, err) < 0)
			return OCI_E_INVALID; /* what res_* set */
		size_t l = hp ? strlen(ps) : 0;
		if (l < 3 || l > 8 || ps[l - 1] != 'B' || !strchr("KMG", ps[l - 2]) ||
		    strspn(ps, "0123456789") != l - 2)
			return error_set(
			    err, OCI_E_INVALID, 0,
			    "linux.resources.hugepageLimits: pageSize: not like \"2MB\"");
		cleanup_free char *f =
		    xasprintf("hugetlb.%s.%s", ps, v2 ? "max" : "limit_in_bytes");
		wl_add(w, "hugetlb", f, fmt_u64(limit));
	}
	return 0;
}

static int res_network(const cJSON *n, bool v2, struct wl *w, struct oci_error **err)
{
	uint64_t classid = 0;
	int hc;
	if ((hc = res_u64(n, "network", "classID", UINT32_MAX, &classid, err)) < 0)
		return OCI_E_INVALID; /* what res_* set */
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(n, "priorities"), *d;
	if (a && !cJSON_IsArray(a))
		return error_set(err, OCI_E_INVALID, 0,
				 "linux.resources.network.priorities: not an array");
	if (v2 && (hc || cJSON_GetArraySize(a) > 0)) {
		rt_warn("linux.resources.network: net_cls and net_prio are cgroup v1 only: "
			"ignored");
		return 0;
	}
	if (hc)
		wl_add(w, "net_cls", "net_cls.classid", fmt_u64(classid));
	cJSON_ArrayForEach (d, a) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(d, "name");
		uint64_t prio = 0;
		if (!cJSON_IsString(nm) || !*nm->valuestring || strlen(nm->valuestring) >= 16 ||
		    strpbrk(nm->valuestring, " \t\n/"))
			return error_set(err, OCI_E_INVALID, 0,
					 "linux.resources.network.priorities: name: not an "
					 "interface name");
		if (res_u64(d, "network.priorities", "priority", UINT32_MAX, &prio, err) < 0)
			return OCI_E_INVALID; /* what res_* set */
		wl_add(w, "net_prio", "net_prio.ifpriomap",
		       xasprintf("%s %" PRIu64, nm->valuestring, prio));
	}
	return 0;
}

/* one devices rule in v1's syntax: "c 1:3 rwm" */
static char *dev_rule(char type, int64_t maj, int64_t min, const char *access)
{
	if (type == 'a')
		return xstrdup("a");
	char M[24] = "*", m[24] = "*";
	if (maj >= 0)
		snprintf(M, sizeof(M), "%" PRId64, maj);
	if (min >= 0)
		snprintf(m, sizeof(m), "%" PRId64, min);
	return xasprintf("%c %s:%s %s", type, M, m, access);
}

/* The devices every container needs (runc's and crun's list), then those
 * of linux.devices, allowed after the config's own rules (runc and crun
 * append them: devices.list then shows the config's rules first, in
 * order); but one the config denies by its exact type, major and minor
 * stays denied, so that a deny of c 1:3 does block /dev/null. */
struct dev_key {
	char type;
	int64_t maj, min;
	const char *access;
};

/* the access of rwm the config does not deny for this device (what the
 * default allows); "" when all of it is denied */
static void dev_left(const struct dev_key *d, size_t n, char type, int64_t maj, int64_t min,
		     char out[4])
{
	bool deny[3] = {false, false, false};
	for (size_t i = 0; i < n; i++)
		if (d[i].type == type && d[i].maj == maj && d[i].min == min)
			for (int k = 0; k < 3; k++)
				deny[k] |= strchr(d[i].access, "rwm"[k]) != NULL;
	int o = 0;
	for (int k = 0; k < 3; k++)
		if (!deny[k])
			out[o++] = "rwm"[k];
	out[o] = 0;
}

static void dev_defaults(const struct rt_config *c, const struct dev_key *denied, size_t nd,
			 struct wl *w)
{
	static const struct {
		char type;
		int maj, min;
	} d[] = {{'c', 1, 3}, {'c', 1, 5}, {'c', 1, 7}, {'c', 1, 8},   {'c', 1, 9},
		 {'c', 5, 0}, {'c', 5, 1}, {'c', 5, 2}, {'c', 136, -1}};
	char acc[4];
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		dev_left(denied, nd, d[i].type, d[i].maj, d[i].min, acc);
		if (*acc)
			wl_add(w, "devices", "devices.allow",
			       dev_rule(d[i].type, d[i].maj, d[i].min, acc));
	}
	for (size_t i = 0; c && i < c->n_devices; i++) {
		char t = c->devices[i].type == 'u' ? 'c' : c->devices[i].type;
		if (t != 'c' && t != 'b')
			continue;
		dev_left(denied, nd, t, c->devices[i].major, c->devices[i].minor, acc);
		if (*acc)
			wl_add(w, "devices", "devices.allow",
			       dev_rule(t, c->devices[i].major, c->devices[i].minor, acc));
	}
}

static int res_devices(const cJSON *a, const struct rt_config *c, bool v2, struct wl *w,
		       struct oci_error **err)
{
	if (!cJSON_IsArray(a))
		return error_set(err, OCI_E_INVALID, 0, "linux.resources.devices: not an array");
	const cJSON *d;
	size_t i = 0;
	bool denyall = false;
	cleanup_free struct dev_key *denied = NULL;
	size_t nd = 0;
	cJSON_ArrayForEach (d, a) {
		bool allow = false;
		if (!cJSON_IsObject(d) || rt_json_bool(d, "allow", &allow, err) < 0 ||
		    !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(d, "allow")))
			return error_set(err, OCI_E_INVALID, 0,
					 "linux.resources.devices[%zu]: allow: missing or not a "
					 "boolean",
					 i);
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(d, "type");
		const cJSON *ac = cJSON_GetObjectItemCaseSensitive(d, "access");
		char type = 'a';
		if (t && !cJSON_IsNull(t)) {
			if (!cJSON_IsString(t) || strlen(t->valuestring) != 1 ||
			    !strchr("acb", t->valuestring[0]))
				return error_set(err, OCI_E_INVALID, 0,
						 "linux.resources.devices[%zu].type: not a, c or b",
						 i);
			type = t->valuestring[0];
		}
		const char *access = "rwm";
		if (ac && !cJSON_IsNull(ac)) {
			if (!cJSON_IsString(ac) || !*ac->valuestring ||
			    strspn(ac->valuestring, "rwm") != strlen(ac->valuestring) ||
			    strlen(ac->valuestring) > 3)
				return error_set(err, OCI_E_INVALID, 0,
						 "linux.resources.devices[%zu].access: not of r, w "
						 "and m",
						 i);
			access = ac->valuestring;
		}
		int64_t maj = -1, min = -1;
		if (res_i64(d, "devices", "major", -1, &maj, err) < 0 ||
		    res_i64(d, "devices", "minor", -1, &min, err) < 0)
			return OCI_E_INVALID; /* what res_* set */
		if (maj > UINT32_MAX || min > UINT32_MAX)
			return error_set(err, OCI_E_INVALID, 0,
					 "linux.resources.devices[%zu]: major/minor too large", i);
		wl_add(w, "devices", allow ? "devices.allow" : "devices.deny",
		       dev_rule(type, maj, min, access));
		if (!allow && type == 'a' && strlen(access) == 3)
			denyall = true;
		if (!allow && type != 'a') {
			denied = xrealloc(denied, (nd + 1) * sizeof(*denied));
			denied[nd++] = (struct dev_key){type, maj, min, access};
		}
		i++;
	}
	if (denyall)
		dev_defaults(c, denied, nd, w);
	return 0;
}

int rt_cg_writes(const cJSON *res, const struct rt_config *c, bool v2, struct rt_cg_write **out,
		 size_t *n, struct oci_error **err)
{
	struct wl w = {0};
	*out = NULL;
	*n = 0;
	if (!res || cJSON_IsNull(res))
		return 0;
	if (!cJSON_IsObject(res))
		return error_set(err, OCI_E_INVALID, 0, "linux.resources: not an object");
	const cJSON *o;
	int r = 0;
	cJSON_ArrayForEach (o, res) {
		const char *k = o->string;
		if (cJSON_IsNull(o))
			continue;
		if (strcmp(k, "devices") == 0) {
			r = res_devices(o, c, v2, &w, err);
		} else if (strcmp(k, "hugepageLimits") == 0) {
			r = res_hugetlb(o, v2, &w, err);
		} else if (strcmp(k, "rdma") == 0) {
			if (cJSON_GetArraySize(o) > 0)
				rt_warn("linux.resources.rdma: not supported: ignored");
		} else if (strcmp(k, "unified") == 0) {
			const cJSON *u;
			if (!cJSON_IsObject(o)) {
				r = error_set(err, OCI_E_INVALID, 0,
					      "linux.resources.unified: not an object");
				break;
			}
			if (!v2 && cJSON_GetArraySize(o) > 0) {
				r = error_set(err, OCI_E_UNSUPPORTED, 0,
					      "linux.resources.unified: needs cgroup v2 (this "
					      "host drives its controllers through v1)");
				break;
			}
			cJSON_ArrayForEach (u, o) {
				const char *dot = strchr(u->string, '.');
				if (!cJSON_IsString(u) || !dot || dot == u->string ||
				    strchr(u->string, '/') || strchr(u->valuestring, '\n') ||
				    strlen(u->string) > 64) {
					r = error_set(err, OCI_E_INVALID, 0,
						      "linux.resources.unified.%s: not a cgroup "
						      "file and a one-line string",
						      u->string);
					break;
				}
				char ctrl[65];
				snprintf(ctrl, sizeof(ctrl), "%.*s", (int)(dot - u->string),
					 u->string);
				/* the controller name must outlive this call */
				static const char *known[] = {"cpu",  "cpuset", "memory",
							      "io",   "pids",	"hugetlb",
							      "rdma", "misc",	"cgroup"};
				const char *kc = NULL;
				for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
					if (strcmp(known[i], ctrl) == 0)
						kc = known[i];
				if (!kc || strcmp(kc, "cgroup") == 0) {
					r = error_set(
					    err, OCI_E_INVALID, 0,
					    "linux.resources.unified.%s: not a controller's "
					    "file",
					    u->string);
					break;
				}
				wl_add(&w, kc, u->string, xstrdup(u->valuestring));
			}
		} else if (!cJSON_IsObject(o)) {
			r = error_set(err, OCI_E_INVALID, 0, "linux.resources.%s: not an object",
				      k);
		} else if (strcmp(k, "memory") == 0) {
			r = res_memory(o, v2, &w, err);
		} else if (strcmp(k, "cpu") == 0) {
			r = res_cpu(o, v2, &w, err);
		} else if (strcmp(k, "pids") == 0) {
			int64_t lim = 0;
			int h = res_i64(o, "pids", "limit", INT64_MIN, &lim, err);
			r = h < 0 ? h : 0;
			if (h > 0)
				wl_add(&w, "pids", "pids.max",
				       lim > 0 ? fmt_i64(lim) : xstrdup("max"));
		} else if (strcmp(k, "blockIO") == 0) {
			r = res_blkio(o, v2, &w, err);
		} else if (strcmp(k, "network") == 0) {
			r = res_network(o, v2, &w, err);
		} else {
			r = error_set(err, OCI_E_UNSUPPORTED, 0,
				      "linux.resources.%s: not supported", k);
		}
		if (r < 0)
			break;
	}
	if (r < 0) {
		rt_cg_writes_free(w.v, w.n);
		return r;
	}
	*out = w.v;
	*n = w.n;
	return 0;
}

/* ---- config.json: linux.cgroupsPath, linux.resources ---- */

/* "a/./b//c" -> "a/b/c"; NULL when it has a ".." or is the root */
static char *cg_clean(const char *p)
{
	char *s = rt_clean_path(p);
	for (const char *q = s; *q;) {
		size_t l = strcspn(q, "/");
		if (l == 2 && q[0] == '.' && q[1] == '.') {
			free(s);
			return NULL;
		}
		q += l + (q[l] == '/');
	}
	if (!*s) {
		free(s);
		return NULL;
	}
	return s;
}

int rt_config_cgroup(struct rt_config *c, const cJSON *lnx, struct oci_error **err)
{
	cleanup_free char *p = NULL;
	int r;
	if (!lnx)
		return 0;
	if ((r = rt_json_string(lnx, "cgroupsPath", false, &p, err)) < 0)
		return error_wrap(err, "linux");
	if (p && *p) {
		/* systemd's "slice:prefix:name" is not a path */
		if (p[0] != '/' && strchr(p, ':'))
			return error_set(err, OCI_E_UNSUPPORTED, 0,
					 "linux.cgroupsPath \"%s\": systemd cgroups are not "
					 "supported",
					 p);
		char *clean = cg_clean(p);
		if (!clean || strlen(p) > 4096)
			return error_set(err, OCI_E_INVALID, 0,
					 "linux.cgroupsPath \"%s\": has a \"..\" or is the root",
					 p);
		c->cg_path = clean;
		c->cg_abs = p[0] == '/';
	}
	c->resources = cJSON_GetObjectItemCaseSensitive(lnx, "resources");
	/* checked now for both layouts: a bad value fails create, not later */
	struct rt_cg_write *w = NULL;
	size_t n = 0;
	if ((r = rt_cg_writes(c->resources, c, false, &w, &n, err)) < 0)
		return r;
	rt_cg_writes_free(w, n);
	return 0;
}

/* ---- the cgroup mounts ---- */

void rt_cg_layout_free(struct rt_cg_layout *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->h[i].mnt);
		free(l->h[i].ctrls);
		free(l->h[i].own);
	}
	free(l->h);
	*l = (struct rt_cg_layout){0};
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static char *unescape(const char *s, size_t n)
{
	char *o = xmalloc(n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 3 < n + 1 && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			o[j++] =
			    (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		} else {
			o[j++] = s[i];
		}
	}
	o[j] = 0;
	return o;
}

/* the controllers of a v1 mount's super options, comma-separated */
static char *v1_ctrls(const char *opts)
{
	static const char *known[] = {"cpu",	 "cpuacct",    "cpuset", "memory",  "devices",
				      "freezer", "blkio",      "pids",	 "net_cls", "net_prio",
				      "hugetlb", "perf_event", "rdma",	 "misc"};
	size_t cap = strlen(opts) + 1, len = 0;
	char *out = xmalloc(cap);
	out[0] = 0;
	for (const char *p = opts; *p;) {
		size_t l = strcspn(p, ",");
		bool keep = strncmp(p, "name=", 5) == 0;
		for (size_t i = 0; !keep && i < sizeof(known) / sizeof(known[0]); i++)
			keep = strlen(known[i]) == l && strncmp(p, known[i], l) == 0;
		if (keep)
			len += (size_t)snprintf(out + len, cap - len, "%s%.*s", len ? "," : "",
						(int)l, p);
		p += l + (p[l] == ',');
	}
	return out;
}

bool rt_cg_has(const char *ctrls, const char *ctrl)
{
	size_t l = strlen(ctrl);
	for (const char *p = ctrls; p && *p;) {
		size_t n = strcspn(p, ",");
		if (n == l && strncmp(p, ctrl, l) == 0)
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

/* the line at *line, copied; *line moves past it (NULL after the last) */
static char *mi_line(const char **line)
{
	const char *end = strchr(*line, '\n');
	char *l = xstrndup(*line, end ? (size_t)(end - *line) : strlen(*line));
	*line = end ? end + 1 : NULL;
	return l;
}

/* our own cgroup in a hierarchy, from /proc/self/cgroup ("N:ctrls:/path") */
static char *own_path(const char *selfcg, const struct rt_cg_hier *h)
{
	for (const char *line = selfcg; line && *line;) {
		cleanup_free char *l = mi_line(&line);
		char *a = strchr(l, ':'), *b = a ? strchr(a + 1, ':') : NULL;
		if (!b)
			continue;
		*b = 0;
		const char *ctrls = a + 1, *path = b + 1;
		bool match;
		if (h->v2) {
			match = !*ctrls;
		} else {
			/* the same first controller names the same hierarchy */
			size_t f = strcspn(h->ctrls, ",");
			cleanup_free char *first = xstrndup(h->ctrls, f);
			match = *ctrls && rt_cg_has(ctrls, first);
		}
		if (match)
			return rt_clean_path(path);
	}
	return xstrdup("");
}

/* a mount of mountinfo: its id, its parent's, where it is */
struct mi_ent {
	long id, parent;
	char *mnt;
};

/* a mountinfo line's first five fields (id, parent, maj:min, root, mount
 * point) into f, NUL-ended in place (f[4] NULL when the line is short);
 * what follows them, or NULL */
static char *mi_fields(char *l, char *f[5])
{
	char *p = l;
	for (int i = 0; i < 5; i++) {
		f[i] = p;
		if (p && (p = strchr(p, ' ')))
			*p++ = 0;
	}
	return p;
}

/* mountinfo's ids and mount points, in its order (the order of mounting) */
static struct mi_ent *mi_entries(const char *mountinfo, size_t *n)
{
	struct mi_ent *v = NULL;
	*n = 0;
	for (const char *line = mountinfo; line && *line;) {
		cleanup_free char *l = mi_line(&line);
		char *f[5];
		mi_fields(l, f);
		if (!f[4])
			continue;
		v = xrealloc(v, (*n + 1) * sizeof(*v));
		v[*n] = (struct mi_ent){.id = strtol(f[0], NULL, 10),
					.parent = strtol(f[1], NULL, 10),
					.mnt = unescape(f[4], strlen(f[4]))};
		(*n)++;
	}
	return v;
}

/* a/b is at or below a (and everything is below /) */
static bool path_at_or_below(const char *p, const char *dir)
{
	size_t l = strlen(dir);
	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(p, dir, l) == 0 && (p[l] == '/' || !p[l]);
}

/* Whether mount i is out of sight: a later mount at or above its mount
 * point that is not one of its parents covers it. A cgroup2 mounted over
 * /sys/fs/cgroup (a v2 host made from a hybrid one in a mount namespace)
 * hides the v1 hierarchies and the unified one below it, which stay
 * listed in mountinfo but cannot be opened by their path. */
static bool mi_hidden(const struct mi_ent *v, size_t n, size_t i)
{
	for (size_t k = i + 1; k < n; k++) {
		if (!path_at_or_below(v[i].mnt, v[k].mnt))
			continue;
		bool parent = false;
		long at = v[i].parent;
		for (size_t hops = 0; hops < n && !parent; hops++) {
			size_t j;
			for (j = 0; j < n && v[j].id != at; j++)
				;
			if (j == n)
				break;
			parent = j == k;
			at = v[j].parent;
			if (v[j].parent == v[j].id)
				break;
		}
		if (!parent)
			return true;
	}
	return false;
}

int rt_cg_layout_parse(const char *mountinfo, const char *selfcg, struct rt_cg_layout *out)
{
	*out = (struct rt_cg_layout){0};
	size_t nent = 0;
	struct mi_ent *ent = mi_entries(mountinfo, &nent);
	size_t idx = 0;
	for (const char *line = mountinfo; line && *line;) {
		cleanup_free char *l = mi_line(&line);
		/* id parent maj:min root mountpoint opts [optional...] - type source superopts */
		char *f[5];
		char *p = mi_fields(l, f);
		char *dash = p ? strstr(p, " - ") : NULL;
		if (p && strncmp(p, "- ", 2) == 0)
			dash = p - 1;
		if (!f[4])
			continue;
		size_t me = idx++;
		if (!dash)
			continue;
		char *type = dash + 3, *src = strchr(type, ' ');
		if (!src)
			continue;
		*src++ = 0;
		char *sopts = strchr(src, ' ');
		sopts = sopts ? sopts + 1 : (char *)"";
		bool v2 = strcmp(type, "cgroup2") == 0;
		if ((!v2 && strcmp(type, "cgroup") != 0) || (me < nent && mi_hidden(ent, nent, me)))
			continue;
		struct rt_cg_hier h = {.v2 = v2};
		h.ctrls = v2 ? xstrdup("") : v1_ctrls(sopts);
		bool dup = false;
		for (size_t i = 0; i < out->n; i++)
			dup |= out->h[i].v2 == v2 && strcmp(out->h[i].ctrls, h.ctrls) == 0;
		if (dup || (!v2 && !*h.ctrls)) {
			free(h.ctrls);
			continue;
		}
		h.mnt = unescape(f[4], strlen(f[4]));
		cleanup_free char *root = unescape(f[3], strlen(f[3]));
		cleanup_free char *croot = rt_clean_path(root);
		char *own = own_path(selfcg, &h);
		/* a mount of a sub-tree (in a cgroup namespace): our path is
		 * below its root */
		size_t rl = strlen(croot);
		if (rl && strncmp(own, croot, rl) == 0 && (own[rl] == '/' || !own[rl])) {
			h.own = xstrdup(own + rl + (own[rl] == '/'));
			free(own);
		} else {
			h.own = own;
		}
		out->h = xrealloc(out->h, (out->n + 1) * sizeof(*out->h));
		out->h[out->n++] = h;
		if (!v2 && strncmp(h.ctrls, "name=", 5) != 0)
			out->v1 = true;
	}
	for (size_t i = 0; i < nent; i++)
		free(ent[i].mnt);
	free(ent);
	return 0;
}

char *rt_cg_resolve(const struct rt_cg_hier *h, const char *cg_path, bool cg_abs, const char *id)
{
	cleanup_free char *def = NULL;
	if (!cg_path) {
		def = xasprintf("oci-runtime-%s", id);
		cg_path = def;
		cg_abs = false;
	}
	cleanup_free char *joined =
	    cg_abs || !*h->own ? xstrdup(cg_path) : xasprintf("%s/%s", h->own, cg_path);
	return cg_clean(joined);
}

/* ---- the record in the state directory ---- */

struct cg_dir {
	char *mnt, *path, *ctrls;
	int created; /* how many of path's last components create made */
	bool v2;
};

struct cg_set {
	struct cg_dir *d;
	size_t n;
};

static void cg_set_free(struct cg_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->d[i].mnt);
		free(s->d[i].path);
		free(s->d[i].ctrls);
	}
	free(s->d);
	*s = (struct cg_set){0};
}

static int cg_save(int dirfd, const struct cg_set *s, struct oci_error **err)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < s->n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "mount", s->d[i].mnt);
		cJSON_AddStringToObject(o, "path", s->d[i].path);
		cJSON_AddStringToObject(o, "controllers", s->d[i].ctrls);
		cJSON_AddNumberToObject(o, "created", s->d[i].created);
		cJSON_AddBoolToObject(o, "v2", s->d[i].v2);
		cJSON_AddItemToArray(a, o);
	}
	cleanup_free char *text = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	cleanup_close int fd = openat(dirfd, CG_RECORD ".tmp",
				      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len ||
	    renameat(dirfd, CG_RECORD ".tmp", dirfd, CG_RECORD) < 0)
		return error_set(err, OCI_E_IO, errno, "save the cgroup record");
	return 0;
}

/* a mount that is a cgroup file system (the record is ours, in a 0700
 * directory; this keeps a damaged one from pointing anywhere else) */
static bool cg_is_cgroupfs(int fd)
{
	struct statfs sf;
	return fstatfs(fd, &sf) == 0 &&
	       (sf.f_type == CGROUP_SUPER_MAGIC || sf.f_type == CGROUP2_SUPER_MAGIC);
}

/* the record; none (n == 0) when create made no cgroup */
static int cg_load(int dirfd, struct cg_set *s, struct oci_error **err)
{
	*s = (struct cg_set){0};
	cleanup_close int fd = openat(dirfd, CG_RECORD, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return 0;
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return error_set(err, OCI_E_IO, errno, "open the cgroup record");
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_size > CG_RECORD_MAX)
		return error_set(err, OCI_E_INVALID, 0,
				 "the cgroup record: not a regular file of ours, or too large");
	cleanup_free char *buf = xmalloc((size_t)st.st_size + 1);
	ssize_t n = read_full(fd, buf, (size_t)st.st_size);
	if (n < 0)
		return error_set(err, OCI_E_IO, errno, "read the cgroup record");
	buf[n] = 0;
	cJSON *a = cJSON_Parse(buf);
	const cJSON *o;
	int r = 0;
	if (!cJSON_IsArray(a))
		r = error_set(err, OCI_E_INVALID, 0, "the cgroup record: not a JSON array");
	cJSON_ArrayForEach (o, a) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "mount");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "path");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "controllers");
		const cJSON *cr = cJSON_GetObjectItemCaseSensitive(o, "created");
		const cJSON *v2 = cJSON_GetObjectItemCaseSensitive(o, "v2");
		int64_t created = cJSON_IsNumber(cr) ? (int64_t)cr->valuedouble : -1;
		char *clean = cJSON_IsString(p) ? cg_clean(p->valuestring) : NULL;
		if (!cJSON_IsString(m) || m->valuestring[0] != '/' || !clean ||
		    strcmp(clean, p->valuestring) != 0 || !cJSON_IsString(c) || created < 0 ||
		    created > 4096 || (double)created != cr->valuedouble || !cJSON_IsBool(v2)) {
			free(clean);
			r = error_set(err, OCI_E_INVALID, 0, "the cgroup record: a bad entry");
			break;
		}
		s->d = xrealloc(s->d, (s->n + 1) * sizeof(*s->d));
		s->d[s->n++] = (struct cg_dir){.mnt = xstrdup(m->valuestring),
					       .path = clean,
					       .ctrls = xstrdup(c->valuestring),
					       .created = (int)created,
					       .v2 = cJSON_IsTrue(v2)};
	}
	cJSON_Delete(a);
	if (r < 0)
		cg_set_free(s);
	return r;
}

/* open mnt/path one component at a time, never through a symlink; with
 * mkdir_from >= 0, components from that index on are created (and
 * *made counts those that were new) */
static int cg_open(const char *mnt, const char *path, bool create, int *made,
		   struct oci_error **err)
{
	int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "open cgroup mount %s", mnt);
	if (!cg_is_cgroupfs(fd)) {
		close(fd);
		return error_set(err, OCI_E_INVALID, 0, "%s: not a cgroup file system", mnt);
	}
	if (made)
		*made = 0;
	for (const char *p = path; *p;) {
		size_t l = strcspn(p, "/");
		cleanup_free char *name = xstrndup(p, l);
		p += l + (p[l] == '/');
		if (create) {
			if (mkdirat(fd, name, 0755) == 0) {
				if (made)
					(*made)++;
			} else if (errno != EEXIST) {
				int e = errno;
				close(fd);
				return error_set(err, OCI_E_IO, e, "create cgroup %s/%s", mnt,
						 path);
			}
		}
		int nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		if (nfd < 0)
			return error_set(err, e == ENOENT ? OCI_E_NOTFOUND : OCI_E_IO, e,
					 "open cgroup %s/%s", mnt, path);
		fd = nfd;
	}
	return fd;
}

static int cg_write(int dirfd, const char *file, const char *value)
{
	int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	int e = errno;
	close(fd);
	return n == (ssize_t)len ? 0 : n < 0 ? -e : -EIO;
}

/* all of a small text file (at most 16 MiB, as the kernel's cgroup and
 * proc files are), NUL-terminated; NULL on a read error */
static char *cg_read_fd(int fd, size_t cap)
{
	size_t len = 0;
	char *buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			if (cap >= (1u << 24))
				break;
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
	}
	buf[len] = 0;
	return buf;
}

/* read a small cgroup file; NULL on error */
static char *cg_read(int dirfd, const char *file)
{
	cleanup_close int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? NULL : cg_read_fd(fd, 4096);
}

/* cpuset v1 refuses tasks while cpus or mems is empty: a new cgroup takes
 * its parent's */
static void cg_cpuset_inherit(int parentfd, int fd)
{
	static const char *f[] = {"cpuset.cpus", "cpuset.mems"};
	for (int i = 0; i < 2; i++) {
		cleanup_free char *mine = cg_read(fd, f[i]);
		if (mine && strspn(mine, " \n") != strlen(mine))
			continue;
		cleanup_free char *p = cg_read(parentfd, f[i]);
		if (p)
			cg_write(fd, f[i], p);
	}
}

/* every level of path that create made (the last made ones) gets its
 * parent's cpus and mems */
static void cg_cpuset_walk(const char *mnt, const char *path, int made)
{
	int depth = 1;
	for (const char *q = path; *q; q++)
		depth += *q == '/';
	int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int i = 0;
	for (const char *p = path; fd >= 0 && *p; i++) {
		size_t l = strcspn(p, "/");
		cleanup_free char *name = xstrndup(p, l);
		p += l + (p[l] == '/');
		int nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd >= 0 && i >= depth - made)
			cg_cpuset_inherit(fd, nfd);
		close(fd);
		fd = nfd;
	}
	if (fd >= 0)
		close(fd);
}

/* which hierarchy of a set drives ctrl; NULL when none */
static struct cg_dir *cg_for(struct cg_set *s, const char *ctrl, bool v1)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->d[i].v2 && rt_cg_has(s->d[i].ctrls, ctrl))
			return &s->d[i];
	/* hybrid: the v2 hierarchy has no controller enabled for us */
	if (v1)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if (s->d[i].v2 && rt_cg_has(s->d[i].ctrls, ctrl))
			return &s->d[i];
	return NULL;
}

/* the controllers a v2 cgroup may use (cgroup.controllers), as "a,b,c" */
static char *v2_ctrls(int fd)
{
	cleanup_free char *t = cg_read(fd, "cgroup.controllers");
	if (!t)
		return xstrdup("");
	for (char *p = t; *p; p++)
		if (*p == ' ' || *p == '\n')
			*p = ',';
	size_t l = strlen(t);
	while (l && t[l - 1] == ',')
		t[--l] = 0;
	return xstrdup(t);
}

/* v2: enable ctrls in the subtree_control of every ancestor of path */
static void v2_enable(const char *mnt, const char *path, const struct rt_cg_write *w, size_t n)
{
	cleanup_free char *want = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *tok = xasprintf("+%s", w[i].ctrl);
		if (strstr(want, tok))
			continue;
		char *nw = xasprintf("%s%s%s", want, *want ? " " : "", tok);
		free(want);
		want = nw;
	}
	if (!*want)
		return;
	int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (const char *p = path; fd >= 0 && *p;) {
		cg_write(fd, "cgroup.subtree_control", want);
		size_t l = strcspn(p, "/");
		cleanup_free char *name = xstrndup(p, l);
		p += l + (p[l] == '/');
		if (!*p)
			break;
		int nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = nfd;
	}
	if (fd >= 0)
		close(fd);
}

/* write the resources into the set's cgroups; a write the kernel does not
 * know (no such file) is a warning, others are errors. One that fails
 * with EINVAL or EBUSY is retried once after the others (memory's limit
 * and memsw limit must change in an order that depends on the old values). */
static int cg_apply(struct cg_set *s, bool v1, const struct rt_cg_write *w, size_t n,
		    struct oci_error **err)
{
	bool *later = xcalloc(n + 1, sizeof(bool));
	int r = 0;
	for (int pass = 0; pass < 2 && r == 0; pass++)
		for (size_t i = 0; i < n; i++) {
			if (pass == 1 && !later[i])
				continue;
			/* v2 has no devices files: an eBPF program, below */
			if (!v1 && strcmp(w[i].ctrl, "devices") == 0)
				continue;
			struct cg_dir *d = cg_for(s, w[i].ctrl, v1);
			if (!d) {
				if (pass == 0)
					rt_warn("the %s controller is not available here: %s "
						"not set",
						w[i].ctrl, w[i].file);
				continue;
			}
			int fd = cg_open(d->mnt, d->path, false, NULL, err);
			if (fd < 0) {
				r = fd;
				break;
			}
			int e = cg_write(fd, w[i].file, w[i].value);
			close(fd);
			if (e == -ENOENT) {
				if (pass == 0)
					rt_warn("%s: this kernel has no such file: \"%s\" not "
						"set",
						w[i].file, w[i].value);
			} else if ((e == -EINVAL || e == -EBUSY) && pass == 0) {
				later[i] = true;
			} else if (e < 0) {
				r = error_set(err, OCI_E_IO, -e, "cgroup %s/%s: write %s \"%s\"",
					      d->mnt, d->path, w[i].file, w[i].value);
				break;
			}
		}
	free(later);
	for (size_t i = 0; r == 0 && !v1 && i < s->n; i++)
		if (s->d[i].v2) {
			int fd = cg_open(s->d[i].mnt, s->d[i].path, false, NULL, err);
			if (fd < 0)
				return fd;
			r = rt_cg_devices_bpf(fd, w, n, err);
			close(fd);
			break;
		}
	return r;
}

/* remove the directories create made, innermost first */
static int cg_rmdirs(const struct cg_dir *d, struct oci_error **err)
{
	cleanup_free char *p = xstrdup(d->path);
	for (int i = 0; i < d->created; i++) {
		char *slash = strrchr(p, '/');
		cleanup_free char *parent = slash ? xstrndup(p, (size_t)(slash - p)) : xstrdup("");
		const char *name = slash ? slash + 1 : p;
		int fd = cg_open(d->mnt, parent, false, NULL, NULL);
		if (fd < 0)
			return 0;
		int rr = unlinkat(fd, name, AT_REMOVEDIR);
		int e = errno;
		close(fd);
		/* a parent another container still uses stays */
		if (rr < 0 && e == ENOENT)
			;
		else if (rr < 0 && i == 0)
			return error_set(err, OCI_E_IO, e, "remove cgroup %s/%s", d->mnt, p);
		else if (rr < 0)
			return 0;
		if (!slash)
			break;
		*slash = 0;
	}
	return 0;
}

/* how deep below the container's cgroup we look for cgroups the
 * container made itself (cgroup.max.depth is usually unlimited) */
#define CG_TREE_DEPTH 32

/* the pids of a cgroup's cgroup.procs appended to *out */
static void cg_pids_add(int fd, pid_t **out, size_t *n)
{
	cleanup_free char *t = cg_read(fd, "cgroup.procs");
	for (char *p = t; p && *p;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v > 0) {
			*out = xrealloc(*out, (*n + 1) * sizeof(pid_t));
			(*out)[(*n)++] = (pid_t)v;
		}
		p = end;
		while (*p == '\n')
			p++;
	}
}

/* Each cgroup below the one at fd (made by the container, whose cgroup
 * namespace and a writable cgroup mount let it), depth first, as fn(its
 * parent's fd, its name, its own fd). */
static void cg_walk(int fd, int depth, void (*fn)(int pfd, const char *name, int cfd, void *arg),
		    void *arg)
{
	/* cgroupfs counts a directory's sub-directories in its links (2 +
	 * n): a cgroup with none, the usual case, costs one fstat, not a
	 * directory read */
	struct stat st;
	if (depth >= CG_TREE_DEPTH || (fstat(fd, &st) == 0 && st.st_nlink <= 2))
		return;
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_closedir DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		cleanup_close int cfd =
		    openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0)
			continue;
		cg_walk(cfd, depth + 1, fn, arg);
		fn(fd, de->d_name, cfd, arg);
	}
}

struct cg_pids_acc {
	pid_t **out;
	size_t *n;
};

static void cg_pids_one(int pfd, const char *name, int cfd, void *arg)
{
	struct cg_pids_acc *a = arg;
	(void)pfd;
	(void)name;
	cg_pids_add(cfd, a->out, a->n);
}

/* the pids in a cgroup and every cgroup below it */
static size_t cg_pids(int fd, pid_t **out)
{
	size_t n = 0;
	*out = NULL;
	cg_pids_add(fd, out, &n);
	struct cg_pids_acc a = {out, &n};
	cg_walk(fd, 0, cg_pids_one, &a);
	return n;
}

/* a sub-cgroup goes once its processes are gone (rmdir fails before:
 * the caller tries again) */
static void cg_rmdir_one(int pfd, const char *name, int cfd, void *arg)
{
	(void)cfd;
	(void)arg;
	unlinkat(pfd, name, AT_REMOVEDIR);
}

static int cg_freeze_dir(const struct cg_dir *d, bool freeze)
{
	cleanup_close int fd = cg_open(d->mnt, d->path, false, NULL, NULL);
	if (fd < 0)
		return -ENOENT;
	if (d->v2)
		return cg_write(fd, "cgroup.freeze", freeze ? "1" : "0");
	return cg_write(fd, "freezer.state", freeze ? "FROZEN" : "THAWED");
}

/* the hierarchy that freezes: v1's freezer, else v2 */
static const struct cg_dir *cg_freezer(const struct cg_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->d[i].v2 && rt_cg_has(s->d[i].ctrls, "freezer"))
			return &s->d[i];
	for (size_t i = 0; i < s->n; i++)
		if (s->d[i].v2)
			return &s->d[i];
	return NULL;
}

/* kill every process of the cgroups and remove what create made; waits
 * (up to 5 s) for the processes to be gone */
static int cg_destroy_set(struct cg_set *s, struct oci_error **err)
{
	const struct cg_dir *fz = cg_freezer(s);
	if (fz)
		cg_freeze_dir(fz, false); /* frozen tasks would not die */
	int r = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (!s->d[i].created)
			continue;
		for (int tries = 0; tries < 500; tries++) {
			int fd = cg_open(s->d[i].mnt, s->d[i].path, false, NULL, NULL);
			if (fd < 0)
				break;
			/* v2 (5.14+): every process below, at once, whatever
			 * forks meanwhile; else each pid read, and again */
			if (s->d[i].v2)
				cg_write(fd, "cgroup.kill", "1");
			pid_t *pids;
			size_t n = cg_pids(fd, &pids);
			for (size_t k = 0; k < n; k++)
				kill(pids[k], SIGKILL);
			free(pids);
			/* what the container made inside goes first */
			cg_walk(fd, 0, cg_rmdir_one, NULL);
			close(fd);
			struct oci_error *e = NULL;
			if (cg_rmdirs(&s->d[i], &e) == 0)
				break;
			if (tries == 499) {
				r = r ? r : error_status(&e, OCI_E_IO);
				if (err && !*err)
					*err = e;
				else
					oci_error_free(e);
				break;
			}
			oci_error_free(e);
			usleep(tries < 20 ? 500 : 10000);
		}
	}
	return r;
}

static char *read_text(const char *path)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? NULL : cg_read_fd(fd, 1 << 16);
}

/* the process pidtext joins every cgroup of s (create's init, exec's child) */
static int cg_join(const struct cg_set *s, const char *pidtext, struct oci_error **err)
{
	for (size_t i = 0; i < s->n; i++) {
		int fd = cg_open(s->d[i].mnt, s->d[i].path, false, NULL, err);
		if (fd < 0)
			return fd;
		int e = cg_write(fd, "cgroup.procs", pidtext);
		close(fd);
		if (e < 0)
			return error_set(err, OCI_E_IO, -e, "join cgroup %s/%s", s->d[i].mnt,
					 s->d[i].path);
	}
	return 0;
}

int rt_cg_create(const struct rt_config *c, const char *id, pid_t pid, int statedir,
		 struct oci_error **err)
{
	cleanup_free char *mi = read_text("/proc/self/mountinfo");
	cleanup_free char *sc = read_text("/proc/self/cgroup");
	struct rt_cg_layout l;
	rt_cg_layout_parse(mi, sc, &l);
	/* no resources and no path asked for: the cgroup is a courtesy, and a
	 * host where it cannot be made is a warning; so it is without root
	 * (cgroups only where they are delegated to us) */
	bool asked = c->cg_path || (c->resources && cJSON_GetArraySize(c->resources) > 0);
	bool soft = !asked || geteuid() != 0;
	struct rt_cg_write *w = NULL;
	size_t nw = 0;
	int r = rt_cg_writes(c->resources, c, !l.v1, &w, &nw, err);
	if (r < 0) {
		rt_cg_layout_free(&l);
		return r;
	}
	struct cg_set s = {0};
	char pidtext[32];
	snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
	if (l.n == 0) {
		r = asked ? error_set(err, OCI_E_UNSUPPORTED, 0,
				      "linux.resources/cgroupsPath: no cgroup file system is "
				      "mounted")
			  : 0;
		goto out;
	}
	for (size_t i = 0; i < l.n && r == 0; i++) {
		const struct rt_cg_hier *h = &l.h[i];
		char *path = rt_cg_resolve(h, c->cg_path, c->cg_abs, id);
		if (!path) {
			r = error_set(err, OCI_E_INVALID, 0,
				      "linux.cgroupsPath: out of the cgroup "
				      "mount");
			break;
		}
		if (h->v2 && !l.v1)
			v2_enable(h->mnt, path, w, nw);
		int made = 0;
		/* record before creating, so that a failure half-way undoes it */
		s.d = xrealloc(s.d, (s.n + 1) * sizeof(*s.d));
		s.d[s.n] = (struct cg_dir){
		    .mnt = xstrdup(h->mnt), .path = path, .ctrls = xstrdup(h->ctrls), .v2 = h->v2};
		int fd = cg_open(h->mnt, path, true, &made, err);
		s.d[s.n].created = made;
		s.n++;
		if (fd < 0) {
			r = fd;
			break;
		}
		if (!h->v2 && rt_cg_has(h->ctrls, "cpuset"))
			cg_cpuset_walk(h->mnt, path, made);
		if (h->v2 && !l.v1) {
			free(s.d[s.n - 1].ctrls);
			s.d[s.n - 1].ctrls = v2_ctrls(fd);
		}
		close(fd);
	}
	if (r == 0)
		r = cg_save(statedir, &s, err);
	if (r == 0)
		r = cg_apply(&s, l.v1, w, nw, err);
	/* the init, still waiting for our go, joins them: nothing of the
	 * container runs outside its cgroups */
	if (r == 0)
		r = cg_join(&s, pidtext, err);
	if (r < 0) {
		cg_destroy_set(&s, NULL);
		unlinkat(statedir, CG_RECORD, 0);
		if (soft && error_status(err, r) == OCI_E_IO) {
			rt_warn("no cgroup for the container: %s", err && *err ? (*err)->msg : "");
			if (err) {
				oci_error_free(*err);
				*err = NULL;
			}
			r = 0;
		}
	}
out:
	cg_set_free(&s);
	rt_cg_writes_free(w, nw);
	rt_cg_layout_free(&l);
	return r;
}

int rt_cg_check(int statedir, struct oci_error **err)
{
	struct cg_set s;
	int r = cg_load(statedir, &s, err);
	if (r == 0)
		cg_set_free(&s);
	return r;
}

int rt_cg_destroy(int statedir, struct oci_error **err)
{
	struct cg_set s;
	int r = cg_load(statedir, &s, err);
	if (r < 0)
		return r;
	r = cg_destroy_set(&s, err);
	if (r == 0)
		unlinkat(statedir, CG_RECORD, 0);
	cg_set_free(&s);
	return r;
}

int rt_cg_freeze(int statedir, bool freeze, struct oci_error **err)
{
	struct cg_set s;
	int r = cg_load(statedir, &s, err);
	if (r < 0)
		return r;
	const struct cg_dir *fz = cg_freezer(&s);
	if (!fz) {
		cg_set_free(&s);
		return error_set(err, OCI_E_UNSUPPORTED, 0, "the container has no freezer cgroup");
	}
	int e = cg_freeze_dir(fz, freeze);
	if (e < 0)
		r = error_set(err, OCI_E_IO, -e, "%s cgroup %s/%s", freeze ? "freeze" : "thaw",
			      fz->mnt, fz->path);
	/* v1's freezer goes FREEZING before FROZEN: wait for it */
	for (int i = 0; r == 0 && freeze && !fz->v2 && i < 1000; i++) {
		cleanup_close int fd = cg_open(fz->mnt, fz->path, false, NULL, NULL);
		cleanup_free char *st = fd >= 0 ? cg_read(fd, "freezer.state") : NULL;
		if (!st || strncmp(st, "FROZEN", 6) == 0)
			break;
		usleep(1000);
	}
	cg_set_free(&s);
	return r;
}

int rt_cg_join(int statedir, pid_t pid, struct oci_error **err)
{
	struct cg_set s;
	int r = cg_load(statedir, &s, err);
	if (r < 0)
		return r;
	char pidtext[32];
	snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
	if (r == 0)
		r = cg_join(&s, pidtext, err);
	cg_set_free(&s);
	return r;
}

int rt_cg_pids(int statedir, pid_t **pids, size_t *n, struct oci_error **err)
{
	struct cg_set s;
	*pids = NULL;
	*n = 0;
	int r = cg_load(statedir, &s, err);
	if (r < 0)
		return r;
	/* every process is in every hierarchy: the first one will do */
	if (s.n == 0) {
		cg_set_free(&s);
		return error_set(err, OCI_E_UNSUPPORTED, 0, "the container has no cgroup");
	}
	int fd = cg_open(s.d[0].mnt, s.d[0].path, false, NULL, err);
	if (fd < 0)
		r = fd;
	else {
		*n = cg_pids(fd, pids);
		close(fd);
	}
	cg_set_free(&s);
	return r;
}

int rt_cg_update(int statedir, const cJSON *res, struct oci_error **err)
{
	struct cg_set s;
	int r = cg_load(statedir, &s, err);
	if (r < 0)
		return r;
	bool v1 = false;
	for (size_t i = 0; i < s.n; i++)
		v1 |= !s.d[i].v2 && strncmp(s.d[i].ctrls, "name=", 5) != 0;
	struct rt_cg_write *w = NULL;
	size_t nw = 0;
	if (s.n == 0)
		r = error_set(err, OCI_E_UNSUPPORTED, 0, "the container has no cgroup");
	else if ((r = rt_cg_writes(res, NULL, !v1, &w, &nw, err)) == 0)
		r = cg_apply(&s, v1, w, nw, err);
	rt_cg_writes_free(w, nw);
	cg_set_free(&s);
	return r;
}

/* the first "key value" line of text with key; false when absent */
static bool stat_key(const char *text, const char *key, uint64_t *v)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p;) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
			*v = strtoull(p + kl + 1, NULL, 10);
			return true;
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return false;
}

static void stat_num(cJSON *o, const char *key, int fd, const char *file)
{
	cleanup_free char *t = fd >= 0 ? cg_read(fd, file) : NULL;
	if (t && *t >= '0' && *t <= '9') {
		char *raw = xasprintf("%llu", strtoull(t, NULL, 10));
		cJSON_AddRawToObject(o, key, raw);
		free(raw);
	}
}

int rt_cg_stats(int statedir, char **json, struct oci_error **err)
{
	struct cg_set s;
	int r = cg_load(statedir, &s, err);
	if (r < 0)
		return r;
	bool v1 = false;
	for (size_t i = 0; i < s.n; i++)
		v1 |= !s.d[i].v2 && strncmp(s.d[i].ctrls, "name=", 5) != 0;
	cJSON *o = cJSON_CreateObject();
	cJSON *mem = cJSON_AddObjectToObject(o, "memory");
	cJSON *cpu = cJSON_AddObjectToObject(o, "cpu");
	cJSON *pids = cJSON_AddObjectToObject(o, "pids");
	const struct cg_dir *d;
	if ((d = cg_for(&s, "memory", v1))) {
		cleanup_close int fd = cg_open(d->mnt, d->path, false, NULL, NULL);
		cJSON *u = cJSON_AddObjectToObject(mem, "usage");
		stat_num(u, "usage", fd, d->v2 ? "memory.current" : "memory.usage_in_bytes");
		stat_num(u, "limit", fd, d->v2 ? "memory.max" : "memory.limit_in_bytes");
		stat_num(u, "max", fd, d->v2 ? "memory.peak" : "memory.max_usage_in_bytes");
		if (!d->v2)
			stat_num(u, "failcnt", fd, "memory.failcnt");
	}
	if ((d = cg_for(&s, v1 ? "cpuacct" : "cpu", v1))) {
		cleanup_close int fd = cg_open(d->mnt, d->path, false, NULL, NULL);
		cJSON *u = cJSON_AddObjectToObject(cpu, "usage");
		if (d->v2) {
			cleanup_free char *t = fd >= 0 ? cg_read(fd, "cpu.stat") : NULL;
			uint64_t us;
			if (t && stat_key(t, "usage_usec", &us)) {
				char *raw = xasprintf("%" PRIu64, us * 1000);
				cJSON_AddRawToObject(u, "total", raw);
				free(raw);
			}
		} else {
			stat_num(u, "total", fd, "cpuacct.usage");
		}
	}
	if ((d = cg_for(&s, "pids", v1))) {
		cleanup_close int fd = cg_open(d->mnt, d->path, false, NULL, NULL);
		stat_num(pids, "current", fd, "pids.current");
		stat_num(pids, "limit", fd, "pids.max");
	}
	*json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	cg_set_free(&s);
	return 0;
}

/* ---- cgroup v2 devices: an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) ---- */

#include <linux/bpf.h>
#include <sys/syscall.h>

struct dev_rule {
	bool allow;
	char type; /* a, c, b */
	int64_t maj, min;
	unsigned acc; /* BPF_DEVCG_ACC_* */
};

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){
	    .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

/* parse back one of our own v1 rules ("a", "c 1:3 rwm", "b *:* r") */
static bool dev_rule_parse(const char *file, const char *v, struct dev_rule *r)
{
	r->allow = strcmp(file, "devices.allow") == 0;
	r->type = v[0];
	r->maj = r->min = -1;
	r->acc = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
	if (r->type == 'a')
		return true;
	const char *p = v + 1;
	while (*p == ' ')
		p++;
	if (*p == '*')
		p++;
	else
		r->maj = strtoll(p, (char **)&p, 10);
	if (*p++ != ':')
		return false;
	if (*p == '*')
		p++;
	else
		r->min = strtoll(p, (char **)&p, 10);
	while (*p == ' ')
		p++;
	r->acc = 0;
	for (; *p; p++)
		r->acc |= *p == 'r'   ? BPF_DEVCG_ACC_READ
			  : *p == 'w' ? BPF_DEVCG_ACC_WRITE
			  : *p == 'm' ? BPF_DEVCG_ACC_MKNOD
				      : 0;
	return true;
}

/* The program: the rules from the last to the first, the first that
 * matches decides (so the last rule in the config's order wins); an allow
 * rule matches when it covers all the access asked for, a deny rule when
 * it covers any of it; no match allows (v2 without a program allows all). */
int rt_cg_devices_bpf(int cgfd, const struct rt_cg_write *w, size_t n, struct oci_error **err)
{
	size_t nr = 0;
	struct dev_rule *rules = xcalloc(n + 1, sizeof(*rules));
	for (size_t i = 0; i < n; i++)
		if (strcmp(w[i].ctrl, "devices") == 0 &&
		    dev_rule_parse(w[i].file, w[i].value, &rules[nr]))
			nr++;
	if (nr == 0) {
		free(rules);
		return 0;
	}
	size_t cap = 8 + nr * 12, k = 0;
	struct bpf_insn *p = xcalloc(cap, sizeof(*p));
	/* r2 = type, r3 = access, r4 = major, r5 = minor */
	p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0);
	p[k++] = insn(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xFFFF);
	p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, 3, 1, 0, 0);
	p[k++] = insn(BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 16);
	p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0);
	p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0);
	for (size_t i = nr; i-- > 0;) {
		const struct dev_rule *r = &rules[i];
		struct bpf_insn blk[12];
		int b = 0;
		if (r->type != 'a')
			blk[b++] = insn(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0 /* fixed below */,
					r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
		if (r->maj >= 0)
			blk[b++] = insn(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, (int32_t)r->maj);
		if (r->min >= 0)
			blk[b++] = insn(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, (int32_t)r->min);
		blk[b++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, 1, 3, 0, 0);
		if (r->allow) {
			/* all asked for is in acc: (access & ~acc) == 0 */
			blk[b++] = insn(BPF_ALU64 | BPF_AND | BPF_K, 1, 0, 0, (int32_t)~r->acc);
			blk[b++] = insn(BPF_JMP | BPF_JNE | BPF_K, 1, 0, 0, 0);
		} else {
			/* any of it: (access & acc) != 0 */
			blk[b++] = insn(BPF_ALU64 | BPF_AND | BPF_K, 1, 0, 0, (int32_t)r->acc);
			blk[b++] = insn(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0, 0);
		}
		blk[b++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, r->allow ? 1 : 0);
		blk[b++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		/* every jump goes to the block's end */
		for (int j = 0; j < b; j++)
			if (BPF_CLASS(blk[j].code) == BPF_JMP && BPF_OP(blk[j].code) != BPF_EXIT)
				blk[j].off = (int16_t)(b - j - 1);
		memcpy(p + k, blk, (size_t)b * sizeof(*blk));
		k += (size_t)b;
	}
	p[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
	p[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	free(rules);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	static const char license[] = "Apache";
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)p;
	a.insn_cnt = (uint32_t)k;
	a.license = (uint64_t)(uintptr_t)license;
	int pfd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	int e = errno;
	free(p);
	if (pfd < 0)
		return error_set(err, OCI_E_IO, e, "load the cgroup v2 devices program");
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgfd;
	a.attach_bpf_fd = (uint32_t)pfd;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	int r = 0;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof(a)) < 0)
		r = error_set(err, OCI_E_IO, errno, "attach the cgroup v2 devices program");
	/* attached, the program lives as long as the cgroup */
	close(pfd);
	return r;
}
