/* Verifying a layout: a walk of the documents from index.json (each blob
 * read, hashed and parsed once, whatever number of images or paths share
 * it; each walk from a ref visits a document once, within the bounds of
 * oci/image.h), then every layer read to its end on all cores (blob digest,
 * tar, diff_id). Each problem is reported once, with every ref it breaks. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <oci/verify.h>
#include "compress.h"
#include "layout_int.h"
#include "layoutfs.h"
#include "pathmap.h"
#include "walk.h"

/* Walks from refs that name the same top-level descriptor are one walk; the
 * walks of distinct ones together visit at most this many descriptors. */
#define VERIFY_MAX_VISITS (10 * OCI_MAX_WALK_EDGES)

struct vcheck {
	struct oci_digest d;
	bool looked, exists, hashed, digest_ok;
	int64_t stored;
	char *data; /* documents only */
	size_t len;
	/* the document, classified and parsed once */
	bool classified, parsed, cfg_parsed;
	enum oci_media_kind actual;
	const char *doc_mt;
	char *perr; /* why it does not parse as its kind (or as JSON), or NULL */
	struct oci_index *idx;
	struct oci_manifest *man;
	struct oci_config *cfg;
	char *cfg_err;
	unsigned walk; /* the last walk that went below it */
};

struct vrefs {
	char **v;
	size_t n;
	unsigned walk; /* the walk that added the last ref: one add per walk */
};

struct vjob { /* a layer to read to its end, as one set of descriptors names it */
	struct vcheck *b;
	struct oci_descriptor desc; /* media type, digest; size = stored */
	int64_t desc_size;	    /* what the descriptors say */
	struct oci_digest diff_id;
	bool has_diff;
	struct vrefs refs;
	char *kind, *detail; /* the result */
	long long bytes;
};

struct vprob {
	char *kind, *digest, *detail;
	bool note, fixable;
	struct vrefs refs;
};

struct verify {
	struct oci_layout *l;
	struct pathmap blobs; /* digest -> struct vcheck */
	struct oci_verify_report *rep;
	struct vprob *probs;
	size_t n_probs, cap_probs;
	struct pathmap prob_keys; /* "kind\ndigest\ndetail" -> index + 1 */
	struct vjob *jobs;
	size_t n_jobs, cap_jobs;
	struct pathmap job_keys; /* "digest size diff_id" -> index + 1 */
	pthread_mutex_t mu;
	size_t next_job;
	/* the current walk */
	unsigned walk;
	struct walk_bounds b;
	bool stop;		/* this walk hit a bound */
	bool interrupted;	/* a signal: no more walking, no more reading */
	bool all_stop;		/* the walks together hit their bound: no further walk */
	size_t visits;		/* descriptors visited by all walks */
	struct vrefs **touched; /* ref lists this walk added to, for its group's other refs */
	size_t n_touched, cap_touched;
};

/* Each walk adds its ref to a list once (the lists are joined, sorted and
 * made unique at the end): constant time, whatever the number of refs. */
static void vrefs_add_walk(struct verify *v, struct vrefs *r, const char *ref)
{
	if (!ref || (v && v->walk && r->walk == v->walk && r->n))
		return;
	r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
	r->v[r->n++] = xstrdup(ref);
	if (!v || !v->walk)
		return;
	r->walk = v->walk;
	if (v->n_touched == v->cap_touched) {
		v->cap_touched = v->cap_touched ? v->cap_touched * 2 : 64;
		v->touched = xrealloc(v->touched, v->cap_touched * sizeof(*v->touched));
	}
	v->touched[v->n_touched++] = r;
}

static void vrefs_add(struct vrefs *r, const char *ref)
{
	vrefs_add_walk(NULL, r, ref);
}

static void vrefs_release(struct vrefs *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i]);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *vrefs_string(struct vrefs *r)
{
	if (r->n == 0)
		return xstrdup("-");
	qsort(r->v, r->n, sizeof(*r->v), cmp_str);
	size_t u = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (u && strcmp(r->v[u - 1], r->v[i]) == 0) {
			free(r->v[i]);
			continue;
		}
		r->v[u++] = r->v[i];
	}
	r->n = u;
	size_t len = 1;
	for (size_t i = 0; i < r->n; i++)
		len += strlen(r->v[i]) + 1;
	char *s = xmalloc(len), *o = s;
	for (size_t i = 0; i < r->n; i++) {
		size_t n = strlen(r->v[i]);
		if (i)
			*o++ = ',';
		memcpy(o, r->v[i], n);
		o += n;
	}
	*o = 0;
	return s;
}

/* One problem per (kind, digest, detail): seen again through another ref,
 * it gains that ref instead of a second line. */
static void v_problem(struct verify *v, const char *kind, const char *digest, const char *ref,
		      bool note, bool fixable, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static void v_problem(struct verify *v, const char *kind, const char *digest, const char *ref,
		      bool note, bool fixable, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *detail;
	if (vasprintf(&detail, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (!digest)
		digest = "-";
	cleanup_free char *key = xasprintf("%s\n%s\n%s", kind, digest, detail);
	void **slot = pathmap_put(&v->prob_keys, key);
	if (*slot) {
		vrefs_add_walk(v, &v->probs[(uintptr_t)*slot - 1].refs, ref);
		free(detail);
		return;
	}
	*slot = (void *)(uintptr_t)(v->n_probs + 1);
	if (v->n_probs == v->cap_probs) {
		v->cap_probs = v->cap_probs ? v->cap_probs * 2 : 16;
		v->probs = xrealloc(v->probs, v->cap_probs * sizeof(*v->probs));
	}
	struct vprob *p = &v->probs[v->n_probs++];
	memset(p, 0, sizeof(*p));
	p->kind = xstrdup(kind);
	p->digest = xstrdup(digest);
	p->detail = detail;
	p->note = note;
	p->fixable = fixable;
	vrefs_add_walk(v, &p->refs, ref);
}

static struct vcheck *v_blob(struct verify *v, const struct oci_digest *d)
{
	void **slot = pathmap_put(&v->blobs, d->str);
	if (!*slot) {
		struct vcheck *b = xcalloc(1, sizeof(*b));
		b->d = *d;
		*slot = b;
	}
	return *slot;
}

/* stat and (for documents) read and hash the stored blob, once */
static void v_look(struct verify *v, struct vcheck *b, bool read_it)
{
	if (!b->looked) {
		b->looked = true;
		b->stored = oci_layout_blob_size(v->l, &b->d);
		b->exists = b->stored >= 0;
		v->rep->blobs++;
	}
	if (!read_it || b->hashed || !b->exists || b->stored > (int64_t)OCI_JSON_MAX)
		return;
	b->hashed = true;
	struct oci_descriptor tmp = {.digest = b->d, .size = b->stored};
	struct oci_error *e = NULL;
	if (oci_blob_read_all(v->l, &tmp, OCI_JSON_MAX, &b->data, &b->len, &e) == 0)
		b->digest_ok = true;
	oci_error_free(e);
	v->rep->bytes += b->stored;
}

/* the kind a JSON document really is (once per blob) */
static void v_classify(struct vcheck *b)
{
	if (b->classified)
		return;
	b->classified = true;
	cJSON *j;
	struct oci_error *e = NULL;
	b->actual = OCI_MEDIA_UNKNOWN;
	if (oci_json_parse(b->data, b->len, &j, &e) < 0) {
		b->perr = xstrdup(e->msg);
		oci_error_free(e);
		return;
	}
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(j, "mediaType");
	if (cJSON_IsString(mt) && oci_media_kind(mt->valuestring) != OCI_MEDIA_UNKNOWN) {
		b->actual = oci_media_kind(mt->valuestring);
		b->doc_mt =
		    oci_media_kind(mt->valuestring) == OCI_MEDIA_INDEX
			? (oci_media_is_docker(mt->valuestring) ? OCI_MT_DOCKER_LIST : OCI_MT_INDEX)
			: (oci_media_is_docker(mt->valuestring) ? OCI_MT_DOCKER_MANIFEST
								: OCI_MT_MANIFEST);
	} else if (cJSON_GetObjectItemCaseSensitive(j, "manifests")) {
		b->actual = OCI_MEDIA_INDEX;
	} else if (cJSON_GetObjectItemCaseSensitive(j, "layers")) {
		b->actual = OCI_MEDIA_MANIFEST;
	} else if (cJSON_GetObjectItemCaseSensitive(j, "rootfs")) {
		b->actual = OCI_MEDIA_CONFIG;
	}
	cJSON_Delete(j);
}

/* the document parsed as the kind it is (once per blob) */
static void v_parse(struct vcheck *b)
{
	if (b->parsed)
		return;
	b->parsed = true;
	struct oci_error *e = NULL;
	int r = b->actual == OCI_MEDIA_INDEX
		    ? oci_index_parse(b->data, b->len, NULL, &b->idx, &e)
		    : oci_manifest_parse(b->data, b->len, NULL, &b->man, &e);
	if (r < 0) {
		b->perr = xasprintf("%s: %s", b->actual == OCI_MEDIA_INDEX ? "index" : "manifest",
				    e->msg);
		oci_error_free(e);
	}
}

static void v_desc(struct verify *v, const struct oci_descriptor *d, const char *ref, int depth,
		   enum oci_media_kind expect, const struct oci_digest *diff_id);

/* checks common to every descriptor: presence, size, digest; true when the
 * content is what the digest says */
static bool v_blob_ok(struct verify *v, struct vcheck *b, const struct oci_descriptor *d,
		      bool document, const char *ref)
{
	v_look(v, b, document);
	if (!b->exists) {
		v_problem(v, "missing", d->digest.str, ref, false, false, "blob is missing (%s)",
			  oci_media_short(d->media_type));
		return false;
	}
	if (document && b->stored > (int64_t)OCI_JSON_MAX) {
		v_problem(v, "json", d->digest.str, ref, false, false,
			  "document of %lld bytes exceeds %u", (long long)b->stored, OCI_JSON_MAX);
		return false;
	}
	if (document && !b->digest_ok) {
		v_problem(v, "digest", d->digest.str, ref, false, false,
			  "content does not match its digest");
		return false;
	}
	if (b->stored != d->size)
		v_problem(v, "size", d->digest.str, ref, false, true,
			  "descriptor says %lld bytes, blob has %lld", (long long)d->size,
			  (long long)b->stored);
	return true;
}

static void v_manifest(struct verify *v, struct vcheck *b, const struct oci_descriptor *d,
		       const char *ref, int depth)
{
	v_parse(b);
	if (b->perr) {
		v_problem(v, "json", d->digest.str, ref, false, false, "%s", b->perr);
		return;
	}
	const struct oci_manifest *m = b->man;
	struct vcheck *cb = v_blob(v, &m->config.digest);
	const struct oci_config *cfg = NULL;
	if (oci_media_kind(m->config.media_type) != OCI_MEDIA_CONFIG) {
		v_problem(v, "mediatype", m->config.digest.str, ref, false, false,
			  "config has media type \"%s\"", m->config.media_type);
	} else if (v_blob_ok(v, cb, &m->config, true, ref)) {
		if (!cb->cfg_parsed) {
			struct oci_error *e = NULL;
			cb->cfg_parsed = true;
			if (oci_config_parse(cb->data, cb->len, &cb->cfg, &e) < 0) {
				cb->cfg_err = xstrdup(e->msg);
				oci_error_free(e);
			}
		}
		cfg = cb->cfg;
		if (cb->cfg_err)
			v_problem(v, "json", m->config.digest.str, ref, false, false, "config: %s",
				  cb->cfg_err);
		else if (cfg->n_diff_ids != m->n_layers)
			v_problem(v, "diffid", m->config.digest.str, ref, false, false,
				  "%zu diff_ids for %zu layers in manifest %s", cfg->n_diff_ids,
				  m->n_layers, d->digest.str);
	}
	for (size_t i = 0; i < m->n_layers && !v->stop; i++)
		v_desc(v, &m->layers[i], ref, depth + 1, OCI_MEDIA_LAYER,
		       cfg && cfg->n_diff_ids == m->n_layers ? &cfg->diff_ids[i] : NULL);
}

static void v_index(struct verify *v, struct vcheck *b, const struct oci_descriptor *d,
		    const char *ref, int depth)
{
	v_parse(b);
	if (b->perr) {
		v_problem(v, "json", d->digest.str, ref, false, false, "%s", b->perr);
		return;
	}
	for (size_t i = 0; i < b->idx->n_manifests && !v->stop; i++)
		v_desc(v, &b->idx->manifests[i], ref, depth + 1, OCI_MEDIA_UNKNOWN, NULL);
}

/* bounds and signals: false (and the walk stops) past one */
static bool v_bounds(struct verify *v, const struct oci_descriptor *d, const char *ref, int depth,
		     bool index, size_t edges)
{
	struct oci_error *e = NULL;
	int r = 0;
	if (v->stop)
		return false;
	if (index)
		r = walk_enter(&v->b, d, depth, &e);
	else if (edges)
		r = walk_count(&v->b, d, edges, &e);
	else
		r = walk_node(&v->b, d, &e);
	if (r == OCI_E_INTERRUPTED) {
		v->interrupted = v->stop = true;
	} else if (r < 0) {
		v_problem(v, "index", d->digest.str, ref, false, false, "%s", e->msg);
		v->stop = true;
	}
	oci_error_free(e);
	return r == 0;
}

static void v_desc(struct verify *v, const struct oci_descriptor *d, const char *ref, int depth,
		   enum oci_media_kind expect, const struct oci_digest *diff_id)
{
	struct vcheck *b = v_blob(v, &d->digest);
	if (v->stop || oci_cancelled()) {
		v->interrupted |= oci_cancelled();
		v->stop = true;
		return;
	}
	if (++v->visits > VERIFY_MAX_VISITS) {
		v_problem(v, "index", "-", ref, false, false,
			  "not verified to the end: the walks from the refs visit more than %d "
			  "descriptors",
			  VERIFY_MAX_VISITS);
		v->stop = v->all_stop = true;
		return;
	}
	enum oci_media_kind k = oci_media_kind(d->media_type);
	if (expect == OCI_MEDIA_LAYER) {
		v_look(v, b, false);
		if (!b->exists) {
			v_problem(v, "missing", d->digest.str, ref, false, false,
				  "layer blob is missing");
			return;
		}
		/* one job per (layer, diff_id, descriptor size), read in phase two;
		 * its size is judged there, once the content is known to be whole */
		char key[2 * OCI_DIGEST_MAX + 32];
		snprintf(key, sizeof(key), "%s %lld %s", d->digest.str, (long long)d->size,
			 diff_id ? diff_id->str : "-");
		void **slot = pathmap_put(&v->job_keys, key);
		if (*slot) {
			vrefs_add_walk(v, &v->jobs[(uintptr_t)*slot - 1].refs, ref);
			return;
		}
		*slot = (void *)(uintptr_t)(v->n_jobs + 1);
		if (v->n_jobs == v->cap_jobs) {
			v->cap_jobs = v->cap_jobs ? v->cap_jobs * 2 : 16;
			v->jobs = xrealloc(v->jobs, v->cap_jobs * sizeof(*v->jobs));
		}
		struct vjob *j = &v->jobs[v->n_jobs++];
		memset(j, 0, sizeof(*j));
		j->b = b;
		oci_descriptor_copy(&j->desc, d);
		j->desc.annotations = NULL;
		j->desc.size = b->stored;
		j->desc_size = d->size;
		vrefs_add_walk(v, &j->refs, ref);
		if (diff_id) {
			j->diff_id = *diff_id;
			j->has_diff = true;
		}
		return;
	}
	bool odd_type = k == OCI_MEDIA_UNKNOWN || k == OCI_MEDIA_LAYER || k == OCI_MEDIA_CONFIG;
	if (!v_blob_ok(v, b, d, true, ref))
		return;
	v_classify(b);
	const char *doc_mt = b->doc_mt;
	enum oci_media_kind actual = b->actual;
	if (actual == OCI_MEDIA_UNKNOWN) {
		if (b->perr)
			v_problem(v, "json", d->digest.str, ref, false, false, "%s", b->perr);
		else
			v_problem(v, "json", d->digest.str, ref, false, false,
				  "neither an index nor a manifest");
		return;
	}
	if (odd_type && actual != OCI_MEDIA_INDEX && actual != OCI_MEDIA_MANIFEST) {
		v_problem(v, "mediatype", d->digest.str, ref, false, false,
			  "unsupported media type \"%s\" for an index entry", d->media_type);
		return;
	}
	if (actual != k || (doc_mt && strcmp(doc_mt, d->media_type) != 0))
		v_problem(v, "mediatype", d->digest.str, ref, false, true,
			  "descriptor says \"%s\", the document is %s", d->media_type,
			  doc_mt ? doc_mt
				 : (actual == OCI_MEDIA_INDEX ? "an index" : "a manifest"));
	/* below a document: once per walk, within the bounds */
	if (b->walk == v->walk)
		return;
	b->walk = v->walk;
	if (actual == OCI_MEDIA_INDEX && v_bounds(v, d, ref, depth, true, 0)) {
		v_parse(b);
		if (!b->perr && b->idx->n_manifests &&
		    !v_bounds(v, d, ref, depth, false, b->idx->n_manifests))
			return;
		v_index(v, b, d, ref, depth);
	} else if (actual == OCI_MEDIA_MANIFEST && v_bounds(v, d, ref, depth, false, 0)) {
		v_manifest(v, b, d, ref, depth);
	}
}

/* ---- phase two: layers, on all cores ---- */

/* count an entry whose name the layer has given before */
static void v_seen(struct pathmap *seen, struct archive_entry *ae, size_t *dups, char **first)
{
	const char *raw = archive_entry_pathname(ae);
	cleanup_free char *p = oci_path_clean(raw ? raw : "");
	void **slot = pathmap_put(seen, p);
	if (*slot && (*dups)++ == 0)
		*first = xstrdup(p);
	*slot = (void *)1;
}

static void v_run_job(struct verify *v, struct vjob *j)
{
	/* the media type's compression against the content's */
	uint8_t magic[4] = {0};
	struct oci_blob *ob;
	struct oci_error *e = NULL;
	int comp = oci_media_layer_compression(j->desc.media_type);
	if (oci_blob_open(v->l, &j->desc, &ob, &e) == 0) {
		oci_blob_read(ob, magic, sizeof(magic), NULL);
		oci_blob_free(ob);
	}
	oci_error_free(e);
	e = NULL;
	int actual = compress_sniff(magic, sizeof(magic));
	struct oci_descriptor d = j->desc;
	char *fixed_mt = NULL;
	if (actual != comp) {
		bool docker = oci_media_is_docker(d.media_type);
		fixed_mt = xstrdup(actual == OCI_COMPRESS_GZIP
				       ? (docker ? OCI_MT_DOCKER_LAYER_GZIP : OCI_MT_LAYER_GZIP)
				   : actual == OCI_COMPRESS_ZSTD
				       ? (docker ? OCI_MT_DOCKER_LAYER_ZSTD : OCI_MT_LAYER_ZSTD)
				       : (docker ? OCI_MT_DOCKER_LAYER : OCI_MT_LAYER));
		d.media_type = fixed_mt;
	}
	struct oci_layer_reader *r;
	int rc = oci_layer_open_flags(v->l, &d, j->has_diff ? &j->diff_id : NULL,
				      OCI_LAYER_HASH_IN_CALLER, &r, &e);
	size_t dups = 0;
	char *first_dup = NULL;
	if (rc == 0) {
		struct archive_entry *ae;
		struct pathmap seen; /* names of this layer, for duplicate entries */
		pathmap_init(&seen);
		while ((rc = oci_layer_next(r, &ae, &e)) > 0 && !oci_cancelled())
			v_seen(&seen, ae, &dups, &first_dup);
		pathmap_release(&seen, NULL);
		j->bytes = oci_layer_bytes_read(r);
		oci_layer_free(r);
	}
	if (rc < 0) {
		const char *m = e ? e->msg : "unreadable";
		/* the line names the digest already */
		size_t dl = strlen(j->desc.digest.str);
		if (strncmp(m, "layer ", 6) == 0 && strncmp(m + 6, j->desc.digest.str, dl) == 0 &&
		    m[6 + dl] == ':')
			m += 6 + dl + 2;
		j->kind = xstrdup(strstr(m, "diff_id mismatch")	 ? "diffid"
				  : strstr(m, "digest mismatch") ? "digest"
				  : strstr(m, "truncated")	 ? "digest"
								 : "tar");
		j->detail = xstrdup(m);
	} else if (fixed_mt) {
		j->kind = xstrdup("mediatype");
		j->detail =
		    comp < 0 ? xasprintf("unsupported layer media type \"%s\"; the content is %s",
					 j->desc.media_type, fixed_mt)
			     : xasprintf("descriptor says \"%s\", the content is %s",
					 j->desc.media_type, fixed_mt);
	} else if (dups) {
		/* layer.md: entries MUST NOT be duplicated; readers apply the last */
		j->kind = xstrdup("duplicate");
		j->detail = xasprintf("%zu duplicate entr%s, the first for \"%s\" (the last of "
				      "each path is applied)",
				      dups, dups == 1 ? "y" : "ies", first_dup);
	}
	free(fixed_mt);
	free(first_dup);
	oci_error_free(e);
}

static void *v_worker(void *arg)
{
	struct verify *v = arg;
	for (;;) {
		pthread_mutex_lock(&v->mu);
		size_t i = v->next_job++;
		pthread_mutex_unlock(&v->mu);
		if (i >= v->n_jobs || oci_cancelled())
			return NULL;
		v_run_job(v, &v->jobs[i]);
	}
}

/* ---- notes: what is stored but not reachable ---- */

static bool v_hex_name(const char *s, size_t want)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == want;
}

static void v_notes(struct verify *v)
{
	char **names;
	if (oci_layout_list_blobs(v->l, &names, NULL) < 0)
		return;
	for (char **p = names; *p; p++) {
		const char *name = *p + 6; /* after "blobs/" */
		const char *slash = strchr(name, '/');
		bool ok = false;
		if (slash) {
			size_t want = strncmp(name, "sha256/", 7) == 0	 ? 64
				      : strncmp(name, "sha512/", 7) == 0 ? 128
									 : 0;
			if (want && v_hex_name(slash + 1, want)) {
				char dg[OCI_DIGEST_MAX];
				snprintf(dg, sizeof(dg), "%.6s:%s", name, slash + 1);
				ok = true;
				struct vcheck *b = pathmap_get(&v->blobs, dg);
				if (!b)
					v_problem(v, "unreferenced", dg, NULL, true, true,
						  "blob not reachable from index.json");
			}
		}
		if (!ok)
			v_problem(v, "stray", "-", NULL, true, name[0] == '.' || strstr(name, "/."),
				  "%s", *p);
		free(*p);
	}
	free(names);
	int dfd = oci_layout_dirfd(v->l);
	if (dfd < 0)
		return;
	size_t nt = 0;
	char **top = layoutfs_list(dfd, &nt);
	for (size_t i = 0; i < nt; i++) {
		const char *n = top[i];
		if (strcmp(n, "oci-layout") && strcmp(n, "index.json") && strcmp(n, "blobs") &&
		    strcmp(n, ".index.lock"))
			v_problem(v, "stray", "-", NULL, true,
				  strncmp(n, ".index.json", 11) == 0 || strstr(n, ".tmp") != NULL,
				  "%s", n);
		free(top[i]);
	}
	free(top);
}

static void vcheck_free(void *p)
{
	struct vcheck *b = p;
	if (!b)
		return;
	free(b->data);
	free(b->perr);
	oci_index_free(b->idx);
	oci_manifest_free(b->man);
	oci_config_free(b->cfg);
	free(b->cfg_err);
	free(b);
}

void oci_verify_report_free(struct oci_verify_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->p[i].kind);
		free(r->p[i].digest);
		free(r->p[i].refs);
		free(r->p[i].detail);
	}
	free(r->p);
	free(r);
}

/* The walks from index.json: one per distinct top-level descriptor, its
 * other refs added to whatever that walk found. */
static void v_walks(struct verify *v, const struct oci_index *idx)
{
	size_t n = idx->n_manifests;
	cleanup_free size_t *next = xcalloc(n ? n : 1, sizeof(*next)); /* next of group + 1 */
	cleanup_free bool *later = xcalloc(n ? n : 1, sizeof(*later));
	struct pathmap groups;
	pathmap_init(&groups);
	for (size_t i = 0; i < n; i++) {
		const struct oci_descriptor *d = &idx->manifests[i];
		cleanup_free char *key =
		    xasprintf("%s %lld %s", d->digest.str, (long long)d->size, d->media_type);
		void **slot = pathmap_put(&groups, key);
		if (*slot) {
			next[(uintptr_t)*slot - 1] = i + 1;
			later[i] = true;
		}
		*slot = (void *)(uintptr_t)(i + 1);
	}
	pathmap_release(&groups, NULL);
	for (size_t i = 0; i < n && !v->all_stop && !v->interrupted; i++) {
		if (later[i])
			continue;
		const struct oci_descriptor *d = &idx->manifests[i];
		char label[OCI_DIGEST_MAX + 8];
		if (d->ref_name)
			snprintf(label, sizeof(label), "%s", d->ref_name);
		else
			snprintf(label, sizeof(label), "@%s", d->digest.str);
		v->walk++;
		v->n_touched = 0;
		v->stop = false;
		memset(&v->b, 0, sizeof(v->b));
		v_desc(v, d, d->ref_name ? d->ref_name : label, 0, OCI_MEDIA_UNKNOWN, NULL);
		for (size_t j = next[i]; j; j = next[j - 1]) {
			const struct oci_descriptor *o = &idx->manifests[j - 1];
			cleanup_free char *ol =
			    o->ref_name ? xstrdup(o->ref_name) : xasprintf("@%s", o->digest.str);
			for (size_t t = 0; t < v->n_touched; t++)
				vrefs_add(v->touched[t], ol);
		}
	}
	v->walk = 0;
}

int oci_layout_verify(struct oci_layout *l, struct oci_verify_report **out, struct oci_error **err)
{
	struct verify v = {.l = l};
	pathmap_init(&v.blobs);
	pathmap_init(&v.prob_keys);
	pathmap_init(&v.job_keys);
	pthread_mutex_init(&v.mu, NULL);
	v.rep = xcalloc(1, sizeof(*v.rep));
	if (l->kind != OCI_LAYOUT_DOCKER_ARCHIVE && !oci_layout_has_version_file(l))
		v_problem(&v, "layout", "-", NULL, false, true, "oci-layout is missing or invalid");
	if (oci_layout_index_error(l))
		v_problem(&v, "index", "-", NULL, false, true, "index.json: %s",
			  oci_layout_index_error(l));
	const char *const *bad;
	size_t nbad = oci_layout_bad_entries(l, &bad);
	for (size_t i = 0; i < nbad; i++) {
		const char *tab = strchr(bad[i], '\t');
		cleanup_free char *ref = xstrndup(bad[i], (size_t)(tab - bad[i]));
		v_problem(&v, "index", "-", strcmp(ref, "-") ? ref : NULL, false, false,
			  "index.json entry: %s", tab + 1);
	}
	v_walks(&v, oci_layout_index(l));
	free(v.touched);
	/* phase two */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int nt = ncpu > 1 ? (int)(ncpu > 8 ? 8 : ncpu) : 1;
	pthread_t th[8];
	int started = 0;
	for (int i = 0; i < nt && (size_t)i < v.n_jobs && !v.interrupted; i++)
		if (pthread_create(&th[i], NULL, v_worker, &v) == 0)
			started++;
	if (!started && !v.interrupted)
		v_worker(&v);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	for (size_t i = 0; i < v.n_jobs; i++) {
		struct vjob *j = &v.jobs[i];
		v.rep->bytes += j->bytes;
		for (size_t k = 0; k < j->refs.n; k++) {
			if (j->kind)
				v_problem(&v, j->kind, j->desc.digest.str, j->refs.v[k], false,
					  strcmp(j->kind, "mediatype") == 0, "%s", j->detail);
			bool whole = !j->kind || strcmp(j->kind, "mediatype") == 0 ||
				     strcmp(j->kind, "diffid") == 0 ||
				     strcmp(j->kind, "duplicate") == 0;
			if (whole && j->desc_size != j->b->stored)
				v_problem(&v, "size", j->desc.digest.str, j->refs.v[k], false, true,
					  "descriptor says %lld bytes, blob has %lld",
					  (long long)j->desc_size, (long long)j->b->stored);
		}
		free(j->kind);
		free(j->detail);
		vrefs_release(&j->refs);
		oci_descriptor_release(&j->desc);
	}
	free(v.jobs);
	v.interrupted |= oci_cancelled();
	if (!v.interrupted)
		v_notes(&v);
	struct oci_verify_report *rep = v.rep;
	rep->p = xcalloc(v.n_probs ? v.n_probs : 1, sizeof(*rep->p));
	for (size_t i = 0; i < v.n_probs; i++) {
		struct vprob *q = &v.probs[i];
		rep->p[rep->n++] = (struct oci_problem){
		    q->kind, q->digest, vrefs_string(&q->refs), q->detail, q->note, q->fixable};
		if (q->note)
			rep->n_notes++;
		else
			rep->n_problems++;
		vrefs_release(&q->refs);
	}
	free(v.probs);
	pathmap_release(&v.blobs, vcheck_free);
	pathmap_release(&v.prob_keys, NULL);
	pathmap_release(&v.job_keys, NULL);
	pthread_mutex_destroy(&v.mu);
	if (v.interrupted) {
		oci_verify_report_free(rep);
		return error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
	}
	/* a blob that is a FIFO, a device or a symlink out of the layout is no
	 * problem to list among others: the layout is refused */
	if (layout_unsafe(l)) {
		oci_verify_report_free(rep);
		return error_set(err, OCI_E_INVALID, 0, "%s", layout_unsafe(l));
	}
	*out = v.rep;
	return 0;
}
