/* Index, manifest and config documents: parsed strictly and validated
 * field by field before anything reads them. */
#include <sys/utsname.h>
#include "internal.h"

/* Returns 0 (absent), 1 (present, *out set), or <0 on wrong type. */
static int doc_string(const cJSON *obj, const char *key, bool required, char **out,
		      struct oci_error **err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v || cJSON_IsNull(v)) {
		if (required)
			return error_set(err, OCI_E_INVALID, 0, "missing required field \"%s\"",
					 key);
		return 0;
	}
	if (!cJSON_IsString(v))
		return error_set(err, OCI_E_INVALID, 0, "field \"%s\" is not a string", key);
	if (out)
		*out = xstrdup(v->valuestring);
	return 1;
}

static int doc_int(const cJSON *obj, const char *key, bool required, int64_t *out,
		   struct oci_error **err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v) {
		if (required)
			return error_set(err, OCI_E_INVALID, 0, "missing required field \"%s\"",
					 key);
		return 0;
	}
	if (!cJSON_IsNumber(v))
		return error_set(err, OCI_E_INVALID, 0, "field \"%s\" is not a number", key);
	if (!oci_json_int64(v, 0, INT64_MAX, out))
		return error_set(err, OCI_E_INVALID, 0,
				 "field \"%s\" is not a non-negative integer", key);
	return 1;
}

static int doc_object(const cJSON *obj, const char *key, bool required, const cJSON **out,
		      struct oci_error **err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v)) {
		if (required)
			return error_set(err, OCI_E_INVALID, 0, "missing required field \"%s\"",
					 key);
		return 0;
	}
	if (!cJSON_IsObject(v))
		return error_set(err, OCI_E_INVALID, 0, "field \"%s\" is not an object", key);
	*out = v;
	return 1;
}

static int doc_string_map(const cJSON *obj, const char *key, const cJSON **out,
			  struct oci_error **err)
{
	int r = doc_object(obj, key, false, out, err);
	if (r <= 0)
		return r;
	const cJSON *c;
	cJSON_ArrayForEach (c, *out) {
		if (!cJSON_IsString(c))
			return error_set(err, OCI_E_INVALID, 0,
					 "field \"%s\": value of \"%.64s\" is not a string", key,
					 c->string);
	}
	return 1;
}

static void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static int doc_strv(const cJSON *obj, const char *key, char ***out, struct oci_error **err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return error_set(err, OCI_E_INVALID, 0, "field \"%s\" is not an array", key);
	size_t n = (size_t)cJSON_GetArraySize(v);
	char **r = xcalloc(n + 1, sizeof(*r));
	size_t i = 0;
	const cJSON *c;
	cJSON_ArrayForEach (c, v) {
		if (!cJSON_IsString(c)) {
			strv_free(r);
			return error_set(err, OCI_E_INVALID, 0,
					 "field \"%s\": element %zu is not a string", key, i);
		}
		r[i++] = xstrdup(c->valuestring);
	}
	*out = r;
	return 1;
}

void oci_platform_release(struct oci_platform *p)
{
	if (!p)
		return;
	free(p->os);
	free(p->architecture);
	free(p->variant);
	free(p->os_version);
	memset(p, 0, sizeof(*p));
}

static int platform_from_json(const cJSON *obj, struct oci_platform *p, struct oci_error **err)
{
	memset(p, 0, sizeof(*p));
	if (doc_string(obj, "architecture", true, &p->architecture, err) < 0 ||
	    doc_string(obj, "os", true, &p->os, err) < 0 ||
	    doc_string(obj, "variant", false, &p->variant, err) < 0 ||
	    doc_string(obj, "os.version", false, &p->os_version, err) < 0) {
		oci_platform_release(p);
		return error_wrap(err, "platform");
	}
	return 0;
}

void oci_descriptor_release(struct oci_descriptor *d)
{
	if (!d)
		return;
	free(d->media_type);
	free(d->ref_name);
	if (d->platform) {
		oci_platform_release(d->platform);
		free(d->platform);
	}
	memset(d, 0, sizeof(*d));
}

void oci_descriptor_copy(struct oci_descriptor *dst, const struct oci_descriptor *src)
{
	*dst = *src;
	dst->media_type = src->media_type ? xstrdup(src->media_type) : NULL;
	dst->ref_name = src->ref_name ? xstrdup(src->ref_name) : NULL;
	/* annotations stay borrowed from the source's document */
	if (src->platform) {
		dst->platform = xcalloc(1, sizeof(*dst->platform));
		dst->platform->os = src->platform->os ? xstrdup(src->platform->os) : NULL;
		dst->platform->architecture =
		    src->platform->architecture ? xstrdup(src->platform->architecture) : NULL;
		dst->platform->variant =
		    src->platform->variant ? xstrdup(src->platform->variant) : NULL;
		dst->platform->os_version =
		    src->platform->os_version ? xstrdup(src->platform->os_version) : NULL;
	}
}

int oci_descriptor_parse(const cJSON *obj, struct oci_descriptor *d, struct oci_error **err)
{
	memset(d, 0, sizeof(*d));
	if (!cJSON_IsObject(obj))
		return error_set(err, OCI_E_INVALID, 0, "descriptor is not an object");
	char *digest = NULL;
	const cJSON *plat = NULL;
	int r;
	if ((r = doc_string(obj, "mediaType", true, &d->media_type, err)) < 0 ||
	    (r = doc_string(obj, "digest", true, &digest, err)) < 0 ||
	    (r = doc_int(obj, "size", true, &d->size, err)) < 0 ||
	    (r = doc_string_map(obj, "annotations", &d->annotations, err)) < 0 ||
	    (r = doc_object(obj, "platform", false, &plat, err)) < 0)
		goto fail;
	r = oci_digest_parse(digest, &d->digest, err);
	free(digest);
	digest = NULL;
	if (r < 0)
		goto fail;
	if (plat) {
		d->platform = xcalloc(1, sizeof(*d->platform));
		if ((r = platform_from_json(plat, d->platform, err)) < 0)
			goto fail;
	}
	if (d->annotations) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(
		    d->annotations, "org.opencontainers.image.ref.name");
		if (cJSON_IsString(n))
			d->ref_name = xstrdup(n->valuestring);
	}
	return 0;
fail:
	free(digest);
	oci_descriptor_release(d);
	return r;
}

static int doc_schema_version(const cJSON *root, int *out, struct oci_error **err)
{
	int64_t v = 0;
	int r = doc_int(root, "schemaVersion", true, &v, err);
	if (r < 0)
		return r;
	if (v != 2)
		return error_set(err, OCI_E_UNSUPPORTED, 0, "schemaVersion %lld is not 2",
				 (long long)v);
	*out = 2;
	return 0;
}

/* The document's own mediaType must agree with its kind, and with what the
 * descriptor that led here said. */
static int doc_media_type(const cJSON *root, const char *desc_mt, enum oci_media_kind kind,
			  char **out, struct oci_error **err)
{
	int r = doc_string(root, "mediaType", false, out, err);
	if (r < 0)
		return r;
	const char *mt = *out;
	if (mt && oci_media_kind(mt) != kind)
		return error_set(err, OCI_E_INVALID, 0, "mediaType \"%.100s\" is not %s", mt,
				 kind == OCI_MEDIA_INDEX ? "an index" : "a manifest");
	if (mt && desc_mt && strcmp(mt, desc_mt) != 0)
		return error_set(err, OCI_E_INVALID, 0,
				 "mediaType \"%.100s\" differs from the descriptor's \"%.100s\"",
				 mt, desc_mt);
	if (!mt && oci_media_is_docker(desc_mt))
		return error_set(err, OCI_E_INVALID, 0, "missing required field \"mediaType\"");
	return 0;
}

static int doc_descriptor_array(const cJSON *root, const char *key, struct oci_descriptor **out,
				size_t *n_out, struct oci_error **err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, key);
	if (!arr)
		return error_set(err, OCI_E_INVALID, 0, "missing required field \"%s\"", key);
	if (!cJSON_IsArray(arr))
		return error_set(err, OCI_E_INVALID, 0, "field \"%s\" is not an array", key);
	size_t n = (size_t)cJSON_GetArraySize(arr);
	struct oci_descriptor *v = xcalloc(n ? n : 1, sizeof(*v));
	size_t i = 0;
	const cJSON *c;
	cJSON_ArrayForEach (c, arr) {
		int r = oci_descriptor_parse(c, &v[i], err);
		if (r < 0) {
			for (size_t j = 0; j < i; j++)
				oci_descriptor_release(&v[j]);
			free(v);
			return error_wrap(err, "%s[%zu]", key, i);
		}
		i++;
	}
	*out = v;
	*n_out = n;
	return 0;
}

void oci_index_free(struct oci_index *idx)
{
	if (!idx)
		return;
	for (size_t i = 0; i < idx->n_manifests; i++)
		oci_descriptor_release(&idx->manifests[i]);
	free(idx->manifests);
	free(idx->media_type);
	cJSON_Delete(idx->root);
	free(idx->raw);
	free(idx);
}

int oci_index_parse(const char *buf, size_t len, const char *mt, struct oci_index **out,
		    struct oci_error **err)
{
	struct oci_index *idx = xcalloc(1, sizeof(*idx));
	int r = oci_json_parse(buf, len, &idx->root, err);
	if (r < 0)
		goto fail;
	if (!cJSON_IsObject(idx->root)) {
		r = error_set(err, OCI_E_INVALID, 0, "document is not a JSON object");
		goto fail;
	}
	if ((r = doc_schema_version(idx->root, &idx->schema_version, err)) < 0 ||
	    (r = doc_media_type(idx->root, mt, OCI_MEDIA_INDEX, &idx->media_type, err)) < 0 ||
	    (r = doc_descriptor_array(idx->root, "manifests", &idx->manifests, &idx->n_manifests,
				      err)) < 0)
		goto fail;
	const cJSON *ann;
	if ((r = doc_string_map(idx->root, "annotations", &ann, err)) < 0)
		goto fail;
	idx->raw = xmalloc(len + 1);
	memcpy(idx->raw, buf, len);
	idx->raw[len] = 0;
	idx->raw_len = len;
	*out = idx;
	return 0;
fail:
	oci_index_free(idx);
	return r;
}

void oci_manifest_free(struct oci_manifest *m)
{
	if (!m)
		return;
	oci_descriptor_release(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		oci_descriptor_release(&m->layers[i]);
	free(m->layers);
	free(m->media_type);
	cJSON_Delete(m->root);
	free(m->raw);
	free(m);
}

int oci_manifest_parse(const char *buf, size_t len, const char *mt, struct oci_manifest **out,
		       struct oci_error **err)
{
	struct oci_manifest *m = xcalloc(1, sizeof(*m));
	const cJSON *cfg, *ann;
	int r = oci_json_parse(buf, len, &m->root, err);
	if (r < 0)
		goto fail;
	if (!cJSON_IsObject(m->root)) {
		r = error_set(err, OCI_E_INVALID, 0, "document is not a JSON object");
		goto fail;
	}
	if ((r = doc_schema_version(m->root, &m->schema_version, err)) < 0 ||
	    (r = doc_media_type(m->root, mt, OCI_MEDIA_MANIFEST, &m->media_type, err)) < 0 ||
	    (r = doc_object(m->root, "config", true, &cfg, err)) < 0)
		goto fail;
	if ((r = oci_descriptor_parse(cfg, &m->config, err)) < 0) {
		error_wrap(err, "config");
		goto fail;
	}
	if ((r = doc_descriptor_array(m->root, "layers", &m->layers, &m->n_layers, err)) < 0 ||
	    (r = doc_string_map(m->root, "annotations", &ann, err)) < 0)
		goto fail;
	m->raw = xmalloc(len + 1);
	memcpy(m->raw, buf, len);
	m->raw[len] = 0;
	m->raw_len = len;
	*out = m;
	return 0;
fail:
	oci_manifest_free(m);
	return r;
}

void oci_config_free(struct oci_config *c)
{
	if (!c)
		return;
	free(c->os);
	free(c->architecture);
	free(c->variant);
	free(c->created);
	free(c->author);
	strv_free(c->entrypoint);
	strv_free(c->cmd);
	strv_free(c->env);
	free(c->workdir);
	free(c->user);
	free(c->stop_signal);
	free(c->diff_ids);
	cJSON_Delete(c->root);
	free(c->raw);
	free(c);
}

int oci_config_parse(const char *buf, size_t len, struct oci_config **out, struct oci_error **err)
{
	struct oci_config *c = xcalloc(1, sizeof(*c));
	const cJSON *rootfs, *cc = NULL;
	char *rtype = NULL;
	int r = oci_json_parse(buf, len, &c->root, err);
	if (r < 0)
		goto fail;
	if (!cJSON_IsObject(c->root)) {
		r = error_set(err, OCI_E_INVALID, 0, "document is not a JSON object");
		goto fail;
	}
	if ((r = doc_string(c->root, "architecture", true, &c->architecture, err)) < 0 ||
	    (r = doc_string(c->root, "os", true, &c->os, err)) < 0 ||
	    (r = doc_string(c->root, "variant", false, &c->variant, err)) < 0 ||
	    (r = doc_string(c->root, "created", false, &c->created, err)) < 0 ||
	    (r = doc_string(c->root, "author", false, &c->author, err)) < 0 ||
	    (r = doc_object(c->root, "rootfs", true, &rootfs, err)) < 0 ||
	    (r = doc_object(c->root, "config", false, &cc, err)) < 0)
		goto fail;
	if ((r = doc_string(rootfs, "type", true, &rtype, err)) < 0) {
		error_wrap(err, "rootfs");
		goto fail;
	}
	if (strcmp(rtype, "layers") != 0) {
		r = error_set(err, OCI_E_INVALID, 0, "rootfs type \"%.64s\" is not \"layers\"",
			      rtype);
		goto fail;
	}
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids");
	if (!cJSON_IsArray(ids)) {
		r = error_set(err, OCI_E_INVALID, 0, "rootfs: diff_ids %s",
			      ids ? "is not an array" : "is missing");
		goto fail;
	}
	c->n_diff_ids = (size_t)cJSON_GetArraySize(ids);
	c->diff_ids = xcalloc(c->n_diff_ids ? c->n_diff_ids : 1, sizeof(*c->diff_ids));
	size_t i = 0;
	const cJSON *e;
	cJSON_ArrayForEach (e, ids) {
		if (!cJSON_IsString(e)) {
			r = error_set(err, OCI_E_INVALID, 0,
				      "rootfs: diff_ids[%zu] is not a string", i);
			goto fail;
		}
		if ((r = oci_digest_parse(e->valuestring, &c->diff_ids[i], err)) < 0) {
			error_wrap(err, "rootfs: diff_ids[%zu]", i);
			goto fail;
		}
		i++;
	}
	const cJSON *hist = cJSON_GetObjectItemCaseSensitive(c->root, "history");
	if (hist && !cJSON_IsNull(hist)) {
		if (!cJSON_IsArray(hist)) {
			r = error_set(err, OCI_E_INVALID, 0, "field \"history\" is not an array");
			goto fail;
		}
		cJSON_ArrayForEach (e, hist) {
			if (!cJSON_IsObject(e)) {
				r = error_set(err, OCI_E_INVALID, 0,
					      "history entry is not an object");
				goto fail;
			}
		}
		c->history = hist;
	}
	if (cc) {
		if ((r = doc_strv(cc, "Entrypoint", &c->entrypoint, err)) < 0 ||
		    (r = doc_strv(cc, "Cmd", &c->cmd, err)) < 0 ||
		    (r = doc_strv(cc, "Env", &c->env, err)) < 0 ||
		    (r = doc_string(cc, "WorkingDir", false, &c->workdir, err)) < 0 ||
		    (r = doc_string(cc, "User", false, &c->user, err)) < 0 ||
		    (r = doc_string(cc, "StopSignal", false, &c->stop_signal, err)) < 0 ||
		    (r = doc_string_map(cc, "Labels", &c->labels, err)) < 0 ||
		    (r = doc_object(cc, "ExposedPorts", false, &c->exposed_ports, err)) < 0 ||
		    (r = doc_object(cc, "Volumes", false, &c->volumes, err)) < 0) {
			error_wrap(err, "config");
			goto fail;
		}
	}
	c->raw = xmalloc(len + 1);
	memcpy(c->raw, buf, len);
	c->raw[len] = 0;
	c->raw_len = len;
	free(rtype);
	*out = c;
	return 0;
fail:
	free(rtype);
	oci_config_free(c);
	return r;
}

/* Platforms */

static bool platform_word_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

int oci_platform_parse(const char *s, struct oci_platform *p, struct oci_error **err)
{
	memset(p, 0, sizeof(*p));
	const char *a = strchr(s, '/');
	const char *v = a ? strchr(a + 1, '/') : NULL;
	if (!a || (v && strchr(v + 1, '/')) || !platform_word_ok(s, (size_t)(a - s)) ||
	    !platform_word_ok(a + 1, v ? (size_t)(v - a - 1) : strlen(a + 1)) ||
	    (v && !platform_word_ok(v + 1, strlen(v + 1))))
		return error_set(err, OCI_E_USAGE, 0,
				 "platform \"%.100s\": expected OS/ARCH[/VARIANT]", s);
	p->os = xstrndup(s, (size_t)(a - s));
	p->architecture = v ? xstrndup(a + 1, (size_t)(v - a - 1)) : xstrdup(a + 1);
	p->variant = v ? xstrdup(v + 1) : NULL;
	return 0;
}

void oci_platform_host(struct oci_platform *p)
{
	struct utsname u;
	memset(p, 0, sizeof(*p));
	p->os = xstrdup("linux");
	const char *arch = "amd64", *variant = NULL;
	if (uname(&u) == 0) {
		const char *m = u.machine;
		if (strcmp(m, "x86_64") == 0)
			arch = "amd64";
		else if (strcmp(m, "aarch64") == 0 || strcmp(m, "arm64") == 0)
			arch = "arm64", variant = "v8";
		else if (strncmp(m, "armv7", 5) == 0)
			arch = "arm", variant = "v7";
		else if (strncmp(m, "armv6", 5) == 0)
			arch = "arm", variant = "v6";
		else if (m[0] == 'i' && strcmp(m + 2, "86") == 0)
			arch = "386";
		else if (strcmp(m, "ppc64le") == 0 || strcmp(m, "s390x") == 0 ||
			 strcmp(m, "riscv64") == 0)
			arch = m;
		else if (strcmp(m, "mips64") == 0)
			arch = "mips64";
	}
	p->architecture = xstrdup(arch);
	p->variant = variant ? xstrdup(variant) : NULL;
}

/* arm64 without a variant means v8; anything else compares as written. */
static const char *platform_variant(const struct oci_platform *p)
{
	if (p->variant && *p->variant)
		return p->variant;
	if (p->architecture && strcmp(p->architecture, "arm64") == 0)
		return "v8";
	return NULL;
}

int oci_platform_match(const struct oci_platform *want, const struct oci_platform *p)
{
	if (!p || !p->os || !p->architecture)
		return 0;
	if (strcmp(want->os, p->os) != 0 || strcmp(want->architecture, p->architecture) != 0)
		return 0;
	const char *wv = platform_variant(want), *pv = platform_variant(p);
	if (!want->variant || !*want->variant)
		return 1; /* no variant asked: any */
	return pv && wv && strcmp(wv, pv) == 0;
}

const char *oci_platform_format(const struct oci_platform *p, char *buf, size_t len)
{
	if (!p || !p->os)
		snprintf(buf, len, "-");
	else if (p->variant && *p->variant)
		snprintf(buf, len, "%s/%s/%s", p->os, p->architecture, p->variant);
	else
		snprintf(buf, len, "%s/%s", p->os, p->architecture);
	return buf;
}
