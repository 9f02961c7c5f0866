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

/* The content digest of an entry, kept small: a snapshot holds one per
 * entry, and a million entries would pay 140 MB for struct oci_digest.
 * sha256 (every digest the tools make) is its 32 raw bytes; any other
 * algorithm is a struct oci_digest on the heap whose pointer is stored in
 * raw. 33 bytes, byte-aligned. Use only the oci_snap_digest_* functions. */
struct oci_snap_digest {
	uint8_t algo;	 /* enum oci_digest_algo; NONE: no digest */
	uint8_t raw[32]; /* sha256: the digest; otherwise the heap copy's address */
};

/* 120 bytes (docs/design.md): pointers, then 64-bit, then 32-bit fields,
 * then the byte-aligned digest, so no padding but the tail's. */
struct oci_snap_entry {
	char *path;   /* relative, cleaned; "" is the root (see oci_snapshot.paths) */
	char *link;   /* symlink target, or NULL */
	char *xattrs; /* "name=hex;name=hex" sorted, names escaped (see
		       * oci_snapshot_xattr_next), or NULL */
	int64_t size;
	int64_t mtime_ns, ctime_ns;
	uint64_t ino;
	uint64_t rdev;
	uint32_t mode; /* st_mode: type and permission bits */
	uint32_t uid, gid;
	uint32_t nlink;
	uint32_t flags;
	struct oci_snap_digest digest; /* regular files; algo NONE otherwise */
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
	/* When not NULL, every e->path is a string in these blocks (one malloc
	 * per 64 KiB, not one per path): never free or replace one alone.
	 * When NULL, each e->path is its own malloc. */
	struct snap_block *paths;
};

/* d set to a copy of from (algo NONE: no digest); what d held is freed */
OCI_EXPORT void oci_snap_digest_set(struct oci_snap_digest *d, const struct oci_digest *from);
/* false (and out->algo NONE) when d holds no digest */
OCI_EXPORT bool oci_snap_digest_get(const struct oci_snap_digest *d, struct oci_digest *out);
OCI_EXPORT bool oci_snap_digest_equal(const struct oci_snap_digest *a,
				      const struct oci_snap_digest *b);
OCI_EXPORT void oci_snap_digest_copy(struct oci_snap_digest *to,
				     const struct oci_snap_digest *from);
/* frees what d holds; d then holds no digest */
OCI_EXPORT void oci_snap_digest_clear(struct oci_snap_digest *d);

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
