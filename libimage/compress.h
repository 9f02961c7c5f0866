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
/* Return from decoder_run as soon as a gzip member or zstd frame ends, so
 * that the caller sees every boundary (decoder_at_end) before the next. */
HIDDEN void decoder_stop_at_end(struct decoder *d);
/* Put a fresh decoder, or one at a boundary, in the state it would have
 * after a member/frame that ended just now (one decoded elsewhere). */
HIDDEN void decoder_mark_member_end(struct decoder *d);
/* detect from magic bytes: OCI_COMPRESS_* */
HIDDEN int compress_sniff(const uint8_t *buf, size_t len);

/* Members and frames inflated in parallel. The input comes from read, in
 * order (the blob's hash sees every byte once, in order). Where the stream
 * is made of independent pieces whose ends are known without inflating
 * (our gzip's "OT" size hint, BGZF's "BC", a gzip member header found
 * after the previous member's trailer, zstd frames walked block by block),
 * up to `threads` of them inflate at once on worker threads into their own
 * buffers; their bytes are handed on strictly in order, and only once the
 * piece before is known to end exactly where they start. Anything else
 * (one member, an unknown shape, a piece that does not decode cleanly) goes
 * through one serial decoder, which gives the errors and messages it always
 * has. Memory: a window of at most PDEC_WINDOW pieces of at most
 * PDEC_MAX_IN compressed and PDEC_MAX_OUT inflated bytes each. */
#define PDEC_MAX_IN  (2u << 20)
#define PDEC_MAX_OUT (4u << 20)
#define PDEC_WINDOW  6
/* read up to len bytes; 0 at the end; negative with err set */
typedef ssize_t (*pdecoder_read_fn)(void *arg, void *buf, size_t len, struct oci_error **err);
struct pdecoder;
/* threads <= 1: serial only, no thread is started */
HIDDEN struct pdecoder *pdecoder_new(int compression, int threads, pdecoder_read_fn read,
				     void *arg);
/* Fill out with up to cap bytes (fewer only at the end); *eof once the
 * stream ended complete and the input is all read. -1 with err set;
 * *decode_error when the data failed to inflate (not the read, not the end). */
HIDDEN int pdecoder_fill(struct pdecoder *p, uint8_t *out, size_t cap, size_t *made, bool *eof,
			 bool *decode_error, struct oci_error **err);
/* pieces inflated on workers and used, for tests and benchmarks */
HIDDEN uint64_t pdecoder_parallel_pieces(const struct pdecoder *p);
HIDDEN void pdecoder_free(struct pdecoder *p);
/* the thread count for a stream: the cores online, at most 8 */
HIDDEN int pdecoder_threads(void);

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
