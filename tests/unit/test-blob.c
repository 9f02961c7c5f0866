/* Blob streams over a small OCI layout written here: sizes checked on
 * open, digests at the end of the stream, even for a caller that stops
 * early; missing, odd and sha512 blobs. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <oci/oci.h>
#include "tap.h"

static char tmp[] = "/tmp/test-blob-XXXXXX";

static char *path_of(const char *rel)
{
	size_t n = strlen(tmp) + strlen(rel) + 2;
	char *s = malloc(n);
	snprintf(s, n, "%s/%s", tmp, rel);
	return s;
}

static int write_file(const char *rel, const void *buf, size_t len)
{
	char *p = path_of(rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	free(p);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* store buf as a blob, under the digest of want (default: of buf itself) */
static void put_blob(enum oci_digest_algo algo, const void *buf, size_t len, struct oci_digest *out)
{
	oci_digest_buffer(algo, buf, len, out);
	char rel[200];
	snprintf(rel, sizeof(rel), "blobs/%s/%s", oci_digest_algo_name(algo), oci_digest_hex(out));
	if (write_file(rel, buf, len) < 0)
		ok(0, "write %s", rel);
}

static struct oci_descriptor desc(const char *mt, const struct oci_digest *d, int64_t size)
{
	struct oci_descriptor x;
	memset(&x, 0, sizeof(x));
	x.media_type = (char *)mt;
	x.digest = *d;
	x.size = size;
	return x;
}

static int read_all(struct oci_layout *l, const struct oci_descriptor *d, char **buf, size_t *len)
{
	struct oci_error *err = NULL;
	*buf = NULL;
	int r = oci_blob_read_all(l, d, 1 << 20, buf, len, &err);
	if (r < 0 && (!err || err->status != r))
		r = 2000;
	if (r == 0 && err)
		r = 1000;
	oci_error_free(err);
	return r;
}

static const char layer[] = "pretend this is a tar layer, 64 bytes or so of layer content..";
static const char config[] =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
    "\"layers\",\"diff_ids\":[\"sha256:"
    "1111111111111111111111111111111111111111111111111111111111111111\"]}}";
static const char big512[] = "a blob addressed by its sha512 digest";

static struct oci_digest d_layer, d_config, d_manifest, d_512, d_tamper, d_empty;
static size_t manifest_len;

static void make_layout(void)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/blobs", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/blobs/sha256", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/blobs/sha512", tmp);
	mkdir(p, 0755);
	write_file("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);

	put_blob(OCI_DIGEST_SHA256, layer, strlen(layer), &d_layer);
	put_blob(OCI_DIGEST_SHA256, config, strlen(config), &d_config);
	put_blob(OCI_DIGEST_SHA512, big512, strlen(big512), &d_512);
	put_blob(OCI_DIGEST_SHA256, "", 0, &d_empty);

	char manifest[2048];
	manifest_len = (size_t)snprintf(
	    manifest, sizeof(manifest),
	    "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
	    "\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\",\"digest\":"
	    "\"%s\",\"size\":%zu}]}",
	    OCI_MT_MANIFEST, OCI_MT_CONFIG, d_config.str, strlen(config), OCI_MT_LAYER, d_layer.str,
	    strlen(layer));
	put_blob(OCI_DIGEST_SHA256, manifest, manifest_len, &d_manifest);

	char index[1024];
	int n = snprintf(index, sizeof(index),
			 "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{\"mediaType\":"
			 "\"%s\",\"digest\":\"%s\",\"size\":%zu,\"annotations\":{"
			 "\"org.opencontainers.image.ref.name\":\"v1\"}}]}",
			 OCI_MT_INDEX, OCI_MT_MANIFEST, d_manifest.str, manifest_len);
	write_file("index.json", index, (size_t)n);

	/* a blob stored under the digest of the original but with one byte flipped */
	oci_digest_buffer(OCI_DIGEST_SHA256, "tamper me", 9, &d_tamper);
	char rel[200];
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", oci_digest_hex(&d_tamper));
	/* same length as "tamper me", one bit different */
	write_file(rel, "tamper mf", 9);
}

static void test_layout(struct oci_layout *l)
{
	is_int(oci_layout_kind(l), OCI_LAYOUT_DIR, "a directory layout");
	is_str(oci_layout_kind_name(l), "oci-layout", "kind name");
	ok(oci_layout_has_version_file(l), "oci-layout says 1.x");
	const struct oci_index *idx = oci_layout_index(l);
	ok(idx && idx->n_manifests == 1, "index.json has one manifest");
	if (idx && idx->n_manifests == 1) {
		is_str(idx->manifests[0].ref_name, "v1", "ref name v1");
		ok(oci_digest_equal(&idx->manifests[0].digest, &d_manifest), "manifest digest");
	}
	ok(oci_layout_blob_exists(l, &d_layer), "layer blob exists");
	is_int(oci_layout_blob_size(l, &d_layer), strlen(layer), "layer blob size");
	ok(oci_layout_blob_exists(l, &d_512), "sha512 blob exists");
}

static void test_read_all(struct oci_layout *l)
{
	char *buf;
	size_t len;
	struct oci_descriptor d = desc(OCI_MT_LAYER, &d_layer, (int64_t)strlen(layer));
	is_int(read_all(l, &d, &buf, &len), 0, "read_all of a good blob");
	ok(buf && len == strlen(layer) && memcmp(buf, layer, len) == 0, "bytes are the blob's");
	ok(buf && buf[len] == 0, "read_all terminates the buffer");
	free(buf);

	d = desc(NULL, &d_512, (int64_t)strlen(big512));
	is_int(read_all(l, &d, &buf, &len), 0, "read_all of a sha512 blob");
	ok(buf && len == strlen(big512) && memcmp(buf, big512, len) == 0, "sha512 blob bytes");
	free(buf);

	d = desc(NULL, &d_empty, 0);
	is_int(read_all(l, &d, &buf, &len), 0, "read_all of an empty blob");
	ok(buf && len == 0, "empty blob has no bytes");
	free(buf);

	d = desc(OCI_MT_LAYER, &d_layer, (int64_t)strlen(layer) + 1);
	is_int(read_all(l, &d, &buf, &len), OCI_E_MISMATCH, "size + 1: mismatch");
	ok(buf == NULL, "no buffer on failure");
	d = desc(OCI_MT_LAYER, &d_layer, (int64_t)strlen(layer) - 1);
	is_int(read_all(l, &d, &buf, &len), OCI_E_MISMATCH, "size - 1: mismatch");
	d = desc(NULL, &d_empty, 1);
	is_int(read_all(l, &d, &buf, &len), OCI_E_MISMATCH, "empty blob said to have 1 byte");
	d = desc(NULL, &d_tamper, 9);
	is_int(read_all(l, &d, &buf, &len), OCI_E_MISMATCH, "flipped bit: digest mismatch");
	ok(buf == NULL, "no buffer for a blob that does not verify");

	struct oci_digest missing;
	oci_digest_buffer(OCI_DIGEST_SHA256, "not stored", 10, &missing);
	d = desc(NULL, &missing, 10);
	is_int(read_all(l, &d, &buf, &len), OCI_E_NOTFOUND, "missing blob: not found");
	ok(!oci_layout_blob_exists(l, &missing), "missing blob does not exist");
	is_int(oci_layout_blob_size(l, &missing), -1, "missing blob has size -1");
	oci_digest_buffer(OCI_DIGEST_SHA512, layer, strlen(layer), &missing);
	d = desc(NULL, &missing, (int64_t)strlen(layer));
	is_int(read_all(l, &d, &buf, &len), OCI_E_NOTFOUND,
	       "same bytes under sha512 are a different, missing blob");

	struct oci_error *err = NULL;
	d = desc(OCI_MT_LAYER, &d_layer, (int64_t)strlen(layer));
	is_int(oci_blob_read_all(l, &d, 10, &buf, &len, &err), OCI_E_LIMIT,
	       "blob larger than max: limit");
	oci_error_free(err);
	err = NULL;
	d.size = -1;
	ok(oci_blob_read_all(l, &d, 1 << 20, &buf, &len, &err) < 0, "negative size refused");
	oci_error_free(err);
}

static void test_stream(struct oci_layout *l)
{
	struct oci_blob *b = NULL;
	struct oci_error *err = NULL;
	char c[64];

	struct oci_descriptor d = desc(OCI_MT_LAYER, &d_layer, (int64_t)strlen(layer) + 1);
	is_int(oci_blob_open(l, &d, &b, &err), OCI_E_MISMATCH, "open, size + 1: mismatch");
	ok(err && err->status == OCI_E_MISMATCH, "error says mismatch");
	oci_error_free(err);
	err = NULL;
	d.size = (int64_t)strlen(layer) - 1;
	is_int(oci_blob_open(l, &d, &b, NULL), OCI_E_MISMATCH, "open, size - 1: mismatch");

	/* stop after one byte: finish still verifies */
	d.size = (int64_t)strlen(layer);
	b = NULL;
	is_int(oci_blob_open(l, &d, &b, NULL), 0, "open good blob");
	is_int(oci_blob_read(b, c, 1, NULL), 1, "read one byte");
	is_int(c[0], layer[0], "the first byte");
	is_int(oci_blob_finish(b, NULL), 0, "finish after one byte: verified");
	is_int(oci_blob_read(b, c, sizeof(c), NULL), 0, "read after the verified end gives 0");
	oci_blob_free(b);
	oci_blob_free(NULL);

	/* byte by byte */
	b = NULL;
	oci_blob_open(l, &d, &b, NULL);
	size_t got = 0;
	ssize_t n = -1;
	while (b && (n = oci_blob_read(b, c, 1, NULL)) > 0)
		got += (size_t)n;
	is_int(n, 0, "byte by byte ends verified");
	is_int(got, strlen(layer), "every byte read");
	oci_blob_free(b);

	/* digest mismatch is reported at the end of the stream */
	d = desc(NULL, &d_tamper, 9);
	b = NULL;
	is_int(oci_blob_open(l, &d, &b, NULL), 0, "open tampered blob: size is right");
	n = oci_blob_read(b, c, sizeof(c), NULL);
	is_int(n, 9, "all 9 bytes come first");
	is_int(oci_blob_read(b, c, sizeof(c), &err), OCI_E_MISMATCH, "then the mismatch");
	ok(err && err->status == OCI_E_MISMATCH && strstr(err->msg, d_tamper.str),
	   "message names the blob");
	oci_error_free(err);
	err = NULL;
	ok(oci_blob_read(b, c, sizeof(c), NULL) < 0, "read after the failure fails again");
	ok(oci_blob_finish(b, NULL) < 0, "finish after the failure fails again");
	oci_blob_free(b);

	b = NULL;
	oci_blob_open(l, &d, &b, NULL);
	is_int(oci_blob_read(b, c, 1, NULL), 1, "tampered: read one byte");
	is_int(oci_blob_finish(b, &err), OCI_E_MISMATCH, "tampered: finish gives the mismatch");
	oci_error_free(err);
	err = NULL;
	oci_blob_free(b);

	b = NULL;
	oci_blob_open(l, &d, &b, NULL);
	is_int(oci_blob_finish(b, NULL), OCI_E_MISMATCH, "tampered: finish without reading");
	oci_blob_free(b);

	/* a blob that shrinks after open */
	d = desc(OCI_MT_LAYER, &d_layer, (int64_t)strlen(layer));
	b = NULL;
	is_int(oci_blob_open(l, &d, &b, NULL), 0, "open blob that will shrink");
	char rel[200];
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", oci_digest_hex(&d_layer));
	char *p = path_of(rel);
	ok(truncate(p, 10) == 0, "truncate it under the reader");
	is_int(oci_blob_read(b, c, sizeof(c), NULL), 10, "ten bytes remain");
	is_int(oci_blob_read(b, c, sizeof(c), NULL), OCI_E_MISMATCH, "then a mismatch");
	oci_blob_free(b);
	write_file(rel, layer, strlen(layer));
	free(p);

	/* missing */
	struct oci_digest missing;
	oci_digest_buffer(OCI_DIGEST_SHA256, "x", 1, &missing);
	d = desc(NULL, &missing, 1);
	b = NULL;
	is_int(oci_blob_open(l, &d, &b, &err), OCI_E_NOTFOUND, "open missing blob: not found");
	ok(b == NULL, "no handle for a missing blob");
	oci_error_free(err);
	err = NULL;

	/* a directory or a symlink out of the layout where a blob should be */
	struct oci_digest dir, link;
	oci_digest_buffer(OCI_DIGEST_SHA256, "dir", 3, &dir);
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", oci_digest_hex(&dir));
	p = path_of(rel);
	mkdir(p, 0755);
	d = desc(NULL, &dir, 3);
	ok(oci_blob_open(l, &d, &b, &err) < 0, "a directory is not a blob");
	oci_error_free(err);
	err = NULL;
	rmdir(p);
	free(p);
	oci_digest_buffer(OCI_DIGEST_SHA256, "link", 4, &link);
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", oci_digest_hex(&link));
	p = path_of(rel);
	ok(symlink("/etc/hostname", p) == 0, "symlink blob pointing out of the layout");
	d = desc(NULL, &link, 4);
	ok(oci_blob_open(l, &d, &b, &err) < 0, "a symlink out of the layout is not followed");
	oci_error_free(err);
	err = NULL;
	unlink(p);
	free(p);
}

static void test_image(void)
{
	struct oci_layout *l = NULL;
	struct oci_image *img = NULL;
	struct oci_error *err = NULL;
	struct oci_platform want = {(char *)"linux", (char *)"amd64", NULL, NULL};
	char spec[300];
	snprintf(spec, sizeof(spec), "%s:v1", tmp);
	is_int(oci_image_open(spec, &want, &l, &img, &err), 0, "image open dir:v1");
	if (err)
		printf("# %s\n", err->msg);
	if (img) {
		ok(oci_digest_equal(&img->desc.digest, &d_manifest), "the manifest chosen");
		ok(img->manifest && img->manifest->n_layers == 1, "one layer");
		ok(img->config && img->config->n_diff_ids == 1, "one diff_id");
		is_str(img->platform.architecture, "amd64", "image platform");
	}
	oci_image_free(img);
	oci_layout_free(l);
	oci_error_free(err);
	err = NULL;
	l = NULL;
	img = NULL;
	snprintf(spec, sizeof(spec), "%s:v2", tmp);
	is_int(oci_image_open(spec, &want, &l, &img, &err), OCI_E_NOTFOUND, "dir:v2 not found");
	ok(err && strstr(err->msg, "v1"), "the error names the refs present");
	oci_error_free(err);
	err = NULL;
	snprintf(spec, sizeof(spec), "%s@%s", tmp, d_manifest.str);
	is_int(oci_image_open(spec, &want, &l, &img, &err), 0, "image open dir@digest");
	oci_image_free(img);
	oci_layout_free(l);
	oci_error_free(err);
	err = NULL;
	l = NULL;
	snprintf(spec, sizeof(spec), "%s/nonexistent", tmp);
	is_int(oci_layout_open(spec, &l, &err), OCI_E_NOTFOUND, "layout open of a missing path");
	oci_error_free(err);
	err = NULL;
	snprintf(spec, sizeof(spec), "%s/blobs", tmp);
	is_int(oci_layout_open(spec, &l, &err), OCI_E_NOTFOUND,
	       "layout open of a directory without index.json");
	oci_error_free(err);
}

static void rm_rf(const char *p)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", p);
}

int main(void)
{
	if (!mkdtemp(tmp)) {
		ok(0, "mkdtemp");
		return done_testing();
	}
	make_layout();
	struct oci_layout *l = NULL;
	struct oci_error *err = NULL;
	is_int(oci_layout_open(tmp, &l, &err), 0, "open the layout");
	if (err)
		printf("# %s\n", err->msg);
	oci_error_free(err);
	if (l) {
		test_layout(l);
		test_read_all(l);
		test_stream(l);
		oci_layout_free(l);
	}
	test_image();
	rm_rf(tmp);
	return done_testing();
}
