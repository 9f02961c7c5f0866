/* cgroup.c without a cgroup file system: the layout read from mountinfo
 * texts (v1, v2, hybrid), cgroupsPath resolution (never out of the
 * mount), and linux.resources formatted for v1 and v2. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>
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

/* open path in a child moved into the v2 cgroup dir; its errno (0: opened) */
static int open_in(const char *dir, const char *path, int flags)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t c = fork();
	if (c == 0) {
		char procs[512], pid[32];
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		int fd = open(procs, O_WRONLY | O_CLOEXEC);
		int e = fd < 0 || write(fd, pid, strlen(pid)) < 0 ? -1 : 0;
		if (e == 0) {
			int f = open(path, flags | O_CLOEXEC);
			e = f < 0 ? errno : 0;
		}
		if (write(p[1], &e, sizeof(e)) < 0)
			_exit(1);
		_exit(0);
	}
	int e = -1;
	close(p[1]);
	if (read(p[0], &e, sizeof(e)) != sizeof(e))
		e = -1;
	close(p[0]);
	waitpid(c, NULL, 0);
	return e;
}

/* the v2 devices program, on a real v2 hierarchy when there is one we may
 * write (the unified one of a hybrid host will do) */
static void bpf_test(void)
{
	static const char *roots[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
	const char *root = NULL;
	for (size_t i = 0; i < 2 && !root; i++) {
		struct statfs sf;
		if (statfs(roots[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
			root = roots[i];
	}
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/oci-test-cgroup-%d", root ? root : "", (int)getpid());
	if (!root || getuid() != 0 || mkdir(dir, 0755) < 0) {
		ok(1, "# SKIP no writable cgroup v2 hierarchy (root needed)");
		return;
	}
	cJSON *r = js("{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":false,"
		      "\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"w\"}]}");
	struct rt_cg_write *w;
	size_t n;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct oci_error *e = NULL;
	ok(rt_cg_writes(r, NULL, true, &w, &n, NULL) == 0 && rt_cg_devices_bpf(fd, w, n, &e) == 0,
	   "v2 devices: the program loads and attaches%s%s", e ? ": " : "", e ? e->msg : "");
	oci_error_free(e);
	ok(open_in(dir, "/dev/null", O_RDONLY) == 0, "v2 devices: /dev/null may be read");
	ok(open_in(dir, "/dev/null", O_WRONLY) == EPERM, "v2 devices: the config's deny of its w");
	ok(open_in(dir, "/dev/zero", O_RDWR) == 0, "v2 devices: a default device is allowed");
	ok(open_in(dir, "/dev/kmsg", O_RDONLY) == EPERM, "v2 devices: others are denied");
	rt_cg_writes_free(w, n);
	cJSON_Delete(r);
	close(fd);
	rmdir(dir);
}

/* linux.resources' ranges at their bounds: each member's largest (or
 * smallest) value accepted, one past it refused with its range named */
static void ranges_test(void)
{
	static const struct {
		const char *ok, *bad, *said;
	} t[] = {
	    {"{\"memory\":{\"swappiness\":100}}", "{\"memory\":{\"swappiness\":101}}",
	     "memory.swappiness: not an integer in 0..100"},
	    {"{\"memory\":{\"limit\":9223372036854775807}}",
	     "{\"memory\":{\"limit\":9223372036854775808}}", "memory.limit"},
	    {"{\"memory\":{\"limit\":-1}}", "{\"memory\":{\"limit\":-2}}", "memory.limit"},
	    {"{\"cpu\":{\"shares\":262144}}", "{\"cpu\":{\"shares\":262145}}",
	     "cpu.shares: not an integer in 0..262144"},
	    {"{\"cpu\":{\"period\":1000000}}", "{\"cpu\":{\"period\":1000001}}", "cpu.period"},
	    {"{\"cpu\":{\"quota\":-1}}", "{\"cpu\":{\"quota\":-2}}", "cpu.quota"},
	    {"{\"cpu\":{\"burst\":4294967295}}", "{\"cpu\":{\"burst\":4294967296}}", "cpu.burst"},
	    {"{\"cpu\":{\"realtimePeriod\":1000000}}", "{\"cpu\":{\"realtimePeriod\":1000001}}",
	     "cpu.realtimePeriod"},
	    {"{\"blockIO\":{\"weight\":1000}}", "{\"blockIO\":{\"weight\":1001}}",
	     "blockIO.weight: not an integer in 0..1000"},
	    {"{\"network\":{\"classID\":4294967295}}", "{\"network\":{\"classID\":4294967296}}",
	     "network.classID"},
	    {"{\"pids\":{\"limit\":9223372036854775807}}",
	     "{\"pids\":{\"limit\":9223372036854775808}}", "pids.limit"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (int v2 = 0; v2 < 2; v2++) {
			cJSON *j = js(t[i].ok);
			struct rt_cg_write *w = NULL;
			size_t n = 0;
			struct oci_error *e = NULL;
			ok(j && rt_cg_writes(j, NULL, v2, &w, &n, &e) == 0, "%s (%s): accepted",
			   t[i].ok, v2 ? "v2" : "v1");
			rt_cg_writes_free(w, n);
			oci_error_free(e);
			cJSON_Delete(j);
			j = js(t[i].bad);
			w = NULL, n = 0, e = NULL;
			int r = j ? rt_cg_writes(j, NULL, v2, &w, &n, &e) : 0;
			ok(r < 0 && e && strstr(e->msg, t[i].said), "%s (%s): refused, naming %s",
			   t[i].bad, v2 ? "v2" : "v1", t[i].said);
			rt_cg_writes_free(w, n);
			oci_error_free(e);
			cJSON_Delete(j);
		}
	}
}

int main(void)
{
	struct rt_cg_layout l;
	ranges_test();
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

	/* a cgroup2 mounted over the hybrid layout's tmpfs (unshare -m): the
	 * hierarchies below it are hidden, only it is used */
	char *over =
	    xasprintf("%s%s", hybrid_mi, "50 30 0:27 / /sys/fs/cgroup rw - cgroup2 none rw\n");
	rt_cg_layout_parse(over, hybrid_cg, &l);
	ok(l.n == 1 && l.h[0].v2 && !l.v1 && strcmp(l.h[0].mnt, "/sys/fs/cgroup") == 0,
	   "v2 over a hybrid layout: the covered hierarchies are not used (%zu)", l.n);
	rt_cg_layout_free(&l);
	free(over);
	/* mounts beside a hierarchy or on it do not hide it */
	rt_cg_layout_parse("30 25 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
			   "31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
			   "36 30 0:40 / /sys/fs/cgroup/other rw - tmpfs tmpfs rw\n"
			   "37 31 0:41 / /sys/fs/cgroup/unified/x rw - tmpfs tmpfs rw\n",
			   "0::/\n", &l);
	ok(l.n == 1 && l.h[0].v2, "mounts beside or below a hierarchy do not hide it");
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
	bpf_test();
	return done_testing();
}
