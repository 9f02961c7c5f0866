/* Merging layers in memory: a model of the root filesystem that the disk
 * unpack (layer_apply.c, inroot.c) would make, built by the same rules, step
 * by step in tar order: parents resolved in the root through symlinks as
 * openat2(RESOLVE_IN_ROOT) does, missing parents made, an existing entry of
 * another type removed first, hard links sharing one inode, whiteouts sparing
 * what this layer wrote, directory modes and times set at the end of their
 * layer. The merged snapshot and the merged tar stream are read off the
 * model, so neither can show a tree that unpacking would not make. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <archive.h>
#include <archive_entry.h>
#include <oci/merge.h>
#include "merge_int.h"
#include "pathmap.h"
#include "snapshot_int.h"
#include "tar_write.h"

/* the kernel's bounds that the disk unpack meets: a name, a path given to
 * openat2 or symlinkat, and symlinks followed in one resolution */
#define MG_NAME_MAX  255
#define MG_PATH_MAX  4096
#define MG_MAX_LINKS 40

struct mxattr {
	char *name;
	void *val;
	size_t len;
};

/* an inode: what the entry that made it gave (hard links share it) */
struct mnode {
	struct oci_snap_entry e; /* e.path unused; e.nlink counts its names */
	struct mxattr *xa;	 /* the xattrs as bytes, for the stream */
	size_t n_xa;
	/* the entry that made it (a directory: the first entry that gave it);
	 * 0 for a directory made as a parent of an entry */
	size_t layer, ordinal;
	struct mname *head; /* the name the stream gives it first */
	/* a regular file: its number among the files made, and with a spool
	 * (oci_image_merge_content) where its bytes start there */
	uint64_t serial;
	int64_t spool_off;
};

/* a name in a directory; a directory has one name, and its children hang
 * from it. Its path (the names up to the root) has no symlink in it and
 * never changes; it is spelled out only for the output, so that a deep tree
 * costs neither quadratic memory nor quadratic lookups. */
struct mname {
	char *base;
	uint64_t id; /* names its children in merge.names: "ID/BASE" */
	struct mnode *ino;
	struct mname *parent, *child, *next, *prev;
	size_t layer, ordinal; /* the entry that made this name */
};

struct dir_meta {
	char *path; /* as the entry spelled it: re-resolved at the end of the layer */
	uint32_t perm;
	int64_t mtime_ns;
};

struct merge {
	struct pathmap names; /* "PARENT-ID/BASE" -> struct mname (NULL once removed) */
	uint64_t next_id;
	struct mname *root;
	/* this layer's entry names, as the tar spells them, and their ancestors:
	 * what its whiteouts spare (layer_apply.c's rule) */
	struct pathmap layer, layer_anc;
	struct dir_meta *dirs;
	size_t n_dirs, cap_dirs;
	bool hash; /* digests of regular files (the snapshot needs them, the stream not) */
	size_t li, ordinal;
	int64_t mtime_ns; /* the current entry's */
	/* the directory a path led to last: entries come mostly in tree order, so
	 * the next one's parent is often the last one. Dropped whenever a name
	 * goes or a symlink comes, as the disk unpack drops its parent fd. */
	char *cache_path;
	struct mname *cache_dir;
	char *buf;
	/* usage.c's accounting, or NULL */
	const struct merge_observer *obs;
	bool in_whiteout;      /* names going now go by a whiteout */
	size_t names_unlinked; /* names removed so far, to count what a whiteout hid */
	int spool_fd;	       /* every file's content appended here, or -1 */
	int64_t spool_len;
	uint64_t files;
};

static bool mg_is_dir(const struct mname *n)
{
	return S_ISDIR(n->ino->e.mode);
}

static void mnode_free(struct mnode *n)
{
	if (!n)
		return;
	free(n->e.link);
	free(n->e.xattrs);
	for (size_t i = 0; i < n->n_xa; i++) {
		free(n->xa[i].name);
		free(n->xa[i].val);
	}
	free(n->xa);
	free(n);
}

static struct mnode *mnode_new(uint32_t mode, size_t layer, size_t ordinal)
{
	struct mnode *n = xcalloc(1, sizeof(*n));
	n->e.mode = mode;
	n->layer = layer;
	n->ordinal = ordinal;
	return n;
}

static char *mg_join(const char *dir, const char *base)
{
	return *dir ? xasprintf("%s/%s", dir, base) : xstrdup(base);
}

static char *mg_key(const struct mname *dir, const char *base)
{
	return xasprintf("%llx/%s", (unsigned long long)dir->id, base);
}

static struct mname *mg_child(struct merge *m, const struct mname *dir, const char *base)
{
	cleanup_free char *k = mg_key(dir, base);
	return pathmap_get(&m->names, k);
}

/* the path of n from the root, spelled out (malloc'd; "" for the root) */
static char *mg_path(const struct mname *n)
{
	size_t len = 0;
	for (const struct mname *p = n; p->parent; p = p->parent)
		len += strlen(p->base) + (p->parent->parent ? 1 : 0);
	char *out = xmalloc(len + 1);
	out[len] = 0;
	for (const struct mname *p = n; p->parent; p = p->parent) {
		size_t l = strlen(p->base);
		len -= l;
		memcpy(out + len, p->base, l);
		if (p->parent->parent)
			out[--len] = '/';
	}
	return out;
}

static void mg_cache_drop(struct merge *m)
{
	free(m->cache_path);
	m->cache_path = NULL;
	m->cache_dir = NULL;
}

static void mg_cache_set(struct merge *m, const char *path, size_t len, struct mname *dir)
{
	free(m->cache_path);
	m->cache_path = xstrndup(path, len);
	m->cache_dir = dir;
}

static struct mname *mg_link_name(struct merge *m, struct mname *dir, const char *base,
				  struct mnode *ino)
{
	struct mname *n = xcalloc(1, sizeof(*n));
	n->base = xstrdup(base);
	n->id = ++m->next_id;
	n->ino = ino;
	ino->e.nlink++;
	n->parent = dir;
	n->next = dir->child;
	if (dir->child)
		dir->child->prev = n;
	dir->child = n;
	n->layer = m->li + 1;
	n->ordinal = m->ordinal;
	if (S_ISLNK(ino->e.mode))
		mg_cache_drop(m);
	cleanup_free char *k = mg_key(dir, base);
	*pathmap_put(&m->names, k) = n;
	return n;
}

/* one name goes (a directory only once empty); the inode with its last name */
static void mg_unlink_name(struct merge *m, struct mname *n)
{
	mg_cache_drop(m);
	m->names_unlinked++;
	if (m->obs && n->ino->e.nlink == 1 && S_ISREG(n->ino->e.mode) && m->obs->file_dropped) {
		cleanup_free char *path = mg_path(n);
		m->obs->file_dropped(m->obs->arg, path, n->ino->e.size, n->ino->layer - 1, m->li,
				     m->in_whiteout);
	}
	if (n->prev)
		n->prev->next = n->next;
	else
		n->parent->child = n->next;
	if (n->next)
		n->next->prev = n->prev;
	cleanup_free char *k = mg_key(n->parent, n->base);
	*pathmap_put(&m->names, k) = NULL;
	if (--n->ino->e.nlink == 0)
		mnode_free(n->ino);
	free(n->base);
	free(n);
}

/* ---- resolution inside the root, as openat2(RESOLVE_IN_ROOT) ---- */

/* path from the root: symlinks followed (an absolute target from the root),
 * ".." never above the root; a symlink as the last component is followed
 * when follow_last. 0 and *out, or -errno as the kernel would say. */
static int mg_resolve(struct merge *m, const char *path, bool follow_last, struct mname **out)
{
	if (strlen(path) >= MG_PATH_MAX)
		return -ENAMETOOLONG;
	cleanup_free char *rest = xstrdup(path);
	struct mname *cur = m->root;
	unsigned links = 0;
	char *p = rest;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p) {
			*out = cur;
			return 0;
		}
		size_t len = strcspn(p, "/");
		bool last = p[len + strspn(p + len, "/")] == 0;
		if (!mg_is_dir(cur))
			return -ENOTDIR;
		if (len > MG_NAME_MAX)
			return -ENAMETOOLONG;
		char comp[MG_NAME_MAX + 1];
		memcpy(comp, p, len);
		comp[len] = 0;
		p += len;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			if (cur->parent)
				cur = cur->parent;
			continue;
		}
		struct mname *c = mg_child(m, cur, comp);
		if (!c)
			return -ENOENT;
		if (S_ISLNK(c->ino->e.mode) && (!last || follow_last)) {
			if (++links > MG_MAX_LINKS)
				return -ELOOP;
			const char *to = c->ino->e.link;
			if (!*to)
				return -ENOENT;
			char *next = xasprintf("%s/%s", to, p);
			free(rest);
			rest = next;
			p = rest;
			if (*to == '/')
				cur = m->root;
			continue;
		}
		cur = c;
	}
}

/* a directory by path, all of it followed (openat2 O_PATH|O_DIRECTORY) */
static int mg_resolve_dir(struct merge *m, const char *path, struct mname **out)
{
	int r = mg_resolve(m, path, true, out);
	if (r == 0 && !mg_is_dir(*out))
		r = -ENOTDIR;
	return r;
}

static struct mname *mg_mkdir(struct merge *m, struct mname *dir, const char *base, uint32_t perm,
			      bool implicit)
{
	struct mnode *ino =
	    mnode_new(S_IFDIR | perm, implicit ? 0 : m->li + 1, implicit ? 0 : m->ordinal);
	/* on disk a directory made as a parent has the time it was made: the
	 * stream says the time of the entry that made it, the same every run */
	ino->e.mtime_ns = m->mtime_ns;
	return mg_link_name(m, dir, base, ino);
}

/* inroot_parent(): the parent directory of path, made when missing and
 * create (each missing component made in its resolved parent, mode 0755) */
static int mg_parent(struct merge *m, const char *path, bool create, struct mname **out,
		     const char **base, struct oci_error **err)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	if (!slash) {
		*out = m->root;
		return 0;
	}
	size_t dlen = (size_t)(slash - path);
	if (m->cache_path && dlen < MG_PATH_MAX && strlen(m->cache_path) == dlen &&
	    memcmp(m->cache_path, path, dlen) == 0) {
		*out = m->cache_dir;
		return 0;
	}
	cleanup_free char *dir = xstrndup(path, dlen);
	int r = mg_resolve_dir(m, dir, out);
	if (r == 0) {
		mg_cache_set(m, path, dlen, *out);
		return 0;
	}
	if (r != -ENOENT || !create)
		return error_set(err, r == -ENOENT ? OCI_E_NOTFOUND : OCI_E_IO, -r,
				 "open directory \"%s\" in rootfs", dir);
	for (char *p = dir;; p++) {
		if (*p != '/' && *p != 0)
			continue;
		char saved = *p;
		*p = 0;
		const char *b = strrchr(dir, '/');
		struct mname *d;
		r = mg_resolve_dir(m, dir, &d);
		if (r == -ENOENT) {
			cleanup_free char *up = b ? xstrndup(dir, (size_t)(b - dir)) : xstrdup("");
			struct mname *u;
			r = mg_resolve_dir(m, up, &u);
			if (r < 0) {
				*p = saved;
				return error_set(err, OCI_E_IO, -r,
						 "open directory \"%s\" in rootfs", up);
			}
			const char *name = b ? b + 1 : dir;
			if (strlen(name) > MG_NAME_MAX) {
				*p = saved;
				return error_set(err, OCI_E_IO, ENAMETOOLONG,
						 "create directory \"%s\" in rootfs", dir);
			}
			if (!mg_child(m, u, name)) /* mkdirat: EEXIST (a symlink) is let pass */
				mg_mkdir(m, u, name, 0755, true);
			r = mg_resolve_dir(m, dir, &d);
		}
		if (r < 0) {
			*p = saved;
			return error_set(err, r == -ENOTDIR ? OCI_E_INVALID : OCI_E_IO, -r,
					 "open directory \"%s\" in rootfs", dir);
		}
		*p = saved;
		if (!saved) {
			mg_cache_set(m, path, dlen, d);
			*out = d;
			return 0;
		}
	}
}

/* ---- removal and whiteouts, as inroot_remove() and rf_whiteout() ---- */

static bool mg_keep(struct merge *m, const char *path)
{
	return pathmap_get(&m->layer, path) != NULL;
}

/* Is some path of this layer at or below path? Then a whiteout spares it. */
static bool mg_layer_has_under(struct merge *m, const char *path)
{
	return pathmap_get(&m->layer, path) || pathmap_get(&m->layer_anc, path) ||
	       (!*path && m->layer.n > 0);
}

static void mg_mark_layer(struct merge *m, const char *path)
{
	*pathmap_put(&m->layer, path) = (void *)1;
	cleanup_free char *p = xstrdup(path);
	for (char *s = strrchr(p, '/'); s; s = strrchr(p, '/')) {
		*s = 0;
		if (pathmap_get(&m->layer_anc, p))
			break;
		*pathmap_put(&m->layer_anc, p) = (void *)1;
	}
}

struct rm_frame {
	struct mname *dir;
	char *path;
	struct mname *next;
	bool kept;
};

/* n and what is below it go; with keep, this layer's entries (by the names
 * its tar gave, path being n's name as the caller spelled it) stay, and so
 * do the directories that hold them. With an explicit stack: trees may be
 * deep. */
static int mg_remove(struct merge *m, struct mname *n, const char *path, bool keep)
{
	if (!n || (keep && mg_keep(m, path) && !mg_is_dir(n)))
		return 0;
	if (!mg_is_dir(n)) {
		mg_unlink_name(m, n);
		return 0;
	}
	size_t depth = 0, cap = 16;
	struct rm_frame *st = xmalloc(cap * sizeof(*st));
	st[depth++] = (struct rm_frame){n, xstrdup(path), n->child, false};
	int r = 0;
	while (depth > 0) {
		struct rm_frame *top = &st[depth - 1];
		if (top->next) {
			if (oci_cancelled()) {
				r = OCI_E_INTERRUPTED;
				break;
			}
			struct mname *c = top->next;
			top->next = c->next;
			char *cpath = mg_join(top->path, c->base);
			if (keep && mg_keep(m, cpath) && !mg_is_dir(c)) {
				top->kept = true;
				free(cpath);
			} else if (mg_is_dir(c)) {
				if (depth == cap)
					st = xrealloc(st, (cap *= 2) * sizeof(*st));
				st[depth++] = (struct rm_frame){c, cpath, c->child, false};
			} else {
				mg_unlink_name(m, c);
				free(cpath);
			}
			continue;
		}
		struct rm_frame done = st[--depth];
		bool spared = done.kept || (keep && mg_keep(m, done.path));
		if (!spared)
			mg_unlink_name(m, done.dir);
		else if (depth > 0)
			st[depth - 1].kept = true;
		free(done.path);
	}
	while (depth > 0)
		free(st[--depth].path);
	free(st);
	return r;
}

static int mg_whiteout_apply(struct merge *m, enum oci_whiteout kind, const char *target,
			     struct oci_error **err);

/* the observer hears what each whiteout removed, and that it was a whiteout */
static int mg_whiteout(struct merge *m, enum oci_whiteout kind, const char *target,
		       struct oci_error **err)
{
	size_t before = m->names_unlinked;
	m->in_whiteout = true;
	int r = mg_whiteout_apply(m, kind, target, err);
	m->in_whiteout = false;
	if (m->obs && m->obs->whiteout)
		m->obs->whiteout(m->obs->arg, m->li, m->names_unlinked - before);
	return r;
}

static int mg_whiteout_apply(struct merge *m, enum oci_whiteout kind, const char *target,
			     struct oci_error **err)
{
	if (kind == OCI_WHITEOUT_OPAQUE) {
		/* the directory itself, not through a symlink (O_NOFOLLOW) */
		struct mname *d;
		int r = mg_resolve(m, target, false, &d);
		if (r == 0 && !mg_is_dir(d))
			r = -ENOTDIR;
		if (r == -ENOENT || r == -ENOTDIR || r == -ELOOP)
			return 0; /* nothing below to hide */
		if (r < 0)
			return error_set(err, OCI_E_IO, -r, "opaque whiteout of \"%s\"", target);
		/* the names first: removing while walking the list would lose our place */
		size_t n = 0;
		for (struct mname *c = d->child; c; c = c->next)
			n++;
		struct mname **kids = xmalloc((n ? n : 1) * sizeof(*kids));
		n = 0;
		for (struct mname *c = d->child; c; c = c->next)
			kids[n++] = c;
		r = 0;
		for (size_t i = 0; r == 0 && i < n; i++) {
			cleanup_free char *sub = mg_join(target, kids[i]->base);
			r = mg_remove(m, kids[i], sub, mg_layer_has_under(m, sub));
		}
		free(kids);
		return r < 0 ? error_set(err, r, 0, "interrupted") : 0;
	}
	struct mname *dir;
	const char *base;
	struct oci_error *e2 = NULL;
	if (mg_parent(m, target, false, &dir, &base, &e2) < 0) {
		oci_error_free(e2);
		return 0; /* the parent is not there: nothing to hide */
	}
	int r = mg_remove(m, mg_child(m, dir, base), target, mg_layer_has_under(m, target));
	return r < 0 ? error_set(err, r, 0, "interrupted") : 0;
}

/* ---- applying an entry, as rf_apply_entry() ---- */

static void mg_set_meta(struct mnode *n, struct archive_entry *ae)
{
	n->e.uid = (uint32_t)archive_entry_uid(ae);
	n->e.gid = (uint32_t)archive_entry_gid(ae);
	free(n->e.xattrs);
	n->e.xattrs = oci_layer_entry_xattrs(ae);
	for (size_t i = 0; i < n->n_xa; i++) {
		free(n->xa[i].name);
		free(n->xa[i].val);
	}
	free(n->xa);
	n->xa = NULL;
	n->n_xa = 0;
	size_t k = (size_t)archive_entry_xattr_reset(ae);
	if (k == 0)
		return;
	n->xa = xcalloc(k, sizeof(*n->xa));
	const char *name;
	const void *val;
	size_t vl;
	while (n->n_xa < k && archive_entry_xattr_next(ae, &name, &val, &vl) == ARCHIVE_OK) {
		struct mxattr *x = &n->xa[n->n_xa++];
		x->name = xstrdup(name);
		x->val = xmalloc(vl ? vl : 1);
		if (vl)
			memcpy(x->val, val, vl);
		x->len = vl;
	}
}

static int64_t mg_mtime(struct archive_entry *ae)
{
	return (int64_t)archive_entry_mtime(ae) * 1000000000 + archive_entry_mtime_nsec(ae);
}

/* a directory's mode and times wait for the end of its layer; one this
 * layer gave before (dup: the layer wrote the path already) takes the last
 * entry's, in the first one's place (rf_add_dir_meta()) */
static void mg_add_dir_meta(struct merge *m, const char *path, struct archive_entry *ae, bool dup)
{
	struct dir_meta *d = NULL;
	for (size_t i = m->n_dirs; dup && !d && i-- > 0;)
		if (strcmp(m->dirs[i].path, path) == 0)
			d = &m->dirs[i];
	if (!d) {
		if (m->n_dirs == m->cap_dirs) {
			m->cap_dirs = m->cap_dirs ? m->cap_dirs * 2 : 64;
			m->dirs = xrealloc(m->dirs, m->cap_dirs * sizeof(*m->dirs));
		}
		d = &m->dirs[m->n_dirs++];
		d->path = xstrdup(path);
	}
	d->perm = archive_entry_perm(ae) & 07777;
	d->mtime_ns = mg_mtime(ae);
}

/* rf_finish_dirs(): last entry first, each path resolved again, the last
 * component not followed */
static void mg_finish_dirs(struct merge *m)
{
	for (size_t i = m->n_dirs; i-- > 0;) {
		struct dir_meta *d = &m->dirs[i];
		struct mname *dir = m->root, *n = m->root;
		const char *base;
		struct oci_error *e2 = NULL;
		if (*d->path) {
			n = NULL;
			if (mg_parent(m, d->path, false, &dir, &base, &e2) == 0)
				n = mg_child(m, dir, base);
			oci_error_free(e2);
		}
		if (n && mg_is_dir(n)) {
			n->ino->e.mode = S_IFDIR | d->perm;
			n->ino->e.mtime_ns = d->mtime_ns;
		}
		free(d->path);
	}
	m->n_dirs = 0;
}

static int mg_file_data(struct merge *m, struct oci_layer_reader *r, struct mnode *n,
			struct oci_error **err)
{
	n->serial = ++m->files;
	if (!m->hash)
		return 0; /* the reader skips what is not read */
	struct oci_hash *h = oci_hash_new(OCI_DIGEST_SHA256);
	ssize_t k;
	n->spool_off = m->spool_len;
	while ((k = oci_layer_read_data(r, m->buf, 1 << 16, err)) > 0) {
		oci_hash_update(h, m->buf, (size_t)k);
		for (ssize_t done = 0; m->spool_fd >= 0 && done < k;) {
			ssize_t w = write(m->spool_fd, m->buf + done, (size_t)(k - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				oci_hash_free(h);
				return error_set(err, OCI_E_IO, errno, "write the content spool");
			}
			done += w;
			m->spool_len += w;
		}
	}
	oci_hash_final(h, &n->e.digest);
	oci_hash_free(h);
	return k < 0 ? (int)k : 0;
}

static int mg_hardlink(struct merge *m, struct mname *dir, const char *base, const char *path,
		       const char *hl_path, struct oci_error **err)
{
	struct mname *tdir, *t = NULL;
	const char *tbase;
	struct oci_error *e2 = NULL;
	if (mg_parent(m, hl_path, false, &tdir, &tbase, &e2) < 0) {
		oci_error_free(e2);
		return error_set(err, OCI_E_INVALID, 0,
				 "\"%s\": hardlink target \"%s\" does not exist", path, hl_path);
	}
	t = mg_child(m, tdir, tbase);
	if (!t || mg_is_dir(t))
		return error_set(err, OCI_E_INVALID, 0,
				 "\"%s\": hardlink target \"%s\" is missing or a directory", path,
				 hl_path);
	mg_link_name(m, dir, base, t->ino);
	mg_mark_layer(m, path);
	return 0;
}

static int mg_new_node(struct merge *m, struct oci_layer_reader *r, struct archive_entry *ae,
		       struct mname *dir, const char *base, const char *path,
		       struct oci_error **err)
{
	mode_t type = archive_entry_filetype(ae);
	uint32_t perm = archive_entry_perm(ae) & 07777;
	struct mnode *n;
	switch (type) {
	case AE_IFREG: {
		n = mnode_new(S_IFREG | perm, m->li + 1, m->ordinal);
		n->e.size = archive_entry_size(ae);
		int rr = mg_file_data(m, r, n, err);
		if (rr < 0) {
			mnode_free(n);
			return rr;
		}
		if (m->obs && m->obs->file_added)
			m->obs->file_added(m->obs->arg, m->li, n->e.size);
		break;
	}
	case AE_IFLNK: {
		const char *to = archive_entry_symlink(ae);
		if (!to)
			return error_set(err, OCI_E_INVALID, 0, "\"%s\": symlink without a target",
					 path);
		if (!*to || strlen(to) >= MG_PATH_MAX)
			return error_set(err, OCI_E_IO, *to ? ENAMETOOLONG : ENOENT,
					 "create symlink \"%s\"", path);
		n = mnode_new(S_IFLNK | 0777, m->li + 1, m->ordinal);
		n->e.link = xstrdup(to);
		break;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		n = mnode_new((type == AE_IFCHR	  ? S_IFCHR
			       : type == AE_IFBLK ? S_IFBLK
						  : S_IFIFO) |
				  perm,
			      m->li + 1, m->ordinal);
		if (type != AE_IFIFO)
			n->e.rdev =
			    makedev(archive_entry_rdevmajor(ae), archive_entry_rdevminor(ae));
		break;
	default:
		return 0; /* sockets and anything else are not kept, as tar does */
	}
	n->e.mtime_ns = mg_mtime(ae);
	mg_set_meta(n, ae);
	mg_link_name(m, dir, base, n);
	mg_mark_layer(m, path);
	return 0;
}

static int mg_apply_root(struct merge *m, struct archive_entry *ae, const char *raw,
			 struct oci_error **err)
{
	if (archive_entry_hardlink(ae) || archive_entry_filetype(ae) != AE_IFDIR)
		return error_set(err, OCI_E_INVALID, 0, "entry \"%s\" would replace the root", raw);
	struct mnode *n = m->root->ino;
	mg_set_meta(n, ae);
	if (!n->layer) {
		n->layer = m->li + 1;
		n->ordinal = m->ordinal;
	}
	bool dup = mg_keep(m, "");
	mg_mark_layer(m, "");
	mg_add_dir_meta(m, "", ae, dup);
	return 0;
}

static int mg_apply_entry(struct merge *m, struct oci_layer_reader *r, struct archive_entry *ae,
			  struct oci_error **err)
{
	const char *raw = archive_entry_pathname(ae);
	if (!raw)
		return error_set(err, OCI_E_INVALID, 0, "entry without a name");
	cleanup_free char *path = oci_path_clean(raw);
	cleanup_free char *target = NULL;
	enum oci_whiteout wh = oci_whiteout_parse(path, &target);
	if (wh == OCI_WHITEOUT_INVALID)
		return error_set(err, OCI_E_INVALID, 0, "\"%s\": reserved whiteout name", path);
	if (wh != OCI_WHITEOUT_NONE)
		return mg_whiteout(m, wh, target, err);
	m->mtime_ns = mg_mtime(ae);
	if (!*path)
		return mg_apply_root(m, ae, raw, err);

	const char *hl = archive_entry_hardlink(ae);
	bool is_dir = archive_entry_filetype(ae) == AE_IFDIR && !hl;
	bool dup = mg_keep(m, path); /* this layer wrote the path already */
	struct mname *dir;
	const char *base;
	if (mg_parent(m, path, true, &dir, &base, err) < 0)
		return error_wrap(err, "\"%s\"", path);
	if (strlen(base) > MG_NAME_MAX)
		return error_set(err, OCI_E_IO, ENAMETOOLONG, "create \"%s\"", path);
	cleanup_free char *hl_path = hl ? oci_path_clean(hl) : NULL;
	if (hl && strcmp(hl_path, path) == 0)
		return 0; /* a link to itself: nothing to do */
	struct mname *old = mg_child(m, dir, base);
	if (old && !(is_dir && mg_is_dir(old))) {
		/* replaced by another type (or another inode): gone first, whole */
		int rr = mg_remove(m, old, path, false);
		if (rr < 0)
			return error_set(err, rr, 0, "interrupted");
		rr = mg_parent(m, path, true, &dir, &base, err);
		if (rr < 0)
			return rr;
		old = NULL;
	}
	if (hl)
		return mg_hardlink(m, dir, base, path, hl_path, err);
	if (!is_dir)
		return mg_new_node(m, r, ae, dir, base, path, err);
	if (!old)
		old = mg_mkdir(m, dir, base, 0700, false);
	mg_cache_set(m, path, strlen(path), old);
	struct mnode *n = old->ino;
	if (!n->layer) { /* made as a parent before: this entry gives it */
		n->layer = m->li + 1;
		n->ordinal = m->ordinal;
	}
	mg_set_meta(n, ae);
	mg_mark_layer(m, path);
	mg_add_dir_meta(m, path, ae, dup);
	return 0;
}

static int merge_layer_open(const struct oci_image *img, size_t li, struct oci_layer_reader **r,
			    struct oci_error **err)
{
	return oci_layer_open_flags(img->layout, &img->manifest->layers[li],
				    &img->config->diff_ids[li], OCI_LAYER_HASH_IN_CALLER, r, err);
}

/* Layer li into the model, from r (opened by merge_layer_open); frees r. */
static int merge_layer(struct merge *m, const struct oci_image *img, size_t li,
		       struct oci_layer_reader *r, struct oci_error **err)
{
	const struct oci_descriptor *d = &img->manifest->layers[li];
	int rc;
	pathmap_clear(&m->layer, NULL);
	pathmap_clear(&m->layer_anc, NULL);
	m->li = li;
	m->ordinal = 0;
	struct archive_entry *ae;
	while ((rc = oci_layer_next(r, &ae, err)) > 0) {
		if (oci_cancelled()) {
			rc = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
			break;
		}
		m->ordinal++;
		rc = mg_apply_entry(m, r, ae, err);
		if (rc < 0) {
			/* errors of the layer reader already name the layer */
			if (err && *err && strncmp((*err)->msg, "layer ", 6) != 0)
				error_wrap(err, "layer %s", d->digest.str);
			break;
		}
	}
	oci_layer_free(r);
	mg_finish_dirs(m);
	return rc < 0 ? rc : 0;
}

static void merge_release(struct merge *m)
{
	for (size_t i = 0; i < m->names.cap; i++) {
		struct mname *n = m->names.slots[i].hash ? m->names.slots[i].val : NULL;
		if (n && --n->ino->e.nlink == 0)
			mnode_free(n->ino);
		if (n) {
			free(n->base);
			free(n);
		}
	}
	pathmap_release(&m->names, NULL);
	if (m->root) {
		mnode_free(m->root->ino);
		free(m->root->base);
		free(m->root);
	}
	pathmap_release(&m->layer, NULL);
	pathmap_release(&m->layer_anc, NULL);
	mg_cache_drop(m);
	for (size_t i = 0; i < m->n_dirs; i++)
		free(m->dirs[i].path);
	free(m->dirs);
	free(m->buf);
}

static int merge_run_obs(const struct oci_image *img, struct merge *m, bool hash,
			 const struct merge_observer *obs, int spool_fd, struct oci_error **err)
{
	memset(m, 0, sizeof(*m));
	m->obs = obs;
	m->spool_fd = spool_fd;
	pathmap_init(&m->names);
	pathmap_init(&m->layer);
	pathmap_init(&m->layer_anc);
	m->hash = hash;
	m->buf = xmalloc(1 << 16);
	m->root = xcalloc(1, sizeof(*m->root));
	m->root->base = xstrdup("");
	m->root->ino = mnode_new(S_IFDIR | 0755, 0, 0);
	m->root->ino->e.nlink = 1;
	/* Layer i+1 is read, hashed and inflated by its reader's thread while
	 * layer i goes into the model (as unpack does): its entries still come
	 * strictly after layer i's, and if it cannot be opened now it is opened
	 * again in its turn, so that its error comes after layer i's. */
	struct oci_layer_reader *next = NULL;
	for (size_t i = 0; i < img->manifest->n_layers; i++) {
		struct oci_layer_reader *r = next;
		next = NULL;
		if (!r) {
			int rc = merge_layer_open(img, i, &r, err);
			if (rc < 0)
				return rc;
		}
		if (i + 1 < img->manifest->n_layers) {
			struct oci_error *ahead = NULL;
			if (merge_layer_open(img, i + 1, &next, &ahead) < 0) {
				next = NULL;
				oci_error_free(ahead);
			}
		}
		int rc = merge_layer(m, img, i, r, err);
		if (rc < 0) {
			oci_layer_free(next);
			return rc;
		}
	}
	return 0;
}

static int merge_run(const struct oci_image *img, struct merge *m, bool hash,
		     struct oci_error **err)
{
	return merge_run_obs(img, m, hash, NULL, -1, err);
}

int merge_observe(const struct oci_image *img, const struct merge_observer *o,
		  struct oci_error **err)
{
	struct merge m;
	int r = merge_run_obs(img, &m, false, o, -1, err);
	merge_release(&m);
	return r;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct oci_snap_entry *)a)->path,
		      ((const struct oci_snap_entry *)b)->path);
}

/* the merged tree as a snapshot; with spool_fd >= 0 its files' content kept
 * there, the snapshot taking the fd over */
static int merge_snapshot(const struct oci_image *img, int spool_fd, struct oci_snapshot **out,
			  struct oci_error **err)
{
	struct merge m;
	int r = merge_run_obs(img, &m, true, NULL, spool_fd, err);
	if (r < 0) {
		merge_release(&m);
		if (spool_fd >= 0)
			close(spool_fd);
		return r;
	}
	struct oci_snapshot *s = xcalloc(1, sizeof(*s));
	s->content_fd = spool_fd;
	if (spool_fd >= 0) {
		/* ino names the file (hard links share it), and where its bytes are */
		s->content_off = xcalloc(m.files + 1, sizeof(*s->content_off));
		for (size_t i = 0; i < m.names.cap; i++) {
			struct mname *n = m.names.slots[i].hash ? m.names.slots[i].val : NULL;
			if (n && S_ISREG(n->ino->e.mode))
				s->content_off[n->ino->serial] = n->ino->spool_off;
		}
	}
	s->e = xcalloc(m.names.n ? m.names.n : 1, sizeof(*s->e));
	for (size_t i = 0; i < m.names.cap; i++) {
		struct mname *n = m.names.slots[i].hash ? m.names.slots[i].val : NULL;
		if (!n)
			continue;
		struct oci_snap_entry *e = &s->e[s->n++];
		*e = n->ino->e;
		e->path = mg_path(n);
		e->link = n->ino->e.link ? xstrdup(n->ino->e.link) : NULL;
		e->xattrs = xstrdup(n->ino->e.xattrs ? n->ino->e.xattrs : "");
		if (spool_fd >= 0 && S_ISREG(e->mode))
			e->ino = n->ino->serial;
	}
	if (s->n > 1)
		qsort(s->e, s->n, sizeof(*s->e), cmp_entry);
	s->manifest = img->desc.digest;
	s->config = img->manifest->config.digest;
	merge_release(&m);
	*out = s;
	return 0;
}

int oci_image_merge(const struct oci_image *img, struct oci_snapshot **out, struct oci_error **err)
{
	return merge_snapshot(img, -1, out, err);
}

/* an unlinked file: nothing is left behind whatever ends us */
static int spool_open(struct oci_error **err)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return error_set(err, OCI_E_IO, errno, "create a content spool in %s", dir);
	/* no O_TMPFILE on this file system: a named file, unlinked at once */
	cleanup_free char *tmpl = xasprintf("%s/oci-spool-XXXXXX", dir);
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "create a content spool in %s", dir);
	unlink(tmpl);
	return fd;
}

int oci_image_merge_content(const struct oci_image *img, struct oci_snapshot **out,
			    struct oci_error **err)
{
	int fd = spool_open(err);
	if (fd < 0)
		return fd;
	return merge_snapshot(img, fd, out, err);
}

int oci_changeset_images(const struct oci_image *a, const struct oci_image *b,
			 const struct oci_diff_opts *o, struct oci_changeset **out,
			 struct oci_error **err)
{
	struct oci_snapshot *sa = NULL, *sb = NULL;
	int r = oci_image_merge(a, &sa, err);
	if (r == 0)
		r = oci_image_merge(b, &sb, err);
	if (r < 0) {
		oci_snapshot_free(sa);
		oci_snapshot_free(sb);
		return r;
	}
	return changeset_from_snapshots(sa, sb, o, out, err);
}

int oci_changeset_snapshots(struct oci_snapshot *a, struct oci_snapshot *b,
			    const struct oci_diff_opts *o, struct oci_changeset **out,
			    struct oci_error **err)
{
	return changeset_from_snapshots(a, b, o, out, err);
}

/* ---- the merged tree as one tar stream ---- */

/* What the stream writes at one entry of one layer: an inode under its first
 * name where the entry that made it stands (a file's data is read there),
 * another name of it as a hard link where the entry that made that name
 * stands. Directories come last, sorted: an extractor sets a directory's
 * times once nothing more is written in it (GNU tar applies them as soon as
 * it leaves the directory). Every path is canonical: no entry has a symlink
 * in its parent path, so an extractor puts each where the disk unpack put it. */
struct emit {
	size_t ordinal;
	struct mname *name;
	char *path;
	bool as_link;
};

struct emit_list {
	struct emit *e;
	size_t n, cap;
};

static bool origin_before(size_t la, size_t oa, size_t lb, size_t ob)
{
	return la < lb || (la == lb && oa < ob);
}

static void emit_add(struct emit_list *l, size_t ordinal, struct mname *n, bool as_link)
{
	if (l->n == l->cap)
		l->e = xrealloc(l->e, (l->cap = l->cap ? l->cap * 2 : 64) * sizeof(*l->e));
	l->e[l->n++] = (struct emit){ordinal, n, mg_path(n), as_link};
}

static int cmp_emit(const void *a, const void *b)
{
	const struct emit *x = a, *y = b;
	if (x->ordinal != y->ordinal)
		return x->ordinal < y->ordinal ? -1 : 1;
	return strcmp(x->path, y->path);
}

static struct mname *names_at(struct merge *m, size_t i)
{
	if (i == m->names.cap)
		return m->root;
	return m->names.slots[i].hash ? m->names.slots[i].val : NULL;
}

/* lists[0..n_layers-1]: per layer; lists[n_layers]: the directories */
static struct emit_list *emit_plan(struct merge *m, size_t n_layers)
{
	struct emit_list *lists = xcalloc(n_layers + 1, sizeof(*lists));
	for (size_t i = 0; i <= m->names.cap; i++) { /* the head: the name made first */
		struct mname *n = names_at(m, i);
		if (n && !mg_is_dir(n) &&
		    (!n->ino->head || origin_before(n->layer, n->ordinal, n->ino->head->layer,
						    n->ino->head->ordinal)))
			n->ino->head = n;
	}
	for (size_t i = 0; i <= m->names.cap; i++) {
		struct mname *n = names_at(m, i);
		if (!n)
			continue;
		struct mnode *ino = n->ino;
		if (mg_is_dir(n)) {
			if (n != m->root || ino->layer) /* the root when an entry gave it */
				emit_add(&lists[n_layers], 0, n, false);
		} else if (ino->head == n) {
			emit_add(&lists[ino->layer - 1], ino->ordinal, n, false);
		} else {
			emit_add(&lists[n->layer - 1], n->ordinal, n, true);
		}
	}
	for (size_t i = 0; i <= n_layers; i++)
		if (lists[i].n > 1) /* qsort of no array is undefined */
			qsort(lists[i].e, lists[i].n, sizeof(*lists[i].e), cmp_emit);
	return lists;
}

static int export_write(void *arg, const void *buf, size_t len, struct oci_error **err)
{
	int fd = *(int *)arg;
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(err, OCI_E_IO, errno, "write the tar stream");
		done += (size_t)n;
	}
	return 0;
}

static struct archive_entry *export_entry(const struct emit *em)
{
	const struct mnode *n = em->name->ino;
	struct archive_entry *oe = archive_entry_new();
	archive_entry_set_pathname(oe, *em->path ? em->path : ".");
	archive_entry_set_mode(oe, n->e.mode);
	archive_entry_set_uid(oe, n->e.uid);
	archive_entry_set_gid(oe, n->e.gid);
	int64_t sec = n->e.mtime_ns / 1000000000, nsec = n->e.mtime_ns % 1000000000;
	if (nsec < 0) { /* before 1970: the nanoseconds still count up */
		sec--;
		nsec += 1000000000;
	}
	archive_entry_set_mtime(oe, (time_t)sec, (long)nsec);
	if (em->as_link) {
		cleanup_free char *head = mg_path(n->head);
		archive_entry_set_hardlink(oe, head);
		archive_entry_set_size(oe, 0);
		return oe;
	}
	for (size_t i = 0; i < n->n_xa; i++)
		archive_entry_xattr_add_entry(oe, n->xa[i].name, n->xa[i].val, n->xa[i].len);
	if (S_ISREG(n->e.mode))
		archive_entry_set_size(oe, n->e.size);
	else if (S_ISLNK(n->e.mode))
		archive_entry_set_symlink(oe, n->e.link);
	else if (S_ISCHR(n->e.mode) || S_ISBLK(n->e.mode))
		archive_entry_set_rdev(oe, n->e.rdev);
	return oe;
}

static int export_one(struct tar_writer *w, struct oci_layer_reader *lr, const struct emit *em,
		      char *buf, struct oci_error **err)
{
	const char *path = em->path;
	struct archive_entry *oe = export_entry(em);
	int r = tar_write_header(w, oe, err);
	archive_entry_free(oe);
	if (r < 0)
		return error_wrap(err, "write \"%s\"", path);
	if (em->as_link || !S_ISREG(em->name->ino->e.mode))
		return 0;
	ssize_t k;
	while ((k = oci_layer_read_data(lr, buf, 1 << 16, err)) > 0)
		if (tar_write_data(w, buf, (size_t)k, err) < 0)
			return error_wrap(err, "write \"%s\"", path);
	return k < 0 ? (int)k : 0;
}

static int export_layer(const struct oci_image *img, size_t li, const struct emit_list *plan,
			struct tar_writer *w, char *buf, struct oci_error **err)
{
	struct oci_layer_reader *lr;
	int r = oci_layer_open(img->layout, &img->manifest->layers[li], &img->config->diff_ids[li],
			       &lr, err);
	if (r < 0)
		return r;
	struct archive_entry *ae;
	size_t ordinal = 0, j = 0;
	while ((r = oci_layer_next(lr, &ae, err)) > 0) {
		if (oci_cancelled()) {
			r = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
			break;
		}
		ordinal++;
		while (r >= 0 && j < plan->n && plan->e[j].ordinal == ordinal)
			r = export_one(w, lr, &plan->e[j++], buf, err);
		if (r < 0)
			break;
	}
	oci_layer_free(lr);
	return r < 0 ? r : 0;
}

int oci_image_export(const struct oci_image *img, int out_fd, struct oci_error **err)
{
	/* pass 1: the tree unpacking would make; pass 2: its entries, read again
	 * from the layers where their data is */
	struct merge m;
	int r = merge_run(img, &m, false, err);
	if (r < 0) {
		merge_release(&m);
		return r;
	}
	size_t nl = img->manifest->n_layers;
	struct emit_list *plan = emit_plan(&m, nl);
	/* the same writer as layers: a pax header only where an entry needs one */
	int fd = out_fd;
	struct tar_writer *w = tar_writer_new(export_write, &fd);
	for (size_t li = 0; r == 0 && li < nl; li++)
		if (plan[li].n)
			r = export_layer(img, li, &plan[li], w, m.buf, err);
	for (size_t i = 0; r == 0 && i < plan[nl].n; i++)
		r = export_one(w, NULL, &plan[nl].e[i], m.buf, err);
	if (r == 0)
		r = tar_writer_finish(w, err);
	tar_writer_free(w);
	for (size_t i = 0; i <= nl; i++) {
		for (size_t j = 0; j < plan[i].n; j++)
			free(plan[i].e[j].path);
		free(plan[i].e);
	}
	free(plan);
	merge_release(&m);
	return r;
}
