/* A layout directory's own files, opened one way by every reader and writer:
 * resolved beneath the layout's directory fd (a symlink may point inside the
 * layout, never out of it; no magic links), opened O_NONBLOCK and checked by
 * fstat before any byte is read, so that a FIFO, a device or a socket planted
 * in a layout is refused instead of waited on. New files get fresh names,
 * made O_CREAT|O_EXCL|O_NOFOLLOW, so that nothing planted is written through. */
#ifndef OCI_LAYOUTFS_H
#define OCI_LAYOUTFS_H

#include <stdbool.h>
#include <sys/stat.h>
#include "internal.h"

/* what a file type is called in errors: "FIFO", "symbolic link", ... */
HIDDEN const char *layoutfs_type_name(mode_t mode);
/* Open name (relative to the layout at rootfd, no "..") for reading: a
 * regular file, or with dir a directory; st gets its fstat when not NULL.
 * Errors name the file: OCI_E_NOTFOUND when it is missing, OCI_E_INVALID
 * when it is not what it claims ("index.json: not a regular file (FIFO)",
 * "blobs/sha256: symbolic link out of the layout"), OCI_E_IO otherwise. */
HIDDEN int layoutfs_open(int rootfd, const char *name, bool dir, struct stat *st,
			 struct oci_error **err);
/* blobs/ALGO as a directory fd; with create, blobs/ and blobs/ALGO are made
 * when missing (each relative to its parent's fd). */
HIDDEN int layoutfs_blob_dir(int rootfd, const char *algo, bool create, struct oci_error **err);
/* A new file in dirfd named prefix + six random characters (never an
 * existing name, never through a symlink); *name gets the name. */
HIDDEN int layoutfs_create_tmp(int dirfd, const char *prefix, mode_t mode, char **name,
			       struct oci_error **err);
/* name in dirfd replaced by buf: a fresh temporary, fsync, rename */
HIDDEN int layoutfs_replace(int dirfd, const char *name, const void *buf, size_t len,
			    struct oci_error **err);
/* the layout's lock file (.index.lock), held exclusively; returns its fd */
HIDDEN int layoutfs_lock(int rootfd, struct oci_error **err);
/* The names in the directory dirfd but "." and "..", read through an open
 * file description of its own (the held fd's offset never moves); free each,
 * then the array. NULL (errno set) when it cannot be read. */
HIDDEN char **layoutfs_list(int dirfd, size_t *count);
/* Tests: resolve as if the kernel lacked openat2 (on false) or as usual. */
HIDDEN void layoutfs_set_openat2(bool on);

#endif
