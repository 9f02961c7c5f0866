/* Merging layers in memory. Each path remembers the layer (and the entry
 * of that layer) that last wrote it; at the end of a layer its whiteouts
 * remove lower layers' paths only, so a layer's own entries survive
 * whatever their order in the tar. */
#include <errno.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <archive.h>
#include <archive_entry.h>
#include <oci/merge.h>
#include "pathmap.h"
#include "snapshot_int.h"
#include "tar_write.h"

struct mnode {
	struct oci_snap_entry e;
	size_t layer;	/* 1-based layer that wrote it */
	size_t ordinal; /* entry number in that layer */
	char *hardlink; /* cleaned target, when the tar entry was a hardlink */
};

struct merge {
	struct pathmap map; /* path -> struct mnode */
	struct pathmap wh;  /* this layer's whiteout targets (value 1) and opaque dirs (value 2) */
};

static void mnode_free(void *p)
{
	struct mnode *n = p;
	if (!n)
		return;
	free(n->e.path);
	free(n->e.link);
	free(n->e.xattrs);
	free(n->hardlink);
	free(n);
}

/* this layer's marks: a whiteout hides the path and what is below it, an
 * opaque directory and a non-directory hide what is below them */
#define MARK_WHITEOUT ((void *)1)
#define MARK_OPAQUE   ((void *)2)
#define MARK_NONDIR   ((void *)3)

static bool merge_hidden(struct merge *m, const char *path)
{
	/* any mark on an ancestor: the ancestors' hashes come from one pass over
	 * the path (pathmap_has_ancestor), so depth does not multiply the cost */
	return pathmap_get(&m->wh, path) == MARK_WHITEOUT || pathmap_get(&m->wh, "") ||
	       pathmap_has_ancestor(&m->wh, path);
}

static void merge_end_layer(struct merge *m, size_t layer)
{
	if (m->wh.n == 0)
		return;
	for (size_t i = 0; i < m->map.cap; i++) {
		struct pathmap_slot *s = &m->map.slots[i];
		struct mnode *n = s->hash ? s->val : NULL;
		if (!n || n->layer == layer)
			continue;
		if (merge_hidden(m, s->key)) {
			mnode_free(n);
			s->val = NULL; /* a tombstone: skipped from now on */
		}
	}
	pathmap_clear(&m->wh, NULL);
}

static int merge_layer(struct merge *m, const struct oci_image *img, size_t li,
		       struct oci_error **err)
{
	const struct oci_manifest *man = img->manifest;
	struct oci_layer_reader *r;
	int rc = oci_layer_open(img->layout, &man->layers[li], &img->config->diff_ids[li], &r, err);
	if (rc < 0)
		return rc;
	struct archive_entry *ae;
	size_t ordinal = 0;
	cleanup_free char *buf = xmalloc(1 << 16);
	while ((rc = oci_layer_next(r, &ae, err)) > 0) {
		if (oci_cancelled()) {
			rc = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
			break;
		}
		ordinal++;
		const char *raw = archive_entry_pathname(ae);
		char *path = oci_path_clean(raw ? raw : "");
		char *target = NULL;
		enum oci_whiteout wh = oci_whiteout_parse(path, &target);
		if (wh == OCI_WHITEOUT_INVALID) {
			rc = error_set(err, OCI_E_INVALID, 0,
				       "layer %s: \"%s\": reserved whiteout name",
				       man->layers[li].digest.str, path);
			free(path);
			break;
		}
		if (wh != OCI_WHITEOUT_NONE) {
			void **slot = pathmap_put(&m->wh, target);
			if (wh == OCI_WHITEOUT_FILE || !*slot)
				*slot = wh == OCI_WHITEOUT_OPAQUE ? MARK_OPAQUE : MARK_WHITEOUT;
			free(target);
			free(path);
			continue;
		}
		struct mnode *n = xcalloc(1, sizeof(*n));
		n->layer = li + 1;
		n->ordinal = ordinal;
		n->e.path = path;
		n->e.mode = (uint32_t)archive_entry_mode(ae);
		n->e.uid = (uint32_t)archive_entry_uid(ae);
		n->e.gid = (uint32_t)archive_entry_gid(ae);
		n->e.mtime_ns =
		    (int64_t)archive_entry_mtime(ae) * 1000000000 + archive_entry_mtime_nsec(ae);
		n->e.nlink = 1;
		n->e.xattrs = oci_layer_entry_xattrs(ae);
		const char *hl = archive_entry_hardlink(ae);
		if (hl) {
			n->hardlink = oci_path_clean(hl);
			struct mnode *t = pathmap_get(&m->map, n->hardlink);
			if (t) { /* a hardlink shares its target's everything */
				n->e.mode = t->e.mode;
				n->e.uid = t->e.uid;
				n->e.gid = t->e.gid;
				n->e.size = t->e.size;
				n->e.mtime_ns = t->e.mtime_ns;
				n->e.digest = t->e.digest;
				free(n->e.xattrs);
				n->e.xattrs = t->e.xattrs ? xstrdup(t->e.xattrs) : NULL;
			}
		} else if (S_ISLNK(n->e.mode)) {
			const char *l = archive_entry_symlink(ae);
			n->e.link = xstrdup(l ? l : "");
		} else if (S_ISCHR(n->e.mode) || S_ISBLK(n->e.mode)) {
			n->e.rdev =
			    makedev(archive_entry_rdevmajor(ae), archive_entry_rdevminor(ae));
		} else if (S_ISREG(n->e.mode)) {
			n->e.size = archive_entry_size(ae);
			struct oci_hash *h = oci_hash_new(OCI_DIGEST_SHA256);
			ssize_t k;
			while ((k = oci_layer_read_data(r, buf, 1 << 16, err)) > 0)
				oci_hash_update(h, buf, (size_t)k);
			oci_hash_final(h, &n->e.digest);
			oci_hash_free(h);
			if (k < 0) {
				mnode_free(n);
				rc = (int)k;
				break;
			}
		}
		void **slot = pathmap_put(&m->map, path);
		mnode_free(*slot);
		*slot = n;
		/* a non-directory over a directory hides what was below it */
		if (!S_ISDIR(n->e.mode)) {
			void **mark = pathmap_put(&m->wh, path);
			if (!*mark)
				*mark = MARK_NONDIR;
		}
	}
	oci_layer_free(r);
	if (rc < 0)
		return rc;
	merge_end_layer(m, li + 1);
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct oci_snap_entry *)a)->path,
		      ((const struct oci_snap_entry *)b)->path);
}

static int merge_run(const struct oci_image *img, struct merge *m, struct oci_error **err)
{
	pathmap_init(&m->map);
	pathmap_init(&m->wh);
	for (size_t i = 0; i < img->manifest->n_layers; i++) {
		int r = merge_layer(m, img, i, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static void merge_release(struct merge *m)
{
	pathmap_release(&m->map, mnode_free);
	pathmap_release(&m->wh, NULL);
}

int oci_image_merge(const struct oci_image *img, struct oci_snapshot **out, struct oci_error **err)
{
	struct merge m;
	int r = merge_run(img, &m, err);
	if (r < 0) {
		merge_release(&m);
		return r;
	}
	struct oci_snapshot *s = xcalloc(1, sizeof(*s));
	s->e = xcalloc(m.map.n ? m.map.n : 1, sizeof(*s->e));
	for (size_t i = 0; i < m.map.cap; i++) {
		struct mnode *n = m.map.slots[i].hash ? m.map.slots[i].val : NULL;
		if (!n || !*n->e.path)
			continue;
		s->e[s->n] = n->e; /* moved out */
		s->e[s->n].path = xstrdup(n->e.path);
		s->e[s->n].link = n->e.link ? xstrdup(n->e.link) : NULL;
		s->e[s->n].xattrs = n->e.xattrs ? xstrdup(n->e.xattrs) : xstrdup("");
		s->n++;
	}
	qsort(s->e, s->n, sizeof(*s->e), cmp_entry);
	s->manifest = img->desc.digest;
	s->config = img->manifest->config.digest;
	merge_release(&m);
	*out = s;
	return 0;
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

int oci_image_export(const struct oci_image *img, int out_fd, struct oci_error **err)
{
	/* pass 1: who wrote each surviving path; pass 2: stream those entries */
	struct merge m;
	int r = merge_run(img, &m, err);
	if (r < 0) {
		merge_release(&m);
		return r;
	}
	char *buf = xmalloc(1 << 16);
	/* the same writer as layers: a pax header only where an entry needs one */
	int fd = out_fd;
	struct tar_writer *w = tar_writer_new(export_write, &fd);
	for (size_t li = 0; r == 0 && li < img->manifest->n_layers; li++) {
		struct oci_layer_reader *lr;
		r = oci_layer_open(img->layout, &img->manifest->layers[li],
				   &img->config->diff_ids[li], &lr, err);
		if (r < 0)
			break;
		struct archive_entry *ae;
		size_t ordinal = 0;
		while ((r = oci_layer_next(lr, &ae, err)) > 0) {
			ordinal++;
			const char *raw = archive_entry_pathname(ae);
			cleanup_free char *path = oci_path_clean(raw ? raw : "");
			struct mnode *n = pathmap_get(&m.map, path);
			if (!n || !*path || n->layer != li + 1 || n->ordinal != ordinal)
				continue; /* hidden, replaced later, or a whiteout */
			struct archive_entry *oe = archive_entry_clone(ae);
			archive_entry_set_pathname(oe, path);
			archive_entry_set_uname(oe, NULL);
			archive_entry_set_gname(oe, NULL);
			if (n->hardlink) {
				struct mnode *t = pathmap_get(&m.map, n->hardlink);
				if (t && !t->hardlink && S_ISREG(t->e.mode)) {
					archive_entry_set_hardlink(oe, n->hardlink);
				} else {
					/* the target is gone or changed: not a link any more */
					archive_entry_free(oe);
					continue;
				}
			}
			if ((r = tar_write_header(w, oe, err)) < 0) {
				error_wrap(err, "write \"%s\"", path);
				archive_entry_free(oe);
				break;
			}
			archive_entry_free(oe);
			if (S_ISREG(n->e.mode) && !n->hardlink) {
				ssize_t k;
				while ((k = oci_layer_read_data(lr, buf, 1 << 16, err)) > 0)
					if ((r = tar_write_data(w, buf, (size_t)k, err)) < 0) {
						k = error_wrap(err, "write \"%s\"", path);
						break;
					}
				if (k < 0) {
					r = (int)k;
					break;
				}
			}
		}
		oci_layer_free(lr);
	}
	if (r == 0)
		r = tar_writer_finish(w, err);
	tar_writer_free(w);
	merge_release(&m);
	free(buf);
	return r;
}
