/* Naming an image (PATH[:REF|@DIGEST]) and resolving it: top-level
 * descriptor, nested indexes by platform, manifest, config. Every error
 * names what exists instead. */
#include <errno.h>
#include <stddef.h>
#include <sys/stat.h>
#include "layout_int.h"
#include "pathmap.h"
#include "walk.h"

void oci_image_ref_release(struct oci_image_ref *r)
{
	free(r->path);
	free(r->ref);
	memset(r, 0, sizeof(*r));
}

/* "-" is stdin: "-:app:1.2" names the tag app:1.2 of an archive there */
static bool image_exists(const char *path)
{
	struct stat st;
	return strcmp(path, "-") == 0 || stat(path, &st) == 0;
}

/* spec split at its first ':' whose left side exists; false when none */
static bool image_split_existing(const char *spec, struct oci_image_ref *out)
{
	for (const char *c = strchr(spec, ':'); c; c = strchr(c + 1, ':')) {
		cleanup_free char *p = xstrndup(spec, (size_t)(c - spec));
		if (*p && image_exists(p)) {
			out->path = xstrdup(p);
			out->ref = xstrdup(c + 1);
			return true;
		}
	}
	return false;
}

int oci_image_ref_parse(const char *spec, struct oci_image_ref *out, struct oci_error **err)
{
	memset(out, 0, sizeof(*out));
	struct stat st;
	if (!*spec)
		return error_set(err, OCI_E_USAGE, 0, "empty image name");
	if (strcmp(spec, "-") == 0 || stat(spec, &st) == 0) {
		out->path = xstrdup(spec);
		return 0;
	}
	const char *slash = strrchr(spec, '/');
	const char *tail = slash ? slash + 1 : spec;
	const char *at = strchr(tail, '@');
	const char *colon = strrchr(tail, ':');
	if (at) {
		struct oci_error *derr = NULL;
		if (oci_digest_parse(at + 1, &out->digest, &derr) == 0) {
			out->has_digest = true;
			out->path = xstrndup(spec, (size_t)(at - spec));
			goto checked;
		}
		/* not a digest: perhaps a ref holding '@', after a path that exists */
		if (!image_split_existing(spec, out)) {
			if (err)
				*err = derr;
			else
				oci_error_free(derr);
			return derr ? derr->status : OCI_E_USAGE;
		}
		oci_error_free(derr);
		goto checked;
	}
	/* A ref may itself hold '/' and ':' (docker RepoTags such as
	 * "example/app:1.0", or a bad ref such as "a/" that is then refused by
	 * name): when the split at the last ':' after the last '/' does not give
	 * a path that exists, split at the first ':' whose left side does. */
	if (colon) {
		out->path = xstrndup(spec, (size_t)(colon - spec));
		out->ref = xstrdup(colon + 1);
		if (image_exists(out->path))
			goto checked;
		oci_image_ref_release(out);
	}
	if (image_split_existing(spec, out))
		goto checked;
	if (!colon)
		return error_set(err, OCI_E_NOTFOUND, ENOENT, "open");
	out->path = xstrndup(spec, (size_t)(colon - spec));
	out->ref = xstrdup(colon + 1);
checked:
	if (out->ref && !*out->ref) {
		oci_image_ref_release(out);
		return error_set(err, OCI_E_USAGE, 0, "empty ref");
	}
	if (!*out->path) {
		oci_image_ref_release(out);
		return error_set(err, OCI_E_USAGE, 0, "no path before the ref");
	}
	for (const char *p = out->ref; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			oci_image_ref_release(out);
			return error_set(err, OCI_E_USAGE, 0, "ref contains a control character");
		}
	return 0;
}

/* annotations.md, org.opencontainers.image.ref.name:
 *   ref       ::= component ("/" component)*
 *   component ::= alphanum (separator alphanum)*
 *   alphanum  ::= [A-Za-z0-9]+
 *   separator ::= [-._:@+] | "--"
 * Checked by hand, one character at a time: no regex engine, no
 * backtracking, linear in the length. */
int oci_ref_name_check(const char *ref, struct oci_error **err)
{
	static const char grammar[] =
	    "not a ref the image-spec allows (components of letters and digits joined "
	    "by one of -._:@+ or --, separated by /)";
	size_t n = ref ? strlen(ref) : 0;
	if (n == 0)
		return error_set(err, OCI_E_USAGE, 0, "empty ref");
	if (n > OCI_REF_NAME_MAX)
		return error_set(err, OCI_E_USAGE, 0, "ref of %zu bytes: longer than %d", n,
				 OCI_REF_NAME_MAX);
	bool need_alnum = true; /* at the start, and after a separator or '/' */
	for (size_t i = 0; i < n; i++) {
		char c = ref[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (alnum) {
			need_alnum = false;
			continue;
		}
		if (need_alnum || !(strchr("-._:@+/", c)))
			return error_set(err, OCI_E_USAGE, 0, "ref \"%s\": %s", ref, grammar);
		if (c == '-' && ref[i + 1] == '-')
			i++; /* "--" is one separator */
		need_alnum = true;
	}
	if (need_alnum)
		return error_set(err, OCI_E_USAGE, 0, "ref \"%s\": %s", ref, grammar);
	return 0;
}

/* "v1, v2, @sha256:..." for error messages */
static char *image_list_refs(const struct oci_index *idx)
{
	size_t cap = 256, len = 0;
	char *s = xmalloc(cap);
	s[0] = 0;
	for (size_t i = 0; i < idx->n_manifests && i < 32; i++) {
		const struct oci_descriptor *d = &idx->manifests[i];
		char item[OCI_DIGEST_MAX + 300];
		snprintf(item, sizeof(item), "%s%.250s", i ? ", " : "",
			 d->ref_name ? d->ref_name : "");
		if (!d->ref_name)
			snprintf(item, sizeof(item), "%s@%s", i ? ", " : "", d->digest.str);
		size_t n = strlen(item);
		if (len + n + 8 > cap) {
			cap = (len + n + 8) * 2;
			s = xrealloc(s, cap);
		}
		memcpy(s + len, item, n + 1);
		len += n;
	}
	if (idx->n_manifests > 32) {
		s = xrealloc(s, len + 8);
		memcpy(s + len, ", ...", 6);
	}
	return s;
}

/* Docker's short names: "docker.io/library/x:1" is "x:1". */
static const char *image_short_name(const char *n)
{
	if (strncmp(n, "docker.io/", 10) == 0)
		n += 10;
	else if (strncmp(n, "index.docker.io/", 16) == 0)
		n += 16;
	if (strncmp(n, "library/", 8) == 0)
		n += 8;
	return n;
}

/* A ref matches a descriptor's ref name whole (Docker names compared in
 * their short form), or (docker RepoTags and io.containerd.image.name) its
 * tag part. */
static bool image_ref_matches(const struct oci_layout *l, const struct oci_descriptor *d,
			      const char *ref)
{
	const char *names[2] = {d->ref_name, NULL};
	if (d->annotations) {
		const cJSON *n =
		    cJSON_GetObjectItemCaseSensitive(d->annotations, "io.containerd.image.name");
		if (cJSON_IsString(n))
			names[1] = n->valuestring;
	}
	for (int i = 0; i < 2; i++) {
		const char *n = names[i];
		if (!n)
			continue;
		if (strcmp(n, ref) == 0)
			return true;
		if (l->kind == OCI_LAYOUT_DOCKER_ARCHIVE || i == 1) {
			if (strcmp(image_short_name(n), image_short_name(ref)) == 0)
				return true;
			const char *slash = strrchr(n, '/');
			const char *colon = strrchr(slash ? slash : n, ':');
			if (colon && strcmp(colon + 1, ref) == 0)
				return true;
		}
	}
	return false;
}

/* A blob named only by digest: sniff whether it is an index or a manifest. */
static int image_describe_blob(struct oci_layout *l, const struct oci_digest *dg,
			       struct oci_descriptor *out, struct oci_error **err)
{
	int64_t size = oci_layout_blob_size(l, dg);
	if (size < 0)
		return error_set(err, OCI_E_NOTFOUND, 0, "%s: no such blob in the layout", dg->str);
	struct oci_descriptor tmp = {.digest = *dg, .size = size};
	cleanup_free char *buf = NULL;
	size_t len;
	int r = oci_blob_read_all(l, &tmp, OCI_JSON_MAX, &buf, &len, err);
	if (r < 0)
		return r;
	cJSON *j;
	if ((r = oci_json_parse(buf, len, &j, err)) < 0)
		return error_wrap(err, "%s", dg->str);
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(j, "mediaType");
	const char *type = NULL;
	if (cJSON_IsString(mt) && oci_media_kind(mt->valuestring) != OCI_MEDIA_UNKNOWN)
		type = mt->valuestring;
	else if (cJSON_GetObjectItemCaseSensitive(j, "manifests"))
		type = OCI_MT_INDEX;
	else if (cJSON_GetObjectItemCaseSensitive(j, "layers"))
		type = OCI_MT_MANIFEST;
	if (!type || (oci_media_kind(type) != OCI_MEDIA_INDEX &&
		      oci_media_kind(type) != OCI_MEDIA_MANIFEST)) {
		cJSON_Delete(j);
		return error_set(err, OCI_E_INVALID, 0, "%s: neither a manifest nor an index",
				 dg->str);
	}
	memset(out, 0, sizeof(*out));
	out->media_type = xstrdup(type);
	out->digest = *dg;
	out->size = size;
	cJSON_Delete(j);
	return 0;
}

int oci_layout_select(struct oci_layout *l, const struct oci_image_ref *r,
		      struct oci_descriptor *out, struct oci_error **err)
{
	const struct oci_index *idx = l->index;
	if (r->has_digest) {
		for (size_t i = 0; i < idx->n_manifests; i++)
			if (oci_digest_equal(&idx->manifests[i].digest, &r->digest)) {
				oci_descriptor_copy(out, &idx->manifests[i]);
				return 0;
			}
		return image_describe_blob(l, &r->digest, out, err);
	}
	const struct oci_descriptor *found = NULL;
	for (size_t i = 0; i < idx->n_manifests; i++) {
		const struct oci_descriptor *d = &idx->manifests[i];
		if (r->ref && !image_ref_matches(l, d, r->ref))
			continue;
		if (found && !oci_digest_equal(&found->digest, &d->digest)) {
			cleanup_free char *refs = image_list_refs(idx);
			if (r->ref)
				return error_set(
				    err, OCI_E_INVALID, 0,
				    "ref \"%s\" names several images; use @DIGEST (%s)", r->ref,
				    refs);
			return error_set(err, OCI_E_USAGE, 0,
					 "several images in the layout; name one of: %s", refs);
		}
		if (!found)
			found = d;
	}
	if (!found) {
		if (idx->n_manifests == 0)
			return error_set(err, OCI_E_NOTFOUND, 0, "the layout holds no images");
		cleanup_free char *refs = image_list_refs(idx);
		return error_set(err, OCI_E_NOTFOUND, 0, "ref \"%s\" not found; refs: %s", r->ref,
				 refs);
	}
	oci_descriptor_copy(out, found);
	return 0;
}

int oci_index_load(struct oci_layout *l, const struct oci_descriptor *d, struct oci_index **out,
		   struct oci_error **err)
{
	cleanup_free char *buf = NULL;
	size_t len;
	int r = oci_blob_read_all(l, d, OCI_JSON_MAX, &buf, &len, err);
	if (r == 0)
		r = oci_index_parse(buf, len, d->media_type, out, err);
	if (r < 0)
		return error_wrap(err, "index %s", d->digest.str);
	return 0;
}

int walk_node(struct walk_bounds *b, const struct oci_descriptor *d, struct oci_error **err)
{
	if (++b->nodes > OCI_MAX_WALK_NODES)
		return error_set(err, OCI_E_LIMIT, 0,
				 "%s: more than %d distinct indexes and manifests reachable",
				 d->digest.str, OCI_MAX_WALK_NODES);
	return 0;
}

int walk_count(struct walk_bounds *b, const struct oci_descriptor *d, size_t edges,
	       struct oci_error **err)
{
	b->edges += edges;
	if (b->edges > OCI_MAX_WALK_EDGES)
		return error_set(err, OCI_E_LIMIT, 0,
				 "index %s: more than %d descriptors reachable through indexes",
				 d->digest.str, OCI_MAX_WALK_EDGES);
	return 0;
}

int walk_descend(struct walk_bounds *b, const struct oci_descriptor *d, int depth,
		 struct oci_error **err)
{
	if (oci_cancelled())
		return error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
	if (depth >= OCI_MAX_INDEX_DEPTH)
		return error_set(err, OCI_E_LIMIT, 0, "index %s: nested deeper than %d levels",
				 d->digest.str, OCI_MAX_INDEX_DEPTH);
	for (int i = 0; i < depth; i++)
		if (oci_digest_equal(&b->path[i], &d->digest))
			return error_set(err, OCI_E_INVALID, 0, "index %s: loop", d->digest.str);
	b->path[depth] = d->digest;
	return 0;
}

int walk_enter(struct walk_bounds *b, const struct oci_descriptor *d, int depth,
	       struct oci_error **err)
{
	int r = walk_descend(b, d, depth, err);
	return r < 0 ? r : walk_node(b, d, err);
}

struct image_walk {
	struct oci_layout *l;
	const struct oci_platform *want;
	char seen[1024]; /* platforms present, for the error */
	struct walk_bounds b;
	struct pathmap searched; /* indexes searched to their end without a match */
};

static void walk_note_platform(struct image_walk *w, const struct oci_platform *p)
{
	char buf[200];
	oci_platform_format(p, buf, sizeof(buf));
	if (strcmp(buf, "unknown/unknown") == 0)
		return; /* attestation manifests */
	size_t n = strlen(w->seen);
	/* skip duplicates */
	char probe[210];
	snprintf(probe, sizeof(probe), ", %s,", buf);
	char hay[1100];
	snprintf(hay, sizeof(hay), ", %s,", w->seen);
	if (strstr(hay, probe))
		return;
	snprintf(w->seen + n, sizeof(w->seen) - n, "%s%s", n ? ", " : "", buf);
}

/* Depth-first through indexes: the first manifest whose platform matches.
 * An index already searched to its end holds no match: it is not read or
 * searched again, however many indexes name it. */
static int walk_index(struct image_walk *w, const struct oci_descriptor *d, int depth,
		      struct oci_descriptor *out, struct oci_error **err)
{
	if (pathmap_get(&w->searched, d->digest.str))
		return 1;
	int r = walk_enter(&w->b, d, depth, err);
	if (r < 0)
		return r;
	struct oci_index *idx;
	if ((r = oci_index_load(w->l, d, &idx, err)) < 0)
		return r;
	if ((r = walk_count(&w->b, d, idx->n_manifests, err)) < 0) {
		oci_index_free(idx);
		return r;
	}
	const struct oci_descriptor *lone = NULL;
	size_t n_lone = 0;
	r = 1; /* not found */
	for (size_t i = 0; i < idx->n_manifests && r == 1; i++) {
		const struct oci_descriptor *c = &idx->manifests[i];
		enum oci_media_kind k = oci_media_kind(c->media_type);
		if (c->platform)
			walk_note_platform(w, c->platform);
		if (k == OCI_MEDIA_MANIFEST) {
			if (c->platform && oci_platform_match(w->want, c->platform)) {
				oci_descriptor_copy(out, c);
				out->annotations = NULL; /* idx is freed below */
				r = 0;
			} else if (!c->platform) {
				lone = c;
				n_lone++;
			}
		} else if (k == OCI_MEDIA_INDEX &&
			   (!c->platform || oci_platform_match(w->want, c->platform))) {
			r = walk_index(w, c, depth + 1, out, err);
		}
	}
	if (r == 1 && n_lone == 1 && idx->n_manifests == 1) {
		oci_descriptor_copy(out, lone);
		out->annotations = NULL;
		r = 0;
	}
	if (r == 1)
		*pathmap_put(&w->searched, d->digest.str) = (void *)1;
	oci_index_free(idx);
	return r;
}

void oci_image_free(struct oci_image *img)
{
	if (!img)
		return;
	oci_descriptor_release(&img->top);
	oci_descriptor_release(&img->desc);
	oci_platform_release(&img->platform);
	oci_manifest_free(img->manifest);
	oci_config_free(img->config);
	free(img);
}

static int image_load_manifest(struct oci_image *img, struct oci_error **err)
{
	const struct oci_descriptor *d = &img->desc;
	cleanup_free char *buf = NULL;
	size_t len;
	int r = oci_blob_read_all(img->layout, d, OCI_JSON_MAX, &buf, &len, err);
	if (r == 0)
		r = oci_manifest_parse(buf, len, d->media_type, &img->manifest, err);
	if (r < 0)
		return error_wrap(err, "manifest %s", d->digest.str);
	struct oci_manifest *m = img->manifest;
	if (oci_media_kind(m->config.media_type) != OCI_MEDIA_CONFIG)
		return error_set(err, OCI_E_UNSUPPORTED, 0,
				 "manifest %s: config has unsupported media type \"%.200s\"",
				 d->digest.str, m->config.media_type);
	for (size_t i = 0; i < m->n_layers; i++)
		if (oci_media_layer_compression(m->layers[i].media_type) < 0)
			return error_set(err, OCI_E_UNSUPPORTED, 0,
					 "manifest %s: layer %zu (%s): unsupported media type "
					 "\"%.200s\"",
					 d->digest.str, i + 1, m->layers[i].digest.str,
					 m->layers[i].media_type);
	free(buf);
	buf = NULL;
	r = oci_blob_read_all(img->layout, &m->config, OCI_JSON_MAX, &buf, &len, err);
	if (r == 0)
		r = oci_config_parse(buf, len, &img->config, err);
	if (r < 0)
		return error_wrap(err, "config %s", m->config.digest.str);
	if (img->config->n_diff_ids != m->n_layers)
		return error_set(
		    err, OCI_E_INVALID, 0, "config %s: %zu diff_ids for %zu layers in manifest %s",
		    m->config.digest.str, img->config->n_diff_ids, m->n_layers, d->digest.str);
	return 0;
}

int oci_image_load(struct oci_layout *l, const struct oci_descriptor *d,
		   const struct oci_platform *platform, struct oci_image **out,
		   struct oci_error **err)
{
	struct oci_platform host = {0};
	if (!platform) {
		oci_platform_host(&host);
		platform = &host;
	}
	struct oci_image *img = xcalloc(1, sizeof(*img));
	img->layout = l;
	oci_descriptor_copy(&img->top, d);
	int r;
	enum oci_media_kind k = oci_media_kind(d->media_type);
	if (k == OCI_MEDIA_INDEX) {
		struct image_walk w = {.l = l, .want = platform};
		pathmap_init(&w.searched);
		r = walk_index(&w, d, 0, &img->desc, err);
		pathmap_release(&w.searched, NULL);
		if (r == 1) {
			char want[200];
			oci_platform_format(platform, want, sizeof(want));
			r = error_set(err, OCI_E_NOTFOUND, 0,
				      "no manifest for platform %s; platforms present: %s", want,
				      *w.seen ? w.seen : "none");
		}
	} else if (k == OCI_MEDIA_MANIFEST) {
		oci_descriptor_copy(&img->desc, d);
		r = 0;
	} else {
		r = error_set(err, OCI_E_UNSUPPORTED, 0, "%s: unsupported media type \"%.200s\"",
			      d->digest.str, d->media_type);
	}
	if (r == 0)
		r = image_load_manifest(img, err);
	if (r < 0) {
		oci_platform_release(&host);
		oci_image_free(img);
		return r;
	}
	const struct oci_config *c = img->config;
	img->platform.os = xstrdup(c->os);
	img->platform.architecture = xstrdup(c->architecture);
	img->platform.variant = c->variant ? xstrdup(c->variant) : NULL;
	oci_platform_release(&host);
	*out = img;
	return 0;
}

int oci_image_open(const char *spec, const struct oci_platform *platform,
		   struct oci_layout **layout, struct oci_image **out, struct oci_error **err)
{
	struct oci_image_ref ref;
	int r = oci_image_ref_parse(spec, &ref, err);
	if (r < 0)
		return r;
	struct oci_layout *l = NULL;
	struct oci_descriptor top = {0};
	if ((r = oci_layout_open(ref.path, &l, err)) < 0) {
		error_wrap(err, "%s", ref.path);
		goto out;
	}
	if ((r = oci_layout_select(l, &ref, &top, err)) < 0 ||
	    (r = oci_image_load(l, &top, platform, out, err)) < 0)
		goto out;
	*layout = l;
	l = NULL;
out:
	oci_descriptor_release(&top);
	oci_layout_free(l);
	oci_image_ref_release(&ref);
	return r;
}

/* A load's nodes live in one block with the documents they show: each
 * distinct document is read, verified and parsed once per load, however
 * many nodes (in however many top-level entries) show it. */
struct node_doc {
	struct oci_index *index;
	struct oci_image *image;
	size_t id;
};

struct node_block {
	struct pathmap docs; /* "KIND SIZE DIGEST" -> struct node_doc */
	struct oci_node v[];
};

static void node_doc_free(void *p)
{
	struct node_doc *doc = p;
	if (!doc)
		return;
	oci_index_free(doc->index);
	oci_image_free(doc->image);
	free(doc);
}

static void node_release(struct oci_node *n)
{
	oci_descriptor_release(&n->desc);
	for (size_t i = 0; i < n->n_children; i++)
		node_release(&n->children[i]);
	free(n->children);
}

void oci_nodes_free(struct oci_node *v, size_t n)
{
	if (!v)
		return;
	struct node_block *blk = (struct node_block *)((char *)v - offsetof(struct node_block, v));
	for (size_t i = 0; i < n; i++)
		node_release(&v[i]);
	pathmap_release(&blk->docs, node_doc_free);
	free(blk);
}

void oci_node_free(struct oci_node *n)
{
	oci_nodes_free(n, 1);
}

static bool node_is_attestation(const struct oci_descriptor *d)
{
	return d->platform && d->platform->os && strcmp(d->platform->os, "unknown") == 0 &&
	       d->platform->architecture && strcmp(d->platform->architecture, "unknown") == 0;
}

struct node_walk {
	struct oci_layout *l;
	const struct oci_platform *filter;
	struct walk_bounds b;
	struct node_block *blk;
	struct pathmap shown; /* below the current top-level entry: key -> its first node */
	size_t next_id;
};

/* the document d names, as its kind and size say: read and parsed once */
static int node_doc(struct node_walk *w, const struct oci_descriptor *d, enum oci_media_kind k,
		    const char *key, struct node_doc **out, struct oci_error **err)
{
	void **slot = pathmap_put(&w->blk->docs, key);
	if (*slot) {
		*out = *slot;
		return (*out)->index || (*out)->image
			   ? 0
			   : error_set(err, OCI_E_INVALID, 0, "%s: unreadable", d->digest.str);
	}
	struct node_doc *doc = *slot = xcalloc(1, sizeof(*doc));
	doc->id = w->next_id++;
	int r = walk_node(&w->b, d, err);
	if (r == 0 && oci_cancelled())
		r = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
	if (r == 0)
		r = k == OCI_MEDIA_MANIFEST ? oci_image_load(w->l, d, NULL, &doc->image, err)
					    : oci_index_load(w->l, d, &doc->index, err);
	*out = doc;
	return r;
}

static int node_fill(struct node_walk *w, const struct oci_descriptor *d, int depth,
		     struct oci_node *n, struct oci_error **err)
{
	oci_descriptor_copy(&n->desc, d);
	n->kind = oci_media_kind(d->media_type);
	if (n->kind != OCI_MEDIA_INDEX && n->kind != OCI_MEDIA_MANIFEST)
		return 0; /* shown, not followed */
	char key[OCI_DIGEST_MAX + 48];
	snprintf(key, sizeof(key), "%d %lld %s", (int)n->kind, (long long)d->size, d->digest.str);
	/* met again below this entry: a repeat, nothing below it */
	void **slot = pathmap_put(&w->shown, key);
	if (*slot) {
		n->same = *slot;
		n->id = n->same->id;
		return 0;
	}
	*slot = n;
	int r;
	struct node_doc *doc;
	if (n->kind == OCI_MEDIA_INDEX && (r = walk_descend(&w->b, d, depth, err)) < 0)
		return r;
	if ((r = node_doc(w, d, n->kind, key, &doc, err)) < 0)
		return r;
	n->id = doc->id;
	if (n->kind == OCI_MEDIA_MANIFEST) {
		n->image = doc->image;
		return 0;
	}
	n->index = doc->index;
	if ((r = walk_count(&w->b, d, n->index->n_manifests, err)) < 0)
		return r;
	/* children are filled in place: their addresses stay put for `same` */
	n->children =
	    xcalloc(n->index->n_manifests ? n->index->n_manifests : 1, sizeof(*n->children));
	for (size_t i = 0; i < n->index->n_manifests; i++) {
		const struct oci_descriptor *c = &n->index->manifests[i];
		if (node_is_attestation(c))
			continue;
		if (w->filter && c->platform && !oci_platform_match(w->filter, c->platform))
			continue;
		r = node_fill(w, c, depth + 1, &n->children[n->n_children++], err);
		if (r < 0)
			return r;
	}
	return 0;
}

int oci_nodes_load(struct oci_layout *l, const struct oci_descriptor *d, size_t n,
		   const struct oci_platform *filter, struct oci_node **out, struct oci_error **err)
{
	struct node_walk w = {.l = l, .filter = filter};
	w.blk = xcalloc(1, sizeof(*w.blk) + (n ? n : 1) * sizeof(struct oci_node));
	pathmap_init(&w.blk->docs);
	pathmap_init(&w.shown);
	int r = 0;
	size_t i;
	/* each entry shown whole (two refs to one image are two images to a
	 * reader), its documents shared with the entries before; repeats are
	 * marked below one entry; the bounds hold for the load as a whole */
	for (i = 0; i < n && r == 0; i++) {
		pathmap_clear(&w.shown, NULL);
		r = node_fill(&w, &d[i], 0, &w.blk->v[i], err);
	}
	pathmap_release(&w.shown, NULL);
	if (r < 0) {
		oci_nodes_free(w.blk->v, i);
		return r;
	}
	*out = w.blk->v;
	return 0;
}

int oci_node_load(struct oci_layout *l, const struct oci_descriptor *d,
		  const struct oci_platform *filter, struct oci_node **out, struct oci_error **err)
{
	return oci_nodes_load(l, d, 1, filter, out, err);
}
