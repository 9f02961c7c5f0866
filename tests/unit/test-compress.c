/* The streaming decoders: gzip (one or several members), zstd (one or
 * several frames), plain; fed whole and in small pieces; truncated,
 * corrupt and trailing-garbage inputs. */
#include <stdlib.h>
#include <string.h>
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
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

enum { GZ_NAME = 1, GZ_EXTRA = 2, GZ_COMMENT = 4, GZ_HCRC = 8, GZ_ALL = 15 };

/* gzip with zlib's own wrapper and the optional header fields in flags */
static struct buf gzip_with(const void *data, size_t len, int flags)
{
	struct buf out = {0};
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	gz_header h;
	memset(&h, 0, sizeof(h));
	if (flags) {
		if (flags & GZ_NAME)
			h.name = (Bytef *)"layer.tar";
		if (flags & GZ_COMMENT)
			h.comment = (Bytef *)"a comment";
		if (flags & GZ_EXTRA) {
			h.extra = (Bytef *)"XY\x02\x00"
					   "ab";
			h.extra_len = 6;
		}
		h.hcrc = (flags & GZ_HCRC) != 0;
		deflateSetHeader(&z, &h);
	}
	size_t cap = deflateBound(&z, (uLong)len) + 512;
	out.p = malloc(cap);
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	z.next_out = out.p;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	out.len = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

static struct buf gzip_of(const void *data, size_t len, const char *name)
{
	return gzip_with(data, len, name ? GZ_ALL : 0);
}

static struct buf zstd_of(const void *data, size_t len, int level)
{
	struct buf out = {0};
	size_t cap = ZSTD_compressBound(len);
	out.p = malloc(cap);
	size_t n = ZSTD_compress(out.p, cap, data, len, level);
	if (ZSTD_isError(n))
		abort();
	out.len = n;
	return out;
}

/* Decode in with chunks of in_chunk bytes and an output window of
 * out_chunk bytes; returns the status, fills *out and *at_end. */
static int decode(int kind, const struct buf *in, size_t in_chunk, size_t out_chunk,
		  struct buf *out, bool *at_end)
{
	struct decoder *d = decoder_new(kind);
	struct oci_error *err = NULL;
	uint8_t *window = malloc(out_chunk);
	size_t pos = 0;
	int r = 0, idle = 0;
	memset(out, 0, sizeof(*out));
	for (;;) {
		size_t avail = in->len - pos < in_chunk ? in->len - pos : in_chunk;
		const uint8_t *ip = in->p + pos;
		size_t il = avail;
		uint8_t *op = window;
		size_t ol = out_chunk;
		r = decoder_run(d, &ip, &il, &op, &ol, &err);
		if (il > avail || ol > out_chunk || ip != in->p + pos + (avail - il)) {
			if (getenv("TEST_VERBOSE"))
				printf("# r=%d: in_len %zu -> %zu, out_len %zu -> %zu\n", r, avail,
				       il, out_chunk, ol);
			r = 3000; /* went backwards or past the end, even if r < 0 */
			break;
		}
		if (r < 0) {
			if (!err || err->status != r || !err->msg)
				r = 2000;
			else if (getenv("TEST_VERBOSE"))
				printf("# at input offset %zu: %s\n", pos, err->msg);
			break;
		}
		size_t used = avail - il, made = out_chunk - ol;
		if (ip != in->p + pos + used || op != window + made) {
			r = 3000; /* pointers and lengths disagree */
			break;
		}
		buf_add(out, window, made);
		pos += used;
		if (used == 0 && made == 0) {
			if (pos == in->len || ++idle > 3)
				break;
		} else {
			idle = 0;
		}
	}
	if (r == 0 && pos != in->len)
		r = 4000; /* stalled with input left */
	*at_end = decoder_at_end(d);
	decoder_free(d);
	free(window);
	oci_error_free(err);
	return r;
}

static uint8_t *sample(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		/* half text-like, half noise, so both compress paths get work */
		x = x * 1103515245u + 12345u;
		p[i] = (i / 4096) % 2 ? (uint8_t)(x >> 16) : (uint8_t)("abcdefgh\n"[(x >> 16) % 9]);
	}
	return p;
}

static void check_roundtrip(int kind, const struct buf *in, const uint8_t *want, size_t want_len,
			    const char *what)
{
	static const size_t chunks[][2] = {{1 << 20, 1 << 20}, {1, 1 << 16}, {7, 13},
					   {4096, 1},	       {3, 65536},   {65536, 4096}};
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct buf out;
		bool end = false;
		int r = decode(kind, in, chunks[i][0], chunks[i][1], &out, &end);
		char name[200];
		snprintf(name, sizeof(name), "%s, in %zu / out %zu: decodes", what, chunks[i][0],
			 chunks[i][1]);
		is_int(r, 0, name);
		ok(out.len == want_len && (want_len == 0 || memcmp(out.p, want, want_len) == 0),
		   "%s, in %zu / out %zu: bytes match (%zu of %zu)", what, chunks[i][0],
		   chunks[i][1], out.len, want_len);
		ok(end, "%s, in %zu / out %zu: at end", what, chunks[i][0], chunks[i][1]);
		free(out.p);
	}
}

static void test_gzip(void)
{
	size_t na = 100000, nb = 3000;
	uint8_t *a = sample(na, 1), *b = sample(nb, 2);
	struct buf ga = gzip_of(a, na, NULL), gb = gzip_with(b, nb, GZ_NAME);

	is_int(compress_sniff(ga.p, ga.len), OCI_COMPRESS_GZIP, "gzip sniffed");
	check_roundtrip(OCI_COMPRESS_GZIP, &ga, a, na, "gzip");
	check_roundtrip(OCI_COMPRESS_GZIP, &gb, b, nb, "gzip with a name");
	struct buf gall = gzip_of(b, nb, "b.tar");
	check_roundtrip(OCI_COMPRESS_GZIP, &gall, b, nb, "gzip with name, extra, comment, hcrc");
	static const struct {
		int flags;
		const char *what;
	} hdrs[] = {{GZ_NAME, "gzip with FNAME"},
		    {GZ_EXTRA, "gzip with FEXTRA"},
		    {GZ_COMMENT, "gzip with FCOMMENT"},
		    {GZ_HCRC, "gzip with FHCRC"},
		    {GZ_NAME | GZ_EXTRA | GZ_COMMENT, "gzip with FNAME, FEXTRA, FCOMMENT"}};
	for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		struct buf g = gzip_with(b, nb, hdrs[i].flags);
		check_roundtrip(OCI_COMPRESS_GZIP, &g, b, nb, hdrs[i].what);
		free(g.p);
	}
	/* header fields written by hand: empty and long FEXTRA, FTEXT, and the
	 * reserved flag bits that must be refused */
	{
		struct buf plain = gzip_with(b, nb, 0);
		const uint8_t *body = plain.p + 10;
		size_t body_len = plain.len - 10;
		static const uint8_t base[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
		struct buf g = {0};
		uint8_t h[10];
		memcpy(h, base, 10);
		h[3] = 4; /* FEXTRA, XLEN 0 */
		buf_add(&g, h, 10);
		buf_add(&g, "\0\0", 2);
		buf_add(&g, body, body_len);
		check_roundtrip(OCI_COMPRESS_GZIP, &g, b, nb, "gzip with an empty FEXTRA");
		free(g.p);
		g = (struct buf){0};
		h[3] = 4 | 8 | 1; /* FEXTRA of 3000 bytes, FNAME, FTEXT */
		buf_add(&g, h, 10);
		buf_add(&g, "\xb8\x0b", 2);
		uint8_t *x = sample(3000, 9);
		buf_add(&g, x, 3000);
		free(x);
		buf_add(&g, "name", 5);
		buf_add(&g, body, body_len);
		check_roundtrip(OCI_COMPRESS_GZIP, &g, b, nb, "gzip with a 3000-byte FEXTRA");
		free(g.p);
		static const uint8_t reserved[] = {0x20, 0x40, 0x80};
		for (size_t i = 0; i < 3; i++) {
			g = (struct buf){0};
			h[3] = reserved[i];
			buf_add(&g, h, 10);
			buf_add(&g, body, body_len);
			struct buf o;
			bool e;
			is_int(decode(OCI_COMPRESS_GZIP, &g, 1 << 20, 1 << 20, &o, &e),
			       OCI_E_INVALID, "reserved gzip flag bit refused");
			free(o.p);
			free(g.p);
		}
		free(plain.p);
	}

	/* two members concatenated: both decoded */
	struct buf two = {0};
	buf_add(&two, ga.p, ga.len);
	buf_add(&two, gb.p, gb.len);
	uint8_t *ab = malloc(na + nb);
	memcpy(ab, a, na);
	memcpy(ab + na, b, nb);
	check_roundtrip(OCI_COMPRESS_GZIP, &two, ab, na + nb, "two gzip members");

	/* the second member has a header CRC, and the read that ends the first
	 * member stops a few bytes into the second member's header, as a 256 KiB
	 * read of a multi-member layer can */
	{
		struct buf two_hcrc = {0};
		buf_add(&two_hcrc, ga.p, ga.len);
		buf_add(&two_hcrc, gall.p, gall.len);
		size_t splits[] = {ga.len + 1, ga.len + 5, ga.len + 12, ga.len + 20};
		for (size_t i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
			bool end2 = false;
			struct buf out2;
			int r =
			    decode(OCI_COMPRESS_GZIP, &two_hcrc, splits[i], 1 << 20, &out2, &end2);
			ok(r == 0 && end2 && out2.len == na + nb &&
			       memcmp(out2.p, ab, na + nb) == 0,
			   "FHCRC member whose header is split %zu bytes in decodes (r=%d)",
			   splits[i] - ga.len, r);
			free(out2.p);
		}
		free(two_hcrc.p);
	}

	/* an empty member between two others */
	struct buf ge = gzip_of("", 0, NULL);
	struct buf three = {0};
	buf_add(&three, gb.p, gb.len);
	buf_add(&three, ge.p, ge.len);
	buf_add(&three, gb.p, gb.len);
	uint8_t *bb = malloc(2 * nb);
	memcpy(bb, b, nb);
	memcpy(bb + nb, b, nb);
	check_roundtrip(OCI_COMPRESS_GZIP, &three, bb, 2 * nb, "member, empty member, member");
	check_roundtrip(OCI_COMPRESS_GZIP, &ge, (const uint8_t *)"", 0, "a single empty member");

	struct buf out;
	bool end;
	/* trailing garbage after the last member */
	const char *garbage[] = {"xyz", "\0\0\0\0", "\x1f", "\x1f\x8b", "\x1f\x00zzzzzzzzzz"};
	size_t glen[] = {3, 4, 1, 2, 12};
	for (size_t i = 0; i < 5; i++) {
		struct buf g = {0};
		buf_add(&g, ga.p, ga.len);
		buf_add(&g, garbage[i], glen[i]);
		int r = decode(OCI_COMPRESS_GZIP, &g, 1 << 20, 1 << 20, &out, &end);
		ok(r == OCI_E_INVALID || (r == 0 && !end),
		   "trailing garbage #%zu: an error, or not at the end (r=%d end=%d)", i, r, end);
		if (i < 2)
			is_int(r, OCI_E_INVALID, "trailing non-gzip bytes are an error");
		free(out.p);
		r = decode(OCI_COMPRESS_GZIP, &g, 5, 100, &out, &end);
		ok(r == OCI_E_INVALID || (r == 0 && !end),
		   "trailing garbage #%zu in small pieces: error or not at end (r=%d end=%d)", i, r,
		   end);
		free(out.p);
		free(g.p);
	}

	/* truncated: no error while streaming, but not at the end */
	size_t cuts[] = {1, 2, 10, ga.len / 2, ga.len - 8, ga.len - 4, ga.len - 1};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct buf c = {ga.p, cuts[i], 0};
		int r = decode(OCI_COMPRESS_GZIP, &c, 1 << 20, 1 << 20, &out, &end);
		is_int(r, 0, "truncated gzip: no error while streaming");
		ok(!end, "gzip cut to %zu of %zu bytes: not at the end", cuts[i], ga.len);
		free(out.p);
	}
	{
		struct buf c = {two.p, ga.len + gb.len / 2, 0};
		int r = decode(OCI_COMPRESS_GZIP, &c, 1000, 1000, &out, &end);
		ok(r == 0 && !end, "second member truncated: not at the end");
		ok(out.len >= na && memcmp(out.p, a, na) == 0, "first member still decoded");
		free(out.p);
	}
	{
		struct buf empty = {(uint8_t *)"", 0, 0};
		int r = decode(OCI_COMPRESS_GZIP, &empty, 10, 10, &out, &end);
		ok(r == 0 && !end, "no input at all: not at the end of a gzip stream");
		free(out.p);
	}

	/* corrupt: CRC, deflate data, header */
	struct buf bad = {0};
	buf_add(&bad, gb.p, gb.len);
	bad.p[bad.len - 6] ^= 0x01; /* CRC32 */
	is_int(decode(OCI_COMPRESS_GZIP, &bad, 1 << 20, 1 << 20, &out, &end), OCI_E_INVALID,
	       "CRC mismatch refused");
	free(out.p);
	bad.p[bad.len - 6] ^= 0x01;
	bad.p[bad.len - 2] ^= 0x01; /* ISIZE */
	is_int(decode(OCI_COMPRESS_GZIP, &bad, 1 << 20, 1 << 20, &out, &end), OCI_E_INVALID,
	       "length mismatch refused");
	free(out.p);
	free(bad.p);
	bad = (struct buf){0};
	buf_add(&bad, ga.p, ga.len);
	bad.p[2] = 7; /* compression method */
	is_int(decode(OCI_COMPRESS_GZIP, &bad, 1 << 20, 1 << 20, &out, &end), OCI_E_INVALID,
	       "unknown compression method refused");
	free(out.p);
	free(bad.p);
	bad = (struct buf){0};
	buf_add(&bad, ga.p, ga.len);
	for (size_t i = 20; i < 60; i++)
		bad.p[i] = 0xff;
	{
		int r = decode(OCI_COMPRESS_GZIP, &bad, 1 << 20, 1 << 20, &out, &end);
		ok(r == OCI_E_INVALID, "corrupt deflate data refused (r=%d)", r);
		free(out.p);
	}
	free(bad.p);
	/* corrupt deflate data (a distance too far back) given whole: the
	 * error must leave the input pointer and length inside the input */
	{
		static const uint8_t bad_deflate[] = {
		    0x1f, 0x8b, 0x08, 0x08, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff, 0x6c,
		    0x61, 0x79, 0x65, 0x72, 0x2e, 0x74, 0x61, 0x72, 0x00, 0xcb, 0x48,
		    0xcd, 0xc9, 0xc9, 0xe7, 0xca, 0x18, 0x31, 0x3c, 0x00, 0x91, 0x24,
		    0x00, 0x13, 0xf0, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00};
		struct buf in = {(uint8_t *)bad_deflate, sizeof(bad_deflate), 0};
		size_t chunks[] = {sizeof(bad_deflate), 1, 7};
		for (size_t i = 0; i < 3; i++) {
			int r = decode(OCI_COMPRESS_GZIP, &in, chunks[i], 1 << 16, &out, &end);
			is_int(r, OCI_E_INVALID,
			       "corrupt deflate: an error, input accounting within the input");
			free(out.p);
		}
	}
	{
		struct buf notgz = {(uint8_t *)"hello, world", 12, 0};
		is_int(decode(OCI_COMPRESS_GZIP, &notgz, 100, 100, &out, &end), OCI_E_INVALID,
		       "plain text is not gzip");
		free(out.p);
	}

	free(gall.p);
	free(ge.p);
	free(three.p);
	free(bb);
	free(ab);
	free(two.p);
	free(ga.p);
	free(gb.p);
	free(a);
	free(b);
}

static void test_zstd(void)
{
	size_t na = 200000, nb = 5000;
	uint8_t *a = sample(na, 3), *b = sample(nb, 4);
	struct buf za = zstd_of(a, na, 3), zb = zstd_of(b, nb, 19);

	is_int(compress_sniff(za.p, za.len), OCI_COMPRESS_ZSTD, "zstd sniffed");
	check_roundtrip(OCI_COMPRESS_ZSTD, &za, a, na, "zstd");
	check_roundtrip(OCI_COMPRESS_ZSTD, &zb, b, nb, "zstd -19");

	struct buf two = {0};
	buf_add(&two, za.p, za.len);
	buf_add(&two, zb.p, zb.len);
	uint8_t *ab = malloc(na + nb);
	memcpy(ab, a, na);
	memcpy(ab + na, b, nb);
	check_roundtrip(OCI_COMPRESS_ZSTD, &two, ab, na + nb, "two zstd frames");

	/* a skippable frame between two frames */
	struct buf skip = {0};
	static const uint8_t sk[] = {0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 'j', 'u', 'n', 'k'};
	buf_add(&skip, zb.p, zb.len);
	buf_add(&skip, sk, sizeof(sk));
	buf_add(&skip, zb.p, zb.len);
	uint8_t *bb = malloc(2 * nb);
	memcpy(bb, b, nb);
	memcpy(bb + nb, b, nb);
	check_roundtrip(OCI_COMPRESS_ZSTD, &skip, bb, 2 * nb, "frame, skippable frame, frame");

	struct buf z0 = zstd_of("", 0, 3);
	check_roundtrip(OCI_COMPRESS_ZSTD, &z0, (const uint8_t *)"", 0, "empty zstd frame");

	struct buf out;
	bool end;
	size_t cuts[] = {1, 4, za.len / 2, za.len - 1};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct buf c = {za.p, cuts[i], 0};
		int r = decode(OCI_COMPRESS_ZSTD, &c, 1 << 20, 1 << 20, &out, &end);
		ok(r == 0 && !end, "zstd cut to %zu of %zu: no error, not at the end (r=%d)",
		   cuts[i], za.len, r);
		free(out.p);
	}
	{
		struct buf c = {two.p, za.len + 3, 0};
		int r = decode(OCI_COMPRESS_ZSTD, &c, 1 << 20, 1 << 20, &out, &end);
		ok(r == 0 && !end, "second frame truncated: not at the end");
		free(out.p);
	}

	/* corrupt */
	struct buf bad = {0};
	buf_add(&bad, zb.p, zb.len);
	for (size_t i = 6; i < bad.len - 4 && i < 40; i++)
		bad.p[i] ^= 0x5a;
	{
		int r = decode(OCI_COMPRESS_ZSTD, &bad, 1 << 20, 1 << 20, &out, &end);
		ok(r == OCI_E_INVALID, "corrupt zstd refused (r=%d)", r);
		free(out.p);
	}
	free(bad.p);
	{
		struct buf g = {0};
		buf_add(&g, za.p, za.len);
		buf_add(&g, "garbage after the frame", 23);
		int r = decode(OCI_COMPRESS_ZSTD, &g, 1 << 20, 1 << 20, &out, &end);
		is_int(r, OCI_E_INVALID, "trailing garbage after a zstd frame refused");
		free(out.p);
		free(g.p);
	}
	{
		struct buf notz = {(uint8_t *)"hello, world", 12, 0};
		is_int(decode(OCI_COMPRESS_ZSTD, &notz, 100, 100, &out, &end), OCI_E_INVALID,
		       "plain text is not zstd");
		free(out.p);
	}

	free(z0.p);
	free(skip.p);
	free(bb);
	free(ab);
	free(two.p);
	free(za.p);
	free(zb.p);
	free(a);
	free(b);
}

static void test_plain(void)
{
	size_t n = 10000;
	uint8_t *a = sample(n, 5);
	struct buf in = {a, n, 0};
	check_roundtrip(OCI_COMPRESS_NONE, &in, a, n, "plain copy");
	struct decoder *d = decoder_new(OCI_COMPRESS_NONE);
	ok(decoder_at_end(d), "a plain stream is always at its end");
	decoder_free(d);
	decoder_free(NULL);
	free(a);
}

static void test_sniff(void)
{
	static const uint8_t gz[] = {0x1f, 0x8b, 0x08, 0x00};
	static const uint8_t zs[] = {0x28, 0xb5, 0x2f, 0xfd, 0x00};
	static const uint8_t tar[] = "etc/passwd\0\0\0";
	is_int(compress_sniff(gz, 2), OCI_COMPRESS_GZIP, "gzip magic");
	is_int(compress_sniff(gz, 1), OCI_COMPRESS_NONE, "one byte of gzip magic is not enough");
	is_int(compress_sniff(zs, 4), OCI_COMPRESS_ZSTD, "zstd magic");
	is_int(compress_sniff(zs, 3), OCI_COMPRESS_NONE,
	       "three bytes of zstd magic are not enough");
	is_int(compress_sniff(tar, sizeof(tar)), OCI_COMPRESS_NONE, "tar is plain");
	is_int(compress_sniff(tar, 0), OCI_COMPRESS_NONE, "nothing is plain");
	is_int(compress_sniff(NULL, 0), OCI_COMPRESS_NONE, "NULL with length 0 is plain");
	static const uint8_t near[] = {0x1f, 0x8c, 0x28, 0xb5, 0x2f, 0xfe};
	is_int(compress_sniff(near, 2), OCI_COMPRESS_NONE, "1f 8c is not gzip");
	is_int(compress_sniff(near + 2, 4), OCI_COMPRESS_NONE, "28 b5 2f fe is not zstd");

	/* pzstd's layout: a skippable frame of 4 bytes, then a zstd frame */
	static const uint8_t pz[] = {0x50, 0x2a, 0x4d, 0x18, 4,	   0,	 0,    0,   1,
				     2,	   3,	 4,    0x28, 0xb5, 0x2f, 0xfd, 0x00};
	is_int(compress_sniff(pz, sizeof(pz)), OCI_COMPRESS_ZSTD,
	       "a skippable frame, then a zstd frame: zstd");
	is_int(compress_sniff(pz, 4), OCI_COMPRESS_ZSTD, "a skippable frame's magic alone: zstd");
	is_int(compress_sniff(pz, 10), OCI_COMPRESS_ZSTD,
	       "a skippable frame running past what was read: zstd");
	static const uint8_t sk[] = {0x5f, 0x2a, 0x4d, 0x18, 0, 0, 0,	 0,    0x5a, 0x2a,
				     0x4d, 0x18, 0,    0,    0, 0, 0x28, 0xb5, 0x2f, 0xfd};
	is_int(compress_sniff(sk, sizeof(sk)), OCI_COMPRESS_ZSTD,
	       "two empty skippable frames (magics 0x184D2A5F, ...5A), then zstd: zstd");
	static const uint8_t skbad[] = {0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0, 0x1f, 0x8b, 0, 0};
	is_int(compress_sniff(skbad, sizeof(skbad)), OCI_COMPRESS_NONE,
	       "a skippable frame, then something else: not zstd");
	static const uint8_t notsk[] = {0x50, 0x2a, 0x4d, 0x19, 0, 0, 0, 0};
	is_int(compress_sniff(notsk, sizeof(notsk)), OCI_COMPRESS_NONE,
	       "0x194D2A50 is not a skippable frame");
}

/* 100,000 skippable frames before the data: one decoder call takes them all
 * without a stack frame each (it recursed per frame, and overflowed) */
static void test_zstd_skippable(void)
{
	const size_t nskip = 100000;
	uint8_t *want = sample(5000, 7);
	struct buf z = zstd_of(want, 5000, 3);
	struct buf in = {0};
	for (size_t i = 0; i < nskip; i++) {
		uint8_t f[8] = {(uint8_t)(0x50 + i % 16), 0x2a, 0x4d, 0x18, 0, 0, 0, 0};
		buf_add(&in, f, sizeof(f));
	}
	buf_add(&in, z.p, z.len);
	struct buf out;
	bool end = false;
	is_int(decode(OCI_COMPRESS_ZSTD, &in, in.len, 1 << 20, &out, &end), 0,
	       "100,000 skippable frames, then data: decodes in one call");
	ok(out.len == 5000 && memcmp(out.p, want, 5000) == 0, "and the bytes match");
	ok(end, "and it is at the end");
	free(out.p);
	check_roundtrip(OCI_COMPRESS_ZSTD, &in, want, 5000, "100,000 skippable frames");
	free(in.p);
	free(z.p);
	free(want);
}

int main(void)
{
	test_gzip();
	test_zstd();
	test_plain();
	test_sniff();
	test_zstd_skippable();
	return done_testing();
}
