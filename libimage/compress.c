/* Decompressors for layers and archives. ISA-L's igzip inflates about four
 * times faster than zlib on these machines; zlib stays as the fallback. */
#include <zlib.h>
#include <zstd.h>
#include "compress.h"
#if HAVE_ISAL
#include <isa-l.h>
#include <isa-l/crc.h>
#endif
#include <pthread.h>
#if HAVE_LIBDEFLATE
#include <libdeflate.h>
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
	bool at_end;	  /* a member/frame just ended and nothing more came */
	bool in_member;	  /* gzip: inside a member */
	bool stop_at_end; /* return at each member/frame end */
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

void decoder_stop_at_end(struct decoder *d)
{
	d->stop_at_end = true;
}

void decoder_mark_member_end(struct decoder *d)
{
	/* gzip resets its inflater when the next member's first byte comes;
	 * zstd's stream takes a new frame once one ended (or before any) */
	d->at_end = true;
	d->zstart = true;
	d->zhdr_have = 0;
}

/* a gzip decoder ready for a member's header */
static void gz_member_begin(struct decoder *d)
{
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

/* a decoder as new, keeping what it allocated (zstd's window above all) */
static void decoder_reset(struct decoder *d)
{
	if (d->kind == OCI_COMPRESS_GZIP) {
		gz_member_begin(d);
	} else if (d->kind == OCI_COMPRESS_ZSTD) {
		ZSTD_DCtx_reset(d->zs, ZSTD_reset_session_only);
		d->at_end = false;
		d->zstart = true;
		d->zhdr_have = 0;
	}
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
			gz_member_begin(d);
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
		if (s->block_state == ISAL_BLOCK_FINISH) {
			d->at_end = true;
			if (d->stop_at_end)
				break;
		} else if (used == 0 && made == 0)
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
		if (r == Z_STREAM_END) {
			d->at_end = true;
			if (d->stop_at_end)
				break;
		} else if (r == Z_BUF_ERROR)
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
		if (!d->zstart || *in_len == 0 || *out_len == 0 || d->stop_at_end)
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

/* ---- parallel inflate of independent members and frames ---- */

#define PDEC_READ	 (256u << 10)
#define PDEC_TARGET_IN	 (256u << 10) /* a piece of several small members... */
#define PDEC_TARGET_OUT	 (1u << 20)   /* ...is closed at either size */
#define PDEC_SLACK	 4096	      /* room past the bound: the trailer needs some */
#define PDEC_WINDOW_SIZE (16u << 20)  /* in + out bound of the pieces in flight */
#define PDEC_KEEP	 (2u << 20)   /* a piece's buffers larger than this are freed */
#define GZ_MIN_MEMBER	 18	      /* header, an empty final block, trailer */
#define ZSTD_BLOCK_MAX	 (128u << 10)
#define PDEC_REFUSALS	 4 /* raw pieces refused in a row: no more cut in the member */

enum pjob_state { PJ_FREE, PJ_QUEUED, PJ_RUNNING, PJ_DONE };
/* what is being done with the oldest piece */
enum phead { PH_NONE, PH_COPY /* its output handed on */, PH_FEED /* its input to dec */ };

struct pjob {
	uint8_t *in, *out;
	size_t in_len, in_cap, out_len, out_cap;
	size_t bound; /* what its members say they inflate to, at most */
	enum pjob_state state;
	bool clean; /* inflated whole, exactly to its last byte, at a member's end */
	/* a run of deflate blocks inside one member (pigz --independent),
	 * cut after an empty stored block; hdr_len: the member's gzip header
	 * opens it (the member's first piece) */
	bool raw;
	size_t hdr_len;
	uint32_t crc; /* raw: of its output, when clean */
	uint64_t seq;
};

struct pdecoder {
	int kind, threads;
	pdecoder_read_fn read;
	void *arg;
	struct decoder *dec;  /* the serial decoder: the stream's own state */
	struct decoder *help; /* for a piece inflated here, no worker being free */
	uint8_t *in;	      /* the input window: in[in_off, in_off + in_len) unread */
	size_t in_off, in_len, in_cap;
	bool in_eof;
	bool par;	  /* cutting pieces */
	bool synced;	  /* dec stands at a boundary: a clean piece may be taken */
	bool cut_blocked; /* the next piece's end is unknown: serial until it */
	bool intra;	  /* cutting raw pieces of one member at its full flushes */
	/* raw pieces used: dec has read the member's header and nothing of
	 * its body; the body so far is only counted here, and given to dec
	 * (pdec_materialize) before dec reads any more */
	bool virt;
	uint32_t mcrc;
	uint64_t mlen;
	bool hist_ok; /* every byte handed on since hist was emptied is in it */
	int refused;  /* raw pieces refused in a row */
	size_t hist_len;
	uint8_t hist[32768]; /* the last 32 KiB of the member's output handed on */
	struct pjob job[PDEC_WINDOW];
	size_t head, count, window_bytes;
	uint64_t next_seq;
	enum phead head_mode;
	size_t head_pos;
	uint64_t pieces;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	pthread_t *th;
	int n_th;
	bool stop;
};

/* Streams open in this process (verify reads several layers at once,
 * unpack reads the next layer ahead): each takes workers only while its
 * share of the cores is more than one, so that layers already read in
 * parallel do not also fight over the cores within each. */
static int pdec_open;

static bool pdec_may_split(const struct pdecoder *p)
{
	int open = __atomic_load_n(&pdec_open, __ATOMIC_RELAXED);
	return p->threads > 1 && p->threads / (open > 1 ? open : 1) > 1;
}

int pdecoder_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 1 ? (int)(n > 8 ? 8 : n) : 1;
}

/* Inflate a piece on its own decoder. Clean only when every byte was used,
 * the last member ended on the last byte and no error came: anything else
 * is left to the serial decoder, whose verdict and message count. */
static void pjob_run(struct decoder *d, struct pjob *j)
{
	decoder_reset(d);
	const uint8_t *ip = j->in;
	size_t il = j->in_len, ol = j->bound + PDEC_SLACK;
	uint8_t *op = j->out;
	struct oci_error *e = NULL;
	j->clean = false;
	for (;;) {
		size_t il0 = il, ol0 = ol;
		if (decoder_run(d, &ip, &il, &op, &ol, &e) < 0) {
			oci_error_free(e);
			break;
		}
		if (il == il0 && ol == ol0) {
			j->clean = il == 0 && decoder_at_end(d);
			break;
		}
	}
	j->out_len = (size_t)(op - j->out);
}

#if HAVE_ISAL
/* ISA-L's inflater has used its input to the last bit and stands before a
 * block that is not the member's last: a new block's header not begun
 * (ISAL_BLOCK_NEW_HDR), or begun with nothing saved (ISAL_BLOCK_HDR with
 * no byte in tmp_in, where it leaves a stream that ran out exactly there) */
static bool isal_between_blocks(const struct inflate_state *s)
{
	return (s->block_state == ISAL_BLOCK_NEW_HDR || s->block_state == ISAL_BLOCK_HDR) &&
	       !s->bfinal && s->read_in_length == 0 && s->tmp_in_size == 0 &&
	       s->tmp_out_processed == s->tmp_out_valid && s->copy_overflow_length == 0;
}

/* A raw piece: deflate blocks from a cut point, inflated with an empty
 * window (a reference before the cut is ISA-L's ISAL_INVALID_LOOKBACK).
 * Clean only when every byte was used and the decoder stands between two
 * blocks, no bit left over and the member not ended: a block boundary at
 * the piece's last byte. Where the piece starts at a real boundary, the
 * serial decoder, whose parse of the blocks does not depend on the window's
 * contents, reads the same blocks to the same end and makes the same bytes. */
static void pjob_run_raw(struct decoder *d, struct pjob *j)
{
	struct inflate_state *s = d->isal;
	isal_inflate_reset(s);
	s->crc_flag = ISAL_DEFLATE;
	size_t cap = j->bound + PDEC_SLACK;
	s->next_in = j->in + j->hdr_len;
	s->avail_in = (uint32_t)(j->in_len - j->hdr_len);
	s->next_out = j->out;
	s->avail_out = (uint32_t)cap;
	int r = isal_inflate(s);
	j->out_len = r < 0 ? 0 : cap - s->avail_out;
	j->clean = r == ISAL_DECOMP_OK && s->avail_in == 0 && isal_between_blocks(s);
	j->crc = j->clean ? crc32_gzip_refl(0, j->out, j->out_len) : 0;
	/* the next use of d is a member's: gz_member_begin sets it again */
}
#endif

static void pjob_exec(struct decoder *d, struct pjob *j)
{
#if HAVE_ISAL
	if (j->raw) {
		pjob_run_raw(d, j);
		return;
	}
#endif
	pjob_run(d, j);
}

static struct decoder *pdec_worker_decoder(int kind)
{
	struct decoder *d = decoder_new(kind);
	/* a frame asking for a window larger than a piece's output goes to
	 * the serial decoder, which takes the default limit: workers never
	 * hold more than that each */
	if (d->zs)
		ZSTD_DCtx_setParameter(d->zs, ZSTD_d_windowLogMax, 22);
	return d;
}

static void *pdec_worker(void *arg)
{
	struct pdecoder *p = arg;
	struct decoder *d = pdec_worker_decoder(p->kind);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct pjob *j = NULL;
		while (!p->stop) {
			/* the oldest first: the output flows in order */
			for (int i = 0; i < PDEC_WINDOW; i++)
				if (p->job[i].state == PJ_QUEUED && (!j || p->job[i].seq < j->seq))
					j = &p->job[i];
			if (j)
				break;
			pthread_cond_wait(&p->work, &p->mu);
		}
		if (!j)
			break;
		j->state = PJ_RUNNING;
		pthread_mutex_unlock(&p->mu);
		pjob_exec(d, j);
		pthread_mutex_lock(&p->mu);
		j->state = PJ_DONE;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	decoder_free(d);
	return NULL;
}

struct pdecoder *pdecoder_new(int kind, int threads, pdecoder_read_fn read, void *arg)
{
	struct pdecoder *p = xcalloc(1, sizeof(*p));
	p->kind = kind;
	p->threads = kind == OCI_COMPRESS_NONE ? 1 : threads;
	p->read = read;
	p->arg = arg;
	p->dec = decoder_new(kind);
	/* a piece never reaches past PDEC_MAX_IN from where it is cut: the
	 * window holds that and one read more */
	p->in_cap = PDEC_MAX_IN + PDEC_READ + 16;
	p->in = xmalloc(p->in_cap);
	p->synced = true;
	if (p->threads > 1) {
		decoder_stop_at_end(p->dec);
		__atomic_add_fetch(&pdec_open, 1, __ATOMIC_RELAXED);
		p->par = pdec_may_split(p);
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	return p;
}

/* a pool of workers told to stop (under its lock, all woken) and joined */
static void pool_stop(pthread_mutex_t *mu, pthread_cond_t *work, bool *stop, pthread_t *th, int n)
{
	pthread_mutex_lock(mu);
	*stop = true;
	pthread_cond_broadcast(work);
	pthread_mutex_unlock(mu);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

void pdecoder_free(struct pdecoder *p)
{
	if (!p)
		return;
	pool_stop(&p->mu, &p->work, &p->stop, p->th, p->n_th);
	free(p->th);
	if (p->threads > 1)
		__atomic_sub_fetch(&pdec_open, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < PDEC_WINDOW; i++) {
		free(p->job[i].in);
		free(p->job[i].out);
	}
	decoder_free(p->dec);
	decoder_free(p->help);
	free(p->in);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p);
}

uint64_t pdecoder_parallel_pieces(const struct pdecoder *p)
{
	return p->pieces;
}

/* At least n unread bytes in the window: 1, or 0 when the input ends
 * first, or -1 (the reader's error). */
static int pdec_ensure(struct pdecoder *p, size_t n, struct oci_error **err)
{
	if (n > p->in_cap)
		return 0;
	while (p->in_len < n && !p->in_eof) {
		if (p->in_len == 0)
			p->in_off = 0;
		else if (p->in_off + n > p->in_cap || p->in_off + p->in_len == p->in_cap) {
			memmove(p->in, p->in + p->in_off, p->in_len);
			p->in_off = 0;
		}
		size_t room = p->in_cap - p->in_off - p->in_len;
		ssize_t r = p->read(p->arg, p->in + p->in_off + p->in_len,
				    room < PDEC_READ ? room : PDEC_READ, err);
		if (r < 0)
			return -1;
		if (r == 0)
			p->in_eof = true;
		p->in_len += (size_t)r;
	}
	return p->in_len >= n;
}

#define PDEC_NEED(n)                                                                               \
	do {                                                                                       \
		int need_ = pdec_ensure(p, (n), err);                                              \
		if (need_ <= 0)                                                                    \
			return need_;                                                              \
	} while (0)

static uint32_t le16_at(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8;
}

/* The gzip member at window offset off: its length, and its ISIZE as the
 * bound. 1 found; 0 not known (no header there, no end within
 * PDEC_MAX_IN); -1 a read error. The length comes from a size hint in
 * FEXTRA ("OT": ours, the member's length; "BC": BGZF's, the length - 1)
 * or else from the next place a member header could start; either is
 * only a guess until the piece inflates cleanly and the one before ends
 * there. */
static int pdec_gzip_piece(struct pdecoder *p, size_t off, size_t *len, size_t *bound,
			   struct oci_error **err)
{
	PDEC_NEED(off + 10);
	const uint8_t *h = p->in + p->in_off + off;
	if (h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 || (h[3] & 0xe0))
		return 0;
	size_t hint = 0;
	if (h[3] & 4) {
		PDEC_NEED(off + 12);
		h = p->in + p->in_off + off;
		size_t xlen = le16_at(h + 10);
		PDEC_NEED(off + 12 + xlen);
		h = p->in + p->in_off + off;
		for (size_t x = 12; x + 4 <= 12 + xlen;) {
			size_t sl = le16_at(h + x + 2);
			if (x + 4 + sl > 12 + xlen)
				break;
			if (h[x] == 'O' && h[x + 1] == 'T' && sl == 4)
				hint = compress_le32(h + x + 4);
			else if (h[x] == 'B' && h[x + 1] == 'C' && sl == 2)
				hint = le16_at(h + x + 4) + 1;
			x += 4 + sl;
		}
	}
	size_t l = 0;
	if (hint) {
		if (hint < GZ_MIN_MEMBER || off + hint > PDEC_MAX_IN)
			return 0;
		PDEC_NEED(off + hint);
		l = hint;
	} else {
		/* the next member header after this one's smallest size */
		size_t pos = off + GZ_MIN_MEMBER;
		for (;;) {
			size_t avail = p->in_len < PDEC_MAX_IN ? p->in_len : PDEC_MAX_IN;
			const uint8_t *b = p->in + p->in_off;
			while (pos + 4 <= avail) {
				const uint8_t *c = memchr(b + pos, 0x1f, avail - 3 - pos);
				if (!c) {
					pos = avail - 3; /* searched up to here */
					break;
				}
				pos = (size_t)(c - b);
				if (c[1] == 0x8b && c[2] == 8 && !(c[3] & 0xe0)) {
					l = pos - off;
					break;
				}
				pos++;
			}
			if (l)
				break;
			if (avail >= PDEC_MAX_IN)
				return 0;
			size_t had = p->in_len;
			if (pdec_ensure(p, p->in_len + PDEC_READ, err) < 0)
				return -1;
			if (p->in_len == had) {
				/* the input ends: the member runs to it */
				l = p->in_len - off;
				if (l < GZ_MIN_MEMBER)
					return 0;
				break;
			}
		}
	}
	*len = l;
	*bound = compress_le32(p->in + p->in_off + off + l - 4);
	return 1;
}

/* The zstd frame (or skippable frame) at window offset off, walked from
 * header to block headers, nothing inflated; the bound is its content
 * size when the header says, else 128 KiB a block. */
static int pdec_zstd_piece(struct pdecoder *p, size_t off, size_t *len, size_t *bound,
			   struct oci_error **err)
{
	PDEC_NEED(off + 4);
	uint32_t m = compress_le32(p->in + p->in_off + off);
	if ((m & ZSTD_SKIPPABLE_MASK) == ZSTD_SKIPPABLE_MAGIC) {
		PDEC_NEED(off + 8);
		uint64_t l = 8 + (uint64_t)compress_le32(p->in + p->in_off + off + 4);
		if (off + l > PDEC_MAX_IN)
			return 0;
		PDEC_NEED(off + (size_t)l);
		*len = (size_t)l;
		*bound = 0;
		return 1;
	}
	if (m != ZSTD_FRAME_MAGIC)
		return 0;
	PDEC_NEED(off + 5);
	uint8_t fhd = p->in[p->in_off + off + 4];
	if (fhd & 0x08)
		return 0; /* reserved bit: the serial decoder says what is wrong */
	static const uint8_t did_size[4] = {0, 1, 2, 4};
	bool single = fhd & 0x20;
	size_t fcs_size = (fhd >> 6) == 0 ? (single ? 1 : 0) : (size_t)1 << (fhd >> 6);
	size_t hs = 5 + (single ? 0 : 1) + did_size[fhd & 3] + fcs_size;
	PDEC_NEED(off + hs);
	uint64_t fcs = 0;
	const uint8_t *f = p->in + p->in_off + off + hs - fcs_size;
	for (size_t i = 0; i < fcs_size; i++)
		fcs |= (uint64_t)f[i] << (8 * i);
	if (fcs_size == 2)
		fcs += 256;
	size_t pos = off + hs;
	uint64_t sum = 0;
	for (;;) {
		if (pos + 3 > PDEC_MAX_IN)
			return 0;
		PDEC_NEED(pos + 3);
		const uint8_t *b = p->in + p->in_off + pos;
		uint32_t bh = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16;
		uint32_t type = (bh >> 1) & 3, bs = bh >> 3;
		if (type == 3 || bs > ZSTD_BLOCK_MAX)
			return 0;
		pos += 3 + (type == 1 ? 1 : bs);
		sum += type == 2 ? ZSTD_BLOCK_MAX : bs;
		if (bh & 1)
			break;
	}
	if (fhd & 4)
		pos += 4;
	if (pos > PDEC_MAX_IN)
		return 0;
	PDEC_NEED(pos);
	*len = pos - off;
	*bound = (size_t)(fcs_size && fcs < sum ? fcs : sum);
	return 1;
}

static void pdec_start_workers(struct pdecoder *p)
{
	p->th = xcalloc((size_t)p->threads, sizeof(*p->th));
	for (int i = 0; i < p->threads; i++)
		if (pthread_create(&p->th[p->n_th], NULL, pdec_worker, p) == 0)
			p->n_th++;
}

static void pjob_reserve(uint8_t **b, size_t *cap, size_t n)
{
	if (*cap < n) {
		free(*b);
		*b = xmalloc(n);
		*cap = n;
	}
}

static void pdec_queue(struct pdecoder *p, size_t off, size_t bound, bool raw, size_t hdr_len);

#if HAVE_ISAL
#define GZ_HDR_MAX (64u << 10) /* a longer name or comment: no raw pieces */

/* The length of the gzip header at the window's start: 1, 0 (none there,
 * or longer than GZ_HDR_MAX), -1. Its CRC is the serial decoder's to
 * check, when the member's first piece is taken. */
static int pdec_gzip_header_len(struct pdecoder *p, size_t *hl, struct oci_error **err)
{
	if (pdec_ensure(p, GZ_HDR_MAX, err) < 0)
		return -1;
	size_t avail = p->in_len;
	const uint8_t *h = p->in + p->in_off;
	if (avail < 10 || h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 || (h[3] & 0xe0))
		return 0;
	size_t pos = 10;
	if (h[3] & 4) {
		if (pos + 2 > avail)
			return 0;
		pos += 2 + le16_at(h + pos);
	}
	for (uint8_t f = 8; f <= 16; f <<= 1) { /* FNAME, FCOMMENT */
		if (!(h[3] & f))
			continue;
		const uint8_t *z = pos < avail ? memchr(h + pos, 0, avail - pos) : NULL;
		if (!z)
			return 0;
		pos = (size_t)(z - h) + 1;
	}
	if (h[3] & 2)
		pos += 2;
	if (pos > avail)
		return 0;
	*hl = pos;
	return 1;
}

/* Where the next raw piece ends: just past an empty stored block's
 * 00 00 ff ff (a full flush, as pigz --independent ends each block with;
 * found by scanning, so the bytes may as well be compressed data, which
 * the worker's verdict tells apart), the first one at least
 * PDEC_TARGET_IN into the window, else the last one before the window's
 * bound or the input's end. 1, 0 (none), -1. */
static int pdec_full_flush_end(struct pdecoder *p, size_t from, size_t *end, struct oci_error **err)
{
	static const uint8_t mark[4] = {0, 0, 0xff, 0xff};
	size_t pos = from, last = 0;
	for (;;) {
		size_t avail = p->in_len < PDEC_MAX_IN ? p->in_len : PDEC_MAX_IN;
		const uint8_t *b = p->in + p->in_off;
		while (pos + 4 <= avail) {
			const uint8_t *c = memmem(b + pos, avail - pos, mark, 4);
			if (!c) {
				pos = avail - 3;
				break;
			}
			/* the mark cannot overlap itself: the next one starts past it */
			pos = (size_t)(c - b) + 4;
			if (pos >= PDEC_TARGET_IN) {
				*end = pos;
				return 1;
			}
			last = pos;
		}
		if (avail >= PDEC_MAX_IN || p->in_eof)
			break;
		if (pdec_ensure(p, p->in_len + PDEC_READ, err) < 0)
			return -1;
	}
	if (!last)
		return 0;
	*end = last;
	return 1;
}

/* Queue the next raw piece of the member being cut at its full flushes
 * (first: its header opens the window). 1, or 0: no full flush ahead, the
 * rest of the member is the serial decoder's. */
static int pdec_cut_raw(struct pdecoder *p, bool first, struct oci_error **err)
{
	size_t hl = 0, end = 0;
	int r = first ? pdec_gzip_header_len(p, &hl, err) : 1;
	if (r > 0)
		r = pdec_full_flush_end(p, hl, &end, err);
	if (r < 0)
		return -1;
	if (r == 0) {
		p->intra = false;
		p->cut_blocked = p->in_len > 0;
		return 0;
	}
	if (first)
		p->refused = 0;
	p->intra = true;
	/* a block of 128 KiB rarely inflates past 2 MiB; one that does is
	 * refused and the member goes on serially */
	pdec_queue(p, end, PDEC_KEEP, true, hl);
	return 1;
}

/* the last 32 KiB of the member's output, for the serial decoder's window */
static void pdec_hist_add(struct pdecoder *p, const uint8_t *b, size_t n)
{
	size_t cap = sizeof(p->hist);
	if (n >= cap) {
		memcpy(p->hist, b + n - cap, cap);
		p->hist_len = cap;
		return;
	}
	size_t keep = p->hist_len + n > cap ? cap - n : p->hist_len;
	memmove(p->hist, p->hist + p->hist_len - keep, keep);
	memcpy(p->hist + keep, b, n);
	p->hist_len = keep + n;
}

/* Take a raw piece at the head: its output handed on, the member's CRC and
 * length counted. Only in order from the member's header, each piece
 * starting where the one before ended at a block boundary. The first must
 * make at least 32 KiB: the serial decoder that may take over after it
 * has then a whole deflate window and the length of the member so far,
 * and a reference before the member's start is one it cannot meet. */
static bool pdec_take_raw(struct pdecoder *p, struct pjob *j)
{
	if (!j->clean)
		return false;
	if (j->hdr_len) {
		if (!p->synced || p->virt || j->out_len < sizeof(p->hist))
			return false;
		/* dec stands at a member's end (or the stream's start) and the
		 * window opens with 1f 8b 08: what dec would do first */
		gz_member_begin(p->dec);
		const uint8_t *ip = j->in;
		size_t il = j->hdr_len;
		struct oci_error *e = NULL;
		if (gzip_header(p->dec, &ip, &il, &e) < 0 || il || p->dec->gz != GZ_BODY) {
			/* dec reads the piece from its start and says what is wrong */
			oci_error_free(e);
			p->dec->at_end = true;
			return false;
		}
		p->virt = true;
		p->synced = false;
		p->mcrc = j->crc;
		p->mlen = j->out_len;
		p->hist_len = 0;
		p->hist_ok = true;
	} else {
		if (!p->virt)
			return false;
		p->mcrc = (uint32_t)crc32_combine(p->mcrc, j->crc, (z_off_t)j->out_len);
		p->mlen += j->out_len;
	}
	pdec_hist_add(p, j->out, j->out_len);
	return true;
}

/* dec, which has read the member's header, takes over at the end of the
 * raw pieces taken: their last 32 KiB as its window, their CRC and length
 * as its own, as if it had inflated them */
static void pdec_materialize(struct pdecoder *p)
{
	struct inflate_state *s = p->dec->isal;
	isal_inflate_reset(s);
	s->crc_flag = ISAL_GZIP_NO_HDR_VER;
	if (isal_inflate_set_dict(s, p->hist, (uint32_t)p->hist_len) != COMP_OK)
		abort(); /* dec has inflated nothing of the member: cannot fail */
	s->crc = p->mcrc;
	s->total_out = (uint32_t)p->mlen;
	p->virt = false;
}

/* After dec read a refused raw piece: where it stands between two blocks
 * of a member, no bit left, with 32 KiB of the member behind it all seen
 * here, the next raw pieces may be taken again (a false mark, or a
 * member's end, cost one piece, not the rest of the member) */
static void pdec_resync(struct pdecoder *p)
{
	struct decoder *d = p->dec;
	struct inflate_state *s = d->isal;
	if (d->at_end || d->gz != GZ_BODY || !p->hist_ok || p->hist_len < sizeof(p->hist) ||
	    s->total_out < sizeof(p->hist) || !isal_between_blocks(s))
		return;
	p->virt = true;
	p->mcrc = s->crc;
	p->mlen = s->total_out;
}
#endif

/* Cut the next piece off the window and queue it: 1, or 0 (none: the
 * input ended, or the next piece's end is unknown: cut_blocked), -1. */
static int pdec_cut(struct pdecoder *p, struct oci_error **err)
{
	size_t off = 0, bound = 0, n = 0;
#if HAVE_ISAL
	if (p->intra)
		return pdec_cut_raw(p, false, err);
#endif
	for (;;) {
		int r = pdec_ensure(p, off + 1, err);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		size_t l = 0, b = 0;
		r = p->kind == OCI_COMPRESS_GZIP ? pdec_gzip_piece(p, off, &l, &b, err)
						 : pdec_zstd_piece(p, off, &l, &b, err);
		if (r < 0)
			return -1;
		if (r == 0 || off + l > PDEC_MAX_IN || bound + b > PDEC_MAX_OUT)
			break;
		off += l;
		bound += b;
		n++;
		if (off >= PDEC_TARGET_IN || bound >= PDEC_TARGET_OUT)
			break;
	}
	if (n == 0) {
#if HAVE_ISAL
		/* one member whose end is not near: its full flushes, if any */
		if (p->kind == OCI_COMPRESS_GZIP)
			return pdec_cut_raw(p, true, err);
#endif
		p->cut_blocked = p->in_len > 0;
		return 0;
	}
	pdec_queue(p, off, bound, false, 0);
	return 1;
}

/* the window's first off bytes become the next piece */
static void pdec_queue(struct pdecoder *p, size_t off, size_t bound, bool raw, size_t hdr_len)
{
	struct pjob *j = &p->job[(p->head + p->count) % PDEC_WINDOW];
	pjob_reserve(&j->in, &j->in_cap, off);
	pjob_reserve(&j->out, &j->out_cap, bound + PDEC_SLACK);
	memcpy(j->in, p->in + p->in_off, off);
	j->in_len = off;
	j->bound = bound;
	j->out_len = 0;
	j->clean = false;
	j->raw = raw;
	j->hdr_len = hdr_len;
	j->crc = 0;
	p->in_off += off;
	p->in_len -= off;
	if (!p->n_th && !p->th)
		pdec_start_workers(p);
	pthread_mutex_lock(&p->mu);
	j->seq = p->next_seq++;
	j->state = PJ_QUEUED;
	p->count++;
	p->window_bytes += off + bound;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
}

/* wait for the head piece, inflating it here when no worker has begun */
static struct pjob *pdec_wait_head(struct pdecoder *p)
{
	struct pjob *j = &p->job[p->head];
	pthread_mutex_lock(&p->mu);
	while (j->state != PJ_DONE) {
		if (j->state == PJ_QUEUED || p->n_th == 0) {
			j->state = PJ_RUNNING;
			pthread_mutex_unlock(&p->mu);
			if (!p->help)
				p->help = pdec_worker_decoder(p->kind);
			pjob_exec(p->help, j);
			pthread_mutex_lock(&p->mu);
			j->state = PJ_DONE;
			break;
		}
		pthread_cond_wait(&p->done, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return j;
}

static void pdec_release_head(struct pdecoder *p)
{
	struct pjob *j = &p->job[p->head];
	if (j->in_cap > PDEC_KEEP) {
		free(j->in);
		j->in = NULL;
		j->in_cap = 0;
	}
	if (j->out_cap > PDEC_KEEP + PDEC_SLACK) {
		free(j->out);
		j->out = NULL;
		j->out_cap = 0;
	}
	pthread_mutex_lock(&p->mu);
	p->window_bytes -= j->in_len + j->bound;
	j->state = PJ_FREE;
	p->head = (p->head + 1) % PDEC_WINDOW;
	p->count--;
	pthread_mutex_unlock(&p->mu);
	p->head_mode = PH_NONE;
}

int pdecoder_fill(struct pdecoder *p, uint8_t *out, size_t cap, size_t *made_out, bool *eof,
		  bool *decode_error, struct oci_error **err)
{
	size_t made = 0;
	*eof = false;
	*decode_error = false;
	while (made < cap) {
		if (p->head_mode == PH_COPY) {
			struct pjob *j = &p->job[p->head];
			size_t n = j->out_len - p->head_pos;
			if (n > cap - made)
				n = cap - made;
			memcpy(out + made, j->out + p->head_pos, n);
			made += n;
			p->head_pos += n;
			if (p->head_pos == j->out_len)
				pdec_release_head(p);
			continue;
		}
		if (p->head_mode == PH_FEED) {
			/* through the serial decoder: its errors, its state */
			struct pjob *j = &p->job[p->head];
#if HAVE_ISAL
			if (p->virt)
				pdec_materialize(p);
#endif
			const uint8_t *ip = j->in + p->head_pos;
			size_t il = j->in_len - p->head_pos, il0 = il;
			uint8_t *op = out + made;
			size_t ol = cap - made, ol0 = ol;
			if (decoder_run(p->dec, &ip, &il, &op, &ol, err) < 0) {
				*decode_error = true;
				return -1;
			}
#if HAVE_ISAL
			if (j->raw)
				pdec_hist_add(p, out + made, ol0 - ol);
			else
				p->hist_ok = false;
#endif
			made += ol0 - ol;
			p->head_pos += il0 - il;
			if (il == 0 && ol == ol0) {
				p->synced = decoder_at_end(p->dec);
#if HAVE_ISAL
				if (j->raw)
					pdec_resync(p);
#endif
				pdec_release_head(p);
			} else if (il == il0 && ol == ol0 && il) {
				return error_set(err, OCI_E_INVALID, 0, "decompression stalled");
			}
			continue;
		}
		if (p->par) {
			bool split = pdec_may_split(p);
			while (split && !p->cut_blocked && p->count < PDEC_WINDOW &&
			       (p->count == 0 || p->window_bytes < PDEC_WINDOW_SIZE)) {
				int r = pdec_cut(p, err);
				if (r < 0)
					return -1;
				if (r == 0)
					break;
			}
			if (p->count > 0) {
				struct pjob *j = pdec_wait_head(p);
				p->head_pos = 0;
#if HAVE_ISAL
				if (j->raw) {
					if (pdec_take_raw(p, j)) {
						p->refused = 0;
						p->head_mode = PH_COPY;
						p->pieces++;
						if (j->out_len == 0)
							pdec_release_head(p);
					} else {
						/* through dec; after a few in a row, the
						 * rest of the member is serial */
						if (++p->refused >= PDEC_REFUSALS)
							p->intra = false;
						if (j->hdr_len) {
							p->hist_len = 0;
							p->hist_ok = true;
						}
						p->head_mode = PH_FEED;
					}
					continue;
				}
#endif
				if (p->synced && j->clean) {
#if HAVE_ISAL
					p->hist_ok = false;
#endif
					p->head_mode = PH_COPY;
					p->pieces++;
					decoder_mark_member_end(p->dec);
					if (j->out_len == 0)
						pdec_release_head(p);
				} else {
					p->head_mode = PH_FEED;
				}
				continue;
			}
			/* nothing cut: serial to the end of this member, or of the input */
			p->par = false;
			p->cut_blocked = false;
			continue;
		}
		if (p->in_len == 0 && pdec_ensure(p, 1, err) < 0)
			return -1;
#if HAVE_ISAL
		if (p->virt)
			pdec_materialize(p);
#endif
		const uint8_t *ip = p->in + p->in_off;
		size_t il = p->in_len, il0 = il;
		uint8_t *op = out + made;
		size_t ol = cap - made, ol0 = ol;
		if (decoder_run(p->dec, &ip, &il, &op, &ol, err) < 0) {
			*decode_error = true;
			return -1;
		}
		made += ol0 - ol;
		p->in_off += il0 - il;
		p->in_len = il;
#if HAVE_ISAL
		p->hist_ok = false;
#endif
		if (p->threads > 1 && decoder_at_end(p->dec) && (il || !p->in_eof) &&
		    pdec_may_split(p)) {
			/* a boundary: pieces may follow */
			p->par = true;
			p->synced = true;
			continue;
		}
		if (ol == ol0) {
			if (il == 0 && p->in_eof) {
				if (!decoder_at_end(p->dec))
					return error_set(err, OCI_E_INVALID, 0,
							 "compressed stream is truncated");
				*eof = true;
				break;
			}
			if (il && il == il0)
				return error_set(err, OCI_E_INVALID, 0, "decompression stalled");
		}
	}
	*made_out = made;
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

/* One gzip member as libdeflate_gzip_compress writes it, plus FEXTRA
 * with one subfield, "OT" (4 bytes: the member's length, header to
 * trailer), which lets a reader find where the member ends without
 * inflating it (pdec_gzip_piece). Other readers step over an unknown
 * subfield (RFC 1952 2.3.1.1), so the blob stays plain gzip. 0 on
 * failure. */
#define PGZ_HEADER 20
static size_t pgz_member(struct libdeflate_compressor *c, int level, const uint8_t *in,
			 size_t in_len, uint8_t *out, size_t cap)
{
	if (cap < PGZ_HEADER + 8)
		return 0;
	size_t n =
	    libdeflate_deflate_compress(c, in, in_len, out + PGZ_HEADER, cap - PGZ_HEADER - 8);
	size_t total = PGZ_HEADER + n + 8;
	if (n == 0 || total > UINT32_MAX)
		return 0;
	static const uint8_t fixed[] = {
	    0x1f, 0x8b, 8, 4 /* FEXTRA */, 0, 0, 0, 0, 0, 0xff, 8, 0, 'O', 'T', 4, 0};
	memcpy(out, fixed, sizeof(fixed));
	/* XFL as libdeflate sets it */
	out[8] = level < 2 ? 4 : level >= 8 ? 2 : 0;
	uint32_t v[3] = {(uint32_t)total, libdeflate_crc32(0, in, in_len), (uint32_t)in_len};
	uint8_t *at[3] = {out + 16, out + PGZ_HEADER + n, out + PGZ_HEADER + n + 4};
	for (int k = 0; k < 3; k++)
		for (int b = 0; b < 4; b++)
			at[k][b] = (uint8_t)(v[k] >> (8 * b));
	return total;
}

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
		    pgz_member(c, p->level, job->in, job->in_len, job->out, job->out_cap);
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
	size_t bound = libdeflate_deflate_compress_bound(c, PGZ_BLOCK) + PGZ_HEADER + 8;
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
	pool_stop(&p->mu, &p->work, &p->stop, p->threads, p->n_threads);
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
