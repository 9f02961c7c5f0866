/* Fuzz the parsers of short strings from users and documents: digests,
 * image names (PATH[:REF|@DIGEST]), refs (against a second reading of the
 * image-spec's grammar) and platforms (OS/ARCH[/VARIANT]).
 * What they accept must be well formed and survive a round trip. */
#include <oci/oci.h>
#include "fuzz.h"

static int lower_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static void fuzz_digest(const char *s)
{
	struct oci_digest d;
	struct oci_error *err = NULL;
	int r = oci_digest_parse(s, &d, &err);
	if (r < 0) {
		CHECK_ERR(r, err);
		CHECK(r == OCI_E_INVALID || r == OCI_E_UNSUPPORTED);
		oci_error_free(err);
		return;
	}
	CHECK(err == NULL);
	CHECK(strcmp(d.str, s) == 0);
	const char *hex = oci_digest_hex(&d);
	if (d.algo == OCI_DIGEST_SHA256)
		CHECK(strncmp(s, "sha256:", 7) == 0 && strlen(hex) == 64);
	else
		CHECK(d.algo == OCI_DIGEST_SHA512 && strncmp(s, "sha512:", 7) == 0 &&
		      strlen(hex) == 128);
	CHECK(lower_hex(hex)); /* so it is safe in a path */
	char buf[20];
	oci_digest_short(&d, buf);
	CHECK(strlen(buf) == 19 && strncmp(buf, s, 19) == 0);
	struct oci_digest again;
	CHECK(oci_digest_parse(d.str, &again, NULL) == 0 && oci_digest_equal(&d, &again));
}

static void fuzz_ref(const char *s)
{
	struct oci_image_ref r;
	struct oci_error *err = NULL;
	int st = oci_image_ref_parse(s, &r, &err);
	if (st < 0) {
		CHECK_ERR(st, err);
		oci_error_free(err);
		oci_image_ref_release(&r);
		return;
	}
	CHECK(err == NULL);
	CHECK(r.path != NULL && *r.path);
	CHECK(!(r.ref && r.has_digest));
	if (r.has_digest) {
		struct oci_digest again;
		CHECK(oci_digest_parse(r.digest.str, &again, NULL) == 0);
		/* the path is what comes before "@DIGEST" */
		size_t pl = strlen(r.path);
		CHECK(strncmp(s, r.path, pl) == 0 && s[pl] == '@');
		CHECK(strcmp(s + pl + 1, r.digest.str) == 0);
	} else if (r.ref) {
		CHECK(*r.ref);
		for (const char *p = r.ref; *p; p++)
			CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
		/* PATH:REF, where REF may hold '/' and ':' (docker RepoTags) */
		size_t pl = strlen(r.path);
		CHECK(strncmp(s, r.path, pl) == 0 && s[pl] == ':');
		CHECK(strcmp(s + pl + 1, r.ref) == 0);
	} else {
		CHECK(strcmp(r.path, s) == 0);
	}
	oci_image_ref_release(&r);
}

/* the ref grammar (annotations.md), written a second way: component by
 * component, as the grammar reads */
static int ref_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

static int ref_oracle(const char *p)
{
	if (!*p || strlen(p) > OCI_REF_NAME_MAX)
		return 0;
	for (;;) {
		if (!ref_alnum(*p))
			return 0;
		while (ref_alnum(*p))
			p++;
		if (!*p)
			return 1;
		if (*p == '/')
			p++;
		else if (p[0] == '-' && p[1] == '-')
			p += 2;
		else if (strchr("-._:@+", *p))
			p++;
		else
			return 0;
	}
}

static void fuzz_ref_name(const char *s)
{
	struct oci_error *err = NULL;
	int r = oci_ref_name_check(s, &err);
	if (r < 0) {
		CHECK_ERR(r, err);
		CHECK(r == OCI_E_USAGE);
		oci_error_free(err);
	} else {
		CHECK(r == 0 && err == NULL);
	}
	CHECK((r == 0) == ref_oracle(s));
}

static void fuzz_platform(const char *s)
{
	struct oci_platform p;
	struct oci_error *err = NULL;
	int r = oci_platform_parse(s, &p, &err);
	if (r < 0) {
		CHECK_ERR(r, err);
		oci_error_free(err);
		oci_platform_release(&p);
		return;
	}
	CHECK(err == NULL);
	CHECK(p.os && *p.os && p.architecture && *p.architecture);
	CHECK(!p.variant || *p.variant);
	CHECK(!strchr(p.os, '/') && !strchr(p.architecture, '/'));
	char buf[400];
	oci_platform_format(&p, buf, sizeof(buf));
	CHECK(strcmp(buf, s) == 0);
	CHECK(oci_platform_match(&p, &p));
	oci_platform_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *s = fuzz_cstr(data, size);
	fuzz_digest(s);
	if (*s) /* the empty name is a usage error; stat("") is not interesting */
		fuzz_ref(s);
	fuzz_ref_name(s);
	fuzz_platform(s);
	free(s);
	return 0;
}
