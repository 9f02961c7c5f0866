/* A layer as a verified stream of tar entries. The blob is hashed as it is
 * read, inflated, the tar hashed again (diff_id) and handed to a libarchive
 * reader that knows only tar; at the end both digests are checked, after
 * reading the blob to its very end. */
#include <errno.h>
#include "compress.h"
#include "layout_int.h"

#define LAYER_INBUF  (256u << 10)
#define LAYER_OUTBUF (1u << 20)

struct oci_layer_reader {
	struct oci_blob *blob;
	struct decoder *dec;
	struct oci_hash *diff;
	struct oci_digest want_diff;
	bool check_diff;
	struct archive *ar;
	uint8_t *in, *out;
	const uint8_t *in_p;
	size_t in_len;
	bool blob_eof;
	int64_t tar_bytes;
	int64_t compressed_bytes;
	struct oci_error *cb_err; /* error from the read callback, kept for the caller */
	char *name;               /* "layer sha256:..." */
	bool finished;
};

/* Produce the next chunk of tar: read, hash and inflate as needed. */
static ssize_t layer_fill(struct oci_layer_reader *r, const void **buf)
{
	for (;;) {
		if (r->in_len == 0 && !r->blob_eof) {
			ssize_t n = oci_blob_read(r->blob, r->in, LAYER_INBUF, &r->cb_err);
			if (n < 0)
				return -1;
			if (n == 0)
				r->blob_eof = true;
			r->in_p = r->in;
			r->in_len = (size_t)n;
			r->compressed_bytes += n;
		}
		uint8_t *op = r->out;
		size_t ol = LAYER_OUTBUF;
		size_t in_before = r->in_len;
		if (decoder_run(r->dec, &r->in_p, &r->in_len, &op, &ol, &r->cb_err) < 0)
			return -1;
		size_t made = LAYER_OUTBUF - ol;
		if (made) {
			oci_hash_update(r->diff, r->out, made);
			r->tar_bytes += (int64_t)made;
			*buf = r->out;
			return (ssize_t)made;
		}
		if (r->blob_eof && r->in_len == 0) {
			if (!decoder_at_end(r->dec)) {
				error_set(&r->cb_err, OCI_E_INVALID, 0,
					  "compressed stream is truncated");
				return -1;
			}
			return 0;
		}
		if (r->in_len && r->in_len == in_before) {
			error_set(&r->cb_err, OCI_E_INVALID, 0, "decompression stalled");
			return -1;
		}
	}
}

static la_ssize_t layer_archive_read(struct archive *a, void *data, const void **buf)
{
	(void)a;
	return layer_fill(data, buf);
}

int oci_layer_open(struct oci_layout *l, const struct oci_descriptor *layer,
		   const struct oci_digest *diff_id, struct oci_layer_reader **out,
		   struct oci_error **err)
{
	int comp = oci_media_layer_compression(layer->media_type);
	if (comp < 0)
		return error_set(err, OCI_E_UNSUPPORTED, 0, "layer %s: unsupported media type \"%.200s\"",
				 layer->digest.str, layer->media_type);
	struct oci_layer_reader *r = xcalloc(1, sizeof(*r));
	r->name = xasprintf("layer %s", layer->digest.str);
	int rc = oci_blob_open(l, layer, &r->blob, err);
	if (rc < 0) {
		oci_layer_free(r);
		return rc;
	}
	r->dec = decoder_new(comp);
	r->check_diff = diff_id != NULL;
	if (diff_id)
		r->want_diff = *diff_id;
	r->diff = oci_hash_new(diff_id ? diff_id->algo : OCI_DIGEST_SHA256);
	r->in = xmalloc(LAYER_INBUF);
	r->out = xmalloc(LAYER_OUTBUF);
	r->ar = archive_read_new();
	if (!r->ar)
		abort();
	archive_read_support_format_tar(r->ar);
	if (archive_read_open(r->ar, r, NULL, layer_archive_read, NULL) != ARCHIVE_OK) {
		rc = error_set(err, OCI_E_INVALID, 0, "%s: %s", r->name,
			       r->cb_err ? r->cb_err->msg : archive_error_string(r->ar));
		oci_layer_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static int layer_error(struct oci_layer_reader *r, struct oci_error **err, const char *what)
{
	if (r->cb_err) {
		int st = r->cb_err->status;
		error_set(err, st, 0, "%s: %s", r->name, r->cb_err->msg);
		return st;
	}
	const char *msg = archive_error_string(r->ar);
	return error_set(err, OCI_E_INVALID, 0, "%s: %s: %s", r->name, what,
			 msg ? msg : "unreadable tar");
}

int oci_layer_next(struct oci_layer_reader *r, struct archive_entry **entry,
		   struct oci_error **err)
{
	if (r->finished)
		return 0;
	int a = archive_read_next_header(r->ar, entry);
	if (a == ARCHIVE_EOF) {
		int rc = oci_layer_finish(r, err);
		return rc < 0 ? rc : 0;
	}
	if (a == ARCHIVE_WARN && !r->cb_err)
		return 1;
	if (a != ARCHIVE_OK)
		return layer_error(r, err, "read tar header");
	return 1;
}

ssize_t oci_layer_read_data(struct oci_layer_reader *r, void *buf, size_t len,
			    struct oci_error **err)
{
	la_ssize_t n = archive_read_data(r->ar, buf, len);
	if (n < 0)
		return layer_error(r, err, "read tar data");
	return n;
}

int oci_layer_read_block(struct oci_layer_reader *r, const void **buf, size_t *len,
			 int64_t *offset, struct oci_error **err)
{
	la_int64_t off;
	int a = archive_read_data_block(r->ar, buf, len, &off);
	if (a == ARCHIVE_EOF)
		return 0;
	if (a != ARCHIVE_OK && a != ARCHIVE_WARN)
		return layer_error(r, err, "read tar data");
	*offset = off;
	return 1;
}

int64_t oci_layer_bytes_read(const struct oci_layer_reader *r)
{
	return r->compressed_bytes;
}

int oci_layer_finish(struct oci_layer_reader *r, struct oci_error **err)
{
	if (r->finished)
		return 0;
	const void *buf;
	ssize_t n;
	/* the tar's end is not the stream's: read and hash every byte left */
	while ((n = layer_fill(r, &buf)) > 0)
		;
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
	if (r->ar)
		archive_read_free(r->ar);
	oci_blob_free(r->blob);
	decoder_free(r->dec);
	oci_hash_free(r->diff);
	oci_error_free(r->cb_err);
	free(r->in);
	free(r->out);
	free(r->name);
	free(r);
}
