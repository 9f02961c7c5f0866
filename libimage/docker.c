/* docker-save archives (manifest.json + <id>.json + <id>/layer.tar) mapped
 * onto the OCI model: a Docker schema-2 manifest per image and an index
 * whose refs are the RepoTags, built in memory; blobs stay in the tar. */
#include <errno.h>
#include "compress.h"
#include "layout_int.h"

static struct vblob *docker_add(struct oci_layout *l)
{
	l->vblobs = xrealloc(l->vblobs, (l->n_vblobs + 1) * sizeof(*l->vblobs));
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

static int docker_image(struct oci_layout *l, const cJSON *img, size_t i, cJSON *manifests,
			struct oci_error **err)
{
	const struct tar_member *cm;
	int r =
	    docker_member(l, cJSON_GetObjectItemCaseSensitive(img, "Config"), "Config", &cm, err);
	if (r < 0)
		return r;
	cleanup_free char *cbuf = NULL;
	size_t clen;
	if ((r = layout_read_member(l, cm->name, OCI_JSON_MAX, &cbuf, &clen, err)) < 0)
		return r;
	struct oci_config *cfg;
	if ((r = oci_config_parse(cbuf, clen, &cfg, err)) < 0)
		return error_wrap(err, "config %s", cm->name);
	struct vblob *cv = docker_add(l);
	oci_digest_buffer(OCI_DIGEST_SHA256, cbuf, clen, &cv->digest);
	cv->member = cm->name;
	struct oci_digest cdigest = cv->digest;

	const cJSON *layers = cJSON_GetObjectItemCaseSensitive(img, "Layers");
	if (!cJSON_IsArray(layers)) {
		oci_config_free(cfg);
		return error_set(err, OCI_E_INVALID, 0, "manifest.json: Layers is not an array");
	}
	if ((size_t)cJSON_GetArraySize(layers) != cfg->n_diff_ids) {
		r = error_set(err, OCI_E_INVALID, 0,
			      "manifest.json: %d layers but the config has %zu diff_ids",
			      cJSON_GetArraySize(layers), cfg->n_diff_ids);
		oci_config_free(cfg);
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
		uint8_t magic[4] = {0};
		read_full_at(l->fd, magic, lm->size < 4 ? (size_t)lm->size : 4, l->base + lm->off);
		int comp = compress_sniff(magic, lm->size < 4 ? (size_t)lm->size : 4);
		struct vblob *lv = docker_add(l);
		lv->member = lm->name;
		/* an uncompressed layer's digest is its diff_id, checked as it is read */
		if (comp == OCI_COMPRESS_NONE)
			lv->digest = cfg->diff_ids[k];
		else if ((r = docker_hash_member(l, lm, &lv->digest, err)) < 0)
			goto fail;
		const char *mt = comp == OCI_COMPRESS_GZIP   ? OCI_MT_DOCKER_LAYER_GZIP
				 : comp == OCI_COMPRESS_ZSTD ? OCI_MT_DOCKER_LAYER_ZSTD
							     : OCI_MT_DOCKER_LAYER;
		cJSON_AddItemToArray(ls, docker_desc_json(mt, &lv->digest, lm->size));
		k++;
	}
	oci_config_free(cfg);
	cfg = NULL;
	struct vblob *mv = docker_add(l);
	mv->mem = cJSON_PrintUnformatted(m);
	if (!mv->mem)
		abort();
	mv->mem_len = strlen(mv->mem);
	oci_digest_buffer(OCI_DIGEST_SHA256, mv->mem, mv->mem_len, &mv->digest);
	cJSON_Delete(m);

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
	oci_config_free(cfg);
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
	cJSON_ArrayForEach (img, root) {
		if (!cJSON_IsObject(img)) {
			r = error_set(err, OCI_E_INVALID, 0,
				      "manifest.json: image %zu is not an object", i);
			break;
		}
		if ((r = docker_image(l, img, i, manifests, err)) < 0)
			break;
		i++;
	}
	cJSON_Delete(root);
	if (r == 0) {
		cleanup_free char *ib = cJSON_PrintUnformatted(index);
		r = oci_index_parse(ib, strlen(ib), OCI_MT_INDEX, &l->index, err);
	}
	cJSON_Delete(index);
	l->has_version = 1; /* not applicable to docker-save archives */
	return r;
}
