/* Namespaces: which to create and which to join (linux.namespaces), the
 * user namespace's id mappings, and the clone that starts the init in
 * them. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/keyctl.h>
#include "runtime.h"

static const struct {
	const char *name;
	int flag;
} ns_types[] = {
    {"pid", CLONE_NEWPID},	 {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
    {"ipc", CLONE_NEWIPC},	 {"uts", CLONE_NEWUTS},	    {"user", CLONE_NEWUSER},
    {"cgroup", CLONE_NEWCGROUP},
};

static int ns_idmaps(const cJSON *a, const char *key, struct rt_idmap **out, size_t *n,
		     struct oci_error **err)
{
	if (!a)
		return 0;
	if (!cJSON_IsArray(a))
		return error_set(err, OCI_E_INVALID, 0, "linux.%s: not an array", key);
	int cnt = cJSON_GetArraySize(a);
	if (cnt > 340) /* the kernel's limit on lines of uid_map */
		return error_set(err, OCI_E_LIMIT, 0, "linux.%s: more than 340 entries", key);
	*out = xcalloc((size_t)cnt, sizeof(**out));
	const cJSON *m;
	cJSON_ArrayForEach (m, a) {
		struct rt_idmap *im = &(*out)[(*n)++];
		int r;
		if (!cJSON_IsObject(m))
			return error_set(err, OCI_E_INVALID, 0, "linux.%s[%zu]: not an object", key,
					 *n - 1);
		if ((r = rt_json_u32(m, "containerID", true, &im->container, err)) < 0 ||
		    (r = rt_json_u32(m, "hostID", true, &im->host, err)) < 0 ||
		    (r = rt_json_u32(m, "size", true, &im->size, err)) < 0)
			return error_wrap(err, "linux.%s[%zu]", key, *n - 1);
		if (im->size == 0)
			return error_set(err, OCI_E_INVALID, 0, "linux.%s[%zu]: size 0", key,
					 *n - 1);
	}
	return 0;
}

int rt_config_ns(struct rt_config *c, const cJSON *lnx, struct oci_error **err)
{
	const cJSON *a = lnx ? cJSON_GetObjectItemCaseSensitive(lnx, "namespaces") : NULL;
	if (a && !cJSON_IsArray(a))
		return error_set(err, OCI_E_INVALID, 0, "linux.namespaces: not an array");
	c->ns_join = xcalloc((size_t)(a ? cJSON_GetArraySize(a) : 0) + 1, sizeof(struct rt_ns));
	const cJSON *o;
	size_t i = 0;
	cJSON_ArrayForEach (o, a) {
		cleanup_free char *type = NULL, *path = NULL;
		int r;
		if (!cJSON_IsObject(o))
			return error_set(err, OCI_E_INVALID, 0,
					 "linux.namespaces[%zu]: not an object", i);
		if ((r = rt_json_string(o, "type", true, &type, err)) < 0 ||
		    (r = rt_json_string(o, "path", false, &path, err)) < 0)
			return error_wrap(err, "linux.namespaces[%zu]", i);
		int flag = 0;
		for (size_t k = 0; k < sizeof(ns_types) / sizeof(ns_types[0]); k++)
			if (strcmp(type, ns_types[k].name) == 0)
				flag = ns_types[k].flag;
		if (!flag)
			return error_set(err, OCI_E_UNSUPPORTED, 0,
					 "linux.namespaces[%zu]: namespace type \"%s\" is not "
					 "supported",
					 i, type);
		if (c->ns_all & flag)
			return error_set(err, OCI_E_INVALID, 0,
					 "linux.namespaces: \"%s\" given twice", type);
		c->ns_all |= flag;
		if (path && *path) {
			c->ns_join[c->n_join].type = flag;
			c->ns_join[c->n_join++].path = path;
			path = NULL;
		} else {
			c->ns_new |= flag;
		}
		i++;
	}
	/* the rootfs is prepared in a mount namespace of the container's own
	 * (made, or joined by path), never in ours */
	if (!(c->ns_all & CLONE_NEWNS))
		return error_set(err, OCI_E_UNSUPPORTED, 0,
				 "linux.namespaces: a mount namespace is required (without one "
				 "the container's mounts would be made in the host's namespace "
				 "and stay there)");
	int r;
	if ((r = ns_idmaps(lnx ? cJSON_GetObjectItemCaseSensitive(lnx, "uidMappings") : NULL,
			   "uidMappings", &c->uidmap, &c->n_uidmap, err)) < 0 ||
	    (r = ns_idmaps(lnx ? cJSON_GetObjectItemCaseSensitive(lnx, "gidMappings") : NULL,
			   "gidMappings", &c->gidmap, &c->n_gidmap, err)) < 0)
		return r;
	if (c->ns_new & CLONE_NEWUSER) {
		if (!c->n_uidmap || !c->n_gidmap)
			return error_set(err, OCI_E_INVALID, 0,
					 "linux: a new user namespace needs uidMappings and "
					 "gidMappings");
	} else if (c->n_uidmap || c->n_gidmap) {
		return error_set(err, OCI_E_INVALID, 0,
				 "linux: uidMappings and gidMappings need a new user namespace");
	}
	if ((c->hostname || c->domainname) && !(c->ns_all & CLONE_NEWUTS))
		return error_set(err, OCI_E_INVALID, 0,
				 "hostname: setting it needs a uts namespace");
	return 0;
}

/* The order to join: the user namespace first (it decides what we may do
 * in the others), the mount namespace last. */
static int ns_rank(int type)
{
	return type == CLONE_NEWUSER ? 0 : type == CLONE_NEWNS ? 2 : 1;
}

static pid_t ns_clone(int flags)
{
	/* the cgroup namespace comes later, once the init is in its cgroups */
	flags &= ~CLONE_NEWCGROUP;
	/* a fork with namespaces: no new stack, the child returns here */
	return (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

struct ns_report {
	pid_t pid;
	int errnum;
	char msg[200];
};

int ns_spawn(const struct rt_config *c, void (*fn)(void *), void *arg, pid_t *pid,
	     struct oci_error **err)
{
	if (c->n_join == 0) {
		pid_t p = ns_clone(c->ns_new);
		if (p < 0)
			return error_set(err, OCI_E_IO, errno, "clone with new namespaces");
		if (p == 0)
			fn(arg);
		*pid = p;
		return 0;
	}
	/* Joining by path: an intermediate process joins them (we stay where
	 * we are), then clones the init; the init is then reparented to us
	 * when we are a subreaper, or to the system's init. */
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return error_set(err, OCI_E_IO, errno, "pipe");
	pid_t j = fork();
	if (j < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return error_set(err, OCI_E_IO, e, "fork");
	}
	if (j == 0) {
		close(p[0]);
		struct ns_report rep = {0};
		for (int rank = 0; rank < 3; rank++)
			for (size_t i = 0; i < c->n_join; i++) {
				if (ns_rank(c->ns_join[i].type) != rank)
					continue;
				int fd = open(c->ns_join[i].path, O_RDONLY | O_CLOEXEC);
				if (fd < 0 || setns(fd, c->ns_join[i].type) < 0) {
					rep.pid = -1;
					rep.errnum = errno;
					snprintf(rep.msg, sizeof(rep.msg), "join namespace \"%s\"",
						 c->ns_join[i].path);
					if (write(p[1], &rep, sizeof(rep)) < 0)
						_exit(1);
					_exit(1);
				}
				close(fd);
			}
		pid_t child = ns_clone(c->ns_new);
		if (child == 0) {
			close(p[1]);
			fn(arg);
		}
		rep.pid = child;
		if (child < 0) {
			rep.errnum = errno;
			snprintf(rep.msg, sizeof(rep.msg), "clone with new namespaces");
		}
		if (write(p[1], &rep, sizeof(rep)) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	struct ns_report rep = {.pid = -1};
	ssize_t n = read_full(p[0], &rep, sizeof(rep));
	close(p[0]);
	while (waitpid(j, NULL, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(rep))
		return error_set(err, OCI_E_IO, 0, "joining namespaces: the helper died");
	if (rep.pid < 0) {
		rep.msg[sizeof(rep.msg) - 1] = 0;
		return error_set(err, OCI_E_IO, rep.errnum, "%s", rep.msg);
	}
	*pid = rep.pid;
	return 0;
}

static int ns_write_file(pid_t pid, const char *name, const char *text, struct oci_error **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "open %s", path);
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len)
		return error_set(err, OCI_E_IO, errno, "write %s", path);
	return 0;
}

static char *ns_map_text(const struct rt_idmap *m, size_t n)
{
	size_t cap = n * 36 + 1, len = 0;
	char *s = xmalloc(cap);
	s[0] = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%u %u %u\n", m[i].container, m[i].host,
					m[i].size);
	return s;
}

int ns_write_idmaps(const struct rt_config *c, pid_t pid, struct oci_error **err)
{
	if (!(c->ns_new & CLONE_NEWUSER))
		return 0;
	cleanup_free char *u = ns_map_text(c->uidmap, c->n_uidmap);
	cleanup_free char *g = ns_map_text(c->gidmap, c->n_gidmap);
	int r;
	/* Without privilege, the kernel takes a gid_map only once setgroups
	 * is denied; as root we keep setgroups for additionalGids. */
	if (geteuid() != 0 && (r = ns_write_file(pid, "setgroups", "deny", err)) < 0)
		return r;
	if ((r = ns_write_file(pid, "uid_map", u, err)) < 0 ||
	    (r = ns_write_file(pid, "gid_map", g, err)) < 0)
		return error_wrap(err, "user namespace");
	return 0;
}

int ns_setup_child(struct rt_child *ch, struct oci_error **err)
{
	const struct rt_config *c = ch->cfg;
	if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
		return error_set(err, OCI_E_IO, errno, "set hostname \"%s\"", c->hostname);
	if (c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0)
		return error_set(err, OCI_E_IO, errno, "set domainname \"%s\"", c->domainname);
	if (!ch->no_new_keyring) {
		/* a session keyring of its own, not the caller's */
		cleanup_free char *name = xasprintf("_ses.%s", ch->id);
		if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name) < 0 && errno != ENOSYS &&
		    errno != EDQUOT)
			return error_set(err, OCI_E_IO, errno, "join a new session keyring");
	}
	return 0;
}
