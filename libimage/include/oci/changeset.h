/* Changesets: what differs between two trees (a bundle and its unpack
 * record, two directories), and the changeset written as an OCI layer. */
#ifndef OCI_CHANGESET_H
#define OCI_CHANGESET_H

#include <stdbool.h>
#include <oci/snapshot.h>

enum oci_change_kind {
	OCI_CHANGE_ADDED = 'A',
	OCI_CHANGE_CHANGED = 'C',
	OCI_CHANGE_DELETED = 'D',
};

/* what differs in a change */
enum {
	OCI_FIELD_TYPE = 1 << 0,
	OCI_FIELD_MODE = 1 << 1,
	OCI_FIELD_OWNER = 1 << 2,
	OCI_FIELD_SIZE = 1 << 3,
	OCI_FIELD_CONTENT = 1 << 4,
	OCI_FIELD_MTIME = 1 << 5,
	OCI_FIELD_LINK = 1 << 6,
	OCI_FIELD_XATTRS = 1 << 7,
	OCI_FIELD_DEVICE = 1 << 8,
	OCI_FIELD_REPLACED =
	    1 << 9, /* a directory deleted and made again (whiteouts of what it lost) */
};

struct oci_change {
	char kind;
	unsigned fields;
	struct oci_snap_entry *before; /* NULL when added */
	struct oci_snap_entry *after;  /* NULL when deleted */
};

struct oci_changeset {
	size_t n;
	struct oci_change *c; /* sorted by path; a deleted directory's contents are not listed */
	struct oci_snapshot *before, *after;
	int before_fd, after_fd; /* roots of the trees on disk, or -1 */
	bool ignore_owner;	 /* rootless record: owners on disk are not the image's */
};

struct oci_diff_opts {
	bool ignore_mtime;
};

/* a bundle made by oci-unpack against its record */
OCI_EXPORT int oci_changeset_bundle(const char *bundle, const struct oci_diff_opts *o,
				    struct oci_changeset **out, struct oci_error **err);
/* directory a (before) against directory b (after) */
OCI_EXPORT int oci_changeset_dirs(const char *a, const char *b, const struct oci_diff_opts *o,
				  struct oci_changeset **out, struct oci_error **err);
OCI_EXPORT void oci_changeset_free(struct oci_changeset *cs);
OCI_EXPORT const char *oci_change_field_name(unsigned field);

/* Writing a changeset (or a whole tree) as a layer */
struct oci_layer_write_opts {
	int compression;     /* OCI_COMPRESS_* */
	int level;	     /* 0 = the compressor's default */
	int64_t clamp_mtime; /* >= 0: no entry's mtime later than this (seconds) */
};

struct oci_layer_result {
	struct oci_digest digest;  /* of the written (compressed) bytes */
	struct oci_digest diff_id; /* of the tar */
	int64_t size;
	size_t entries;
	size_t skipped;		 /* sockets: not kept in layers, as tar does */
	char skipped_first[256]; /* the first of them, for a message */
};

/* the changeset as a layer tar: parents included, whiteouts for deletions,
 * opaque whiteouts for replaced directories, hardlinks kept, sorted */
OCI_EXPORT int oci_changeset_write_layer(struct oci_changeset *cs, int out_fd,
					 const struct oci_layer_write_opts *o,
					 struct oci_layer_result *res, struct oci_error **err);
/* the whole tree of dirfd as a layer tar (a squash, or a scratch image) */
OCI_EXPORT int oci_tree_write_layer(int dirfd, const struct oci_layer_write_opts *o, int out_fd,
				    struct oci_layer_result *res, struct oci_error **err);

#endif
