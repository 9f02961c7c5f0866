/* Writing into a layout directory. Order is what makes it crash-safe: a
 * blob is whole before it has its name, and index.json names a blob only
 * after the blob is whole; index.json itself changes by rename. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <oci/layout_write.h>
#include "layout_int.h"
#include "layoutfs.h"

/* e, an error held back to see whether it matters, becomes the caller's */
static void lw_pass_error(struct oci_error **err, struct oci_error *e)
{
	if (err) {
		oci_error_free(*err);
		*err = e;
	} else {
		oci_error_free(e);
	}
}

/* An existing top-level file of a layout we are about to write to must be
 * what it claims before anything is written: 1 present, 0 missing. */
static int lw_check_file(int dirfd, const char *name, bool dir, struct oci_error **err)
{
	struct oci_error *e = NULL;
	int fd = layoutfs_open(dirfd, name, dir, NULL, &e);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (fd == OCI_E_NOTFOUND) {
		oci_error_free(e);
		return 0;
	}
	lw_pass_error(err, e);
	return fd;
}

/* the temporary blob names oci_blob_tmp_open gives: blobs/sha256/.tmp-... */
static const char *lw_tmp_base(const char *name)
{
	static const char pre[] = "blobs/sha256/";
	if (strncmp(name, pre, sizeof(pre) - 1) != 0 || strchr(name + sizeof(pre) - 1, '/'))
		return NULL;
	return name + sizeof(pre) - 1;
}

int oci_layout_create(const char *path, int *out, struct oci_error **err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return error_set(err, OCI_E_IO, errno, "%s: create", path);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "%s: open", path);
	/* what is there already must be what it claims: nothing is written
	 * through a planted symlink, nor waited for on a FIFO */
	int r = lw_check_file(fd, "oci-layout", false, err);
	if (r == 0) {
		static const char v[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
		r = layoutfs_replace(fd, "oci-layout", v, sizeof(v) - 1, err);
	}
	int bfd = r < 0 ? r : layoutfs_blob_dir(fd, "sha256", true, err);
	if (bfd >= 0) {
		close(bfd);
		r = lw_check_file(fd, "blobs/sha512", true, err);
	} else {
		r = bfd;
	}
	if (r >= 0)
		r = lw_check_file(fd, "index.json", false, err);
	if (r == 0) {
		static const char idx[] =
		    "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MT_INDEX "\",\"manifests\":[]}";
		/* whole before it has its name, and only when still missing: a
		 * concurrent creator may have won (link fails then) */
		cleanup_free char *tmp = NULL;
		int tfd = layoutfs_create_tmp(fd, ".index.json.new-", 0644, &tmp, err);
		r = tfd;
		if (tfd >= 0) {
			r = write_full(tfd, idx, sizeof(idx) - 1) < 0 || fsync(tfd) < 0 ||
				    (linkat(fd, tmp, fd, "index.json", 0) < 0 && errno != EEXIST)
				? error_set(err, OCI_E_IO, errno, "write index.json")
				: 0;
			close(tfd);
			unlinkat(fd, tmp, 0);
			if (r == 0)
				fsync(fd);
		}
	}
	if (r < 0) {
		close(fd);
		return error_wrap(err, "%s", path);
	}
	*out = fd;
	return 0;
}

int oci_blob_tmp_open(int dirfd, int *fd, char **name, struct oci_error **err)
{
	cleanup_close int bfd = layoutfs_blob_dir(dirfd, "sha256", true, err);
	if (bfd < 0)
		return bfd;
	cleanup_free char *prefix = xasprintf(".tmp-%d-", (int)getpid());
	cleanup_free char *base = NULL;
	int f = layoutfs_create_tmp(bfd, prefix, 0644, &base, err);
	if (f < 0)
		return error_wrap(err, "a temporary blob");
	fchmod(f, 0644);
	*fd = f;
	*name = xasprintf("blobs/sha256/%s", base);
	return 0;
}

int oci_blob_tmp_commit(int dirfd, int fd, const char *name, const struct oci_digest *d,
			struct oci_error **err)
{
	if (fsync(fd) < 0) {
		int e = errno;
		oci_blob_tmp_abort(dirfd, fd, name);
		return error_set(err, OCI_E_IO, e, "fsync blob %s", d->str);
	}
	close(fd);
	const char *base = lw_tmp_base(name);
	if (!base)
		return error_set(err, OCI_E_USAGE, 0, "%s: not a temporary blob", name);
	/* from blobs/sha256 to blobs/ALGO, both held as fds: the rename never
	 * follows a directory swapped for a symlink meanwhile */
	cleanup_close int sfd = layoutfs_blob_dir(dirfd, "sha256", false, err);
	if (sfd < 0)
		return sfd;
	cleanup_close int dfd = layoutfs_blob_dir(dirfd, oci_digest_algo_name(d->algo), true, err);
	if (dfd < 0 || renameat(sfd, base, dfd, oci_digest_hex(d)) < 0) {
		int r = dfd < 0 ? dfd : error_set(err, OCI_E_IO, errno, "rename blob %s", d->str);
		unlinkat(sfd, base, 0);
		return r;
	}
	fsync(dfd);
	return 0;
}

void oci_blob_tmp_abort(int dirfd, int fd, const char *name)
{
	if (fd >= 0)
		close(fd);
	const char *base = lw_tmp_base(name);
	int sfd = base ? layoutfs_blob_dir(dirfd, "sha256", false, NULL) : -1;
	if (sfd >= 0) {
		unlinkat(sfd, base, 0);
		close(sfd);
	}
}

int oci_blob_put(int dirfd, const void *buf, size_t len, struct oci_digest *out,
		 struct oci_error **err)
{
	oci_digest_buffer(OCI_DIGEST_SHA256, buf, len, out);
	cleanup_close int bfd = layoutfs_blob_dir(dirfd, "sha256", true, err);
	if (bfd < 0)
		return bfd;
	struct stat st;
	if (fstatat(bfd, oci_digest_hex(out), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size == (off_t)len)
		return 0; /* content-addressed: already there */
	int fd;
	char *name;
	int r = oci_blob_tmp_open(dirfd, &fd, &name, err);
	if (r < 0)
		return r;
	if (write_full(fd, buf, len) < 0) {
		r = error_set(err, OCI_E_IO, errno, "write blob %s", out->str);
		oci_blob_tmp_abort(dirfd, fd, name);
	} else {
		r = oci_blob_tmp_commit(dirfd, fd, name, out, err);
	}
	free(name);
	return r;
}

int oci_blob_copy(struct oci_layout *src, const struct oci_descriptor *d, int dst_fd,
		  struct oci_error **err)
{
	const char *hex = oci_digest_hex(&d->digest);
	cleanup_close int afd =
	    layoutfs_blob_dir(dst_fd, oci_digest_algo_name(d->digest.algo), true, err);
	if (afd < 0)
		return afd;
	struct stat st;
	if (fstatat(afd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size == d->size)
		return 0;
	/* a layout directory on the same filesystem: a hard link is enough
	 * (blobs are immutable), after checking the source is what it claims;
	 * but only a file nobody else can change: ours, not writable by group
	 * or others. Another user's blob, linked, would stay theirs to rewrite
	 * under our digest. */
	struct blob_loc loc;
	int r = layout_locate(src, &d->digest, &loc, err);
	if (r < 0)
		return r;
	if (loc.own_fd && fstat(loc.fd, &st) == 0 && st.st_uid == geteuid() &&
	    !(st.st_mode & (S_IWGRP | S_IWOTH))) {
		struct oci_blob *b;
		if ((r = oci_blob_open(src, d, &b, err)) == 0) {
			r = oci_blob_finish(b, err);
			oci_blob_free(b);
		}
		if (r == 0) {
			char p[64];
			snprintf(p, sizeof(p), "/proc/self/fd/%d", loc.fd);
			if (linkat(AT_FDCWD, p, afd, hex, AT_SYMLINK_FOLLOW) == 0 ||
			    errno == EEXIST) {
				close(loc.fd);
				return 0;
			}
		}
		close(loc.fd);
		if (r < 0)
			return r;
	} else if (loc.own_fd) {
		close(loc.fd);
	}
	/* otherwise copy, verifying as we go */
	struct oci_blob *b;
	if ((r = oci_blob_open(src, d, &b, err)) < 0)
		return r;
	int fd;
	char *name;
	if ((r = oci_blob_tmp_open(dst_fd, &fd, &name, err)) < 0) {
		oci_blob_free(b);
		return r;
	}
	cleanup_free char *buf = xmalloc(1 << 20);
	ssize_t n;
	while ((n = oci_blob_read(b, buf, 1 << 20, err)) > 0)
		if (write_full(fd, buf, (size_t)n) < 0) {
			n = error_set(err, OCI_E_IO, errno, "write blob %s", d->digest.str);
			break;
		}
	oci_blob_free(b);
	if (n < 0) {
		oci_blob_tmp_abort(dst_fd, fd, name);
		r = (int)n;
	} else {
		r = oci_blob_tmp_commit(dst_fd, fd, name, &d->digest, err);
	}
	free(name);
	return r;
}

/* index.json as it stands, or (missing) a new empty index; *root is NULL
 * on error. */
static int lw_read_index(int dirfd, bool may_create, cJSON **root, struct oci_error **err)
{
	*root = NULL;
	struct stat st;
	struct oci_error *e = NULL;
	int fd = layoutfs_open(dirfd, "index.json", false, &st, &e);
	if (fd == OCI_E_NOTFOUND && may_create) {
		oci_error_free(e);
		*root = cJSON_CreateObject();
		cJSON_AddNumberToObject(*root, "schemaVersion", 2);
		cJSON_AddStringToObject(*root, "mediaType", OCI_MT_INDEX);
		return 0;
	}
	if (fd < 0) {
		lw_pass_error(err, e);
		return fd;
	}
	int r = 0;
	if ((uint64_t)st.st_size > OCI_JSON_MAX) {
		r = error_set(err, OCI_E_LIMIT, 0, "index.json: %lld bytes exceeds %u",
			      (long long)st.st_size, OCI_JSON_MAX);
	} else {
		cleanup_free char *buf = xmalloc((size_t)st.st_size + 1);
		ssize_t n = read_full(fd, buf, (size_t)st.st_size);
		if (n < 0)
			r = error_set(err, OCI_E_IO, errno, "read index.json");
		else if ((r = oci_json_parse(buf, (size_t)n, root, err)) < 0)
			error_wrap(err, "index.json");
	}
	close(fd);
	return r;
}

cJSON *layout_desc_json(const struct oci_descriptor *d, const char *ref, const char *full)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mediaType", d->media_type);
	cJSON_AddStringToObject(o, "digest", d->digest.str);
	cJSON_AddNumberToObject(o, "size", (double)d->size);
	if (ref || full) {
		cJSON *ann = cJSON_AddObjectToObject(o, "annotations");
		if (full)
			cJSON_AddStringToObject(ann, "io.containerd.image.name", full);
		if (ref)
			cJSON_AddStringToObject(ann, "org.opencontainers.image.ref.name", ref);
	}
	/* descriptor.md: SHOULD be present for a platform-specific target */
	if (d->platform && d->platform->os && d->platform->architecture) {
		cJSON *p = cJSON_AddObjectToObject(o, "platform");
		cJSON_AddStringToObject(p, "architecture", d->platform->architecture);
		cJSON_AddStringToObject(p, "os", d->platform->os);
		if (d->platform->os_version)
			cJSON_AddStringToObject(p, "os.version", d->platform->os_version);
		if (d->platform->variant)
			cJSON_AddStringToObject(p, "variant", d->platform->variant);
	}
	return o;
}

/* drop every descriptor of m that carries ref; how many there were */
static size_t lw_drop_ref(cJSON *m, const char *ref)
{
	size_t dropped = 0;
	for (cJSON *c = m->child, *next; c; c = next) {
		next = c->next;
		const cJSON *ann = cJSON_GetObjectItemCaseSensitive(c, "annotations");
		const cJSON *n =
		    cJSON_GetObjectItemCaseSensitive(ann, "org.opencontainers.image.ref.name");
		if (cJSON_IsString(n) && strcmp(n->valuestring, ref) == 0) {
			cJSON_Delete(cJSON_DetachItemViaPointer(m, c));
			dropped++;
		}
	}
	return dropped;
}

int oci_layout_edit_refs(int dirfd, const struct oci_ref_edit *edits, size_t n,
			 struct oci_error **err)
{
	/* a delete needs an index to delete from: a directory without
	 * index.json says so, where a set starts a new index */
	bool may_create = true;
	for (size_t i = 0; i < n; i++) {
		may_create &= edits[i].desc != NULL;
		/* a backstop: every writer checks a ref it sets before it writes a
		 * blob; a delete may name an old ref that breaks the grammar */
		int rc = edits[i].desc ? oci_ref_name_check(edits[i].ref, err) : 0;
		if (rc < 0)
			return rc;
	}
	/* the lock is a file of its own: index.json is replaced, so locking it
	 * would lock a file that is about to be unlinked */
	int lk = layoutfs_lock(dirfd, err);
	if (lk < 0)
		return lk;
	/* re-read under the lock: what another writer landed meanwhile stays */
	cJSON *root;
	int r = lw_read_index(dirfd, may_create, &root, err);
	cJSON *m = r == 0 ? cJSON_GetObjectItemCaseSensitive(root, "manifests") : NULL;
	if (r == 0 && !cJSON_IsArray(m)) {
		cJSON_DeleteItemFromObjectCaseSensitive(root, "manifests");
		m = cJSON_AddArrayToObject(root, "manifests");
	}
	/* in order, all in memory: index.json is written once, so a failed
	 * edit (or a crash) leaves every ref as it was */
	for (size_t i = 0; r == 0 && i < n; i++) {
		/* a set moves the ref: other refs, even to the same digest, stay */
		size_t dropped = lw_drop_ref(m, edits[i].ref);
		if (edits[i].desc)
			cJSON_AddItemToArray(m,
					     layout_desc_json(edits[i].desc, edits[i].ref, NULL));
		else if (!dropped)
			r = error_set(err, OCI_E_NOTFOUND, 0, "ref \"%s\" not found", edits[i].ref);
	}
	if (r == 0) {
		char *s = cJSON_PrintUnformatted(root);
		r = layoutfs_replace(dirfd, "index.json", s, strlen(s), err);
		free(s);
	}
	cJSON_Delete(root);
	flock(lk, LOCK_UN);
	close(lk);
	return r;
}

int oci_layout_set_ref(int dirfd, const char *ref, const struct oci_descriptor *d,
		       struct oci_error **err)
{
	const struct oci_ref_edit e = {.ref = ref, .desc = d};
	return oci_layout_edit_refs(dirfd, &e, 1, err);
}
