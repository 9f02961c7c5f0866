/* copy.c's pure parts: the image-spec ref grammar, the destination's format
 * when none is asked for, and the archive writer's bookkeeping. */
#include <fcntl.h>
#include <sys/stat.h>
#include <oci/copy.h>
#include "archive_write.h"
#include "tap.h"

static void test_refs(void)
{
	static const char *const good[] = {
	    "v1",
	    "latest",
	    "1.0",
	    "a-b",
	    "a--b",
	    "a_b",
	    "a.b",
	    "a:b",
	    "a@b",
	    "a+b",
	    "example/app:1.0",
	    "docker.io/library/busybox:1.36",
	    "A0",
	    "x/y/z",
	};
	static const char *const bad[] = {
	    "",	    "-a",  "a-",   ".a",	  "a..b", "a---b", "a/",    "/a",
	    "a//b", "a b", "a\tb", "caf\xc3\xa9", "a*",	  "a!b",   "a__b_", "a/-b",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(oci_ref_name_valid(good[i]), "ref \"%s\" is valid", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!oci_ref_name_valid(bad[i]), "ref \"%s\" is refused", bad[i]);
	ok(!oci_ref_name_valid(NULL), "NULL is refused");
	char big[5000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	ok(!oci_ref_name_valid(big), "a ref over 4096 bytes is refused");
}

static void test_guess(void)
{
	is_int(oci_copy_guess_format("-"), OCI_COPY_OCI_ARCHIVE, "- is an oci-archive");
	is_int(oci_copy_guess_format("/nonexistent/x.tar"), OCI_COPY_OCI_ARCHIVE, ".tar");
	is_int(oci_copy_guess_format("/nonexistent/x.docker.tar"), OCI_COPY_DOCKER_ARCHIVE,
	       ".docker.tar");
	is_int(oci_copy_guess_format("/nonexistent/layout"), OCI_COPY_LAYOUT, "a new name");
	is_int(oci_copy_guess_format("/"), OCI_COPY_LAYOUT, "an existing directory");
}

static void test_archive(void)
{
	char dir[] = "/tmp/test-copy-XXXXXX";
	if (!mkdtemp(dir))
		return;
	char path[256];
	snprintf(path, sizeof(path), "%s/a.tar", dir);
	struct archive_out *a = NULL;
	struct oci_error *err = NULL;
	ok(archive_out_open(path, &a, &err) == 0, "open an archive");
	struct oci_digest d;
	ok(archive_out_blob_mem(a, "hello", 5, &d, &err) == 0, "a blob from memory");
	ok(archive_out_has(a, &d), "it is known as written");
	ok(archive_out_blob_begin(a, &d, 3, &err) == 0, "a blob of 3 bytes");
	ok(archive_out_data(a, "abcd", 4, &err) < 0, "4 bytes into it are refused");
	oci_error_free(err);
	err = NULL;
	struct stat st;
	ok(stat(path, &st) < 0, "no archive under its name before the commit");
	archive_out_free(a);
	ok(stat(path, &st) < 0, "nothing after an abort");

	ok(archive_out_open(path, &a, &err) == 0, "open again");
	ok(archive_out_blob_mem(a, "hello", 5, &d, &err) == 0 &&
	       archive_out_file(a, "index.json", "{}", 2, &err) == 0 &&
	       archive_out_commit(a, &err) == 0,
	   "write and commit");
	archive_out_free(a);
	ok(stat(path, &st) == 0 && st.st_size % 512 == 0 && st.st_size >= 2048,
	   "the archive is there, whole blocks");
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l | grep -qx 1", dir);
	ok(system(cmd) == 0, "nothing else beside it");
	snprintf(cmd, sizeof(cmd),
		 "tar tf %s | tr '\\n' ' ' | grep -qx 'blobs/sha256/%s index.json '", path,
		 oci_digest_hex(&d));
	ok(system(cmd) == 0, "tar lists the blob and index.json");
	unlink(path);
	mkfifo(path, 0600);
	ok(archive_out_open(path, &a, &err) == OCI_E_INVALID, "a FIFO is refused");
	oci_error_free(err);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_refs();
	test_guess();
	test_archive();
	return done_testing();
}
