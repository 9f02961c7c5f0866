/* copy.c's pure parts: the image-spec ref grammar, the destination's format
 * when none is asked for, and the archive writer's bookkeeping; and the one
 * locked index.json edit oci-copy and oci-commit share (layout_write.c). */
#include <fcntl.h>
#include <sys/stat.h>
#include <oci/copy.h>
#include <oci/layout_write.h>
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

static char *slurp(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *buf = calloc(1, 65536);
	ssize_t n = buf ? read(fd, buf, 65535) : -1;
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* the digest REF names in DIR's index.json ("" when none, "2" when twice) */
static const char *ref_digest(int dfd, const char *ref)
{
	static char out[128];
	char *s = slurp(dfd, "index.json");
	cJSON *root = s ? cJSON_Parse(s) : NULL;
	free(s);
	out[0] = 0;
	int seen = 0;
	const cJSON *c;
	cJSON_ArrayForEach (c, cJSON_GetObjectItemCaseSensitive(root, "manifests")) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(c, "annotations"),
		    "org.opencontainers.image.ref.name");
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(c, "digest");
		if (cJSON_IsString(n) && strcmp(n->valuestring, ref) == 0 && cJSON_IsString(d) &&
		    seen++ == 0)
			snprintf(out, sizeof(out), "%s", d->valuestring);
	}
	cJSON_Delete(root);
	if (seen > 1)
		snprintf(out, sizeof(out), "2");
	return out;
}

static void test_edit_refs(void)
{
	char dir[] = "/tmp/test-refs-XXXXXX";
	if (!mkdtemp(dir))
		return;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct oci_error *err = NULL;
	struct oci_platform plat = {
	    .os = "linux", .architecture = "arm64", .variant = "v8", .os_version = "6.1"};
	struct oci_descriptor d1 = {.media_type = OCI_MT_MANIFEST, .size = 11, .platform = &plat};
	struct oci_descriptor d2 = {.media_type = OCI_MT_INDEX, .size = 22};
	oci_digest_buffer(OCI_DIGEST_SHA256, "one", 3, &d1.digest);
	oci_digest_buffer(OCI_DIGEST_SHA256, "two", 3, &d2.digest);
	struct stat st;

	/* a delete needs an index: none is made for it */
	struct oci_ref_edit del_x = {.ref = "x"};
	ok(oci_layout_edit_refs(dfd, &del_x, 1, &err) == OCI_E_NOTFOUND,
	   "deleting from a directory without index.json fails NOTFOUND");
	ok(err && strstr(err->msg, "index.json"), "the error names index.json: %s",
	   err ? err->msg : "(none)");
	oci_error_free(err);
	err = NULL;
	ok(fstatat(dfd, "index.json", &st, 0) < 0, "and no index.json is made");

	/* a set starts one, its descriptor with the platform */
	ok(oci_layout_set_ref(dfd, "a", &d1, &err) == 0, "set_ref a on a missing index.json");
	char *s = slurp(dfd, "index.json");
	cJSON *root = s ? cJSON_Parse(s) : NULL;
	free(s);
	const cJSON *m0 =
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "manifests"), 0);
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(m0, "platform");
	ok(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(root, "schemaVersion")) == 2,
	   "a new index has schemaVersion 2");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "mediaType")),
	       OCI_MT_INDEX, "and its mediaType");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m0, "mediaType")),
	       OCI_MT_MANIFEST, "the descriptor's mediaType");
	ok(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m0, "size")) == 11,
	   "the descriptor's size");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "architecture")), "arm64",
	       "platform architecture");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "os")), "linux",
	       "platform os");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "os.version")), "6.1",
	       "platform os.version");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "variant")), "v8",
	       "platform variant");
	cJSON_Delete(root);
	is_str(ref_digest(dfd, "a"), d1.digest.str, "a names d1");

	/* several at once; a moved ref keeps the others, even to its old digest */
	struct oci_ref_edit two[] = {{.ref = "b", .desc = &d1}, {.ref = "c", .desc = &d2}};
	ok(oci_layout_edit_refs(dfd, two, 2, &err) == 0, "set b and c in one edit");
	ok(oci_layout_set_ref(dfd, "a", &d2, &err) == 0, "move a to d2");
	is_str(ref_digest(dfd, "a"), d2.digest.str, "a now names d2, once");
	is_str(ref_digest(dfd, "b"), d1.digest.str, "b still names d1");
	is_str(ref_digest(dfd, "c"), d2.digest.str, "c names d2");
	s = slurp(dfd, "index.json");
	const char *pl = s ? strstr(s, "\"platform\"") : NULL;
	ok(pl && !strstr(pl + 1, "\"platform\""), "one platform: d1's, none for the index d2");

	/* all or none: a delete of a missing ref fails the whole edit */
	struct oci_ref_edit bad[] = {{.ref = "d", .desc = &d1}, {.ref = "nope"}};
	ok(oci_layout_edit_refs(dfd, bad, 2, &err) == OCI_E_NOTFOUND,
	   "deleting a missing ref fails NOTFOUND");
	is_str(err ? err->msg : NULL, "ref \"nope\" not found", "the error names the ref");
	oci_error_free(err);
	err = NULL;
	char *after = slurp(dfd, "index.json");
	ok(s && after && strcmp(s, after) == 0, "index.json is unchanged: d was not set either");
	free(s);
	free(after);

	struct oci_ref_edit dels[] = {{.ref = "b"}, {.ref = "c"}};
	ok(oci_layout_edit_refs(dfd, dels, 2, &err) == 0, "delete b and c in one edit");
	is_str(ref_digest(dfd, "b"), "", "b is gone");
	is_str(ref_digest(dfd, "c"), "", "c is gone");
	is_str(ref_digest(dfd, "a"), d2.digest.str, "a stays");
	char cmd[300];
	snprintf(cmd, sizeof(cmd),
		 "cd %s && ls -A | tr '\\n' ' ' | grep -qx '.index.lock index.json '", dir);
	ok(system(cmd) == 0, "no temporary left beside index.json and .index.lock");
	close(dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", dir);
}

int main(void)
{
	test_refs();
	test_guess();
	test_archive();
	test_edit_refs();
	return done_testing();
}
