/* Changing an OCI layout directory, crash-safely: blobs are written to a
 * temporary file, fsynced and renamed to their digest; index.json is
 * replaced last, by rename, under an flock so concurrent writers all land. */
#ifndef OCI_LAYOUT_WRITE_H
#define OCI_LAYOUT_WRITE_H

#include <oci/layout.h>

/* Open (creating when missing: directory, oci-layout, blobs/sha256,
 * index.json) a layout directory for writing; returns its fd. */
OCI_EXPORT int oci_layout_create(const char *path, int *dirfd, struct oci_error **err);
/* A temporary blob file in blobs/sha256; commit it under its digest. */
OCI_EXPORT int oci_blob_tmp_open(int dirfd, int *fd, char **name, struct oci_error **err);
OCI_EXPORT int oci_blob_tmp_commit(int dirfd, int fd, const char *name, const struct oci_digest *d,
				   struct oci_error **err);
OCI_EXPORT void oci_blob_tmp_abort(int dirfd, int fd, const char *name);
/* write a small blob (a document) and give its digest */
OCI_EXPORT int oci_blob_put(int dirfd, const void *buf, size_t len, struct oci_digest *out,
			    struct oci_error **err);
/* make sure dst has the blob of d from src (hard link when it can, copy and
 * verify otherwise) */
OCI_EXPORT int oci_blob_copy(struct oci_layout *src, const struct oci_descriptor *d, int dst_fd,
			     struct oci_error **err);
/* One change to index.json's refs: point ref at *desc (moving it when it
 * exists), or, desc NULL, remove it. */
struct oci_ref_edit {
	const char *ref;
	const struct oci_descriptor *desc;
};
/* Apply edits in order, all in one update of index.json under the layout's
 * lock (.index.lock), replaced by rename: a failure or a crash leaves all or
 * none. Refs not named are kept. A set writes the descriptor with its
 * platform; a missing index.json is created for sets only. Removing a ref
 * that is not there fails OCI_E_NOTFOUND and changes nothing. The ref
 * grammar is the caller's to check (oci_ref_name_valid). */
OCI_EXPORT int oci_layout_edit_refs(int dirfd, const struct oci_ref_edit *edits, size_t n,
				    struct oci_error **err);
/* Point ref at d in index.json: oci_layout_edit_refs with one set. */
OCI_EXPORT int oci_layout_set_ref(int dirfd, const char *ref, const struct oci_descriptor *d,
				  struct oci_error **err);

#endif
