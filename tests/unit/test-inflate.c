/* The parallel decoder (pdecoder in compress.c) against the serial one
 * (the same with one thread): gzip members with our "OT" size hint, with
 * BGZF's "BC", with none (found by the next header), empty members, zstd
 * frames and skippable frames; fed in odd read sizes; a corrupt piece in
 * the middle, truncation, trailing garbage, lying hints. The output, the
 * verdict and the message must be the serial decoder's, every input byte
 * read once in order, and nothing after a bad piece handed on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include "compress.h"
#include "tap.h"

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static uint8_t *sample(size_t n, unsigned seed)
{
	/* text-like: compresses, but not to nothing */
	static const char *words[] = {"usr",	"lib",	 "share", "doc",   "bin", "etc",
				      "x86_64", "linux", "gnu",	  "so",	   "1",	  "0",
				      "/",	".",	 "\n",	  "debian"};
	uint8_t *p = malloc(n + 1);
	uint32_t x = seed * 2654435761u + 1;
	size_t i = 0;
	while (i < n) {
		x = x * 1103515245u + 12345u;
		const char *w = words[(x >> 16) & 15];
		if ((x >> 8 & 7) == 0) {
			p[i++] = (uint8_t)(x >> 24);
			continue;
		}
		for (size_t k = 0; w[k] && i < n; k++)
			p[i++] = (uint8_t)w[k];
	}
	return p;
}

enum hint { H_NONE, H_OT, H_BC };

/* one gzip member by zlib, with the hint asked for in FEXTRA */
static void gz_member(struct buf *out, const uint8_t *data, size_t len, enum hint h)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	size_t cap = deflateBound(&z, (uLong)len) + 64;
	uint8_t *body = malloc(cap);
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	z.next_out = body;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	size_t n = cap - z.avail_out;
	deflateEnd(&z);
	uint8_t hdr[20] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
	size_t hl = 10;
	size_t total = 0;
	if (h == H_OT) {
		hdr[3] = 4;
		total = 20 + n + 8;
		uint8_t x[] = {8,
			       0,
			       'O',
			       'T',
			       4,
			       0,
			       (uint8_t)total,
			       (uint8_t)(total >> 8),
			       (uint8_t)(total >> 16),
			       (uint8_t)(total >> 24)};
		memcpy(hdr + 10, x, sizeof(x));
		hl = 20;
	} else if (h == H_BC) {
		hdr[3] = 4;
		total = 18 + n + 8 - 1;
		uint8_t x[] = {6, 0, 'B', 'C', 2, 0, (uint8_t)total, (uint8_t)(total >> 8)};
		memcpy(hdr + 10, x, sizeof(x));
		hl = 18;
	}
	buf_add(out, hdr, hl);
	buf_add(out, body, n);
	uint32_t crc = (uint32_t)crc32(0, data, (uInt)len);
	uint8_t t[8] = {(uint8_t)crc,	      (uint8_t)(crc >> 8), (uint8_t)(crc >> 16),
			(uint8_t)(crc >> 24), (uint8_t)len,	   (uint8_t)(len >> 8),
			(uint8_t)(len >> 16), (uint8_t)(len >> 24)};
	buf_add(out, t, 8);
	free(body);
}

struct src {
	const struct buf *in;
	size_t pos;
	size_t step; /* bytes a read at most; 0: any */
	unsigned x;
	uLong crc; /* of the bytes read, in order */
};

static ssize_t src_read(void *arg, void *buf, size_t len, struct oci_error **err)
{
	(void)err;
	struct src *s = arg;
	size_t n = s->in->len - s->pos;
	if (n > len)
		n = len;
	if (s->step) {
		s->x = s->x * 1103515245u + 12345u;
		size_t cut = 1 + (s->x >> 16) % s->step;
		if (n > cut)
			n = cut;
	}
	memcpy(buf, s->in->p + s->pos, n);
	s->crc = crc32(s->crc, s->in->p + s->pos, (uInt)n);
	s->pos += n;
	return (ssize_t)n;
}

struct result {
	int rc;
	char *msg;
	struct buf out;
	uint64_t pieces;
	bool read_all_in_order;
};

static struct result run(int kind, const struct buf *in, int threads, size_t step)
{
	struct result res = {0};
	struct src s = {.in = in, .step = step, .x = 7, .crc = crc32(0, NULL, 0)};
	struct pdecoder *p = pdecoder_new(kind, threads, src_read, &s);
	size_t cap = 1u << 20;
	uint8_t *slot = malloc(cap);
	struct oci_error *err = NULL;
	for (;;) {
		size_t made = 0;
		bool eof = false, corrupt = false;
		if (pdecoder_fill(p, slot, cap, &made, &eof, &corrupt, &err) < 0) {
			res.rc = -1;
			res.msg = strdup(err && err->msg ? err->msg : "?");
			break;
		}
		buf_add(&res.out, slot, made);
		if (eof)
			break;
	}
	res.pieces = pdecoder_parallel_pieces(p);
	pdecoder_free(p);
	res.read_all_in_order = s.pos == in->len && s.crc == crc32(0, in->p, (uInt)in->len);
	free(slot);
	oci_error_free(err);
	return res;
}

static void result_free(struct result *r)
{
	free(r->msg);
	free(r->out.p);
}

/* parallel == serial: verdict, message, bytes; want_pieces: at least so
 * many pieces went through workers; good/good_len: the data the stream
 * holds when whole, of which the output must be a prefix up to bad_from
 * (where a damaged member's data begins), and at most good_max bytes when
 * the stream fails */
static void check_at(const char *name, int kind, const struct buf *in, uint64_t want_pieces,
		     const uint8_t *good, size_t good_len, size_t bad_from, size_t good_max)
{
	struct result ser = run(kind, in, 1, 0);
	size_t steps[] = {0, 3, 7919};
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		struct result par = run(kind, in, 4, steps[k]);
		bool same =
		    par.rc == ser.rc &&
		    (par.rc ? strcmp(par.msg, ser.msg) == 0
			    : par.out.len == ser.out.len &&
				  (!par.out.len || !memcmp(par.out.p, ser.out.p, par.out.len)));
		ok(same, "%s (reads of at most %zu): as the serial decoder (%s / %s)", name,
		   steps[k], par.rc ? par.msg : "ok", ser.rc ? ser.msg : "ok");
		if (k == 0) {
			ok(par.pieces >= want_pieces,
			   "%s: %llu pieces inflated on workers (want >= %llu)", name,
			   (unsigned long long)par.pieces, (unsigned long long)want_pieces);
			if (good) {
				size_t cmp = par.out.len < bad_from ? par.out.len : bad_from;
				bool prefix = par.out.len <= good_len &&
					      (!cmp || !memcmp(par.out.p, good, cmp));
				if (par.rc && par.out.len > good_max)
					prefix = false;
				ok(prefix,
				   "%s: the output is the good data's first %zu bytes (at most "
				   "%zu)",
				   name, par.out.len, par.rc ? good_max : good_len);
			}
		}
		ok(par.rc < 0 || par.read_all_in_order, "%s: every input byte read, once, in order",
		   name);
		result_free(&par);
	}
	result_free(&ser);
}

static void check(const char *name, int kind, const struct buf *in, uint64_t want_pieces,
		  const uint8_t *good, size_t good_len, size_t good_max)
{
	check_at(name, kind, in, want_pieces, good, good_len, good_len, good_max);
}

/* members of these sizes, in a row; starts[i]: where member i's data
 * begins in the output */
static const size_t sizes[] = {0,	1,     100,    70000, 0,       300000, 5,
			       1 << 20, 65280, 123457, 0,     2000000, 17};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static struct buf gz_stream(const uint8_t *data, enum hint h, size_t *starts, size_t *member_at)
{
	struct buf b = {0};
	size_t off = 0;
	for (size_t i = 0; i < NSIZES; i++) {
		if (starts)
			starts[i] = off;
		if (member_at)
			member_at[i] = b.len;
		size_t n = sizes[i];
		/* BGZF blocks hold at most 64 KiB: the big ones in several */
		if (h == H_BC)
			for (size_t k = 0; k < n || k == 0; k += 65280)
				gz_member(&b, data + off + k, n - k < 65280 ? n - k : 65280, h);
		else
			gz_member(&b, data + off, n, h);
		off += n;
	}
	return b;
}

static size_t total_size(void)
{
	size_t t = 0;
	for (size_t i = 0; i < NSIZES; i++)
		t += sizes[i];
	return t;
}

static void test_gzip(void)
{
	size_t total = total_size();
	uint8_t *data = sample(total, 1);
	static const char *names[] = {"no hint", "OT hint", "BC hint"};
	for (int h = H_NONE; h <= H_BC; h++) {
		size_t starts[NSIZES], at[NSIZES];
		struct buf b = gz_stream(data, (enum hint)h, starts, at);
		char name[128];
		snprintf(name, sizeof(name), "gzip members, %s", names[h]);
		check(name, OCI_COMPRESS_GZIP, &b, 3, data, total, total);

		/* a corrupt member in the middle (member 7, 1 MiB): its deflate data */
		struct buf c = {0};
		buf_add(&c, b.p, b.len);
		size_t m = h == H_BC ? 0 : at[7];
		if (h == H_BC) {
			/* the BGZF block in the middle of member 7's blocks */
			size_t skip = 8, pos = at[7];
			while (skip--)
				pos += (size_t)(c.p[pos + 16] | c.p[pos + 17] << 8) + 1;
			m = pos;
		}
		c.p[m + 40] ^= 0x55;
		c.p[m + 41] ^= 0x55;
		snprintf(name, sizeof(name), "gzip members, %s, a corrupt member", names[h]);
		size_t bad_from = h == H_BC ? starts[7] + 8 * 65280 : starts[7];
		check_at(name, OCI_COMPRESS_GZIP, &c, 0, data, total, bad_from,
			 h == H_BC ? bad_from + 65280 : starts[8]);

		/* a bad CRC in a trailer in the middle */
		memcpy(c.p, b.p, b.len);
		c.p[at[8] - 7] ^= 1;
		snprintf(name, sizeof(name), "gzip members, %s, a CRC mismatch", names[h]);
		check(name, OCI_COMPRESS_GZIP, &c, 0, data, total, starts[8]);

		/* truncated: mid-member, mid-header, at a boundary (whole) */
		size_t cuts[] = {at[9] + 5, at[9] + 1000, at[12] - 3, at[9], b.len - 1};
		for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
			struct buf t = {.p = b.p, .len = cuts[k]};
			snprintf(name, sizeof(name), "gzip members, %s, cut at %zu of %zu",
				 names[h], cuts[k], b.len);
			check(name, OCI_COMPRESS_GZIP, &t, 0, data, total, total);
		}

		/* trailing garbage, and a member header with nothing after */
		free(c.p);
		c = (struct buf){0};
		buf_add(&c, b.p, b.len);
		buf_add(&c, "\0\0\0\0garbage", 11);
		snprintf(name, sizeof(name), "gzip members, %s, trailing garbage", names[h]);
		check(name, OCI_COMPRESS_GZIP, &c, 2, data, total, total);
		c.len = b.len;
		buf_add(&c, "\x1f\x8b\x08\x00", 4);
		snprintf(name, sizeof(name), "gzip members, %s, a member header cut short",
			 names[h]);
		check(name, OCI_COMPRESS_GZIP, &c, 2, data, total, total);
		free(c.p);
		free(b.p);
	}

	/* hints that lie: the blob is still good gzip, and reads as such */
	for (int lie = -1; lie <= 1; lie += 2) {
		struct buf b = gz_stream(data, H_OT, NULL, NULL);
		size_t pos = 0;
		for (size_t i = 0; i < NSIZES; i++) {
			uint32_t len =
			    (uint32_t)(b.p[pos + 16] | b.p[pos + 17] << 8 | b.p[pos + 18] << 16 |
				       (uint32_t)b.p[pos + 19] << 24);
			if (i % 2 == 1) {
				uint32_t v = len + (uint32_t)(lie * 13);
				for (int k = 0; k < 4; k++)
					b.p[pos + 16 + k] = (uint8_t)(v >> (8 * k));
			}
			pos += len;
		}
		check(lie < 0 ? "OT hints too short" : "OT hints too long", OCI_COMPRESS_GZIP, &b,
		      0, data, total, total);
		free(b.p);
	}

	/* A whole member X stored inside another member M's stored block: the
	 * search for the next header, or a hint that lies, makes X's start a
	 * piece's start, and X inflates cleanly there; but M does not end
	 * there, so X's bytes are M's data (as every other reader has it) */
	for (int h = H_NONE; h <= H_OT; h++) {
		struct buf x = {0}, inner = {0}, m = {0}, all = {0};
		gz_member(&x, data, 20000, (enum hint)h);
		buf_add(&inner, data + 5, 1000);
		/* what reads as the ISIZE of a member ending there: 1 MiB, which
		 * closes a piece, so that X is one of its own */
		buf_add(&inner, "\0\0\x10\0", 4);
		buf_add(&inner, x.p, x.len);
		buf_add(&inner, data + 7, 2000);
		z_stream z;
		memset(&z, 0, sizeof(z));
		deflateInit2(&z, 0, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY); /* stored blocks */
		size_t cap = deflateBound(&z, (uLong)inner.len) + 64;
		uint8_t *body = malloc(cap);
		z.next_in = inner.p;
		z.avail_in = (uInt)inner.len;
		z.next_out = body;
		z.avail_out = (uInt)cap;
		deflate(&z, Z_FINISH);
		size_t bl = cap - z.avail_out;
		deflateEnd(&z);
		uint8_t *at = memmem(body, bl, x.p, x.len);
		size_t hl = h == H_OT ? 20 : 10;
		uint8_t hdr[20] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
		if (h == H_OT) {
			/* the hint says M ends where X begins */
			size_t lie = hl + (size_t)(at - body);
			uint8_t e[] = {8,
				       0,
				       'O',
				       'T',
				       4,
				       0,
				       (uint8_t)lie,
				       (uint8_t)(lie >> 8),
				       (uint8_t)(lie >> 16),
				       (uint8_t)(lie >> 24)};
			hdr[3] = 4;
			memcpy(hdr + 10, e, sizeof(e));
		}
		buf_add(&m, hdr, hl);
		buf_add(&m, body, bl);
		uint32_t crc = (uint32_t)crc32(0, inner.p, (uInt)inner.len);
		uint8_t t[8] = {(uint8_t)crc,
				(uint8_t)(crc >> 8),
				(uint8_t)(crc >> 16),
				(uint8_t)(crc >> 24),
				(uint8_t)inner.len,
				(uint8_t)(inner.len >> 8),
				(uint8_t)(inner.len >> 16),
				(uint8_t)(inner.len >> 24)};
		buf_add(&m, t, 8);
		ok(at != NULL, "a member stored in another: found verbatim");
		buf_add(&all, m.p, m.len);
		gz_member(&all, data, 5000, (enum hint)h);
		struct buf want = {0};
		buf_add(&want, inner.p, inner.len);
		buf_add(&want, data, 5000);
		check(h == H_OT ? "a member stored in another, and a hint to it"
				: "a member stored in another",
		      OCI_COMPRESS_GZIP, &all, 0, want.p, want.len, want.len);
		struct result r = run(OCI_COMPRESS_GZIP, &all, 4, 0);
		ok(r.rc == 0 && r.out.len == want.len && !memcmp(r.out.p, want.p, want.len),
		   "a member stored in another%s: its bytes are the outer member's data",
		   h == H_OT ? ", and a hint to it" : "");
		result_free(&r);
		free(body);
		free(x.p);
		free(inner.p);
		free(m.p);
		free(all.p);
		free(want.p);
	}

	/* one member larger than a piece: the serial path, nothing on a worker */
	size_t big = PDEC_MAX_OUT + 12345;
	uint8_t *bigdata = sample(big, 4);
	struct buf one = {0};
	gz_member(&one, bigdata, big, H_NONE);
	check("one gzip member", OCI_COMPRESS_GZIP, &one, 0, bigdata, big, big);
	struct result r = run(OCI_COMPRESS_GZIP, &one, 4, 0);
	free(bigdata);
	is_int((int)r.pieces, 0, "one gzip member: nothing on the workers");
	result_free(&r);
	free(one.p);

	/* two streams open on two threads: one core each, no workers */
	{
		struct buf b = gz_stream(data, H_OT, NULL, NULL);
		struct src idle = {.in = &b};
		struct pdecoder *other = pdecoder_new(OCI_COMPRESS_GZIP, 2, src_read, &idle);
		struct result r2 = run(OCI_COMPRESS_GZIP, &b, 2, 0);
		ok(r2.rc == 0 && r2.out.len == total && !memcmp(r2.out.p, data, total) &&
		       r2.pieces == 0,
		   "two streams open, two threads: serial (%llu pieces)",
		   (unsigned long long)r2.pieces);
		result_free(&r2);
		pdecoder_free(other);
		r2 = run(OCI_COMPRESS_GZIP, &b, 2, 0);
		ok(r2.rc == 0 && r2.out.len == total && r2.pieces > 0,
		   "one stream open, two threads: %llu pieces on workers",
		   (unsigned long long)r2.pieces);
		result_free(&r2);
		free(b.p);
	}

	/* an empty input */
	struct buf none = {.p = data, .len = 0};
	check("an empty gzip input", OCI_COMPRESS_GZIP, &none, 0, NULL, 0, 0);
	free(data);
}

#if HAVE_LIBDEFLATE
static int sink(void *arg, const void *buf, size_t len, struct oci_error **err)
{
	(void)err;
	buf_add(arg, buf, len);
	return 0;
}

/* our own writer: every member says its length, all inflate on workers */
static void test_our_writer(void)
{
	size_t n = (9u << 20) + 12345;
	uint8_t *data = sample(n, 3);
	struct buf b = {0};
	struct encoder *e = encoder_new(OCI_COMPRESS_GZIP, 0, sink, &b);
	struct oci_error *err = NULL;
	ok(encoder_write(e, data, n, &err) == 0 && encoder_finish(e, &err) == 0,
	   "our gzip writer: written");
	encoder_free(e);
	ok(b.len > 20 && b.p[3] == 4 && b.p[12] == 'O' && b.p[13] == 'T',
	   "our gzip writer: FEXTRA with the OT subfield");
	check("our gzip writer", OCI_COMPRESS_GZIP, &b, 10, data, n, n);
	/* zlib reads it as plain gzip */
	z_stream z;
	memset(&z, 0, sizeof(z));
	inflateInit2(&z, 16 + 15);
	uint8_t *o = malloc(n + 1);
	size_t got = 0, used = 0;
	int zr = Z_OK;
	while (used < b.len && zr != Z_DATA_ERROR) {
		z.next_in = b.p + used;
		z.avail_in = (uInt)(b.len - used);
		z.next_out = o + got;
		z.avail_out = (uInt)(n + 1 - got);
		zr = inflate(&z, Z_NO_FLUSH);
		used = b.len - z.avail_in;
		got = n + 1 - z.avail_out;
		if (zr == Z_STREAM_END)
			inflateReset(&z);
		else if (zr != Z_OK)
			break;
	}
	inflateEnd(&z);
	ok(got == n && !memcmp(o, data, n), "our gzip writer: zlib inflates every member");
	free(o);
	free(b.p);
	free(data);
}
#endif

static void zstd_frame(struct buf *out, const uint8_t *data, size_t len, bool with_size,
		       bool checksum)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum);
	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, with_size);
	size_t cap = ZSTD_compressBound(len);
	uint8_t *o = malloc(cap);
	ZSTD_inBuffer ib = {data, len, 0};
	ZSTD_outBuffer ob = {o, cap, 0};
	/* streaming: the content size is not known unless pledged */
	if (with_size)
		ZSTD_CCtx_setPledgedSrcSize(c, len);
	size_t r = ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_end);
	if (r != 0)
		abort();
	buf_add(out, o, ob.pos);
	free(o);
	ZSTD_freeCCtx(c);
}

static void test_zstd(void)
{
	size_t total = total_size();
	uint8_t *data = sample(total, 2);
	struct buf b = {0};
	size_t at[NSIZES], starts[NSIZES], off = 0;
	for (size_t i = 0; i < NSIZES; i++) {
		if (i % 3 == 1) /* as pzstd: a skippable frame first */
			buf_add(&b,
				"\x50\x2a\x4d\x18\x04\x00\x00\x00"
				"abcd",
				12);
		at[i] = b.len;
		starts[i] = off;
		zstd_frame(&b, data + off, sizes[i], i % 2 == 0, i % 4 == 0);
		off += sizes[i];
	}
	check("zstd frames", OCI_COMPRESS_ZSTD, &b, 3, data, total, total);
	struct buf c = {0};
	buf_add(&c, b.p, b.len);
	c.p[at[7] + 300] ^= 0x55;
	c.p[at[7] + 301] ^= 0x55;
	check_at("zstd frames, a corrupt frame", OCI_COMPRESS_ZSTD, &c, 0, data, total, starts[7],
		 starts[8]);
	size_t cuts[] = {at[9] + 2, at[9] + 7, at[9] + 1000, at[12] - 1, at[9]};
	for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
		struct buf t = {.p = b.p, .len = cuts[k]};
		char name[64];
		snprintf(name, sizeof(name), "zstd frames, cut at %zu of %zu", cuts[k], b.len);
		check(name, OCI_COMPRESS_ZSTD, &t, 0, data, total, total);
	}
	c.len = b.len;
	buf_add(&c, "\x28\xb5\x2f\xfd", 4);
	memcpy(c.p, b.p, b.len);
	check("zstd frames, a frame magic cut short", OCI_COMPRESS_ZSTD, &c, 0, data, total, total);
	c.len = b.len;
	buf_add(&c, "garbage!", 8);
	check("zstd frames, trailing garbage", OCI_COMPRESS_ZSTD, &c, 0, data, total, total);
	/* one frame with several blocks: serial */
	struct buf one = {0};
	zstd_frame(&one, data, total, false, true);
	check("one zstd frame", OCI_COMPRESS_ZSTD, &one, 0, data, total, total);
	free(one.p);
	free(c.p);
	free(b.p);
	free(data);
}

/* ---- one member of independent deflate blocks (pigz --independent) ---- */

enum flush_kind {
	FK_INDEPENDENT, /* each block on its own: reset, then a full flush */
	FK_SHARED	/* sync flushes, the window shared: references cross */
};

/* one gzip member of data in blocks of `block` bytes, each ended with an
 * empty stored block (00 00 ff ff) but the last; name: FNAME, hcrc: FHCRC */
static void gz_flushed(struct buf *out, const uint8_t *data, size_t len, size_t block,
		       enum flush_kind fk, const char *name, bool hcrc)
{
	uint8_t hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
	if (name)
		hdr[3] |= 8;
	if (hcrc)
		hdr[3] |= 2;
	size_t h0 = out->len;
	buf_add(out, hdr, 10);
	if (name)
		buf_add(out, name, strlen(name) + 1);
	if (hcrc) {
		uint32_t c = (uint32_t)crc32(0, out->p + h0, (uInt)(out->len - h0));
		uint8_t x[2] = {(uint8_t)c, (uint8_t)(c >> 8)};
		buf_add(out, x, 2);
	}
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	size_t cap = deflateBound(&z, (uLong)block) + 64;
	uint8_t *tmp = malloc(cap);
	size_t off = 0;
	do {
		size_t n = len - off < block ? len - off : block;
		bool last = off + n == len;
		if (fk == FK_INDEPENDENT)
			deflateReset(&z);
		z.next_in = (Bytef *)data + off;
		z.avail_in = (uInt)n;
		int flush = last ? Z_FINISH : fk == FK_INDEPENDENT ? Z_FULL_FLUSH : Z_SYNC_FLUSH;
		do {
			z.next_out = tmp;
			z.avail_out = (uInt)cap;
			int r = deflate(&z, flush);
			if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
				abort();
			buf_add(out, tmp, cap - z.avail_out);
		} while (z.avail_out == 0);
		off += n;
	} while (off < len);
	deflateEnd(&z);
	free(tmp);
	uint32_t crc = (uint32_t)crc32(0, data, (uInt)len);
	uint8_t t[8] = {(uint8_t)crc,	      (uint8_t)(crc >> 8), (uint8_t)(crc >> 16),
			(uint8_t)(crc >> 24), (uint8_t)len,	   (uint8_t)(len >> 8),
			(uint8_t)(len >> 16), (uint8_t)(len >> 24)};
	buf_add(out, t, 8);
}

static size_t count_marks(const struct buf *b)
{
	size_t n = 0;
	for (size_t i = 0; i + 4 <= b->len; i++)
		n += !memcmp(b->p + i, "\0\0\xff\xff", 4);
	return n;
}

static void test_independent_blocks(void)
{
	size_t n = 6u << 20;
	uint8_t *data = sample(n, 11);
	struct buf b = {0};
	gz_flushed(&b, data, n, 128u << 10, FK_INDEPENDENT, NULL, false);
	ok(count_marks(&b) >= 40, "full flushes: %zu empty stored blocks", count_marks(&b));
	check("one member of independent blocks", OCI_COMPRESS_GZIP, &b, 3, data, n, n);

	/* with a name and a header CRC, and a second such member after it */
	struct buf two = {0};
	gz_flushed(&two, data, n, 128u << 10, FK_INDEPENDENT, "layer.tar", true);
	gz_flushed(&two, data, n, 100000, FK_INDEPENDENT, NULL, false);
	uint8_t *dd = malloc(2 * n);
	memcpy(dd, data, n);
	memcpy(dd + n, data, n);
	check("two members of independent blocks, FNAME and FHCRC", OCI_COMPRESS_GZIP, &two, 10, dd,
	      2 * n, 2 * n);
	free(dd);
	two.p[10 + 10] ^= 1; /* the header CRC */
	check("independent blocks, header CRC wrong", OCI_COMPRESS_GZIP, &two, 0, NULL, 0, 0);
	free(two.p);

	/* references across the flushes: a worker's piece refers before its
	 * start, which it must refuse (the output would be wrong otherwise) */
	struct buf sh = {0};
	gz_flushed(&sh, data, n, 128u << 10, FK_SHARED, NULL, false);
	ok(count_marks(&sh) >= 40, "sync flushes: %zu empty stored blocks", count_marks(&sh));
	check("sync flushes, the window shared", OCI_COMPRESS_GZIP, &sh, 0, data, n, n);
	free(sh.p);

	/* 00 00 ff ff inside blocks' data: stored blocks of noise holding it */
	uint8_t *noisy = malloc(n);
	memcpy(noisy, data, n);
	uint32_t x = 99;
	for (size_t i = n / 4; i < n / 2; i++) {
		x = x * 1103515245u + 12345u;
		noisy[i] = (uint8_t)(x >> 24);
	}
	for (size_t i = n / 4; i + 4 < n / 2; i += 9000)
		memcpy(noisy + i, "\0\0\xff\xff", 4);
	struct buf fc = {0};
	gz_flushed(&fc, noisy, n, 128u << 10, FK_INDEPENDENT, NULL, false);
	check("independent blocks, 00 00 ff ff inside stored data", OCI_COMPRESS_GZIP, &fc, 1,
	      noisy, n, n);
	/* the same in one block each quarter: false marks cut pieces */
	fc.len = 0;
	gz_flushed(&fc, noisy, n, n / 4 + 1, FK_INDEPENDENT, NULL, false);
	check("few full flushes, many false marks", OCI_COMPRESS_GZIP, &fc, 0, noisy, n, n);
	free(fc.p);
	free(noisy);

	/* pigz itself, where installed: -i (independent blocks, pieces on the
	 * workers) and without (blocks ended by sync flushes, sharing the
	 * window: refused after the first, read serially) */
	char tmpl[] = "/tmp/test-inflate-XXXXXX";
	int fd = mkstemp(tmpl);
	bool have = fd >= 0 && write(fd, data, n) == (ssize_t)n &&
		    system("command -v pigz >/dev/null") == 0;
	static const char *const opts[] = {"-i -6", "-6"};
	for (size_t k = 0; k < 2; k++) {
		char cmd[128], name[32];
		snprintf(cmd, sizeof(cmd), "pigz %s -c %s", opts[k], tmpl);
		snprintf(name, sizeof(name), "pigz %s", opts[k]);
		FILE *pg = have ? popen(cmd, "r") : NULL;
		if (!pg) {
			ok(1, "%s # SKIP pigz not installed", name);
			continue;
		}
		struct buf pz = {0};
		uint8_t chunk[65536];
		size_t got;
		while ((got = fread(chunk, 1, sizeof(chunk), pg)) > 0)
			buf_add(&pz, chunk, got);
		ok(pclose(pg) == 0 && pz.len > 0, "%s: %zu bytes", name, pz.len);
		check(name, OCI_COMPRESS_GZIP, &pz, k == 0 ? 3 : 0, data, n, n);
		free(pz.p);
	}
	if (fd >= 0) {
		close(fd);
		unlink(tmpl);
	}

	/* damage: a byte in a middle piece, the CRC, the ISIZE, truncation */
	struct buf c = {0};
	buf_add(&c, b.p, b.len);
	c.p[c.len / 2] ^= 0x55;
	check("independent blocks, a corrupt byte mid-member", OCI_COMPRESS_GZIP, &c, 0, NULL, 0,
	      0);
	memcpy(c.p, b.p, b.len);
	c.p[c.len - 6] ^= 1;
	check("independent blocks, CRC mismatch", OCI_COMPRESS_GZIP, &c, 0, NULL, 0, 0);
	memcpy(c.p, b.p, b.len);
	c.p[c.len - 3] ^= 1;
	check("independent blocks, ISIZE mismatch", OCI_COMPRESS_GZIP, &c, 0, NULL, 0, 0);
	memcpy(c.p, b.p, b.len);
	c.len = b.len * 3 / 5;
	check("independent blocks, truncated mid-piece", OCI_COMPRESS_GZIP, &c, 0, data, n, n);
	c.len = b.len - 3;
	check("independent blocks, truncated in the trailer", OCI_COMPRESS_GZIP, &c, 0, data, n, n);
	free(c.p);
	free(b.p);
	free(data);
}

int main(void)
{
	test_gzip();
	test_independent_blocks();
#if HAVE_LIBDEFLATE
	test_our_writer();
#endif
	test_zstd();
	return done_testing();
}
