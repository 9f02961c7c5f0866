/* What every file of the library shares and nothing outside it sees:
 * allocation that aborts on OOM, scoped cleanup, and error construction. */
#ifndef OCI_INTERNAL_H
#define OCI_INTERNAL_H

#include <dirent.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <oci/oci.h>
#include "oci-config.h"

#define HIDDEN __attribute__((visibility("hidden")))

HIDDEN void *xmalloc(size_t n);
HIDDEN void *xcalloc(size_t n, size_t m);
HIDDEN void *xrealloc(void *p, size_t n);
/* a hash begun again with its algorithm (after a final); the raw bytes of
 * a final (32 for sha256, 64 for sha512): the number given */
struct oci_hash;
HIDDEN void oci_hash_reset(struct oci_hash *h);
HIDDEN size_t oci_hash_final_raw(struct oci_hash *h, unsigned char out[64]);
HIDDEN char *xstrdup(const char *s);
HIDDEN char *xstrndup(const char *s, size_t n);
HIDDEN char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}
static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void cleanup_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void cleanup_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
#define cleanup_free	 __attribute__((cleanup(cleanup_freep)))
#define cleanup_close	 __attribute__((cleanup(cleanup_closep)))
#define cleanup_fclose	 __attribute__((cleanup(cleanup_fclosep)))
#define cleanup_closedir __attribute__((cleanup(cleanup_closedirp)))

/* Set *err (when err is not NULL) and return st. errnum != 0 appends strerror. */
HIDDEN int error_set(struct oci_error **err, enum oci_status st, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prefix the message of *err with context ("ctx: old"); returns its status. */
HIDDEN int error_wrap(struct oci_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* status of *err, or fallback when err is NULL or empty */
HIDDEN int error_status(struct oci_error **err, int fallback);

/* has the caller's cancel flag been raised? */
HIDDEN bool oci_cancelled(void);

/* read exactly len bytes at off (short only at EOF); -1 on error */
HIDDEN ssize_t read_full_at(int fd, void *buf, size_t len, off_t off);
HIDDEN ssize_t read_full(int fd, void *buf, size_t len);
/* all of buf, or -1 with errno naming why: a short write (a full disk)
 * is retried, so the errno is the kernel's, never a stale one */
HIDDEN int write_full(int fd, const void *buf, size_t len);
/* An anonymous read-write temporary file in $TMPDIR (fallback_dir when
 * unset), gone as soon as it is closed, whatever happens; tag names the
 * short-lived file made where O_TMPFILE is not supported. */
HIDDEN int tmpfile_anon(const char *fallback_dir, const char *tag, struct oci_error **err);

#endif
