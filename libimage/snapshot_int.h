/* Walking a directory tree into a snapshot, shared by unpack (which adds
 * what it remembers) and diff (which hashes lazily). */
#ifndef OCI_SNAPSHOT_INT_H
#define OCI_SNAPSHOT_INT_H

#include <sys/stat.h>
#include "internal.h"

/* Called for every entry after its stat (directories after their
 * children, with self_fd their open fd; -1 otherwise). It may change the
 * entry (and *st, after a change on disk). */
typedef int (*snapshot_visit_fn)(void *arg, struct oci_snap_entry *e, int dfd, const char *name,
				 int self_fd, struct stat *st, struct oci_error **err);

HIDDEN int snapshot_walk(int rootfd, snapshot_visit_fn visit, void *arg, struct oci_snapshot *s,
			 struct oci_error **err);
HIDDEN void snapshot_fill_stat(struct oci_snap_entry *e, const struct stat *st);
HIDDEN int snapshot_hash_file(int dfd, const char *name, const char *path, struct oci_digest *out,
			      struct oci_error **err);
/* "name=hex;..." sorted by name, or NULL when none; for regular files and directories */
HIDDEN int snapshot_read_xattrs(int dfd, const char *name, mode_t mode, char **out,
				struct oci_error **err);

/* e->xattrs from disk when not known yet ("" when none), resolved in the root */
HIDDEN int snapshot_entry_xattrs(int rootfd, struct oci_snap_entry *e, struct oci_error **err);

/* Every entry of s made whole from the tree at rootfd: the content digests
 * and xattrs that a lazy walk left out, so that a record written from it
 * describes the tree as it is now. */
HIDDEN int snapshot_complete(int rootfd, struct oci_snapshot *s, struct oci_error **err);

/* a changeset of two trees known only by their snapshots (owned by it) */
struct oci_diff_opts;
struct oci_changeset;
HIDDEN int changeset_from_snapshots(struct oci_snapshot *a, struct oci_snapshot *b,
				    const struct oci_diff_opts *o, struct oci_changeset **out,
				    struct oci_error **err);

#endif
