/* Reading a layer as a stream of tar entries: the blob is hashed as read,
 * decompressed (gzip, zstd or none), the tar hashed again for its diff_id,
 * and both checked when the stream ends. libarchive sees only tar. */
#ifndef OCI_LAYER_H
#define OCI_LAYER_H

#include <sys/types.h>
#include <archive.h>
#include <archive_entry.h>
#include <oci/layout.h>

struct oci_layer_reader;

/* diff_id may be NULL (then only the blob digest is checked) */
OCI_EXPORT int oci_layer_open(struct oci_layout *l, const struct oci_descriptor *layer,
			      const struct oci_digest *diff_id, struct oci_layer_reader **out,
			      struct oci_error **err);
/* Where the tar is hashed for its diff_id: by default on the thread that
 * inflates (the caller's thread has the entries to apply); a caller that
 * only reads headers (verify, listings) takes the hashing itself. */
#define OCI_LAYER_HASH_IN_CALLER 1
OCI_EXPORT int oci_layer_open_flags(struct oci_layout *l, const struct oci_descriptor *layer,
				    const struct oci_digest *diff_id, int flags,
				    struct oci_layer_reader **out, struct oci_error **err);
/* 1 and *entry set; 0 at the end of the tar (everything verified); <0 error */
OCI_EXPORT int oci_layer_next(struct oci_layer_reader *r, struct archive_entry **entry,
			      struct oci_error **err);
OCI_EXPORT ssize_t oci_layer_read_data(struct oci_layer_reader *r, void *buf, size_t len,
				       struct oci_error **err);
/* the next block of the current entry's data: 1 with buf/len/offset set
 * (offsets jump over holes of sparse files), 0 at its end, <0 error */
OCI_EXPORT int oci_layer_read_block(struct oci_layer_reader *r, const void **buf, size_t *len,
				    int64_t *offset, struct oci_error **err);
/* compressed bytes consumed so far, for progress */
OCI_EXPORT int64_t oci_layer_bytes_read(const struct oci_layer_reader *r);
/* drain the rest of the blob and check digest and diff_id */
OCI_EXPORT int oci_layer_finish(struct oci_layer_reader *r, struct oci_error **err);
OCI_EXPORT void oci_layer_free(struct oci_layer_reader *r);

/* an entry's xattrs as the snapshot keeps them: "name=hex;name=hex" sorted by
 * name, or NULL when it has none */
OCI_EXPORT char *oci_layer_entry_xattrs(struct archive_entry *e);

enum oci_whiteout {
	OCI_WHITEOUT_NONE = 0,
	OCI_WHITEOUT_FILE,    /* .wh.NAME */
	OCI_WHITEOUT_OPAQUE,  /* .wh..wh..opq */
	OCI_WHITEOUT_INVALID, /* a reserved .wh. name that is neither */
};
/* classify a (cleaned) path; *target gets the hidden name's path (malloc'd) */
OCI_EXPORT enum oci_whiteout oci_whiteout_parse(const char *path, char **target);

/* Normalise an entry name: strip leading "/" and "./", collapse "//" and ".",
 * resolve ".." lexically without going above the root. Returns malloc'd ""
 * for the root itself. */
OCI_EXPORT char *oci_path_clean(const char *name);

#endif
