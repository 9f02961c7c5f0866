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
/* May a directory be visited only after its children (its visit would
 * take away what the walk needs to read it)? */
typedef bool (*snapshot_defer_fn)(void *arg, const struct oci_snap_entry *e, const struct stat *st);
/* The record of the tree at rootfd (head gives source, manifest, config
 * and rootless) written to dirfd/name as the tree is walked, whole or not
 * at all, with every check oci_snapshot_write makes: memory for a
 * directory's names per level, not for every entry. Entries are visited
 * in the record's order, each directory before its children unless defer
 * says otherwise; visit may change the entry as with snapshot_walk. */
HIDDEN int snapshot_walk_write(int rootfd, snapshot_visit_fn visit, snapshot_defer_fn defer,
			       void *arg, const struct oci_snapshot *head, int dirfd,
			       const char *name, struct oci_error **err);
HIDDEN void snapshot_fill_stat(struct oci_snap_entry *e, const struct stat *st);
/* A copy of the n bytes at p (and a NUL) among s's packed paths
 * (s->paths): for e->path of an entry of s, whose other paths are packed
 * too. Freed with s. */
HIDDEN char *snapshot_path_dup(struct oci_snapshot *s, const char *p, size_t n);
/* The sha256 of the content of the regular file e (its e->size bytes), at
 * name in dfd. Fails, never blocks, when name is no longer e's inode or
 * not a regular file; holes are hashed as blocks of zeros; stops when
 * oci_cancelled(). */
HIDDEN int snapshot_hash_file(int dfd, const char *name, const struct oci_snap_entry *e,
			      struct oci_snap_digest *out, struct oci_error **err);
/* Open name in dfd for its content: O_NONBLOCK (a FIFO swapped in cannot
 * hang the open), then snapshot_content_fd; the fd is blocking again. */
HIDDEN int snapshot_open_content(int dfd, const char *name, const struct oci_snap_entry *expect,
				 const char *path, struct oci_error **err);
/* fd (opened O_NONBLOCK) must be a regular file and, with expect, the
 * inode expect was made from; clears O_NONBLOCK */
HIDDEN int snapshot_content_fd(int fd, const struct oci_snap_entry *expect, const char *path,
			       struct oci_error **err);
/* Feed size bytes of fd's content to sink, holes (SEEK_DATA/SEEK_HOLE) as
 * a static block of zeros, checking oci_cancelled() between blocks. */
typedef int (*snapshot_sink_fn)(void *arg, const void *buf, size_t len, struct oci_error **err);
HIDDEN int snapshot_read_content(int fd, int64_t size, const char *path, snapshot_sink_fn sink,
				 void *arg, struct oci_error **err);

/* The xattrs string of struct oci_snap_entry from name/value pairs: sorted
 * by name, a name given twice once (its last value), empty names dropped,
 * names escaped. NULL when nothing is left. */
struct snapshot_xattr {
	const char *name;
	const void *val;
	size_t len;
};
HIDDEN char *snapshot_xattrs_encode(const struct snapshot_xattr *v, size_t n);
/* is s a non-empty xattrs string in the one form the encoder gives? */
HIDDEN bool snapshot_xattrs_valid(const char *s);

/* The record file in memory (docs/record.md). format checks every entry
 * and refuses a snapshot it could not read back; parse reads only the
 * canonical form (what format writes), setting *line and *why on failure. */
HIDDEN int snapshot_format(const struct oci_snapshot *s, char **out, size_t *len,
			   struct oci_error **err);
HIDDEN int snapshot_parse(const char *buf, size_t n, struct oci_snapshot **out, size_t *line,
			  const char **why);
/* how much oci_snapshot_load reads at a time (1 MiB); the fuzzer makes it
 * a few bytes, so that lines straddle reads and the buffer grows */
HIDDEN extern size_t snapshot_load_chunk;
/* "name=hex;..." sorted by name, or NULL when none; for regular files and directories */
HIDDEN int snapshot_read_xattrs(int dfd, const char *name, mode_t mode, char **out,
				struct oci_error **err);

/* e->xattrs of an entry known to have none: oci_snapshot_free does not
 * free it (a malloc'd "" is fine too) */
HIDDEN extern char snapshot_no_xattrs[1];

/* e->xattrs from disk when not known yet (snapshot_no_xattrs when none),
 * resolved in the root */
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
