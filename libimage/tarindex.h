/* A table of the regular members of a tar file and their data offsets, so
 * that an archive is read in place instead of extracted. */
#ifndef OCI_TARINDEX_H
#define OCI_TARINDEX_H

#include <stdint.h>
#include <sys/types.h>
#include "internal.h"

struct tar_member {
	char *name; /* cleaned: no leading "./" or "/" */
	off_t off;  /* of the data, from the start of the file */
	int64_t size;
	size_t seq; /* order in the archive: the later of two names wins */
};

/* a link member that ends at no readable member, and why */
struct tar_refused {
	char *name;
	const char *why;
};

struct tar_index {
	struct tar_member *m;
	size_t n;
	struct tar_refused *bad;
	size_t n_bad;
};

/* Index the tar in fd from base. Members are sorted by name; a later member
 * of the same name replaces an earlier one. Hard links alias the earlier
 * member they name; symlinks alias the member their target names, taken
 * relative to their directory, never out of the archive, through at most 16
 * links. Links that end nowhere are left out and listed as refused. */
HIDDEN int tar_index_build(int fd, off_t base, struct tar_index *out, struct oci_error **err);
/* Same, over a memory buffer (for the fuzzer). */
HIDDEN int tar_index_build_mem(const uint8_t *buf, size_t len, struct tar_index *out,
			       struct oci_error **err);
HIDDEN const struct tar_member *tar_index_find(const struct tar_index *t, const char *name);
/* why NAME, a link member, is not in the table; NULL when it is no such */
HIDDEN const char *tar_index_refused(const struct tar_index *t, const char *name);
HIDDEN void tar_index_release(struct tar_index *t);

#endif
