/* cgroup.c without a cgroup file system: the layout read from mountinfo
 * texts (v1, v2, hybrid), cgroupsPath resolution (never out of the
 * mount), and linux.resources formatted for v1 and v2. */
#include <string.h>
#include "tap.h"
#include "../../libimage/runtime/runtime.h"

static const char *hybrid_mi =
    "30 25 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
    "32 30 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
    "33 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    "34 30 0:30 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
    "35 30 0:31 / /sys/fs/cgroup/my\\040dir rw - cgroup cgroup rw,pids\n";
static const char *hybrid_cg = "5:pids:/\n4:cpu,cpuacct:/a\n3:memory:/user/x\n"
			       "2:name=systemd:/s\n0::/u\n";

static struct rt_cg_hier *find(struct rt_cg_layout *l, const char *mnt)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->h[i].mnt, mnt) == 0)
			return &l->h[i];
	return NULL;
}

static char *w_value(struct rt_cg_write *w, size_t n, const char *file)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w[i].file, file) == 0)
			return w[i].value;
	return NULL;
}

static cJSON *js(const char *t)
{
	cJSON *j = NULL;
	oci_json_parse(t, strlen(t), &j, NULL);
	return j;
}

int main(void)
{
	struct rt_cg_layout l;
	rt_cg_layout_parse(hybrid_mi, hybrid_cg, &l);
	ok(l.n == 5, "hybrid: 5 hierarchies (the tmpfs is not one)");
	ok(l.v1, "hybrid: the controllers go through v1");
	struct rt_cg_hier *m = find(&l, "/sys/fs/cgroup/memory");
	ok(m && strcmp(m->own, "user/x") == 0, "memory: our own cgroup from /proc/self/cgroup");
	struct rt_cg_hier *c = find(&l, "/sys/fs/cgroup/cpu,cpuacct");
	ok(c && rt_cg_has(c->ctrls, "cpuacct") && strcmp(c->own, "a") == 0, "cpu,cpuacct: both");
	ok(find(&l, "/sys/fs/cgroup/my dir") != NULL, "a mount point's \\040 is a space");
	struct rt_cg_hier *u = find(&l, "/sys/fs/cgroup/unified");
	ok(u && u->v2 && strcmp(u->own, "u") == 0, "the v2 hierarchy, 0::");
	char *p = rt_cg_resolve(m, "a/b", true, "id");
	ok(p && strcmp(p, "a/b") == 0, "absolute: from the mount");
	free(p);
	p = rt_cg_resolve(m, "a/b", false, "id");
	ok(p && strcmp(p, "user/x/a/b") == 0, "relative: from our own cgroup");
	free(p);
	p = rt_cg_resolve(m, NULL, false, "c1");
	ok(p && strcmp(p, "user/x/oci-runtime-c1") == 0, "default: oci-runtime-ID by our own");
	free(p);
	p = rt_cg_resolve(m, "../../../etc", true, "id");
	ok(p == NULL, "a .. is refused");
	p = rt_cg_resolve(m, "a/../../x", false, "id");
	ok(p == NULL, "a .. anywhere is refused");
	rt_cg_layout_free(&l);

	rt_cg_layout_parse("40 1 0:33 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/x/y\n", &l);
	ok(l.n == 1 && !l.v1 && strcmp(l.h[0].own, "x/y") == 0, "v2 only: unified");
	rt_cg_layout_free(&l);
	rt_cg_layout_parse("40 1 0:33 /x /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/x/y\n",
			   &l);
	ok(l.n == 1 && strcmp(l.h[0].own, "y") == 0, "a mount of a sub-tree: our path below it");
	rt_cg_layout_free(&l);

	cJSON *r =
	    js("{\"memory\":{\"limit\":1048576,\"swap\":2097152},\"cpu\":{\"shares\":1024,"
	       "\"quota\":50000,\"period\":100000,\"cpus\":\"0-1\"},\"pids\":{\"limit\":-1}}");
	struct rt_cg_write *w;
	size_t n;
	ok(rt_cg_writes(r, NULL, false, &w, &n, NULL) == 0, "v1: formatted");
	ok(strcmp(w_value(w, n, "memory.limit_in_bytes"), "1048576") == 0, "v1: memory limit");
	ok(strcmp(w_value(w, n, "memory.memsw.limit_in_bytes"), "2097152") == 0, "v1: memsw");
	ok(strcmp(w_value(w, n, "cpu.cfs_quota_us"), "50000") == 0, "v1: quota");
	ok(strcmp(w_value(w, n, "pids.max"), "max") == 0, "v1: pids -1 is max");
	rt_cg_writes_free(w, n);
	ok(rt_cg_writes(r, NULL, true, &w, &n, NULL) == 0, "v2: formatted");
	ok(strcmp(w_value(w, n, "memory.max"), "1048576") == 0, "v2: memory.max");
	ok(strcmp(w_value(w, n, "memory.swap.max"), "1048576") == 0, "v2: swap is swap alone");
	ok(strcmp(w_value(w, n, "cpu.max"), "50000 100000") == 0, "v2: cpu.max");
	ok(strcmp(w_value(w, n, "cpu.weight"), "39") == 0, "v2: shares 1024 -> weight 39");
	ok(strcmp(w_value(w, n, "cpuset.cpus"), "0-1") == 0, "v2: cpuset.cpus");
	rt_cg_writes_free(w, n);
	cJSON_Delete(r);

	static const char *bad[] = {
	    "{\"memory\":{\"limit\":1.5}}",
	    "{\"memory\":{\"limit\":-2}}",
	    "{\"memory\":{\"limit\":9223372036854775808}}",
	    "{\"cpu\":{\"cpus\":\"0\\nx\"}}",
	    "{\"pids\":{\"limit\":\"10\"}}",
	    "{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}",
	    "{\"devices\":[{\"access\":\"r\"}]}",
	    "{\"hugepageLimits\":[{\"pageSize\":\"2MB/../x\",\"limit\":1}]}",
	    "{\"network\":{\"priorities\":[{\"name\":\"eth0\\nx\",\"priority\":1}]}}",
	    "{\"unified\":{\"memory.max\":\"1\"}}",
	    "{\"frob\":{}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = js(bad[i]);
		struct oci_error *e = NULL;
		ok(r && rt_cg_writes(r, NULL, false, &w, &n, &e) < 0 && e, "refused: %s", bad[i]);
		oci_error_free(e);
		cJSON_Delete(r);
	}
	r = js("{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\","
	       "\"major\":10,\"minor\":200,\"access\":\"rw\"}]}");
	ok(rt_cg_writes(r, NULL, false, &w, &n, NULL) == 0 && n > 3, "devices: formatted");
	ok(strcmp(w[0].file, "devices.deny") == 0 && strcmp(w[0].value, "a") == 0,
	   "devices: deny all first");
	ok(strcmp(w[1].value, "c 10:200 rw") == 0, "devices: the config's rules in order");
	ok(strcmp(w[2].value, "c 1:3 rwm") == 0, "devices: then the defaults (/dev/null)");
	rt_cg_writes_free(w, n);
	cJSON_Delete(r);
	r = js("{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":false,\"type\":\"c\","
	       "\"major\":1,\"minor\":3,\"access\":\"rw\"}]}");
	ok(rt_cg_writes(r, NULL, false, &w, &n, NULL) == 0, "devices: a deny of c 1:3");
	bool reallowed = false;
	for (size_t i = 0; i < n; i++)
		reallowed |= strcmp(w[i].file, "devices.allow") == 0 &&
			     strncmp(w[i].value, "c 1:3 ", 6) == 0 &&
			     strcmp(w[i].value, "c 1:3 m") != 0;
	ok(!reallowed, "devices: what the config denies of a default is not allowed again");
	rt_cg_writes_free(w, n);
	cJSON_Delete(r);
	return done_testing();
}
