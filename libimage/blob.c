/* Blob streams: every byte counted and hashed; size is checked on open and
 * again at the end, the digest at the end, which a caller reaches even when
 * it stops early (oci_blob_finish reads to EOF). */
#include <errno.h>
#include <fcntl.h>
#include "layout_int.h"

struct oci_blob {
	struct blob_loc loc;
	struct oci_digest want;
	int64_t want_size;
	int64_t pos;
	struct oci_hash *hash;
	int state; /* 0 reading, 1 verified, <0 failed with that status */
};

int oci_blob_open(struct oci_layout *l, const struct oci_descriptor *d, struct oci_blob **out,
		  struct oci_error **err)
{
	struct blob_loc loc;
	int r = layout_locate(l, &d->digest, &loc, err);
	if (r < 0)
		return r;
	if (loc.size != d->size) {
		if (loc.own_fd)
			close(loc.fd);
		return error_set(
		    err, OCI_E_MISMATCH, 0,
		    "blob %s: size mismatch: descriptor says %lld bytes, blob has %lld",
		    d->digest.str, (long long)d->size, (long long)loc.size);
	}
	struct oci_blob *b = xcalloc(1, sizeof(*b));
	b->loc = loc;
	b->want = d->digest;
	b->want_size = d->size;
	b->hash = oci_hash_new(d->digest.algo);
	if (loc.fd >= 0)
		posix_fadvise(loc.fd, loc.off, loc.size, POSIX_FADV_SEQUENTIAL);
	*out = b;
	return 0;
}

static int blob_check_end(struct oci_blob *b, struct oci_error **err)
{
	if (b->pos != b->want_size) {
		b->state = OCI_E_MISMATCH;
		return error_set(err, OCI_E_MISMATCH, 0, "blob %s: truncated: %lld of %lld bytes",
				 b->want.str, (long long)b->pos, (long long)b->want_size);
	}
	struct oci_digest got;
	oci_hash_final(b->hash, &got);
	if (!oci_digest_equal(&got, &b->want)) {
		b->state = OCI_E_MISMATCH;
		return error_set(err, OCI_E_MISMATCH, 0, "blob %s: digest mismatch (got %s)",
				 b->want.str, got.str);
	}
	b->state = 1;
	return 0;
}

ssize_t oci_blob_read(struct oci_blob *b, void *buf, size_t len, struct oci_error **err)
{
	if (b->state < 0)
		return error_set(err, b->state, 0, "blob %s: read after a failure", b->want.str);
	if (b->state == 1)
		return 0;
	int64_t left = b->want_size - b->pos;
	if ((uint64_t)left < len)
		len = (size_t)left;
	if (len == 0)
		return blob_check_end(b, err);
	ssize_t n;
	if (b->loc.mem) {
		memcpy(buf, b->loc.mem + b->pos, len);
		n = (ssize_t)len;
	} else {
		do
			n = pread(b->loc.fd, buf, len, b->loc.off + b->pos);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			b->state = OCI_E_IO;
			return error_set(err, OCI_E_IO, errno, "blob %s: read", b->want.str);
		}
		if (n == 0)
			return blob_check_end(b, err); /* shrank under us */
	}
	oci_hash_update(b->hash, buf, (size_t)n);
	b->pos += n;
	return n;
}

int oci_blob_finish(struct oci_blob *b, struct oci_error **err)
{
	char buf[65536];
	for (;;) {
		ssize_t n = oci_blob_read(b, buf, sizeof(buf), err);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return 0;
	}
}

void oci_blob_free(struct oci_blob *b)
{
	if (!b)
		return;
	if (b->loc.own_fd)
		close(b->loc.fd);
	oci_hash_free(b->hash);
	free(b);
}

int oci_blob_read_all(struct oci_layout *l, const struct oci_descriptor *d, size_t max, char **buf,
		      size_t *len, struct oci_error **err)
{
	if (d->size < 0 || (uint64_t)d->size > max)
		return error_set(err, OCI_E_LIMIT, 0,
				 "blob %s: %lld bytes exceeds the limit of %zu", d->digest.str,
				 (long long)d->size, max);
	struct oci_blob *b;
	int r = oci_blob_open(l, d, &b, err);
	if (r < 0)
		return r;
	char *data = xmalloc((size_t)d->size + 1);
	size_t got = 0;
	for (;;) {
		ssize_t n = oci_blob_read(b, data + got, (size_t)d->size - got, err);
		if (n < 0) {
			free(data);
			oci_blob_free(b);
			return (int)n;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	oci_blob_free(b);
	data[got] = 0;
	*buf = data;
	*len = got;
	return 0;
}
