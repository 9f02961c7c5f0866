/* A layer as a verified stream of tar entries. The blob is hashed as it is
 * read, inflated, the tar hashed again (diff_id) and handed to a libarchive
 * reader that knows only tar; at the end both digests are checked, after
 * reading the blob to its very end. */
#include <errno.h>
#include <pthread.h>
#include "compress.h"
#include "layout_int.h"
#include "snapshot_int.h"

#define LAYER_SLOT (1u << 20)
#define LAYER_RING 4

/* Two threads joined by a ring of LAYER_RING buffers: the producer reads
 * the blob, hashes it, inflates and hashes the tar (diff_id); the consumer
 * (the caller, through libarchive) parses and applies. Memory stays at the
 * ring's size whatever the layer's size. A layer of independent gzip
 * members or zstd frames is inflated on all cores within the producer
 * (pdecoder in compress.c): the order of the bytes, and the errors, are the
 * serial decoder's. */
struct oci_layer_reader {
	/* producer side */
	struct oci_blob *blob;
	struct pdecoder *dec;
	struct oci_hash *diff;
	struct oci_error *prod_err;
	int64_t compressed_bytes; /* atomic: read for progress */
	pthread_t thread;
	bool thread_started;

	/* the ring */
	pthread_mutex_t mu;
	pthread_cond_t can_fill, can_take;
	uint8_t *slot[LAYER_RING];
	size_t slot_len[LAYER_RING];
	size_t head, count;
	int held; /* slot lent to libarchive, or -1 */
	/* With hash_in_caller, the tar's sha256 is the consumer's, slot by slot
	 * as it takes them; but when the ring is full (the consumer is the
	 * slower one) the producer, rather than wait, hashes the oldest
	 * filled slot not hashed yet. Slots are numbered as they are filled;
	 * hashed is the number of the next one to hash, under hash_mu: each
	 * slot is hashed once, in order, by whichever comes first. */
	uint64_t slot_seq[LAYER_RING];
	uint64_t filled;
	pthread_mutex_t hash_mu;
	uint64_t hashed;
	bool prod_done, prod_failed, stop;

	/* consumer side */
	struct oci_digest want_diff;
	bool check_diff;
	struct archive *ar;
	struct oci_error *cb_err; /* error from the read path, kept for the caller */
	char *name;		  /* "layer sha256:..." */
	bool finished;
	bool hash_in_caller;
	int64_t tar_bytes;  /* handed to libarchive (or drained) so far */
	int64_t entry_end;  /* where the current entry's data ends in the tar, or -1 */
	int64_t entry_left; /* of its data not yet read */
	bool short_end;	    /* the tar ended in the last entry's padding */
};

static ssize_t layer_blob_read(void *arg, void *buf, size_t len, struct oci_error **err)
{
	struct oci_layer_reader *r = arg;
	ssize_t n = oci_blob_read(r->blob, buf, len, err);
	if (n > 0)
		__atomic_add_fetch(&r->compressed_bytes, n, __ATOMIC_RELAXED);
	return n;
}

/* Fill out with up to cap bytes of tar; *eof at the verified end of the
 * blob and of the compressed stream. */
static int layer_produce(struct oci_layer_reader *r, uint8_t *out, size_t cap, size_t *made_out,
			 bool *eof)
{
	bool corrupt = false;
	*made_out = 0;
	if (pdecoder_fill(r->dec, out, cap, made_out, eof, &corrupt, &r->prod_err) < 0) {
		if (corrupt) {
			/* corrupt data is most often a blob that is not what its digest
			 * says: read it to the end and say so when that is the case */
			struct oci_error *e2 = NULL;
			if (oci_blob_finish(r->blob, &e2) < 0 && e2->status == OCI_E_MISMATCH) {
				oci_error_free(r->prod_err);
				r->prod_err = e2;
			} else {
				oci_error_free(e2);
			}
		}
		return -1;
	}
	if (!r->hash_in_caller)
		oci_hash_update(r->diff, out, *made_out);
	return 0;
}

static void *layer_producer(void *arg)
{
	struct oci_layer_reader *r = arg;
	for (;;) {
		pthread_mutex_lock(&r->mu);
		while (!r->stop && r->count + (r->held >= 0) >= LAYER_RING) {
			uint64_t h = __atomic_load_n(&r->hashed, __ATOMIC_ACQUIRE);
			uint64_t first = r->slot_seq[r->head];
			if (r->hash_in_caller && r->count && h >= first && h < first + r->count) {
				/* slot h is in the ring, and stays filled until the
				 * consumer has taken it and then hashed it or seen that we
				 * did (under hash_mu): only the producer refills */
				size_t idx = (r->head + (size_t)(h - first)) % LAYER_RING;
				size_t len = r->slot_len[idx];
				pthread_mutex_unlock(&r->mu);
				pthread_mutex_lock(&r->hash_mu);
				if (r->hashed == h) {
					oci_hash_update(r->diff, r->slot[idx], len);
					__atomic_store_n(&r->hashed, h + 1, __ATOMIC_RELEASE);
				}
				pthread_mutex_unlock(&r->hash_mu);
				pthread_mutex_lock(&r->mu);
				continue;
			}
			pthread_cond_wait(&r->can_fill, &r->mu);
		}
		if (r->stop) {
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		size_t idx = (r->head + r->count) % LAYER_RING;
		pthread_mutex_unlock(&r->mu);

		size_t made = 0;
		bool eof = false;
		/* a signal ends a long read between slots, not at the layer's end */
		int rc = oci_cancelled()
			     ? error_set(&r->prod_err, OCI_E_INTERRUPTED, 0, "interrupted")
			     : layer_produce(r, r->slot[idx], LAYER_SLOT, &made, &eof);

		pthread_mutex_lock(&r->mu);
		if (rc == 0 && made) {
			r->slot_len[idx] = made;
			r->slot_seq[idx] = r->filled++;
			r->count++;
		}
		if (rc < 0 || eof) {
			r->prod_done = true;
			r->prod_failed = rc < 0;
		}
		pthread_cond_signal(&r->can_take);
		bool done = r->prod_done;
		pthread_mutex_unlock(&r->mu);
		if (done)
			return NULL;
	}
}

/* The next chunk of tar for the consumer; 0 at the end, -1 on error. */
static ssize_t layer_take(struct oci_layer_reader *r, const void **buf)
{
	pthread_mutex_lock(&r->mu);
	if (r->held >= 0) {
		r->held = -1;
		pthread_cond_signal(&r->can_fill);
	}
	while (r->count == 0 && !r->prod_done)
		pthread_cond_wait(&r->can_take, &r->mu);
	ssize_t n;
	if (r->count > 0) {
		size_t idx = r->head;
		r->head = (r->head + 1) % LAYER_RING;
		r->count--;
		r->held = (int)idx;
		*buf = r->slot[idx];
		n = (ssize_t)r->slot_len[idx];
		r->tar_bytes += n;
		if (r->hash_in_caller) {
			uint64_t seq = r->slot_seq[idx];
			pthread_mutex_unlock(&r->mu);
			/* every slot before this one was taken, so hashed: this one
			 * is next, unless the producer has hashed it already */
			pthread_mutex_lock(&r->hash_mu);
			if (r->hashed == seq) {
				oci_hash_update(r->diff, *buf, (size_t)n);
				__atomic_store_n(&r->hashed, seq + 1, __ATOMIC_RELEASE);
			}
			pthread_mutex_unlock(&r->hash_mu);
			return n;
		}
	} else {
		n = r->prod_failed ? -1 : 0;
	}
	pthread_mutex_unlock(&r->mu);
	if (n < 0 && !r->cb_err && r->prod_err) {
		r->cb_err = r->prod_err;
		r->prod_err = NULL;
	}
	return n;
}

static la_ssize_t layer_archive_read(struct archive *a, void *data, const void **buf)
{
	(void)a;
	return layer_take(data, buf);
}

static int layer_error(struct oci_layer_reader *r, struct oci_error **err, const char *what)
{
	if (!r->cb_err) {
		/* a tar that does not parse may be a blob that fails its digest:
		 * drain the stream, and prefer that verdict */
		const void *buf;
		ssize_t n;
		while ((n = layer_take(r, &buf)) > 0)
			;
	}
	if (r->cb_err) {
		int st = r->cb_err->status;
		/* "blob D: x" -> "layer D: x": the same digest need not be said twice */
		const char *msg = r->cb_err->msg;
		const char *dg = r->name + 6; /* after "layer " */
		size_t dl = strlen(dg);
		if (strncmp(msg, "blob ", 5) == 0 && strncmp(msg + 5, dg, dl) == 0 &&
		    strncmp(msg + 5 + dl, ": ", 2) == 0)
			msg += 5 + dl + 2;
		error_set(err, st, 0, "%s: %s", r->name, msg);
		return st;
	}
	const char *msg = archive_error_string(r->ar);
	return error_set(err, OCI_E_INVALID, 0, "%s: %s: %s", r->name, what,
			 msg ? msg : "unreadable tar");
}

/* umoci insert (until umoci#534, 2024; Debian 12 has 0.4.7) ends a layer right after its last
 * entry's data, without the padding to a block or the end-of-archive
 * blocks; Go's archive/tar (Docker, containerd) and bsdtar read such a
 * layer whole, libarchive's reader calls it truncated. Exactly that is
 * taken as the tar's end: the stream ended, intact, after the last entry's
 * data and before its padding would. Data cut short is still an error. */
static bool layer_short_end(struct oci_layer_reader *r)
{
	if (r->cb_err || r->entry_end < 0 || r->entry_end % 512 == 0)
		return false;
	const void *buf;
	ssize_t n;
	while ((n = layer_take(r, &buf)) > 0)
		;
	if (n < 0 || r->cb_err)
		return false;
	int64_t padded = r->entry_end + (512 - r->entry_end % 512);
	r->short_end = r->tar_bytes >= r->entry_end && r->tar_bytes < padded;
	return r->short_end;
}

static void layer_stop(struct oci_layer_reader *r)
{
	if (!r->thread_started)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_broadcast(&r->can_fill);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	r->thread_started = false;
}

int oci_layer_open(struct oci_layout *l, const struct oci_descriptor *layer,
		   const struct oci_digest *diff_id, struct oci_layer_reader **out,
		   struct oci_error **err)
{
	return oci_layer_open_flags(l, layer, diff_id, 0, out, err);
}

int oci_layer_open_flags(struct oci_layout *l, const struct oci_descriptor *layer,
			 const struct oci_digest *diff_id, int flags, struct oci_layer_reader **out,
			 struct oci_error **err)
{
	int comp = oci_media_layer_compression(layer->media_type);
	if (comp < 0)
		return error_set(err, OCI_E_UNSUPPORTED, 0,
				 "layer %s: unsupported media type \"%.200s\"", layer->digest.str,
				 layer->media_type);
	struct oci_layer_reader *r = xcalloc(1, sizeof(*r));
	r->name = xasprintf("layer %s", layer->digest.str);
	r->held = -1;
	r->entry_end = -1;
	r->hash_in_caller = flags & OCI_LAYER_HASH_IN_CALLER;
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->hash_mu, NULL);
	pthread_cond_init(&r->can_fill, NULL);
	pthread_cond_init(&r->can_take, NULL);
	int rc = oci_blob_open(l, layer, &r->blob, err);
	if (rc < 0) {
		oci_layer_free(r);
		return rc;
	}
	r->dec = pdecoder_new(comp, pdecoder_threads(), layer_blob_read, r);
	r->check_diff = diff_id != NULL;
	if (diff_id)
		r->want_diff = *diff_id;
	r->diff = oci_hash_new(diff_id ? diff_id->algo : OCI_DIGEST_SHA256);
	for (int i = 0; i < LAYER_RING; i++)
		r->slot[i] = xmalloc(LAYER_SLOT);
	if ((rc = pthread_create(&r->thread, NULL, layer_producer, r)) != 0) {
		oci_layer_free(r);
		return error_set(err, OCI_E_IO, rc, "start a reader thread");
	}
	r->thread_started = true;
	r->ar = archive_read_new();
	if (!r->ar)
		abort();
	archive_read_support_format_tar(r->ar);
	if (archive_read_open(r->ar, r, NULL, layer_archive_read, NULL) != ARCHIVE_OK) {
		rc = layer_error(r, err, "open tar");
		oci_layer_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int oci_layer_next(struct oci_layer_reader *r, struct archive_entry **entry, struct oci_error **err)
{
	if (r->finished)
		return 0;
	int a = r->short_end ? ARCHIVE_EOF : archive_read_next_header(r->ar, entry);
	if (a != ARCHIVE_OK && a != ARCHIVE_EOF && !(a == ARCHIVE_WARN && !r->cb_err) &&
	    layer_short_end(r))
		a = ARCHIVE_EOF;
	if (a == ARCHIVE_EOF) {
		int rc = oci_layer_finish(r, err);
		return rc < 0 ? rc : 0;
	}
	if (a != ARCHIVE_OK && !(a == ARCHIVE_WARN && !r->cb_err))
		return layer_error(r, err, "read tar header");
	/* the header is consumed: the data starts here (not known for sparse
	 * files, whose stored size is not their size) */
	int64_t size = archive_entry_size_is_set(*entry) ? archive_entry_size(*entry) : 0;
	r->entry_left = size;
	r->entry_end =
	    archive_entry_sparse_count(*entry) > 0 ? -1 : archive_filter_bytes(r->ar, 0) + size;
	return 1;
}

ssize_t oci_layer_read_data(struct oci_layer_reader *r, void *buf, size_t len,
			    struct oci_error **err)
{
	/* never past the entry's end: libarchive would read on into the
	 * padding in the same call and lose these bytes if it is missing */
	if (r->entry_left <= 0 || r->short_end)
		return 0;
	if ((uint64_t)len > (uint64_t)r->entry_left)
		len = (size_t)r->entry_left;
	la_ssize_t n = archive_read_data(r->ar, buf, len);
	if (n < 0)
		return layer_error(r, err, "read tar data");
	r->entry_left -= n;
	return n;
}

int oci_layer_read_block(struct oci_layer_reader *r, const void **buf, size_t *len, int64_t *offset,
			 struct oci_error **err)
{
	la_int64_t off;
	if (r->short_end)
		return 0;
	int a = archive_read_data_block(r->ar, buf, len, &off);
	if (a == ARCHIVE_EOF)
		return 0;
	if (a != ARCHIVE_OK && a != ARCHIVE_WARN) {
		if (layer_short_end(r))
			return 0;
		return layer_error(r, err, "read tar data");
	}
	*offset = off;
	/* data as stored: holes of sparse files are not (their end is not
	 * tracked) */
	r->entry_left -= (int64_t)*len;
	return 1;
}

int64_t oci_layer_bytes_read(const struct oci_layer_reader *r)
{
	return __atomic_load_n(&r->compressed_bytes, __ATOMIC_RELAXED);
}

int oci_layer_finish(struct oci_layer_reader *r, struct oci_error **err)
{
	if (r->finished)
		return 0;
	const void *buf;
	ssize_t n;
	/* the tar's end is not the stream's: let the producer read and hash
	 * every byte left */
	while ((n = layer_take(r, &buf)) > 0)
		;
	layer_stop(r);
	if (n < 0)
		return layer_error(r, err, "read");
	struct oci_digest got;
	oci_hash_final(r->diff, &got);
	if (r->check_diff && !oci_digest_equal(&got, &r->want_diff))
		return error_set(err, OCI_E_MISMATCH, 0, "%s: diff_id mismatch (want %s, got %s)",
				 r->name, r->want_diff.str, got.str);
	r->finished = true;
	return 0;
}

void oci_layer_free(struct oci_layer_reader *r)
{
	if (!r)
		return;
	layer_stop(r);
	if (r->ar)
		archive_read_free(r->ar);
	oci_blob_free(r->blob);
	pdecoder_free(r->dec);
	oci_hash_free(r->diff);
	oci_error_free(r->cb_err);
	oci_error_free(r->prod_err);
	for (int i = 0; i < LAYER_RING; i++)
		free(r->slot[i]);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->hash_mu);
	pthread_cond_destroy(&r->can_fill);
	pthread_cond_destroy(&r->can_take);
	free(r->name);
	free(r);
}

char *oci_layer_entry_xattrs(struct archive_entry *e)
{
	size_t n = (size_t)archive_entry_xattr_reset(e);
	if (n == 0)
		return NULL;
	/* one encoder for every producer: the string is compared as a whole */
	struct snapshot_xattr *v = xcalloc(n, sizeof(*v));
	size_t k = 0;
	while (k < n && archive_entry_xattr_next(e, &v[k].name, &v[k].val, &v[k].len) == ARCHIVE_OK)
		k++;
	char *s = snapshot_xattrs_encode(v, k);
	free(v);
	return s;
}
