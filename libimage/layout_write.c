/* Writing into a layout directory. Order is what makes it crash-safe: a
 * blob is whole before it has its name, and index.json names a blob only
 * after the blob is whole; index.json itself changes by rename. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <oci/layout_write.h>
#include "layout_int.h"

static int lw_fsync_dir(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

static int lw_write_all(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* create name with content, atomically (tmp + fsync + rename) */
static int lw_replace_file(int dirfd, const char *name, const void *buf, size_t len,
			   struct oci_error **err)
{
	cleanup_free char *tmp = xasprintf(".%s.tmp-%d", name, (int)getpid());
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "create %s", tmp);
	if (lw_write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return error_set(err, OCI_E_IO, e, "write %s", name);
	}
	close(fd);
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return error_set(err, OCI_E_IO, e, "rename %s", name);
	}
	lw_fsync_dir(dirfd, ".");
	return 0;
}

int oci_layout_create(const char *path, int *out, struct oci_error **err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return error_set(err, OCI_E_IO, errno, "%s: create", path);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "%s: open", path);
	struct stat st;
	if (fstatat(fd, "oci-layout", &st, AT_SYMLINK_NOFOLLOW) < 0) {
		static const char v[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
		int r = lw_replace_file(fd, "oci-layout", v, sizeof(v) - 1, err);
		if (r < 0) {
			close(fd);
			return error_wrap(err, "%s", path);
		}
	}
	if ((mkdirat(fd, "blobs", 0755) < 0 && errno != EEXIST) ||
	    (mkdirat(fd, "blobs/sha256", 0755) < 0 && errno != EEXIST)) {
		int e = errno;
		close(fd);
		return error_set(err, OCI_E_IO, e, "%s: create blobs/sha256", path);
	}
	if (fstatat(fd, "index.json", &st, AT_SYMLINK_NOFOLLOW) < 0) {
		static const char idx[] =
		    "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MT_INDEX "\",\"manifests\":[]}";
		/* whole before it has its name, and only when still missing: a
		 * concurrent creator may have won (link fails then) */
		cleanup_free char *tmp = xasprintf(".index.json.new-%d", (int)getpid());
		int tfd =
		    openat(fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
		int r = tfd < 0 ? -1 : lw_write_all(tfd, idx, sizeof(idx) - 1);
		if (r == 0)
			r = fsync(tfd);
		int e = errno;
		if (tfd >= 0)
			close(tfd);
		if (r == 0 && linkat(fd, tmp, fd, "index.json", 0) < 0 && errno != EEXIST)
			r = -1, e = errno;
		unlinkat(fd, tmp, 0);
		if (r < 0) {
			close(fd);
			return error_set(err, OCI_E_IO, e, "%s: write index.json", path);
		}
		lw_fsync_dir(fd, ".");
	}
	*out = fd;
	return 0;
}

int oci_blob_tmp_open(int dirfd, int *fd, char **name, struct oci_error **err)
{
	char *n = xasprintf("blobs/sha256/.tmp-%d-XXXXXX", (int)getpid());
	/* mkostemp needs a path: build it relative to the layout through /proc/self/fd */
	cleanup_free char *full = xasprintf("/proc/self/fd/%d/%s", dirfd, n);
	int f = mkostemp(full, O_CLOEXEC);
	if (f < 0) {
		free(n);
		return error_set(err, OCI_E_IO, errno, "create a temporary blob");
	}
	memcpy(n + strlen(n) - 6, full + strlen(full) - 6, 6);
	fchmod(f, 0644);
	*fd = f;
	*name = n;
	return 0;
}

int oci_blob_tmp_commit(int dirfd, int fd, const char *name, const struct oci_digest *d,
			struct oci_error **err)
{
	char final[32 + OCI_DIGEST_MAX];
	snprintf(final, sizeof(final), "blobs/%s/%s", oci_digest_algo_name(d->algo),
		 oci_digest_hex(d));
	if (fsync(fd) < 0) {
		int e = errno;
		oci_blob_tmp_abort(dirfd, fd, name);
		return error_set(err, OCI_E_IO, e, "fsync blob %s", d->str);
	}
	close(fd);
	if (renameat(dirfd, name, dirfd, final) < 0) {
		int e = errno;
		unlinkat(dirfd, name, 0);
		return error_set(err, OCI_E_IO, e, "rename blob %s", d->str);
	}
	lw_fsync_dir(dirfd, "blobs/sha256");
	return 0;
}

void oci_blob_tmp_abort(int dirfd, int fd, const char *name)
{
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, name, 0);
}

int oci_blob_put(int dirfd, const void *buf, size_t len, struct oci_digest *out,
		 struct oci_error **err)
{
	oci_digest_buffer(OCI_DIGEST_SHA256, buf, len, out);
	char final[32 + OCI_DIGEST_MAX];
	snprintf(final, sizeof(final), "blobs/sha256/%s", oci_digest_hex(out));
	struct stat st;
	if (fstatat(dirfd, final, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size == (off_t)len)
		return 0; /* content-addressed: already there */
	int fd;
	char *name;
	int r = oci_blob_tmp_open(dirfd, &fd, &name, err);
	if (r < 0)
		return r;
	if (lw_write_all(fd, buf, len) < 0) {
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
	char final[32 + OCI_DIGEST_MAX];
	snprintf(final, sizeof(final), "blobs/%s/%s", oci_digest_algo_name(d->digest.algo),
		 oci_digest_hex(&d->digest));
	struct stat st;
	if (fstatat(dst_fd, final, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size == d->size)
		return 0;
	if (d->digest.algo != OCI_DIGEST_SHA256 &&
	    mkdirat(dst_fd, d->digest.algo == OCI_DIGEST_SHA512 ? "blobs/sha512" : "blobs/x",
		    0755) < 0 &&
	    errno != EEXIST)
		return error_set(err, OCI_E_IO, errno, "create blobs/%s",
				 oci_digest_algo_name(d->digest.algo));
	/* a layout directory on the same filesystem: a hard link is enough
	 * (blobs are immutable), after checking the source is what it claims */
	struct blob_loc loc;
	int r = layout_locate(src, &d->digest, &loc, err);
	if (r < 0)
		return r;
	if (loc.own_fd) {
		struct oci_blob *b;
		if ((r = oci_blob_open(src, d, &b, err)) == 0) {
			r = oci_blob_finish(b, err);
			oci_blob_free(b);
		}
		if (r == 0) {
			char p[64];
			snprintf(p, sizeof(p), "/proc/self/fd/%d", loc.fd);
			if (linkat(AT_FDCWD, p, dst_fd, final, AT_SYMLINK_FOLLOW) == 0 ||
			    errno == EEXIST) {
				close(loc.fd);
				return 0;
			}
		}
		close(loc.fd);
		if (r < 0)
			return r;
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
		if (lw_write_all(fd, buf, (size_t)n) < 0) {
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

int oci_layout_set_ref(int dirfd, const char *ref, const struct oci_descriptor *d,
		       struct oci_error **err)
{
	/* the lock is a file of its own: index.json is replaced, so locking it
	 * would lock a file that is about to be unlinked */
	int lk = openat(dirfd, ".index.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (lk < 0)
		return error_set(err, OCI_E_IO, errno, "open the layout lock");
	while (flock(lk, LOCK_EX) < 0)
		if (errno != EINTR) {
			int e = errno;
			close(lk);
			return error_set(err, OCI_E_IO, e, "lock the layout");
		}
	int r = 0;
	cJSON *root = NULL;
	int fd = openat(dirfd, "index.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		struct stat st;
		char *buf = NULL;
		if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > OCI_JSON_MAX) {
			r = error_set(err, OCI_E_INVALID, 0, "index.json: too large");
		} else {
			buf = xmalloc((size_t)st.st_size + 1);
			ssize_t n = read_full(fd, buf, (size_t)st.st_size);
			if (n < 0)
				r = error_set(err, OCI_E_IO, errno, "read index.json");
			else if ((r = oci_json_parse(buf, (size_t)n, &root, err)) < 0)
				error_wrap(err, "index.json");
		}
		free(buf);
		close(fd);
	} else if (errno != ENOENT) {
		r = error_set(err, OCI_E_IO, errno, "open index.json");
	}
	if (r == 0) {
		if (!root) {
			root = cJSON_CreateObject();
			cJSON_AddNumberToObject(root, "schemaVersion", 2);
			cJSON_AddStringToObject(root, "mediaType", OCI_MT_INDEX);
		}
		cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "manifests");
		if (!cJSON_IsArray(m)) {
			cJSON_DeleteItemFromObjectCaseSensitive(root, "manifests");
			m = cJSON_AddArrayToObject(root, "manifests");
		}
		/* the ref moves: drop descriptors that carry it */
		for (cJSON *c = m->child, *next; c; c = next) {
			next = c->next;
			const cJSON *ann = cJSON_GetObjectItemCaseSensitive(c, "annotations");
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(
			    ann, "org.opencontainers.image.ref.name");
			if (cJSON_IsString(n) && strcmp(n->valuestring, ref) == 0)
				cJSON_Delete(cJSON_DetachItemViaPointer(m, c));
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "mediaType", d->media_type);
		cJSON_AddStringToObject(o, "digest", d->digest.str);
		cJSON_AddNumberToObject(o, "size", (double)d->size);
		cJSON *ann = cJSON_AddObjectToObject(o, "annotations");
		cJSON_AddStringToObject(ann, "org.opencontainers.image.ref.name", ref);
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
		cJSON_AddItemToArray(m, o);
		char *s = cJSON_PrintUnformatted(root);
		r = lw_replace_file(dirfd, "index.json", s, strlen(s), err);
		free(s);
	}
	cJSON_Delete(root);
	flock(lk, LOCK_UN);
	close(lk);
	return r;
}
