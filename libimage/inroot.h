/* Resolving paths inside a root directory through directory fds: openat2
 * with RESOLVE_IN_ROOT (a component-by-component O_NOFOLLOW walk where the
 * kernel lacks it). Never by joining strings. */
#ifndef OCI_INROOT_H
#define OCI_INROOT_H

#include <stdbool.h>
#include "internal.h"

/* Open path (cleaned, relative) inside rootfd; flags as for openat. */
HIDDEN int inroot_open(int rootfd, const char *path, int flags, struct oci_error **err);
/* Open the parent directory of path as O_PATH|O_DIRECTORY; *base points
 * at the last component inside path. With create, missing parents are
 * made (mode 0755) inside the root. Returns the fd or a negative status. */
HIDDEN int inroot_parent(int rootfd, const char *path, bool create, const char **base,
			 struct oci_error **err);
/* Remove name in dirfd, recursively when it is a directory, never
 * following symlinks. keep(arg, relpath) may spare entries (and their
 * parents); relpath is prefix + "/" + name. */
typedef bool (*inroot_keep_fn)(void *arg, const char *path);
HIDDEN int inroot_remove(int dirfd, const char *name, const char *path, inroot_keep_fn keep,
			 void *arg, struct oci_error **err);
/* The names in d but "." and "..", read before anything is removed
 * (removing while iterating may skip entries); free each, then the array. */
HIDDEN char **inroot_dir_names(DIR *d, size_t *count);
/* Read a small file inside the root (e.g. etc/passwd), bounded by max. */
HIDDEN int inroot_read_file(int rootfd, const char *path, size_t max, char **buf, size_t *len,
			    struct oci_error **err);

#endif
