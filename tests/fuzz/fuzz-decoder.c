/* Fuzz the streaming decoders (gzip, zstd, plain) behind layers and
 * archives. The first bytes of the input choose the decoder and how the
 * rest is cut into reads; the answer must not depend on the cutting. */
#include "compress.h"
#include "fuzz.h"

#define OUT_MAX (4u << 20) /* stop a decompression bomb early: not a bug */

struct result {
	int status; /* 0, or the error */
	bool at_end;
	size_t len; /* output bytes, up to OUT_MAX */
	uint32_t sum;
	bool capped;
};

static void decode(int kind, const uint8_t *in, size_t len, size_t in_chunk, size_t out_chunk,
		   struct result *res)
{
	struct decoder *d = decoder_new(kind);
	struct oci_error *err = NULL;
	uint8_t *window = malloc(out_chunk);
	size_t pos = 0;
	int idle = 0;
	memset(res, 0, sizeof(*res));
	for (;;) {
		size_t avail = len - pos < in_chunk ? len - pos : in_chunk;
		const uint8_t *ip = in + pos;
		size_t il = avail;
		uint8_t *op = window;
		size_t ol = out_chunk;
		int r = decoder_run(d, &ip, &il, &op, &ol, &err);
		if (r < 0) {
			/* what the pointers say after an error is not checked here: the
			 * ISA-L path can leave in_len wrapped (tests/unit/test-compress.c) */
			CHECK_ERR(r, err);
			CHECK(r == OCI_E_INVALID);
			res->status = r;
			break;
		}
		CHECK(il <= avail && ol <= out_chunk);
		size_t used = avail - il, made = out_chunk - ol;
		CHECK(ip == in + pos + used && op == window + made);
		for (size_t i = 0; i < made; i++)
			res->sum = res->sum * 31 + window[i];
		res->len += made;
		pos += used;
		if (res->len >= OUT_MAX) {
			res->capped = true;
			break;
		}
		if (used == 0 && made == 0) {
			/* no progress with input left would hang a reader */
			if (pos == len || ++idle > 2)
				break;
		} else {
			idle = 0;
		}
	}
	if (!res->status && !res->capped)
		CHECK(pos == len);
	res->at_end = decoder_at_end(d);
	oci_error_free(err);
	decoder_free(d);
	free(window);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3 || size > (1u << 20))
		return 0;
	int kind = data[0] % 3; /* OCI_COMPRESS_NONE, _GZIP, _ZSTD */
	size_t in_chunk = 1 + data[1] % 64;
	size_t out_chunk = 1 + (size_t)data[2] * 37;
	const uint8_t *in = data + 3;
	size_t len = size - 3;

	struct result whole, pieces;
	decode(kind, in, len, len ? len : 1, 1u << 16, &whole);
	decode(kind, in, len, in_chunk, out_chunk, &pieces);

	if (kind == OCI_COMPRESS_NONE) {
		CHECK(whole.status == 0 && whole.at_end && whole.len == len);
		CHECK(pieces.status == 0 && pieces.len == len && pieces.sum == whole.sum);
	}
	if (whole.capped || pieces.capped)
		return 0;
	CHECK(whole.status == pieces.status);
	if (whole.status == 0) {
		CHECK(whole.len == pieces.len && whole.sum == pieces.sum);
		CHECK(whole.at_end == pieces.at_end);
	}
	return 0;
}
