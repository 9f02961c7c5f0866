/* Digests: strict parsing (registered algorithm, lowercase hex, exact
 * length) and OpenSSL-backed streaming hashes. */
#include <openssl/evp.h>
#include <pthread.h>
#include "internal.h"

struct oci_hash {
	EVP_MD_CTX *ctx;
	enum oci_digest_algo algo;
};

static size_t digest_hex_len(enum oci_digest_algo algo)
{
	return algo == OCI_DIGEST_SHA256 ? 64 : algo == OCI_DIGEST_SHA512 ? 128 : 0;
}

const char *oci_digest_algo_name(enum oci_digest_algo algo)
{
	return algo == OCI_DIGEST_SHA256 ? "sha256" : algo == OCI_DIGEST_SHA512 ? "sha512" : "none";
}

/* Print at most 80 bytes of untrusted input, with control bytes escaped. */
static void digest_quote(const char *s, char *buf, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; s[i] && o + 5 < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i >= 80) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = 0;
}

int oci_digest_parse(const char *s, struct oci_digest *out, struct oci_error **err)
{
	char q[400];
	if (!s)
		return error_set(err, OCI_E_INVALID, 0, "missing digest");
	digest_quote(s, q, sizeof(q));
	const char *colon = strchr(s, ':');
	if (!colon)
		return error_set(err, OCI_E_INVALID, 0, "digest \"%s\": no algorithm", q);
	size_t alen = (size_t)(colon - s);
	enum oci_digest_algo algo = OCI_DIGEST_NONE;
	if (alen == 6 && memcmp(s, "sha256", 6) == 0)
		algo = OCI_DIGEST_SHA256;
	else if (alen == 6 && memcmp(s, "sha512", 6) == 0)
		algo = OCI_DIGEST_SHA512;
	else
		return error_set(err, OCI_E_UNSUPPORTED, 0, "digest \"%s\": unsupported algorithm",
				 q);
	const char *hex = colon + 1;
	size_t want = digest_hex_len(algo);
	size_t n = 0;
	for (; hex[n]; n++) {
		char c = hex[n];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return error_set(err, OCI_E_INVALID, 0,
					 "digest \"%s\": encoded part is not lowercase hex", q);
	}
	if (n != want)
		return error_set(err, OCI_E_INVALID, 0,
				 "digest \"%s\": %s needs %zu hex digits, has %zu", q,
				 oci_digest_algo_name(algo), want, n);
	out->algo = algo;
	snprintf(out->str, sizeof(out->str), "%s", s);
	return 0;
}

const char *oci_digest_hex(const struct oci_digest *d)
{
	const char *c = strchr(d->str, ':');
	return c ? c + 1 : d->str;
}

bool oci_digest_equal(const struct oci_digest *a, const struct oci_digest *b)
{
	return a->algo == b->algo && strcmp(a->str, b->str) == 0;
}

const char *oci_digest_short(const struct oci_digest *d, char buf[20])
{
	snprintf(buf, 20, "%s:%.12s", oci_digest_algo_name(d->algo), oci_digest_hex(d));
	return buf;
}

/* The digests fetched once: EVP_sha256() at each init makes OpenSSL 3 look
 * the algorithm up in its provider store (locks and a table walk), which
 * for an unpack of 200,000 small files was a visible part of its time. */
static EVP_MD *hash_md[2];
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;

static void hash_fetch(void)
{
	hash_md[0] = EVP_MD_fetch(NULL, "SHA256", NULL);
	hash_md[1] = EVP_MD_fetch(NULL, "SHA512", NULL);
}

struct oci_hash *oci_hash_new(enum oci_digest_algo algo)
{
	pthread_once(&hash_once, hash_fetch);
	bool big = algo == OCI_DIGEST_SHA512;
	const EVP_MD *md = hash_md[big] ? hash_md[big] : big ? EVP_sha512() : EVP_sha256();
	struct oci_hash *h = xcalloc(1, sizeof(*h));
	h->algo = big ? OCI_DIGEST_SHA512 : OCI_DIGEST_SHA256;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, md, NULL) != 1)
		abort();
	return h;
}

void oci_hash_reset(struct oci_hash *h)
{
	/* the digest the context had, without a fetch */
	if (EVP_DigestInit_ex(h->ctx, NULL, NULL) != 1)
		abort();
}

size_t oci_hash_final_raw(struct oci_hash *h, unsigned char out[64])
{
	unsigned int n = 0;
	EVP_DigestFinal_ex(h->ctx, out, &n);
	return n;
}

void oci_hash_update(struct oci_hash *h, const void *buf, size_t len)
{
	if (len)
		EVP_DigestUpdate(h->ctx, buf, len);
}

void oci_hash_final(struct oci_hash *h, struct oci_digest *out)
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_DigestFinal_ex(h->ctx, md, &n);
	const char *name = oci_digest_algo_name(h->algo);
	size_t o = strlen(name);
	memcpy(out->str, name, o);
	out->str[o++] = ':';
	for (unsigned int i = 0; i < n; i++) {
		out->str[o++] = hexd[md[i] >> 4];
		out->str[o++] = hexd[md[i] & 15];
	}
	out->str[o] = 0;
	out->algo = h->algo;
}

void oci_hash_free(struct oci_hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void oci_digest_buffer(enum oci_digest_algo algo, const void *buf, size_t len,
		       struct oci_digest *out)
{
	struct oci_hash *h = oci_hash_new(algo);
	oci_hash_update(h, buf, len);
	oci_hash_final(h, out);
	oci_hash_free(h);
}
