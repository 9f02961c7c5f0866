/* Opening an image source: a layout directory, or an archive (oci-archive
 * or docker-save; plain, gzip or zstd; a file or stdin) indexed in place. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "compress.h"
#include "layout_int.h"
#include "layoutfs.h"

/* Copy (and decompress) from in into a new tmpfile; first holds bytes
 * already read from in. */
static int layout_spool(int in, const uint8_t *first, size_t first_len, int compression, int *out,
			struct oci_error **err)
{
	int fd = tmpfile_anon("/var/tmp", "oci-spool", err);
	if (fd < 0)
		return fd;
	struct decoder *d = decoder_new(compression);
	size_t bufsz = 1 << 20;
	uint8_t *inbuf = xmalloc(bufsz);
	uint8_t *outbuf = xmalloc(bufsz);
	int r = 0;
	bool eof = false;
	size_t have = first_len;
	if (first_len)
		memcpy(inbuf, first, first_len);
	while (!eof || have) {
		if (!eof && have < bufsz) {
			ssize_t n = read(in, inbuf + have, bufsz - have);
			if (oci_cancelled()) {
				r = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
				goto out;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = error_set(err, OCI_E_IO, errno, "read archive");
				goto out;
			}
			if (n == 0)
				eof = true;
			have += (size_t)n;
		}
		const uint8_t *ip = inbuf;
		size_t il = have;
		for (;;) {
			uint8_t *op = outbuf;
			size_t ol = bufsz;
			if ((r = decoder_run(d, &ip, &il, &op, &ol, err)) < 0)
				goto out;
			size_t made = bufsz - ol;
			for (size_t w = 0; w < made;) {
				ssize_t n = write(fd, outbuf + w, made - w);
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0) {
					r = error_set(err, OCI_E_IO, errno,
						      "write temporary copy of archive");
					goto out;
				}
				w += (size_t)n;
			}
			if (made == 0 || (il == 0 && made < bufsz))
				break;
		}
		memmove(inbuf, ip, il);
		if (eof && il == have && il) {
			r = error_set(err, OCI_E_INVALID, 0, "archive: decompression stalled");
			goto out;
		}
		have = il;
	}
	if (!decoder_at_end(d)) {
		r = error_set(err, OCI_E_INVALID, 0, "archive: truncated %s stream",
			      compression == OCI_COMPRESS_GZIP ? "gzip" : "zstd");
		goto out;
	}
	*out = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	free(inbuf);
	free(outbuf);
	decoder_free(d);
	return r;
}

int layout_read_member(struct oci_layout *l, const char *name, size_t max, char **buf, size_t *len,
		       struct oci_error **err)
{
	const struct tar_member *m = tar_index_find(&l->tar, name);
	if (!m)
		return error_set(err, OCI_E_NOTFOUND, 0, "%s: not in archive", name);
	if ((uint64_t)m->size > max)
		return error_set(err, OCI_E_LIMIT, 0, "%s: %lld bytes exceeds %zu", name,
				 (long long)m->size, max);
	char *b = xmalloc((size_t)m->size + 1);
	ssize_t n = read_full_at(l->fd, b, (size_t)m->size, l->base + m->off);
	if (n != m->size) {
		free(b);
		return error_set(err, n < 0 ? OCI_E_IO : OCI_E_INVALID, n < 0 ? errno : 0, "%s: %s",
				 name, n < 0 ? "read" : "truncated in archive");
	}
	b[m->size] = 0;
	*buf = b;
	*len = (size_t)m->size;
	return 0;
}

/* OCI_E_INVALID only when name is not what it claims (layoutfs_open) */
static int layout_read_dir_file(struct oci_layout *l, const char *name, size_t max, char **buf,
				size_t *len, struct oci_error **err)
{
	struct stat st;
	cleanup_close int fd = layoutfs_open(l->dirfd, name, false, &st, err);
	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size > max)
		return error_set(err, OCI_E_LIMIT, 0, "%s: %lld bytes exceeds %zu", name,
				 (long long)st.st_size, max);
	char *b = xmalloc((size_t)st.st_size + 1);
	ssize_t n = read_full_at(fd, b, (size_t)st.st_size, 0);
	if (n < 0) {
		free(b);
		return error_set(err, OCI_E_IO, errno, "read %s", name);
	}
	b[n] = 0;
	*buf = b;
	*len = (size_t)n;
	return 0;
}

/* Read a top-level file of the layout, directory or archive alike. */
static int layout_read_top(struct oci_layout *l, const char *name, size_t max, char **buf,
			   size_t *len, struct oci_error **err)
{
	if (l->kind == OCI_LAYOUT_DIR)
		return layout_read_dir_file(l, name, max, buf, len, err);
	return layout_read_member(l, name, max, buf, len, err);
}

/* hand e to the caller (or drop it); returns its status */
static int layout_pass_error(struct oci_error **err, struct oci_error *e)
{
	int st = e ? e->status : OCI_E_INVALID;
	if (err) {
		oci_error_free(*err);
		*err = e;
	} else {
		oci_error_free(e);
	}
	return st;
}

static int layout_load_oci(struct oci_layout *l, struct oci_error **err)
{
	cleanup_free char *buf = NULL;
	size_t len;
	struct oci_error *e1 = NULL;
	int rv = layout_read_top(l, "oci-layout", 4096, &buf, &len, &e1);
	/* missing or garbage is for fsck to report and fix; a FIFO or a symlink
	 * out of the layout is refused by every tool, fsck too */
	if (rv == OCI_E_INVALID && l->kind == OCI_LAYOUT_DIR)
		return layout_pass_error(err, e1);
	oci_error_free(e1);
	if (rv == 0) {
		cJSON *j = NULL;
		if (oci_json_parse(buf, len, &j, NULL) == 0) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "imageLayoutVersion");
			l->has_version = cJSON_IsString(v) && strncmp(v->valuestring, "1.", 2) == 0;
			cJSON_Delete(j);
		}
	}
	free(buf);
	buf = NULL;
	struct oci_error *e2 = NULL;
	int r = layout_read_top(l, "index.json", OCI_JSON_MAX, &buf, &len, &e2);
	bool unsafe = r == OCI_E_INVALID && l->kind == OCI_LAYOUT_DIR;
	if (r < 0 && !unsafe && e2 && (e2->errnum || r == OCI_E_NOTFOUND)) {
		/* the reader named the file, and so does every caller ("index.json:
		 * ..."): keep only the cause, so the subject is named once */
		struct oci_error *cause = NULL;
		error_set(&cause, e2->status, 0, "%s",
			  e2->errnum ? strerror(e2->errnum) : "missing from the archive");
		cause->errnum = e2->errnum;
		oci_error_free(e2);
		e2 = cause;
	}
	if (r == 0)
		r = oci_index_parse(buf, len, NULL, &l->index, &e2);
	if (r < 0) {
		if (unsafe) /* the message names index.json and what it is */
			return layout_pass_error(err, e2);
		if (!(l->flags & OCI_LAYOUT_OPEN_LENIENT)) {
			layout_pass_error(err, e2);
			return error_wrap(err, "index.json");
		}
		/* fsck: keep what can be kept. JSON whose entries are partly bad gives
		 * an index of the good ones, the bad ones listed for the report */
		cJSON *j = NULL;
		if (r < 0 && buf && oci_json_parse(buf, len, &j, NULL) == 0 &&
		    cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "manifests"))) {
			cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "manifests");
			cJSON *good = cJSON_CreateArray();
			const cJSON *c;
			size_t i = 0;
			cJSON_ArrayForEach (c, arr) {
				struct oci_descriptor d;
				struct oci_error *e3 = NULL;
				if (oci_descriptor_parse(c, &d, &e3) == 0) {
					cJSON_AddItemToArray(good, cJSON_Duplicate(c, 1));
					oci_descriptor_release(&d);
				} else {
					const cJSON *ann =
					    cJSON_GetObjectItemCaseSensitive(c, "annotations");
					const cJSON *rn = cJSON_GetObjectItemCaseSensitive(
					    ann, "org.opencontainers.image.ref.name");
					l->bad_entries =
					    xrealloc(l->bad_entries,
						     (l->n_bad_entries + 1) * sizeof(char *));
					l->bad_entries[l->n_bad_entries++] = xasprintf(
					    "%s\t%s", cJSON_IsString(rn) ? rn->valuestring : "-",
					    e3 ? e3->msg : "bad descriptor");
				}
				oci_error_free(e3);
				i++;
			}
			cJSON *fixed = cJSON_CreateObject();
			cJSON_AddNumberToObject(fixed, "schemaVersion", 2);
			cJSON_AddItemToObject(fixed, "manifests", good);
			char *fs = cJSON_PrintUnformatted(fixed);
			cJSON_Delete(fixed);
			cJSON_Delete(j);
			int pr = oci_index_parse(fs, strlen(fs), NULL, &l->index, NULL);
			free(fs);
			if (pr == 0 && l->n_bad_entries) {
				oci_error_free(e2);
				return 0;
			}
			oci_index_free(l->index);
			l->index = NULL;
		} else {
			cJSON_Delete(j);
		}
		l->index_error = xstrdup(e2 ? e2->msg : "unreadable");
		oci_error_free(e2);
		static const char empty[] = "{\"schemaVersion\":2,\"manifests\":[]}";
		return oci_index_parse(empty, sizeof(empty) - 1, NULL, &l->index, err);
	}
	return 0;
}

/* does the archive hold a member under blobs/ (members are sorted by name) */
static bool layout_tar_has_blobs(const struct tar_index *t)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) { /* the first member not before "blobs/" */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(t->m[mid].name, "blobs/") < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n && strncmp(t->m[lo].name, "blobs/", 6) == 0;
}

static int layout_open_archive(struct oci_layout *l, int fd, bool seekable, struct oci_error **err)
{
	uint8_t magic[512];
	ssize_t n = seekable ? read_full_at(fd, magic, sizeof(magic), l->base)
			     : read_full(fd, magic, sizeof(magic));
	if (n < 0)
		return error_set(err, OCI_E_IO, errno, "read");
	l->compression = compress_sniff(magic, (size_t)n);
	if (l->compression != OCI_COMPRESS_NONE || !seekable) {
		/* a compressed or piped archive cannot be read in place */
		int sfd = -1;
		if (seekable && lseek(fd, l->base, SEEK_SET) < 0)
			return error_set(err, OCI_E_IO, errno, "seek");
		int r = layout_spool(fd, seekable ? NULL : magic, seekable ? 0 : (size_t)n,
				     l->compression, &sfd, err);
		if (r < 0)
			return r;
		l->fd = sfd;
		l->base = 0;
	} else {
		l->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (l->fd < 0)
			return error_set(err, OCI_E_IO, errno, "dup");
	}
	int r = tar_index_build(l->fd, l->base, &l->tar, err);
	if (r < 0)
		return error_wrap(err, "not a readable tar archive");
	bool has_index = tar_index_find(&l->tar, "index.json") != NULL;
	bool has_docker = tar_index_find(&l->tar, "manifest.json") != NULL;
	if (has_docker) {
		l->kind = OCI_LAYOUT_DOCKER_ARCHIVE;
		/* Docker 25+ writes an OCI layout too: prefer its index */
		if (has_index)
			return layout_load_oci(l, err);
		return docker_archive_load(l, err);
	}
	/* an oci-archive that lost its index.json is still one when it holds
	 * oci-layout and blobs/: fsck reports the loss and rebuilds the index */
	if (!has_index && !(tar_index_find(&l->tar, "oci-layout") && layout_tar_has_blobs(&l->tar)))
		return error_set(err, OCI_E_INVALID, 0,
				 "neither an oci-archive (no index.json, or no oci-layout and "
				 "blobs/) nor a docker-save archive (no manifest.json)");
	l->kind = OCI_LAYOUT_OCI_ARCHIVE;
	return layout_load_oci(l, err);
}

/* blobs/sha256 and blobs/sha512, held from the start: a layout whose blob
 * directories are not directories inside it is refused before anything in
 * them is read, listed or changed */
static int layout_open_blob_dirs(struct oci_layout *l, struct oci_error **err)
{
	for (int a = 0; a < 2; a++) {
		const char *algo = oci_digest_algo_name(a ? OCI_DIGEST_SHA512 : OCI_DIGEST_SHA256);
		struct oci_error *e = NULL;
		int fd = layoutfs_blob_dir(l->dirfd, algo, false, &e);
		if (fd < 0 && fd != OCI_E_NOTFOUND)
			return layout_pass_error(err, e);
		oci_error_free(e);
		l->blob_dirfd[a] = fd < 0 ? -1 : fd;
	}
	return 0;
}

static int layout_open_path(struct oci_layout *l, const char *path, struct oci_error **err)
{
	if (strcmp(path, "-") == 0) {
		struct stat st;
		if (fstat(0, &st) < 0)
			return error_set(err, OCI_E_IO, errno, "stdin");
		bool seekable = S_ISREG(st.st_mode);
		if (seekable) {
			off_t pos = lseek(0, 0, SEEK_CUR);
			l->base = pos > 0 ? pos : 0;
		}
		return layout_open_archive(l, 0, seekable, err);
	}
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return error_set(err, errno == ENOENT ? OCI_E_NOTFOUND : OCI_E_IO, errno, "open");
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_set(err, OCI_E_IO, errno, "stat");
	if (S_ISDIR(st.st_mode)) {
		l->kind = OCI_LAYOUT_DIR;
		l->dirfd = fd;
		fd = -1;
		int r = layout_open_blob_dirs(l, err);
		return r < 0 ? r : layout_load_oci(l, err);
	}
	if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))
		return layout_open_archive(l, fd, S_ISREG(st.st_mode), err);
	return error_set(err, OCI_E_INVALID, 0, "not a directory or an archive");
}

int oci_layout_open(const char *path, struct oci_layout **out, struct oci_error **err)
{
	return oci_layout_open_flags(path, 0, out, err);
}

int oci_layout_open_flags(const char *path, int flags, struct oci_layout **out,
			  struct oci_error **err)
{
	struct oci_layout *l = xcalloc(1, sizeof(*l));
	l->flags = flags;
	l->dirfd = -1;
	l->blob_dirfd[0] = l->blob_dirfd[1] = -1;
	l->fd = -1;
	l->path = xstrdup(path);
	int r = layout_open_path(l, path, err);
	if (r < 0) {
		oci_layout_free(l);
		return r;
	}
	*out = l;
	return 0;
}

void oci_layout_free(struct oci_layout *l)
{
	if (!l)
		return;
	if (l->dirfd >= 0)
		close(l->dirfd);
	for (int a = 0; a < 2; a++)
		if (l->blob_dirfd[a] >= 0)
			close(l->blob_dirfd[a]);
	free(l->unsafe);
	if (l->fd >= 0)
		close(l->fd);
	tar_index_release(&l->tar);
	for (size_t i = 0; i < l->n_vblobs; i++)
		free(l->vblobs[i].mem);
	free(l->vblobs);
	pathmap_release(&l->vblob_at, NULL);
	oci_index_free(l->index);
	free(l->index_error);
	for (size_t i = 0; i < l->n_bad_entries; i++)
		free(l->bad_entries[i]);
	free(l->bad_entries);
	free(l->path);
	free(l);
}

enum oci_layout_kind oci_layout_kind(const struct oci_layout *l)
{
	return l->kind;
}

const char *oci_layout_kind_name(const struct oci_layout *l)
{
	switch (l->kind) {
	case OCI_LAYOUT_DIR:
		return "oci-layout";
	case OCI_LAYOUT_OCI_ARCHIVE:
		return "oci-archive";
	case OCI_LAYOUT_DOCKER_ARCHIVE:
		return "docker-archive";
	}
	return "unknown";
}

const char *oci_layout_path(const struct oci_layout *l)
{
	return l->path;
}

int oci_layout_archive_compression(const struct oci_layout *l)
{
	return l->compression;
}

const struct oci_index *oci_layout_index(const struct oci_layout *l)
{
	return l->index;
}

int oci_layout_has_version_file(const struct oci_layout *l)
{
	return l->has_version;
}

/* kept once, by whichever thread sees it first (verify reads on all cores) */
static void layout_note_unsafe(struct oci_layout *l, const char *msg)
{
	char *m = xstrdup(msg), *none = NULL;
	if (!__atomic_compare_exchange_n(&l->unsafe, &none, m, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		free(m);
}

const char *layout_unsafe(struct oci_layout *l)
{
	return __atomic_load_n(&l->unsafe, __ATOMIC_ACQUIRE);
}

int layout_listed_dirfd(const struct oci_layout *l, const char *listed, const char **base)
{
	for (int a = 0; a < 2; a++) {
		const char *algo = oci_digest_algo_name(a ? OCI_DIGEST_SHA512 : OCI_DIGEST_SHA256);
		size_t n = strlen(algo);
		if (l->blob_dirfd[a] >= 0 && strncmp(listed, "blobs/", 6) == 0 &&
		    strncmp(listed + 6, algo, n) == 0 && listed[6 + n] == '/' &&
		    !strchr(listed + 7 + n, '/')) {
			*base = listed + 7 + n;
			return l->blob_dirfd[a];
		}
	}
	return -1;
}

int layout_locate(struct oci_layout *l, const struct oci_digest *d, struct blob_loc *loc,
		  struct oci_error **err)
{
	memset(loc, 0, sizeof(*loc));
	loc->fd = -1;
	/* by digest through a table, not a scan: a docker-save archive of
	 * 10,000 images has 20,000 virtual blobs, and each is looked up */
	for (; l->n_vblob_at < l->n_vblobs; l->n_vblob_at++) {
		void **slot = pathmap_put(&l->vblob_at, l->vblobs[l->n_vblob_at].digest.str);
		if (!*slot)
			*slot = (void *)(uintptr_t)(l->n_vblob_at + 1);
	}
	uintptr_t at = l->n_vblobs ? (uintptr_t)pathmap_get(&l->vblob_at, d->str) : 0;
	if (at) {
		struct vblob *v = &l->vblobs[at - 1];
		if (v->mem) {
			loc->mem = v->mem;
			loc->size = (int64_t)v->mem_len;
			return 0;
		}
		const struct tar_member *m = tar_index_find(&l->tar, v->member);
		if (m) {
			loc->fd = l->fd;
			loc->off = l->base + m->off;
			loc->size = m->size;
			return 0;
		}
	}
	/* the digest was parsed and checked, so this path has no '/' or '..' in its parts */
	char name[16 + OCI_DIGEST_MAX];
	snprintf(name, sizeof(name), "blobs/%s/%s", oci_digest_algo_name(d->algo),
		 oci_digest_hex(d));
	if (l->kind == OCI_LAYOUT_DIR) {
		struct stat st;
		struct oci_error *e = NULL;
		int fd = layoutfs_open(l->dirfd, name, false, &st, &e);
		if (fd < 0) {
			if (fd == OCI_E_INVALID)
				layout_note_unsafe(l, e->msg);
			if (fd == OCI_E_NOTFOUND) {
				oci_error_free(e);
				return error_set(err, OCI_E_NOTFOUND, 0, "blob %s: missing",
						 d->str);
			}
			return layout_pass_error(err, e);
		}
		loc->fd = fd;
		loc->own_fd = true;
		loc->size = st.st_size;
		return 0;
	}
	const struct tar_member *m = tar_index_find(&l->tar, name);
	if (!m)
		return error_set(err, OCI_E_NOTFOUND, 0, "blob %s: missing", d->str);
	loc->fd = l->fd;
	loc->off = l->base + m->off;
	loc->size = m->size;
	return 0;
}

int oci_layout_blob_exists(struct oci_layout *l, const struct oci_digest *d)
{
	return oci_layout_blob_size(l, d) >= 0;
}

int64_t oci_layout_blob_size(struct oci_layout *l, const struct oci_digest *d)
{
	struct blob_loc loc;
	if (layout_locate(l, d, &loc, NULL) < 0)
		return -1;
	if (loc.own_fd)
		close(loc.fd);
	return loc.size;
}

int layout_open_single_blob(const char *path, const struct oci_descriptor *d,
			    struct oci_layout **out, struct oci_error **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "reopen %s", path);
	struct oci_layout *l = xcalloc(1, sizeof(*l));
	l->kind = OCI_LAYOUT_OCI_ARCHIVE;
	l->dirfd = -1;
	l->fd = fd;
	l->path = xstrdup(path);
	l->tar.m = xcalloc(1, sizeof(*l->tar.m));
	l->tar.m[0] = (struct tar_member){xstrdup("blob"), 0, d->size, 0};
	l->tar.n = 1;
	l->vblobs = xcalloc(1, sizeof(*l->vblobs));
	l->vblobs[0].digest = d->digest;
	l->vblobs[0].member = l->tar.m[0].name;
	l->n_vblobs = 1;
	static const char idx[] = "{\"schemaVersion\":2,\"manifests\":[]}";
	int r = oci_index_parse(idx, sizeof(idx) - 1, NULL, &l->index, err);
	if (r < 0) {
		oci_layout_free(l);
		return r;
	}
	*out = l;
	return 0;
}

const char *oci_layout_index_error(const struct oci_layout *l)
{
	return l->index_error;
}

int oci_layout_dirfd(const struct oci_layout *l)
{
	return l->kind == OCI_LAYOUT_DIR ? l->dirfd : -1;
}

int oci_layout_list_blobs(struct oci_layout *l, char ***names, struct oci_error **err)
{
	size_t n = 0, cap = 16;
	char **v = xcalloc(cap, sizeof(*v));
	if (l->kind == OCI_LAYOUT_DIR) {
		for (int a = 0; a < 2; a++) {
			const char *algo =
			    oci_digest_algo_name(a ? OCI_DIGEST_SHA512 : OCI_DIGEST_SHA256);
			size_t k = 0;
			/* the directories checked and held at open: never a name
			 * resolved again, so never a directory outside the layout */
			char **listed =
			    l->blob_dirfd[a] >= 0 ? layoutfs_list(l->blob_dirfd[a], &k) : NULL;
			for (size_t i = 0; i < k; i++) {
				if (n + 2 > cap) {
					cap *= 2;
					v = xrealloc(v, cap * sizeof(*v));
				}
				v[n++] = xasprintf("blobs/%s/%s", algo, listed[i]);
				free(listed[i]);
			}
			free(listed);
		}
	} else {
		for (size_t i = 0; i < l->tar.n; i++) {
			if (strncmp(l->tar.m[i].name, "blobs/", 6) != 0)
				continue;
			if (n + 2 > cap) {
				cap *= 2;
				v = xrealloc(v, cap * sizeof(*v));
			}
			v[n++] = xstrdup(l->tar.m[i].name);
		}
	}
	(void)err;
	v[n] = NULL;
	*names = v;
	return 0;
}

size_t oci_layout_bad_entries(const struct oci_layout *l, const char *const **entries)
{
	*entries = (const char *const *)l->bad_entries;
	return l->n_bad_entries;
}
