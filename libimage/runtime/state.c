/* Containers' life and state: one directory per container under the root
 * (state.json replaced atomically, a copy of config.json, exec.fifo while
 * created, the record of what was made in the rootfs), locked with flock
 * against concurrent calls; status derived from the init's pid and start
 * time, so that a container that died reads as stopped. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "runtime.h"

struct oci_container {
	char *root, *id;
	pid_t pid;
	int sigfd, master;
	sigset_t oldmask;
	bool masked, subreaper;
};

const char *oci_runtime_default_root(void)
{
	static char buf[4096];
	if (geteuid() == 0)
		return "/run/oci-runtime";
	const char *x = getenv("XDG_RUNTIME_DIR");
	if (x && *x)
		snprintf(buf, sizeof(buf), "%s/oci-runtime", x);
	else
		snprintf(buf, sizeof(buf), "/tmp/oci-runtime-%u", (unsigned)geteuid());
	return buf;
}

/* What the default cgroup (no linux.cgroupsPath: oci-runtime-NAME) is
 * named after: the ID under the default root; under any other --root the
 * ID and that root directory's identity, so that containers of one ID
 * under two roots (tests running side by side) never share a cgroup,
 * which the delete of either would empty and remove. */
static char *state_cg_name(const char *root, int rootfd, const char *id)
{
	struct stat st;
	if (strcmp(root, oci_runtime_default_root()) == 0 || fstat(rootfd, &st) < 0)
		return xstrdup(id);
	uint64_t h = 14695981039346656037ULL; /* FNV-1a over dev and inode */
	uint64_t v[2] = {(uint64_t)st.st_dev, (uint64_t)st.st_ino};
	for (size_t i = 0; i < sizeof(v); i++) {
		h ^= ((const unsigned char *)v)[i];
		h *= 1099511628211ULL;
	}
	return xasprintf("%s-%08x", id, (unsigned)(h ^ (h >> 32)));
}

/* A terminal copied to our stdin and stdout starts at our window's size
 * (the copy sets it again, but only once the process already runs: a
 * program that asks first would see 0x0) */
static void state_winsize(struct rt_config *c)
{
	struct winsize ws;
	if (c->terminal && isatty(0) && ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		c->rows = ws.ws_row;
		c->cols = ws.ws_col;
	}
}

static int state_check_id(const char *id, struct oci_error **err)
{
	size_t n = strlen(id);
	if (n == 0 || n > 255 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return error_set(err, OCI_E_USAGE, 0, "container id \"%s\": invalid", id);
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("_+-.", *p)))
			return error_set(err, OCI_E_USAGE, 0,
					 "container id \"%s\": only letters, digits and _+-. "
					 "allowed",
					 id);
	return 0;
}

char *rt_state_json(const struct rt_config *c, const char *id, const char *status, pid_t pid)
{
	cJSON *s = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "ociVersion", "1.0.2");
	cJSON_AddStringToObject(s, "id", id);
	cJSON_AddStringToObject(s, "status", status);
	cJSON_AddNumberToObject(s, "pid", pid);
	cJSON_AddStringToObject(s, "bundle", c->bundle);
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(c->json, "annotations");
	if (ann)
		cJSON_AddItemToObject(s, "annotations", cJSON_Duplicate(ann, 1));
	char *out = cJSON_PrintUnformatted(s);
	cJSON_Delete(s);
	if (!out)
		abort();
	return out;
}

/* ---- files in the container's directory ---- */

static int mkdir_p(const char *path, mode_t mode, struct oci_error **err)
{
	cleanup_free char *p = xstrdup(path);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char saved = *s;
		*s = 0;
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return error_set(err, OCI_E_IO, errno, "create directory %s", p);
		*s = saved;
		if (!saved)
			return 0;
	}
}

static int state_write_file(int dirfd, const char *name, const char *text, struct oci_error **err)
{
	cleanup_free char *tmp = xasprintf(".%s.tmp", name);
	/* a fresh file (a stale one, whatever it is, is removed): never
	 * through a symlink, never blocking on a FIFO */
	unlinkat(dirfd, tmp, 0);
	cleanup_close int fd =
	    openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "create %s", tmp);
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return error_set(err, OCI_E_IO, e, "write %s", tmp);
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return error_set(err, OCI_E_IO, e, "rename %s", name);
	}
	return 0;
}

/* The state directory and everything in it decide what runs at start and
 * delete (config.json's hooks) and what delete removes: trusted only when
 * ours (the effective uid owns it) and closed to everyone else (no group or
 * other bits), so that a root another user made first, as with the
 * predictable /tmp/oci-runtime-UID, is refused rather than used. */
static int state_check_private(int fd, const char *what, bool regular, struct oci_error **err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_set(err, OCI_E_IO, errno, "%s: stat", what);
	if (regular && !S_ISREG(st.st_mode))
		return error_set(err, OCI_E_INVALID, 0, "%s: not a regular file: refused", what);
	if (st.st_uid != geteuid())
		return error_set(err, OCI_E_INVALID, 0,
				 "%s: not owned by us (owner uid %u, we are uid %u): refused", what,
				 (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & 077)
		return error_set(err, OCI_E_INVALID, 0,
				 "%s: open to others (mode %04o, must be 0700 or 0600): refused",
				 what, (unsigned)(st.st_mode & 07777));
	return 0;
}

/* The root of the state, opened (never through a symlink) and checked;
 * with create, made first (0700). */
static int state_open_root(const char *root, bool create, struct oci_error **err)
{
	if (create) {
		int r = mkdir_p(root, 0700, err);
		if (r < 0)
			return r;
	}
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return error_set(err, OCI_E_NOTFOUND, errno, "%s", root);
		if (errno == ELOOP || errno == ENOTDIR)
			return error_set(err, OCI_E_INVALID, 0,
					 "%s: not a directory (a symlink is not followed): refused",
					 root);
		return error_set(err, OCI_E_IO, errno, "open %s", root);
	}
	int r = state_check_private(fd, root, false, err);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* A file of a container's directory: never through a symlink, never
 * blocking (a FIFO planted as state.json or the record), a regular file of
 * ours. */
static int state_open_file(int dirfd, const char *name, struct oci_error **err)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno == ENOENT ? OCI_E_NOTFOUND : OCI_E_IO, errno, "open %s",
				 name);
	int r = state_check_private(fd, name, true, err);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static int state_read_json(int dirfd, const char *name, cJSON **out, struct oci_error **err)
{
	cleanup_close int fd = state_open_file(dirfd, name, err);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_set(err, OCI_E_IO, errno, "stat %s", name);
	if (st.st_size > OCI_JSON_MAX)
		return error_set(err, OCI_E_LIMIT, 0, "%s: larger than %u bytes", name,
				 OCI_JSON_MAX);
	cleanup_free char *buf = xmalloc((size_t)st.st_size + 1);
	ssize_t n = read_full(fd, buf, (size_t)st.st_size);
	if (n < 0)
		return error_set(err, OCI_E_IO, errno, "read %s", name);
	int r = oci_json_parse(buf, (size_t)n, out, err);
	if (r < 0)
		return error_wrap(err, "%s", name);
	return 0;
}

static void state_remove_dir(int rootfd, int dirfd, const char *id)
{
	static const char *files[] = {"state.json", "config.json",     "exec.fifo",
				      "created",    ".state.json.tmp", ".config.json.tmp"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlinkat(dirfd, files[i], 0);
	unlinkat(rootfd, id, AT_REMOVEDIR);
}

/* A container's directory, locked (shared or exclusive), with its state. */
struct st {
	int rootfd, dirfd;
	cJSON *state;
	const char *id;
};

static void st_release(struct st *s)
{
	cJSON_Delete(s->state);
	if (s->dirfd >= 0)
		close(s->dirfd); /* and the lock with it */
	if (s->rootfd >= 0)
		close(s->rootfd);
	s->state = NULL;
	s->dirfd = s->rootfd = -1;
}

static int st_open(const char *root, const char *id, bool exclusive, struct st *s,
		   struct oci_error **err)
{
	*s = (struct st){.rootfd = -1, .dirfd = -1, .id = id};
	int r = state_check_id(id, err);
	if (r < 0)
		return r;
	s->rootfd = state_open_root(root, false, err);
	if (s->rootfd < 0) {
		r = s->rootfd;
		s->rootfd = -1;
		if (r == OCI_E_NOTFOUND)
			return error_set(err, OCI_E_NOTFOUND, 0, "container \"%s\" does not exist",
					 id);
		return r;
	}
	s->dirfd = openat(s->rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->dirfd < 0) {
		int e = errno;
		st_release(s);
		if (e == ENOENT)
			return error_set(err, OCI_E_NOTFOUND, 0, "container \"%s\" does not exist",
					 id);
		return error_set(err, OCI_E_IO, e, "container \"%s\"", id);
	}
	cleanup_free char *what = xasprintf("%s/%s", root, id);
	if ((r = state_check_private(s->dirfd, what, false, err)) < 0) {
		st_release(s);
		return r;
	}
	while (flock(s->dirfd, exclusive ? LOCK_EX : LOCK_SH) < 0)
		if (errno != EINTR) {
			int e = errno;
			st_release(s);
			return error_set(err, OCI_E_IO, e, "lock container \"%s\"", id);
		}
	r = state_read_json(s->dirfd, "state.json", &s->state, err);
	if (r < 0) {
		st_release(s);
		if (r == OCI_E_NOTFOUND) /* deleted while we waited for the lock */
			return error_set(err, OCI_E_NOTFOUND, 0, "container \"%s\" does not exist",
					 id);
		return error_wrap(err, "container \"%s\"", id);
	}
	return 0;
}

/* the init's pid and start time, exactly from their text (0: none) */
static pid_t st_pid(const cJSON *s)
{
	int64_t v;
	return oci_json_int64(cJSON_GetObjectItemCaseSensitive(s, "pid"), 1, INT_MAX, &v) ? (pid_t)v
											  : 0;
}

static uint64_t st_start_time(const cJSON *s)
{
	uint64_t v;
	return oci_json_uint64(cJSON_GetObjectItemCaseSensitive(s, "pidStartTime"), UINT64_MAX, &v)
		   ? v
		   : 0;
}

static const char *st_str(const cJSON *s, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Is the init recorded in the state still the same, living process? */
static bool st_alive(const cJSON *state)
{
	pid_t pid = st_pid(state);
	unsigned long long start;
	char ch;
	if (pid <= 0 || proc_stat_start(pid, &start, &ch) < 0)
		return false;
	return start == st_start_time(state) && ch != 'Z' && ch != 'X';
}

static const char *st_status(const struct st *s)
{
	const char *stored = st_str(s->state, "status");
	if (strcmp(stored, "created") != 0 && strcmp(stored, "running") != 0)
		return "stopped"; /* "creating" under our lock: its creator died */
	if (!st_alive(s->state))
		return "stopped";
	struct stat st;
	if (fstatat(s->dirfd, "exec.fifo", &st, AT_SYMLINK_NOFOLLOW) == 0)
		return "created";
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s->state, "paused")))
		return "paused";
	return "running";
}

/* a pidfd of the init, checked to be that process (not a reused pid) */
static int st_pidfd(const struct st *s, struct oci_error **err)
{
	pid_t pid = st_pid(s->state);
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return error_set(err, OCI_E_NOTFOUND, errno, "container \"%s\": pid %d", s->id,
				 (int)pid);
	if (!st_alive(s->state)) {
		close(fd);
		return error_set(err, OCI_E_NOTFOUND, 0, "container \"%s\" is not running", s->id);
	}
	return fd;
}

static char *st_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char buf[64];
	size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%09ldZ", ts.tv_nsec);
	return xstrdup(buf);
}

static int st_save(int dirfd, cJSON *state, struct oci_error **err)
{
	cleanup_free char *text = cJSON_Print(state);
	if (!text)
		abort();
	return state_write_file(dirfd, "state.json", text, err);
}

static void st_set(cJSON *state, const char *key, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(state, key))
		cJSON_ReplaceItemInObjectCaseSensitive(state, key, v);
	else
		cJSON_AddItemToObject(state, key, v);
}

/* Numbers printed from their own text: cJSON prints its double, which
 * would turn 18446744073709551615 (a seccomp mask) into 1.8446744073709552e+19
 * in the copy of config.json kept with the state. */
static void st_exact_numbers(cJSON *n)
{
	for (; n; n = n->next) {
		if (cJSON_IsNumber(n) && n->valuestring)
			n->type = (n->type & ~0xFF) | cJSON_Raw;
		st_exact_numbers(n->child);
	}
}

/* The hooks of the config copy kept in the container's directory (none
 * when there is no copy). A copy that is there but not a private regular
 * file of ours, or not valid, is an error: its hooks would run as us. */
static int st_hooks(int dirfd, struct rt_config **out, struct oci_error **err)
{
	*out = NULL;
	cJSON *j = NULL;
	struct oci_error *e = NULL;
	int r = state_read_json(dirfd, "config.json", &j, &e);
	if (r == OCI_E_NOTFOUND) {
		oci_error_free(e);
		return 0;
	}
	if (r < 0) {
		if (err) {
			oci_error_free(*err);
			*err = e;
		} else {
			oci_error_free(e);
		}
		return r;
	}
	struct rt_config *c = xcalloc(1, sizeof(*c));
	c->json = j;
	if ((r = rt_config_hooks(c, cJSON_GetObjectItemCaseSensitive(j, "hooks"), err)) < 0) {
		rt_config_free(c);
		return error_wrap(err, "config.json");
	}
	*out = c;
	return 0;
}

static char *st_hook_state(const struct st *s, struct rt_config *c, const char *status)
{
	free(c->bundle);
	c->bundle = xstrdup(st_str(s->state, "bundle"));
	return rt_state_json(c, s->id, status, st_pid(s->state));
}

/* ---- create ---- */

struct create {
	struct rt_config *cfg;
	const char *root, *id;
	int rootfd, dirfd, sock, master;
	pid_t pid;
	bool direct_child;
	struct oci_container *c;
};

static void create_entry(void *arg)
{
	rt_child_main(arg);
}

static void create_kill(struct create *k)
{
	if (k->pid <= 0)
		return;
	int pfd = (int)syscall(SYS_pidfd_open, k->pid, 0);
	kill(k->pid, SIGKILL);
	if (k->direct_child || (k->c && k->c->subreaper)) {
		while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR)
			;
	} else if (pfd >= 0) {
		struct pollfd pf = {.fd = pfd, .events = POLLIN};
		poll(&pf, 1, 5000);
	}
	if (pfd >= 0)
		close(pfd);
	k->pid = 0;
}

/* undo a failed create: the init, what it made in the rootfs, our state */
static int create_fail(struct create *k, int r)
{
	create_kill(k);
	if (k->dirfd >= 0) {
		cleanup_close int rec = state_open_file(k->dirfd, "created", NULL);
		if (rec >= 0 && k->cfg)
			mount_undo_record(k->cfg->rootfs, rec, NULL);
		rt_cg_destroy(k->dirfd, NULL);
		state_remove_dir(k->rootfd, k->dirfd, k->id);
		close(k->dirfd);
	}
	if (k->rootfd >= 0)
		close(k->rootfd);
	if (k->sock >= 0)
		close(k->sock);
	if (k->master >= 0)
		close(k->master);
	oci_container_free(k->c);
	rt_config_free(k->cfg);
	return r;
}

/* the conversation with the init until it is ready */
static int create_talk(struct create *k, const struct oci_runtime_opts *o, struct oci_error **err)
{
	for (;;) {
		struct pollfd pf = {.fd = k->sock, .events = POLLIN};
		int n = poll(&pf, 1, -1);
		if (n < 0 && errno == EINTR) {
			if (oci_cancelled())
				return error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
			continue;
		}
		if (n < 0)
			return error_set(err, OCI_E_IO, errno, "poll");
		char type;
		char *data = NULL;
		int fd = -1;
		int got = rt_msg_recv(k->sock, &type, &data, NULL, &fd);
		if (got <= 0)
			return error_set(err, OCI_E_IO, got < 0 ? errno : 0,
					 "the container's init died while being set up");
		cleanup_free char *msg = data;
		switch (type) {
		case MSG_WARN:
			rt_warn("%s", msg);
			break;
		case MSG_ERROR:
			return error_set(err, OCI_E_IO, 0, "%s", msg);
		case MSG_PTY:
			if (fd < 0)
				return error_set(err, OCI_E_IO, 0, "terminal: no master received");
			if (o->foreground && !o->console_socket) {
				k->master = fd;
			} else {
				int r = rt_console_send(o->console_socket, fd, err);
				close(fd);
				if (r < 0)
					return r;
			}
			break;
		case MSG_HOOKS: {
			/* prestart sees "created", as crun gives it and runtime-tools'
			 * hooks_stdin expects; createRuntime the state being made */
			cleanup_free char *pre = rt_state_json(k->cfg, k->id, "created", k->pid);
			cleanup_free char *st = rt_state_json(k->cfg, k->id, "creating", k->pid);
			int r = hooks_run(&k->cfg->hooks[HOOK_PRESTART], "prestart", pre, err);
			if (r == 0)
				r = hooks_run(&k->cfg->hooks[HOOK_CREATE_RUNTIME], "createRuntime",
					      st, err);
			if (r < 0)
				return r;
			if (rt_msg_send(k->sock, MSG_HOOKS_DONE, "", 0, -1) < 0)
				return error_set(err, OCI_E_IO, errno,
						 "the container's init died while being set up");
			break;
		}
		case MSG_CREATE: {
			/* for the init in a user namespace: an entry of the rootfs
			 * that only the host's root may make */
			char kind = 0, *nm = NULL;
			unsigned mode = 0;
			unsigned long dev = 0;
			int off = 0, e = EINVAL;
			if (fd >= 0 && sscanf(msg, "%c %o %lu %n", &kind, &mode, &dev, &off) == 3 &&
			    off > 0 && strchr("DFNL", kind)) {
				nm = msg + off;
				const char *target = nm + strlen(nm) + 1;
				e = (strchr(nm, '/') || !*nm) ? EINVAL
				    : rt_create_op(fd, nm, kind, (mode_t)mode, (dev_t)dev, target) <
					    0
					? errno
					: 0;
			}
			if (fd >= 0)
				close(fd);
			fd = -1;
			char ans[16];
			snprintf(ans, sizeof(ans), "%d", e);
			if (rt_msg_send(k->sock, MSG_CREATED, ans, strlen(ans), -1) < 0)
				return error_set(err, OCI_E_IO, errno,
						 "the container's init died while being set up");
			break;
		}
		case MSG_READY:
			return 0;
		default:
			return error_set(err, OCI_E_IO, 0, "unexpected message from the init");
		}
		if (fd >= 0 && type != MSG_PTY)
			close(fd);
	}
}

int oci_runtime_create(const char *root, const char *id, const struct oci_runtime_opts *o,
		       struct oci_container **out, struct oci_error **err)
{
	struct create k = {
	    .root = root, .id = id, .rootfd = -1, .dirfd = -1, .sock = -1, .master = -1};
	if (out)
		*out = NULL;
	int r = state_check_id(id, err);
	if (r < 0)
		return r;
	if ((r = rt_config_load(o->bundle ? o->bundle : ".", o->args, &k.cfg, err)) < 0)
		return r;
	if (k.cfg->terminal && !o->console_socket && !o->foreground)
		return create_fail(&k, error_set(err, OCI_E_USAGE, 0,
						 "process.terminal needs --console-socket here"));
	/* as runc: a socket that would never be sent a terminal is a mistake
	 * the caller would otherwise wait on */
	if (!k.cfg->terminal && o->console_socket)
		return create_fail(&k, error_set(err, OCI_E_USAGE, 0,
						 "--console-socket without process.terminal"));
	if (o->foreground && !o->console_socket)
		state_winsize(k.cfg);
	k.rootfd = state_open_root(root, true, err);
	if (k.rootfd < 0) {
		r = k.rootfd;
		k.rootfd = -1;
		return create_fail(&k, r);
	}
	if (mkdirat(k.rootfd, id, 0700) < 0)
		return create_fail(
		    &k, errno == EEXIST
			    ? error_set(err, OCI_E_USAGE, 0, "container \"%s\" already exists", id)
			    : error_set(err, OCI_E_IO, errno, "create %s/%s", root, id));
	k.dirfd = openat(k.rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (k.dirfd < 0 || flock(k.dirfd, LOCK_EX) < 0) {
		r = error_set(err, OCI_E_IO, errno, "lock %s/%s", root, id);
		if (k.dirfd < 0)
			unlinkat(k.rootfd, id, AT_REMOVEDIR);
		return create_fail(&k, r);
	}
	cJSON *state = cJSON_CreateObject();
	cJSON_AddStringToObject(state, "ociVersion", "1.0.2");
	cJSON_AddStringToObject(state, "id", id);
	cJSON_AddStringToObject(state, "status", "creating");
	cJSON_AddNumberToObject(state, "pid", 0);
	cJSON_AddStringToObject(state, "bundle", k.cfg->bundle);
	cJSON_AddStringToObject(state, "rootfs", k.cfg->rootfs);
	cleanup_free char *now = st_now();
	cJSON_AddStringToObject(state, "created", now);
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(k.cfg->json, "annotations");
	if (ann)
		cJSON_AddItemToObject(state, "annotations", cJSON_Duplicate(ann, 1));
	cJSON *copy = cJSON_Duplicate(k.cfg->json, 1);
	st_exact_numbers(copy);
	cleanup_free char *cfgtext = cJSON_Print(copy);
	cJSON_Delete(copy);
	if ((r = state_write_file(k.dirfd, "config.json", cfgtext, err)) < 0 ||
	    (r = st_save(k.dirfd, state, err)) < 0) {
		cJSON_Delete(state);
		return create_fail(&k, r);
	}
	if (mkfifoat(k.dirfd, "exec.fifo", 0600) < 0) {
		cJSON_Delete(state);
		return create_fail(&k, error_set(err, OCI_E_IO, errno, "create exec.fifo"));
	}
	int sv[2] = {-1, -1};
	cleanup_close int fifo = openat(k.dirfd, "exec.fifo", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	cleanup_close int rec = openat(
	    k.dirfd, "created", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fifo < 0 || rec < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		cJSON_Delete(state);
		return create_fail(&k, error_set(err, OCI_E_IO, errno, "prepare the init"));
	}
	k.sock = sv[0];
	k.c = xcalloc(1, sizeof(*k.c));
	k.c->sigfd = k.c->master = -1;
	if (o->foreground) {
		/* signals wait in a signalfd until the init runs, then go to it */
		int sfd = rt_wait_signals(&k.c->oldmask, err);
		if (sfd < 0) {
			close(sv[1]);
			cJSON_Delete(state);
			return create_fail(&k, sfd);
		}
		k.c->sigfd = sfd;
		k.c->masked = true;
		if (k.cfg->n_join) {
			prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
			k.c->subreaper = true;
		}
	}
	struct rt_child ch = {.cfg = k.cfg,
			      .id = id,
			      .sock = sv[1],
			      .fifo = fifo,
			      .record = rec,
			      .nullfd = -1,
			      .no_new_keyring = o->no_new_keyring};
	r = ns_spawn(k.cfg, create_entry, &ch, &k.pid, err);
	close(sv[1]);
	k.direct_child = k.cfg->n_join == 0;
	if (r < 0) {
		cJSON_Delete(state);
		return create_fail(&k, r);
	}
	char pidtext[32];
	snprintf(pidtext, sizeof(pidtext), "%d", (int)k.pid);
	if ((r = ns_write_idmaps(k.cfg, k.pid, err)) < 0) {
		cJSON_Delete(state);
		return create_fail(&k, r);
	}
	if (k.cfg->has_oom) {
		char path[64], v[16];
		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)k.pid);
		snprintf(v, sizeof(v), "%d", k.cfg->oom_score_adj);
		cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, v, strlen(v)) < 0) {
			cJSON_Delete(state);
			return create_fail(&k, error_set(err, OCI_E_IO, errno, "set oomScoreAdj"));
		}
	}
	cleanup_free char *cgname = state_cg_name(root, k.rootfd, id);
	if ((r = rt_cg_create(k.cfg, cgname, k.pid, k.dirfd, err)) < 0) {
		cJSON_Delete(state);
		return create_fail(&k, r);
	}
	if (rt_msg_send(k.sock, MSG_GO, pidtext, strlen(pidtext), -1) < 0 ||
	    (r = create_talk(&k, o, err)) < 0) {
		if (r == 0)
			r = error_set(err, OCI_E_IO, errno, "the container's init died");
		cJSON_Delete(state);
		return create_fail(&k, r);
	}
	unsigned long long start = 0;
	proc_stat_start(k.pid, &start, NULL);
	st_set(state, "status", cJSON_CreateString("created"));
	st_set(state, "pid", cJSON_CreateNumber(k.pid));
	/* written as the exact integer (a double would round past 2^53) */
	char starttext[32];
	snprintf(starttext, sizeof(starttext), "%llu", start);
	st_set(state, "pidStartTime", cJSON_CreateRaw(starttext));
	r = st_save(k.dirfd, state, err);
	cJSON_Delete(state);
	if (r < 0)
		return create_fail(&k, r);
	if (o->pid_file) {
		cleanup_free char *tmp = xasprintf("%s.%d.tmp", o->pid_file, (int)getpid());
		cleanup_close int fd =
		    open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0 || write(fd, pidtext, strlen(pidtext)) < 0 ||
		    rename(tmp, o->pid_file) < 0) {
			r = error_set(err, OCI_E_IO, errno, "write pid file %s", o->pid_file);
			unlink(tmp);
			return create_fail(&k, r);
		}
	}
	if (rt_msg_send(k.sock, MSG_COMMIT, "", 0, -1) < 0)
		return create_fail(&k,
				   error_set(err, OCI_E_IO, errno, "the container's init died"));
	/* done: the lock goes, the init waits on exec.fifo */
	close(k.dirfd);
	close(k.rootfd);
	close(k.sock);
	struct oci_container *c = k.c;
	c->root = xstrdup(root);
	c->id = xstrdup(id);
	c->pid = k.pid;
	c->master = k.master;
	rt_config_free(k.cfg);
	if (out)
		*out = c;
	else
		oci_container_free(c);
	return 0;
}

int oci_container_wait(struct oci_container *c, int *wstatus, struct oci_error **err)
{
	if (c->sigfd < 0)
		return error_set(err, OCI_E_USAGE, 0, "not created in the foreground");
	return rt_wait_loop(c->pid, c->pid, -1, c->sigfd, c->master, c->subreaper, wstatus, err);
}

void oci_container_free(struct oci_container *c)
{
	if (!c)
		return;
	if (c->sigfd >= 0)
		close(c->sigfd);
	if (c->master >= 0)
		close(c->master);
	if (c->masked)
		sigprocmask(SIG_SETMASK, &c->oldmask, NULL);
	free(c->root);
	free(c->id);
	free(c);
}

/* ---- start, state, kill, delete, list ---- */

int oci_runtime_start(const char *root, const char *id, struct oci_error **err)
{
	struct st s;
	int r = st_open(root, id, true, &s, err);
	if (r < 0)
		return r;
	const char *status = st_status(&s);
	if (strcmp(status, "created") != 0) {
		r = error_set(err, OCI_E_USAGE, 0, "container \"%s\" is %s, not created", id,
			      status);
		st_release(&s);
		return r;
	}
	struct rt_config *hc = NULL;
	if ((r = st_hooks(s.dirfd, &hc, err)) < 0) {
		error_wrap(err, "container \"%s\"", id);
		st_release(&s);
		return r;
	}
	int fd = openat(s.dirfd, "exec.fifo", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	struct stat fst;
	if (fd >= 0 && (fstat(fd, &fst) < 0 || !S_ISFIFO(fst.st_mode))) {
		close(fd);
		fd = -1;
		errno = EINVAL;
	}
	if (fd < 0 || write(fd, "0", 1) != 1) {
		r = error_set(err, OCI_E_IO, errno == ENXIO ? 0 : errno, "container \"%s\": %s", id,
			      errno == ENXIO ? "its init is gone" : "write exec.fifo");
		if (fd >= 0)
			close(fd);
		rt_config_free(hc);
		st_release(&s);
		return r;
	}
	unlinkat(s.dirfd, "exec.fifo", 0);
	/* running means the container's program runs: the init keeps its end
	 * of exec.fifo (close-on-exec) until its execve, so wait (at most 5 s)
	 * for the fifo's last reader to go: POLLERR on our end */
	struct pollfd pf = {.fd = fd, .events = 0};
	for (int left = 5000; left > 0;) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int n = poll(&pf, 1, left);
		if (n != 0 && !(n < 0 && errno == EINTR))
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left -= (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (n == 0)
			break;
	}
	close(fd);
	st_set(s.state, "status", cJSON_CreateString("running"));
	r = st_save(s.dirfd, s.state, err);
	if (hc && hc->hooks[HOOK_POSTSTART].n) {
		cleanup_free char *js = st_hook_state(&s, hc, "running");
		hooks_run_warn(&hc->hooks[HOOK_POSTSTART], "poststart", js);
	}
	rt_config_free(hc);
	st_release(&s);
	return r;
}

int oci_runtime_state(const char *root, const char *id, char **json, struct oci_error **err)
{
	struct st s;
	int r = st_open(root, id, false, &s, err);
	if (r < 0)
		return r;
	const char *status = st_status(&s);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ociVersion", st_str(s.state, "ociVersion"));
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "status", status);
	cJSON_AddNumberToObject(o, "pid", strcmp(status, "stopped") ? st_pid(s.state) : 0);
	cJSON_AddStringToObject(o, "bundle", st_str(s.state, "bundle"));
	cJSON_AddStringToObject(o, "rootfs", st_str(s.state, "rootfs"));
	cJSON_AddStringToObject(o, "created", st_str(s.state, "created"));
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(s.state, "annotations");
	if (ann)
		cJSON_AddItemToObject(o, "annotations", cJSON_Duplicate(ann, 1));
	*json = cJSON_Print(o);
	cJSON_Delete(o);
	st_release(&s);
	return 0;
}

int oci_runtime_kill(const char *root, const char *id, int sig, struct oci_error **err)
{
	struct st s;
	int r = st_open(root, id, false, &s, err);
	if (r < 0)
		return r;
	const char *status = st_status(&s);
	if (strcmp(status, "stopped") == 0) {
		r = error_set(err, OCI_E_USAGE, 0, "container \"%s\" is not running", id);
		st_release(&s);
		return r;
	}
	int pfd = st_pidfd(&s, err);
	if (pfd < 0) {
		st_release(&s);
		return pfd;
	}
	if (syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) < 0)
		r = error_set(err, OCI_E_IO, errno, "container \"%s\": signal %d", id, sig);
	close(pfd);
	st_release(&s);
	return r;
}

int oci_runtime_delete(const char *root, const char *id, bool force, struct oci_error **err)
{
	struct st s;
	int r = st_open(root, id, true, &s, err);
	if (r < 0)
		return r;
	const char *status = st_status(&s);
	if (strcmp(status, "running") == 0 && !force) {
		r = error_set(err, OCI_E_USAGE, 0,
			      "container \"%s\" is running: stop it first, or --force", id);
		st_release(&s);
		return r;
	}
	struct rt_config *hc = NULL;
	/* a cgroup record we will not read fails delete before anything is
	 * killed or removed: the container stays as it was, to be deleted
	 * once the record is sound (else its cgroups were left, unreachable) */
	if ((r = rt_cg_check(s.dirfd, err)) < 0 || (r = st_hooks(s.dirfd, &hc, err)) < 0) {
		error_wrap(err, "container \"%s\"", id);
		st_release(&s);
		return r;
	}
	if (strcmp(status, "stopped") != 0) {
		/* created (never started) or forced: kill it and wait for the end */
		int pfd = st_pidfd(&s, NULL);
		if (pfd >= 0) {
			syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
			struct pollfd pf = {.fd = pfd, .events = POLLIN};
			while (poll(&pf, 1, 10000) < 0 && errno == EINTR)
				;
			close(pfd);
		}
	}
	struct oci_error *re = NULL;
	cleanup_close int rec = state_open_file(s.dirfd, "created", &re);
	if (rec >= 0)
		r = mount_undo_record(st_str(s.state, "rootfs"), rec, err);
	else if (rec != OCI_E_NOTFOUND) /* a record we may not trust: kept, and said */
		r = error_set(err, error_status(&re, OCI_E_INVALID), 0, "%s", re->msg);
	oci_error_free(re);
	/* what is left of the container's processes goes with its cgroups */
	if (r == 0)
		r = rt_cg_destroy(s.dirfd, err);
	else
		rt_cg_destroy(s.dirfd, NULL);
	if (r < 0)
		error_wrap(err, "container \"%s\"", id);
	cleanup_free char *js = hc ? st_hook_state(&s, hc, "stopped") : NULL;
	state_remove_dir(s.rootfd, s.dirfd, id);
	st_release(&s);
	if (hc && hc->hooks[HOOK_POSTSTOP].n) {
		hooks_run_warn(&hc->hooks[HOOK_POSTSTOP], "poststop", js);
	}
	rt_config_free(hc);
	return r;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct oci_runtime_entry *)a)->id,
		      ((const struct oci_runtime_entry *)b)->id);
}

int oci_runtime_list(const char *root, struct oci_runtime_entry **out, size_t *n,
		     struct oci_error **err)
{
	*out = NULL;
	*n = 0;
	int fd = state_open_root(root, false, err);
	if (fd == OCI_E_NOTFOUND) { /* no root yet: no containers */
		if (err) {
			oci_error_free(*err);
			*err = NULL;
		}
		return 0;
	}
	if (fd < 0)
		return fd;
	cleanup_closedir DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return error_set(err, OCI_E_IO, e, "open %s", root);
	}
	struct dirent *de;
	size_t cap = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || state_check_id(de->d_name, NULL) < 0)
			continue;
		struct st s;
		if (st_open(root, de->d_name, false, &s, NULL) < 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		struct oci_runtime_entry *e = &(*out)[(*n)++];
		e->id = xstrdup(de->d_name);
		e->status = xstrdup(st_status(&s));
		e->pid = strcmp(e->status, "stopped") ? st_pid(s.state) : 0;
		e->bundle = xstrdup(st_str(s.state, "bundle"));
		e->created = xstrdup(st_str(s.state, "created"));
		st_release(&s);
	}
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_entry);
	return 0;
}

void oci_runtime_entries_free(struct oci_runtime_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].status);
		free(v[i].bundle);
		free(v[i].created);
	}
	free(v);
}

int oci_signal_parse(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {
	    {"HUP", SIGHUP},	   {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
	    {"TRAP", SIGTRAP},	   {"ABRT", SIGABRT}, {"IOT", SIGIOT},	     {"BUS", SIGBUS},
	    {"FPE", SIGFPE},	   {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
	    {"USR2", SIGUSR2},	   {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
	    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
	    {"TSTP", SIGTSTP},	   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
	    {"XCPU", SIGXCPU},	   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
	    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
	    {"SYS", SIGSYS},
	};
	if (!s || !*s)
		return -1;
	if (*s >= '0' && *s <= '9') {
		size_t nd = strspn(s, "0123456789");
		if (s[nd] || nd > 3)
			return -1;
		int v = atoi(s);
		return (v < 1 || v > SIGRTMAX) ? -1 : v;
	}
	const char *n = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcasecmp(n, sigs[i].name) == 0)
			return sigs[i].sig;
	if (strncasecmp(n, "RTMIN", 5) == 0 || strncasecmp(n, "RTMAX", 5) == 0) {
		int base = strncasecmp(n, "RTMIN", 5) == 0 ? SIGRTMIN : SIGRTMAX;
		if (!n[5])
			return base;
		/* RTMIN+N, RTMAX-N: a sign, then at most two digits (the range
		 * is 0..SIGRTMAX-SIGRTMIN): no overflow, no "RTMIN+" or spaces */
		const char *d = n + 6;
		size_t nd = strspn(d, "0123456789");
		if ((n[5] != '+' && n[5] != '-') || nd == 0 || nd > 2 || d[nd])
			return -1;
		int off = atoi(d);
		int v = n[5] == '+' ? base + off : base - off;
		return (v < SIGRTMIN || v > SIGRTMAX) ? -1 : v;
	}
	return -1;
}

/* ---- pause, resume, ps, stats, update, exec ---- */

/* open a container that must be in status want (or, want2) */
static int st_open_in(const char *root, const char *id, bool exclusive, const char *want,
		      const char *want2, struct st *s, struct oci_error **err)
{
	int r = st_open(root, id, exclusive, s, err);
	if (r < 0)
		return r;
	const char *status = st_status(s);
	if (strcmp(status, want) != 0 && !(want2 && strcmp(status, want2) == 0)) {
		r = error_set(err, OCI_E_USAGE, 0, "container \"%s\" is %s, not %s", id, status,
			      want);
		st_release(s);
	}
	return r;
}

static int st_freeze(const char *root, const char *id, bool freeze, struct oci_error **err)
{
	struct st s;
	int r = st_open_in(root, id, true, freeze ? "running" : "paused", NULL, &s, err);
	if (r < 0)
		return r;
	if ((r = rt_cg_freeze(s.dirfd, freeze, err)) == 0) {
		st_set(s.state, "paused", cJSON_CreateBool(freeze));
		r = st_save(s.dirfd, s.state, err);
	}
	if (r < 0)
		error_wrap(err, "container \"%s\"", id);
	st_release(&s);
	return r;
}

int oci_runtime_pause(const char *root, const char *id, struct oci_error **err)
{
	return st_freeze(root, id, true, err);
}

int oci_runtime_resume(const char *root, const char *id, struct oci_error **err)
{
	return st_freeze(root, id, false, err);
}

int oci_runtime_ps(const char *root, const char *id, pid_t **pids, size_t *n,
		   struct oci_error **err)
{
	struct st s;
	int r = st_open(root, id, false, &s, err);
	if (r < 0)
		return r;
	if ((r = rt_cg_pids(s.dirfd, pids, n, err)) < 0)
		error_wrap(err, "container \"%s\"", id);
	st_release(&s);
	return r;
}

int oci_runtime_stats(const char *root, const char *id, char **json, struct oci_error **err)
{
	struct st s;
	int r = st_open(root, id, false, &s, err);
	if (r < 0)
		return r;
	if ((r = rt_cg_stats(s.dirfd, json, err)) < 0)
		error_wrap(err, "container \"%s\"", id);
	st_release(&s);
	return r;
}

int oci_runtime_update(const char *root, const char *id, const char *resources,
		       struct oci_error **err)
{
	struct st s;
	int r = st_open_in(root, id, true, "running", "paused", &s, err);
	if (r < 0)
		return r;
	cJSON *res = NULL;
	/* exact integers: the text's tokens, not doubles */
	if ((r = oci_json_parse(resources, strlen(resources), &res, err)) < 0)
		error_wrap(err, "resources");
	else if (!cJSON_IsObject(res))
		r = error_set(err, OCI_E_INVALID, 0, "resources: not a JSON object");
	else
		r = rt_cg_update(s.dirfd, res, err);
	cJSON_Delete(res);
	if (r < 0)
		error_wrap(err, "container \"%s\"", id);
	st_release(&s);
	return r;
}

/* the container's config with its process replaced as exec asks */
static int exec_config(struct st *s, const struct oci_exec_opts *o, struct rt_config **out,
		       struct oci_error **err)
{
	cJSON *j = NULL;
	int r = state_read_json(s->dirfd, "config.json", &j, err);
	if (r < 0)
		return r;
	cJSON *proc = cJSON_GetObjectItemCaseSensitive(j, "process");
	if (o->process) {
		/* O_NONBLOCK: a FIFO named here is refused, not waited on */
		cleanup_close int fd = open(o->process, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_size > (1 << 20)) {
			cJSON_Delete(j);
			return error_set(err, OCI_E_IO, fd < 0 ? errno : EINVAL,
					 "--process %s: not a readable file (up to 1 MiB)",
					 o->process);
		}
		cleanup_free char *buf = xmalloc((size_t)st.st_size + 1);
		ssize_t n = read_full(fd, buf, (size_t)st.st_size);
		buf[n > 0 ? n : 0] = 0;
		cJSON *p = NULL;
		if (n < 0 || oci_json_parse(buf, (size_t)n, &p, NULL) < 0 || !cJSON_IsObject(p)) {
			cJSON_Delete(p);
			cJSON_Delete(j);
			return error_set(err, OCI_E_INVALID, 0, "--process %s: not a JSON object",
					 o->process);
		}
		cJSON_DeleteItemFromObjectCaseSensitive(j, "process");
		cJSON_AddItemToObject(j, "process", p);
		proc = p;
	}
	if (!cJSON_IsObject(proc)) {
		cJSON_Delete(j);
		return error_set(err, OCI_E_INVALID, 0, "the container has no process");
	}
	/* the container's own terminal is not the exec's: a terminal comes
	 * from --tty or from the --process file */
	if (!o->process) {
		cJSON_DeleteItemFromObjectCaseSensitive(proc, "terminal");
		cJSON_DeleteItemFromObjectCaseSensitive(proc, "consoleSize");
	}
	if (o->tty) {
		cJSON_DeleteItemFromObjectCaseSensitive(proc, "terminal");
		cJSON_AddBoolToObject(proc, "terminal", 1);
	}
	if (o->cwd) {
		cJSON_DeleteItemFromObjectCaseSensitive(proc, "cwd");
		cJSON_AddStringToObject(proc, "cwd", o->cwd);
	}
	if (o->env) {
		cJSON *env = cJSON_GetObjectItemCaseSensitive(proc, "env");
		if (!cJSON_IsArray(env)) {
			cJSON_DeleteItemFromObjectCaseSensitive(proc, "env");
			env = cJSON_AddArrayToObject(proc, "env");
		}
		for (char *const *e = o->env; *e; e++) {
			size_t kl = strcspn(*e, "=");
			cJSON *v;
			int i = 0, at = -1;
			cJSON_ArrayForEach (v, env) {
				if (cJSON_IsString(v) && strncmp(v->valuestring, *e, kl) == 0 &&
				    v->valuestring[kl] == '=')
					at = i;
				i++;
			}
			if (at >= 0)
				cJSON_ReplaceItemInArray(env, at, cJSON_CreateString(*e));
			else
				cJSON_AddItemToArray(env, cJSON_CreateString(*e));
		}
	}
	if (o->user) {
		char *end;
		errno = 0;
		unsigned long uid = strtoul(o->user, &end, 10), gid = 0;
		bool ok = end != o->user && errno == 0 && uid <= UINT32_MAX && o->user[0] != '-';
		if (ok && *end == ':') {
			const char *g = end + 1;
			gid = strtoul(g, &end, 10);
			ok = end != g && errno == 0 && gid <= UINT32_MAX && g[0] != '-';
		}
		if (!ok || *end) {
			cJSON_Delete(j);
			return error_set(err, OCI_E_USAGE, 0, "--user %s: not UID or UID:GID",
					 o->user);
		}
		cJSON_DeleteItemFromObjectCaseSensitive(proc, "user");
		cJSON *u = cJSON_AddObjectToObject(proc, "user");
		char t[24];
		snprintf(t, sizeof(t), "%lu", uid);
		cJSON_AddRawToObject(u, "uid", t);
		snprintf(t, sizeof(t), "%lu", gid);
		cJSON_AddRawToObject(u, "gid", t);
	}
	st_exact_numbers(j);
	cleanup_free char *text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	r = rt_config_parse(text, strlen(text), st_str(s->state, "bundle"), o->args, out, err);
	return r;
}

int oci_runtime_exec(const char *root, const char *id, const struct oci_exec_opts *o, int *wstatus,
		     struct oci_error **err)
{
	struct st s;
	int r = st_open_in(root, id, false, "running", "created", &s, err);
	if (r < 0)
		return r;
	struct rt_config *c = NULL;
	if ((r = exec_config(&s, o, &c, err)) < 0) {
		error_wrap(err, "container \"%s\"", id);
		st_release(&s);
		return r;
	}
	if (!c->args || !c->args[0]) {
		rt_config_free(c);
		st_release(&s);
		return error_set(err, OCI_E_USAGE, 0, "container \"%s\": nothing to run", id);
	}
	if (!o->detach && !o->console_socket)
		state_winsize(c);
	struct rt_exec x = {.cfg = c,
			    .init = st_pid(s.state),
			    .statedir = s.dirfd,
			    .detach = o->detach,
			    .pid_file = o->pid_file,
			    .console_socket = o->console_socket};
	/* the lock is not held while the process runs (a dup would share it) */
	int dfd = openat(s.rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	x.statedir = dfd;
	st_release(&s);
	if (dfd < 0)
		r = error_set(err, OCI_E_IO, errno, "open the state of \"%s\"", id);
	else
		r = rt_exec_run(&x, wstatus, err);
	if (dfd >= 0)
		close(dfd);
	if (r < 0)
		error_wrap(err, "container \"%s\"", id);
	rt_config_free(c);
	return r;
}

int oci_runtime_kill_all(const char *root, const char *id, int sig, struct oci_error **err)
{
	struct st s;
	int r = st_open(root, id, false, &s, err);
	if (r < 0)
		return r;
	/* paused too: the signals wait in the frozen processes, as runc's do */
	if (strcmp(st_status(&s), "stopped") == 0) {
		st_release(&s);
		return error_set(err, OCI_E_USAGE, 0, "container \"%s\" is not running", id);
	}
	pid_t *pids = NULL;
	size_t n = 0;
	if ((r = rt_cg_pids(s.dirfd, &pids, &n, err)) < 0)
		error_wrap(err, "container \"%s\"", id);
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH && r == 0)
			r = error_set(err, OCI_E_IO, errno, "container \"%s\": signal %d to %d", id,
				      sig, (int)pids[i]);
	free(pids);
	st_release(&s);
	return r;
}
