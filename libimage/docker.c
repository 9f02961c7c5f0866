/* docker-save archives (manifest.json + <id>.json + <id>/layer.tar) mapped
 * onto the OCI model: a Docker schema-2 manifest per image and an index
 * whose refs are the RepoTags, built in memory; blobs stay in the tar. */
#include <errno.h>
#include "compress.h"
#include "layout_int.h"
#include "pathmap.h"

/* What one load has learnt about each member: images of one archive share
 * layers and configs, and a member is read, hashed (and parsed) once
 * however many images or RepoTags name it. */
struct docker_load {
	struct pathmap layers;	  /* member name -> struct docker_layer_seen */
	struct pathmap configs;	  /* member name -> struct docker_config_seen */
	struct pathmap manifests; /* digests of the manifests made so far */
};

struct docker_layer_seen {
	struct oci_digest digest;
	int comp;
};

struct docker_config_seen {
	struct oci_digest digest;
	size_t len;
	struct oci_config *cfg;
};

static void docker_config_seen_free(void *p)
{
	struct docker_config_seen *c = p;
	if (c)
		oci_config_free(c->cfg);
	free(c);
}

static struct vblob *docker_add(struct oci_layout *l)
{
	/* the capacity is the next power of two: growth stays amortised without
	 * a field of its own in struct oci_layout */
	size_t n = l->n_vblobs;
	if (n == 0 || (n & (n - 1)) == 0)
		l->vblobs = xrealloc(l->vblobs, (n ? 2 * n : 1) * sizeof(*l->vblobs));
	struct vblob *v = &l->vblobs[l->n_vblobs++];
	memset(v, 0, sizeof(*v));
	return v;
}

static int docker_member(struct oci_layout *l, const cJSON *j, const char *what,
			 const struct tar_member **out, struct oci_error **err)
{
	if (!cJSON_IsString(j))
		return error_set(err, OCI_E_INVALID, 0, "manifest.json: %s is not a string", what);
	cleanup_free char *name = oci_path_clean(j->valuestring);
	*out = tar_index_find(&l->tar, name);
	const char *why = *out ? NULL : tar_index_refused(&l->tar, name);
	if (why)
		return error_set(err, OCI_E_INVALID, 0, "manifest.json: %s \"%.200s\": %s", what,
				 j->valuestring, why);
	if (!*out)
		return error_set(err, OCI_E_NOTFOUND, 0,
				 "manifest.json: %s \"%.200s\" not in archive", what,
				 j->valuestring);
	return 0;
}

static int docker_hash_member(struct oci_layout *l, const struct tar_member *m,
			      struct oci_digest *out, struct oci_error **err)
{
	struct oci_hash *h = oci_hash_new(OCI_DIGEST_SHA256);
	cleanup_free char *buf = xmalloc(1 << 20);
	int64_t done = 0;
	while (done < m->size) {
		size_t want = (size_t)(m->size - done < (1 << 20) ? m->size - done : (1 << 20));
		ssize_t n = read_full_at(l->fd, buf, want, l->base + m->off + done);
		if (n <= 0) {
			oci_hash_free(h);
			return error_set(err, n < 0 ? OCI_E_IO : OCI_E_INVALID, n < 0 ? errno : 0,
					 "%s: %s", m->name, n < 0 ? "read" : "truncated");
		}
		oci_hash_update(h, buf, (size_t)n);
		done += n;
		if (oci_cancelled()) {
			oci_hash_free(h);
			return error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
		}
	}
	oci_hash_final(h, out);
	oci_hash_free(h);
	return 0;
}

static cJSON *docker_desc_json(const char *mt, const struct oci_digest *d, int64_t size)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mediaType", mt);
	cJSON_AddNumberToObject(o, "size", (double)size);
	cJSON_AddStringToObject(o, "digest", d->str);
	return o;
}

/* the digest and compression of layer member lm, from what the load has
 * seen or by reading it */
static int docker_layer(struct oci_layout *l, struct docker_load *dl, const struct tar_member *lm,
			const struct oci_digest *diff_id, struct docker_layer_seen *out,
			struct oci_error **err)
{
	void **slot = pathmap_put(&dl->layers, lm->name);
	struct docker_layer_seen *seen = *slot;
	/* an uncompressed layer's digest is its diff_id, checked as it is read:
	 * each image's claim gets its own entry, a wrong one fails only its own */
	if (seen && (seen->comp != OCI_COMPRESS_NONE || oci_digest_equal(&seen->digest, diff_id))) {
		*out = *seen;
		return 0;
	}
	if (seen) {
		out->comp = OCI_COMPRESS_NONE;
	} else {
		uint8_t magic[64] = {0};
		size_t want = lm->size < (int64_t)sizeof(magic) ? (size_t)lm->size : sizeof(magic);
		ssize_t got = read_full_at(l->fd, magic, want, l->base + lm->off);
		out->comp = compress_sniff(magic, got > 0 ? (size_t)got : 0);
	}
	if (out->comp == OCI_COMPRESS_NONE) {
		out->digest = *diff_id;
	} else {
		int r = docker_hash_member(l, lm, &out->digest, err);
		if (r < 0)
			return r;
	}
	struct vblob *lv = docker_add(l);
	lv->member = lm->name;
	lv->digest = out->digest;
	if (!seen) {
		seen = xmalloc(sizeof(*seen));
		*seen = *out;
		*slot = seen;
	}
	return 0;
}

/* config member cm, read, hashed and parsed once per load (borrowed) */
static int docker_config(struct oci_layout *l, struct docker_load *dl, const struct tar_member *cm,
			 const struct docker_config_seen **out, struct oci_error **err)
{
	void **slot = pathmap_put(&dl->configs, cm->name);
	if (*slot) {
		*out = *slot;
		return 0;
	}
	cleanup_free char *cbuf = NULL;
	size_t clen;
	int r = layout_read_member(l, cm->name, OCI_JSON_MAX, &cbuf, &clen, err);
	if (r < 0)
		return r;
	struct oci_config *cfg;
	if ((r = oci_config_parse(cbuf, clen, &cfg, err)) < 0)
		return error_wrap(err, "config %s", cm->name);
	struct docker_config_seen *c = xmalloc(sizeof(*c));
	c->cfg = cfg;
	c->len = clen;
	oci_digest_buffer(OCI_DIGEST_SHA256, cbuf, clen, &c->digest);
	struct vblob *cv = docker_add(l);
	cv->digest = c->digest;
	cv->member = cm->name;
	*slot = c;
	*out = c;
	return 0;
}

static int docker_image(struct oci_layout *l, struct docker_load *dl, const cJSON *img, size_t i,
			cJSON *manifests, struct oci_error **err)
{
	const struct tar_member *cm;
	int r =
	    docker_member(l, cJSON_GetObjectItemCaseSensitive(img, "Config"), "Config", &cm, err);
	if (r < 0)
		return r;
	const struct docker_config_seen *dc = NULL;
	if ((r = docker_config(l, dl, cm, &dc, err)) < 0)
		return r;
	const struct oci_config *cfg = dc->cfg;
	struct oci_digest cdigest = dc->digest;
	size_t clen = dc->len;

	const cJSON *layers = cJSON_GetObjectItemCaseSensitive(img, "Layers");
	if (!cJSON_IsArray(layers))
		return error_set(err, OCI_E_INVALID, 0, "manifest.json: Layers is not an array");
	if ((size_t)cJSON_GetArraySize(layers) != cfg->n_diff_ids) {
		r = error_set(err, OCI_E_INVALID, 0,
			      "manifest.json: %d layers but the config has %zu diff_ids",
			      cJSON_GetArraySize(layers), cfg->n_diff_ids);
		return r;
	}
	cJSON *m = cJSON_CreateObject();
	cJSON_AddNumberToObject(m, "schemaVersion", 2);
	cJSON_AddStringToObject(m, "mediaType", OCI_MT_DOCKER_MANIFEST);
	cJSON_AddItemToObject(m, "config",
			      docker_desc_json(OCI_MT_DOCKER_CONFIG, &cdigest, (int64_t)clen));
	cJSON *ls = cJSON_AddArrayToObject(m, "layers");
	size_t k = 0;
	const cJSON *e;
	cJSON_ArrayForEach (e, layers) {
		const struct tar_member *lm;
		if ((r = docker_member(l, e, "layer", &lm, err)) < 0)
			goto fail;
		struct docker_layer_seen ly;
		if ((r = docker_layer(l, dl, lm, &cfg->diff_ids[k], &ly, err)) < 0)
			goto fail;
		const char *mt = ly.comp == OCI_COMPRESS_GZIP	? OCI_MT_DOCKER_LAYER_GZIP
				 : ly.comp == OCI_COMPRESS_ZSTD ? OCI_MT_DOCKER_LAYER_ZSTD
								: OCI_MT_DOCKER_LAYER;
		cJSON_AddItemToArray(ls, docker_desc_json(mt, &ly.digest, lm->size));
		k++;
		if (oci_cancelled()) {
			r = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
			goto fail;
		}
	}
	char *mem = cJSON_PrintUnformatted(m);
	if (!mem)
		abort();
	cJSON_Delete(m);
	struct vblob mb = {.mem = mem, .mem_len = strlen(mem)};
	oci_digest_buffer(OCI_DIGEST_SHA256, mem, mb.mem_len, &mb.digest);
	/* images that are one image under several names: one blob */
	void **slot = pathmap_put(&dl->manifests, mb.digest.str);
	if (*slot)
		free(mem);
	else
		*docker_add(l) = mb;
	*slot = (void *)1;
	const struct vblob *mv = &mb;

	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(img, "RepoTags");
	bool any = false;
	if (cJSON_IsArray(tags)) {
		cJSON_ArrayForEach (e, tags) {
			if (!cJSON_IsString(e))
				return error_set(
				    err, OCI_E_INVALID, 0,
				    "manifest.json: image %zu: RepoTags entry is not a string", i);
			cJSON *d = docker_desc_json(OCI_MT_DOCKER_MANIFEST, &mv->digest,
						    (int64_t)mv->mem_len);
			cJSON *ann = cJSON_AddObjectToObject(d, "annotations");
			cJSON_AddStringToObject(ann, "org.opencontainers.image.ref.name",
						e->valuestring);
			cJSON_AddItemToArray(manifests, d);
			any = true;
		}
	}
	if (!any)
		cJSON_AddItemToArray(
		    manifests,
		    docker_desc_json(OCI_MT_DOCKER_MANIFEST, &mv->digest, (int64_t)mv->mem_len));
	return 0;
fail:
	cJSON_Delete(m);
	return error_wrap(err, "manifest.json: image %zu", i);
}

int docker_archive_load(struct oci_layout *l, struct oci_error **err)
{
	cleanup_free char *buf = NULL;
	size_t len;
	int r = layout_read_member(l, "manifest.json", OCI_JSON_MAX, &buf, &len, err);
	if (r < 0)
		return r;
	cJSON *root;
	if ((r = oci_json_parse(buf, len, &root, err)) < 0)
		return error_wrap(err, "manifest.json");
	if (!cJSON_IsArray(root) || cJSON_GetArraySize(root) == 0) {
		cJSON_Delete(root);
		return error_set(err, OCI_E_INVALID, 0,
				 "manifest.json: not a non-empty array of images");
	}
	cJSON *index = cJSON_CreateObject();
	cJSON_AddNumberToObject(index, "schemaVersion", 2);
	cJSON_AddStringToObject(index, "mediaType", OCI_MT_INDEX);
	cJSON *manifests = cJSON_AddArrayToObject(index, "manifests");
	size_t i = 0;
	const cJSON *img;
	struct docker_load dl;
	pathmap_init(&dl.layers);
	pathmap_init(&dl.configs);
	pathmap_init(&dl.manifests);
	cJSON_ArrayForEach (img, root) {
		if (!cJSON_IsObject(img)) {
			r = error_set(err, OCI_E_INVALID, 0,
				      "manifest.json: image %zu is not an object", i);
			break;
		}
		if ((r = docker_image(l, &dl, img, i, manifests, err)) < 0)
			break;
		i++;
	}
	pathmap_release(&dl.layers, free);
	pathmap_release(&dl.configs, docker_config_seen_free);
	pathmap_release(&dl.manifests, NULL);
	cJSON_Delete(root);
	if (r == 0) {
		cleanup_free char *ib = cJSON_PrintUnformatted(index);
		r = oci_index_parse(ib, strlen(ib), OCI_MT_INDEX, &l->index, err);
	}
	cJSON_Delete(index);
	l->has_version = 1; /* not applicable to docker-save archives */
	return r;
}
