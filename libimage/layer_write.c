/* Writing a layer: a changeset (or a whole tree) as a sorted pax tar with
 * no user/group names and no host-dependent headers, hashed before
 * compression (diff_id) and after (digest) as it is written. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <archive.h>
#include <archive_entry.h>
#include <oci/changeset.h>
#include "compress.h"
#include "inroot.h"
#include "pathmap.h"
#include "snapshot_int.h"

struct lw {
	int fd;
	struct encoder *enc;
	struct oci_hash *diff, *digest;
	int64_t size;
	struct archive *a;
	struct oci_error *cb_err;
	int64_t clamp;
	size_t entries;
};

static int lw_sink(void *arg, const void *buf, size_t len, struct oci_error **err)
{
	struct lw *w = arg;
	oci_hash_update(w->digest, buf, len);
	for (size_t done = 0; done < len;) {
		ssize_t n = write(w->fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(err, OCI_E_IO, errno, "write layer");
		done += (size_t)n;
	}
	w->size += (int64_t)len;
	return 0;
}

static la_ssize_t lw_archive_write(struct archive *a, void *arg, const void *buf, size_t len)
{
	(void)a;
	struct lw *w = arg;
	oci_hash_update(w->diff, buf, len);
	if (encoder_write(w->enc, buf, len, &w->cb_err) < 0)
		return -1;
	return (la_ssize_t)len;
}

static int lw_open(struct lw *w, int fd, const struct oci_layer_write_opts *o,
		   struct oci_error **err)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->clamp = o->clamp_mtime;
	w->enc = encoder_new(o->compression, o->level, lw_sink, w);
	w->diff = oci_hash_new(OCI_DIGEST_SHA256);
	w->digest = oci_hash_new(OCI_DIGEST_SHA256);
	w->a = archive_write_new();
	if (!w->a)
		abort();
	archive_write_set_format_pax_restricted(w->a);
	/* xattrs as SCHILY.xattr only: what GNU tar, Go and umoci read */
	archive_write_set_format_option(w->a, "pax", "xattrheader", "SCHILY");
	/* names are bytes: store them as they are, whatever the locale */
	archive_write_set_format_option(w->a, "pax", "hdrcharset", "BINARY");
	archive_write_add_filter_none(w->a);
	archive_write_set_bytes_per_block(w->a, 512);
	archive_write_set_bytes_in_last_block(w->a, 1);
	if (archive_write_open(w->a, w, NULL, lw_archive_write, NULL) != ARCHIVE_OK)
		return error_set(err, OCI_E_IO, 0, "tar writer: %s", archive_error_string(w->a));
	return 0;
}

static void lw_release(struct lw *w)
{
	if (w->a)
		archive_write_free(w->a);
	encoder_free(w->enc);
	oci_hash_free(w->diff);
	oci_hash_free(w->digest);
	oci_error_free(w->cb_err);
}

static int lw_fail(struct lw *w, struct oci_error **err, const char *what, const char *name)
{
	if (w->cb_err) {
		int st = w->cb_err->status;
		error_set(err, st, 0, "%s", w->cb_err->msg);
		return st;
	}
	return error_set(err, OCI_E_IO, 0, "%s \"%s\": %s", what, name, archive_error_string(w->a));
}

static void lw_set_times(struct lw *w, struct archive_entry *ae, int64_t mtime_ns)
{
	int64_t sec = mtime_ns / 1000000000, nsec = mtime_ns % 1000000000;
	if (nsec < 0)
		sec--, nsec += 1000000000;
	if (w->clamp >= 0 && sec >= w->clamp)
		sec = w->clamp, nsec = 0;
	archive_entry_set_mtime(ae, sec, (long)nsec);
}

static void lw_set_xattrs(struct archive_entry *ae, const char *x)
{
	if (!x || !*x)
		return;
	cleanup_free char *copy = xstrdup(x);
	char *save = NULL;
	for (char *kv = strtok_r(copy, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			continue;
		*eq = 0;
		size_t hl = strlen(eq + 1) / 2;
		cleanup_free unsigned char *v = xmalloc(hl + 1);
		for (size_t i = 0; i < hl; i++) {
			unsigned int b;
			sscanf(eq + 1 + 2 * i, "%2x", &b);
			v[i] = (unsigned char)b;
		}
		archive_entry_xattr_add_entry(ae, kv, v, hl);
	}
}

/* one entry: metadata from e, content (regular files) read from rootfd */
static int lw_entry(struct lw *w, const char *name, const struct oci_snap_entry *e,
		    const char *hardlink, int rootfd, uid_t map_uid, gid_t map_gid,
		    struct oci_error **err)
{
	if (!hardlink) {
		int xr = snapshot_entry_xattrs(rootfd, (struct oci_snap_entry *)e, err);
		if (xr < 0)
			return xr;
	}
	struct archive_entry *ae = archive_entry_new();
	if (!ae)
		abort();
	mode_t type = e->mode & S_IFMT;
	bool is_dir = S_ISDIR(e->mode);
	cleanup_free char *tname = is_dir ? xasprintf("%s/", name) : xstrdup(name);
	archive_entry_set_pathname(ae, tname);
	archive_entry_set_mode(ae, e->mode);
	archive_entry_set_uid(ae, e->uid == map_uid ? 0 : e->uid);
	archive_entry_set_gid(ae, e->gid == map_gid ? 0 : e->gid);
	lw_set_times(w, ae, e->mtime_ns);
	int fd = -1;
	int r = 0;
	if (hardlink) {
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_hardlink(ae, hardlink);
		archive_entry_set_size(ae, 0);
	} else if (type == S_IFREG && !(e->flags & OCI_SNAP_VIRTUAL)) {
		archive_entry_set_size(ae, e->size);
		fd = inroot_open(rootfd, e->path, O_RDONLY | O_NOFOLLOW, err);
		if (fd < 0) {
			archive_entry_free(ae);
			return fd;
		}
	} else if (type == S_IFLNK) {
		archive_entry_set_symlink(ae, e->link ? e->link : "");
	} else if (type == S_IFCHR || type == S_IFBLK) {
		archive_entry_set_rdevmajor(ae, major(e->rdev));
		archive_entry_set_rdevminor(ae, minor(e->rdev));
	}
	lw_set_xattrs(ae, e->xattrs);
	if (archive_write_header(w->a, ae) != ARCHIVE_OK) {
		r = lw_fail(w, err, "write header of", name);
	} else if (fd >= 0) {
		cleanup_free char *buf = xmalloc(1 << 20);
		int64_t left = e->size;
		while (left > 0) {
			ssize_t n = read(fd, buf, left < (1 << 20) ? (size_t)left : (1 << 20));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				r = n < 0 ? error_set(err, OCI_E_IO, errno, "read \"%s\"", e->path)
					  : error_set(err, OCI_E_IO, 0,
						      "\"%s\" shrank while being read", e->path);
				break;
			}
			if (archive_write_data(w->a, buf, (size_t)n) != n) {
				r = lw_fail(w, err, "write data of", name);
				break;
			}
			left -= n;
		}
	}
	if (fd >= 0)
		close(fd);
	archive_entry_free(ae);
	w->entries++;
	return r;
}

static int lw_whiteout(struct lw *w, const char *name, struct oci_error **err)
{
	struct archive_entry *ae = archive_entry_new();
	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0644);
	archive_entry_set_size(ae, 0);
	archive_entry_set_mtime(ae, 0, 0);
	int r = archive_write_header(w->a, ae) == ARCHIVE_OK ? 0 : lw_fail(w, err, "write", name);
	archive_entry_free(ae);
	w->entries++;
	return r;
}

static int lw_close(struct lw *w, struct oci_layer_result *res, struct oci_error **err)
{
	if (archive_write_close(w->a) != ARCHIVE_OK)
		return lw_fail(w, err, "finish", "tar");
	int r = encoder_finish(w->enc, err);
	if (r < 0)
		return r;
	oci_hash_final(w->diff, &res->diff_id);
	oci_hash_final(w->digest, &res->digest);
	res->size = w->size;
	res->entries = w->entries;
	return 0;
}

/* ---- from a changeset to a sorted list of actions ---- */

enum act_kind { ACT_ENTRY, ACT_WHITEOUT, ACT_OPAQUE };

struct act {
	char *name;
	enum act_kind kind;
	struct oci_snap_entry *e;
};

struct plan {
	struct act *v;
	size_t n, cap;
	struct pathmap seen;
	struct oci_snapshot *after;
};

static void plan_push(struct plan *p, char *name, enum act_kind k, struct oci_snap_entry *e)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 256;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n++] = (struct act){name, k, e};
}

static struct oci_snap_entry *plan_find(struct plan *p, const char *path)
{
	return (struct oci_snap_entry *)oci_snapshot_find(p->after, path);
}

/* the entry and, first, every parent directory not yet in the layer */
static void plan_entry(struct plan *p, struct oci_snap_entry *e)
{
	if (!*e->path || pathmap_get(&p->seen, e->path))
		return;
	/* Up from the nearest parent to the first one already in the layer
	 * (whose own parents are in it too), then back down adding them: in a
	 * tree 10,000 deep each entry costs one lookup, not one per level. */
	cleanup_free char *dir = xstrdup(e->path);
	size_t len = strlen(dir), n = 0, cap = 0;
	cleanup_free size_t *cut = NULL;
	for (char *s; (s = memrchr(dir, '/', len)); len = (size_t)(s - dir)) {
		*s = 0;
		bool seen = pathmap_get(&p->seen, dir) != NULL;
		*s = '/';
		if (seen)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			cut = xrealloc(cut, cap * sizeof(*cut));
		}
		cut[n++] = (size_t)(s - dir);
	}
	while (n-- > 0) {
		dir[cut[n]] = 0;
		struct oci_snap_entry *pe = plan_find(p, dir);
		if (pe) {
			*pathmap_put(&p->seen, dir) = (void *)1;
			plan_push(p, xstrdup(dir), ACT_ENTRY, pe);
		}
		dir[cut[n]] = '/';
	}
	*pathmap_put(&p->seen, e->path) = (void *)1;
	plan_push(p, xstrdup(e->path), ACT_ENTRY, e);
}

static void plan_parents_of(struct plan *p, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return;
	cleanup_free char *dir = xstrndup(path, (size_t)(slash - path));
	struct oci_snap_entry *pe = plan_find(p, dir);
	if (pe)
		plan_entry(p, pe);
}

/* everything below dir in the after tree (sorted: a contiguous range) */
static void plan_subtree(struct plan *p, const char *dir)
{
	size_t n = strlen(dir), lo = 0, hi = p->after->n;
	while (lo < hi) { /* first path > dir */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(p->after->e[mid].path, dir) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < p->after->n; i++) {
		struct oci_snap_entry *e = &p->after->e[i];
		if (strncmp(e->path, dir, n) != 0)
			break;
		if (e->path[n] == '/' && !S_ISSOCK(e->mode))
			plan_entry(p, e);
		/* "dir-x" sorts between "dir" and "dir/...": keep scanning */
	}
}

static int cmp_act(const void *a, const void *b)
{
	return strcmp(((const struct act *)a)->name, ((const struct act *)b)->name);
}

int oci_changeset_write_layer(struct oci_changeset *cs, int out_fd,
			      const struct oci_layer_write_opts *o, struct oci_layer_result *res,
			      struct oci_error **err)
{
	struct plan p = {.after = cs->after};
	pathmap_init(&p.seen);
	memset(res, 0, sizeof(*res));
	struct pathmap replaced;
	pathmap_init(&replaced);
	for (size_t i = 0; i < cs->n; i++) {
		struct oci_change *c = &cs->c[i];
		const char *path = c->after ? c->after->path : c->before->path;
		if (c->kind == OCI_CHANGE_DELETED && pathmap_has_ancestor(&replaced, path))
			continue; /* the opaque whiteout hides it */
		if (c->kind == OCI_CHANGE_DELETED) {
			if (!*path)
				continue;
			plan_parents_of(&p, path);
			const char *slash = strrchr(path, '/');
			char *wh =
			    slash ? xasprintf("%.*s/.wh.%s", (int)(slash - path), path, slash + 1)
				  : xasprintf(".wh.%s", path);
			plan_push(&p, wh, ACT_WHITEOUT, NULL);
			continue;
		}
		if (!*path)
			continue; /* the root's own metadata is not carried by layers */
		if (S_ISSOCK(c->after->mode)) {
			/* sockets are not kept, as tar does; the caller says so */
			if (res->skipped++ == 0)
				snprintf(res->skipped_first, sizeof(res->skipped_first), "/%s",
					 path);
			continue;
		}
		plan_entry(&p, c->after);
		if (c->kind == OCI_CHANGE_CHANGED && S_ISDIR(c->after->mode) &&
		    (c->fields & (OCI_FIELD_REPLACED | OCI_FIELD_TYPE))) {
			plan_push(&p, xasprintf("%s/.wh..wh..opq", path), ACT_OPAQUE, NULL);
			plan_subtree(&p, path);
			*pathmap_put(&replaced, path) = (void *)1;
		}
	}
	pathmap_release(&replaced, NULL);
	/* hardlink groups stay groups: every name of a changed inode goes in */
	size_t n0 = p.n;
	for (size_t i = 0; i < n0; i++) {
		struct oci_snap_entry *e = p.v[i].e;
		if (p.v[i].kind != ACT_ENTRY || !S_ISREG(e->mode) || e->nlink < 2)
			continue;
		for (size_t k = 0; k < cs->after->n; k++) {
			struct oci_snap_entry *g = &cs->after->e[k];
			if (g != e && g->ino == e->ino && S_ISREG(g->mode) && g->nlink > 1)
				plan_entry(&p, g);
		}
	}
	if (p.n)
		qsort(p.v, p.n, sizeof(*p.v), cmp_act);

	struct lw w;
	struct pathmap inode_first;
	pathmap_init(&inode_first);
	int r = lw_open(&w, out_fd, o, err);
	/* rootless: what we created is root's in the image, as in the user namespace */
	uid_t map_uid = cs->ignore_owner ? getuid() : (uid_t)-1;
	gid_t map_gid = cs->ignore_owner ? getgid() : (gid_t)-1;
	for (size_t i = 0; r == 0 && i < p.n; i++) {
		struct act *a = &p.v[i];
		if (a->kind != ACT_ENTRY) {
			r = lw_whiteout(&w, a->name, err);
			continue;
		}
		const char *link = NULL;
		if (S_ISREG(a->e->mode) && a->e->nlink > 1) {
			char key[64];
			snprintf(key, sizeof(key), "%llu", (unsigned long long)a->e->ino);
			void **slot = pathmap_put(&inode_first, key);
			if (*slot)
				link = *slot;
			else
				*slot = a->name;
		}
		if (oci_cancelled()) {
			r = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
			break;
		}
		r = lw_entry(&w, a->name, a->e, link, cs->after_fd, map_uid, map_gid, err);
	}
	if (r == 0)
		r = lw_close(&w, res, err);
	lw_release(&w);
	pathmap_release(&inode_first, NULL);
	pathmap_release(&p.seen, NULL);
	for (size_t i = 0; i < p.n; i++)
		free(p.v[i].name);
	free(p.v);
	return r;
}

int oci_tree_write_layer(int dirfd, const struct oci_layer_write_opts *o, int out_fd,
			 struct oci_layer_result *res, struct oci_error **err)
{
	struct oci_changeset *cs = xcalloc(1, sizeof(*cs));
	cs->before_fd = -1;
	cs->after_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	cs->before = xcalloc(1, sizeof(*cs->before));
	cs->after = xcalloc(1, sizeof(*cs->after));
	int r = cs->after_fd < 0 ? error_set(err, OCI_E_IO, errno, "dup")
				 : snapshot_walk(cs->after_fd, NULL, NULL, cs->after, err);
	if (r == 0) {
		cs->c = xcalloc(cs->after->n ? cs->after->n : 1, sizeof(*cs->c));
		for (size_t i = 0; i < cs->after->n; i++)
			cs->c[cs->n++] =
			    (struct oci_change){OCI_CHANGE_ADDED, 0, NULL, &cs->after->e[i]};
		r = oci_changeset_write_layer(cs, out_fd, o, res, err);
	}
	oci_changeset_free(cs);
	return r;
}
