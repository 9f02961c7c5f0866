/* The record of an unpacked root filesystem: for every path its type,
 * mode, owner, size, times (ns), inode, link target, device, xattrs and
 * content digest; written as a versioned, sorted text file that loads fast.
 * Format: docs/record.md. */
#ifndef OCI_SNAPSHOT_H
#define OCI_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <oci/digest.h>

#define OCI_SNAPSHOT_VERSION 2

enum oci_snap_flag {
	OCI_SNAP_VIRTUAL = 1, /* not on disk as recorded (rootless device node) */
};

struct oci_snap_entry {
	char *path;    /* relative, cleaned; "" is the root */
	uint32_t mode; /* st_mode: type and permission bits */
	uint32_t uid, gid;
	uint32_t nlink;
	int64_t size;
	int64_t mtime_ns, ctime_ns;
	uint64_t ino;
	uint64_t rdev;
	char *link;		  /* symlink target, or NULL */
	struct oci_digest digest; /* regular files; algo NONE otherwise */
	char *xattrs;		  /* "name=hex;name=hex" sorted, names escaped (see
				   * oci_snapshot_xattr_next), or NULL */
	uint32_t flags;
};

struct oci_snapshot {
	size_t n;
	struct oci_snap_entry *e; /* sorted by path (bytewise) */
	char *source;		  /* the image as named */
	struct oci_digest manifest;
	struct oci_digest config;
	bool rootless;
	/* A merged image's tree may carry its regular files' content in a spool
	 * (oci_image_merge_content): entry e's bytes are at content_off[e.ino]
	 * in content_fd; NULL and -1 otherwise. */
	int64_t *content_off;
	int content_fd;
};

OCI_EXPORT int oci_snapshot_write(const struct oci_snapshot *s, int dirfd, const char *name,
				  struct oci_error **err);
OCI_EXPORT int oci_snapshot_load(int dirfd, const char *name, struct oci_snapshot **out,
				 struct oci_error **err);
OCI_EXPORT const struct oci_snap_entry *oci_snapshot_find(const struct oci_snapshot *s,
							  const char *path);
/* The next item of an xattrs string: 1 with *name (unescaped, a C string)
 * and *value (*len bytes) newly allocated and *cursor moved past it; 0 at
 * the end; -1 when the string is malformed. Never split the string by hand:
 * a name may contain ";" and "=". */
OCI_EXPORT int oci_snapshot_xattr_next(const char **cursor, char **name, unsigned char **value,
				       size_t *len);
OCI_EXPORT void oci_snapshot_free(struct oci_snapshot *s);
OCI_EXPORT void oci_snapshot_sort(struct oci_snapshot *s);
/* stat data and link targets of a tree (no digests, no xattrs: diff reads them lazily) */
OCI_EXPORT int oci_snapshot_of_dir(int dirfd, struct oci_snapshot **out, struct oci_error **err);

#endif
