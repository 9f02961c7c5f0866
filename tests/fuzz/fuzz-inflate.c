/* Fuzz the parallel decoder (pdecoder) against itself run serially: the
 * pieces it cuts by size hints, next headers and zstd block walks are
 * guesses the input controls, and whatever they are the output, the
 * verdict and the message must be the serial decoder's. The first bytes
 * choose the compression and how the input is cut into reads. */
#include "compress.h"
#include "fuzz.h"

#define OUT_MAX (4u << 20) /* stop a decompression bomb early: not a bug */

struct src {
	const uint8_t *p;
	size_t len, pos, step;
	uint32_t x;
};

static ssize_t src_read(void *arg, void *buf, size_t len, struct oci_error **err)
{
	(void)err;
	struct src *s = arg;
	size_t n = s->len - s->pos;
	if (n > len)
		n = len;
	if (s->step) {
		s->x = s->x * 1103515245u + 12345u;
		size_t cut = 1 + (s->x >> 16) % s->step;
		if (n > cut)
			n = cut;
	}
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

struct result {
	int status;
	char msg[256];
	size_t len;
	uint32_t sum;
	bool capped;
	size_t read;
};

static void run(int kind, int threads, const uint8_t *in, size_t len, size_t step,
		struct result *res)
{
	static uint8_t slot[1u << 16];
	struct src s = {.p = in, .len = len, .step = step, .x = 1};
	struct pdecoder *p = pdecoder_new(kind, threads, src_read, &s);
	struct oci_error *err = NULL;
	memset(res, 0, sizeof(*res));
	for (;;) {
		size_t made = 0;
		bool eof = false, corrupt = false;
		int r = pdecoder_fill(p, slot, sizeof(slot), &made, &eof, &corrupt, &err);
		if (r < 0) {
			CHECK(err && err->status < 0 && err->msg);
			res->status = err->status;
			snprintf(res->msg, sizeof(res->msg), "%s", err->msg);
			break;
		}
		CHECK(made <= sizeof(slot));
		CHECK(eof || made == sizeof(slot));
		for (size_t i = 0; i < made; i++)
			res->sum = res->sum * 31 + slot[i];
		res->len += made;
		if (eof)
			break;
		if (res->len >= OUT_MAX) {
			res->capped = true;
			break;
		}
	}
	res->read = s.pos;
	oci_error_free(err);
	pdecoder_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > (1u << 20))
		return 0;
	int kind = data[0] & 1 ? OCI_COMPRESS_ZSTD : OCI_COMPRESS_GZIP;
	size_t step = data[1] % 4 == 0 ? 0 : 1 + (size_t)data[1] * 7;
	const uint8_t *in = data + 2;
	size_t len = size - 2;

	struct result ser, par;
	run(kind, 1, in, len, 0, &ser);
	run(kind, 3, in, len, step, &par);
	if (ser.capped || par.capped)
		return 0;
	CHECK(ser.status == par.status);
	CHECK(strcmp(ser.msg, par.msg) == 0);
	if (ser.status == 0) {
		CHECK(ser.len == par.len && ser.sum == par.sum);
		CHECK(ser.read == len && par.read == len);
	}
	return 0;
}
