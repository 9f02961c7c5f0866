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
/* Best effort, for a scratch or half-made tree nobody wants: remove the
 * tree at host path (through its parent directory, so a symlink there is
 * unlinked, not followed); errors are ignored. */
HIDDEN void inroot_remove_path(const char *path);
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

/* One directory of a walk: its names, read when it is entered. */
struct inroot_frame {
	char **names;
	size_t n, i;
	int fd; /* -1 while deeper frames hold theirs (INROOT_WALK_FDS) */
	struct stat st;
	const char *name; /* in its parent: the parent frame's names[i - 1] */
	size_t plen;	  /* its path's length in the walk's path */
	bool kept;	  /* for the walker: inroot_remove's "something below spared" */
};
/* A depth-first walk's stack, on the heap; start it zeroed. */
struct inroot_walk {
	struct inroot_frame *v;
	size_t depth, cap;
	struct inroot_path path; /* of the entry being looked at */
};
/* Enter directory fd (the walk's to close from now on, even on failure),
 * named name in the frame above, its path the walk's path as it is now:
 * read its names; the frame above gives up its fd past INROOT_WALK_FDS.
 * -1 with errno when the names cannot be read. */
HIDDEN int inroot_walk_push(struct inroot_walk *w, int fd, const struct stat *st, const char *name);
/* the fd of the directory above the top frame, reopened through ".." (and
 * checked to be the same directory) when it was given up; -1 with errno */
HIDDEN int inroot_walk_parent_fd(struct inroot_walk *w);
/* leave the top frame: its fd closed, its names freed */
HIDDEN void inroot_walk_pop(struct inroot_walk *w);
/* leave every frame, free the stack and the path */
HIDDEN void inroot_walk_free(struct inroot_walk *w);

/* Read a small file inside the root (e.g. etc/passwd), bounded by max. */
HIDDEN int inroot_read_file(int rootfd, const char *path, size_t max, char **buf, size_t *len,
			    struct oci_error **err);

#endif
