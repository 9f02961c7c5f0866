/* Resolving paths inside a root directory through directory fds: openat2
 * with RESOLVE_IN_ROOT (a component-by-component O_NOFOLLOW walk where the
 * kernel lacks it). Never by joining strings. */
#ifndef OCI_INROOT_H
#define OCI_INROOT_H

#include <stdbool.h>
#include <sys/stat.h>
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
/* The names in directory fd but "." and "..", from a fresh open of it
 * (fd's own offset is left alone); -1 with errno on a read error. */
HIDDEN int inroot_read_names(int fd, char ***names, size_t *count);
HIDDEN void inroot_free_names(char **names, size_t n);

/* Tree walks keep their stack on the heap, never one C frame per level
 * (a 10,000-deep directory overflowed them), and hold at most this many
 * directory fds: a deeper frame's parent is closed and reopened through
 * "..", which must be the same directory (dev and inode) or the walk fails
 * with ESTALE. */
#define INROOT_WALK_FDS 64

/* A path that walks build in place: p[0..len) is the current path. */
struct inroot_path {
	char *p;
	size_t len, cap;
};
/* the path's first at bytes, then "/" (unless at is 0), then name */
HIDDEN void inroot_path_at(struct inroot_path *b, size_t at, const char *name);
/* the parent of directory fd, which must be the directory of *want */
HIDDEN int inroot_reopen_parent(int fd, const struct stat *want);

/* Read a small file inside the root (e.g. etc/passwd), bounded by max. */
HIDDEN int inroot_read_file(int rootfd, const char *path, size_t max, char **buf, size_t *len,
			    struct oci_error **err);

#endif
