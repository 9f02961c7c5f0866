/* The inside of struct oci_layout, shared by layout.c, blob.c and docker.c. */
#ifndef OCI_LAYOUT_INT_H
#define OCI_LAYOUT_INT_H

#include "internal.h"
#include "pathmap.h"
#include "tarindex.h"

/* A blob that is not at blobs/ALGO/HEX: a docker-save member or a document
 * we built in memory. */
struct vblob {
	struct oci_digest digest;
	const char *member; /* tar member name, or NULL */
	char *mem;	    /* in-memory bytes, or NULL */
	size_t mem_len;
};

struct oci_layout {
	enum oci_layout_kind kind;
	char *path;
	int dirfd; /* OCI_LAYOUT_DIR: the layout directory */
	/* OCI_LAYOUT_DIR: blobs/sha256 and blobs/sha512 (-1 when missing), checked
	 * when the layout is opened and held: listed and changed through these */
	int blob_dirfd[2];
	char *unsafe; /* the first of its own files found not to be what it claims */
	int fd;	      /* archives: the (decompressed) tar */
	off_t base;   /* archives: where the tar starts in fd */
	int compression;
	struct tar_index tar;
	struct vblob *vblobs;
	size_t n_vblobs;
	struct pathmap vblob_at; /* digest -> 1 + index of its first vblob (keyed: see pathmap.c) */
	size_t n_vblob_at;	 /* how many vblobs the map has taken in */
	struct oci_index *index;
	int has_version;
	int flags;
	char *index_error;
	char **bad_entries; /* lenient: "REF<TAB>why" of index.json entries left out */
	size_t n_bad_entries;
};

/* Where a blob's bytes are: fd+off or memory; *size is the stored size. */
struct blob_loc {
	int fd;
	bool own_fd;
	off_t off;
	const char *mem;
	int64_t size;
};

HIDDEN int layout_locate(struct oci_layout *l, const struct oci_digest *d, struct blob_loc *loc,
			 struct oci_error **err);
HIDDEN int layout_read_member(struct oci_layout *l, const char *name, size_t max, char **buf,
			      size_t *len, struct oci_error **err);
/* a layout holding one blob: the file at path (commit reads a new layer back) */
HIDDEN int layout_open_single_blob(const char *path, const struct oci_descriptor *d,
				   struct oci_layout **out, struct oci_error **err);
/* The first of the layout's own files that a reader found to be unsafe (a
 * FIFO, a device, a symlink out of the layout), or NULL. A reader that takes
 * no error (oci_layout_blob_size) still records it here, so fsck fails with
 * it instead of calling the blob missing. */
HIDDEN const char *layout_unsafe(struct oci_layout *l);
/* For a name given by oci_layout_list_blobs (blobs/ALGO/NAME): the held
 * directory fd it is in, *base its last component; -1 when none. */
HIDDEN int layout_listed_dirfd(const struct oci_layout *l, const char *listed, const char **base);
/* A descriptor as index.json holds it: annotations ref.name = ref and
 * io.containerd.image.name = full (each when not NULL), platform when the
 * descriptor has one. */
HIDDEN cJSON *layout_desc_json(const struct oci_descriptor *d, const char *ref, const char *full);
HIDDEN int docker_archive_load(struct oci_layout *l, struct oci_error **err);

#endif
