/* Unpacking an image into a bundle: everything is built in a temporary
 * directory next to the target and renamed over it at the very end, so a
 * failure or a signal never leaves something that looks whole. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <oci/bundle.h>
#include <oci/spec.h>
#include "inroot.h"

/* 0 when path is missing, 1 when it is an empty directory */
static int bundle_check_target(const char *path, struct oci_error **err)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return error_set(err, OCI_E_IO, errno, "stat");
	}
	if (!S_ISDIR(st.st_mode))
		return error_set(err, OCI_E_USAGE, 0, "exists and is not a directory");
	DIR *d = opendir(path);
	if (!d)
		return error_set(err, OCI_E_IO, errno, "open");
	struct dirent *de;
	bool empty = true;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = false;
	closedir(d);
	if (!empty)
		return error_set(err, OCI_E_USAGE, 0, "exists and is not empty");
	return 1;
}

static int bundle_write_file(int dirfd, const char *name, const char *data, size_t len,
			     struct oci_error **err)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "create %s", name);
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return error_set(err, OCI_E_IO, e, "write %s", name);
		}
		done += (size_t)n;
	}
	if (close(fd) < 0)
		return error_set(err, OCI_E_IO, errno, "write %s", name);
	return 0;
}

static int bundle_fill(const struct oci_image *img, int tmpfd, const struct oci_unpack_opts *o,
		       struct oci_error **err)
{
	int rootfd;
	if (o->rootfs_only) {
		rootfd = fcntl(tmpfd, F_DUPFD_CLOEXEC, 3);
	} else {
		if (mkdirat(tmpfd, "rootfs", 0755) < 0)
			return error_set(err, OCI_E_IO, errno, "create rootfs");
		rootfd = openat(tmpfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (rootfd < 0)
		return error_set(err, OCI_E_IO, errno, "open rootfs");
	struct oci_rootfs *rf = NULL;
	cJSON *spec = NULL;
	char *json = NULL;
	int r = oci_rootfs_open(rootfd, &o->apply, &rf, err);
	if (r == 0)
		r = oci_rootfs_apply_image(rf, img, err);
	if (r == 0 && !o->rootfs_only) {
		struct oci_snapshot head = {.source = (char *)o->source,
					    .manifest = img->desc.digest,
					    .config = img->manifest->config.digest};
		r = oci_rootfs_write_record(rf, &head, tmpfd, OCI_BUNDLE_RECORD, err);
		if (r == 0)
			r = oci_spec_from_image(img->config, rootfd, o->apply.rootless, &spec, err);
		if (r == 0) {
			json = cJSON_Print(spec);
			if (!json)
				abort();
			r = bundle_write_file(tmpfd, "config.json", json, strlen(json), err);
		}
	}
	free(json);
	cJSON_Delete(spec);
	oci_rootfs_free(rf);
	close(rootfd);
	return r;
}

/* Put the finished tree at path. A missing path: one rename. An existing
 * empty directory (perhaps a mount point, perhaps with a mode of its own):
 * its new contents move in one by one, the record last, so it is a bundle
 * only when whole. */
static int bundle_place(const char *tmpl, int tmpfd, const char *path, bool existed,
			bool rootfs_only, struct oci_error **err)
{
	if (!existed) {
		if (rename(tmpl, path) < 0)
			return error_set(err, OCI_E_IO, errno, "%s: rename into place", path);
		return 0;
	}
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return error_set(err, OCI_E_IO, errno, "%s: open", path);
	int r = 0;
	if (rootfs_only) {
		/* the tree itself: move every top-level entry */
		DIR *d = fdopendir(fcntl(tmpfd, F_DUPFD_CLOEXEC, 3));
		struct dirent *de;
		while (r == 0 && d && (de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
			    renameat(tmpfd, de->d_name, dfd, de->d_name) < 0)
				r = error_set(err, OCI_E_IO, errno, "%s: move %s into place", path,
					      de->d_name);
		if (d)
			closedir(d);
	} else {
		static const char *const order[] = {"rootfs", "config.json", OCI_BUNDLE_RECORD};
		for (int i = 0; r == 0 && i < 3; i++)
			if (renameat(tmpfd, order[i], dfd, order[i]) < 0)
				r = error_set(err, OCI_E_IO, errno, "%s: move %s into place", path,
					      order[i]);
	}
	close(dfd);
	if (r == 0)
		rmdir(tmpl);
	return r;
}

int oci_bundle_unpack(const struct oci_image *img, const char *path,
		      const struct oci_unpack_opts *o, struct oci_error **err)
{
	int r = bundle_check_target(path, err);
	if (r < 0)
		return error_wrap(err, "%s", path);
	bool existed = r == 1;
	cleanup_free char *p1 = xstrdup(path), *p2 = xstrdup(path);
	const char *parent = dirname(p1), *name = basename(p2);
	if (!existed &&
	    (!*name || strcmp(name, "/") == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0))
		return error_set(err, OCI_E_USAGE, 0, "%s: not a usable bundle name", path);
	/* an existing (empty) directory may be a mount point: build inside it */
	if (existed)
		parent = path;
	cleanup_free char *tmpl = existed ? xasprintf("%s/.unpack-XXXXXX", path)
					  : xasprintf("%s/.%s.unpack-XXXXXX", parent, name);
	if (!mkdtemp(tmpl))
		return error_set(err, OCI_E_IO, errno, "%s: create temporary directory in %s", path,
				 parent);
	int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int tmpfd = open(tmpl, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0 || tmpfd < 0) {
		r = error_set(err, OCI_E_IO, errno, "%s: open", tmpl);
	} else {
		r = bundle_fill(img, tmpfd, o, err);
		if (r == 0 && (oci_cancelled() || (o->apply.cancel && *o->apply.cancel)))
			r = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
		if (r == 0)
			r = bundle_place(tmpl, tmpfd, path, existed, o->rootfs_only, err);
	}
	if (tmpfd >= 0)
		close(tmpfd);
	if (r < 0 && pfd >= 0) {
		struct oci_error *e2 = NULL;
		const char *tname = strrchr(tmpl, '/') + 1;
		inroot_remove(pfd, tname, tname, NULL, NULL, &e2);
		oci_error_free(e2);
	}
	if (pfd >= 0)
		close(pfd);
	return r;
}
