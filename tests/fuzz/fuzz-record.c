/* Fuzz the unpack record's parser and loader (docs/record.md): a record
 * that parses is in its one canonical form, so writing it back gives the
 * same bytes; its xattrs strings decode and encode back the same; the
 * loader agrees with the parser. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <oci/oci.h>
#include "snapshot_int.h"
#include "fuzz.h"

static int dirfd_tmp = -1;

static void check_xattrs(const char *s)
{
	struct snapshot_xattr v[256];
	char *names[256];
	unsigned char *vals[256];
	size_t k = 0;
	const char *p = s;
	int r;
	while (k < 256 && (r = oci_snapshot_xattr_next(&p, &names[k], &vals[k], &v[k].len)) > 0) {
		CHECK(names[k][0] != 0);
		v[k].name = names[k];
		v[k].val = vals[k];
		k++;
	}
	if (k < 256) {
		CHECK(r == 0);
		char *again = snapshot_xattrs_encode(v, k);
		CHECK(again && strcmp(again, s) == 0);
		free(again);
	}
	for (size_t i = 0; i < k; i++) {
		free(names[i]);
		free(vals[i]);
	}
}

static void check_snapshot(const struct oci_snapshot *s, const uint8_t *data, size_t size)
{
	char *out;
	size_t len;
	struct oci_error *err = NULL;
	int r = snapshot_format(s, &out, &len, &err);
	CHECK(r == 0);
	CHECK(len == size && memcmp(out, data, size) == 0);
	free(out);
	for (size_t i = 0; i < s->n; i++) {
		CHECK(oci_snapshot_find(s, s->e[i].path) == &s->e[i]);
		if (s->e[i].xattrs)
			check_xattrs(s->e[i].xattrs);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	struct oci_snapshot *s = NULL;
	size_t line = 0;
	const char *why = NULL;
	int r = snapshot_parse((const char *)data, size, &s, &line, &why);
	if (r == 0) {
		CHECK(s && !why);
		check_snapshot(s, data, size);
		oci_snapshot_free(s);
	} else {
		CHECK(r == OCI_E_INVALID && why && line > 0);
	}

	/* the loader: the same answer from a file */
	if (dirfd_tmp < 0) {
		char tmpl[] = "/tmp/fuzz-record.XXXXXX";
		CHECK(mkdtemp(tmpl));
		dirfd_tmp = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		CHECK(dirfd_tmp >= 0);
	}
	int fd = openat(dirfd_tmp, "rec", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	close(fd);
	struct oci_error *err = NULL;
	struct oci_snapshot *l = NULL;
	/* read a few bytes at a time: lines straddle reads, the buffer grows */
	snapshot_load_chunk = 1 + size % 61;
	int lr = oci_snapshot_load(dirfd_tmp, "rec", &l, &err);
	CHECK((lr == 0) == (r == 0));
	if (lr == 0) {
		oci_snapshot_free(l);
	} else {
		CHECK_ERR(lr, err);
		/* the same line and reason as from one buffer */
		char want[160];
		snprintf(want, sizeof(want), "line %zu: %s", line, why);
		CHECK(err && strstr(err->msg, want));
		oci_error_free(err);
	}

	/* the bytes as an xattrs string too */
	char *x = fuzz_cstr(data, size);
	if (snapshot_xattrs_valid(x))
		check_xattrs(x);
	free(x);
	return 0;
}
