/* Content digests ("sha256:<hex>", "sha512:<hex>") and streaming hashers.
 * A digest is parsed and checked (registered algorithm, lowercase hex of the
 * right length) before it is ever used to build a path. */
#ifndef OCI_DIGEST_H
#define OCI_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <oci/error.h>

enum oci_digest_algo {
	OCI_DIGEST_NONE = 0,
	OCI_DIGEST_SHA256 = 1,
	OCI_DIGEST_SHA512 = 2,
};

#define OCI_DIGEST_MAX 136 /* "sha512:" + 128 hex + NUL */

struct oci_digest {
	enum oci_digest_algo algo;
	char str[OCI_DIGEST_MAX];
};

OCI_EXPORT int oci_digest_parse(const char *s, struct oci_digest *out, struct oci_error **err);
OCI_EXPORT const char *oci_digest_hex(const struct oci_digest *d);
OCI_EXPORT const char *oci_digest_algo_name(enum oci_digest_algo algo);
OCI_EXPORT bool oci_digest_equal(const struct oci_digest *a, const struct oci_digest *b);
/* "sha256:0123456789ab" for display; buf needs 20 bytes */
OCI_EXPORT const char *oci_digest_short(const struct oci_digest *d, char buf[20]);

struct oci_hash;
OCI_EXPORT struct oci_hash *oci_hash_new(enum oci_digest_algo algo);
OCI_EXPORT void oci_hash_update(struct oci_hash *h, const void *buf, size_t len);
OCI_EXPORT void oci_hash_final(struct oci_hash *h, struct oci_digest *out);
OCI_EXPORT void oci_hash_free(struct oci_hash *h);
OCI_EXPORT void oci_digest_buffer(enum oci_digest_algo algo, const void *buf, size_t len,
				  struct oci_digest *out);

#endif
