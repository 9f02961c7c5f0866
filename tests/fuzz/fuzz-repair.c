/* The repair planner over a layout made from fuzzed bytes: the input is
 * split at "\n--\n" into index.json and up to 8 documents, each stored as a
 * blob under its own digest (so that descriptors naming them can match),
 * then --repair --dry-run plans its fixes. Nothing may crash, leak or hang,
 * and a dry run changes nothing. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <oci/oci.h>
#include <oci/verify.h>
#include "fuzz.h"

static char dir[64];

static void put(int dfd, const char *name, const void *buf, size_t len)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, buf, len) == (ssize_t)len);
	close(fd);
}

static void clear_dir(int dfd)
{
	DIR *d = fdopendir(dup(dfd));
	CHECK(d != NULL);
	rewinddir(d); /* the dup shares its offset with the fd */
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(dfd, de->d_name, 0);
	closedir(d);
}

static unsigned long tree_sum(int dfd)
{
	unsigned long h = 5381;
	DIR *d = fdopendir(dup(dfd));
	CHECK(d != NULL);
	rewinddir(d); /* the dup shares its offset with the fd */
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		for (const char *c = de->d_name; *c; c++)
			h = h * 33 + (unsigned char)*c;
		h = h * 33 + (unsigned long)st.st_size + (unsigned long)st.st_mtim.tv_nsec;
	}
	closedir(d);
	return h;
}

static void count_fix(void *arg, const char *kind, const char *digest, const char *refs,
		      const char *detail)
{
	CHECK(kind && digest && refs && detail);
	(*(size_t *)arg)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/fuzz-repair-XXXXXX");
		CHECK(mkdtemp(dir) != NULL);
		int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		CHECK(mkdirat(d, "blobs", 0755) == 0 && mkdirat(d, "blobs/sha256", 0755) == 0);
		close(d);
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int bfd = openat(dfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dfd >= 0 && bfd >= 0);
	clear_dir(bfd);
	unlinkat(dfd, "index.json", 0);
	unlinkat(dfd, "oci-layout", 0);

	/* part 0: index.json (and oci-layout, unless it starts with a space); 1..8: blobs */
	const char *p = (const char *)data, *end = p + size;
	for (int part = 0; part < 9 && p <= end; part++) {
		const char *q = memmem(p, (size_t)(end - p), "\n--\n", 4);
		size_t n = q ? (size_t)(q - p) : (size_t)(end - p);
		if (part == 0) {
			put(dfd, "index.json", p, n);
			if (!(n && p[0] == ' '))
				put(dfd, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
		} else {
			struct oci_digest dg;
			oci_digest_buffer(OCI_DIGEST_SHA256, p, n, &dg);
			put(bfd, oci_digest_hex(&dg), p, n);
		}
		if (!q)
			break;
		p = q + 4;
	}
	unsigned long before = tree_sum(dfd) ^ tree_sum(bfd);
	size_t fixes = 0;
	struct oci_repair_opts o = {
	    .dry_run = true, .gc = size & 1, .report = count_fix, .arg = &fixes};
	struct oci_error *err = NULL;
	int r = oci_layout_repair(dir, &o, &err);
	if (r < 0)
		CHECK_ERR(r, err);
	oci_error_free(err);
	CHECK((tree_sum(dfd) ^ tree_sum(bfd)) == before);
	close(bfd);
	close(dfd);
	return 0;
}
