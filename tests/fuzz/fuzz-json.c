/* Fuzz the strict JSON parser and the three document parsers on the same
 * bytes: no crash, and what a parser accepts is fully valid (digests that
 * parse again, sizes >= 0, NULL-terminated string lists, exact raw copy). */
#include <oci/oci.h>
#include "fuzz.h"

static void check_digest(const struct oci_digest *d)
{
	struct oci_digest again;
	CHECK(oci_digest_parse(d->str, &again, NULL) == 0);
	CHECK(oci_digest_equal(d, &again));
}

static void check_descriptor(const struct oci_descriptor *d)
{
	CHECK(d->media_type != NULL);
	CHECK(d->size >= 0);
	check_digest(&d->digest);
	if (d->platform) {
		CHECK(d->platform->os != NULL);
		CHECK(d->platform->architecture != NULL);
		char buf[512];
		oci_platform_format(d->platform, buf, sizeof(buf));
	}
	if (d->ref_name)
		CHECK(d->annotations != NULL);
	/* a copy is deep and releasable */
	struct oci_descriptor c;
	oci_descriptor_copy(&c, d);
	CHECK(oci_digest_equal(&c.digest, &d->digest));
	oci_descriptor_release(&c);
}

static void check_strv(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		CHECK(strlen(*p) < (1u << 23));
}

/* the descriptor media type a document is parsed against, varied by input */
static const char *pick_media_type(const uint8_t *data, size_t size, int kind)
{
	static const char *const idx[] = {NULL, OCI_MT_INDEX, OCI_MT_DOCKER_LIST};
	static const char *const man[] = {NULL, OCI_MT_MANIFEST, OCI_MT_DOCKER_MANIFEST};
	unsigned h = (unsigned)size;
	if (size)
		h += data[size - 1];
	return kind == 0 ? idx[h % 3] : man[h % 3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct oci_error *err = NULL;

	cJSON *j = NULL;
	int rj = oci_json_parse(buf, size, &j, &err);
	if (rj == 0) {
		CHECK(j != NULL);
		CHECK(err == NULL);
		cJSON_Delete(j);
	} else {
		CHECK_ERR(rj, err);
	}
	oci_error_free(err);
	err = NULL;

	struct oci_index *idx = NULL;
	int r = oci_index_parse(buf, size, pick_media_type(data, size, 0), &idx, &err);
	if (r == 0) {
		CHECK(rj == 0); /* a document is JSON first */
		CHECK(err == NULL);
		CHECK(idx->schema_version == 2);
		CHECK(idx->raw_len == size && memcmp(idx->raw, buf, size) == 0);
		CHECK(idx->n_manifests == 0 || idx->manifests != NULL);
		if (idx->media_type)
			CHECK(oci_media_kind(idx->media_type) == OCI_MEDIA_INDEX);
		for (size_t i = 0; i < idx->n_manifests; i++)
			check_descriptor(&idx->manifests[i]);
		oci_index_free(idx);
	} else {
		CHECK_ERR(r, err);
	}
	oci_error_free(err);
	err = NULL;

	struct oci_manifest *m = NULL;
	r = oci_manifest_parse(buf, size, pick_media_type(data, size, 1), &m, &err);
	if (r == 0) {
		CHECK(rj == 0);
		CHECK(err == NULL);
		CHECK(m->schema_version == 2);
		CHECK(m->raw_len == size && memcmp(m->raw, buf, size) == 0);
		if (m->media_type)
			CHECK(oci_media_kind(m->media_type) == OCI_MEDIA_MANIFEST);
		check_descriptor(&m->config);
		for (size_t i = 0; i < m->n_layers; i++)
			check_descriptor(&m->layers[i]);
		oci_manifest_free(m);
	} else {
		CHECK_ERR(r, err);
	}
	oci_error_free(err);
	err = NULL;

	struct oci_config *c = NULL;
	r = oci_config_parse(buf, size, &c, &err);
	if (r == 0) {
		CHECK(rj == 0);
		CHECK(err == NULL);
		CHECK(c->os != NULL && c->architecture != NULL);
		CHECK(c->raw_len == size && memcmp(c->raw, buf, size) == 0);
		check_strv(c->entrypoint);
		check_strv(c->cmd);
		check_strv(c->env);
		for (size_t i = 0; i < c->n_diff_ids; i++)
			check_digest(&c->diff_ids[i]);
		oci_config_free(c);
	} else {
		CHECK_ERR(r, err);
	}
	oci_error_free(err);

	/* without err no message is built: a different path, which must not
	 * crash either (its status is not compared: with err == NULL, wrapped
	 * errors come back as OCI_E_IO, a known bug) */
	struct oci_manifest *m2 = NULL;
	if (oci_manifest_parse(buf, size, NULL, &m2, NULL) == 0)
		oci_manifest_free(m2);
	return 0;
}
