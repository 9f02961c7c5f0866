/* Digests: the strict parser (algorithm, lowercase hex, exact length) that
 * stands between untrusted documents and blob paths, and the hashers. */
#include <stdlib.h>
#include <string.h>
#include <oci/oci.h>
#include "tap.h"

#define HEX64 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define HEX128                                                                                     \
	"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"                         \
	"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
#define EMPTY256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Parse s; check the return, that err carries the same status and a message. */
static void parse_fails(const char *s, int want, const char *name)
{
	struct oci_digest d;
	struct oci_error *err = NULL;
	int r = oci_digest_parse(s, &d, &err);
	is_int(r, want, name);
	ok(err && err->status == r && err->msg && *err->msg, "%s: error has status and message",
	   name);
	oci_error_free(err);
}

static void parse_ok(const char *s, enum oci_digest_algo algo, const char *name)
{
	struct oci_digest d;
	struct oci_error *err = NULL;
	memset(&d, 0x55, sizeof(d));
	int r = oci_digest_parse(s, &d, &err);
	is_int(r, 0, name);
	ok(err == NULL, "%s: no error set", name);
	is_int(d.algo, algo, name);
	is_str(d.str, s, name);
	oci_error_free(err);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	memset(s, c, n);
	s[n] = 0;
	return s;
}

static char *cat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = malloc(la + lb + lc + 1);
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

static void test_parse_valid(void)
{
	parse_ok("sha256:" HEX64, OCI_DIGEST_SHA256, "sha256 parses");
	parse_ok("sha512:" HEX128, OCI_DIGEST_SHA512, "sha512 parses");
	parse_ok("sha256:" EMPTY256, OCI_DIGEST_SHA256, "sha256 of nothing parses");

	struct oci_digest d;
	oci_digest_parse("sha256:" HEX64, &d, NULL);
	is_str(oci_digest_hex(&d), HEX64, "oci_digest_hex is the encoded part");
	is_str(oci_digest_algo_name(d.algo), "sha256", "algo name sha256");
	is_str(oci_digest_algo_name(OCI_DIGEST_SHA512), "sha512", "algo name sha512");
	is_str(oci_digest_algo_name(OCI_DIGEST_NONE), "none", "algo name none");
	is_int(oci_digest_parse("sha256:" HEX64, &d, NULL), 0, "err may be NULL on success");
}

static void test_parse_invalid(void)
{
	char *h63 = repeat('a', 63), *h65 = repeat('a', 65), *h127 = repeat('b', 127);
	char *h129 = repeat('b', 129), *h64 = repeat('c', 64), *h128 = repeat('d', 128);
	char *s;

	parse_fails(HEX64, OCI_E_INVALID, "no colon: bare hex refused");
	parse_fails("", OCI_E_INVALID, "empty string refused");
	parse_fails("sha256", OCI_E_INVALID, "algorithm alone refused");
	parse_fails("sha256:", OCI_E_INVALID, "empty encoded part refused");
	parse_fails("sha256:../x", OCI_E_INVALID, "sha256:../x refused");
	parse_fails("sha256:../../../../etc/passwd", OCI_E_INVALID, "path traversal refused");

	parse_fails("md5:d41d8cd98f00b204e9800998ecf8427e", OCI_E_UNSUPPORTED,
		    "md5 is unsupported");
	parse_fails("sha384:" HEX64, OCI_E_UNSUPPORTED, "sha384 is unsupported");
	parse_fails(":" HEX64, OCI_E_UNSUPPORTED, "empty algorithm refused");
	parse_fails("sha256+b64:" HEX64, OCI_E_UNSUPPORTED, "algorithm with suffix refused");
	parse_fails("sha2567:" HEX64, OCI_E_UNSUPPORTED, "algorithm prefix match refused");
	{
		struct oci_digest d;
		int r = oci_digest_parse("SHA256:" HEX64, &d, NULL);
		ok(r == OCI_E_UNSUPPORTED || r == OCI_E_INVALID,
		   "uppercase algorithm SHA256 refused (got %d)", r);
		r = oci_digest_parse("Sha512:" HEX128, &d, NULL);
		ok(r == OCI_E_UNSUPPORTED || r == OCI_E_INVALID,
		   "mixed-case algorithm Sha512 refused (got %d)", r);
	}

	s = cat3("sha256:", "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", "");
	parse_fails(s, OCI_E_INVALID, "uppercase hex refused");
	free(s);
	parse_fails("sha256:Ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		    OCI_E_INVALID, "one uppercase hex digit refused");
	parse_fails("sha256:ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		    OCI_E_INVALID, "non-hex letter refused");

	s = cat3("sha256:", h63, "");
	parse_fails(s, OCI_E_INVALID, "sha256 with 63 hex refused");
	free(s);
	s = cat3("sha256:", h65, "");
	parse_fails(s, OCI_E_INVALID, "sha256 with 65 hex refused");
	free(s);
	s = cat3("sha256:", h128, "");
	parse_fails(s, OCI_E_INVALID, "sha256 with 128 hex refused");
	free(s);
	s = cat3("sha512:", h127, "");
	parse_fails(s, OCI_E_INVALID, "sha512 with 127 hex refused");
	free(s);
	s = cat3("sha512:", h129, "");
	parse_fails(s, OCI_E_INVALID, "sha512 with 129 hex refused");
	free(s);
	s = cat3("sha512:", h64, "");
	parse_fails(s, OCI_E_INVALID, "sha512 with 64 hex refused");
	free(s);

	s = cat3("sha256:", h63, "/");
	parse_fails(s, OCI_E_INVALID, "sha256:<63 hex>/ refused");
	free(s);
	s = cat3("sha256:", h64, "/");
	parse_fails(s, OCI_E_INVALID, "sha256:<64 hex>/ refused");
	free(s);
	s = cat3("sha256:", h64, "\n");
	parse_fails(s, OCI_E_INVALID, "trailing newline refused");
	free(s);
	s = cat3("sha256:", h64, " ");
	parse_fails(s, OCI_E_INVALID, "trailing space refused");
	free(s);
	s = cat3(" sha256:", h64, "");
	parse_fails(s, OCI_E_UNSUPPORTED, "leading space refused");
	free(s);
	s = cat3("sha256:", h63, ":");
	parse_fails(s, OCI_E_INVALID, "second colon refused");
	free(s);
	s = cat3("sha256:/", h63, "");
	parse_fails(s, OCI_E_INVALID, "slash in the encoded part refused");
	free(s);

	{
		struct oci_digest d;
		is_int(oci_digest_parse(NULL, &d, NULL), OCI_E_INVALID, "NULL refused");
		is_int(oci_digest_parse("sha256:x", &d, NULL), OCI_E_INVALID,
		       "err may be NULL on failure");
	}

	/* a long hostile string is quoted with control bytes escaped and cut */
	{
		char *junk = repeat('\x01', 3000);
		char *js = cat3("sha256:", junk, "");
		struct oci_error *err = NULL;
		struct oci_digest d;
		is_int(oci_digest_parse(js, &d, &err), OCI_E_INVALID, "3000 control bytes refused");
		ok(err && strlen(err->msg) < 600 && !strchr(err->msg, '\x01'),
		   "message is bounded and has no raw control bytes");
		oci_error_free(err);
		free(js);
		free(junk);
	}

	free(h63);
	free(h65);
	free(h127);
	free(h129);
	free(h64);
	free(h128);
}

static void test_hash(void)
{
	struct oci_digest d;
	oci_digest_buffer(OCI_DIGEST_SHA256, "abc", 3, &d);
	is_str(d.str, "sha256:" HEX64, "sha256(\"abc\")");
	is_int(d.algo, OCI_DIGEST_SHA256, "sha256 algo set");
	oci_digest_buffer(OCI_DIGEST_SHA512, "abc", 3, &d);
	is_str(d.str, "sha512:" HEX128, "sha512(\"abc\")");
	is_int(d.algo, OCI_DIGEST_SHA512, "sha512 algo set");
	oci_digest_buffer(OCI_DIGEST_SHA256, "", 0, &d);
	is_str(d.str, "sha256:" EMPTY256, "sha256 of nothing");

	/* streaming in pieces gives the same answer */
	struct oci_hash *h = oci_hash_new(OCI_DIGEST_SHA256);
	oci_hash_update(h, "a", 1);
	oci_hash_update(h, "", 0);
	oci_hash_update(h, "bc", 2);
	oci_hash_final(h, &d);
	oci_hash_free(h);
	is_str(d.str, "sha256:" HEX64, "sha256 streamed in pieces");

	h = oci_hash_new(OCI_DIGEST_SHA512);
	for (const char *p = "abc"; *p; p++)
		oci_hash_update(h, p, 1);
	oci_hash_final(h, &d);
	oci_hash_free(h);
	is_str(d.str, "sha512:" HEX128, "sha512 streamed byte by byte");
	oci_hash_free(NULL);

	/* "a" x 1,000,000: the long FIPS 180 vector */
	char *m = repeat('a', 1000000);
	oci_digest_buffer(OCI_DIGEST_SHA256, m, 1000000, &d);
	is_str(d.str, "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	       "sha256 of a million a");
	free(m);

	/* what the hasher prints, the parser takes */
	struct oci_digest back;
	oci_digest_buffer(OCI_DIGEST_SHA512, "xyz", 3, &d);
	is_int(oci_digest_parse(d.str, &back, NULL), 0, "hash output parses back");
	ok(oci_digest_equal(&d, &back), "and is equal to itself parsed");
}

static void test_short_equal(void)
{
	struct oci_digest a, b, c;
	char buf[20];
	oci_digest_parse("sha256:" HEX64, &a, NULL);
	is_str(oci_digest_short(&a, buf), "sha256:ba7816bf8f01", "short sha256");
	is_int(strlen(buf), 19, "short form is 19 characters");
	oci_digest_parse("sha512:" HEX128, &c, NULL);
	is_str(oci_digest_short(&c, buf), "sha512:ddaf35a19361", "short sha512");

	oci_digest_parse("sha256:" HEX64, &b, NULL);
	ok(oci_digest_equal(&a, &b), "equal digests compare equal");
	ok(!oci_digest_equal(&a, &c), "sha256 and sha512 differ");
	oci_digest_parse("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ae",
			 &b, NULL);
	ok(!oci_digest_equal(&a, &b), "last hex digit differs");
	ok(oci_digest_equal(&c, &c), "a digest equals itself");
}

int main(void)
{
	test_parse_valid();
	test_parse_invalid();
	test_hash();
	test_short_equal();
	return done_testing();
}
