/* Fuzz entry-name cleaning and whiteout classification: a cleaned name
 * never climbs out of the root, cleaning is idempotent, and a whiteout
 * names a real, non-reserved sibling. */
#include <oci/oci.h>
#include "fuzz.h"

static void check_clean(const char *in, const char *c)
{
	size_t n = strlen(c);
	CHECK(n <= strlen(in));
	CHECK(c[0] != '/');
	CHECK(n == 0 || c[n - 1] != '/');
	CHECK(!strstr(c, "//"));
	/* no "." or ".." component */
	const char *p = c;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		CHECK(l > 0);
		CHECK(!(l == 1 && p[0] == '.'));
		CHECK(!(l == 2 && p[0] == '.' && p[1] == '.'));
		p += l;
		if (*p == '/')
			p++;
	}
	char *again = oci_path_clean(c);
	CHECK(strcmp(again, c) == 0);
	free(again);
}

static void check_whiteout(const char *path)
{
	char *target = (char *)"unset";
	enum oci_whiteout w = oci_whiteout_parse(path, &target);
	CHECK(oci_whiteout_parse(path, NULL) == w);
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dirlen = slash ? (size_t)(slash - path) : 0;
	switch (w) {
	case OCI_WHITEOUT_NONE:
		CHECK(target == NULL);
		CHECK(strncmp(base, ".wh.", 4) != 0);
		break;
	case OCI_WHITEOUT_INVALID:
		CHECK(target == NULL);
		CHECK(strncmp(base, ".wh.", 4) == 0);
		break;
	case OCI_WHITEOUT_OPAQUE:
		CHECK(target != NULL);
		CHECK(strcmp(base, ".wh..wh..opq") == 0);
		CHECK(strlen(target) == dirlen && strncmp(target, path, dirlen) == 0);
		free(target);
		break;
	case OCI_WHITEOUT_FILE: {
		CHECK(target != NULL);
		CHECK(strncmp(base, ".wh.", 4) == 0);
		const char *hidden = base + 4;
		CHECK(*hidden && strcmp(hidden, ".") != 0 && strcmp(hidden, "..") != 0);
		CHECK(strncmp(hidden, ".wh.", 4) != 0);
		if (dirlen)
			CHECK(strncmp(target, path, dirlen) == 0 && target[dirlen] == '/' &&
			      strcmp(target + dirlen + 1, hidden) == 0);
		else
			CHECK(strcmp(target, hidden) == 0);
		free(target);
		break;
	}
	default:
		CHECK(0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	char *s = fuzz_cstr(data, size);
	char *c = oci_path_clean(s);
	check_clean(s, c);
	check_whiteout(c);
	check_whiteout(s); /* raw names too: classification must not crash */
	free(c);
	free(s);
	return 0;
}
