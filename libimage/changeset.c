/* The changeset engine: two sorted trees merged path by path. Against an
 * unpack record an entry whose inode, ctime, mtime, size, mode and owners
 * are unchanged is unchanged without being read (user space cannot set ctime), so the
 * cost follows the change, not the tree. Content and xattrs are read only
 * where the stat data moved. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <oci/bundle.h>
#include <oci/changeset.h>
#include "inroot.h"
#include "snapshot_int.h"
#include "pathmap.h"

void oci_changeset_free(struct oci_changeset *cs)
{
	if (!cs)
		return;
	free(cs->c);
	oci_snapshot_free(cs->before);
	oci_snapshot_free(cs->after);
	if (cs->before_fd >= 0)
		close(cs->before_fd);
	if (cs->after_fd >= 0)
		close(cs->after_fd);
	free(cs);
}

const char *oci_change_field_name(unsigned f)
{
	switch (f) {
	case OCI_FIELD_TYPE:
		return "type";
	case OCI_FIELD_MODE:
		return "mode";
	case OCI_FIELD_OWNER:
		return "owner";
	case OCI_FIELD_SIZE:
		return "size";
	case OCI_FIELD_CONTENT:
		return "content";
	case OCI_FIELD_MTIME:
		return "mtime";
	case OCI_FIELD_LINK:
		return "link";
	case OCI_FIELD_XATTRS:
		return "xattrs";
	case OCI_FIELD_DEVICE:
		return "device";
	case OCI_FIELD_REPLACED:
		return "replaced";
	}
	return "?";
}

/* Lazily: the content digest of an entry of the tree at rootfd. */
static int cs_digest(int rootfd, struct oci_snap_entry *e, struct oci_error **err)
{
	if (e->digest.algo || rootfd < 0)
		return 0;
	const char *base;
	int pfd = inroot_parent(rootfd, e->path, false, &base, err);
	if (pfd < 0)
		return pfd;
	int r = snapshot_hash_file(pfd, base, e, &e->digest, err);
	close(pfd);
	return r;
}

static bool cs_xattrs_equal(const char *a, const char *b)
{
	return strcmp(a && *a ? a : "", b && *b ? b : "") == 0;
}

/* did the parent directory of path keep its inode since the record? */
static bool cs_parent_kept(struct oci_changeset *cs, const char *path)
{
	if (!*path)
		return false;
	const char *slash = strrchr(path, '/');
	cleanup_free char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup("");
	const struct oci_snap_entry *a = oci_snapshot_find(cs->before, dir);
	const struct oci_snap_entry *b = oci_snapshot_find(cs->after, dir);
	return a && b && a->ino == b->ino;
}

static int cs_compare(struct oci_changeset *cs, const struct oci_diff_opts *o,
		      struct oci_snap_entry *a, struct oci_snap_entry *b, bool by_record,
		      unsigned *out, struct oci_error **err)
{
	unsigned f = 0;
	*out = 0;
	/* The shortcut trusts the record only where the stat data the walk has
	 * anyway agrees with it: mode and owners compared too (free), so a
	 * record edited in them alone is a change, not believed. */
	bool virt = a->flags & OCI_SNAP_VIRTUAL;
	if (by_record && a->ino == b->ino && a->ctime_ns == b->ctime_ns &&
	    a->mtime_ns == b->mtime_ns && a->size == b->size && (virt || a->mode == b->mode) &&
	    (cs->ignore_owner || (a->uid == b->uid && a->gid == b->gid))) {
		/* untouched since unpack: take what the record knows */
		oci_snap_digest_copy(&b->digest, &a->digest);
		if (!b->xattrs && a->xattrs)
			b->xattrs = *a->xattrs ? xstrdup(a->xattrs) : snapshot_no_xattrs;
		if (cs->ignore_owner) {
			b->uid = a->uid;
			b->gid = a->gid;
		}
		if (a->flags & OCI_SNAP_VIRTUAL) {
			b->mode = a->mode;
			b->rdev = a->rdev;
			b->flags |= OCI_SNAP_VIRTUAL;
		}
		return 0;
	}
	if ((a->mode & S_IFMT) != (b->mode & S_IFMT)) {
		*out = OCI_FIELD_TYPE;
		return 0;
	}
	if ((a->mode & 07777) != (b->mode & 07777))
		f |= OCI_FIELD_MODE;
	if (cs->ignore_owner) {
		b->uid = a->uid;
		b->gid = a->gid;
	} else if (a->uid != b->uid || a->gid != b->gid) {
		f |= OCI_FIELD_OWNER;
	}
	if (!o->ignore_mtime && a->mtime_ns != b->mtime_ns)
		f |= OCI_FIELD_MTIME;
	if (S_ISREG(a->mode)) {
		if (a->size != b->size) {
			f |= OCI_FIELD_SIZE | OCI_FIELD_CONTENT;
		} else {
			int r;
			if ((r = cs_digest(cs->before_fd, a, err)) < 0 ||
			    (r = cs_digest(cs->after_fd, b, err)) < 0)
				return r;
			if (!oci_snap_digest_equal(&a->digest, &b->digest))
				f |= OCI_FIELD_CONTENT;
		}
	} else if (S_ISLNK(a->mode)) {
		if (strcmp(a->link ? a->link : "", b->link ? b->link : "") != 0)
			f |= OCI_FIELD_LINK;
	} else if (S_ISCHR(a->mode) || S_ISBLK(a->mode)) {
		if (a->rdev != b->rdev)
			f |= OCI_FIELD_DEVICE;
	}
	if (by_record && a->ino != b->ino && cs_parent_kept(cs, a->path)) {
		/* a new inode where the parent kept its own: made again, not copied
		 * (a bundle copied with cp -a has new inodes everywhere) */
		if (S_ISDIR(a->mode))
			f |= OCI_FIELD_REPLACED;
		else if (S_ISREG(a->mode) && a->nlink > 1)
			f |= OCI_FIELD_LINK; /* a hard link group broken */
	}
	int r;
	if ((r = snapshot_entry_xattrs(by_record ? -1 : cs->before_fd, a, err)) < 0 ||
	    (r = snapshot_entry_xattrs(cs->after_fd, b, err)) < 0)
		return r;
	if (!cs_xattrs_equal(a->xattrs, b->xattrs))
		f |= OCI_FIELD_XATTRS;
	*out = f;
	return 0;
}

static void cs_push(struct oci_changeset *cs, size_t *cap, char kind, unsigned fields,
		    struct oci_snap_entry *a, struct oci_snap_entry *b)
{
	if (cs->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		cs->c = xrealloc(cs->c, *cap * sizeof(*cs->c));
	}
	cs->c[cs->n++] = (struct oci_change){kind, fields, a, b};
}

static int cs_merge(struct oci_changeset *cs, const struct oci_diff_opts *o, bool by_record,
		    struct oci_error **err)
{
	struct oci_snapshot *A = cs->before, *B = cs->after;
	size_t i = 0, j = 0, cap = 0;
	struct pathmap deleted; /* sorted order interleaves "d", "d-x", "d/f": a set */
	pathmap_init(&deleted);
	int r = 0;
	while (r == 0 && (i < A->n || j < B->n)) {
		int c = i >= A->n ? 1 : j >= B->n ? -1 : strcmp(A->e[i].path, B->e[j].path);
		if (c < 0) {
			struct oci_snap_entry *a = &A->e[i++];
			if (pathmap_has_ancestor(&deleted, a->path))
				continue; /* its whiteout covers it */
			cs_push(cs, &cap, OCI_CHANGE_DELETED, 0, a, NULL);
			if (S_ISDIR(a->mode))
				*pathmap_put(&deleted, a->path) = (void *)1;
		} else if (c > 0) {
			cs_push(cs, &cap, OCI_CHANGE_ADDED, 0, NULL, &B->e[j++]);
		} else {
			struct oci_snap_entry *a = &A->e[i++], *b = &B->e[j++];
			unsigned f;
			r = cs_compare(cs, o, a, b, by_record, &f, err);
			if (r == 0 && f)
				cs_push(cs, &cap, OCI_CHANGE_CHANGED, f, a, b);
			if (r == 0 && (f & OCI_FIELD_TYPE) && S_ISDIR(a->mode))
				*pathmap_put(&deleted, a->path) = (void *)1;
		}
	}
	pathmap_release(&deleted, NULL);
	return r;
}

static int cs_open_dir(const char *path, struct oci_error **err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno == ENOENT ? OCI_E_NOTFOUND : OCI_E_IO, errno, "%s",
				 path);
	return fd;
}

/* the record, loaded on a thread of its own while the tree is walked */
struct cs_load {
	int bfd;
	struct oci_snapshot *s;
	struct oci_error *err;
	int r;
};

static void *cs_load_run(void *arg)
{
	struct cs_load *l = arg;
	l->r = oci_snapshot_load(l->bfd, OCI_BUNDLE_RECORD, &l->s, &l->err);
	return NULL;
}

/* e (status r, made where err could not reach) becomes the caller's */
static int cs_pass_error(struct oci_error **err, int r, struct oci_error *e)
{
	error_set(NULL, (enum oci_status)r, 0, "%s", ""); /* the status error_wrap tells */
	if (!err) {
		oci_error_free(e);
		return r;
	}
	oci_error_free(*err);
	*err = e;
	return r;
}

int oci_changeset_bundle(const char *bundle, const struct oci_diff_opts *o,
			 struct oci_changeset **out, struct oci_error **err)
{
	struct oci_changeset *cs = xcalloc(1, sizeof(*cs));
	cs->before_fd = cs->after_fd = -1;
	int bfd = cs_open_dir(bundle, err);
	int r = bfd;
	if (bfd >= 0) {
		/* Parsing the record (user time) and walking the tree (stat
		 * calls, system time) are each about half of a diff: side by
		 * side on two cores. Errors are told in the order of a
		 * sequential run: the record's first. */
		struct cs_load l = {.bfd = bfd};
		pthread_t t;
		bool threaded = pthread_create(&t, NULL, cs_load_run, &l) == 0;
		if (!threaded)
			cs_load_run(&l);
		int e = 0, wr = 0;
		struct oci_error *werr = NULL;
		cs->after_fd =
		    openat(bfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cs->after_fd < 0) {
			e = errno;
		} else {
			cs->after = xcalloc(1, sizeof(*cs->after));
			wr = snapshot_walk(cs->after_fd, NULL, NULL, cs->after, &werr);
		}
		if (threaded)
			pthread_join(t, NULL);
		cs->before = l.s;
		if (l.r < 0) {
			oci_error_free(werr);
			r = cs_pass_error(err, l.r, l.err);
			error_wrap(err, "not a bundle made by oci-unpack");
		} else if (cs->after_fd < 0) {
			oci_error_free(werr);
			r = error_set(err, OCI_E_IO, e, "%s/rootfs", bundle);
		} else {
			r = wr < 0 ? cs_pass_error(err, wr, werr) : wr;
		}
		close(bfd);
	}
	if (r >= 0) {
		cs->ignore_owner = cs->before->rootless;
		r = cs_merge(cs, o, true, err);
	}
	if (r < 0) {
		oci_changeset_free(cs);
		return r;
	}
	*out = cs;
	return 0;
}

int oci_changeset_dirs(const char *a, const char *b, const struct oci_diff_opts *o,
		       struct oci_changeset **out, struct oci_error **err)
{
	struct oci_changeset *cs = xcalloc(1, sizeof(*cs));
	cs->before_fd = cs->after_fd = -1;
	int r;
	if ((r = cs->before_fd = cs_open_dir(a, err)) >= 0 &&
	    (r = cs->after_fd = cs_open_dir(b, err)) >= 0) {
		cs->before = xcalloc(1, sizeof(*cs->before));
		cs->after = xcalloc(1, sizeof(*cs->after));
		if ((r = snapshot_walk(cs->before_fd, NULL, NULL, cs->before, err)) < 0)
			error_wrap(err, "%s", a);
		else if ((r = snapshot_walk(cs->after_fd, NULL, NULL, cs->after, err)) < 0)
			error_wrap(err, "%s", b);
		else
			r = cs_merge(cs, o, false, err);
	}
	if (r < 0) {
		oci_changeset_free(cs);
		return r;
	}
	*out = cs;
	return 0;
}

int changeset_from_snapshots(struct oci_snapshot *a, struct oci_snapshot *b,
			     const struct oci_diff_opts *o, struct oci_changeset **out,
			     struct oci_error **err)
{
	struct oci_changeset *cs = xcalloc(1, sizeof(*cs));
	cs->before_fd = cs->after_fd = -1;
	cs->before = a;
	cs->after = b;
	int r = cs_merge(cs, o, false, err);
	if (r < 0) {
		oci_changeset_free(cs);
		return r;
	}
	*out = cs;
	return 0;
}
