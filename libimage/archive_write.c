/* The archive writer behind oci-copy and repair: a tar stream of blobs and
 * top-level files, written to a temporary name in the destination's
 * directory and renamed when whole (or to standard output). Member names
 * come only from digests we parsed and from fixed names: nothing a source
 * said is ever a member name. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <archive_entry.h>
#include "archive_write.h"
#include "layoutfs.h"
#include "tar_write.h"

struct archive_out {
	int fd;
	int dirfd; /* the destination's directory; -1 for stdout */
	char *tmp; /* the temporary name in dirfd */
	char *base;
	char *path;
	struct tar_writer *tw;
	int64_t bytes;
	int64_t want, got; /* the blob being written */
	bool unsized;	   /* ... with its header rewritten at its end */
	int64_t hdr_off;   /* where that header is */
	struct oci_digest *done;
	size_t n_done;
	bool committed;
};

static int ao_sink(void *arg, const void *buf, size_t len, struct oci_error **err)
{
	struct archive_out *a = arg;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(a->fd, (const char *)buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(err, OCI_E_IO, errno, "%s: write",
					 a->dirfd < 0 ? "standard output" : a->path);
		off += (size_t)n;
	}
	a->bytes += (int64_t)len;
	return 0;
}

int archive_out_open(const char *path, struct archive_out **out, struct oci_error **err)
{
	struct archive_out *a = xcalloc(1, sizeof(*a));
	a->fd = -1;
	a->dirfd = -1;
	a->path = xstrdup(path);
	if (strcmp(path, "-") == 0) {
		if (isatty(STDOUT_FILENO)) {
			free(a->path);
			free(a);
			return error_set(err, OCI_E_USAGE, 0,
					 "standard output is a terminal: refusing to write an "
					 "archive to it");
		}
		a->fd = STDOUT_FILENO;
	} else {
		struct stat st;
		if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
			int r = error_set(err, OCI_E_INVALID, 0, "%s: not a regular file (%s)",
					  path, layoutfs_type_name(st.st_mode));
			archive_out_free(a);
			return r;
		}
		cleanup_free char *p1 = xstrdup(path), *p2 = xstrdup(path);
		a->base = xstrdup(basename(p2));
		a->dirfd = open(dirname(p1), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (a->dirfd < 0) {
			int r = error_set(err, OCI_E_IO, errno, "%s: open its directory", path);
			archive_out_free(a);
			return r;
		}
		/* unnamed until whole: a copy killed by SIGKILL leaves nothing */
		a->fd = openat(a->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
		if (a->fd >= 0) {
			fchmod(a->fd, 0644);
		} else {
			cleanup_free char *prefix = xasprintf(".%s.tmp-", a->base);
			a->fd = layoutfs_create_tmp(a->dirfd, prefix, 0644, &a->tmp, err);
		}
		if (a->fd < 0) {
			int r = error_wrap(err, "%s", path);
			archive_out_free(a);
			return r;
		}
	}
	a->tw = tar_writer_new(ao_sink, a);
	*out = a;
	return 0;
}

bool archive_out_has(const struct archive_out *a, const struct oci_digest *d)
{
	for (size_t i = 0; i < a->n_done; i++)
		if (oci_digest_equal(&a->done[i], d))
			return true;
	return false;
}

/* the header of a regular file of the archive: 0644, mtime 0 (the same
 * bytes every run); ao_blob_header() must make exactly what this does */
static int ao_write_header(struct tar_writer *tw, const char *name, int64_t size,
			   struct oci_error **err)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, size);
	archive_entry_set_mtime(e, 0, 0);
	int r = tar_write_header(tw, e, err);
	archive_entry_free(e);
	return r;
}

int archive_out_blob_begin(struct archive_out *a, const struct oci_digest *d, int64_t size,
			   struct oci_error **err)
{
	cleanup_free char *name =
	    xasprintf("blobs/%s/%s", oci_digest_algo_name(d->algo), oci_digest_hex(d));
	int r = ao_write_header(a->tw, name, size, err);
	if (r < 0)
		return r;
	a->want = size;
	a->got = 0;
	a->done = xrealloc(a->done, (a->n_done + 1) * sizeof(*a->done));
	a->done[a->n_done] = *d;
	return 0;
}

bool archive_out_can_patch(const struct archive_out *a)
{
	return a->dirfd >= 0;
}

/* the ustar header of a blob of size bytes, as the tar writer makes it */
static int ao_blob_header(const struct oci_digest *d, int64_t size, unsigned char out[512],
			  struct oci_error **err);

struct ao_mem {
	unsigned char *out;
	size_t len;
};

static int ao_mem_sink(void *arg, const void *buf, size_t len, struct oci_error **err)
{
	struct ao_mem *m = arg;
	if (m->len + len > 512)
		return error_set(err, OCI_E_LIMIT, 0, "blob header: not a plain ustar header");
	memcpy(m->out + m->len, buf, len);
	m->len += len;
	return 0;
}

static int ao_blob_header(const struct oci_digest *d, int64_t size, unsigned char out[512],
			  struct oci_error **err)
{
	struct ao_mem m = {.out = out};
	struct tar_writer *w = tar_writer_new(ao_mem_sink, &m);
	cleanup_free char *name =
	    xasprintf("blobs/%s/%s", oci_digest_algo_name(d->algo), oci_digest_hex(d));
	int r = ao_write_header(w, name, size, err);
	if (r == 0)
		r = tar_writer_flush(w, err);
	tar_writer_free(w);
	if (r == 0 && m.len != 512)
		r = error_set(err, OCI_E_LIMIT, 0, "blob header: not a plain ustar header");
	return r;
}

int archive_out_blob_begin_unsized(struct archive_out *a, const struct oci_digest *d,
				   struct oci_error **err)
{
	/* the entry before ends (its padding), everything buffered is out:
	 * from here the bytes go straight to the file */
	int r = ao_write_header(a->tw, "oci-copy.placeholder", 0, err);
	if (r == 0)
		r = tar_writer_flush(a->tw, err);
	if (r < 0)
		return r;
	/* that placeholder's header is where the blob's goes */
	a->hdr_off = a->bytes - 512;
	unsigned char hdr[512];
	if ((r = ao_blob_header(d, 0, hdr, err)) < 0)
		return r;
	if (pwrite(a->fd, hdr, sizeof(hdr), a->hdr_off) != (ssize_t)sizeof(hdr))
		return error_set(err, OCI_E_IO, errno, "%s: write", a->path);
	a->unsized = true;
	a->got = 0;
	a->done = xrealloc(a->done, (a->n_done + 1) * sizeof(*a->done));
	a->done[a->n_done] = *d;
	return 0;
}

int archive_out_blob_end_unsized(struct archive_out *a, struct oci_error **err)
{
	static const unsigned char zeros[512];
	a->unsized = false;
	size_t pad = (size_t)((512 - a->got % 512) % 512);
	int r = ao_sink(a, zeros, pad, err);
	unsigned char hdr[512];
	if (r == 0)
		r = ao_blob_header(&a->done[a->n_done], a->got, hdr, err);
	if (r == 0 && pwrite(a->fd, hdr, sizeof(hdr), a->hdr_off) != (ssize_t)sizeof(hdr))
		r = error_set(err, OCI_E_IO, errno, "%s: write", a->path);
	if (r == 0)
		a->n_done++;
	return r;
}

int archive_out_data(struct archive_out *a, const void *buf, size_t len, struct oci_error **err)
{
	if (a->unsized) {
		a->got += (int64_t)len;
		return ao_sink(a, buf, len, err);
	}
	if (a->got + (int64_t)len > a->want)
		return error_set(err, OCI_E_MISMATCH, 0, "blob longer than its size %lld",
				 (long long)a->want);
	a->got += (int64_t)len;
	return tar_write_data(a->tw, buf, len, err);
}

int archive_out_blob_end(struct archive_out *a, struct oci_error **err)
{
	if (a->got != a->want)
		return error_set(err, OCI_E_MISMATCH, 0, "blob of %lld bytes, not %lld",
				 (long long)a->got, (long long)a->want);
	a->n_done++; /* only a whole blob counts as written */
	return 0;
}

int archive_out_blob_mem(struct archive_out *a, const void *buf, size_t len, struct oci_digest *out,
			 struct oci_error **err)
{
	oci_digest_buffer(OCI_DIGEST_SHA256, buf, len, out);
	if (archive_out_has(a, out))
		return 0;
	int r = archive_out_blob_begin(a, out, (int64_t)len, err);
	if (r == 0)
		r = archive_out_data(a, buf, len, err);
	return r < 0 ? r : archive_out_blob_end(a, err);
}

int archive_out_file(struct archive_out *a, const char *name, const void *buf, size_t len,
		     struct oci_error **err)
{
	int r = ao_write_header(a->tw, name, (int64_t)len, err);
	return r < 0 ? r : tar_write_data(a->tw, buf, len, err);
}

int archive_out_commit(struct archive_out *a, struct oci_error **err)
{
	int r = tar_writer_finish(a->tw, err);
	if (r < 0 || a->dirfd < 0)
		return r;
	if (fsync(a->fd) < 0)
		return error_set(err, OCI_E_IO, errno, "%s: fsync", a->path);
	if (!a->tmp) {
		/* give the unnamed file a temporary name (one only we use: our
		 * pid's, left over from a process before us if it exists), then
		 * rename that over the destination */
		a->tmp = xasprintf(".%s.tmp-%d", a->base, (int)getpid());
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", a->fd);
		int lr = linkat(AT_FDCWD, proc, a->dirfd, a->tmp, AT_SYMLINK_FOLLOW);
		if (lr < 0 && errno == EEXIST && unlinkat(a->dirfd, a->tmp, 0) == 0)
			lr = linkat(AT_FDCWD, proc, a->dirfd, a->tmp, AT_SYMLINK_FOLLOW);
		if (lr < 0) {
			int e = errno;
			free(a->tmp);
			a->tmp = NULL;
			return error_set(err, OCI_E_IO, e, "%s: link the finished archive",
					 a->path);
		}
	}
	/* renaming replaces whatever has the name, never writes through it */
	if (renameat(a->dirfd, a->tmp, a->dirfd, a->base) < 0)
		return error_set(err, OCI_E_IO, errno, "%s: rename into place", a->path);
	fsync(a->dirfd);
	a->committed = true;
	return 0;
}

int64_t archive_out_bytes(const struct archive_out *a)
{
	return a->bytes;
}

void archive_out_free(struct archive_out *a)
{
	if (!a)
		return;
	if (a->dirfd >= 0) {
		if (a->fd >= 0)
			close(a->fd);
		if (a->tmp && !a->committed)
			unlinkat(a->dirfd, a->tmp, 0);
		close(a->dirfd);
	}
	tar_writer_free(a->tw);
	free(a->done);
	free(a->tmp);
	free(a->base);
	free(a->path);
	free(a);
}
