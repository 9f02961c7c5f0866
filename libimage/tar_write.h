/* Writing tar streams: ustar headers, with a pax extended header only for
 * the entries that need one (see tar_write.c for the rules). */
#ifndef OCI_TAR_WRITE_H
#define OCI_TAR_WRITE_H
#include <archive_entry.h>
#include "internal.h"

typedef int (*tar_sink_fn)(void *arg, const void *buf, size_t len, struct oci_error **err);

struct tar_writer;
HIDDEN struct tar_writer *tar_writer_new(tar_sink_fn sink, void *arg);
/* name, type, mode, owner, size, mtime (whole seconds), link target,
 * device numbers and xattrs are taken from ae; user and group names never */
HIDDEN int tar_write_header(struct tar_writer *w, struct archive_entry *ae, struct oci_error **err);
HIDDEN int tar_write_data(struct tar_writer *w, const void *buf, size_t len,
			  struct oci_error **err);
/* the last entry's padding and the two zero blocks that end the archive */
HIDDEN int tar_writer_finish(struct tar_writer *w, struct oci_error **err);
HIDDEN void tar_writer_free(struct tar_writer *w);
/* hand everything buffered to the sink (a caller that writes some bytes
 * itself, between whole entries) */
HIDDEN int tar_writer_flush(struct tar_writer *w, struct oci_error **err);
/* does this entry get a pax extended header? (for tests and docs) */
HIDDEN bool tar_needs_pax(struct archive_entry *ae);

#endif
