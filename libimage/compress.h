/* Streaming decompression behind one interface: gzip (ISA-L when built
 * with it, zlib otherwise; multi-member streams) and zstd (multi-frame). */
#ifndef OCI_COMPRESS_H
#define OCI_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "internal.h"

struct decoder;

HIDDEN struct decoder *decoder_new(int compression);
/* Consume input and produce output, advancing both pointers and lengths.
 * Returns 0, or a negative status with err set. */
HIDDEN int decoder_run(struct decoder *d, const uint8_t **in, size_t *in_len, uint8_t **out,
		       size_t *out_len, struct oci_error **err);
/* true when the input so far ends exactly at the end of a complete stream */
HIDDEN bool decoder_at_end(const struct decoder *d);
HIDDEN void decoder_free(struct decoder *d);
/* detect from magic bytes: OCI_COMPRESS_* */
HIDDEN int compress_sniff(const uint8_t *buf, size_t len);

/* Streaming compression: output goes to sink as it is made. */
typedef int (*encoder_sink_fn)(void *arg, const void *buf, size_t len, struct oci_error **err);
struct encoder;
HIDDEN struct encoder *encoder_new(int compression, int level, encoder_sink_fn sink, void *arg);
HIDDEN int encoder_write(struct encoder *e, const void *buf, size_t len, struct oci_error **err);
HIDDEN int encoder_finish(struct encoder *e, struct oci_error **err);
HIDDEN void encoder_free(struct encoder *e);
/* zstd only, before the first write: long-distance matching over a 64 MiB
 * window (oci-copy's recompression: blobs about 7% smaller for 10% more
 * time; every decoder takes the window, the default limit being 128 MiB) */
HIDDEN void encoder_long_window(struct encoder *e);

#endif
