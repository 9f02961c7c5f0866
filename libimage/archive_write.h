/* Writing an image archive (oci-archive or docker-archive) as one tar
 * stream: blobs as blobs/ALGO/HEX members, written once each, then the
 * small top-level files. The archive gets its name only when whole. */
#ifndef OCI_ARCHIVE_WRITE_H
#define OCI_ARCHIVE_WRITE_H

#include "internal.h"

struct archive_out;

/* path "-": standard output (refused on a terminal). Otherwise a temporary
 * file next to path, renamed over it by archive_out_commit; an existing path
 * that is not a regular file (a symlink, a FIFO, a directory) is refused. */
HIDDEN int archive_out_open(const char *path, struct archive_out **out, struct oci_error **err);
/* has the blob been written already? */
HIDDEN bool archive_out_has(const struct archive_out *a, const struct oci_digest *d);
/* a blob of known size, its bytes given by archive_out_data */
HIDDEN int archive_out_blob_begin(struct archive_out *a, const struct oci_digest *d, int64_t size,
				  struct oci_error **err);
HIDDEN int archive_out_data(struct archive_out *a, const void *buf, size_t len,
			    struct oci_error **err);
/* checks that exactly the announced size was given */
HIDDEN int archive_out_blob_end(struct archive_out *a, struct oci_error **err);
/* A blob whose name is known but whose size is not until its end (a layer
 * inflated as it is written): its header is written with size 0 and
 * rewritten in place at the end. Only when the archive can seek (not
 * standard output): archive_out_can_patch(). */
HIDDEN bool archive_out_can_patch(const struct archive_out *a);
HIDDEN int archive_out_blob_begin_unsized(struct archive_out *a, const struct oci_digest *d,
					  struct oci_error **err);
HIDDEN int archive_out_blob_end_unsized(struct archive_out *a, struct oci_error **err);
/* a small blob from memory; *out gets its sha256 digest */
HIDDEN int archive_out_blob_mem(struct archive_out *a, const void *buf, size_t len,
				struct oci_digest *out, struct oci_error **err);
/* a top-level file (index.json, oci-layout, manifest.json) */
HIDDEN int archive_out_file(struct archive_out *a, const char *name, const void *buf, size_t len,
			    struct oci_error **err);
/* the end of the tar, fsync, rename into place */
HIDDEN int archive_out_commit(struct archive_out *a, struct oci_error **err);
/* drop everything written (the temporary file) and free; NULL is a no-op */
HIDDEN void archive_out_free(struct archive_out *a);
/* bytes written so far */
HIDDEN int64_t archive_out_bytes(const struct archive_out *a);

#endif
