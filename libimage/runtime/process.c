/* The container's process: config.json's process and root (parsed
 * strictly), the init's life between clone and execve (user, groups,
 * capabilities, rlimits, no_new_privs, terminal, fds), and the runtime's
 * side of a foreground run (signals forwarded, terminal copied). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include "runtime.h"

extern char **environ;

/* ---- config.json: process ---- */

static const char *cap_names[] = {
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
};
#define N_CAPS (sizeof(cap_names) / sizeof(cap_names[0]))

static int cap_last(void)
{
	static int last = -1;
	if (last >= 0)
		return last;
	char buf[16] = "";
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0)
			last = atoi(buf);
	}
	if (last <= 0 || last > 63)
		last = (int)N_CAPS - 1;
	return last;
}

static int proc_caps(struct rt_config *c, const cJSON *caps, struct oci_error **err)
{
	static const char *sets[CAP_SETS] = {"bounding", "effective", "inheritable", "permitted",
					     "ambient"};
	if (!caps)
		return 0;
	if (!cJSON_IsObject(caps))
		return error_set(err, OCI_E_INVALID, 0, "capabilities: not an object");
	for (int s = 0; s < CAP_SETS; s++) {
		char **names;
		int r = rt_json_strings(caps, sets[s], &names, err);
		if (r < 0)
			return error_wrap(err, "capabilities");
		for (char **n = names; n && *n; n++) {
			const char *nm = strncmp(*n, "CAP_", 4) == 0 ? *n + 4 : *n;
			size_t k = 0;
			while (k < N_CAPS && strcmp(cap_names[k], nm) != 0)
				k++;
			if (k == N_CAPS) {
				r = error_set(err, OCI_E_INVALID, 0,
					      "capabilities.%s: unknown capability \"%s\"", sets[s],
					      *n);
				break;
			}
			if ((int)k > cap_last())
				continue; /* not in this kernel: nothing to grant */
			c->caps[s] |= 1ULL << k;
		}
		rt_strv_free(names);
		if (r < 0)
			return r;
	}
	return 0;
}

static const struct {
	const char *name;
	int res;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int proc_rlimit_value(const cJSON *o, const char *key, rlim_t *out, struct oci_error **err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	uint64_t x;
	if (!oci_json_uint64(v, UINT64_MAX, &x))
		return error_set(err, OCI_E_INVALID, 0, "%s: not an integer in 0..2^64-1", key);
	*out = (rlim_t)x; /* 2^64-1 is RLIM_INFINITY */
	return 0;
}

static int proc_rlimits(struct rt_config *c, const cJSON *a, struct oci_error **err)
{
	if (!a)
		return 0;
	if (!cJSON_IsArray(a))
		return error_set(err, OCI_E_INVALID, 0, "rlimits: not an array");
	c->rlimits = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(struct rt_rlimit));
	const cJSON *o;
	cJSON_ArrayForEach (o, a) {
		size_t i = c->n_rlimits;
		cleanup_free char *type = NULL;
		struct rt_rlimit *rl = &c->rlimits[c->n_rlimits++];
		int r;
		if (!cJSON_IsObject(o))
			return error_set(err, OCI_E_INVALID, 0, "rlimits[%zu]: not an object", i);
		if ((r = rt_json_string(o, "type", true, &type, err)) < 0 ||
		    (r = proc_rlimit_value(o, "soft", &rl->lim.rlim_cur, err)) < 0 ||
		    (r = proc_rlimit_value(o, "hard", &rl->lim.rlim_max, err)) < 0)
			return error_wrap(err, "rlimits[%zu]", i);
		rl->resource = -1;
		for (size_t k = 0; k < sizeof(rlimit_names) / sizeof(rlimit_names[0]); k++)
			if (strcmp(type, rlimit_names[k].name) == 0)
				rl->resource = rlimit_names[k].res;
		if (rl->resource < 0)
			return error_set(err, OCI_E_INVALID, 0, "rlimits[%zu]: unknown type \"%s\"",
					 i, type);
		for (size_t k = 0; k + 1 < c->n_rlimits; k++)
			if (c->rlimits[k].resource == rl->resource)
				return error_set(err, OCI_E_INVALID, 0,
						 "rlimits: \"%s\" given twice", type);
		if (rl->lim.rlim_cur > rl->lim.rlim_max)
			return error_set(err, OCI_E_INVALID, 0,
					 "rlimits[%zu] (%s): soft limit above the hard one", i,
					 type);
	}
	return 0;
}

/* Is this LSM active on the host? AppArmor as runc asks (the module's
 * parameter and its securityfs directory), SELinux by its filesystem. */
static bool lsm_enabled(bool apparmor)
{
	if (!apparmor)
		return access("/sys/fs/selinux/enforce", F_OK) == 0;
	char b[4] = "";
	int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	return n > 0 && b[0] == 'Y' && access("/sys/kernel/security/apparmor", F_OK) == 0;
}

/* A label or profile asked for is applied, or the container is refused:
 * never run unconfined with a warning where confinement was asked. */
static int process_lsm(struct rt_config *c, const cJSON *p, struct oci_error **err)
{
	static const struct {
		const char *key, *lsm;
		bool apparmor;
	} k[] = {{"apparmorProfile", "AppArmor", true}, {"selinuxLabel", "SELinux", false}};
	for (size_t i = 0; i < 2; i++) {
		char *v = NULL;
		int r = rt_json_string(p, k[i].key, false, &v, err);
		if (r < 0)
			return error_wrap(err, "process");
		if (v && !*v) { /* "" is none, as runc takes it */
			free(v);
			v = NULL;
		}
		if (v && (strlen(v) > 4095 || strchr(v, '\n'))) {
			free(v);
			return error_set(err, OCI_E_INVALID, 0,
					 "process.%s: longer than 4,095 bytes or with a newline",
					 k[i].key);
		}
		if (v && !lsm_enabled(k[i].apparmor)) {
			r = error_set(err, OCI_E_UNSUPPORTED, 0,
				      "process.%s \"%s\": %s is not enabled on this host", k[i].key,
				      v, k[i].lsm);
			free(v);
			return r;
		}
		if (k[i].apparmor) {
			free(c->apparmor);
			c->apparmor = v;
		} else {
			free(c->selinux);
			c->selinux = v;
		}
	}
	return 0;
}

int rt_config_process(struct rt_config *c, const cJSON *p, struct oci_error **err)
{
	int r;
	if (!cJSON_IsObject(p))
		return error_set(err, OCI_E_INVALID, 0, "process: missing or not an object");
	if ((r = rt_json_bool(p, "terminal", &c->terminal, err)) < 0 ||
	    (r = rt_json_strings(p, "env", &c->env, err)) < 0 ||
	    (r = rt_json_string(p, "cwd", true, &c->cwd, err)) < 0 ||
	    (r = rt_json_bool(p, "noNewPrivileges", &c->nnp, err)) < 0)
		return error_wrap(err, "process");
	if (!c->args && (r = rt_json_strings(p, "args", &c->args, err)) < 0)
		return error_wrap(err, "process");
	if (!c->args || !c->args[0])
		return error_set(err, OCI_E_INVALID, 0, "process.args: missing or empty");
	if (c->cwd[0] != '/')
		return error_set(err, OCI_E_INVALID, 0, "process.cwd \"%s\": not absolute", c->cwd);
	for (char **e = c->env; e && *e; e++)
		if (!strchr(*e, '='))
			return error_set(err, OCI_E_INVALID, 0, "process.env \"%s\": no '='", *e);
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(p, "consoleSize");
	if (cs) {
		uint32_t h = 0, w = 0;
		if ((r = rt_json_u32(cs, "height", true, &h, err)) < 0 ||
		    (r = rt_json_u32(cs, "width", true, &w, err)) < 0)
			return error_wrap(err, "process.consoleSize");
		c->rows = (unsigned short)(h > 65535 ? 65535 : h);
		c->cols = (unsigned short)(w > 65535 ? 65535 : w);
	}
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(p, "user");
	if (!cJSON_IsObject(u))
		return error_set(err, OCI_E_INVALID, 0, "process.user: missing or not an object");
	uint32_t uid = 0, gid = 0, um = 0;
	if ((r = rt_json_u32(u, "uid", true, &uid, err)) < 0 ||
	    (r = rt_json_u32(u, "gid", true, &gid, err)) < 0)
		return error_wrap(err, "process.user");
	c->uid = uid;
	c->gid = gid;
	if (cJSON_GetObjectItemCaseSensitive(u, "umask")) {
		if ((r = rt_json_u32(u, "umask", false, &um, err)) < 0)
			return error_wrap(err, "process.user");
		if (um > 0777)
			return error_set(err, OCI_E_INVALID, 0, "process.user.umask: above 0777");
		c->umask = um;
		c->has_umask = true;
	}
	const cJSON *ag = cJSON_GetObjectItemCaseSensitive(u, "additionalGids");
	if (ag) {
		if (!cJSON_IsArray(ag))
			return error_set(err, OCI_E_INVALID, 0,
					 "process.user.additionalGids: not an array");
		if (cJSON_GetArraySize(ag) > NGROUPS_MAX)
			return error_set(err, OCI_E_LIMIT, 0,
					 "process.user.additionalGids: too many");
		c->gids = xcalloc((size_t)cJSON_GetArraySize(ag) + 1, sizeof(gid_t));
		const cJSON *g;
		cJSON_ArrayForEach (g, ag) {
			uint64_t x;
			if (!oci_json_uint64(g, UINT32_MAX, &x))
				return error_set(err, OCI_E_INVALID, 0,
						 "process.user.additionalGids: not an integer in "
						 "0..4294967295");
			c->gids[c->n_gids++] = (gid_t)x;
		}
	}
	if (cJSON_GetObjectItemCaseSensitive(u, "username"))
		rt_warn("process.user.username is ignored (uid and gid are used)");
	if ((r = proc_caps(c, cJSON_GetObjectItemCaseSensitive(p, "capabilities"), err)) < 0 ||
	    (r = proc_rlimits(c, cJSON_GetObjectItemCaseSensitive(p, "rlimits"), err)) < 0)
		return error_wrap(err, "process");
	const cJSON *oom = cJSON_GetObjectItemCaseSensitive(p, "oomScoreAdj");
	if (oom) {
		int64_t x;
		if (!oci_json_int64(oom, -1000, 1000, &x))
			return error_set(err, OCI_E_INVALID, 0,
					 "process.oomScoreAdj: not an integer in -1000..1000");
		c->oom_score_adj = (int)x;
		c->has_oom = true;
	}
	if ((r = process_lsm(c, p, err)) < 0)
		return r;
	static const char *ignored[] = {"scheduler", "ioPriority", "execCPUAffinity"};
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, ignored[i]);
		if (v && !(cJSON_IsString(v) && !*v->valuestring))
			rt_warn("process.%s is not implemented: ignored", ignored[i]);
	}
	return 0;
}

/* ---- the init ---- */

void rt_child_fail(struct rt_child *ch, struct oci_error *e)
{
	const char *msg = e && e->msg ? e->msg : "failed";
	if (rt_msg_send(ch->sock, MSG_ERROR, msg, strlen(msg), -1) < 0)
		dprintf(2, "oci-runtime: %s: %s\n", ch->id, msg);
	_exit(1);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Close every fd but those in keep (and 0-2): nothing of the runtime may
 * reach the container. What we keep is O_CLOEXEC and goes at execve. */
void rt_close_all_but(int *keep, size_t n)
{
	qsort(keep, n, sizeof(int), cmp_int);
	unsigned int from = 3;
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 3)
			continue;
		if ((unsigned)keep[i] > from)
			syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0);
		from = (unsigned)keep[i] + 1;
	}
	syscall(SYS_close_range, from, ~0U, 0);
}

char *rt_child_lookup(const struct rt_config *c, struct oci_error **err)
{
	const char *file = c->args[0];
	struct stat st;
	if (strchr(file, '/')) {
		if (stat(file, &st) < 0) {
			error_set(err, OCI_E_NOTFOUND, errno, "exec \"%s\"", file);
			return NULL;
		}
		return xstrdup(file);
	}
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (char **e = c->env; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	for (const char *p = path;;) {
		size_t l = strcspn(p, ":");
		cleanup_free char *cand =
		    l ? xasprintf("%.*s/%s", (int)l, p, file) : xasprintf("./%s", file);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return xstrdup(cand);
		if (!p[l])
			break;
		p += l + 1;
	}
	error_set(err, OCI_E_NOTFOUND, 0, "exec \"%s\": executable file not found in $PATH", file);
	return NULL;
}

/* HOME from the container's own /etc/passwd, never the host's NSS. The
 * image made that file: it may be a FIFO (an open would block), a symlink
 * or a device, or huge; only a regular file of at most 16 MiB is read,
 * opened without blocking or following a last symlink. After pivot_root
 * "/" is the container's root, so the path resolves inside it. */
#define CHILD_PASSWD_MAX (16u << 20)

static char *child_home(uid_t uid)
{
	cleanup_close int fd =
	    open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > CHILD_PASSWD_MAX)
		return xstrdup("/");
	cleanup_free char *buf = xmalloc((size_t)st.st_size + 1);
	ssize_t n = read_full(fd, buf, (size_t)st.st_size);
	if (n < 0)
		return xstrdup("/");
	buf[n] = 0;
	for (char *line = buf, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		char *fld[7] = {0}, *p = line;
		int k = 0;
		for (; k < 7 && p; k++) {
			fld[k] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = 0;
		}
		char *end;
		errno = 0;
		unsigned long v = k >= 6 && fld[2][0] >= '0' && fld[2][0] <= '9'
				      ? strtoul(fld[2], &end, 10)
				      : ULONG_MAX;
		if (v != ULONG_MAX && !errno && !*end && v == uid && fld[5][0] == '/')
			return xstrdup(fld[5]);
	}
	return xstrdup("/");
}

int rt_child_caps(const struct rt_config *c, struct oci_error **err)
{
	int last = cap_last();
	for (int i = 0; i <= last; i++)
		if (!(c->caps[CAP_BOUNDING] & (1ULL << i)) &&
		    prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL)
			return error_set(err, OCI_E_IO, errno,
					 "drop capability %d from the bounding set", i);
	return 0;
}

int rt_child_capset(const struct rt_config *c, struct oci_error **err)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	for (int i = 0; i < 2; i++) {
		d[i].effective = (uint32_t)(c->caps[CAP_EFFECTIVE] >> (32 * i));
		d[i].permitted = (uint32_t)(c->caps[CAP_PERMITTED] >> (32 * i));
		d[i].inheritable = (uint32_t)(c->caps[CAP_INHERITABLE] >> (32 * i));
	}
	if (syscall(SYS_capset, &h, d) < 0)
		return error_set(err, OCI_E_IO, errno, "set capabilities");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return error_set(err, OCI_E_IO, errno, "clear ambient capabilities");
	for (int i = 0; i <= cap_last(); i++)
		if ((c->caps[CAP_AMBIENT] & (1ULL << i)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0) {
			/* an ambient capability must also be permitted and inheritable;
			 * runc only warns when it is not (runc spec's own config) */
			if (errno != EPERM)
				return error_set(err, OCI_E_IO, errno,
						 "raise ambient capability %s", cap_names[i]);
			dprintf(2,
				"oci-runtime: warning: ambient capability %s not raised (not "
				"inheritable)\n",
				cap_names[i]);
		}
	return 0;
}

/* what the process runs under from its next execve: written to its own
 * /proc/thread-self/attr (the container's /proc), as runc does */
static int lsm_write(const char *path, const char *alt, const char *text, const char *what,
		     struct oci_error **err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT && alt)
		fd = open(path = alt, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "%s: open %s", what, path);
	/* only procfs's file: a container that put a tmpfs or a bind of its
	 * own files at /proc would otherwise take the label and run unconfined
	 * (runc's CVE-2019-16884) */
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC) {
		int e = errno;
		close(fd);
		return error_set(err, OCI_E_INVALID, e, "%s: %s is not on procfs", what, path);
	}
	size_t n = strlen(text);
	bool ok = write(fd, text, n) == (ssize_t)n;
	int e = errno;
	close(fd);
	return ok ? 0 : error_set(err, OCI_E_IO, e, "%s: write %s", what, path);
}

int rt_child_lsm(const struct rt_config *c, struct oci_error **err)
{
	if (c->apparmor) {
		cleanup_free char *t = xasprintf("exec %s", c->apparmor);
		cleanup_free char *what = xasprintf("AppArmor profile \"%s\"", c->apparmor);
		int r = lsm_write("/proc/thread-self/attr/apparmor/exec",
				  "/proc/thread-self/attr/exec", t, what, err);
		if (r < 0)
			return r;
	}
	if (c->selinux) {
		cleanup_free char *what = xasprintf("SELinux label \"%s\"", c->selinux);
		return lsm_write("/proc/thread-self/attr/exec", NULL, c->selinux, what, err);
	}
	return 0;
}

int rt_child_confine(const struct rt_config *c, struct oci_error **err)
{
	int r;
	/* the label first, while we may still write our own
	 * /proc/thread-self/attr (seccomp may forbid it later) */
	if ((r = rt_child_lsm(c, err)) < 0)
		return r;
	for (size_t i = 0; i < c->n_rlimits; i++)
		if (setrlimit(c->rlimits[i].resource, &c->rlimits[i].lim) < 0)
			return error_set(err, OCI_E_IO, errno, "set rlimit %d",
					 c->rlimits[i].resource);
	if ((r = rt_child_caps(c, err)) < 0)
		return r;
	/* without no_new_privs the filter needs CAP_SYS_ADMIN: load it first */
	if (!c->nnp && (r = rt_seccomp_load(c, err)) < 0)
		return r;
	if ((r = rt_child_user(c, err)) < 0 || (r = rt_child_capset(c, err)) < 0)
		return r;
	if (c->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return error_set(err, OCI_E_IO, errno, "set no_new_privs");
	if (c->nnp && (r = rt_seccomp_load(c, err)) < 0)
		return r;
	return 0;
}

void rt_child_execve(const struct rt_config *c, const char *exe, char **env, struct oci_error **err)
{
	umask(c->has_umask ? c->umask : 022);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(exe, c->args, env);
	error_set(err, OCI_E_IO, errno, "exec \"%s\"", c->args[0]);
}

int rt_child_user(const struct rt_config *c, struct oci_error **err)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return error_set(err, OCI_E_IO, errno, "keep capabilities");
	if (setgroups(c->n_gids, c->gids) < 0 && !(errno == EPERM && c->n_gids == 0))
		return error_set(err, OCI_E_IO, errno, "set additional groups");
	if (setresgid(c->gid, c->gid, c->gid) < 0)
		return error_set(err, OCI_E_IO, errno, "set gid %u", (unsigned)c->gid);
	if (setresuid(c->uid, c->uid, c->uid) < 0)
		return error_set(err, OCI_E_IO, errno, "set uid %u", (unsigned)c->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return error_set(err, OCI_E_IO, errno, "keep capabilities");
	return 0;
}

char **rt_child_env(const struct rt_config *c)
{
	size_t n = 0;
	bool home = false;
	for (char **e = c->env; e && *e; e++, n++)
		home |= strncmp(*e, "HOME=", 5) == 0;
	char **v = xcalloc(n + 2, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		v[i] = c->env[i];
	if (!home) {
		cleanup_free char *h = child_home(c->uid);
		v[n] = xasprintf("HOME=%s", h);
	}
	return v;
}

static int child_terminal(struct rt_child *ch, struct oci_error **err)
{
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return error_set(err, OCI_E_IO, errno,
				 "terminal: open /dev/ptmx (is /dev/pts mounted?)");
	int unlock = 0, ptn = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &ptn) < 0)
		return error_set(err, OCI_E_IO, errno, "terminal: unlock");
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return error_set(err, OCI_E_IO, errno, "terminal: open the peer");
	char name[32];
	snprintf(name, sizeof(name), "/dev/pts/%d", ptn);
	int r = mount_console(name, err);
	if (r < 0)
		return r;
	if (ch->cfg->rows || ch->cfg->cols) {
		struct winsize ws = {.ws_row = ch->cfg->rows, .ws_col = ch->cfg->cols};
		ioctl(slave, TIOCSWINSZ, &ws);
	}
	/* the process's own, as runc makes it: a program that reopens its
	 * tty (/dev/console, /dev/pts/N) as the process's user may */
	if (fchown(slave, ch->cfg->uid, ch->cfg->gid) < 0)
		return error_set(err, OCI_E_IO, errno, "terminal: give it to %u:%u",
				 (unsigned)ch->cfg->uid, (unsigned)ch->cfg->gid);
	if (rt_msg_send(ch->sock, MSG_PTY, "", 0, master) < 0)
		return error_set(err, OCI_E_IO, errno, "terminal: pass the master");
	close(master);
	if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
		return error_set(err, OCI_E_IO, errno, "terminal: make it the controlling one");
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return error_set(err, OCI_E_IO, errno, "terminal: dup");
	close(slave);
	return 0;
}

void rt_child_main(struct rt_child *ch)
{
	const struct rt_config *c = ch->cfg;
	struct oci_error *e = NULL;
	int keep[] = {ch->sock, ch->fifo, ch->record, ch->nullfd};
	rt_close_all_but(keep, sizeof(keep) / sizeof(keep[0]));
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	umask(0);

	char type;
	char *data = NULL;
	if (rt_msg_recv(ch->sock, &type, &data, NULL, NULL) <= 0 || type != MSG_GO)
		_exit(1);
	ch->hostpid = (pid_t)atoi(data);
	free(data);
	/* the runtime put us in the container's cgroups before its go: a
	 * cgroup namespace made now has them as its root */
	if ((c->ns_new & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0) {
		error_set(&e, OCI_E_IO, errno, "create the cgroup namespace");
		rt_child_fail(ch, e);
	}
	/* From here on nothing in the container may open our /proc/PID/exe
	 * or ptrace us; execve makes the new program dumpable again. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (ns_setup_child(ch, &e) < 0 || mount_rootfs(ch, &e) < 0)
		rt_child_fail(ch, e);
	/* the runtime's hooks (prestart, createRuntime) see our namespaces now */
	if (rt_msg_send(ch->sock, MSG_HOOKS, "", 0, -1) < 0 ||
	    rt_msg_recv(ch->sock, &type, &data, NULL, NULL) <= 0 || type != MSG_HOOKS_DONE)
		_exit(1);
	free(data);
	cleanup_free char *creating = rt_state_json(c, ch->id, "creating", ch->hostpid);
	if (hooks_run(&c->hooks[HOOK_CREATE_CONTAINER], "createContainer", creating, &e) < 0)
		rt_child_fail(ch, e);
	if (mount_pivot(ch, &e) < 0 || mount_finish(ch, &e) < 0)
		rt_child_fail(ch, e);
	close(ch->record);
	if (c->terminal && child_terminal(ch, &e) < 0)
		rt_child_fail(ch, e);
	if (chdir(c->cwd) < 0) {
		error_set(&e, OCI_E_IO, errno, "process.cwd \"%s\"", c->cwd);
		rt_child_fail(ch, e);
	}
	cleanup_free char *exe = rt_child_lookup(c, &e);
	if (!exe)
		rt_child_fail(ch, e);
	char **env = rt_child_env(c);
	/* the LSM label, limits and credentials now, so that a failure shows
	 * at create (as runc's do) rather than after start has said the
	 * process runs */
	if (rt_child_confine(c, &e) < 0)
		rt_child_fail(ch, e);
	/* ready; the runtime answers once our state is saved (if it dies
	 * first, the socket ends and so do we: no init waits unrecorded) */
	if (rt_msg_send(ch->sock, MSG_READY, "", 0, -1) < 0 ||
	    rt_msg_recv(ch->sock, &type, &data, NULL, NULL) <= 0 || type != MSG_COMMIT)
		_exit(1);
	free(data);

	/* wait for start: it writes a byte into exec.fifo */
	char b;
	ssize_t n;
	do
		n = read(ch->fifo, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(1);
	/* ch->fifo stays open: it is close-on-exec, so start, holding the
	 * other end, sees the last reader go when execve replaces us (or when
	 * we die) and knows the container's program runs */
	cleanup_free char *created = rt_state_json(c, ch->id, "created", ch->hostpid);
	if (hooks_run(&c->hooks[HOOK_START_CONTAINER], "startContainer", created, &e) < 0)
		goto fail;
	rt_child_execve(c, exe, env, &e);
fail:
	dprintf(2, "oci-runtime: %s: %s\n", ch->id, e && e->msg ? e->msg : "failed");
	rt_msg_send(ch->sock, MSG_ERROR, e && e->msg ? e->msg : "",
		    e && e->msg ? strlen(e->msg) : 0, -1);
	_exit(127);
}

/* ---- /proc/PID/stat ---- */

int proc_stat_start(pid_t pid, unsigned long long *start, char *state)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *p = strrchr(buf, ')'); /* comm may hold spaces and parens */
	if (!p || p[1] != ' ')
		return -1;
	if (state)
		*state = p[2];
	/* field 3 is the state; start time is field 22 */
	p += 2;
	for (int f = 3; f < 22 && p; f++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p)
		return -1;
	*start = strtoull(p, NULL, 10);
	return 0;
}

/* ---- the sealed copy of the runtime ---- */

/* The copy has no directory: a RUNPATH with $ORIGIN cannot find our
 * library from it. The library's directory goes in LD_LIBRARY_PATH for
 * the re-execution only; the caller's value comes back afterwards. */
static void reexec_restore_env(void)
{
	const char *set = getenv("_OCI_RUNTIME_LDLP_SET");
	if (!set)
		return;
	const char *old = getenv("_OCI_RUNTIME_LDLP");
	if (strcmp(set, "1") == 0 && old)
		setenv("LD_LIBRARY_PATH", old, 1);
	else
		unsetenv("LD_LIBRARY_PATH");
	unsetenv("_OCI_RUNTIME_LDLP_SET");
	unsetenv("_OCI_RUNTIME_LDLP");
}

static void reexec_library_path(const struct stat *exe)
{
	Dl_info info;
	if (!dladdr((void *)oci_runtime_reexec_sealed, &info) || !info.dli_fname ||
	    !strchr(info.dli_fname, '/'))
		return;
	/* oci-runtime links this code statically (libimage/meson.build): there
	 * is no library to find, and a search path would only cost the loader
	 * failed opens in the program's directory on every run. */
	struct stat st;
	if (stat(info.dli_fname, &st) == 0 && st.st_dev == exe->st_dev && st.st_ino == exe->st_ino)
		return;
	cleanup_free char *dir =
	    xstrndup(info.dli_fname, (size_t)(strrchr(info.dli_fname, '/') - info.dli_fname));
	const char *old = getenv("LD_LIBRARY_PATH");
	setenv("_OCI_RUNTIME_LDLP_SET", old ? "1" : "0", 1);
	setenv("_OCI_RUNTIME_LDLP", old ? old : "", 1);
	cleanup_free char *v =
	    old && *old ? xasprintf("%s:%s", *dir ? dir : "/", old) : xstrdup(*dir ? dir : "/");
	setenv("LD_LIBRARY_PATH", v, 1);
}

int oci_runtime_reexec_sealed(char **argv, struct oci_error **err)
{
	cleanup_close int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return error_set(err, OCI_E_IO, errno, "open /proc/self/exe");
	int seals = fcntl(self, F_GET_SEALS);
	int want = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	if (seals >= 0 && (seals & want) == want) {
		unsetenv("_OCI_RUNTIME_SEALED");
		reexec_restore_env();
		return 0;
	}
	if (getenv("_OCI_RUNTIME_SEALED"))
		return error_set(err, OCI_E_IO, 0, "re-executed, yet not from a sealed copy");
	struct stat st;
	if (fstat(self, &st) < 0)
		return error_set(err, OCI_E_IO, errno, "stat /proc/self/exe");
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
	cleanup_close int mfd =
	    memfd_create("oci-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL)
		mfd = memfd_create("oci-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return error_set(err, OCI_E_IO, errno, "memfd_create");
	off_t off = 0;
	while (off < st.st_size) {
		ssize_t n = sendfile(mfd, self, &off, (size_t)(st.st_size - off));
		if (n <= 0)
			return error_set(err, OCI_E_IO, n < 0 ? errno : EIO,
					 "copy the runtime into memory");
	}
	if (fcntl(mfd, F_ADD_SEALS, want) < 0)
		return error_set(err, OCI_E_IO, errno, "seal the runtime's copy");
	setenv("_OCI_RUNTIME_SEALED", "1", 1);
	reexec_library_path(&st);
	syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
	int e = errno;
	unsetenv("_OCI_RUNTIME_SEALED");
	reexec_restore_env();
	return error_set(err, OCI_E_IO, e, "re-execute from a sealed copy");
}

/* ---- run in the foreground: wait, forward signals, copy the terminal ---- */

struct rt_wait {
	pid_t pid;
	int sigfd, master;
};

static void wait_copy(int from, int to, bool *open_)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			*open_ = false;
		return;
	}
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = {.fd = to, .events = POLLOUT};
			poll(&pf, 1, 1000);
			continue;
		}
		if (w <= 0)
			return;
		off += w;
	}
}

int rt_wait_signals(sigset_t *old, struct oci_error **err)
{
	sigset_t set;
	sigemptyset(&set);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaddset(&set, sigs[i]);
		/* an ignored signal would never reach the signalfd (a shell
		 * starts background jobs with SIGINT ignored) */
		signal(sigs[i], SIG_DFL);
	}
	sigprocmask(SIG_BLOCK, &set, old);
	int fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		sigprocmask(SIG_SETMASK, old, NULL);
		return error_set(err, OCI_E_IO, e, "signalfd");
	}
	return fd;
}

int rt_wait_loop(pid_t pid, pid_t target, int target_pidfd, int sigfd, int master, bool reap_all,
		 int *wstatus, struct oci_error **err)
{
	bool in_open = master >= 0, out_open = master >= 0;
	struct termios saved;
	bool raw = false;
	if (master >= 0 && isatty(0) && tcgetattr(0, &saved) == 0) {
		struct termios t = saved;
		cfmakeraw(&t);
		raw = tcsetattr(0, TCSANOW, &t) == 0;
		struct winsize ws;
		if (ioctl(0, TIOCGWINSZ, &ws) == 0)
			ioctl(master, TIOCSWINSZ, &ws);
	}
	if (master >= 0)
		fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	bool done = false;
	int st = 0;
	while (!done) {
		struct pollfd pf[3] = {{.fd = sigfd, .events = POLLIN},
				       {.fd = out_open ? master : -1, .events = POLLIN},
				       {.fd = in_open ? 0 : -1, .events = POLLIN}};
		int n = poll(pf, 3, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_set(err, OCI_E_IO, errno, "poll");
			break;
		}
		if (pf[1].revents)
			wait_copy(master, 1, &out_open);
		if (pf[2].revents)
			wait_copy(0, master, &in_open);
		if (!pf[0].revents)
			continue;
		struct signalfd_siginfo si;
		if (read(sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			continue;
		int sig = (int)si.ssi_signo;
		if (sig == SIGCHLD) {
			int s;
			pid_t p;
			while ((p = waitpid(reap_all ? -1 : pid, &s, WNOHANG)) > 0)
				if (p == pid) {
					st = s;
					done = true;
				}
		} else if (sig == SIGWINCH) {
			struct winsize ws;
			if (master >= 0 && ioctl(0, TIOCGWINSZ, &ws) == 0)
				ioctl(master, TIOCSWINSZ, &ws);
		} else if (target_pidfd >= 0) {
			/* not our child (exec's process is its helper's): by pidfd,
			 * never a pid the helper may have reaped and the system
			 * given to another process since */
			syscall(SYS_pidfd_send_signal, target_pidfd, sig, NULL, 0);
		} else {
			kill(target, sig);
		}
	}
	/* what the container wrote last */
	while (master >= 0 && out_open) {
		struct pollfd pf = {.fd = master, .events = POLLIN};
		if (poll(&pf, 1, 0) <= 0)
			break;
		wait_copy(master, 1, &out_open);
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	*wstatus = st;
	return done ? 0 : error_status(err, OCI_E_IO);
}
