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
#include "tar_write.h"
#include "inroot.h"
#include "pathmap.h"
#include "snapshot_int.h"

struct lw {
	int fd;
	struct encoder *enc;
	struct oci_hash *diff, *digest;
	int64_t size;
	struct tar_writer *tw;
	const char *cur; /* the entry being written, for messages */
	int64_t clamp;
	size_t entries;
	/* the after tree's content in a spool (a merged image), not on disk */
	const struct oci_snapshot *spool;
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

static int lw_tar_sink(void *arg, const void *buf, size_t len, struct oci_error **err)
{
	struct lw *w = arg;
	oci_hash_update(w->diff, buf, len);
	return encoder_write(w->enc, buf, len, err);
}

static void lw_open(struct lw *w, int fd, const struct oci_layer_write_opts *o)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->clamp = o->clamp_mtime;
	w->enc = encoder_new(o->compression, o->level, lw_sink, w);
	w->diff = oci_hash_new(OCI_DIGEST_SHA256);
	w->digest = oci_hash_new(OCI_DIGEST_SHA256);
	w->tw = tar_writer_new(lw_tar_sink, w);
}

static void lw_release(struct lw *w)
{
	tar_writer_free(w->tw);
	encoder_free(w->enc);
	oci_hash_free(w->diff);
	oci_hash_free(w->digest);
}

static void lw_set_times(struct lw *w, struct archive_entry *ae, int64_t mtime_ns)
{
	/* whole seconds: what ustar holds, so no entry needs a pax header for
	 * its time (see tar_write.c) */
	int64_t sec = mtime_ns / 1000000000, nsec = mtime_ns % 1000000000;
	if (nsec < 0)
		sec--;
	if (w->clamp >= 0 && sec >= w->clamp)
		sec = w->clamp;
	archive_entry_set_mtime(ae, sec, 0);
}

/* A pax key ends at its first "=", libarchive URL-decodes SCHILY.xattr
 * names when it reads them ("%XX") and readers disagree on bytes outside
 * printable ASCII: such a name would come out of the layer as another. */
static bool lw_xattr_name_ok(const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 33 || *p > 126 || *p == '%' || *p == '=')
			return false;
	return true;
}

static int lw_set_xattrs(struct archive_entry *ae, const char *x, const char *path,
			 struct oci_error **err)
{
	const char *p = x ? x : "";
	for (;;) {
		char *name;
		unsigned char *val;
		size_t len;
		int r = oci_snapshot_xattr_next(&p, &name, &val, &len);
		if (r == 0)
			return 0;
		if (r < 0) /* never guess what a malformed list meant */
			return error_set(err, OCI_E_INVALID, 0, "\"%s\": malformed xattrs", path);
		if (!lw_xattr_name_ok(name)) {
			r = error_set(err, OCI_E_INVALID, 0,
				      "\"%s\": xattr \"%s\": a name a tar cannot hold as it is",
				      path, name);
			free(name);
			free(val);
			return r;
		}
		archive_entry_xattr_add_entry(ae, name, val, len);
		free(name);
		free(val);
	}
}

static int lw_sink_data(void *arg, const void *buf, size_t len, struct oci_error **err)
{
	struct lw *w = arg;
	int r = tar_write_data(w->tw, buf, len, err);
	return r < 0 ? error_wrap(err, "write data of \"%s\"", w->cur) : 0;
}

/* a merged image's file: its bytes from the spool its snapshot carries */
static int lw_spool_data(struct lw *w, const char *name, const struct oci_snap_entry *e,
			 struct oci_error **err)
{
	cleanup_free char *buf = xmalloc(1 << 17);
	int64_t off = w->spool->content_off[e->ino], pos = 0;
	while (pos < e->size) {
		if (oci_cancelled())
			return error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
		size_t want = e->size - pos > (1 << 17) ? (1 << 17) : (size_t)(e->size - pos);
		ssize_t n = pread(w->spool->content_fd, buf, want, off + pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return error_set(err, OCI_E_IO, n < 0 ? errno : EIO,
					 "read the content of \"%s\" from the spool", name);
		int r = tar_write_data(w->tw, buf, (size_t)n, err);
		if (r < 0)
			return error_wrap(err, "write data of \"%s\"", name);
		pos += n;
	}
	return 0;
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
	} else if (type == S_IFREG && w->spool) {
		archive_entry_set_size(ae, e->size);
	} else if (type == S_IFREG && !(e->flags & OCI_SNAP_VIRTUAL)) {
		archive_entry_set_size(ae, e->size);
		/* O_NONBLOCK: a FIFO swapped in since the walk cannot hang us */
		fd = inroot_open(rootfd, e->path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK,
				 err);
		if (fd >= 0 && (r = snapshot_content_fd(fd, e, e->path, err)) < 0) {
			close(fd);
			fd = r;
		}
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
	if ((r = lw_set_xattrs(ae, e->xattrs, e->path, err)) < 0) {
		/* nothing written for this entry */
	} else if ((r = tar_write_header(w->tw, ae, err)) < 0) {
		error_wrap(err, "write header of \"%s\"", name);
	} else if (fd >= 0) {
		w->cur = name;
		r = snapshot_read_content(fd, e->size, e->path, lw_sink_data, w, err);
	} else if (type == S_IFREG && w->spool && !hardlink) {
		r = lw_spool_data(w, name, e, err);
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
	int r = tar_write_header(w->tw, ae, err);
	if (r < 0)
		error_wrap(err, "write \"%s\"", name);
	archive_entry_free(ae);
	w->entries++;
	return r;
}

static int lw_close(struct lw *w, struct oci_layer_result *res, struct oci_error **err)
{
	int r = tar_writer_finish(w->tw, err);
	if (r == 0)
		r = encoder_finish(w->enc, err);
	if (r < 0)
		return r;
	oci_hash_final(w->diff, &res->diff_id);
	oci_hash_final(w->digest, &res->digest);
	res->size = w->size;
	res->entries = w->entries;
	return 0;
}

/* ---- from a changeset to a sorted list of actions ---- */

enum act_kind { ACT_ENTRY, ACT_WHITEOUT };

struct act {
	char *name; /* an entry's own path (not a copy), or a whiteout's name (owned) */
	enum act_kind kind;
	struct oci_snap_entry *e;
};

/* The entries already in the layer: a bit per entry of the tree (after),
 * not a map of path copies (80 bytes an entry at 200,000 entries). */
struct plan {
	struct act *v;
	size_t n, cap;
	uint64_t *seen;
	struct oci_snapshot *after;
};

static bool plan_seen(const struct plan *p, const struct oci_snap_entry *e)
{
	size_t k = (size_t)(e - p->after->e);
	return p->seen[k / 64] >> (k % 64) & 1;
}

static void plan_mark(struct plan *p, const struct oci_snap_entry *e)
{
	size_t k = (size_t)(e - p->after->e);
	p->seen[k / 64] |= (uint64_t)1 << (k % 64);
}

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

/* the entry (of p->after) and, first, every parent directory not yet in
 * the layer */
static void plan_entry(struct plan *p, struct oci_snap_entry *e)
{
	if (!*e->path || plan_seen(p, e))
		return;
	/* Up from the nearest parent to the first one already in the layer
	 * (whose own parents are in it too), then back down adding them: in a
	 * tree 10,000 deep each entry costs one lookup, not one per level. */
	cleanup_free char *dir = xstrdup(e->path);
	size_t len = strlen(dir), n = 0, cap = 0;
	cleanup_free size_t *cut = NULL;
	for (char *s; (s = memrchr(dir, '/', len)); len = (size_t)(s - dir)) {
		*s = 0;
		const struct oci_snap_entry *pe = plan_find(p, dir);
		bool seen = pe && plan_seen(p, pe);
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
			plan_mark(p, pe);
			plan_push(p, pe->path, ACT_ENTRY, pe);
		}
		dir[cut[n]] = '/';
	}
	plan_mark(p, e);
	plan_push(p, e->path, ACT_ENTRY, e);
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

/* Sorted by path component by component (a directory's whole subtree
 * before its next sibling, as tar --sort=name), and within a directory its
 * whiteouts first: layer.md wants them before their sibling entries, and a
 * reader that applies entries in order then never sees a whiteout after an
 * entry of the same name. */
static int cmp_names(const char *a, const char *b)
{
	size_t i = 0;
	while (a[i] && a[i] == b[i])
		i++;
	if (!a[i] && !b[i])
		return 0;
	size_t s = i;
	while (s > 0 && a[s - 1] != '/')
		s--;
	bool wa = strncmp(a + s, ".wh.", 4) == 0 && !strchr(a + s, '/');
	bool wb = strncmp(b + s, ".wh.", 4) == 0 && !strchr(b + s, '/');
	if (wa != wb)
		return wa ? -1 : 1;
	/* the end of a component sorts before any byte */
	int ka = !a[i] ? -1 : a[i] == '/' ? 0 : (unsigned char)a[i] + 1;
	int kb = !b[i] ? -1 : b[i] == '/' ? 0 : (unsigned char)b[i] + 1;
	return ka < kb ? -1 : 1;
}

static int cmp_act(const void *a, const void *b)
{
	return cmp_names(((const struct act *)a)->name, ((const struct act *)b)->name);
}

int oci_changeset_write_layer(struct oci_changeset *cs, int out_fd,
			      const struct oci_layer_write_opts *o, struct oci_layer_result *res,
			      struct oci_error **err)
{
	struct plan p = {.after = cs->after};
	p.seen = xcalloc(cs->after->n / 64 + 1, sizeof(*p.seen));
	memset(res, 0, sizeof(*res));
	/* A directory deleted and made again is not an opaque marker: what it
	 * lost is whited out one by one (the spec's preferred form), so the
	 * bytes do not depend on whether the new directory got its old inode
	 * back. Its own entry goes in when its metadata changed, like any. */
	for (size_t i = 0; i < cs->n; i++) {
		struct oci_change *c = &cs->c[i];
		const char *path = c->after ? c->after->path : c->before->path;
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
		if (c->kind == OCI_CHANGE_CHANGED && c->fields == OCI_FIELD_REPLACED)
			continue; /* made again, the same as before: nothing to carry */
		plan_entry(&p, c->after);
	}
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
	/* a file named .wh.X would be read back as a whiteout of X: refused
	 * before a byte is written, as umoci does */
	int bad = 0;
	for (size_t i = 0; !bad && i < p.n; i++) {
		const char *base = strrchr(p.v[i].name, '/');
		base = base ? base + 1 : p.v[i].name;
		if (p.v[i].kind == ACT_ENTRY && strncmp(base, ".wh.", 4) == 0)
			bad = error_set(err, OCI_E_INVALID, 0,
					"/%s: a name starting with .wh. cannot be stored in a "
					"layer (it would be read as a whiteout)",
					p.v[i].name);
	}

	struct lw w;
	struct pathmap inode_first;
	pathmap_init(&inode_first);
	lw_open(&w, out_fd, o);
	if (cs->after->content_off)
		w.spool = cs->after;
	int r = bad;
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
	free(p.seen);
	for (size_t i = 0; i < p.n; i++)
		if (p.v[i].kind == ACT_WHITEOUT)
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
