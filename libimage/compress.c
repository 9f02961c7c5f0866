/* Decompressors for layers and archives. ISA-L's igzip inflates about four
 * times faster than zlib on these machines; zlib stays as the fallback. */
#include <zlib.h>
#include <zstd.h>
#include "compress.h"
#if HAVE_ISAL
#include <isa-l.h>
#endif
#if HAVE_LIBDEFLATE
#include <libdeflate.h>
#include <pthread.h>
#endif

/* gzip member header, parsed by us (ISA-L's streaming header parser trips
 * over FHCRC split across reads); the deflate body and trailer go to the
 * inflater. */
enum gz_state { GZ_FIXED, GZ_XLEN, GZ_EXTRA, GZ_NAME, GZ_COMMENT, GZ_HCRC, GZ_BODY };

struct decoder {
	int kind;
	enum gz_state gz;
	uint8_t gz_flags;
	size_t gz_need; /* bytes still wanted in the current header state */
	uint8_t gz_buf[10];
	size_t gz_have;
	uLong gz_crc;
	bool at_end;	/* a member/frame just ended and nothing more came */
	bool in_member; /* gzip: inside a member */
#if HAVE_ISAL
	struct inflate_state *isal;
#else
	z_stream z;
#endif
	ZSTD_DStream *zs;
	uint8_t zhdr[4]; /* the next zstd frame's magic, checked before libzstd sees it */
	size_t zhdr_have;
	bool zstart;
};

static uint32_t compress_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define ZSTD_FRAME_MAGIC     0xFD2FB528u
#define ZSTD_SKIPPABLE_MAGIC 0x184D2A50u /* the low four bits are free */
#define ZSTD_SKIPPABLE_MASK  0xFFFFFFF0u

int compress_sniff(const uint8_t *b, size_t len)
{
	if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return OCI_COMPRESS_GZIP;
	/* A zstd stream may open with skippable frames (pzstd puts one first to
	 * say where each frame ends): step over those shown, then want a zstd
	 * frame. One that runs past what the caller read is zstd's own magic
	 * all the same; the decoder checks every frame that follows. */
	size_t off = 0;
	while (len - off >= 4) {
		uint32_t v = compress_le32(b + off);
		if (v == ZSTD_FRAME_MAGIC)
			return OCI_COMPRESS_ZSTD;
		if ((v & ZSTD_SKIPPABLE_MASK) != ZSTD_SKIPPABLE_MAGIC)
			return OCI_COMPRESS_NONE;
		if (len - off < 8 || compress_le32(b + off + 4) >= len - off - 8)
			return OCI_COMPRESS_ZSTD;
		off += 8 + compress_le32(b + off + 4);
	}
	return off ? OCI_COMPRESS_ZSTD : OCI_COMPRESS_NONE;
}

struct decoder *decoder_new(int kind)
{
	struct decoder *d = xcalloc(1, sizeof(*d));
	d->kind = kind;
	d->at_end = true;
	if (kind == OCI_COMPRESS_GZIP) {
#if HAVE_ISAL
		d->isal = xmalloc(sizeof(*d->isal));
		isal_inflate_init(d->isal);
		d->isal->crc_flag = ISAL_GZIP_NO_HDR_VER;
		d->gz = GZ_FIXED;
		d->gz_need = 10;
		d->gz_crc = crc32(0, NULL, 0);
#else
		if (inflateInit2(&d->z, 16 + 15) != Z_OK)
			abort();
#endif
		d->at_end = false;
	} else if (kind == OCI_COMPRESS_ZSTD) {
		d->zs = ZSTD_createDStream();
		if (!d->zs)
			abort();
		ZSTD_initDStream(d->zs);
		d->at_end = false;
		d->zstart = true;
	}
	return d;
}

void decoder_free(struct decoder *d)
{
	if (!d)
		return;
#if HAVE_ISAL
	free(d->isal);
#else
	if (d->kind == OCI_COMPRESS_GZIP)
		inflateEnd(&d->z);
#endif
	if (d->zs)
		ZSTD_freeDStream(d->zs);
	free(d);
}

bool decoder_at_end(const struct decoder *d)
{
	return d->at_end;
}

#if HAVE_ISAL
/* Consume gzip header bytes; d->gz becomes GZ_BODY when the header is done. */
static int gzip_header(struct decoder *d, const uint8_t **in, size_t *in_len,
		       struct oci_error **err)
{
	while (*in_len > 0 && d->gz != GZ_BODY) {
		uint8_t c = **in;
		if (d->gz != GZ_HCRC)
			d->gz_crc = crc32(d->gz_crc, &c, 1);
		(*in)++;
		(*in_len)--;
		switch (d->gz) {
		case GZ_FIXED:
			d->gz_buf[d->gz_have++] = c;
			if (d->gz_have < 10)
				continue;
			if (d->gz_buf[0] != 0x1f || d->gz_buf[1] != 0x8b || d->gz_buf[2] != 8)
				return error_set(err, OCI_E_INVALID, 0, "gzip: bad header");
			d->gz_flags = d->gz_buf[3];
			if (d->gz_flags & 0xe0)
				return error_set(err, OCI_E_INVALID, 0,
						 "gzip: reserved header flags");
			d->gz_have = 0;
			break;
		case GZ_XLEN:
			d->gz_buf[d->gz_have++] = c;
			if (d->gz_have < 2)
				continue;
			d->gz_need = d->gz_buf[0] | (size_t)d->gz_buf[1] << 8;
			d->gz_have = 0;
			d->gz = GZ_EXTRA;
			if (d->gz_need)
				continue;
			break;
		case GZ_EXTRA:
			if (--d->gz_need)
				continue;
			break;
		case GZ_NAME:
		case GZ_COMMENT:
			if (c)
				continue;
			break;
		case GZ_HCRC:
			d->gz_buf[d->gz_have++] = c;
			if (d->gz_have < 2)
				continue;
			if ((d->gz_buf[0] | (unsigned)d->gz_buf[1] << 8) != (d->gz_crc & 0xffff))
				return error_set(err, OCI_E_INVALID, 0,
						 "gzip: header CRC mismatch");
			d->gz = GZ_BODY;
			continue;
		case GZ_BODY:
			break;
		}
		/* the next state the flags call for */
		enum gz_state next = d->gz;
		if (d->gz == GZ_FIXED)
			next = GZ_XLEN;
		else if (d->gz == GZ_XLEN || d->gz == GZ_EXTRA)
			next = GZ_NAME;
		else if (d->gz == GZ_NAME)
			next = GZ_COMMENT;
		else if (d->gz == GZ_COMMENT)
			next = GZ_HCRC;
		static const uint8_t flag_of[] = {
		    [GZ_XLEN] = 4, [GZ_NAME] = 8, [GZ_COMMENT] = 16, [GZ_HCRC] = 2};
		while (next != GZ_BODY && !(d->gz_flags & flag_of[next]))
			next = next == GZ_XLEN	    ? GZ_NAME
			       : next == GZ_NAME    ? GZ_COMMENT
			       : next == GZ_COMMENT ? GZ_HCRC
						    : GZ_BODY;
		d->gz = next;
		d->gz_have = 0;
	}
	return 0;
}
#endif

static int decoder_gzip(struct decoder *d, const uint8_t **in, size_t *in_len, uint8_t **out,
			size_t *out_len, struct oci_error **err)
{
	while (*out_len > 0 && (*in_len > 0 || !d->at_end)) {
		if (d->at_end) {
			/* another member follows; anything else is garbage */
			if ((*in)[0] != 0x1f)
				return error_set(err, OCI_E_INVALID, 0,
						 "gzip: trailing garbage after the last member");
#if HAVE_ISAL
			isal_inflate_reset(d->isal);
			d->isal->crc_flag = ISAL_GZIP_NO_HDR_VER;
			d->gz = GZ_FIXED;
			d->gz_need = 10;
			d->gz_have = 0;
			d->gz_crc = crc32(0, NULL, 0);
#else
			inflateReset(&d->z);
#endif
			d->at_end = false;
		}
#if HAVE_ISAL
		if (d->gz != GZ_BODY) {
			int hr = gzip_header(d, in, in_len, err);
			if (hr < 0)
				return hr;
			if (d->gz != GZ_BODY)
				break; /* header needs more input */
			continue;
		}
		struct inflate_state *s = d->isal;
		uint32_t ain = *in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)*in_len;
		uint32_t aout = *out_len > UINT32_MAX ? UINT32_MAX : (uint32_t)*out_len;
		s->next_in = (uint8_t *)*in;
		s->avail_in = ain;
		s->next_out = *out;
		s->avail_out = aout;
		int r = isal_inflate(s);
		if (r < 0) /* ISA-L's counters are not to be trusted after an error */
			return error_set(err, OCI_E_INVALID, 0, "gzip: %s",
					 r == ISAL_INCORRECT_CHECKSUM ? "CRC mismatch"
					 : r == ISAL_INVALID_WRAPPER  ? "bad header"
								      : "corrupt deflate data");
		size_t used = ain - s->avail_in, made = aout - s->avail_out;
		*in += used;
		*in_len -= used;
		*out += made;
		*out_len -= made;
		if (s->block_state == ISAL_BLOCK_FINISH)
			d->at_end = true;
		else if (used == 0 && made == 0)
			break;
#else
		z_stream *z = &d->z;
		uInt ain = *in_len > UINT32_MAX ? UINT32_MAX : (uInt)*in_len;
		uInt aout = *out_len > UINT32_MAX ? UINT32_MAX : (uInt)*out_len;
		z->next_in = (Bytef *)*in;
		z->avail_in = ain;
		z->next_out = *out;
		z->avail_out = aout;
		int r = inflate(z, Z_NO_FLUSH);
		size_t used = ain - z->avail_in, made = aout - z->avail_out;
		*in += used;
		*in_len -= used;
		*out += made;
		*out_len -= made;
		if (r == Z_STREAM_END)
			d->at_end = true;
		else if (r == Z_BUF_ERROR)
			break;
		else if (r != Z_OK)
			return error_set(err, OCI_E_INVALID, 0, "gzip: %s",
					 z->msg ? z->msg : "corrupt data");
#endif
	}
	return 0;
}

/* zstd frames only (and skippable ones): libzstd would also take legacy
 * v0.x frames, and tell them apart differently depending on how the input
 * is cut, which an image's bytes must never decide */
static bool zstd_magic_ok(const uint8_t *m)
{
	uint32_t v = compress_le32(m);
	return v == ZSTD_FRAME_MAGIC || (v & ZSTD_SKIPPABLE_MASK) == ZSTD_SKIPPABLE_MAGIC;
}

/* as far as the current frame goes: d->zstart is set when it ended */
static int decoder_zstd_frame(struct decoder *d, const uint8_t **in, size_t *in_len, uint8_t **out,
			      size_t *out_len, struct oci_error **err)
{
	if (d->zstart && *in_len > 0) {
		/* gather the next frame's magic */
		d->at_end = false;
		while (d->zhdr_have < 4 && *in_len > 0) {
			d->zhdr[d->zhdr_have++] = **in;
			(*in)++;
			(*in_len)--;
		}
		if (d->zhdr_have < 4)
			return 0;
		if (!zstd_magic_ok(d->zhdr))
			return error_set(err, OCI_E_INVALID, 0, "zstd: not a zstd frame");
		ZSTD_inBuffer hb = {d->zhdr, 4, 0};
		ZSTD_outBuffer hob = {*out, *out_len, 0};
		while (hb.pos < hb.size) {
			size_t r = ZSTD_decompressStream(d->zs, &hob, &hb);
			if (ZSTD_isError(r))
				return error_set(err, OCI_E_INVALID, 0, "zstd: %s",
						 ZSTD_getErrorName(r));
		}
		*out += hob.pos;
		*out_len -= hob.pos;
		d->zstart = false;
		d->zhdr_have = 0;
	}
	ZSTD_inBuffer ib = {*in, *in_len, 0};
	ZSTD_outBuffer ob = {*out, *out_len, 0};
	while (ib.pos < ib.size && ob.pos < ob.size && !d->zstart) {
		size_t r = ZSTD_decompressStream(d->zs, &ob, &ib);
		if (ZSTD_isError(r))
			return error_set(err, OCI_E_INVALID, 0, "zstd: %s", ZSTD_getErrorName(r));
		if (r == 0) {
			d->at_end = true;
			d->zstart = true; /* a frame ended: the next one is checked again */
		}
	}
	/* flush what is buffered inside the decoder even without new input */
	while (ib.pos == ib.size && ob.pos < ob.size && !d->at_end && !d->zstart) {
		size_t before = ob.pos;
		size_t r = ZSTD_decompressStream(d->zs, &ob, &ib);
		if (ZSTD_isError(r))
			return error_set(err, OCI_E_INVALID, 0, "zstd: %s", ZSTD_getErrorName(r));
		if (r == 0) {
			d->at_end = true;
			d->zstart = true;
		}
		if (ob.pos == before)
			break;
	}
	*in += ib.pos;
	*in_len -= ib.pos;
	*out += ob.pos;
	*out_len -= ob.pos;
	return 0;
}

/* Frames one after the other in a loop: an input of 100,000 skippable
 * frames (8 bytes each) is as many turns, never as many stack frames. */
static int decoder_zstd(struct decoder *d, const uint8_t **in, size_t *in_len, uint8_t **out,
			size_t *out_len, struct oci_error **err)
{
	for (;;) {
		int r = decoder_zstd_frame(d, in, in_len, out, out_len, err);
		if (r < 0)
			return r;
		/* a new frame may follow in what is left */
		if (!d->zstart || *in_len == 0 || *out_len == 0)
			return 0;
		if (oci_cancelled())
			return error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
	}
}

int decoder_run(struct decoder *d, const uint8_t **in, size_t *in_len, uint8_t **out,
		size_t *out_len, struct oci_error **err)
{
	if (d->kind == OCI_COMPRESS_GZIP)
		return decoder_gzip(d, in, in_len, out, out_len, err);
	if (d->kind == OCI_COMPRESS_ZSTD)
		return decoder_zstd(d, in, in_len, out, out_len, err);
	size_t n = *in_len < *out_len ? *in_len : *out_len;
	memcpy(*out, *in, n);
	*in += n;
	*in_len -= n;
	*out += n;
	*out_len -= n;
	return 0;
}

/* ---- compression ---- */

#define ENC_OUT (1u << 20)

#if HAVE_LIBDEFLATE
/* Parallel gzip, as pigz does but simpler: the tar is cut into independent
 * PGZ_BLOCK blocks, each compressed by libdeflate on a worker into its own
 * gzip member, and the members are written in order. The bytes depend only
 * on the input, the level and the block size, never on the thread count. */
#define PGZ_BLOCK (1u << 20)
#define PGZ_SLOTS 8

struct pgz_slot {
	uint8_t *in, *out;
	size_t in_len, out_len, out_cap;
	int state; /* 0 free, 1 queued, 2 done */
	uint64_t seq;
};

struct pgz {
	int level;
	pthread_t *threads;
	int n_threads;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct pgz_slot slot[PGZ_SLOTS];
	uint64_t next_seq, emit_seq;
	bool stop;
	struct pgz_slot *filling;
};

static void *pgz_worker(void *arg)
{
	struct pgz *p = arg;
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(p->level);
	if (!c)
		abort();
	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct pgz_slot *job = NULL;
		while (!p->stop) {
			/* the oldest queued block first, so output can flow in order */
			for (int i = 0; i < PGZ_SLOTS; i++)
				if (p->slot[i].state == 1 && (!job || p->slot[i].seq < job->seq))
					job = &p->slot[i];
			if (job)
				break;
			pthread_cond_wait(&p->work, &p->mu);
		}
		if (!job)
			break;
		job->state = 3; /* being compressed */
		pthread_mutex_unlock(&p->mu);
		job->out_len =
		    libdeflate_gzip_compress(c, job->in, job->in_len, job->out, job->out_cap);
		pthread_mutex_lock(&p->mu);
		job->state = 2;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	libdeflate_free_compressor(c);
	return NULL;
}
#endif

struct encoder {
	int kind;
	encoder_sink_fn sink;
	void *arg;
	z_stream z;
	ZSTD_CCtx *zc;
	uint8_t *out;
#if HAVE_LIBDEFLATE
	struct pgz *pgz;
#endif
};

#if HAVE_LIBDEFLATE
static struct pgz *pgz_new(int level)
{
	struct pgz *p = xcalloc(1, sizeof(*p));
	p->level = level;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
	size_t bound = libdeflate_gzip_compress_bound(c, PGZ_BLOCK);
	libdeflate_free_compressor(c);
	for (int i = 0; i < PGZ_SLOTS; i++) {
		p->slot[i].in = xmalloc(PGZ_BLOCK);
		p->slot[i].out = xmalloc(bound);
		p->slot[i].out_cap = bound;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	p->n_threads = n > 1 ? (int)(n > 16 ? 16 : n) : 1;
	p->threads = xcalloc((size_t)p->n_threads, sizeof(*p->threads));
	for (int i = 0; i < p->n_threads; i++)
		if (pthread_create(&p->threads[i], NULL, pgz_worker, p) != 0)
			abort();
	return p;
}

/* write out, in order, every finished block; wait for the oldest when wait */
static int pgz_emit(struct encoder *e, bool wait_all, struct oci_error **err)
{
	struct pgz *p = e->pgz;
	for (;;) {
		struct pgz_slot *s = NULL;
		pthread_mutex_lock(&p->mu);
		for (;;) {
			s = NULL;
			bool pending = false;
			for (int i = 0; i < PGZ_SLOTS; i++) {
				struct pgz_slot *x = &p->slot[i];
				if (x->state != 0 && x != p->filling && x->seq == p->emit_seq)
					s = x;
				if (x->state == 1 || x->state == 3)
					pending = true;
			}
			bool free_slot = false;
			for (int i = 0; i < PGZ_SLOTS; i++)
				free_slot |= p->slot[i].state == 0;
			if (s && s->state == 2)
				break;
			/* wait when everything must go out, or when no slot is free */
			if (!pending || (!wait_all && free_slot)) {
				s = NULL;
				break;
			}
			pthread_cond_wait(&p->done, &p->mu);
		}
		pthread_mutex_unlock(&p->mu);
		if (!s)
			return 0;
		if (s->out_len == 0)
			return error_set(err, OCI_E_IO, 0, "gzip: compression failed");
		int r = e->sink(e->arg, s->out, s->out_len, err);
		if (r < 0)
			return r;
		pthread_mutex_lock(&p->mu);
		s->state = 0;
		p->emit_seq++;
		pthread_mutex_unlock(&p->mu);
	}
}

/* hand the block being filled to the workers (an empty one only when force) */
static int pgz_submit(struct encoder *e, bool force, struct oci_error **err)
{
	struct pgz *p = e->pgz;
	struct pgz_slot *s = p->filling;
	if (!s || (s->in_len == 0 && !force))
		return 0;
	pthread_mutex_lock(&p->mu);
	s->state = 1;
	p->filling = NULL;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	return pgz_emit(e, false, err);
}

/* a free slot to fill, writing out finished blocks until one is free */
static int pgz_take_slot(struct encoder *e, struct oci_error **err)
{
	struct pgz *p = e->pgz;
	while (!p->filling) {
		pthread_mutex_lock(&p->mu);
		for (int i = 0; i < PGZ_SLOTS && !p->filling; i++)
			if (p->slot[i].state == 0) {
				p->slot[i].state = 4; /* filling */
				p->slot[i].in_len = 0;
				p->slot[i].seq = p->next_seq++;
				p->filling = &p->slot[i];
			}
		pthread_mutex_unlock(&p->mu);
		if (!p->filling) {
			int r = pgz_emit(e, true, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int pgz_write(struct encoder *e, const uint8_t *buf, size_t len, struct oci_error **err)
{
	struct pgz *p = e->pgz;
	while (len > 0) {
		int r = pgz_take_slot(e, err);
		if (r < 0)
			return r;
		struct pgz_slot *s = p->filling;
		size_t n = PGZ_BLOCK - s->in_len < len ? PGZ_BLOCK - s->in_len : len;
		memcpy(s->in + s->in_len, buf, n);
		s->in_len += n;
		buf += n;
		len -= n;
		if (s->in_len == PGZ_BLOCK && (r = pgz_submit(e, false, err)) < 0)
			return r;
	}
	return 0;
}

static int pgz_finish(struct encoder *e, struct oci_error **err)
{
	int r = 0;
	/* an empty stream is still one gzip member */
	if (e->pgz->next_seq == 0)
		r = pgz_take_slot(e, err);
	if (r == 0)
		r = pgz_submit(e, true, err);
	if (r == 0)
		r = pgz_emit(e, true, err);
	return r;
}

static void pgz_free(struct pgz *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	for (int i = 0; i < PGZ_SLOTS; i++) {
		free(p->slot[i].in);
		free(p->slot[i].out);
	}
	free(p->threads);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p);
}
#endif

struct encoder *encoder_new(int kind, int level, encoder_sink_fn sink, void *arg)
{
	struct encoder *e = xcalloc(1, sizeof(*e));
	e->kind = kind;
	e->sink = sink;
	e->arg = arg;
	e->out = xmalloc(ENC_OUT);
	if (kind == OCI_COMPRESS_GZIP) {
#if HAVE_LIBDEFLATE
		/* libdeflate's level 4 packs smaller than zlib's 6 and twice as fast */
		e->pgz = pgz_new(level > 0 ? (level > 12 ? 12 : level) : 4);
#else
		/* zlib's gzip header has mtime 0 and a fixed OS byte: reproducible */
		if (deflateInit2(&e->z, level > 0 ? (level > 9 ? 9 : level) : 6, Z_DEFLATED,
				 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			abort();
#endif
	} else if (kind == OCI_COMPRESS_ZSTD) {
		e->zc = ZSTD_createCCtx();
		if (!e->zc)
			abort();
		ZSTD_CCtx_setParameter(e->zc, ZSTD_c_compressionLevel, level > 0 ? level : 3);
		/* any worker count >= 1 gives the same bytes: use the cores we have */
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		ZSTD_CCtx_setParameter(e->zc, ZSTD_c_nbWorkers, (int)(n > 1 ? n : 1));
	}
	return e;
}

void encoder_long_window(struct encoder *e)
{
	if (e->zc) {
		ZSTD_CCtx_setParameter(e->zc, ZSTD_c_enableLongDistanceMatching, 1);
		ZSTD_CCtx_setParameter(e->zc, ZSTD_c_windowLog, 26);
	}
}

static int encoder_emit(struct encoder *e, size_t n, struct oci_error **err)
{
	return n ? e->sink(e->arg, e->out, n, err) : 0;
}

static int encoder_push(struct encoder *e, const void *buf, size_t len, bool end,
			struct oci_error **err)
{
	if (e->kind == OCI_COMPRESS_NONE)
		return len ? e->sink(e->arg, buf, len, err) : 0;
	if (e->kind == OCI_COMPRESS_GZIP) {
#if HAVE_LIBDEFLATE
		int r = pgz_write(e, buf, len, err);
		return r == 0 && end ? pgz_finish(e, err) : r;
#else
		e->z.next_in = (Bytef *)buf;
		e->z.avail_in = (uInt)len;
		for (;;) {
			e->z.next_out = e->out;
			e->z.avail_out = ENC_OUT;
			int zr = deflate(&e->z, end ? Z_FINISH : Z_NO_FLUSH);
			if (zr == Z_STREAM_ERROR)
				return error_set(err, OCI_E_IO, 0, "gzip: deflate failed");
			int r = encoder_emit(e, ENC_OUT - e->z.avail_out, err);
			if (r < 0)
				return r;
			if (end ? zr == Z_STREAM_END : (e->z.avail_in == 0 && e->z.avail_out != 0))
				return 0;
		}
#endif
	}
	ZSTD_inBuffer ib = {buf, len, 0};
	for (;;) {
		ZSTD_outBuffer ob = {e->out, ENC_OUT, 0};
		size_t left =
		    ZSTD_compressStream2(e->zc, &ob, &ib, end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(left))
			return error_set(err, OCI_E_IO, 0, "zstd: %s", ZSTD_getErrorName(left));
		int r = encoder_emit(e, ob.pos, err);
		if (r < 0)
			return r;
		if (end ? left == 0 : ib.pos == ib.size)
			return 0;
	}
}

int encoder_write(struct encoder *e, const void *buf, size_t len, struct oci_error **err)
{
	/* zlib takes at most 4 GiB a call */
	while (len > (1u << 30)) {
		int r = encoder_push(e, buf, 1u << 30, false, err);
		if (r < 0)
			return r;
		buf = (const char *)buf + (1u << 30);
		len -= 1u << 30;
	}
	return encoder_push(e, buf, len, false, err);
}

int encoder_finish(struct encoder *e, struct oci_error **err)
{
	return encoder_push(e, NULL, 0, true, err);
}

void encoder_free(struct encoder *e)
{
	if (!e)
		return;
#if HAVE_LIBDEFLATE
	pgz_free(e->pgz);
#else
	if (e->kind == OCI_COMPRESS_GZIP)
		deflateEnd(&e->z);
#endif
	if (e->zc)
		ZSTD_freeCCtx(e->zc);
	free(e->out);
	free(e);
}
