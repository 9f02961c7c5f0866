/* Image documents: indexes, manifests and configs, OCI and Docker, parsed
 * and validated field by field; platforms parsed and matched. */
#include <stdlib.h>
#include <string.h>
#include <oci/oci.h>
#include "tap.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define H3 "3333333333333333333333333333333333333333333333333333333333333333"
#define H4                                                                                         \
	"44444444444444444444444444444444444444444444444444444444444444444444444444444444"         \
	"444444444444444444444444444444444444444444444444"
#define D1 "sha256:" H1
#define D2 "sha256:" H2
#define D3 "sha256:" H3
#define D4 "sha512:" H4

#define Q(s) "\"" s "\""

/* ---- index ---- */

#define OCI_INDEX                                                                                  \
	"{\"schemaVersion\":2,\"mediaType\":" Q(                                                   \
	    OCI_MT_INDEX) ",\"manifests\":["                                                       \
			  "{\"mediaType\":" Q(OCI_MT_MANIFEST) ",\"digest\":" Q(                   \
			      D1) ",\"size\":528,"                                                 \
				  "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\","     \
				  "\"variant\":\"v8\"},"                                           \
				  "\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"," \
				  "\"x\":\"y\"}},"                                                 \
				  "{\"mediaType\":" Q(OCI_MT_INDEX) ",\"digest\":" Q(              \
				      D4) ",\"size\":0,"                                           \
					  "\"platform\":{\"architecture\":\"amd64\",\"os\":"       \
					  "\"linux\",\"os.version\":\"6.1\"}}"                     \
					  "],\"annotations\":{\"a\":\"b\"}}"

#define DOCKER_LIST                                                                                \
	"{\"schemaVersion\":2,\"mediaType\":" Q(                                                   \
	    OCI_MT_DOCKER_LIST) ",\"manifests\":["                                                 \
				"{\"mediaType\":" Q(OCI_MT_DOCKER_MANIFEST) ",\"digest\":" Q(      \
				    D2) ",\"size\":9007199254740992,"                              \
					"\"platform\":{\"architecture\":\"amd64\",\"os\":"         \
					"\"linux\"}}]}"

static int index_status(const char *doc, const char *mt)
{
	struct oci_index *idx = NULL;
	struct oci_error *err = NULL;
	int r = oci_index_parse(doc, strlen(doc), mt, &idx, &err);
	if (r == 0 && (err || !idx))
		r = 1000;
	if (r < 0 && (!err || err->status != r || !err->msg))
		r = 2000;
	oci_index_free(idx);
	oci_error_free(err);
	return r;
}

static void test_index(void)
{
	struct oci_index *idx = NULL;
	struct oci_error *err = NULL;
	const char *doc = OCI_INDEX;
	is_int(oci_index_parse(doc, strlen(doc), NULL, &idx, &err), 0, "OCI index parses");
	if (!idx)
		return;
	is_int(idx->schema_version, 2, "schemaVersion 2");
	is_str(idx->media_type, OCI_MT_INDEX, "index mediaType");
	is_int(idx->n_manifests, 2, "two manifests");
	const struct oci_descriptor *m = &idx->manifests[0];
	is_str(m->media_type, OCI_MT_MANIFEST, "descriptor 0 media type");
	is_str(m->digest.str, D1, "descriptor 0 digest");
	is_int(m->digest.algo, OCI_DIGEST_SHA256, "descriptor 0 algo");
	is_int(m->size, 528, "descriptor 0 size");
	ok(m->platform != NULL, "descriptor 0 has a platform");
	if (m->platform) {
		is_str(m->platform->os, "linux", "platform os");
		is_str(m->platform->architecture, "arm64", "platform architecture");
		is_str(m->platform->variant, "v8", "platform variant");
		ok(m->platform->os_version == NULL, "no os.version");
	}
	is_str(m->ref_name, "v1", "ref_name from annotations");
	ok(cJSON_IsObject(m->annotations), "annotations kept");
	m = &idx->manifests[1];
	is_str(m->media_type, OCI_MT_INDEX, "descriptor 1 is a nested index");
	is_int(m->digest.algo, OCI_DIGEST_SHA512, "descriptor 1 sha512");
	is_int(m->size, 0, "size 0 is allowed");
	ok(m->ref_name == NULL, "no ref_name without annotation");
	ok(m->platform && m->platform->variant == NULL, "no variant");
	ok(m->platform && m->platform->os_version && !strcmp(m->platform->os_version, "6.1"),
	   "os.version");
	is_int(idx->raw_len, strlen(doc), "raw length kept");
	ok(idx->raw && memcmp(idx->raw, doc, idx->raw_len) == 0, "raw bytes kept");

	/* copying a descriptor is deep */
	struct oci_descriptor c;
	oci_descriptor_copy(&c, &idx->manifests[0]);
	ok(c.media_type != idx->manifests[0].media_type && !strcmp(c.media_type, OCI_MT_MANIFEST),
	   "descriptor copy duplicates the media type");
	ok(c.platform && c.platform != idx->manifests[0].platform &&
	       !strcmp(c.platform->variant, "v8"),
	   "descriptor copy duplicates the platform");
	ok(oci_digest_equal(&c.digest, &idx->manifests[0].digest), "descriptor copy digest");
	oci_descriptor_release(&c);
	oci_index_free(idx);
	oci_error_free(err);
	oci_index_free(NULL);

	is_int(index_status(doc, OCI_MT_INDEX), 0, "OCI index with matching descriptor type");
	is_int(index_status(DOCKER_LIST, OCI_MT_DOCKER_LIST), 0, "Docker manifest list");
	is_int(index_status(DOCKER_LIST, NULL), 0, "Docker manifest list, no descriptor type");
	is_int(index_status(DOCKER_LIST, OCI_MT_INDEX), OCI_E_INVALID,
	       "Docker list where the descriptor says OCI index refused");
	is_int(index_status(doc, OCI_MT_DOCKER_LIST), OCI_E_INVALID,
	       "OCI index where the descriptor says Docker list refused");
	is_int(index_status("{\"schemaVersion\":2,\"manifests\":[]}", NULL), 0,
	       "empty index without mediaType");
	is_int(index_status("{\"schemaVersion\":2,\"manifests\":[]}", OCI_MT_DOCKER_LIST),
	       OCI_E_INVALID, "Docker list without mediaType refused");
	is_int(index_status(
		   "{\"schemaVersion\":2,\"mediaType\":" Q(OCI_MT_MANIFEST) ",\"manifests\":[]}",
		   NULL),
	       OCI_E_INVALID, "index whose mediaType is a manifest's refused");
	is_int(index_status("{\"schemaVersion\":2}", NULL), OCI_E_INVALID,
	       "index without manifests refused");
	is_int(index_status("{\"schemaVersion\":2,\"manifests\":{}}", NULL), OCI_E_INVALID,
	       "manifests not an array refused");
	is_int(index_status("{\"schemaVersion\":2,\"Manifests\":[]}", NULL), OCI_E_INVALID,
	       "\"Manifests\" is not \"manifests\"");
	{
		int r = index_status("{\"schemaVersion\":1,\"manifests\":[]}", NULL);
		ok(r == OCI_E_UNSUPPORTED || r == OCI_E_INVALID,
		   "index schemaVersion 1 refused (got %d)", r);
	}
	is_int(index_status("[]", NULL), OCI_E_INVALID, "array document refused");
	is_int(index_status("{\"schemaVersion\":2,\"manifests\":[1]}", NULL), OCI_E_INVALID,
	       "descriptor that is not an object refused");
	is_int(
	    index_status("{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{\"a\":1}}", NULL),
	    OCI_E_INVALID, "non-string annotation value refused");
	is_int(
	    index_status("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":" Q(
			     D1) ",\"size\":1,\"platform\":{\"os\":\"linux\"}}]}",
			 NULL),
	    OCI_E_INVALID, "platform without architecture refused");
	is_int(
	    index_status("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":" Q(
			     D1) ",\"size\":1,\"platform\":\"linux/amd64\"}]}",
			 NULL),
	    OCI_E_INVALID, "platform as a string refused");
	is_int(index_status("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":"
			    "\"md5:d41d8cd98f00b204e9800998ecf8427e\",\"size\":1}]}",
			    NULL),
	       OCI_E_UNSUPPORTED, "md5 descriptor digest is unsupported");
	is_int(index_status("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":"
			    "\"sha256:../../etc/passwd\",\"size\":1}]}",
			    NULL),
	       OCI_E_INVALID, "path in a descriptor digest refused");
	is_int(index_status("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":"
			    "\"" D1 "\\u0000/../../x\",\"size\":1}]}",
			    NULL),
	       OCI_E_INVALID, "digest with an escaped NUL and a path after it refused");
	is_int(
	    index_status("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":" Q(
			     D1) ",\"size\":1,\"size\":2}]}",
			 NULL),
	    OCI_E_INVALID, "duplicate key in a descriptor refused");
}

/* ---- manifest ---- */

#define LAYERS                                                                                     \
	"\"layers\":[{\"mediaType\":" Q(OCI_MT_LAYER_GZIP) ",\"digest\":" Q(                       \
	    D2) ",\"size\":1234},"                                                                 \
		"{\"mediaType\":" Q(OCI_MT_LAYER_ZSTD) ",\"digest\":" Q(                           \
		    D4) ",\"size\":99,"                                                            \
			"\"annotations\":{\"k\":\"v\"}}]"
#define CONFIG_DESC                                                                                \
	"\"config\":{\"mediaType\":" Q(OCI_MT_CONFIG) ",\"digest\":" Q(D1) ",\"size\":456}"
#define OCI_MANIFEST                                                                               \
	"{\"schemaVersion\":2,\"mediaType\":" Q(                                                   \
	    OCI_MT_MANIFEST) "," CONFIG_DESC "," LAYERS                                            \
			     ",\"annotations\":{\"org.opencontainers.image.created\":\"now\"}}"
#define DOCKER_MANIFEST                                                                            \
	"{\"schemaVersion\":2,\"mediaType\":" Q(                                                   \
	    OCI_MT_DOCKER_MANIFEST) ",\"config\":{"                                                \
				    "\"mediaType\":" Q(OCI_MT_DOCKER_CONFIG) ",\"digest\":" Q(     \
					D3) ",\"size\":7},"                                        \
					    "\"layers\":[{\"mediaType\":" Q(                       \
						OCI_MT_DOCKER_LAYER_GZIP) ",\"digest\":" Q(D2) "," \
											       "\"size\":10}]}"

/* an OCI manifest with one field's text replaced */
#define MF(schema, config, layers)                                                                 \
	"{\"schemaVersion\":" schema ",\"mediaType\":" Q(OCI_MT_MANIFEST) "," config "," layers "}"
#define LAYER_SIZE(sz)                                                                             \
	"\"layers\":[{\"mediaType\":" Q(OCI_MT_LAYER_GZIP) ",\"digest\":" Q(D2) ",\"size\":" sz "}]"

static int manifest_status_err(const char *doc, const char *mt, struct oci_error **err)
{
	struct oci_manifest *m = NULL;
	int r = oci_manifest_parse(doc, strlen(doc), mt, &m, err);
	if (r == 0 && !m)
		r = 1000;
	if (r < 0 && err && (!*err || (*err)->status != r || !(*err)->msg))
		r = 2000;
	oci_manifest_free(m);
	return r;
}

static int manifest_status(const char *doc, const char *mt)
{
	struct oci_error *err = NULL;
	int r = manifest_status_err(doc, mt, &err);
	if (r == 0 && err)
		r = 1000;
	oci_error_free(err);
	return r;
}

static void test_manifest(void)
{
	struct oci_manifest *m = NULL;
	const char *doc = OCI_MANIFEST;
	is_int(oci_manifest_parse(doc, strlen(doc), OCI_MT_MANIFEST, &m, NULL), 0,
	       "OCI manifest parses");
	if (!m)
		return;
	is_int(m->schema_version, 2, "schemaVersion");
	is_str(m->media_type, OCI_MT_MANIFEST, "manifest mediaType");
	is_str(m->config.media_type, OCI_MT_CONFIG, "config media type");
	is_str(m->config.digest.str, D1, "config digest");
	is_int(m->config.size, 456, "config size");
	is_int(m->n_layers, 2, "two layers");
	is_str(m->layers[0].media_type, OCI_MT_LAYER_GZIP, "layer 0 media type");
	is_str(m->layers[0].digest.str, D2, "layer 0 digest");
	is_int(m->layers[0].size, 1234, "layer 0 size");
	is_str(m->layers[1].media_type, OCI_MT_LAYER_ZSTD, "layer 1 media type");
	is_str(m->layers[1].digest.str, D4, "layer 1 sha512 digest");
	is_int(m->layers[1].size, 99, "layer 1 size");
	ok(m->layers[1].annotations && m->layers[0].annotations == NULL, "layer annotations");
	oci_manifest_free(m);
	oci_manifest_free(NULL);

	m = NULL;
	doc = DOCKER_MANIFEST;
	is_int(oci_manifest_parse(doc, strlen(doc), OCI_MT_DOCKER_MANIFEST, &m, NULL), 0,
	       "Docker manifest parses");
	if (m) {
		is_str(m->media_type, OCI_MT_DOCKER_MANIFEST, "Docker manifest mediaType");
		is_str(m->config.media_type, OCI_MT_DOCKER_CONFIG, "Docker config media type");
		is_int(m->n_layers, 1, "one Docker layer");
		is_str(m->layers[0].media_type, OCI_MT_DOCKER_LAYER_GZIP, "Docker layer type");
	}
	oci_manifest_free(m);

	is_int(manifest_status(OCI_MANIFEST, NULL), 0, "OCI manifest, no descriptor type");
	is_int(manifest_status(MF("2", CONFIG_DESC, "\"layers\":[]"), NULL), 0,
	       "manifest with no layers");
	is_int(
	    manifest_status("{\"schemaVersion\":2," CONFIG_DESC ",\"layers\":[]}", OCI_MT_MANIFEST),
	    0, "OCI manifest without mediaType is fine");

	{
		int r = manifest_status(MF("1", CONFIG_DESC, LAYERS), NULL);
		ok(r == OCI_E_UNSUPPORTED || r == OCI_E_INVALID, "schemaVersion 1 refused (got %d)",
		   r);
		r = manifest_status(MF("3", CONFIG_DESC, LAYERS), NULL);
		ok(r == OCI_E_UNSUPPORTED || r == OCI_E_INVALID, "schemaVersion 3 refused (got %d)",
		   r);
	}
	is_int(manifest_status(MF("\"2\"", CONFIG_DESC, LAYERS), NULL), OCI_E_INVALID,
	       "schemaVersion as a string refused");
	is_int(manifest_status(MF("2.5", CONFIG_DESC, LAYERS), NULL), OCI_E_INVALID,
	       "fractional schemaVersion refused");
	is_int(manifest_status("{\"mediaType\":" Q(OCI_MT_MANIFEST) "," CONFIG_DESC "," LAYERS "}",
			       NULL),
	       OCI_E_INVALID, "missing schemaVersion refused");
	is_int(manifest_status("{\"schemaVersion\":2," CONFIG_DESC "}", NULL), OCI_E_INVALID,
	       "missing layers refused");
	is_int(manifest_status("{\"schemaVersion\":2," CONFIG_DESC ",\"Layers\":[]}", NULL),
	       OCI_E_INVALID, "\"Layers\" is not \"layers\"");
	is_int(manifest_status("{\"schemaVersion\":2,\"Config\":{\"mediaType\":\"x\",\"digest\":" Q(
				   D1) ",\"size\":1},\"layers\":[]}",
			       NULL),
	       OCI_E_INVALID, "\"Config\" is not \"config\"");
	is_int(manifest_status("{\"schemaVersion\":2," LAYERS "}", NULL), OCI_E_INVALID,
	       "missing config refused");
	is_int(manifest_status(MF("2", "\"config\":[]", LAYERS), NULL), OCI_E_INVALID,
	       "config not an object refused");
	is_int(manifest_status(MF("2", CONFIG_DESC, "\"layers\":{}"), NULL), OCI_E_INVALID,
	       "layers not an array refused");
	is_int(manifest_status(MF("2", CONFIG_DESC, "\"layers\":null"), NULL), OCI_E_INVALID,
	       "layers null refused");

	is_int(manifest_status(MF("2", CONFIG_DESC, LAYER_SIZE("\"1234\"")), NULL), OCI_E_INVALID,
	       "size as a string refused");
	is_int(manifest_status(MF("2", CONFIG_DESC, LAYER_SIZE("-1")), NULL), OCI_E_INVALID,
	       "negative size refused");
	is_int(manifest_status(MF("2", CONFIG_DESC, LAYER_SIZE("12.5")), NULL), OCI_E_INVALID,
	       "fractional size refused");
	is_int(manifest_status(MF("2", CONFIG_DESC, LAYER_SIZE("1e300")), NULL), OCI_E_INVALID,
	       "size 1e300 refused");
	is_int(manifest_status(MF("2", CONFIG_DESC, LAYER_SIZE("null")), NULL), OCI_E_INVALID,
	       "size null refused");
	is_int(manifest_status(MF("2", CONFIG_DESC, LAYER_SIZE("true")), NULL), OCI_E_INVALID,
	       "size true refused");
	is_int(manifest_status(
		   MF("2", CONFIG_DESC, "\"layers\":[{\"mediaType\":\"x\",\"digest\":" Q(D2) "}]"),
		   NULL),
	       OCI_E_INVALID, "missing size refused");
	is_int(manifest_status(
		   MF("2", CONFIG_DESC, "\"layers\":[{\"mediaType\":\"x\",\"size\":1}]"), NULL),
	       OCI_E_INVALID, "missing digest refused");
	is_int(manifest_status(
		   MF("2", CONFIG_DESC, "\"layers\":[{\"digest\":" Q(D2) ",\"size\":1}]"), NULL),
	       OCI_E_INVALID, "missing mediaType refused");
	is_int(manifest_status(MF("2", CONFIG_DESC,
				  "\"layers\":[{\"mediaType\":7,\"digest\":" Q(D2) ",\"size\":1}]"),
			       NULL),
	       OCI_E_INVALID, "mediaType as a number refused");
	is_int(manifest_status(MF("2", CONFIG_DESC,
				  "\"layers\":[{\"mediaType\":\"x\",\"digest\":\"sha256:"
				  "ABCDEF\",\"size\":1}]"),
			       NULL),
	       OCI_E_INVALID, "bad layer digest refused");

	/* mediaType of the document against the descriptor's */
	is_int(manifest_status(OCI_MANIFEST, OCI_MT_DOCKER_MANIFEST), OCI_E_INVALID,
	       "OCI manifest where the descriptor says Docker refused");
	is_int(manifest_status(DOCKER_MANIFEST, OCI_MT_MANIFEST), OCI_E_INVALID,
	       "Docker manifest where the descriptor says OCI refused");
	is_int(manifest_status(OCI_MANIFEST, OCI_MT_INDEX), OCI_E_INVALID,
	       "manifest where the descriptor says index refused");
	is_int(manifest_status("{\"schemaVersion\":2,\"mediaType\":" Q(OCI_MT_INDEX) "," CONFIG_DESC
										     "," LAYERS "}",
			       NULL),
	       OCI_E_INVALID, "manifest whose mediaType is an index's refused");
	is_int(
	    manifest_status("{\"schemaVersion\":2,\"mediaType\":\"application/x-foo\"," CONFIG_DESC
			    "," LAYERS "}",
			    NULL),
	    OCI_E_INVALID, "unknown document mediaType refused");
	is_int(manifest_status("{\"schemaVersion\":2," CONFIG_DESC "," LAYERS "}",
			       OCI_MT_DOCKER_MANIFEST),
	       OCI_E_INVALID, "Docker manifest without mediaType refused");
	is_int(manifest_status("{\"schemaVersion\":2,\"mediaType\":7," CONFIG_DESC "," LAYERS "}",
			       NULL),
	       OCI_E_INVALID, "mediaType as a number refused");
	is_int(manifest_status(OCI_MANIFEST " x", NULL), OCI_E_INVALID, "trailing garbage refused");
	is_int(manifest_status("{\"schemaVersion\":2,\"mediaType\":" Q(
				   OCI_MT_MANIFEST) "," CONFIG_DESC "," CONFIG_DESC "," LAYERS "}",
			       NULL),
	       OCI_E_INVALID, "config twice refused");
	is_int(manifest_status("{\"schemaVersion\":2,\"mediaType\":" Q(
				   OCI_MT_MANIFEST "\\u0000x") "," CONFIG_DESC "," LAYERS "}",
			       NULL),
	       OCI_E_INVALID, "mediaType with an escaped NUL and junk after it refused");

	/* the status must not depend on whether the caller wants the message */
	is_int(manifest_status_err(MF("2", CONFIG_DESC, LAYER_SIZE("-1")), NULL, NULL),
	       OCI_E_INVALID, "bad layer with err == NULL is still OCI_E_INVALID");
	is_int(manifest_status_err(MF("2",
				      "\"config\":{\"mediaType\":\"x\",\"digest\":\"x\","
				      "\"size\":1}",
				      LAYERS),
				   NULL, NULL),
	       OCI_E_INVALID, "bad config descriptor with err == NULL is OCI_E_INVALID");
	/* and must not be left over from an earlier failure */
	is_int(manifest_status_err(MF("2", CONFIG_DESC,
				      "\"layers\":[{\"mediaType\":\"x\",\"digest\":"
				      "\"md5:d41d8cd98f00b204e9800998ecf8427e\",\"size\":1}]"),
				   NULL, NULL),
	       OCI_E_UNSUPPORTED, "md5 layer with err == NULL is OCI_E_UNSUPPORTED");
	is_int(manifest_status_err(MF("2", CONFIG_DESC, LAYER_SIZE("1.5")), NULL, NULL),
	       OCI_E_INVALID, "then a fractional size with err == NULL is OCI_E_INVALID");
	is_int(manifest_status_err(MF("1", CONFIG_DESC, LAYERS), NULL, NULL),
	       manifest_status(MF("1", CONFIG_DESC, LAYERS), NULL),
	       "schemaVersion 1: same status with and without err");
	is_int(manifest_status_err("{\"schemaVersion\":2," CONFIG_DESC
				   ",\"layers\":[{\"mediaType\":"
				   "\"x\",\"digest\":" Q(D2) ",\"size\":1,\"platform\":{}}]}",
				   NULL, NULL),
	       OCI_E_INVALID, "layer with an empty platform with err == NULL is OCI_E_INVALID");
}

/* ---- config ---- */

#define ROOTFS(ids) "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":" ids "}"
#define CONFIG_JSON                                                                                \
	"{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\","                         \
	"\"created\":\"2023-11-14T22:13:20Z\",\"author\":\"me\",\"config\":{"                      \
	"\"Entrypoint\":[\"/bin/tool\"],\"Cmd\":[\"--help\",\"-v\"],"                              \
	"\"Env\":[\"PATH=/usr/bin:/bin\",\"LANG=C.UTF-8\"],\"WorkingDir\":\"/srv\","               \
	"\"User\":\"app\",\"Labels\":{\"org.example.name\":\"multi\"},"                            \
	"\"ExposedPorts\":{\"8080/tcp\":{}},\"Volumes\":{\"/var/cache\":{}},"                      \
	"\"StopSignal\":\"SIGTERM\"}," ROOTFS("[" Q(D1) "," Q(                                     \
	    D4) "]") ","                                                                           \
		     "\"history\":[{\"created_by\":\"a\"},{\"empty_layer\":true}]}"

static int config_status(const char *doc)
{
	struct oci_config *c = NULL;
	struct oci_error *err = NULL;
	int r = oci_config_parse(doc, strlen(doc), &c, &err);
	if (r == 0 && (err || !c))
		r = 1000;
	if (r < 0 && (!err || err->status != r || !err->msg))
		r = 2000;
	oci_config_free(c);
	oci_error_free(err);
	return r;
}

static void test_config(void)
{
	struct oci_config *c = NULL;
	struct oci_error *err = NULL;
	const char *doc = CONFIG_JSON;
	is_int(oci_config_parse(doc, strlen(doc), &c, &err), 0, "config parses");
	oci_error_free(err);
	if (!c)
		return;
	is_str(c->architecture, "arm64", "architecture");
	is_str(c->os, "linux", "os");
	is_str(c->variant, "v8", "variant");
	is_str(c->created, "2023-11-14T22:13:20Z", "created");
	is_str(c->author, "me", "author");
	ok(c->entrypoint && c->entrypoint[0] && !strcmp(c->entrypoint[0], "/bin/tool") &&
	       !c->entrypoint[1],
	   "entrypoint");
	ok(c->cmd && c->cmd[0] && c->cmd[1] && !strcmp(c->cmd[0], "--help") &&
	       !strcmp(c->cmd[1], "-v") && !c->cmd[2],
	   "cmd");
	ok(c->env && c->env[0] && c->env[1] && !strcmp(c->env[0], "PATH=/usr/bin:/bin") &&
	       !strcmp(c->env[1], "LANG=C.UTF-8") && !c->env[2],
	   "env");
	is_str(c->workdir, "/srv", "workdir");
	is_str(c->user, "app", "user");
	is_str(c->stop_signal, "SIGTERM", "stop signal");
	ok(cJSON_IsObject(c->labels), "labels");
	ok(cJSON_IsObject(c->exposed_ports), "exposed ports");
	ok(cJSON_IsObject(c->volumes), "volumes");
	ok(cJSON_IsArray(c->history) && cJSON_GetArraySize(c->history) == 2, "history");
	is_int(c->n_diff_ids, 2, "two diff_ids");
	is_str(c->diff_ids[0].str, D1, "diff_id 0");
	is_int(c->diff_ids[1].algo, OCI_DIGEST_SHA512, "diff_id 1 is sha512");
	oci_config_free(c);
	oci_config_free(NULL);

	/* minimal: no config section, no history, no diff_ids */
	c = NULL;
	doc = "{\"architecture\":\"amd64\",\"os\":\"linux\"," ROOTFS("[]") "}";
	is_int(oci_config_parse(doc, strlen(doc), &c, NULL), 0, "minimal config parses");
	if (c) {
		ok(!c->entrypoint && !c->cmd && !c->env && !c->workdir && !c->user && !c->variant,
		   "absent fields are NULL");
		is_int(c->n_diff_ids, 0, "no diff_ids");
	}
	oci_config_free(c);
	is_int(config_status("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":null,"
			     "\"history\":null," ROOTFS("[]") "}"),
	       0, "null config and history accepted");
	is_int(config_status("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
			     "\"Entrypoint\":null,\"Cmd\":[]}," ROOTFS("[]") "}"),
	       0, "null entrypoint and empty cmd accepted");

	is_int(config_status("{\"architecture\":\"amd64\",\"os\":\"linux\"}"), OCI_E_INVALID,
	       "config missing rootfs refused");
	is_int(config_status("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":[]}"),
	       OCI_E_INVALID, "rootfs not an object refused");
	is_int(config_status("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{"
			     "\"diff_ids\":[]}}"),
	       OCI_E_INVALID, "rootfs without type refused");
	is_int(config_status("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{"
			     "\"type\":\"layer\",\"diff_ids\":[]}}"),
	       OCI_E_INVALID, "rootfs type other than layers refused");
	is_int(config_status("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{"
			     "\"type\":\"layers\"}}"),
	       OCI_E_INVALID, "rootfs without diff_ids refused");
	is_int(config_status("{\"architecture\":\"amd64\",\"os\":\"linux\"," ROOTFS("{}") "}"),
	       OCI_E_INVALID, "diff_ids not an array refused");
	is_int(config_status(
		   "{\"architecture\":\"amd64\",\"os\":\"linux\"," ROOTFS("[\"sha256:abc\"]") "}"),
	       OCI_E_INVALID, "short diff_id refused");
	is_int(config_status("{\"architecture\":\"amd64\",\"os\":\"linux\"," ROOTFS(
		   "[" Q(D1) ",\"sha256:" H1 "/\"]") "}"),
	       OCI_E_INVALID, "second diff_id invalid refused");
	is_int(config_status("{\"architecture\":\"amd64\",\"os\":\"linux\"," ROOTFS("[1]") "}"),
	       OCI_E_INVALID, "diff_id as a number refused");
	is_int(config_status("{\"architecture\":\"amd64\",\"os\":\"linux\"," ROOTFS(
		   "[\"md5:d41d8cd98f00b204e9800998ecf8427e\"]") "}"),
	       OCI_E_UNSUPPORTED, "md5 diff_id unsupported");
	is_int(config_status("{\"os\":\"linux\"," ROOTFS("[]") "}"), OCI_E_INVALID,
	       "missing architecture refused");
	is_int(config_status("{\"architecture\":\"amd64\"," ROOTFS("[]") "}"), OCI_E_INVALID,
	       "missing os refused");
	is_int(config_status("{\"Architecture\":\"amd64\",\"os\":\"linux\"," ROOTFS("[]") "}"),
	       OCI_E_INVALID, "\"Architecture\" is not \"architecture\"");
	is_int(config_status("{\"architecture\":5,\"os\":\"linux\"," ROOTFS("[]") "}"),
	       OCI_E_INVALID, "architecture as a number refused");
	is_int(config_status("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
			     "\"Env\":[\"A=1\",2]}," ROOTFS("[]") "}"),
	       OCI_E_INVALID, "non-string Env element refused");
	is_int(config_status("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
			     "\"Entrypoint\":\"/bin/sh\"}," ROOTFS("[]") "}"),
	       OCI_E_INVALID, "Entrypoint as a string refused");
	is_int(config_status("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
			     "\"WorkingDir\":[]}," ROOTFS("[]") "}"),
	       OCI_E_INVALID, "WorkingDir as an array refused");
	is_int(config_status("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
			     "\"Labels\":{\"a\":1}}," ROOTFS("[]") "}"),
	       OCI_E_INVALID, "non-string label refused");
	is_int(config_status(
		   "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":[]," ROOTFS("[]") "}"),
	       OCI_E_INVALID, "config as an array refused");
	is_int(config_status(
		   "{\"architecture\":\"amd64\",\"os\":\"linux\",\"history\":{}," ROOTFS("[]") "}"),
	       OCI_E_INVALID, "history as an object refused");
	is_int(config_status("{\"architecture\":\"amd64\",\"os\":\"linux\",\"history\":[1]," ROOTFS(
		   "[]") "}"),
	       OCI_E_INVALID, "history entry not an object refused");
	is_int(
	    config_status(
		"{\"architecture\":\"amd64\",\"os\":\"linux\",\"os\":\"linux\"," ROOTFS("[]") "}"),
	    OCI_E_INVALID, "duplicate os refused");
	is_int(config_status("[]"), OCI_E_INVALID, "array document refused");
}

/* ---- platforms ---- */

static void platform_ok(const char *s, const char *os, const char *arch, const char *variant)
{
	struct oci_platform p;
	struct oci_error *err = NULL;
	is_int(oci_platform_parse(s, &p, &err), 0, s);
	is_str(p.os, os, "os");
	is_str(p.architecture, arch, "architecture");
	if (variant)
		is_str(p.variant, variant, "variant");
	else
		ok(p.variant == NULL, "%s: no variant", s);
	char buf[200];
	is_str(oci_platform_format(&p, buf, sizeof(buf)), s, "formats back");
	oci_platform_release(&p);
	oci_error_free(err);
}

static void platform_bad(const char *s, const char *name)
{
	struct oci_platform p;
	struct oci_error *err = NULL;
	int r = oci_platform_parse(s, &p, &err);
	ok(r < 0 && err && err->status == r, "%s refused (got %d)", name, r);
	oci_platform_release(&p);
	oci_error_free(err);
}

static struct oci_platform plat(const char *os, const char *arch, const char *variant)
{
	struct oci_platform p = {(char *)os, (char *)arch, (char *)variant, NULL};
	return p;
}

static void test_platform(void)
{
	platform_ok("linux/amd64", "linux", "amd64", NULL);
	platform_ok("linux/arm64/v8", "linux", "arm64", "v8");
	platform_ok("windows/amd64", "windows", "amd64", NULL);
	platform_ok("linux/ppc64le", "linux", "ppc64le", NULL);

	platform_bad("linux", "\"linux\"");
	platform_bad("a/b/c/d", "\"a/b/c/d\"");
	platform_bad("", "empty string");
	platform_bad("/", "\"/\"");
	platform_bad("linux/", "\"linux/\"");
	platform_bad("/amd64", "\"/amd64\"");
	platform_bad("linux//v8", "\"linux//v8\"");
	platform_bad("linux/arm64/", "\"linux/arm64/\"");
	platform_bad("linux/am d64", "a space");
	platform_bad("linux/amd64\n", "a newline");
	platform_bad("linux/../x", "\"linux/../x\"");
	platform_bad("../amd64", "\"../amd64\"");
	platform_bad("linux/arm/..", "\"linux/arm/..\"");
	platform_bad("./amd64", "\"./amd64\"");

	struct oci_platform want, p;
	want = plat("linux", "arm64", NULL);
	p = plat("linux", "arm64", "v8");
	ok(oci_platform_match(&want, &p), "want arm64 matches arm64/v8");
	p = plat("linux", "arm64", NULL);
	ok(oci_platform_match(&want, &p), "want arm64 matches arm64");
	want = plat("linux", "arm64", "v8");
	ok(oci_platform_match(&want, &p), "want arm64/v8 matches arm64 without variant");
	p = plat("linux", "arm64", "v8");
	ok(oci_platform_match(&want, &p), "want arm64/v8 matches arm64/v8");
	p = plat("linux", "arm64", "v9");
	ok(!oci_platform_match(&want, &p), "want arm64/v8 does not match arm64/v9");
	want = plat("linux", "arm", NULL);
	p = plat("linux", "arm", "v7");
	ok(oci_platform_match(&want, &p), "want arm matches arm/v7 (any variant)");
	want = plat("linux", "arm", "v7");
	p = plat("linux", "arm", "v6");
	ok(!oci_platform_match(&want, &p), "want arm/v7 does not match arm/v6");
	p = plat("linux", "arm", NULL);
	ok(!oci_platform_match(&want, &p), "want arm/v7 does not match arm without variant");
	want = plat("linux", "arm64", "");
	p = plat("linux", "arm64", "v9");
	ok(oci_platform_match(&want, &p), "empty wanted variant is no variant");
	want = plat("linux", "amd64", NULL);
	p = plat("linux", "arm64", NULL);
	ok(!oci_platform_match(&want, &p), "amd64 does not match arm64");
	p = plat("windows", "amd64", NULL);
	ok(!oci_platform_match(&want, &p), "linux does not match windows");
	ok(!oci_platform_match(&want, NULL), "no platform does not match");
	p = plat(NULL, "amd64", NULL);
	ok(!oci_platform_match(&want, &p), "platform without os does not match");
	p = plat("Linux", "amd64", NULL);
	ok(!oci_platform_match(&want, &p), "os comparison is case-sensitive");

	struct oci_platform host;
	oci_platform_host(&host);
	ok(host.os && host.architecture && !strcmp(host.os, "linux"), "host platform is linux/*");
	ok(oci_platform_match(&host, &host), "host matches itself");
	oci_platform_release(&host);
	oci_platform_release(NULL);

	char buf[64];
	is_str(oci_platform_format(NULL, buf, sizeof(buf)), "-", "no platform formats as -");
	p = plat("linux", "arm64", "v8");
	is_str(oci_platform_format(&p, buf, 8), "linux/a", "format truncates to the buffer");
}

int main(void)
{
	test_index();
	test_manifest();
	test_config();
	test_platform();
	return done_testing();
}
