/* Fuzzed layer tars applied into a scratch rootfs inside a scratch
 * directory: whatever the entries do, nothing may appear, change or
 * disappear outside the rootfs. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <oci/oci.h>
#include "fuzz.h"
#include "inroot.h"
#include "layout_int.h"

static char scratch[64];

/* a fingerprint of a directory tree: names, types, sizes, modes, mtimes */
static unsigned long tree_sum(const char *path, int depth)
{
	unsigned long h = 5381;
	DIR *d = opendir(path);
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		struct stat st;
		if (lstat(p, &st) < 0)
			continue;
		for (const char *c = de->d_name; *c; c++)
			h = h * 33 + (unsigned char)*c;
		h = h * 33 + (unsigned long)st.st_mode + (unsigned long)st.st_size * 7 +
		    (unsigned long)st.st_mtime;
		if (S_ISDIR(st.st_mode) && depth < 8)
			h = h * 33 + tree_sum(p, depth + 1);
	}
	closedir(d);
	return h;
}

static void rm_tree(int dfd, const char *name)
{
	struct oci_error *e = NULL;
	/* the library's own removal never follows symlinks */
	inroot_remove(dfd, name, name, NULL, NULL, &e);
	oci_error_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!scratch[0]) {
		snprintf(scratch, sizeof(scratch), "/tmp/fuzz-apply-XXXXXX");
		CHECK(mkdtemp(scratch) != NULL);
	}
	char outside[128], root[128], blob[128];
	snprintf(outside, sizeof(outside), "%s/outside", scratch);
	snprintf(root, sizeof(root), "%s/root", scratch);
	snprintf(blob, sizeof(blob), "%s/blob", scratch);
	mkdir(outside, 0755);
	char victim[160];
	snprintf(victim, sizeof(victim), "%s/victim", outside);
	FILE *f = fopen(victim, "w");
	CHECK(f != NULL);
	fputs("untouched\n", f);
	fclose(f);
	unsigned long before = tree_sum(scratch, 0);

	mkdir(root, 0755);
	int bfd = open(blob, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(bfd >= 0);
	CHECK(write(bfd, data, size) == (ssize_t)size);
	close(bfd);
	struct oci_descriptor d = {.media_type = (char *)OCI_MT_LAYER, .size = (int64_t)size};
	oci_digest_buffer(OCI_DIGEST_SHA256, data, size, &d.digest);
	struct oci_layout *l = NULL;
	struct oci_error *err = NULL;
	CHECK(layout_open_single_blob(blob, &d, &l, &err) == 0);
	int rfd = open(root, O_RDONLY | O_DIRECTORY);
	CHECK(rfd >= 0);
	struct oci_rootfs *rf = NULL;
	CHECK(oci_rootfs_open(rfd, NULL, &rf, &err) == 0);
	int r = oci_rootfs_apply(rf, l, &d, &d.digest, 1, 1, &err);
	if (r < 0)
		CHECK_ERR(r, err);
	oci_error_free(err);
	oci_rootfs_free(rf);
	oci_layout_free(l);
	close(rfd);
	unlink(blob);

	/* the rootfs goes; everything else must be as it was */
	int sfd = open(scratch, O_RDONLY | O_DIRECTORY);
	rm_tree(sfd, "root");
	close(sfd);
	CHECK(tree_sum(scratch, 0) == before);
	char buf[32] = {0};
	f = fopen(victim, "r");
	CHECK(f != NULL);
	CHECK(fgets(buf, sizeof(buf), f) && strcmp(buf, "untouched\n") == 0);
	fclose(f);
	return 0;
}
