/* In-root path resolution and removal, all through directory fds. A layer
 * may have planted symlinks anywhere: RESOLVE_IN_ROOT makes the kernel
 * resolve them as if rootfd were "/", so nothing can escape. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "inroot.h"

static int inroot_have_openat2 = -1;

static int inroot_openat2(int rootfd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY)),
	    .mode = 0,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	if (inroot_have_openat2 != 0) {
		int fd;
		do
			fd = (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how,
					  sizeof(how));
		while (fd < 0 && errno == EAGAIN);
		if (fd >= 0 || errno != ENOSYS) {
			inroot_have_openat2 = 1;
			return fd;
		}
		inroot_have_openat2 = 0;
	}
	/* Fallback: walk component by component, refusing every symlink. */
	int cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return -1;
	const char *p = path;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char comp[256];
		if (n >= sizeof(comp)) {
			close(cur);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, p, n);
		comp[n] = 0;
		bool last = !e;
		int fl = last ? (flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)
			      : (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int next = openat(cur, comp, fl);
		close(cur);
		if (next < 0)
			return -1;
		cur = next;
		p = last ? p + n : e + 1;
	}
	return cur;
}

int inroot_open(int rootfd, const char *path, int flags, struct oci_error **err)
{
	int fd = inroot_openat2(rootfd, path, flags);
	if (fd < 0)
		return error_set(err, errno == ENOENT ? OCI_E_NOTFOUND : OCI_E_IO, errno,
				 "open \"%s\" in rootfs", path);
	return fd;
}

int inroot_parent(int rootfd, const char *path, bool create, const char **base,
		  struct oci_error **err)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	if (!slash) {
		int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? error_set(err, OCI_E_IO, errno, "dup") : fd;
	}
	cleanup_free char *dir = xstrndup(path, (size_t)(slash - path));
	int fd = inroot_openat2(rootfd, dir, O_PATH | O_DIRECTORY);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT || !create)
		return error_set(err, errno == ENOENT ? OCI_E_NOTFOUND : OCI_E_IO, errno,
				 "open directory \"%s\" in rootfs", dir);
	/* make the missing parents one at a time, each resolved in the root */
	for (char *p = dir;; p++) {
		if (*p != '/' && *p != 0)
			continue;
		char saved = *p;
		*p = 0;
		const char *b = strrchr(dir, '/');
		int pfd = inroot_openat2(rootfd, dir, O_PATH | O_DIRECTORY);
		if (pfd < 0 && errno == ENOENT) {
			/* resolve this component's parent, then mkdir the last component */
			cleanup_free char *up = b ? xstrndup(dir, (size_t)(b - dir)) : xstrdup("");
			int ufd = inroot_openat2(rootfd, up, O_PATH | O_DIRECTORY);
			if (ufd < 0) {
				*p = saved;
				return error_set(err, OCI_E_IO, errno,
						 "open directory \"%s\" in rootfs", up);
			}
			if (mkdirat(ufd, b ? b + 1 : dir, 0755) < 0 && errno != EEXIST) {
				int e = errno;
				close(ufd);
				*p = saved;
				return error_set(err, OCI_E_IO, e,
						 "create directory \"%s\" in rootfs", dir);
			}
			close(ufd);
			pfd = inroot_openat2(rootfd, dir, O_PATH | O_DIRECTORY);
		}
		if (pfd < 0) {
			int e = errno;
			*p = saved;
			return error_set(err, e == ENOTDIR ? OCI_E_INVALID : OCI_E_IO, e,
					 "open directory \"%s\" in rootfs", dir);
		}
		*p = saved;
		if (!saved)
			return pfd;
		close(pfd);
	}
}

/* d's names but "." and ".."; 0, or the errno readdir failed with (the
 * names read until then are still given) */
static int dir_names(DIR *d, char ***names, size_t *count)
{
	size_t n = 0, cap = 16;
	char **v = xmalloc(cap * sizeof(*v));
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap *= 2;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = xstrdup(de->d_name);
	}
	int e = errno;
	*names = v;
	*count = n;
	return e;
}

char **inroot_dir_names(DIR *d, size_t *count)
{
	char **names;
	dir_names(d, &names, count);
	return names;
}

int inroot_read_names(int fd, char ***names, size_t *count)
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		errno = e;
		return -1;
	}
	char **v;
	size_t n;
	int e = dir_names(d, &v, &n);
	closedir(d);
	if (e) {
		inroot_free_names(v, n);
		errno = e;
		return -1;
	}
	*names = v;
	*count = n;
	return 0;
}

void inroot_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void inroot_path_at(struct inroot_path *b, size_t at, const char *name)
{
	size_t nl = strlen(name), need = at + 1 + nl + 1;
	if (need > b->cap) {
		b->cap = need * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	if (at)
		b->p[at++] = '/';
	memcpy(b->p + at, name, nl + 1);
	b->len = at + nl;
}

/* the parent of directory fd, which must be the directory of *want */
static int reopen_parent(int fd, const struct stat *want)
{
	int pfd = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return -1;
	struct stat st;
	if (fstat(pfd, &st) < 0 || st.st_dev != want->st_dev || st.st_ino != want->st_ino) {
		close(pfd);
		errno = ESTALE; /* moved while we were below it */
		return -1;
	}
	return pfd;
}

int inroot_walk_push(struct inroot_walk *w, int fd, const struct stat *st, const char *name)
{
	if (w->depth >= INROOT_WALK_FDS) {
		struct inroot_frame *up = &w->v[w->depth - 1];
		close(up->fd);
		up->fd = -1;
	}
	if (w->depth == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		w->v = xrealloc(w->v, w->cap * sizeof(*w->v));
	}
	struct inroot_frame *f = &w->v[w->depth++];
	*f = (struct inroot_frame){.fd = fd, .st = *st, .name = name, .plen = w->path.len};
	return inroot_read_names(fd, &f->names, &f->n);
}

int inroot_walk_parent_fd(struct inroot_walk *w)
{
	struct inroot_frame *f = &w->v[w->depth - 1], *up = &w->v[w->depth - 2];
	if (up->fd < 0)
		up->fd = reopen_parent(f->fd, &up->st);
	return up->fd;
}

void inroot_walk_pop(struct inroot_walk *w)
{
	struct inroot_frame *f = &w->v[--w->depth];
	if (f->fd >= 0)
		close(f->fd);
	inroot_free_names(f->names, f->n);
}

void inroot_walk_free(struct inroot_walk *w)
{
	while (w->depth > 0)
		inroot_walk_pop(w);
	free(w->v);
	free(w->path.p);
}

static int rm_open_dir(int parentfd, const char *name, const struct stat *st)
{
	int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES) {
		/* rootless: a directory we may not read is ours to open up */
		fchmodat(parentfd, name, 0700, 0);
		fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd >= 0 && !(st->st_mode & S_IWUSR) && geteuid() != 0)
		fchmod(fd, st->st_mode | S_IRWXU);
	return fd;
}

/* Iterative (struct inroot_walk): a tree of any depth is removed without a
 * C stack frame per level, and with at most INROOT_WALK_FDS directory fds
 * open. Each directory's names are read before anything in it is removed
 * (removing while iterating may skip entries). */
int inroot_remove(int parentfd, const char *name, const char *path, inroot_keep_fn keep, void *arg,
		  struct oci_error **err)
{
	struct stat st;
	if (fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return error_set(err, OCI_E_IO, errno, "stat \"%s\"", path);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (keep && keep(arg, path))
			return 0;
		if (unlinkat(parentfd, name, 0) < 0)
			return error_set(err, OCI_E_IO, errno, "remove \"%s\"", path);
		return 0;
	}
	struct inroot_walk w = {0};
	int r = 0;
	inroot_path_at(&w.path, 0, path);
	int fd = rm_open_dir(parentfd, name, &st);
	if (fd < 0) {
		r = error_set(err, OCI_E_IO, errno, "open directory \"%s\"", path);
		goto out;
	}
	if (inroot_walk_push(&w, fd, &st, name) < 0) {
		r = error_set(err, OCI_E_IO, errno, "read directory \"%s\"", path);
		goto out;
	}
	while (w.depth > 0) {
		struct inroot_frame *f = &w.v[w.depth - 1];
		if (f->i < f->n) {
			const char *cn = f->names[f->i++];
			inroot_path_at(&w.path, f->plen, cn);
			if (fstatat(f->fd, cn, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno == ENOENT)
					continue;
				r = error_set(err, OCI_E_IO, errno, "stat \"%s\"", w.path.p);
				goto out;
			}
			if (!S_ISDIR(st.st_mode)) {
				if (keep && keep(arg, w.path.p))
					f->kept = true;
				else if (unlinkat(f->fd, cn, 0) < 0) {
					r = error_set(err, OCI_E_IO, errno, "remove \"%s\"",
						      w.path.p);
					goto out;
				}
				continue;
			}
			fd = rm_open_dir(f->fd, cn, &st);
			if (fd < 0) {
				r = error_set(err, OCI_E_IO, errno, "open directory \"%s\"",
					      w.path.p);
				goto out;
			}
			if (inroot_walk_push(&w, fd, &st, cn) < 0) {
				r = error_set(err, OCI_E_IO, errno, "read directory \"%s\"",
					      w.path.p);
				goto out;
			}
			continue;
		}
		/* every name below f done: f itself, from its parent */
		w.path.len = f->plen;
		w.path.p[w.path.len] = 0;
		bool kept = f->kept || (keep && keep(arg, w.path.p));
		const char *fname = f->name;
		int pfd = w.depth > 1 ? inroot_walk_parent_fd(&w) : parentfd;
		if (pfd < 0) {
			r = error_set(err, OCI_E_IO, errno, "reopen the parent of \"%s\"",
				      w.path.p);
			goto out;
		}
		inroot_walk_pop(&w);
		if (!kept && unlinkat(pfd, fname, AT_REMOVEDIR) < 0) {
			r = error_set(err, OCI_E_IO, errno, "remove directory \"%s\"", w.path.p);
			goto out;
		}
		if (w.depth > 0 && kept)
			w.v[w.depth - 1].kept = true;
	}
out:
	inroot_walk_free(&w);
	return r;
}

void inroot_remove_path(const char *path)
{
	cleanup_free char *p1 = xstrdup(path), *p2 = xstrdup(path);
	int pfd = open(dirname(p1), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd >= 0) {
		inroot_remove(pfd, basename(p2), path, NULL, NULL, NULL);
		close(pfd);
	}
}

int inroot_read_file(int rootfd, const char *path, size_t max, char **buf, size_t *len,
		     struct oci_error **err)
{
	/* O_PATH first: opening a FIFO would block, a device node could act */
	int pfd = inroot_open(rootfd, path, O_PATH, err);
	if (pfd < 0)
		return pfd;
	struct stat st;
	if (fstat(pfd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(pfd);
		return error_set(err, OCI_E_INVALID, 0,
				 "\"%s\" in rootfs: not a regular file of at most %zu bytes", path,
				 max);
	}
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	int fd = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	close(pfd);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "open \"%s\" in rootfs", path);
	char *b = xmalloc((size_t)st.st_size + 1);
	ssize_t n = read_full(fd, b, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		free(b);
		return error_set(err, OCI_E_IO, errno, "read \"%s\" in rootfs", path);
	}
	b[n] = 0;
	*buf = b;
	*len = (size_t)n;
	return 0;
}
