/* A layout directory's own files are input like its blobs' content: the one
 * way every reader and writer opens, creates, replaces and lists them, so
 * that a symlink out of the layout, a FIFO, a device or a planted temporary
 * name can neither lead a tool outside the layout nor make it wait. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include "inroot.h"
#include "layoutfs.h"

const char *layoutfs_type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "regular file";
	case S_IFDIR:
		return "directory";
	case S_IFLNK:
		return "symbolic link";
	case S_IFIFO:
		return "FIFO";
	case S_IFSOCK:
		return "socket";
	case S_IFCHR:
		return "character device";
	case S_IFBLK:
		return "block device";
	}
	return "file of unknown type";
}

/* 1 when openat2 works, 0 when the kernel lacks it, -1 not yet known */
static int lfs_have_openat2 = -1;

void layoutfs_set_openat2(bool on)
{
	__atomic_store_n(&lfs_have_openat2, on ? -1 : 0, __ATOMIC_RELAXED);
}

/* Where openat2 is missing: one component at a time, none of them followed
 * when it is a symlink (stricter than needed: no symlink at all). */
static int lfs_walk(int rootfd, const char *name, int flags)
{
	cleanup_free char *p = xstrdup(name);
	int dfd = rootfd;
	char *s = p;
	for (char *slash; (slash = strchr(s, '/'));) {
		*slash = 0;
		int nfd = strcmp(s, "..") == 0
			      ? (errno = EXDEV, -1)
			      : openat(dfd, s, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		if (dfd != rootfd)
			close(dfd);
		if (nfd < 0) {
			errno = e;
			return -1;
		}
		dfd = nfd;
		s = slash + 1;
	}
	int fd = strcmp(s, "..") == 0 ? (errno = EXDEV, -1)
				      : openat(dfd, s, flags | O_NOFOLLOW | O_CLOEXEC);
	int e = errno;
	if (dfd != rootfd)
		close(dfd);
	errno = e;
	return fd;
}

/* open name beneath rootfd: symlinks followed only while they stay inside */
static int lfs_open_raw(int rootfd, const char *name, int flags)
{
	if (__atomic_load_n(&lfs_have_openat2, __ATOMIC_RELAXED) != 0) {
		struct open_how how = {
		    .flags = (uint64_t)(flags | O_CLOEXEC),
		    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
		};
		int fd = (int)syscall(SYS_openat2, rootfd, name, &how, sizeof(how));
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) {
			__atomic_store_n(&lfs_have_openat2, 1, __ATOMIC_RELAXED);
			return fd;
		}
		/* ENOSYS: an old kernel; EPERM: a seccomp filter that does not know it */
		if (errno == ENOSYS)
			__atomic_store_n(&lfs_have_openat2, 0, __ATOMIC_RELAXED);
	}
	return lfs_walk(rootfd, name, flags);
}

/* name could not be opened (errno e): say which part of it is not what it
 * claims, probing its prefixes without opening anything for reading */
static int lfs_refuse(int rootfd, const char *name, bool dir, int e, struct oci_error **err)
{
	if (e == ENOENT)
		return error_set(err, OCI_E_NOTFOUND, ENOENT, "open %s", name);
	cleanup_free char *p = xstrdup(name);
	for (char *s = p;;) {
		char *slash = strchr(s, '/');
		if (slash)
			*slash = 0;
		int fd = lfs_open_raw(rootfd, p, O_PATH);
		if (fd < 0 && errno == EXDEV)
			return error_set(err, OCI_E_INVALID, 0,
					 "%s: symbolic link out of the layout", p);
		if (fd < 0 && errno == ELOOP)
			return error_set(err, OCI_E_INVALID, 0,
					 "%s: symbolic link loop or magic link", p);
		if (fd < 0)
			break;
		struct stat st;
		int sr = fstat(fd, &st);
		close(fd);
		if (sr == 0 && S_ISLNK(st.st_mode))
			/* only where openat2 is missing: no symlink is followed then */
			return error_set(err, OCI_E_INVALID, 0,
					 "%s: symbolic link (not followed: the kernel lacks "
					 "openat2 to keep it inside the layout)",
					 p);
		bool want_dir = slash || dir;
		if (sr == 0 && (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)))
			return error_set(err, OCI_E_INVALID, 0, "%s: not a %s (%s)", p,
					 want_dir ? "directory" : "regular file",
					 layoutfs_type_name(st.st_mode));
		if (!slash)
			break;
		*slash = '/';
		s = slash + 1;
	}
	return error_set(err, OCI_E_IO, e, "open %s", name);
}

int layoutfs_open(int rootfd, const char *name, bool dir, struct stat *st, struct oci_error **err)
{
	/* O_NONBLOCK: a FIFO opens at once instead of waiting for a writer */
	int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | (dir ? O_DIRECTORY : 0);
	int fd = lfs_open_raw(rootfd, name, flags);
	if (fd < 0)
		return lfs_refuse(rootfd, name, dir, errno, err);
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		int e = errno;
		close(fd);
		return error_set(err, OCI_E_IO, e, "stat %s", name);
	}
	if (dir ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode)) {
		close(fd);
		return error_set(err, OCI_E_INVALID, 0, "%s: not a %s (%s)", name,
				 dir ? "directory" : "regular file",
				 layoutfs_type_name(sb.st_mode));
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int e = errno;
		close(fd);
		return error_set(err, OCI_E_IO, e, "open %s", name);
	}
	if (st)
		*st = sb;
	return fd;
}

int layoutfs_blob_dir(int rootfd, const char *algo, bool create, struct oci_error **err)
{
	if (create && mkdirat(rootfd, "blobs", 0755) < 0 && errno != EEXIST)
		return error_set(err, OCI_E_IO, errno, "create blobs");
	cleanup_close int bfd = layoutfs_open(rootfd, "blobs", true, NULL, err);
	if (bfd < 0)
		return bfd;
	if (create && mkdirat(bfd, algo, 0755) < 0 && errno != EEXIST)
		return error_set(err, OCI_E_IO, errno, "create blobs/%s", algo);
	cleanup_free char *path = xasprintf("blobs/%s", algo);
	return layoutfs_open(rootfd, path, true, NULL, err);
}

int layoutfs_create_tmp(int dirfd, const char *prefix, mode_t mode, char **name,
			struct oci_error **err)
{
	static const char chars[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	for (unsigned tries = 0; tries < 100; tries++) {
		uint8_t rnd[6];
		if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t x = ((uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32)) +
				     tries * 0x9e3779b97f4a7c15ULL;
			for (size_t i = 0; i < sizeof(rnd); i++)
				rnd[i] = (uint8_t)(x >> (8 * i));
		}
		char suffix[sizeof(rnd) + 1];
		for (size_t i = 0; i < sizeof(rnd); i++)
			suffix[i] = chars[rnd[i] % (sizeof(chars) - 1)];
		suffix[sizeof(rnd)] = 0;
		char *n = xasprintf("%s%s", prefix, suffix);
		/* O_EXCL|O_NOFOLLOW: a name planted before us (a symlink, a FIFO, a
		 * hard link to someone's file) is never opened, only skipped */
		int fd = openat(
		    dirfd, n, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, mode);
		if (fd >= 0) {
			*name = n;
			return fd;
		}
		int e = errno;
		free(n);
		if (e != EEXIST)
			return error_set(err, OCI_E_IO, e, "create %sXXXXXX", prefix);
	}
	return error_set(err, OCI_E_IO, EEXIST, "create %sXXXXXX", prefix);
}

int layoutfs_replace(int dirfd, const char *name, const void *buf, size_t len,
		     struct oci_error **err)
{
	cleanup_free char *prefix = xasprintf(".%s.tmp-", name);
	cleanup_free char *tmp = NULL;
	int fd = layoutfs_create_tmp(dirfd, prefix, 0644, &tmp, err);
	if (fd < 0)
		return fd;
	int r = 0;
	if (write_full(fd, buf, len) < 0 || fsync(fd) < 0)
		r = error_set(err, OCI_E_IO, errno, "write %s", name);
	close(fd);
	/* rename replaces the name itself: whatever was planted there (a
	 * symlink, a FIFO) is unlinked, never written through */
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = error_set(err, OCI_E_IO, errno, "replace %s", name);
	if (r < 0)
		unlinkat(dirfd, tmp, 0);
	else
		fsync(dirfd);
	return r;
}

int layoutfs_lock(int rootfd, struct oci_error **err)
{
	/* the lock file stays between runs, so it may have been planted: an
	 * existing one is opened O_NOFOLLOW|O_NONBLOCK and must be a regular
	 * file; a missing one is made O_EXCL. Read-write: flock over NFS
	 * needs it. Nothing is ever written to it. */
	int fd = -1;
	for (int i = 0; fd < 0 && i < 16; i++) {
		fd = openat(rootfd, ".index.lock",
			    O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			fd = openat(rootfd, ".index.lock",
				    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
				    0644);
		if (fd < 0 && errno != ENOENT && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		if (errno == ELOOP)
			return error_set(err, OCI_E_INVALID, 0, ".index.lock: symbolic link");
		if (errno == ENXIO)
			return error_set(err, OCI_E_INVALID, 0,
					 ".index.lock: not a regular file (socket)");
		return error_set(err, OCI_E_IO, errno, "open the layout lock .index.lock");
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return error_set(err, OCI_E_IO, e, "stat .index.lock");
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return error_set(err, OCI_E_INVALID, 0, ".index.lock: not a regular file (%s)",
				 layoutfs_type_name(st.st_mode));
	}
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return error_set(err, OCI_E_IO, e, "lock the layout");
		}
	return fd;
}

char **layoutfs_list(int dirfd, size_t *count)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	char **names = inroot_dir_names(d, count);
	closedir(d);
	return names;
}
