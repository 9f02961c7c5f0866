/* Applying layer entries into a root filesystem. Each entry's parent is
 * resolved inside the root (inroot.c), the last component is acted on with
 * one *at call that does not follow symlinks, and metadata is set through
 * the new fd. Whiteouts hide only lower layers' entries, whatever their
 * order in the tar: this layer's paths are remembered and spared. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include "inroot.h"
#include "layout_int.h"
#include "pathmap.h"
#include "snapshot_int.h"

/* What unpack remembers about a path it wrote: one for every path of the
 * image, so kept small (72 bytes, 80 with malloc's header). A regular file's
 * digest is its 32 raw sha256 bytes, not a 140-byte struct oci_digest; any
 * other algorithm would be kept whole on the heap (digest_other). */
struct rf_info {
	uint32_t mode; /* as in the layer: type and permissions */
	uint32_t uid, gid;
	bool is_virtual;
	uint8_t digest_algo; /* enum oci_digest_algo; NONE: no digest */
	uint8_t sha256[32];
	struct oci_digest *digest_other;
	uint64_t rdev;
	char *xattrs;
};

static int rf_unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void rf_digest_put(struct rf_info *i, const struct oci_digest *d)
{
	free(i->digest_other);
	i->digest_other = NULL;
	i->digest_algo = (uint8_t)d->algo;
	if (d->algo == OCI_DIGEST_NONE)
		return;
	const char *hex = oci_digest_hex(d);
	if (d->algo == OCI_DIGEST_SHA256 && strlen(hex) == 64) {
		for (int k = 0; k < 32; k++) {
			int hi = rf_unhex(hex[2 * k]), lo = rf_unhex(hex[2 * k + 1]);
			if (hi < 0 || lo < 0)
				goto whole;
			i->sha256[k] = (uint8_t)(hi << 4 | lo);
		}
		return;
	}
whole:
	i->digest_other = xmalloc(sizeof(*d));
	*i->digest_other = *d;
}

/* false when no digest is remembered */
static bool rf_digest_get(const struct rf_info *i, struct oci_digest *out)
{
	if (i->digest_algo == OCI_DIGEST_NONE)
		return false;
	if (i->digest_other) {
		*out = *i->digest_other;
		return true;
	}
	static const char hx[] = "0123456789abcdef";
	out->algo = OCI_DIGEST_SHA256;
	memcpy(out->str, "sha256:", 7);
	for (int k = 0; k < 32; k++) {
		out->str[7 + 2 * k] = hx[i->sha256[k] >> 4];
		out->str[8 + 2 * k] = hx[i->sha256[k] & 15];
	}
	out->str[7 + 64] = 0;
	return true;
}

struct dir_meta {
	char *path;
	uint32_t mode;
	struct timespec times[2];
};

struct oci_rootfs {
	int rootfd;
	struct oci_apply_opts opts;
	struct pathmap info;	  /* path -> struct rf_info */
	struct pathmap layer;	  /* paths this layer wrote (value 1) */
	struct pathmap layer_anc; /* and their ancestors */
	struct dir_meta *dirs;
	size_t n_dirs, cap_dirs;
	struct pathmap dir_at;	/* path -> 1 + its index in dirs: a repeat replaces */
	struct pathmap touched; /* directories this layer changed without an entry: their times */
	struct pathmap inode_digest; /* hard-linked inodes hashed for the record: "ino" -> digest */
	/* parent fd cache, and what is known of that parent: its times noted
	 * for this layer; whether a new file in it inherits an ACL (-1: not
	 * known, so assume it may); its group (for the owner a new file gets) */
	char *cached_parent;
	int cached_fd;
	bool cached_noted;
	int cached_acl;
	bool cached_gid_ok;
	gid_t cached_gid;
	/* whether the first new file skipping fchmod or fchown here was seen
	 * (fstat) to have the mode and owners that skipping assumes: -1 not yet
	 * seen, 1 it had, 0 it had not (a filesystem that forces owners or
	 * modes, NFS's root_squash say): then nothing is skipped here */
	int cached_trusted;
	/* the process's umask (-1: not known) and ids: what a new file gets
	 * without asking, so that fchmod and fchown can be skipped when they
	 * would change nothing */
	int umask;
	uid_t euid;
	gid_t egid;
	struct oci_hash *file_hash; /* reused for every file's digest */
	char *zero;		    /* a block of zeros for sparse holes */
	/* entries of this layer for a path it already wrote: the last wins */
	size_t n_dups;
	char *first_dup;
};

static void rf_info_free(void *p)
{
	struct rf_info *i = p;
	if (!i)
		return;
	free(i->xattrs);
	free(i->digest_other);
	free(i);
}

/* the umask, from /proc/self/status (umask() would have to change it to
 * read it, under other threads): -1 when not known */
static int rf_read_umask(void)
{
	int m = -1;
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return -1;
	char line[256];
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Umask:", 6) == 0) {
			char *end;
			long v = strtol(line + 6, &end, 8);
			if (end != line + 6 && v >= 0 && v <= 0777)
				m = (int)v;
			break;
		}
	fclose(f);
	return m;
}

int oci_rootfs_open(int dirfd, const struct oci_apply_opts *opts, struct oci_rootfs **out,
		    struct oci_error **err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "open rootfs");
	struct oci_rootfs *rf = xcalloc(1, sizeof(*rf));
	rf->rootfd = fd;
	if (opts)
		rf->opts = *opts;
	pathmap_init(&rf->info);
	pathmap_init(&rf->layer);
	pathmap_init(&rf->layer_anc);
	pathmap_init(&rf->touched);
	pathmap_init(&rf->inode_digest);
	pathmap_init(&rf->dir_at);
	rf->cached_fd = -1;
	rf->umask = rf_read_umask();
	rf->euid = geteuid();
	rf->egid = getegid();
	rf->file_hash = oci_hash_new(OCI_DIGEST_SHA256);
	*out = rf;
	return 0;
}

static void rf_cache_drop(struct oci_rootfs *rf)
{
	if (rf->cached_fd >= 0)
		close(rf->cached_fd);
	rf->cached_fd = -1;
	free(rf->cached_parent);
	rf->cached_parent = NULL;
	rf->cached_noted = false;
}

void oci_rootfs_free(struct oci_rootfs *rf)
{
	if (!rf)
		return;
	rf_cache_drop(rf);
	close(rf->rootfd);
	pathmap_release(&rf->info, rf_info_free);
	pathmap_release(&rf->layer, NULL);
	pathmap_release(&rf->layer_anc, NULL);
	pathmap_release(&rf->touched, free);
	pathmap_release(&rf->inode_digest, free);
	pathmap_release(&rf->dir_at, NULL);
	for (size_t i = 0; i < rf->n_dirs; i++)
		free(rf->dirs[i].path);
	free(rf->dirs);
	free(rf->zero);
	free(rf->first_dup);
	oci_hash_free(rf->file_hash);
	free(rf);
}

/* The parent of path, resolved in the root (and made when missing); the fd
 * is borrowed from the cache. */
static int rf_parent(struct oci_rootfs *rf, const char *path, bool create, const char **base,
		     struct oci_error **err)
{
	const char *slash = strrchr(path, '/');
	size_t plen = slash ? (size_t)(slash - path) : 0;
	if (rf->cached_parent && strlen(rf->cached_parent) == plen &&
	    memcmp(rf->cached_parent, path, plen) == 0) {
		*base = slash ? slash + 1 : path;
		return rf->cached_fd;
	}
	rf_cache_drop(rf);
	int fd = inroot_parent(rf->rootfd, path, create, base, err);
	if (fd < 0)
		return fd;
	rf->cached_fd = fd;
	rf->cached_parent = xstrndup(path, plen);
	rf->cached_noted = false;
	rf->cached_trusted = -1;
	/* A default ACL would give a new file an access ACL (removed below,
	 * file by file, when there may be one); fd is O_PATH, so asked through
	 * its /proc link. Unknown (no /proc, any other error): assume one. */
	char lp[64];
	snprintf(lp, sizeof(lp), "/proc/self/fd/%d", fd);
	rf->cached_acl = getxattr(lp, "system.posix_acl_default", NULL, 0) < 0 &&
				 (errno == ENODATA || errno == ENOTSUP || errno == EOPNOTSUPP)
			     ? 0
			     : -1;
	struct stat pst = {0};
	rf->cached_gid_ok = fstat(fd, &pst) == 0;
	rf->cached_gid = pst.st_gid;
	return fd;
}

/* Is some path of this layer at or below path? Then a whiteout must spare it. */
static bool rf_layer_has_under(struct oci_rootfs *rf, const char *path)
{
	return pathmap_get(&rf->layer, path) || pathmap_get(&rf->layer_anc, path) ||
	       (!*path && rf->layer.n > 0);
}

static void rf_mark_layer(struct oci_rootfs *rf, const char *path)
{
	*pathmap_put(&rf->layer, path) = (void *)1;
	cleanup_free char *p = xstrdup(path);
	for (char *s = strrchr(p, '/'); s; s = strrchr(p, '/')) {
		*s = 0;
		if (pathmap_get(&rf->layer_anc, p))
			break;
		*pathmap_put(&rf->layer_anc, p) = (void *)1;
	}
}

/* Remember a directory's times before this layer changes what is in it, so
 * that they can be put back at the end of the layer (unless the layer gives
 * the directory itself). dfd may be an O_PATH fd. */
static void rf_note_dir(struct oci_rootfs *rf, const char *dir, int dfd)
{
	void **slot = pathmap_put(&rf->touched, dir);
	if (*slot)
		return;
	struct stat st;
	struct timespec *ts = xcalloc(2, sizeof(*ts));
	if (fstat(dfd, &st) == 0) {
		ts[0] = st.st_atim;
		ts[1] = st.st_mtim;
	} else {
		ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
	}
	*slot = ts;
}

static void rf_note_parent(struct oci_rootfs *rf, const char *path, int pfd)
{
	const char *slash = strrchr(path, '/');
	cleanup_free char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup("");
	rf_note_dir(rf, dir, pfd);
}

/* What unpack remembered about a removed path is about a file that is
 * gone: a path made again (a parent directory made for a later entry) must
 * not inherit its mode, owners, xattrs or digest in the record. So every
 * removal goes through this keep callback, which sees each path removed;
 * with ours, this layer's own paths are spared (and so are their parents,
 * which stay, and keep what we know of them). */
struct rf_removal {
	struct oci_rootfs *rf;
	bool ours;
};

static bool rf_keep_or_forget(void *arg, const char *path)
{
	struct rf_removal *m = arg;
	struct oci_rootfs *rf = m->rf;
	if (m->ours && pathmap_get(&rf->layer, path))
		return true;
	if (!(m->ours && pathmap_get(&rf->layer_anc, path)) && pathmap_get(&rf->info, path)) {
		void **slot = pathmap_put(&rf->info, path);
		rf_info_free(*slot);
		*slot = NULL;
	}
	return false;
}

static int rf_whiteout(struct oci_rootfs *rf, enum oci_whiteout kind, const char *target,
		       struct oci_error **err)
{
	const char *base;
	int pfd;
	if (kind == OCI_WHITEOUT_OPAQUE) {
		/* empty target of lower entries: remove its children, sparing ours */
		struct oci_error *e2 = NULL;
		/* the root opened anew, not dup'ed: a dup shares the directory
		 * offset, which the first opaque whiteout of the root would leave
		 * at the end for every later one (and for the record's walk) */
		int dfd = *target ? inroot_open(rf->rootfd, target,
						O_RDONLY | O_DIRECTORY | O_NOFOLLOW, &e2)
				  : openat(rf->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			int en = e2 ? e2->errnum : errno;
			oci_error_free(e2);
			if (en == ENOENT || en == ENOTDIR || en == ELOOP)
				return 0; /* nothing below to hide */
			return error_set(err, OCI_E_IO, en, "opaque whiteout of \"%s\"", target);
		}
		rf_cache_drop(rf);
		rf_note_dir(rf, target, dfd);
		DIR *d = fdopendir(dfd);
		if (!d) {
			close(dfd);
			return error_set(err, OCI_E_IO, errno, "read directory \"%s\"", target);
		}
		size_t n;
		char **names = inroot_dir_names(d, &n);
		int r = 0;
		for (size_t i = 0; i < n; i++) {
			if (r == 0) {
				cleanup_free char *sub = *target
							     ? xasprintf("%s/%s", target, names[i])
							     : xstrdup(names[i]);
				struct rf_removal m = {rf, rf_layer_has_under(rf, sub)};
				r = inroot_remove(dirfd(d), names[i], sub, rf_keep_or_forget, &m,
						  err);
			}
			free(names[i]);
		}
		free(names);
		closedir(d);
		return r;
	}
	struct oci_error *e2 = NULL;
	pfd = inroot_parent(rf->rootfd, target, false, &base, &e2);
	if (pfd < 0) {
		oci_error_free(e2);
		return 0; /* the parent is not there: nothing to hide */
	}
	rf_cache_drop(rf);
	struct stat tst;
	if (fstatat(pfd, base, &tst, AT_SYMLINK_NOFOLLOW) == 0)
		rf_note_parent(rf, target, pfd);
	struct rf_removal m = {rf, rf_layer_has_under(rf, target)};
	int r = inroot_remove(pfd, base, target, rf_keep_or_forget, &m, err);
	close(pfd);
	return r;
}

static void rf_add_dir_meta(struct oci_rootfs *rf, const char *path, struct archive_entry *e)
{
	/* a directory the layer gives again takes the later metadata in its
	 * first place (parents stay before children): one slot however often
	 * a layer repeats it */
	void **at = pathmap_put(&rf->dir_at, path);
	struct dir_meta *m;
	if (*at) {
		m = &rf->dirs[(uintptr_t)*at - 1];
	} else {
		if (rf->n_dirs == rf->cap_dirs) {
			rf->cap_dirs = rf->cap_dirs ? rf->cap_dirs * 2 : 256;
			rf->dirs = xrealloc(rf->dirs, rf->cap_dirs * sizeof(*rf->dirs));
		}
		m = &rf->dirs[rf->n_dirs++];
		m->path = xstrdup(path);
		*at = (void *)(uintptr_t)rf->n_dirs;
	}
	m->mode = archive_entry_perm(e) & 07777;
	m->times[0].tv_sec =
	    archive_entry_atime_is_set(e) ? archive_entry_atime(e) : archive_entry_mtime(e);
	m->times[0].tv_nsec = archive_entry_atime_is_set(e) ? archive_entry_atime_nsec(e)
							    : archive_entry_mtime_nsec(e);
	m->times[1].tv_sec = archive_entry_mtime(e);
	m->times[1].tv_nsec = archive_entry_mtime_nsec(e);
}

/* A directory of the rootfs again, through an fd opened O_NOFOLLOW from its
 * re-resolved parent: -1 when it is gone or is no longer a directory (a name
 * that has since become a symlink is never followed). */
static int rf_reopen_dir(struct oci_rootfs *rf, const char *path)
{
	if (!*path)
		return openat(rf->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *base;
	struct oci_error *e2 = NULL;
	int pfd = inroot_parent(rf->rootfd, path, false, &base, &e2);
	oci_error_free(e2);
	if (pfd < 0)
		return -1;
	int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(pfd);
	return fd;
}

/* Directory modes and times, last: through an fd opened O_NOFOLLOW from its
 * resolved parent, so a name that has since become a symlink is skipped. */
static int rf_finish_dirs(struct oci_rootfs *rf, struct oci_error **err)
{
	rf_cache_drop(rf);
	for (size_t i = rf->n_dirs; i-- > 0;) {
		struct dir_meta *m = &rf->dirs[i];
		int fd = rf_reopen_dir(rf, m->path);
		if (fd < 0)
			continue; /* removed or replaced since */
		mode_t mode = m->mode | (rf->opts.rootless ? S_IRWXU : 0);
		if (fchmod(fd, mode) < 0 || futimens(fd, m->times) < 0) {
			int e = errno;
			close(fd);
			return error_set(err, OCI_E_IO, e, "set metadata of directory \"%s\"",
					 m->path);
		}
		close(fd);
	}
	for (size_t i = 0; i < rf->n_dirs; i++)
		free(rf->dirs[i].path);
	rf->n_dirs = 0;
	pathmap_clear(&rf->dir_at, NULL);
	/* directories changed by this layer without an entry of their own keep
	 * the times a lower layer gave them */
	for (size_t i = 0; i < rf->touched.cap; i++) {
		struct pathmap_slot *t = &rf->touched.slots[i];
		if (!t->hash || pathmap_get(&rf->layer, t->key))
			continue;
		int fd = rf_reopen_dir(rf, t->key);
		if (fd < 0)
			continue;
		futimens(fd, t->val);
		close(fd);
	}
	pathmap_clear(&rf->touched, free);
	return 0;
}

static bool rf_xattr_soft_error(int e)
{
	return e == ENOTSUP || e == EOPNOTSUPP || e == EPERM || e == EACCES;
}

static int rf_set_xattrs(struct oci_rootfs *rf, struct archive_entry *e, int fd, int pfd,
			 const char *base, const char *path, struct oci_error **err)
{
	(void)rf;
	if (archive_entry_xattr_reset(e) == 0)
		return 0;
	const char *name;
	const void *val;
	size_t vl;
	while (archive_entry_xattr_next(e, &name, &val, &vl) == ARCHIVE_OK) {
		int r;
		if (fd >= 0) {
			r = fsetxattr(fd, name, val, vl, 0);
		} else {
			char p[64 + 256];
			snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", pfd, base);
			r = lsetxattr(p, name, val, vl, 0);
		}
		if (r < 0 && !rf_xattr_soft_error(errno))
			return error_set(err, OCI_E_IO, errno, "set xattr %s on \"%s\"", name,
					 path);
	}
	return 0;
}

static bool rf_entry_has_xattr(struct archive_entry *e, const char *want)
{
	const char *name;
	const void *val;
	size_t vl;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &val, &vl) == ARCHIVE_OK)
		if (strcmp(name, want) == 0)
			return true;
	return false;
}

/* A new inode takes an access ACL from its directory's default ACL (a new
 * directory the default ACL too): metadata that is in no layer, which a
 * diff would report and a squash would bake in. Removed unless the entry
 * gives it. (Mode, owner and group, which the umask and a setgid parent
 * also reach, are set explicitly after creation.) fd, or else pfd/base
 * for an inode that cannot be opened (a FIFO, a device). */
static int rf_drop_inherited(int fd, int pfd, const char *base, struct archive_entry *e,
			     const char *path, struct oci_error **err)
{
	static const char *const acls[] = {"system.posix_acl_access", "system.posix_acl_default"};
	for (size_t i = 0; i < sizeof(acls) / sizeof(acls[0]); i++) {
		if (rf_entry_has_xattr(e, acls[i]))
			continue;
		int r;
		if (fd >= 0) {
			r = fremovexattr(fd, acls[i]);
		} else {
			char p[64 + 256];
			snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", pfd, base);
			r = lremovexattr(p, acls[i]);
		}
		if (r < 0 && errno != ENODATA && !rf_xattr_soft_error(errno))
			return error_set(err, OCI_E_IO, errno, "remove inherited %s of \"%s\"",
					 acls[i], path);
	}
	return 0;
}

/* Remove the xattrs of fd that the entry does not have. The kernel lists
 * at most 64 KiB of names (XATTR_LIST_MAX; E2BIG past it): a list it will
 * not give, or a name it will not remove, is an error, not a directory
 * silently keeping what a lower layer gave it. */
static int rf_clear_xattrs(int fd, struct archive_entry *e, const char *path,
			   struct oci_error **err)
{
	char list[65536];
	ssize_t n = flistxattr(fd, list, sizeof(list));
	if (n < 0 && !rf_xattr_soft_error(errno))
		return error_set(err, OCI_E_IO, errno, "list the xattrs of \"%s\"", path);
	for (char *p = list; n > 0 && p < list + n; p += strlen(p) + 1) {
		bool keep = false;
		const char *name;
		const void *val;
		size_t vl;
		archive_entry_xattr_reset(e);
		while (!keep && archive_entry_xattr_next(e, &name, &val, &vl) == ARCHIVE_OK)
			keep = strcmp(name, p) == 0;
		if (!keep && fremovexattr(fd, p) < 0 && errno != ENODATA &&
		    !rf_xattr_soft_error(errno))
			return error_set(err, OCI_E_IO, errno, "remove xattr %s of \"%s\"", p,
					 path);
	}
	return 0;
}

static struct rf_info *rf_remember(struct oci_rootfs *rf, const char *path, struct archive_entry *e)
{
	void **slot = pathmap_put(&rf->info, path);
	rf_info_free(*slot);
	struct rf_info *i = xcalloc(1, sizeof(*i));
	i->mode = (uint32_t)archive_entry_mode(e);
	i->uid = (uint32_t)archive_entry_uid(e);
	i->gid = (uint32_t)archive_entry_gid(e);
	i->rdev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
	i->xattrs = oci_layer_entry_xattrs(e);
	*slot = i;
	rf_mark_layer(rf, path);
	return i;
}

#define RF_BLOCK 4096

static bool rf_is_zero(const char *p, size_t n)
{
	const uint64_t *w = (const uint64_t *)(const void *)p;
	for (size_t i = 0; i < n / 8; i += 4)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3])
			return false;
	return true;
}

static int rf_pwrite_all(int fd, const char *p, size_t n, int64_t pos, const char *path,
			 struct oci_error **err)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, pos);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return error_set(err, OCI_E_IO, errno, "write \"%s\"", path);
		p += w;
		n -= (size_t)w;
		pos += w;
	}
	return 0;
}

/* The file's data from the layer into fd (a new, empty file), whole zero
 * blocks left as holes; its sha256 into sha. *end: where its data ends,
 * holes included; *written: where the last byte written ends (the file's
 * size now: less than *end when it ends in a hole). */
static int rf_write_file(struct oci_rootfs *rf, struct oci_layer_reader *lr, int fd,
			 const char *path, uint8_t sha[32], int64_t *end, int64_t *written,
			 struct oci_error **err)
{
	struct oci_hash *h = rf->file_hash;
	oci_hash_reset(h);
	int64_t pos = 0, wend = 0;
	int r;
	for (;;) {
		const void *buf;
		size_t len;
		int64_t off;
		r = oci_layer_read_block(lr, &buf, &len, &off, err);
		if (r <= 0)
			break;
		if (off < pos) {
			r = error_set(err, OCI_E_INVALID, 0, "\"%s\": overlapping sparse data",
				      path);
			break;
		}
		while (pos < off) {	       /* a hole: hash zeros, leave it unwritten */
			if (oci_cancelled()) { /* a layer's hole may be 2^63 bytes */
				r = error_set(err, OCI_E_INTERRUPTED, 0, "\"%s\": interrupted",
					      path);
				goto out;
			}
			if (!rf->zero)
				rf->zero = xcalloc(1, 65536);
			size_t z = off - pos > 65536 ? 65536 : (size_t)(off - pos);
			oci_hash_update(h, rf->zero, z);
			pos += (int64_t)z;
		}
		oci_hash_update(h, buf, len);
		/* whole zero blocks become holes, so that a sparse file stays sparse
		 * even when its layer stored the zeros; the rest goes out in runs */
		const char *p = buf;
		size_t done = 0, run = 0; /* run: bytes from done not yet written */
		while (done + run < len || run) {
			size_t at = done + run;
			size_t blk = RF_BLOCK - (size_t)((pos + (int64_t)run) % RF_BLOCK);
			bool zero = at < len && len - at >= blk && blk == RF_BLOCK &&
				    rf_is_zero(p + at, blk);
			if (at < len && !zero) {
				run += len - at < blk ? len - at : blk;
				continue;
			}
			if (run && (r = rf_pwrite_all(fd, p + done, run, pos, path, err)) < 0)
				goto out;
			done += run;
			pos += (int64_t)run;
			if (run)
				wend = pos;
			run = 0;
			if (zero) {
				done += blk;
				pos += (int64_t)blk;
			}
		}
	}
	*end = pos;
	*written = wend;
out : {
	unsigned char md[64];
	size_t n = oci_hash_final_raw(h, md); /* also ends a failed one */
	if (r == 0 && n == 32)
		memcpy(sha, md, 32);
}
	return r;
}

static int rf_apply_entry(struct oci_rootfs *rf, struct oci_layer_reader *lr,
			  struct archive_entry *e, struct oci_error **err)
{
	const char *raw = archive_entry_pathname(e);
	if (!raw)
		return error_set(err, OCI_E_INVALID, 0, "entry without a name");
	cleanup_free char *path = oci_path_clean(raw);
	/* Paths of PATH_MAX (4096) bytes or more are refused, as commit and the
	 * merged view refuse them: opening the parent and then the name would
	 * otherwise make a file up to 4,095 + 1 + 255 bytes deep, a tree that
	 * unpacks but cannot be committed or streamed. */
	if (strlen(path) >= PATH_MAX)
		return error_set(err, OCI_E_IO, ENAMETOOLONG, "\"%s\"", path);
	cleanup_free char *target = NULL;
	enum oci_whiteout wh = oci_whiteout_parse(path, &target);
	if (wh == OCI_WHITEOUT_INVALID)
		return error_set(err, OCI_E_INVALID, 0, "\"%s\": reserved whiteout name", path);
	if (wh != OCI_WHITEOUT_NONE)
		return rf_whiteout(rf, wh, target, err);

	bool dup = pathmap_get(&rf->layer, path) != NULL;
	if (dup && rf->n_dups++ == 0)
		rf->first_dup = xstrdup(path);

	mode_t type = archive_entry_filetype(e);
	const char *hl = archive_entry_hardlink(e);
	if (!*path) {
		if (hl || type != AE_IFDIR)
			return error_set(err, OCI_E_INVALID, 0,
					 "entry \"%s\" would replace the root", raw);
		/* the root's owner, mode and default ACL change here, not through
		 * rf_parent of its parent: what the cache knew of it is gone */
		rf_cache_drop(rf);
		if (!rf->opts.rootless &&
		    fchown(rf->rootfd, archive_entry_uid(e), archive_entry_gid(e)) < 0)
			return error_set(err, OCI_E_IO, errno, "chown rootfs");
		int xr = rf_clear_xattrs(rf->rootfd, e, "/", err);
		if (xr == 0)
			xr = rf_set_xattrs(rf, e, rf->rootfd, -1, ".", "/", err);
		if (xr < 0)
			return xr;
		rf_remember(rf, path, e);
		rf_add_dir_meta(rf, path, e);
		return 0;
	}
	const char *base;
	int pfd = rf_parent(rf, path, true, &base, err);
	if (pfd < 0)
		return error_wrap(err, "\"%s\"", path);
	mode_t perm = archive_entry_perm(e) & 07777;
	/* A regular file, the bulk of any image, is first created outright
	 * (O_EXCL): only when a name is there already does it take the way of
	 * every other entry (stat, remove, create). Made with its final
	 * permissions when nothing can change them on the way (a umask that
	 * clears none of its bits, no default ACL in its directory, no
	 * set-id or sticky bit, which chown would clear): no fchmod then. */
	int newfd = -1;
	bool perm_set = false;
	if (type == AE_IFREG && !hl) {
		if (!rf->cached_noted || pfd != rf->cached_fd) {
			rf_note_parent(rf, path, pfd);
			rf->cached_noted = pfd == rf->cached_fd;
		}
		perm_set = rf->umask >= 0 && (perm & (mode_t)rf->umask) == 0 && !(perm & 07000) &&
			   rf->cached_trusted != 0 && rf->cached_acl == 0 && pfd == rf->cached_fd;
		newfd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			       perm_set ? perm : 0600);
		if (newfd < 0 && errno != EEXIST)
			return error_set(err, OCI_E_IO, errno, "create \"%s\"", path);
		if (newfd < 0)
			perm_set = false;
	}
	struct stat st;
	bool exists = false;
	if (newfd < 0) {
		exists = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
		if (!exists && errno != ENOENT)
			return error_set(err, OCI_E_IO, errno, "stat \"%s\"", path);
		if (!exists || !S_ISDIR(st.st_mode) || type != AE_IFDIR || hl)
			rf_note_parent(rf, path, pfd);
	}

	cleanup_free char *hl_path = hl ? oci_path_clean(hl) : NULL;
	if (hl && strcmp(hl_path, path) == 0)
		return 0; /* a link to itself: nothing to do */
	if (exists && !(type == AE_IFDIR && !hl && S_ISDIR(st.st_mode))) {
		struct rf_removal m = {rf, false};
		int r = inroot_remove(pfd, base, path, rf_keep_or_forget, &m, err);
		if (r < 0)
			return r;
		/* a cached parent may have led through what was just removed */
		rf_cache_drop(rf);
		pfd = rf_parent(rf, path, true, &base, err);
		if (pfd < 0)
			return pfd;
		exists = false;
	}

	uid_t uid = (uid_t)archive_entry_uid(e);
	gid_t gid = (gid_t)archive_entry_gid(e);
	struct timespec ts[2] = {
	    {archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
	    {archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
	};
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	}
	bool chown_ok = !rf->opts.rootless;

	if (hl) {
		const char *tbase;
		struct oci_error *e2 = NULL;
		int tpfd = inroot_parent(rf->rootfd, hl_path, false, &tbase, &e2);
		if (tpfd < 0) {
			oci_error_free(e2);
			return error_set(err, OCI_E_INVALID, 0,
					 "\"%s\": hardlink target \"%s\" does not exist", path,
					 hl_path);
		}
		struct stat tst;
		if (fstatat(tpfd, tbase, &tst, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(tst.st_mode)) {
			close(tpfd);
			return error_set(err, OCI_E_INVALID, 0,
					 "\"%s\": hardlink target \"%s\" is missing or a directory",
					 path, hl_path);
		}
		int r = linkat(tpfd, tbase, pfd, base, 0);
		int le = errno;
		close(tpfd);
		if (r < 0)
			return error_set(err, OCI_E_IO, le, "link \"%s\" to \"%s\"", path, hl_path);
		struct rf_info *ti = pathmap_get(&rf->info, hl_path);
		struct rf_info *i = rf_remember(rf, path, e);
		if (ti) {
			struct oci_digest td;
			if (rf_digest_get(ti, &td))
				rf_digest_put(i, &td);
			i->mode = ti->mode;
			i->uid = ti->uid;
			i->gid = ti->gid;
			free(i->xattrs);
			i->xattrs = ti->xattrs ? xstrdup(ti->xattrs) : NULL;
			i->is_virtual = ti->is_virtual;
			i->rdev = ti->rdev;
		}
		return 0;
	}

	switch (type) {
	case AE_IFDIR: {
		if (!exists && mkdirat(pfd, base, 0700) < 0)
			return error_set(err, OCI_E_IO, errno, "create directory \"%s\"", path);
		int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return error_set(err, OCI_E_IO, errno, "open directory \"%s\"", path);
		int r = 0;
		if (chown_ok && fchown(fd, uid, gid) < 0)
			r = error_set(err, OCI_E_IO, errno, "chown \"%s\"", path);
		if (r == 0 && exists) /* a directory given again has only the new ones */
			r = rf_clear_xattrs(fd, e, path, err);
		else if (r == 0)
			r = rf_drop_inherited(fd, -1, NULL, e, path, err);
		if (r == 0)
			r = rf_set_xattrs(rf, e, fd, pfd, base, path, err);
		close(fd);
		if (r < 0)
			return r;
		rf_remember(rf, path, e);
		rf_add_dir_meta(rf, path, e);
		return 0;
	}
	case AE_IFREG: {
		int fd = newfd;
		if (fd < 0)
			fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				    0600);
		if (fd < 0)
			return error_set(err, OCI_E_IO, errno, "create \"%s\"", path);
		/* with no default ACL in the directory there is nothing inherited */
		int r = rf->cached_acl == 0 && pfd == rf->cached_fd
			    ? 0
			    : rf_drop_inherited(fd, -1, NULL, e, path, err);
		uint8_t sha[32];
		int64_t end = 0, written = 0;
		if (r == 0)
			r = rf_write_file(rf, lr, fd, path, sha, &end, &written, err);
		/* the size: past the last block written when the file ends in a
		 * hole, or when the entry says it is larger than its data */
		if (r == 0 && archive_entry_size(e) > end)
			end = archive_entry_size(e);
		if (r == 0 && end != written && ftruncate(fd, end) < 0)
			r = error_set(err, OCI_E_IO, errno, "truncate \"%s\"", path);
		/* a new file is ours, with our group or its directory's: when all
		 * of those are what the entry asks, there is nothing to change */
		bool owned = uid == rf->euid && gid == rf->egid && rf->cached_gid_ok &&
			     rf->cached_gid == rf->egid && pfd == rf->cached_fd &&
			     rf->cached_trusted != 0;
		if (r == 0 && (perm_set || owned) && rf->cached_trusted < 0) {
			/* the first file that would skip a call in this directory: is
			 * what it got what skipping assumes? */
			struct stat nst;
			bool ok = fstat(fd, &nst) == 0 && nst.st_uid == rf->euid &&
				  nst.st_gid == rf->egid &&
				  (!perm_set || (nst.st_mode & 07777) == perm);
			if (!ok)
				perm_set = owned = false;
			if (!ok || perm_set)
				rf->cached_trusted = ok;
		}
		if (r == 0 && chown_ok && !owned && fchown(fd, uid, gid) < 0)
			r = error_set(err, OCI_E_IO, errno, "chown \"%s\"", path);
		if (r == 0 && !perm_set && fchmod(fd, perm) < 0)
			r = error_set(err, OCI_E_IO, errno, "chmod \"%s\"", path);
		if (r == 0)
			r = rf_set_xattrs(rf, e, fd, pfd, base, path, err);
		if (r == 0 && futimens(fd, ts) < 0)
			r = error_set(err, OCI_E_IO, errno, "set times of \"%s\"", path);
		close(fd);
		if (r < 0)
			return r;
		struct rf_info *i = rf_remember(rf, path, e);
		i->digest_algo = OCI_DIGEST_SHA256;
		memcpy(i->sha256, sha, 32);
		return 0;
	}
	case AE_IFLNK: {
		const char *to = archive_entry_symlink(e);
		if (!to)
			return error_set(err, OCI_E_INVALID, 0, "\"%s\": symlink without a target",
					 path);
		if (symlinkat(to, pfd, base) < 0)
			return error_set(err, OCI_E_IO, errno, "create symlink \"%s\"", path);
		rf_cache_drop(rf); /* a symlink may now stand where a cached path led */
		pfd = rf_parent(rf, path, false, &base, err);
		if (pfd < 0)
			return pfd;
		if (chown_ok && fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return error_set(err, OCI_E_IO, errno, "chown \"%s\"", path);
		int r = rf_set_xattrs(rf, e, -1, pfd, base, path, err);
		if (r < 0)
			return r;
		if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return error_set(err, OCI_E_IO, errno, "set times of \"%s\"", path);
		rf_remember(rf, path, e);
		return 0;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO: {
		dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
		mode_t m = (type == AE_IFCHR   ? S_IFCHR
			    : type == AE_IFBLK ? S_IFBLK
					       : S_IFIFO) |
			   perm;
		bool placeholder = false;
		if (mknodat(pfd, base, m, type == AE_IFIFO ? 0 : dev) < 0) {
			if (!(errno == EPERM && rf->opts.rootless && type != AE_IFIFO))
				return error_set(err, OCI_E_IO, errno, "create %s \"%s\"",
						 type == AE_IFIFO ? "fifo" : "device", path);
			/* rootless: an empty file stands in; the device lives in the record */
			int fd = openat(pfd, base,
					O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
			if (fd < 0)
				return error_set(err, OCI_E_IO, errno, "create \"%s\"", path);
			close(fd);
			placeholder = true;
		}
		int r = rf_drop_inherited(-1, pfd, base, e, path, err);
		if (r < 0)
			return r;
		if (chown_ok && fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return error_set(err, OCI_E_IO, errno, "chown \"%s\"", path);
		if (!placeholder && fchmodat(pfd, base, perm, 0) < 0)
			return error_set(err, OCI_E_IO, errno, "chmod \"%s\"", path);
		r = rf_set_xattrs(rf, e, -1, pfd, base, path, err);
		if (r < 0)
			return r;
		if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return error_set(err, OCI_E_IO, errno, "set times of \"%s\"", path);
		rf_remember(rf, path, e)->is_virtual = placeholder;
		return 0;
	}
	default:
		return 0; /* sockets and anything else are not kept, as tar does */
	}
}

static int rf_layer_open(struct oci_layout *l, const struct oci_descriptor *d,
			 const struct oci_digest *diff_id, struct oci_layer_reader **lr,
			 struct oci_error **err)
{
	/* the inflating thread is the busier one here (ISA-L, the blob's sha256):
	 * the tar's sha256 goes with the writes */
	return oci_layer_open_flags(l, d, diff_id, OCI_LAYER_HASH_IN_CALLER, lr, err);
}

/* Apply the layer lr reads (opened by rf_layer_open), and free lr. */
static int rf_apply_layer(struct oci_rootfs *rf, struct oci_layer_reader *lr,
			  const struct oci_descriptor *d, size_t layer_no, size_t n_layers,
			  struct oci_error **err)
{
	int r;
	pathmap_clear(&rf->layer, NULL);
	pathmap_clear(&rf->layer_anc, NULL);
	rf->n_dups = 0;
	free(rf->first_dup);
	rf->first_dup = NULL;
	struct archive_entry *e;
	unsigned count = 0;
	while ((r = oci_layer_next(lr, &e, err)) > 0) {
		if (rf->opts.cancel && *rf->opts.cancel) {
			r = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
			break;
		}
		r = rf_apply_entry(rf, lr, e, err);
		if (r < 0) {
			/* errors of the layer reader already name the layer */
			if (err && *err && strncmp((*err)->msg, "layer ", 6) != 0)
				error_wrap(err, "layer %s", d->digest.str);
			break;
		}
		if (rf->opts.progress && (++count & 63) == 0)
			rf->opts.progress(rf->opts.progress_arg, layer_no, n_layers,
					  oci_layer_bytes_read(lr), d->size);
	}
	oci_layer_free(lr);
	rf_cache_drop(rf);
	if (r < 0)
		return r;
	if (rf->opts.progress)
		rf->opts.progress(rf->opts.progress_arg, layer_no, n_layers, d->size, d->size);
	if (rf->n_dups && rf->opts.note) {
		/* the image-spec forbids them; Docker and containerd apply the
		 * last, and so do we, saying so */
		cleanup_free char *msg = xasprintf(
		    "layer %s: %zu duplicate entr%s (the first for \"%s\"): the last "
		    "entry of each path applied",
		    d->digest.str, rf->n_dups, rf->n_dups == 1 ? "y" : "ies", rf->first_dup);
		rf->opts.note(rf->opts.note_arg, msg);
	}
	r = rf_finish_dirs(rf, err);
	/* the layer's own maps hold every path it named (an image's single
	 * layer: all of them): freed whole, not just emptied, so the snapshot
	 * that follows the last layer does not sit on top of them */
	pathmap_release(&rf->layer, NULL);
	pathmap_release(&rf->layer_anc, NULL);
	return r;
}

int oci_rootfs_apply(struct oci_rootfs *rf, struct oci_layout *l, const struct oci_descriptor *d,
		     const struct oci_digest *diff_id, size_t layer_no, size_t n_layers,
		     struct oci_error **err)
{
	struct oci_layer_reader *lr;
	int r = rf_layer_open(l, d, diff_id, &lr, err);
	if (r < 0)
		return r;
	return rf_apply_layer(rf, lr, d, layer_no, n_layers, err);
}

int oci_rootfs_apply_image(struct oci_rootfs *rf, const struct oci_image *img,
			   struct oci_error **err)
{
	const struct oci_manifest *m = img->manifest;
	struct oci_layer_reader *next = NULL;
	for (size_t i = 0; i < m->n_layers; i++) {
		struct oci_layer_reader *lr = next;
		next = NULL;
		int r = 0;
		if (!lr)
			r = rf_layer_open(img->layout, &m->layers[i], &img->config->diff_ids[i],
					  &lr, err);
		if (r < 0)
			return r;
		/* Layer i+1 is read, hashed and inflated (into its reader's ring) by
		 * its own thread while layer i is applied here, so the pipeline does
		 * not drain and refill at each layer's end. Its entries are still
		 * applied strictly after layer i's, and each layer's digest and
		 * diff_id are checked at its end as before. If it cannot be opened
		 * now, it is opened again in its turn: its error then comes after
		 * layer i's, as without the read-ahead. */
		if (i + 1 < m->n_layers) {
			struct oci_error *ahead = NULL;
			if (rf_layer_open(img->layout, &m->layers[i + 1],
					  &img->config->diff_ids[i + 1], &next, &ahead) < 0) {
				next = NULL;
				oci_error_free(ahead);
			}
		}
		r = rf_apply_layer(rf, lr, &m->layers[i], i + 1, m->n_layers, err);
		if (r < 0) {
			oci_layer_free(next);
			return r;
		}
	}
	return 0;
}

/* ---- the snapshot: a walk of what is on disk, with what we remember ---- */

static int rf_snap_visit(void *arg, struct oci_snap_entry *e, int dfd, const char *name,
			 int self_fd, struct stat *st, struct oci_error **err)
{
	struct oci_rootfs *rf = arg;
	const struct rf_info *i = pathmap_get(&rf->info, e->path);
	if (S_ISDIR(st->st_mode) && rf->opts.rootless && i &&
	    (i->mode & 07777) != (st->st_mode & 07777)) {
		/* the exact mode last: until now we kept u+rwx to work in it */
		struct timespec ts[2] = {st->st_atim, st->st_mtim};
		if (fchmod(self_fd, i->mode & 07777) < 0 || futimens(self_fd, ts) < 0 ||
		    fstat(self_fd, st) < 0)
			return error_set(err, OCI_E_IO, errno, "chmod \"%s\"", e->path);
		snapshot_fill_stat(e, st);
	}
	if (!i && rf->opts.rootless) {
		/* made by us (parents of entries, the root): root's in the image */
		e->uid = 0;
		e->gid = 0;
	}
	if (i) {
		if (rf->opts.rootless) { /* the image's owners, not ours */
			e->uid = i->uid;
			e->gid = i->gid;
		}
		if (i->is_virtual) {
			e->mode = i->mode;
			e->rdev = i->rdev;
			e->flags |= OCI_SNAP_VIRTUAL;
		}
		if (i->xattrs)
			e->xattrs = xstrdup(i->xattrs);
	}
	if (S_ISREG(st->st_mode) && !(e->flags & OCI_SNAP_VIRTUAL)) {
		/* A hard link was given its target's digest as remembered when it
		 * was linked, which need not be its inode's (the target named
		 * through a symlink, or remembered from a path removed since):
		 * the inode's content decides, hashed once for all its names. */
		struct oci_digest known;
		if (i && st->st_nlink == 1 && rf_digest_get(i, &known)) {
			oci_snap_digest_set(&e->digest, &known);
			return 0;
		}
		if (st->st_nlink == 1)
			return snapshot_hash_file(dfd, name, e, &e->digest, err);
		char key[32];
		snprintf(key, sizeof(key), "%llu", (unsigned long long)st->st_ino);
		void **slot = pathmap_put(&rf->inode_digest, key);
		if (!*slot) {
			struct oci_snap_digest *d = xcalloc(1, sizeof(*d));
			int r = snapshot_hash_file(dfd, name, e, d, err);
			if (r < 0) {
				free(d);
				return r;
			}
			*slot = d;
		}
		oci_snap_digest_copy(&e->digest, *slot);
	}
	return 0;
}

int oci_rootfs_snapshot(struct oci_rootfs *rf, struct oci_snapshot **out, struct oci_error **err)
{
	struct oci_snapshot *s = xcalloc(1, sizeof(*s));
	s->rootless = rf->opts.rootless;
	int r = snapshot_walk(rf->rootfd, rf_snap_visit, rf, s, err);
	if (r < 0) {
		oci_snapshot_free(s);
		return r;
	}
	*out = s;
	return 0;
}

/* A rootless directory whose mode in the image denies us reading or
 * searching it gets that mode only after its children are recorded. */
static bool rf_snap_defer(void *arg, const struct oci_snap_entry *e, const struct stat *st)
{
	struct oci_rootfs *rf = arg;
	if (!rf->opts.rootless)
		return false;
	const struct rf_info *i = pathmap_get(&rf->info, e->path);
	return i && (i->mode & 07777) != (st->st_mode & 07777) &&
	       (i->mode & (S_IRUSR | S_IXUSR)) != (S_IRUSR | S_IXUSR);
}

int oci_rootfs_write_record(struct oci_rootfs *rf, const struct oci_snapshot *head, int dirfd,
			    const char *name, struct oci_error **err)
{
	struct oci_snapshot h = *head;
	h.rootless = rf->opts.rootless;
	h.n = 0;
	h.e = NULL;
	return snapshot_walk_write(rf->rootfd, rf_snap_visit, rf_snap_defer, rf, &h, dirfd, name,
				   err);
}
