/* The container's root filesystem, built from inside the init's mount
 * namespace before pivot_root: mounts resolved in the rootfs (openat2
 * RESOLVE_IN_ROOT) and mounted through /proc/self/fd, the default devices,
 * masked and read-only paths. What the runtime had to create in the rootfs
 * is recorded, so that delete can remove it again. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <linux/magic.h>
#include <sched.h>
#include "../inroot.h"
#include "../pathmap.h"
#include "runtime.h"

/* ---- config.json: mounts ---- */

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} mnt_flags[] = {
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},
    {"defaults", false, 0},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"iversion", false, MS_I_VERSION},
    {"lazytime", false, MS_LAZYTIME},
    {"loud", true, MS_SILENT},
    {"mand", false, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"noiversion", true, MS_I_VERSION},
    {"nolazytime", true, MS_LAZYTIME},
    {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"silent", false, MS_SILENT},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
};

static const struct {
	const char *name;
	unsigned long flag;
} mnt_props[] = {
    {"private", MS_PRIVATE},	   {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},	   {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},	   {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

static const struct {
	const char *name;
	bool clear;
	uint64_t attr;
} mnt_rattrs[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},
    {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},
    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},
    {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},
    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
};

unsigned long rt_mount_prop(const char *name)
{
	for (size_t i = 0; i < sizeof(mnt_props) / sizeof(mnt_props[0]); i++)
		if (strcmp(name, mnt_props[i].name) == 0)
			return mnt_props[i].flag;
	return 0;
}

static int mnt_options(struct rt_mount *m, char **opts, struct oci_error **err)
{
	size_t cap = 1, len = 0;
	for (char **o = opts; o && *o; o++)
		cap += strlen(*o) + 1;
	m->data = xcalloc(1, cap);
	for (char **o = opts; o && *o; o++) {
		const char *s = *o;
		bool done = false;
		for (size_t i = 0; i < sizeof(mnt_flags) / sizeof(mnt_flags[0]) && !done; i++)
			if (strcmp(s, mnt_flags[i].name) == 0) {
				if (mnt_flags[i].clear)
					m->flags &= ~mnt_flags[i].flag;
				else
					m->flags |= mnt_flags[i].flag;
				done = true;
			}
		for (size_t i = 0; i < sizeof(mnt_props) / sizeof(mnt_props[0]) && !done; i++)
			if (strcmp(s, mnt_props[i].name) == 0) {
				m->prop = mnt_props[i].flag;
				done = true;
			}
		for (size_t i = 0; i < sizeof(mnt_rattrs) / sizeof(mnt_rattrs[0]) && !done; i++)
			if (strcmp(s, mnt_rattrs[i].name) == 0) {
				if (mnt_rattrs[i].clear) {
					m->attr_clr |= mnt_rattrs[i].attr;
					m->attr_set &= ~mnt_rattrs[i].attr;
				} else {
					m->attr_set |= mnt_rattrs[i].attr;
					m->attr_clr &= ~mnt_rattrs[i].attr;
				}
				done = true;
			}
		if (done)
			continue;
		if (strcmp(s, "idmap") == 0 || strcmp(s, "ridmap") == 0 ||
		    strcmp(s, "tmpcopyup") == 0 || strcmp(s, "remount") == 0 ||
		    strncmp(s, "X-mount.", 8) == 0)
			return error_set(err, OCI_E_UNSUPPORTED, 0,
					 "option \"%s\" is not supported", s);
		if (strchr(s, ','))
			return error_set(err, OCI_E_INVALID, 0, "option \"%s\": has a comma", s);
		len += (size_t)snprintf(m->data + len, cap - len, "%s%s", len ? "," : "", s);
	}
	m->bind = (m->flags & MS_BIND) != 0 || (m->type && strcmp(m->type, "bind") == 0);
	m->rec = (m->flags & MS_REC) != 0;
	m->flags &= ~(MS_BIND | MS_REC);
	return 0;
}

int rt_config_mounts(struct rt_config *c, const cJSON *mounts, struct oci_error **err)
{
	if (!mounts)
		return 0;
	if (!cJSON_IsArray(mounts))
		return error_set(err, OCI_E_INVALID, 0, "mounts: not an array");
	c->mounts = xcalloc((size_t)cJSON_GetArraySize(mounts) + 1, sizeof(struct rt_mount));
	const cJSON *o;
	cJSON_ArrayForEach (o, mounts) {
		size_t i = c->n_mounts;
		struct rt_mount *m = &c->mounts[c->n_mounts++];
		cleanup_free char *dest = NULL;
		cleanup_strv char **opts = NULL;
		int r;
		if (!cJSON_IsObject(o))
			return error_set(err, OCI_E_INVALID, 0, "mounts[%zu]: not an object", i);
		if ((r = rt_json_string(o, "destination", true, &dest, err)) < 0 ||
		    (r = rt_json_string(o, "type", false, &m->type, err)) < 0 ||
		    (r = rt_json_string(o, "source", false, &m->source, err)) < 0 ||
		    (r = rt_json_strings(o, "options", &opts, err)) < 0)
			return error_wrap(err, "mounts[%zu]", i);
		if (cJSON_GetObjectItemCaseSensitive(o, "uidMappings") ||
		    cJSON_GetObjectItemCaseSensitive(o, "gidMappings"))
			return error_set(err, OCI_E_UNSUPPORTED, 0,
					 "mounts[%zu] (%s): id-mapped mounts are not supported", i,
					 dest);
		if (dest[0] != '/')
			return error_set(err, OCI_E_INVALID, 0,
					 "mounts[%zu]: destination \"%s\" is not absolute", i,
					 dest);
		m->dest = rt_clean_path(dest);
		if (!*m->dest)
			return error_set(err, OCI_E_INVALID, 0,
					 "mounts[%zu]: mounting over / is not supported", i);
		r = mnt_options(m, opts, err);
		if (r < 0)
			return error_wrap(err, "mounts[%zu] (%s)", i, dest);
		if (!m->bind && (!m->type || !*m->type || strcmp(m->type, "none") == 0))
			return error_set(err, OCI_E_INVALID, 0,
					 "mounts[%zu] (%s): no type and not a bind mount", i, dest);
		if (m->bind && !m->source)
			return error_set(err, OCI_E_INVALID, 0,
					 "mounts[%zu] (%s): a bind mount needs a source", i, dest);
		if (m->bind && m->source[0] != '/') {
			char *abs = xasprintf("%s/%s", c->bundle, m->source);
			free(m->source);
			m->source = abs;
		}
	}
	return 0;
}

/* ---- inside the init: the mount context and the record ---- */

struct mnt_touched {
	char *path;
	struct timespec before;
};

static struct {
	int rootfd;
	uint64_t root_mnt;
	int rec;
	struct mnt_touched *touched;
	size_t n_touched;
	bool userns;
	int *srcfds; /* bind mounts' sources, opened before we leave the host's uid */
	struct rt_child *ch;
} M = {.rootfd = -1, .rec = -1};

static int mnt_open(int rootfd, const char *path, int flags)
{
	struct oci_error *e = NULL;
	int fd = inroot_open(rootfd, path, flags, &e);
	if (fd < 0) {
		errno = e && e->errnum ? e->errnum : EIO;
		oci_error_free(e);
		return -1;
	}
	return fd;
}

static uint64_t mnt_id_of(int fd)
{
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0 ||
	    !(stx.stx_mask & STATX_MNT_ID))
		return 0;
	return stx.stx_mnt_id;
}

static void mnt_record(const char *line)
{
	if (M.rec < 0)
		return;
	size_t n = strlen(line) + 1; /* the NUL is the separator */
	if (write(M.rec, line, n) != (ssize_t)n) {
		/* nothing better to do: the entry stays behind at delete */
	}
}

int rt_create_op(int parentfd, const char *base, char kind, mode_t mode, dev_t dev,
		 const char *target)
{
	int r;
	if (kind == 'D') {
		r = mkdirat(parentfd, base, mode);
	} else if (kind == 'F') {
		r = openat(parentfd, base, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			   mode);
		if (r >= 0)
			r = close(r);
	} else if (kind == 'N') {
		r = mknodat(parentfd, base, mode, dev);
	} else {
		r = symlinkat(target, parentfd, base);
	}
	return r;
}

/* Create base in parentfd (path is its name from the root): a directory,
 * an empty file, a device node or a symlink. Recorded when on the rootfs
 * itself (not inside a tmpfs we mounted). */
static int mnt_create(int parentfd, const char *parent, const char *base, const char *path,
		      char kind, mode_t mode, dev_t dev, const char *target)
{
	bool on_root = M.root_mnt && mnt_id_of(parentfd) == M.root_mnt;
	if (on_root) {
		bool seen = false;
		for (size_t i = 0; i < M.n_touched && !seen; i++)
			seen = strcmp(M.touched[i].path, parent) == 0;
		struct stat st;
		if (!seen && fstat(parentfd, &st) == 0) {
			M.touched = xrealloc(M.touched, (M.n_touched + 1) * sizeof(*M.touched));
			M.touched[M.n_touched].path = xstrdup(parent);
			M.touched[M.n_touched++].before = st.st_mtim;
			cleanup_free char *l =
			    xasprintf("T %lld %ld %s", (long long)st.st_mtim.tv_sec,
				      st.st_mtim.tv_nsec, parent);
			mnt_record(l);
		}
	}
	int r = rt_create_op(parentfd, base, kind, mode, dev, target);
	if (r < 0 && (errno == EACCES || errno == EPERM) && M.userns) {
		/* As the user namespace's root we may not write where the
		 * host's root owns the rootfs: the runtime does it for us, in
		 * the directory we resolved (its fd passed along). */
		cleanup_free char *req =
		    xasprintf("%c %o %lu %s%c%s", kind, (unsigned)mode, (unsigned long)dev, base, 0,
			      target ? target : "");
		size_t len = strlen(req) + 1 + (target ? strlen(target) : 0);
		char type;
		char *ans = NULL;
		if (rt_msg_send(M.ch->sock, MSG_CREATE, req, len, parentfd) < 0 ||
		    rt_msg_recv(M.ch->sock, &type, &ans, NULL, NULL) <= 0 || type != MSG_CREATED)
			_exit(1);
		errno = atoi(ans);
		free(ans);
		r = errno ? -1 : 0;
	}
	if (r < 0)
		return -1;
	if (on_root) {
		cleanup_free char *l = xasprintf("%c %s", kind, path);
		mnt_record(l);
	}
	return 0;
}

/* The fd (O_PATH, O_DIRECTORY) of directory path in the root, made with
 * its missing parents. */
static int mnt_mkdirs(const char *path, struct oci_error **err)
{
	/* Up to the nearest directory that exists, then down making each
	 * missing one: a loop, not a call per component (a destination of
	 * 2,000 components is 2,000 iterations, never 2,000 stack frames). */
	size_t total = strlen(path), len = total;
	cleanup_free char *p = xstrdup(path);
	int fd;
	for (;;) {
		p[len] = 0;
		fd = mnt_open(M.rootfd, p, O_PATH | O_DIRECTORY);
		if (fd >= 0)
			break;
		if (errno != ENOENT || len == 0)
			return error_set(err, OCI_E_IO, errno, "open directory \"/%s\"", p);
		const char *s = memrchr(path, '/', len);
		len = s ? (size_t)(s - path) : 0;
	}
	while (len < total) {
		size_t start = path[len] == '/' ? len + 1 : len; /* "/work": "" then "work" */
		const char *e = strchr(path + start, '/');
		size_t end = e ? (size_t)(e - path) : total;
		cleanup_free char *parent = xstrndup(path, len);
		cleanup_free char *base = xstrndup(path + start, end - start);
		memcpy(p, path, end);
		p[end] = 0;
		if (mnt_create(fd, parent, base, p, 'D', 0755, 0, NULL) < 0 && errno != EEXIST) {
			int en = errno;
			close(fd);
			return error_set(err, OCI_E_IO, en, "create directory \"/%s\"", p);
		}
		close(fd);
		fd = mnt_open(M.rootfd, p, O_PATH | O_DIRECTORY);
		if (fd < 0)
			return error_set(err, OCI_E_IO, errno, "open directory \"/%s\"", p);
		len = end;
	}
	return fd;
}

/* The destination of a mount, created (a directory, or a file when dir is
 * false) when missing. nolink: refuse a symlink there (/proc, /sys, /dev:
 * a symlink would move them and what is masked under them). */
static int mnt_dest(const char *dest, bool dir, bool nolink, struct oci_error **err)
{
	const char *slash = strrchr(dest, '/');
	cleanup_free char *parent = slash ? xstrndup(dest, (size_t)(slash - dest)) : xstrdup("");
	const char *base = slash ? slash + 1 : dest;
	cleanup_close int pfd = mnt_mkdirs(parent, err);
	if (pfd < 0)
		return pfd;
	struct stat st;
	if (strcmp(base, "..") != 0 && strcmp(base, ".") != 0 &&
	    fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode) && nolink)
			return error_set(err, OCI_E_INVALID, 0,
					 "\"/%s\" is a symlink in the rootfs: refused", dest);
	} else if (errno == ENOENT) {
		if (mnt_create(pfd, parent, base, dest, dir ? 'D' : 'F', dir ? 0755 : 0644, 0,
			       NULL) < 0 &&
		    errno != EEXIST)
			return error_set(err, OCI_E_IO, errno, "create \"/%s\"", dest);
	}
	int fd = mnt_open(M.rootfd, dest, O_PATH);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "open \"/%s\" in the rootfs", dest);
	if (fstat(fd, &st) == 0 && dir && !S_ISDIR(st.st_mode)) {
		close(fd);
		return error_set(err, OCI_E_INVALID, 0, "\"/%s\": not a directory", dest);
	}
	return fd;
}

static void fdpath(char *buf, size_t n, int fd)
{
	snprintf(buf, n, "/proc/self/fd/%d", fd);
}

static unsigned long mnt_locked_flags(int fd)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (fstatvfs(fd, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	if (sv.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	return f;
}

/* Remount the bind mount now on top of dest with flags (keeping the
 * flags a user namespace may not clear). */
static int mnt_remount_bind(const char *dest, unsigned long flags, struct oci_error **err)
{
	cleanup_close int fd = mnt_open(M.rootfd, dest, O_PATH);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "reopen \"/%s\"", dest);
	char t[64];
	fdpath(t, sizeof(t), fd);
	unsigned long f = MS_BIND | MS_REMOUNT | flags;
	if (mount(NULL, t, NULL, f, NULL) < 0) {
		unsigned long locked = mnt_locked_flags(fd) & ~MS_RDONLY;
		if (mount(NULL, t, NULL, f | locked, NULL) < 0)
			return error_set(err, OCI_E_IO, errno, "remount \"/%s\"", dest);
	}
	return 0;
}

static int mnt_after(const struct rt_mount *m, struct oci_error **err)
{
	if (!m->prop && !m->attr_set && !m->attr_clr)
		return 0;
	cleanup_close int fd = mnt_open(M.rootfd, m->dest, O_PATH);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "reopen \"/%s\"", m->dest);
	char t[64];
	fdpath(t, sizeof(t), fd);
	if (m->prop && mount(NULL, t, NULL, m->prop, NULL) < 0)
		return error_set(err, OCI_E_IO, errno, "set propagation of \"/%s\"", m->dest);
	if (m->attr_set || m->attr_clr) {
		struct mount_attr a = {.attr_set = m->attr_set, .attr_clr = m->attr_clr};
		if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
			return error_set(err, OCI_E_IO, errno, "set attributes of \"/%s\"",
					 m->dest);
	}
	return 0;
}

static void mnt_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mnt_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s;
	if (vasprintf(&s, fmt, ap) >= 0) {
		rt_msg_send(M.ch->sock, MSG_WARN, s, strlen(s), -1);
		free(s);
	}
	va_end(ap);
}

/* cgroup v1 (or hybrid): a tmpfs with one mount per hierarchy; the
 * hierarchy's own view in a new cgroup namespace, else a bind of our own
 * cgroup's directory. cgroup v2: one cgroup2 mount. */
static int mnt_cgroup(const struct rt_mount *m, struct oci_error **err)
{
	bool cgns = (M.ch->cfg->ns_all & CLONE_NEWCGROUP) != 0;
	struct statfs sf;
	unsigned long fl = m->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
		cleanup_close int fd = mnt_dest(m->dest, true, false, err);
		if (fd < 0)
			return fd;
		char t[64];
		fdpath(t, sizeof(t), fd);
		if (cgns && mount("cgroup2", t, "cgroup2", fl, NULL) == 0)
			return 0;
		if (mount("/sys/fs/cgroup", t, NULL, MS_BIND | MS_REC, NULL) < 0)
			return error_set(err, OCI_E_IO, errno, "bind /sys/fs/cgroup");
		return mnt_remount_bind(m->dest, fl, err);
	}
	{
		cleanup_close int fd = mnt_dest(m->dest, true, false, err);
		if (fd < 0)
			return fd;
		char t[64];
		fdpath(t, sizeof(t), fd);
		if (mount("tmpfs", t, "tmpfs", fl & ~MS_RDONLY, "mode=755") < 0)
			return error_set(err, OCI_E_IO, errno, "mount tmpfs on \"/%s\"", m->dest);
	}
	cleanup_fclose FILE *mi = fopen("/proc/self/mountinfo", "re");
	cleanup_fclose FILE *cg = fopen("/proc/self/cgroup", "re");
	char *line = NULL;
	size_t cap = 0;
	while (mi && getline(&line, &cap, mi) > 0) {
		/* id parent maj:min root mountpoint opts ... - fstype source superopts */
		char *f[6] = {0}, *save = NULL, *p = line;
		for (int i = 0; i < 5; i++)
			f[i] = strtok_r(p, " ", &save), p = NULL;
		char *dash = strstr(save ? save : "", " - ");
		if (!f[4] || !dash || strncmp(f[4], "/sys/fs/cgroup/", 15) != 0)
			continue;
		char *fstype = strtok_r(dash + 3, " ", &save);
		strtok_r(NULL, " ", &save);
		char *super = strtok_r(NULL, " \n", &save);
		bool v2 = fstype && strcmp(fstype, "cgroup2") == 0;
		if (!fstype || (!v2 && strcmp(fstype, "cgroup") != 0) || !super)
			continue;
		const char *name = f[4] + 15;
		if (!*name || strchr(name, '/'))
			continue;
		/* the subsystems of this hierarchy, as /proc/self/cgroup names them */
		char subs[256] = "";
		size_t sl = 0;
		for (char *s2 = NULL, *t = strtok_r(super, ",", &s2); t;
		     t = strtok_r(NULL, ",", &s2)) {
			if (!strcmp(t, "rw") || !strcmp(t, "ro") ||
			    !strncmp(t, "release_agent=", 14) || !strcmp(t, "xattr") ||
			    !strcmp(t, "clone_children") || !strcmp(t, "noprefix") ||
			    !strncmp(t, "nsdelegate", 10) || !strncmp(t, "memory_", 7))
				continue;
			int w = snprintf(subs + sl, sizeof(subs) - sl, "%s%s", sl ? "," : "", t);
			if (w < 0 || (size_t)w >= sizeof(subs) - sl) {
				sl = sizeof(subs);
				break;
			}
			sl += (size_t)w;
		}
		if (sl >= sizeof(subs))
			continue;
		cleanup_free char *dest = xasprintf("%s/%s", m->dest, name);
		cleanup_close int fd = mnt_dest(dest, true, false, err);
		if (fd < 0) {
			free(line);
			return fd;
		}
		char t[64];
		fdpath(t, sizeof(t), fd);
		if (cgns) {
			if (mount("cgroup", t, v2 ? "cgroup2" : "cgroup", fl, v2 ? NULL : subs) ==
			    0)
				continue;
			if (errno == EPERM || errno == EBUSY) {
				mnt_warn("cgroup hierarchy \"%s\" not mounted: %s", name,
					 strerror(errno));
				continue;
			}
			int e = errno;
			free(line);
			return error_set(err, OCI_E_IO, e, "mount cgroup \"%s\"", name);
		}
		/* no cgroup namespace: our own cgroup of this hierarchy */
		char own[4096] = "";
		char *cl = NULL;
		size_t cc = 0;
		if (cg) {
			rewind(cg);
			while (getline(&cl, &cc, cg) > 0) {
				char *c1 = strchr(cl, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
				if (!c2)
					continue;
				*c2 = 0;
				cl[strcspn(cl, "\n")] = 0;
				c2[1 + strcspn(c2 + 1, "\n")] = 0;
				if (v2 ? c1[1] == 0 : strcmp(c1 + 1, subs) == 0) {
					snprintf(own, sizeof(own), "%s", c2 + 1);
					break;
				}
			}
		}
		free(cl);
		cleanup_free char *src = xasprintf("/sys/fs/cgroup/%s%s", name, own);
		if (mount(src, t, NULL, MS_BIND, NULL) < 0) {
			int e = errno;
			free(line);
			return error_set(err, OCI_E_IO, e, "bind \"%s\"", src);
		}
		int r = mnt_remount_bind(dest, fl, err);
		if (r < 0) {
			free(line);
			return r;
		}
	}
	free(line);
	return mnt_remount_bind(m->dest, fl, err);
}

static bool mnt_is_special(const char *dest)
{
	return strcmp(dest, "proc") == 0 || strcmp(dest, "sys") == 0 || strcmp(dest, "dev") == 0;
}

static int mnt_one(const struct rt_mount *m, int srcfd, struct oci_error **err)
{
	if (m->type && strcmp(m->type, "cgroup") == 0 && !m->bind)
		return mnt_cgroup(m, err);
	bool proc_like = m->type && (strcmp(m->type, "proc") == 0 || strcmp(m->type, "sysfs") == 0);
	bool nolink = proc_like || mnt_is_special(m->dest);
	int src = srcfd;
	bool dir = true;
	if (m->bind) {
		struct stat st;
		if (fstat(src, &st) < 0)
			return error_set(err, OCI_E_IO, errno, "stat source \"%s\"", m->source);
		dir = S_ISDIR(st.st_mode);
	}
	cleanup_close int dst = mnt_dest(m->dest, dir, nolink, err);
	if (dst < 0)
		return dst;
	char t[64], s[64];
	fdpath(t, sizeof(t), dst);
	if (m->bind) {
		fdpath(s, sizeof(s), src);
		if (mount(s, t, NULL, MS_BIND | (m->rec ? MS_REC : 0), NULL) < 0)
			return error_set(err, OCI_E_IO, errno, "bind \"%s\"", m->source);
		int r;
		if (m->flags && (r = mnt_remount_bind(m->dest, m->flags, err)) < 0)
			return r;
	} else {
		if (proc_like) {
			struct stat st;
			if (fstat(dst, &st) == 0 && !S_ISDIR(st.st_mode))
				return error_set(err, OCI_E_INVALID, 0, "not a directory");
		}
		const char *data = m->data && *m->data ? m->data : NULL;
		if (mount(m->source ? m->source : m->type, t, m->type, m->flags, data) < 0) {
			int e = errno;
			/* sysfs needs a network namespace of the user namespace's */
			if (strcmp(m->type, "sysfs") == 0 && (e == EPERM || e == EBUSY)) {
				if (mount("/sys", t, NULL, MS_BIND | MS_REC, NULL) < 0)
					return error_set(err, OCI_E_IO, errno, "bind /sys");
				return mnt_remount_bind(
				    m->dest,
				    m->flags | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, err);
			}
			return error_set(err, OCI_E_IO, e, "mount %s", m->type);
		}
	}
	return mnt_after(m, err);
}

/* ---- devices ---- */

static const struct rt_device mnt_default_devs[] = {
    {"dev/null", 'c', 1, 3, 0666, 0, 0},    {"dev/zero", 'c', 1, 5, 0666, 0, 0},
    {"dev/full", 'c', 1, 7, 0666, 0, 0},    {"dev/random", 'c', 1, 8, 0666, 0, 0},
    {"dev/urandom", 'c', 1, 9, 0666, 0, 0}, {"dev/tty", 'c', 5, 0, 0666, 0, 0},
};

static int mnt_device(const struct rt_device *d, struct oci_error **err)
{
	const char *slash = strrchr(d->path, '/');
	cleanup_free char *parent =
	    slash ? xstrndup(d->path, (size_t)(slash - d->path)) : xstrdup("");
	const char *base = slash ? slash + 1 : d->path;
	cleanup_close int pfd = mnt_mkdirs(parent, err);
	if (pfd < 0)
		return pfd;
	struct stat st;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* the image has one (no tmpfs on /dev): bind the host's over a
		 * file or a node, never follow a symlink */
		if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
			return error_set(err, OCI_E_INVALID, 0,
					 "\"/%s\" in the rootfs is not a device or a file",
					 d->path);
	} else if (!M.userns && d->type != 'p') {
		mode_t t = d->type == 'b' ? S_IFBLK : S_IFCHR;
		if (mnt_create(pfd, parent, base, d->path, 'N', t | (d->mode & 07777),
			       makedev(d->major, d->minor), NULL) < 0)
			return error_set(err, OCI_E_IO, errno, "mknod \"/%s\"", d->path);
		if (fchownat(pfd, base, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
			return error_set(err, OCI_E_IO, errno, "chown \"/%s\"", d->path);
		return 0;
	} else if (d->type == 'p') {
		if (mnt_create(pfd, parent, base, d->path, 'N', S_IFIFO | (d->mode & 07777), 0,
			       NULL) < 0)
			return error_set(err, OCI_E_IO, errno, "mkfifo \"/%s\"", d->path);
		return 0;
	} else if (mnt_create(pfd, parent, base, d->path, 'F', 0644, 0, NULL) < 0) {
		return error_set(err, OCI_E_IO, errno, "create \"/%s\"", d->path);
	}
	if (d->type == 'p')
		return 0;
	/* bind the host's node: in a user namespace, or over the image's */
	cleanup_free char *host = xasprintf("/%s", d->path);
	cleanup_close int src = open(host, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (src < 0)
		return error_set(err, OCI_E_IO, errno, "open host device %s", host);
	cleanup_close int dst = mnt_open(pfd, base, O_PATH | O_NOFOLLOW);
	if (dst < 0)
		return error_set(err, OCI_E_IO, errno, "open \"/%s\"", d->path);
	char s[64], t[64];
	fdpath(s, sizeof(s), src);
	fdpath(t, sizeof(t), dst);
	if (mount(s, t, NULL, MS_BIND, NULL) < 0)
		return error_set(err, OCI_E_IO, errno, "bind %s", host);
	return 0;
}

static int mnt_devices(struct oci_error **err)
{
	const struct rt_config *c = M.ch->cfg;
	int r;
	for (size_t i = 0; i < sizeof(mnt_default_devs) / sizeof(mnt_default_devs[0]); i++) {
		bool overridden = false;
		for (size_t k = 0; k < c->n_devices; k++)
			overridden |= strcmp(c->devices[k].path, mnt_default_devs[i].path) == 0;
		if (!overridden && (r = mnt_device(&mnt_default_devs[i], err)) < 0)
			return r;
	}
	for (size_t k = 0; k < c->n_devices; k++)
		if ((r = mnt_device(&c->devices[k], err)) < 0)
			return error_wrap(err, "linux.devices[%zu]", k);
	cleanup_close int dev = mnt_mkdirs("dev", err);
	if (dev < 0)
		return dev;
	static const char *links[][2] = {
	    {"fd", "/proc/self/fd"},	   {"stdin", "/proc/self/fd/0"},
	    {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
	    {"ptmx", "pts/ptmx"},
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		cleanup_free char *path = xasprintf("dev/%s", links[i][0]);
		struct stat st;
		if (fstatat(dev, links[i][0], &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (mnt_create(dev, "dev", links[i][0], path, 'L', 0, 0, links[i][1]) < 0)
			return error_set(err, OCI_E_IO, errno, "symlink \"/%s\"", path);
	}
	if (c->terminal) {
		struct stat st;
		if (fstatat(dev, "console", &st, AT_SYMLINK_NOFOLLOW) < 0 &&
		    mnt_create(dev, "dev", "console", "dev/console", 'F', 0600, 0, NULL) < 0)
			return error_set(err, OCI_E_IO, errno, "create \"/dev/console\"");
	}
	return 0;
}

/* ---- masked and read-only paths, sysctls ---- */

static int mnt_mask(const char *path, struct oci_error **err)
{
	cleanup_close int fd = mnt_open(M.rootfd, path, O_PATH);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return error_set(err, OCI_E_IO, errno, "masked path \"/%s\"", path);
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_set(err, OCI_E_IO, errno, "masked path \"/%s\"", path);
	char t[64], s[64];
	fdpath(t, sizeof(t), fd);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", t, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "size=0,mode=000") < 0)
			return error_set(err, OCI_E_IO, errno, "masked path \"/%s\"", path);
	} else {
		fdpath(s, sizeof(s), M.ch->nullfd);
		if (mount(s, t, NULL, MS_BIND, NULL) < 0)
			return error_set(err, OCI_E_IO, errno, "masked path \"/%s\"", path);
	}
	return 0;
}

static int mnt_readonly(const char *path, struct oci_error **err)
{
	cleanup_close int fd = mnt_open(M.rootfd, path, O_PATH);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return error_set(err, OCI_E_IO, errno, "read-only path \"/%s\"", path);
	}
	char t[64];
	fdpath(t, sizeof(t), fd);
	if (mount(t, t, NULL, MS_BIND | MS_REC, NULL) < 0)
		return error_set(err, OCI_E_IO, errno, "read-only path \"/%s\"", path);
	cleanup_close int top = mnt_open(M.rootfd, path, O_PATH);
	if (top < 0)
		return error_set(err, OCI_E_IO, errno, "read-only path \"/%s\"", path);
	fdpath(t, sizeof(t), top);
	unsigned long f = MS_BIND | MS_REMOUNT | MS_RDONLY | mnt_locked_flags(top);
	if (mount(NULL, t, NULL, f, NULL) < 0)
		return error_set(err, OCI_E_IO, errno, "remount read-only \"/%s\"", path);
	return 0;
}

static int mnt_sysctls(struct oci_error **err)
{
	char **kv = M.ch->cfg->sysctl;
	for (size_t i = 0; kv && kv[i]; i += 2) {
		cleanup_free char *path = xasprintf("proc/sys/%s", kv[i]);
		for (char *p = path + 9; *p; p++)
			if (*p == '.')
				*p = '/';
		cleanup_close int fd = mnt_open(M.rootfd, path, O_WRONLY);
		if (fd < 0)
			return error_set(err, OCI_E_IO, errno, "sysctl %s", kv[i]);
		size_t n = strlen(kv[i + 1]);
		if (write(fd, kv[i + 1], n) != (ssize_t)n)
			return error_set(err, OCI_E_IO, errno, "sysctl %s=%s", kv[i], kv[i + 1]);
	}
	return 0;
}

int mount_rootfs(struct rt_child *ch, struct oci_error **err)
{
	const struct rt_config *c = ch->cfg;
	M.ch = ch;
	M.rec = ch->record;
	M.userns = (c->ns_all & CLONE_NEWUSER) != 0;
	/* a mount can only bind what is in our own mount namespace */
	ch->nullfd = open("/dev/null", O_PATH | O_CLOEXEC);
	if (ch->nullfd < 0)
		return error_set(err, OCI_E_IO, errno, "open /dev/null");
	/* Nothing we mount may propagate back to the host: the whole tree
	 * private (or slave, when the config says so) first. */
	unsigned long prop = c->rootprop ? c->rootprop : MS_PRIVATE;
	/* "shared" asks for a shared rootfs, not for a tree shared with the
	 * host: the host's side becomes a slave first (its mounts still come
	 * in, none of ours go out), the rootfs a peer group of its own after */
	/* "unbindable" likewise: no bind of the rootfs could be made from an
	 * unbindable tree, so it is private until after pivot_root */
	if (prop == MS_UNBINDABLE)
		prop = MS_PRIVATE;
	if (mount(NULL, "/", NULL, (prop == MS_SHARED ? MS_SLAVE : prop) | MS_REC, NULL) < 0)
		return error_set(err, OCI_E_IO, errno, "make / private");
	/* the rootfs becomes a mount of its own, for pivot_root */
	if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return error_set(err, OCI_E_IO, errno, "bind rootfs \"%s\"", c->rootfs);

	M.rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (M.rootfd < 0)
		return error_set(err, OCI_E_IO, errno, "open rootfs \"%s\"", c->rootfs);
	M.root_mnt = mnt_id_of(M.rootfd);
	M.srcfds = xcalloc(c->n_mounts + 1, sizeof(int));
	for (size_t i = 0; i < c->n_mounts; i++) {
		M.srcfds[i] = -1;
		if (c->mounts[i].bind &&
		    (M.srcfds[i] = open(c->mounts[i].source, O_PATH | O_CLOEXEC)) < 0)
			return error_set(err, OCI_E_IO, errno, "mount \"/%s\": open source \"%s\"",
					 c->mounts[i].dest, c->mounts[i].source);
	}
	/* In a user namespace, its root from now on: what we mount is its
	 * own (a tmpfs we mount takes no inode of an unmapped uid). */
	if (M.userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return error_set(err, OCI_E_IO, errno, "become root of the user namespace");
	int r;
	for (size_t i = 0; i < c->n_mounts; i++)
		if ((r = mnt_one(&c->mounts[i], M.srcfds[i], err)) < 0)
			return error_wrap(err, "mount \"/%s\"", c->mounts[i].dest);
	if ((r = mnt_sysctls(err)) < 0 || (r = mnt_devices(err)) < 0)
		return r;
	for (char **p = c->masked; p && *p; p++)
		if ((r = mnt_mask(*p, err)) < 0)
			return r;
	for (char **p = c->readonly; p && *p; p++)
		if ((r = mnt_readonly(*p, err)) < 0)
			return r;
	/* the working directory, made when missing (and removed at delete) */
	if (c->cwd && *c->cwd) {
		cleanup_close int fd = mnt_mkdirs(c->cwd, err);
		if (fd < 0)
			return error_wrap(err, "process.cwd");
	}
	for (size_t i = 0; i < M.n_touched; i++) {
		cleanup_close int fd = mnt_open(M.rootfd, M.touched[i].path, O_PATH);
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0) {
			cleanup_free char *l =
			    xasprintf("A %lld %ld %s", (long long)st.st_mtim.tv_sec,
				      st.st_mtim.tv_nsec, M.touched[i].path);
			mnt_record(l);
		}
	}
	return 0;
}

int mount_pivot(struct rt_child *ch, struct oci_error **err)
{
	if (fchdir(M.rootfd) < 0)
		return error_set(err, OCI_E_IO, errno, "chdir to the rootfs");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return error_set(err, OCI_E_IO, errno, "pivot_root");
	/* the old root is now stacked on "."; detach it */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return error_set(err, OCI_E_IO, errno, "make the old root a slave");
	if (umount2(".", MNT_DETACH) < 0)
		return error_set(err, OCI_E_IO, errno, "unmount the old root");
	if (chdir("/") < 0)
		return error_set(err, OCI_E_IO, errno, "chdir /");
	/* a shared rootfs, once pivot_root (which refuses shared mounts) is
	 * done: a peer group of its own, the host's side being a slave */
	if (ch->cfg->rootprop == MS_SHARED && mount(NULL, "/", NULL, MS_SHARED | MS_REC, NULL) < 0)
		return error_set(err, OCI_E_IO, errno, "make the rootfs shared");
	if (ch->cfg->rootprop == MS_UNBINDABLE &&
	    mount(NULL, "/", NULL, MS_UNBINDABLE | MS_REC, NULL) < 0)
		return error_set(err, OCI_E_IO, errno, "make the rootfs unbindable");
	for (size_t i = 0; M.srcfds && i < ch->cfg->n_mounts; i++)
		if (M.srcfds[i] >= 0)
			close(M.srcfds[i]);
	close(M.rootfd);
	M.rootfd = -1;
	close(ch->nullfd);
	ch->nullfd = -1;
	return 0;
}

int mount_finish(struct rt_child *ch, struct oci_error **err)
{
	if (!ch->cfg->root_ro)
		return 0;
	cleanup_close int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	unsigned long f = MS_BIND | MS_REMOUNT | MS_RDONLY | (fd >= 0 ? mnt_locked_flags(fd) : 0);
	if (mount(NULL, "/", NULL, f, NULL) < 0)
		return error_set(err, OCI_E_IO, errno, "remount / read-only");
	return 0;
}

int mount_console(const char *slave, struct oci_error **err)
{
	if (mount(slave, "/dev/console", NULL, MS_BIND, NULL) < 0)
		return error_set(err, OCI_E_IO, errno, "bind %s on /dev/console", slave);
	return 0;
}

/* ---- at delete: undo what the record lists ---- */

struct undo_parent {
	const char *path;
	struct timespec before, after;
	bool has_after, restore;
};

int mount_undo_record(const char *rootfs, int recordfd, struct oci_error **err)
{
	struct stat rst;
	if (fstat(recordfd, &rst) < 0)
		return error_set(err, OCI_E_IO, errno, "stat the record");
	if (rst.st_size == 0)
		return 0;
	if (rst.st_size > (16 << 20))
		return error_set(err, OCI_E_LIMIT, 0, "the record is larger than 16 MiB");
	cleanup_free char *buf = xmalloc((size_t)rst.st_size + 1);
	ssize_t n = read_full_at(recordfd, buf, (size_t)rst.st_size, 0);
	if (n < 0)
		return error_set(err, OCI_E_IO, errno, "read the record");
	buf[n] = 0;
	cleanup_close int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		if (errno == ENOENT)
			return 0; /* the bundle is gone: nothing to clean */
		return error_set(err, OCI_E_IO, errno, "open rootfs \"%s\"", rootfs);
	}
	/* entries and parents grow apart: each array has its own capacity (a
	 * record of many distinct parents and few entries is possible) */
	size_t ecap = 16, pcap = 16, ne = 0, np = 0;
	cleanup_free char **ents = xmalloc(ecap * sizeof(char *));
	cleanup_free struct undo_parent *par = xcalloc(pcap, sizeof(*par));
	/* a parent's path -> 1 + its index in par: one look-up a line */
	struct pathmap seen;
	pathmap_init(&seen);
	for (char *p = buf; p < buf + n; p += strlen(p) + 1) {
		if (ne == ecap) {
			ecap *= 2;
			ents = xrealloc(ents, ecap * sizeof(char *));
		}
		if (np == pcap) {
			pcap *= 2;
			par = xrealloc(par, pcap * sizeof(*par));
		}
		if ((p[0] == 'T' || p[0] == 'A') && p[1] == ' ') {
			long long s;
			long ns;
			int off = 0;
			if (sscanf(p + 2, "%lld %ld %n", &s, &ns, &off) < 2 || !off)
				continue;
			const char *path = p + 2 + off;
			void **slot = pathmap_put(&seen, path);
			struct undo_parent *u;
			if (*slot) {
				u = &par[(uintptr_t)*slot - 1];
			} else {
				u = &par[np++];
				memset(u, 0, sizeof(*u));
				u->path = path;
				*slot = (void *)(uintptr_t)np;
			}
			struct timespec ts = {.tv_sec = s, .tv_nsec = ns};
			if (p[0] == 'T')
				u->before = ts;
			else
				u->after = ts, u->has_after = true;
		} else if (p[0] && p[1] == ' ') {
			ents[ne++] = p;
		}
	}
	pathmap_release(&seen, NULL);
	/* times to restore: only where nothing but us changed the directory */
	for (size_t i = 0; i < np; i++) {
		cleanup_close int fd = mnt_open(rootfd, par[i].path, O_PATH | O_DIRECTORY);
		struct stat st;
		par[i].restore =
		    fd >= 0 && fstat(fd, &st) == 0 &&
		    (!par[i].has_after || (st.st_mtim.tv_sec == par[i].after.tv_sec &&
					   st.st_mtim.tv_nsec == par[i].after.tv_nsec));
	}
	int r = 0;
	while (ne > 0) {
		const char *e = ents[--ne];
		const char *path = e + 2, *base;
		struct oci_error *e2 = NULL;
		cleanup_close int pfd = inroot_parent(rootfd, path, false, &base, &e2);
		oci_error_free(e2);
		struct stat st;
		if (pfd < 0 || fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		int rc = 0;
		switch (e[0]) {
		case 'D':
			if (S_ISDIR(st.st_mode)) {
				rc = unlinkat(pfd, base, AT_REMOVEDIR);
				if (rc < 0 && (errno == ENOTEMPTY || errno == EEXIST))
					rc = 0; /* the container put something there: its own */
			}
			break;
		case 'F':
			if (S_ISREG(st.st_mode) && st.st_size == 0)
				rc = unlinkat(pfd, base, 0);
			break;
		case 'N':
			if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode))
				rc = unlinkat(pfd, base, 0);
			break;
		case 'L':
			if (S_ISLNK(st.st_mode))
				rc = unlinkat(pfd, base, 0);
			break;
		}
		if (rc < 0 && errno != ENOENT && r == 0)
			r = error_set(err, OCI_E_IO, errno, "remove \"/%s\" from the rootfs", path);
	}
	for (size_t i = 0; i < np; i++) {
		if (!par[i].restore)
			continue;
		cleanup_close int fd = mnt_open(rootfd, par[i].path, O_RDONLY | O_DIRECTORY);
		struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, par[i].before};
		if (fd >= 0)
			futimens(fd, ts);
	}
	return r;
}
