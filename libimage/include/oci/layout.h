/* An image source: an OCI image-layout directory, an oci-archive tar (plain,
 * gzip or zstd), a docker-save archive, or "-" for an archive on stdin; all
 * seen through one model: an index and blobs addressed by digest. */
#ifndef OCI_LAYOUT_H
#define OCI_LAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <oci/document.h>

enum oci_layout_kind {
	OCI_LAYOUT_DIR = 1,
	OCI_LAYOUT_OCI_ARCHIVE,
	OCI_LAYOUT_DOCKER_ARCHIVE,
};

struct oci_layout;
struct oci_blob;

OCI_EXPORT int oci_layout_open(const char *path, struct oci_layout **out, struct oci_error **err);
/* For fsck: a layout whose index.json is missing or broken still opens (with
 * an empty index); the problem is kept for oci_layout_index_error(). */
#define OCI_LAYOUT_OPEN_LENIENT 1
OCI_EXPORT int oci_layout_open_flags(const char *path, int flags, struct oci_layout **out,
				     struct oci_error **err);
OCI_EXPORT const char *oci_layout_index_error(const struct oci_layout *l);
/* lenient: index.json entries left out as unusable, each "REF<TAB>why" */
OCI_EXPORT size_t oci_layout_bad_entries(const struct oci_layout *l, const char *const **entries);
/* the layout directory's fd (-1 for archives) */
OCI_EXPORT int oci_layout_dirfd(const struct oci_layout *l);
/* every blob stored (digest strings), for fsck; *names NULL-terminated, free with free() */
OCI_EXPORT int oci_layout_list_blobs(struct oci_layout *l, char ***names, struct oci_error **err);
OCI_EXPORT void oci_layout_free(struct oci_layout *l);
OCI_EXPORT enum oci_layout_kind oci_layout_kind(const struct oci_layout *l);
OCI_EXPORT const char *oci_layout_kind_name(const struct oci_layout *l);
OCI_EXPORT const char *oci_layout_path(const struct oci_layout *l);
/* compression of the archive itself, when one: OCI_COMPRESS_* */
OCI_EXPORT int oci_layout_archive_compression(const struct oci_layout *l);
/* the top-level index (index.json, or the one built from a docker-save manifest.json) */
OCI_EXPORT const struct oci_index *oci_layout_index(const struct oci_layout *l);
/* whether the oci-layout file is present and says version 1.x */
OCI_EXPORT int oci_layout_has_version_file(const struct oci_layout *l);

/* Blobs: opened by descriptor, every read counted and hashed; the stream
 * fails with OCI_E_MISMATCH at its end when size or digest differ. */
OCI_EXPORT int oci_blob_open(struct oci_layout *l, const struct oci_descriptor *d,
			     struct oci_blob **out, struct oci_error **err);
/* >0 bytes read, 0 at the verified end, <0 a status */
OCI_EXPORT ssize_t oci_blob_read(struct oci_blob *b, void *buf, size_t len, struct oci_error **err);
/* read whatever is left and check size and digest */
OCI_EXPORT int oci_blob_finish(struct oci_blob *b, struct oci_error **err);
OCI_EXPORT void oci_blob_free(struct oci_blob *b);
/* read a whole (small) blob, bounded by max, verified */
OCI_EXPORT int oci_blob_read_all(struct oci_layout *l, const struct oci_descriptor *d, size_t max,
				 char **buf, size_t *len, struct oci_error **err);
/* does the layout hold a blob with this digest? (no verification) */
OCI_EXPORT int oci_layout_blob_exists(struct oci_layout *l, const struct oci_digest *d);
/* size of the stored blob, or -1 */
OCI_EXPORT int64_t oci_layout_blob_size(struct oci_layout *l, const struct oci_digest *d);

#endif
