/* Copying images between layouts and archives: every blob verified as it
 * streams, media types converted to what the destination holds (OCI in
 * layouts and oci-archives, Docker in docker-archives), layers recompressed
 * on request; refs added, moved (a tag) or removed under the layout lock. */
#ifndef OCI_COPY_H
#define OCI_COPY_H

#include <stdbool.h>
#include <stdint.h>
#include <oci/image.h>

enum oci_copy_format {
	OCI_COPY_AUTO = 0,
	OCI_COPY_LAYOUT,
	OCI_COPY_OCI_ARCHIVE,
	OCI_COPY_DOCKER_ARCHIVE,
};

/* progress: the blob's number among those seen so far, bytes of it done and
 * its size, and the bytes of all blobs read so far */
typedef void (*oci_copy_progress_fn)(void *arg, size_t blob, int64_t done, int64_t total,
				     int64_t all);

struct oci_copy_opts {
	const char *const *srcs; /* IMAGE specs */
	size_t n_srcs;
	const char *dest; /* DIR[:REF], FILE[:REF], or "-" */
	enum oci_copy_format format;
	bool all;			     /* every ref of each source */
	const struct oci_platform *platform; /* keep only this platform (NULL: all) */
	int compression;		     /* OCI_COMPRESS_*, or -1 to keep */
	int level;			     /* 0: the compressor's default */
	oci_copy_progress_fn progress;
	void *progress_arg;
};

struct oci_copy_image {
	char *src;		      /* the source as named */
	char *ref;		      /* the ref in the destination, or NULL */
	struct oci_digest src_digest; /* what was copied */
	struct oci_digest digest;     /* what the destination holds */
	char *media_type;
	bool converted; /* new documents were written for it */
};

struct oci_copy_result {
	enum oci_copy_format format; /* the destination's, as decided */
	bool tag_only;		     /* a tag in the same layout: nothing copied */
	struct oci_copy_image *images;
	size_t n_images;
	size_t blobs_copied, blobs_skipped, layers_recompressed, documents_rewritten;
	int64_t bytes_copied;
	char **notes; /* what was changed that the user did not ask for */
	size_t n_notes;
};

OCI_EXPORT int oci_copy(const struct oci_copy_opts *o, struct oci_copy_result *res,
			struct oci_error **err);
OCI_EXPORT void oci_copy_result_release(struct oci_copy_result *res);
/* Remove REF from the layout DIR named by spec "DIR:REF" (blobs stay). */
OCI_EXPORT int oci_copy_delete_ref(const char *spec, struct oci_error **err);
/* Does ref follow the image-spec's grammar for org.opencontainers.image.ref.name?
 * component ("/" component)*, component = alphanum (separator alphanum)*,
 * separator = [-._:@+] or "--". */
OCI_EXPORT bool oci_ref_name_valid(const char *ref);
/* the format a destination path gets when none is asked for */
OCI_EXPORT enum oci_copy_format oci_copy_guess_format(const char *path);

#endif
