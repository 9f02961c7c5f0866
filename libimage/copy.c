/* oci_copy: images from any source into a layout, an oci-archive or a
 * docker-archive. Each image is walked top-down (index -> manifests ->
 * config and layers); blobs are copied verified, and a document is
 * rewritten only when something below it changed (media types, a
 * recompressed layer), so that everything else stays byte-identical. The
 * destination changes last: refs under the layout lock, or the archive's
 * rename. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <oci/copy.h>
#include <oci/layout_write.h>
#include "archive_write.h"
#include "compress.h"
#include "inroot.h"
#include "layout_int.h"
#include "layoutfs.h"
#include "pathmap.h"
#include "walk.h"

#define CP_BUF (1u << 20)

struct cp_recode {
	struct oci_digest from;
	int to;
	struct oci_digest digest;
	int64_t size;
};

struct cp_image {
	char *src;
	char *ref;
	struct oci_descriptor src_desc;
	struct oci_descriptor desc; /* in the destination */
	bool converted;
	bool dest_ref; /* ref named in DEST (a name), not the source's own (a tag) */
	char *name;    /* docker-archive: the repository a source's tag goes under */
	/* docker-archive: the manifest's config and layers */
	struct oci_digest config;
	struct oci_digest *layers;
	size_t n_layers;
};

struct cp {
	const struct oci_copy_opts *o;
	struct oci_copy_result *res;
	enum oci_copy_format fmt;
	int dfd; /* layout destination */
	struct archive_out *ar;
	struct oci_layout *src;
	struct cp_recode *recodes;
	size_t n_recodes;
	size_t blob_no;
	int64_t all_done;     /* bytes of the blobs finished, for progress */
	size_t counted;	      /* the last blob counted in all_done */
	struct cp_image *cur; /* the image being copied (docker: its layers) */
	bool converted;
	/* "media type size digest" -> struct cp_done: what each distinct index
	 * or manifest became, so that a DAG of indexes naming one child many
	 * times costs its distinct documents, not its paths */
	struct pathmap done;
	struct walk_bounds b; /* per image */
};

struct cp_done {
	struct oci_descriptor out;
	bool converted; /* something below it was converted */
};

static void cp_done_free(void *v)
{
	struct cp_done *dn = v;
	oci_descriptor_release(&dn->out);
	free(dn);
}

/* ---- refs ---- */

bool oci_ref_name_valid(const char *ref)
{
	/* one grammar for every writer of a ref: image.c's */
	return oci_ref_name_check(ref, NULL) == 0;
}

enum oci_copy_format oci_copy_guess_format(const char *path)
{
	struct stat st;
	if (strcmp(path, "-") == 0)
		return OCI_COPY_OCI_ARCHIVE;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return OCI_COPY_LAYOUT;
	size_t n = strlen(path);
	static const char *const docker[] = {".docker.tar", "-docker.tar", "_docker.tar"};
	for (size_t i = 0; i < sizeof(docker) / sizeof(docker[0]); i++)
		if (n > strlen(docker[i]) && strcmp(path + n - strlen(docker[i]), docker[i]) == 0)
			return OCI_COPY_DOCKER_ARCHIVE;
	if ((n > 4 && strcmp(path + n - 4, ".tar") == 0) ||
	    (stat(path, &st) == 0 && S_ISREG(st.st_mode)))
		return OCI_COPY_OCI_ARCHIVE;
	return OCI_COPY_LAYOUT;
}

/* A destination "PATH[:REF]": the whole when it exists; otherwise REF starts
 * at the first ':' after whose left side's directory exists, so that a
 * docker RepoTag ("example/app:1.0") stays whole. */
static int cp_split_dest(const char *spec, char **path, char **ref, struct oci_error **err)
{
	struct stat st;
	*ref = NULL;
	if (!*spec)
		return error_set(err, OCI_E_USAGE, 0, "empty destination");
	if (strcmp(spec, "-") == 0 || lstat(spec, &st) == 0) {
		*path = xstrdup(spec);
		return 0;
	}
	for (const char *c = strchr(spec, ':'); c; c = strchr(c + 1, ':')) {
		cleanup_free char *p = xstrndup(spec, (size_t)(c - spec));
		const char *slash = strrchr(p, '/');
		cleanup_free char *dir =
		    slash ? xstrndup(p, (size_t)(slash - p + (slash == p))) : NULL;
		if (*p && (!dir || (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)))) {
			if (!c[1])
				return error_set(err, OCI_E_USAGE, 0, "%s: empty ref", spec);
			*path = xstrdup(p);
			*ref = xstrdup(c + 1);
			return 0;
		}
	}
	*path = xstrdup(spec);
	return 0;
}

/* ---- notes and progress ---- */

static void cp_note(struct cp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cp_note(struct cp *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	for (size_t i = 0; i < c->res->n_notes; i++)
		if (strcmp(c->res->notes[i], s) == 0) {
			free(s);
			return;
		}
	c->res->notes = xrealloc(c->res->notes, (c->res->n_notes + 1) * sizeof(char *));
	c->res->notes[c->res->n_notes++] = s;
}

static void cp_progress(struct cp *c, int64_t done, int64_t total)
{
	bool counted = c->counted == c->blob_no;
	if (c->o->progress)
		c->o->progress(c->o->progress_arg, c->blob_no, done, total,
			       c->all_done + (counted ? 0 : done));
	if (done == total && !counted) {
		c->all_done += total;
		c->counted = c->blob_no;
	}
}

/* ---- blobs ---- */

static bool cp_has(struct cp *c, const struct oci_descriptor *d)
{
	if (c->ar)
		return archive_out_has(c->ar, &d->digest);
	int bfd = layoutfs_blob_dir(c->dfd, oci_digest_algo_name(d->digest.algo), false, NULL);
	if (bfd < 0)
		return false;
	struct stat st;
	bool has = fstatat(bfd, oci_digest_hex(&d->digest), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		   S_ISREG(st.st_mode) && st.st_size == d->size;
	close(bfd);
	return has;
}

/* the blob of d from the source into the archive, verified as it streams */
static int cp_stream(struct cp *c, const struct oci_descriptor *d, struct oci_error **err)
{
	struct oci_blob *b;
	int r = oci_blob_open(c->src, d, &b, err);
	if (r < 0)
		return r;
	if ((r = archive_out_blob_begin(c->ar, &d->digest, d->size, err)) < 0) {
		oci_blob_free(b);
		return r;
	}
	cleanup_free char *buf = xmalloc(CP_BUF);
	int64_t done = 0;
	ssize_t n;
	while ((n = oci_blob_read(b, buf, CP_BUF, err)) > 0) {
		if ((r = archive_out_data(c->ar, buf, (size_t)n, err)) < 0)
			break;
		done += n;
		cp_progress(c, done, d->size);
		if (oci_cancelled()) {
			r = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
			break;
		}
	}
	oci_blob_free(b);
	if (r == 0 && n < 0)
		r = (int)n;
	return r < 0 ? r : archive_out_blob_end(c->ar, err);
}

static int cp_blob(struct cp *c, const struct oci_descriptor *d, struct oci_error **err)
{
	c->blob_no++;
	if (cp_has(c, d)) {
		c->res->blobs_skipped++;
		return 0;
	}
	int r = c->ar ? cp_stream(c, d, err) : oci_blob_copy(c->src, d, c->dfd, err);
	if (r < 0)
		return error_wrap(err, "blob %s", d->digest.str);
	cp_progress(c, d->size, d->size);
	c->res->blobs_copied++;
	c->res->bytes_copied += d->size;
	return 0;
}

/* a document we made, into the destination */
static int cp_put_doc(struct cp *c, cJSON *doc, struct oci_descriptor *out, struct oci_error **err)
{
	char *s = cJSON_PrintUnformatted(doc);
	if (!s)
		abort();
	size_t len = strlen(s);
	int r = c->ar ? archive_out_blob_mem(c->ar, s, len, &out->digest, err)
		      : oci_blob_put(c->dfd, s, len, &out->digest, err);
	free(s);
	out->size = (int64_t)len;
	c->res->documents_rewritten++;
	c->converted = true;
	return r;
}

/* ---- recompression ---- */

struct cp_sink {
	int fd;
	struct archive_out *ar; /* instead of fd: straight into the archive */
	struct oci_hash *hash;
	int64_t size;
};

static int cp_sink_write(void *arg, const void *buf, size_t len, struct oci_error **err)
{
	struct cp_sink *s = arg;
	if (s->hash)
		oci_hash_update(s->hash, buf, len);
	s->size += (int64_t)len;
	if (s->ar)
		return archive_out_data(s->ar, buf, len, err);
	for (size_t off = 0; off < len;) {
		ssize_t n = write(s->fd, (const char *)buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(err, OCI_E_IO, errno, "write recompressed layer");
		off += (size_t)n;
	}
	return 0;
}

/* Inflate the source blob (verified: digest and size at its end) and
 * compress it again into fd; the tar in between must hash to diff_id. */
static int cp_recode_stream(struct cp *c, const struct oci_descriptor *d,
			    const struct oci_digest *diff_id, int to, int fd,
			    struct archive_out *ar, struct oci_digest *out, int64_t *out_size,
			    struct oci_error **err)
{
	struct oci_blob *b;
	int r = oci_blob_open(c->src, d, &b, err);
	if (r < 0)
		return r;
	struct decoder *dec = decoder_new(oci_media_layer_compression(d->media_type));
	/* a plain tar out: its digest is the tar's, hashed once */
	bool plain = to == OCI_COMPRESS_NONE && diff_id->algo == OCI_DIGEST_SHA256;
	struct cp_sink s = {
	    .fd = fd, .ar = ar, .hash = plain ? NULL : oci_hash_new(OCI_DIGEST_SHA256)};
	/* zstd's default here is level 1 with a long window: smaller than
	 * level 3 without one, and a third faster (bench/README.md) */
	int level = c->o->level ? c->o->level : to == OCI_COMPRESS_ZSTD ? 1 : 0;
	struct encoder *enc = encoder_new(to, level, cp_sink_write, &s);
	encoder_long_window(enc);
	struct oci_hash *tar = oci_hash_new(diff_id->algo);
	cleanup_free uint8_t *in = xmalloc(CP_BUF), *obuf = xmalloc(4 * CP_BUF);
	int64_t done = 0;
	for (bool eof = false; r == 0 && !eof;) {
		ssize_t n = oci_blob_read(b, in, CP_BUF, err);
		if (n < 0) {
			r = (int)n;
			break;
		}
		eof = n == 0;
		done += n;
		cp_progress(c, done, d->size);
		const uint8_t *ip = in;
		size_t il = (size_t)n;
		/* at the end, run the decoder until it has nothing more to give */
		for (;;) {
			uint8_t *op = obuf;
			size_t ol = 4 * CP_BUF, il0 = il;
			if ((r = decoder_run(dec, &ip, &il, &op, &ol, err)) < 0)
				break;
			size_t m = 4 * CP_BUF - ol;
			oci_hash_update(tar, obuf, m);
			if (m && (r = encoder_write(enc, obuf, m, err)) < 0)
				break;
			if (m == 0 && il == il0) {
				if (il) /* nothing taken, nothing made: it is not going anywhere */
					r = error_set(err, OCI_E_INVALID, 0,
						      "data after the end of the "
						      "compressed stream");
				break;
			}
		}
		if (r == 0 && oci_cancelled())
			r = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
	}
	if (r == 0 && !decoder_at_end(dec))
		r = error_set(err, OCI_E_INVALID, 0, "compressed stream is truncated");
	if (r == 0)
		r = encoder_finish(enc, err);
	struct oci_digest got;
	oci_hash_final(tar, &got);
	if (r == 0 && !oci_digest_equal(&got, diff_id))
		r = error_set(err, OCI_E_MISMATCH, 0, "diff_id mismatch (got %s, config says %s)",
			      got.str, diff_id->str);
	if (plain)
		*out = got;
	else
		oci_hash_final(s.hash, out);
	*out_size = s.size;
	oci_hash_free(tar);
	oci_hash_free(s.hash);
	encoder_free(enc);
	decoder_free(dec);
	oci_blob_free(b);
	return r;
}

static int cp_recode(struct cp *c, const struct oci_descriptor *d, const struct oci_digest *diff_id,
		     int to, struct oci_descriptor *out, struct oci_error **err)
{
	c->blob_no++;
	for (size_t i = 0; i < c->n_recodes; i++)
		if (c->recodes[i].to == to && oci_digest_equal(&c->recodes[i].from, &d->digest)) {
			out->digest = c->recodes[i].digest;
			out->size = c->recodes[i].size;
			return 0;
		}
	int r;
	if (c->ar && to == OCI_COMPRESS_NONE && diff_id->algo == OCI_DIGEST_SHA256 &&
	    archive_out_can_patch(c->ar) && !archive_out_has(c->ar, diff_id)) {
		/* a plain tar is named by its diff_id, known before a byte is
		 * inflated: straight into the archive, its size set at the end */
		r = archive_out_blob_begin_unsized(c->ar, diff_id, err);
		if (r == 0)
			r = cp_recode_stream(c, d, diff_id, to, -1, c->ar, &out->digest, &out->size,
					     err);
		if (r == 0)
			r = archive_out_blob_end_unsized(c->ar, err);
	} else if (c->ar) {
		/* the recompressed layer must be whole (its size known) before
		 * its tar header is written */
		cleanup_close int fd = tmpfile_anon("/tmp", "oci-copy", err);
		if (fd < 0)
			return fd;
		r = cp_recode_stream(c, d, diff_id, to, fd, NULL, &out->digest, &out->size, err);
		if (r == 0 && !archive_out_has(c->ar, &out->digest)) {
			cleanup_free char *buf = xmalloc(CP_BUF);
			if (lseek(fd, 0, SEEK_SET) < 0)
				r = error_set(err, OCI_E_IO, errno, "temporary file: seek");
			else
				r = archive_out_blob_begin(c->ar, &out->digest, out->size, err);
			while (r == 0) {
				ssize_t n = read(fd, buf, CP_BUF);
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0)
					r = error_set(err, OCI_E_IO, errno, "temporary file: read");
				if (n <= 0)
					break;
				r = archive_out_data(c->ar, buf, (size_t)n, err);
			}
			if (r == 0)
				r = archive_out_blob_end(c->ar, err);
		}
	} else {
		int fd;
		char *name;
		if ((r = oci_blob_tmp_open(c->dfd, &fd, &name, err)) < 0)
			return r;
		r = cp_recode_stream(c, d, diff_id, to, fd, NULL, &out->digest, &out->size, err);
		if (r == 0)
			r = oci_blob_tmp_commit(c->dfd, fd, name, &out->digest, err);
		else
			oci_blob_tmp_abort(c->dfd, fd, name);
		free(name);
	}
	if (r < 0)
		return error_wrap(err, "layer %s", d->digest.str);
	c->recodes = xrealloc(c->recodes, (c->n_recodes + 1) * sizeof(*c->recodes));
	c->recodes[c->n_recodes++] = (struct cp_recode){
	    .from = d->digest, .to = to, .digest = out->digest, .size = out->size};
	c->res->layers_recompressed++;
	c->res->bytes_copied += out->size;
	c->converted = true;
	return 0;
}

/* ---- documents ---- */

static const char *cp_layer_mt(bool docker, int compression)
{
	if (docker)
		return compression == OCI_COMPRESS_GZIP	  ? OCI_MT_DOCKER_LAYER_GZIP
		       : compression == OCI_COMPRESS_ZSTD ? OCI_MT_DOCKER_LAYER_ZSTD
							  : OCI_MT_DOCKER_LAYER;
	return compression == OCI_COMPRESS_GZIP	  ? OCI_MT_LAYER_GZIP
	       : compression == OCI_COMPRESS_ZSTD ? OCI_MT_LAYER_ZSTD
						  : OCI_MT_LAYER;
}

static void cp_set_str(cJSON *o, const char *key, const char *v)
{
	if (cJSON_GetObjectItemCaseSensitive(o, key))
		cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_CreateString(v));
	else
		cJSON_AddStringToObject(o, key, v);
}

/* mediaType, digest and size of a descriptor object in a document we rewrite */
static void cp_set_desc(cJSON *o, const struct oci_descriptor *d)
{
	cp_set_str(o, "mediaType", d->media_type);
	cp_set_str(o, "digest", d->digest.str);
	cJSON_ReplaceItemInObjectCaseSensitive(o, "size", cJSON_CreateNumber((double)d->size));
}

/* the compression a layer gets in the destination */
static int cp_layer_target(struct cp *c, int from)
{
	bool docker = c->fmt == OCI_COPY_DOCKER_ARCHIVE;
	int to = c->o->compression >= 0 ? c->o->compression : docker ? OCI_COMPRESS_NONE : from;
	if (docker && to == OCI_COMPRESS_ZSTD) {
		cp_note(c, "a docker-archive cannot carry zstd layers: recompressed to gzip");
		to = OCI_COMPRESS_GZIP;
	}
	return to;
}

static int cp_node(struct cp *c, const struct oci_descriptor *d, struct oci_descriptor *out,
		   int depth, struct oci_error **err);

static int cp_manifest(struct cp *c, const struct oci_descriptor *d, struct oci_descriptor *out,
		       struct oci_error **err)
{
	bool docker = c->fmt == OCI_COPY_DOCKER_ARCHIVE;
	cleanup_free char *buf = NULL, *cbuf = NULL;
	size_t len, clen;
	struct oci_manifest *m = NULL;
	struct oci_config *cfg = NULL;
	int r = oci_blob_read_all(c->src, d, OCI_JSON_MAX, &buf, &len, err);
	if (r == 0 && (r = oci_manifest_parse(buf, len, d->media_type, &m, err)) < 0)
		error_wrap(err, "manifest %s", d->digest.str);
	bool image = r == 0 && oci_media_kind(m->config.media_type) == OCI_MEDIA_CONFIG;
	if (r == 0 && image &&
	    (r = oci_blob_read_all(c->src, &m->config, OCI_JSON_MAX, &cbuf, &clen, err)) == 0 &&
	    (r = oci_config_parse(cbuf, clen, &cfg, err)) < 0)
		error_wrap(err, "config %s", m->config.digest.str);
	if (r == 0 && docker && !image)
		r = error_set(err, OCI_E_UNSUPPORTED, 0,
			      "manifest %s: config %s is not an image config: a docker-archive "
			      "holds only images",
			      d->digest.str, m->config.media_type);
	if (r < 0) {
		oci_manifest_free(m);
		return r;
	}
	cJSON *doc = cJSON_Duplicate(m->root, 1);
	bool changed = false;
	struct oci_descriptor nd = {0};
	/* the config: the same bytes (Docker's fields are a superset of OCI's),
	 * under the destination's name */
	if ((r = cp_blob(c, &m->config, err)) == 0 && image) {
		const char *cmt = docker ? OCI_MT_DOCKER_CONFIG : OCI_MT_CONFIG;
		if (strcmp(cmt, m->config.media_type) != 0) {
			cp_set_str(cJSON_GetObjectItemCaseSensitive(doc, "config"), "mediaType",
				   cmt);
			changed = true;
		}
	}
	if (c->cur) {
		c->cur->config = m->config.digest;
		free(c->cur->layers);
		c->cur->layers = xcalloc(m->n_layers + 1, sizeof(*c->cur->layers));
		c->cur->n_layers = m->n_layers;
	}
	cJSON *litem = cJSON_GetObjectItemCaseSensitive(doc, "layers")->child;
	for (size_t i = 0; r == 0 && i < m->n_layers; i++, litem = litem->next) {
		const struct oci_descriptor *l = &m->layers[i];
		int from = oci_media_layer_compression(l->media_type);
		nd.digest = l->digest;
		nd.size = l->size;
		if (from < 0) { /* not a layer we read: carried as it is */
			r = cp_blob(c, l, err);
		} else {
			int to = cp_layer_target(c, from);
			if (to != from && (!cfg || cfg->n_diff_ids != m->n_layers))
				r = error_set(err, OCI_E_INVALID, 0,
					      "manifest %s: %zu layers but %zu diff_ids: cannot "
					      "recompress",
					      d->digest.str, m->n_layers,
					      cfg ? cfg->n_diff_ids : 0);
			else if (to != from)
				r = cp_recode(c, l, &cfg->diff_ids[i], to, &nd, err);
			else
				r = cp_blob(c, l, err);
			nd.media_type = (char *)cp_layer_mt(docker, to);
			if (r == 0 && (strcmp(nd.media_type, l->media_type) != 0 ||
				       !oci_digest_equal(&nd.digest, &l->digest))) {
				cp_set_desc(litem, &nd);
				changed = true;
			}
		}
		if (c->cur)
			c->cur->layers[i] = nd.digest;
	}
	const char *mt = docker ? OCI_MT_DOCKER_MANIFEST : OCI_MT_MANIFEST;
	const char *had = m->media_type ? m->media_type : d->media_type;
	if (r == 0 && (!had || strcmp(had, mt) != 0 ||
		       (!docker && m->media_type == NULL && oci_media_is_docker(d->media_type)))) {
		changed = true;
		cJSON *sv = cJSON_DetachItemFromObjectCaseSensitive(doc, "schemaVersion");
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "mediaType");
		/* schemaVersion and mediaType first, as every writer puts them */
		cJSON *fresh = cJSON_CreateObject();
		cJSON_AddItemToObject(fresh, "schemaVersion", sv ? sv : cJSON_CreateNumber(2));
		cJSON_AddStringToObject(fresh, "mediaType", mt);
		while (doc->child) {
			cJSON *it = cJSON_DetachItemViaPointer(doc, doc->child);
			cJSON_AddItemToObject(fresh, it->string, it);
		}
		cJSON_Delete(doc);
		doc = fresh;
	}
	oci_descriptor_copy(out, d);
	out->annotations = NULL;
	if (r == 0 && changed) {
		free(out->media_type);
		out->media_type = xstrdup(mt);
		r = cp_put_doc(c, doc, out, err);
	} else if (r == 0) {
		r = cp_blob(c, d, err);
	}
	cJSON_Delete(doc);
	oci_config_free(cfg);
	oci_manifest_free(m);
	if (r < 0)
		oci_descriptor_release(out);
	return r;
}

static int cp_index(struct cp *c, const struct oci_descriptor *d, struct oci_descriptor *out,
		    int depth, struct oci_error **err)
{
	struct oci_index *idx;
	int r = oci_index_load(c->src, d, &idx, err);
	if (r < 0)
		return r;
	if ((r = walk_count(&c->b, d, idx->n_manifests, err)) < 0) {
		oci_index_free(idx);
		return r;
	}
	cJSON *doc = cJSON_Duplicate(idx->root, 1);
	cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, "manifests")->child;
	bool changed = false;
	for (size_t i = 0; r == 0 && i < idx->n_manifests; i++, item = item->next) {
		struct oci_descriptor nd = {0};
		if ((r = cp_node(c, &idx->manifests[i], &nd, depth + 1, err)) < 0)
			break;
		if (strcmp(nd.media_type, idx->manifests[i].media_type) != 0 ||
		    !oci_digest_equal(&nd.digest, &idx->manifests[i].digest)) {
			cp_set_desc(item, &nd);
			changed = true;
		}
		oci_descriptor_release(&nd);
	}
	const char *had = idx->media_type ? idx->media_type : d->media_type;
	if (r == 0 && had && strcmp(had, OCI_MT_INDEX) != 0) {
		cp_set_str(doc, "mediaType", OCI_MT_INDEX);
		changed = true;
	}
	oci_descriptor_copy(out, d);
	out->annotations = NULL;
	if (r == 0 && changed) {
		free(out->media_type);
		out->media_type = xstrdup(OCI_MT_INDEX);
		r = cp_put_doc(c, doc, out, err);
	} else if (r == 0) {
		r = cp_blob(c, d, err);
	}
	cJSON_Delete(doc);
	oci_index_free(idx);
	if (r < 0)
		oci_descriptor_release(out);
	return r;
}

static int cp_node_once(struct cp *c, const struct oci_descriptor *d, struct oci_descriptor *out,
			int depth, struct oci_error **err)
{
	int r;
	switch (oci_media_kind(d->media_type)) {
	case OCI_MEDIA_INDEX:
		if (c->fmt == OCI_COPY_DOCKER_ARCHIVE)
			return error_set(err, OCI_E_UNSUPPORTED, 0,
					 "%s: an index inside an image: a docker-archive holds "
					 "one platform per image",
					 d->digest.str);
		if ((r = walk_enter(&c->b, d, depth, err)) < 0)
			return r;
		return cp_index(c, d, out, depth, err);
	case OCI_MEDIA_MANIFEST:
		if ((r = walk_node(&c->b, d, err)) < 0)
			return r;
		if (oci_cancelled())
			return error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
		return cp_manifest(c, d, out, err);
	default:
		return error_set(err, OCI_E_UNSUPPORTED, 0, "%s: unsupported media type %s",
				 d->digest.str, d->media_type);
	}
}

/* d into the destination, once per run: a document met again (the same
 * bytes under the same media type) becomes what it became the first time */
static int cp_node(struct cp *c, const struct oci_descriptor *d, struct oci_descriptor *out,
		   int depth, struct oci_error **err)
{
	/* a docker-archive has no indexes, and notes each manifest's layers */
	if (c->fmt == OCI_COPY_DOCKER_ARCHIVE)
		return cp_node_once(c, d, out, depth, err);
	cleanup_free char *key = NULL;
	size_t klen = strlen(d->media_type ? d->media_type : "") + OCI_DIGEST_MAX + 48;
	key = xmalloc(klen);
	snprintf(key, klen, "%s %lld %s", d->media_type ? d->media_type : "", (long long)d->size,
		 d->digest.str);
	struct cp_done *dn = pathmap_get(&c->done, key);
	if (!dn) {
		bool before = c->converted;
		c->converted = false;
		int r = cp_node_once(c, d, out, depth, err);
		bool below = c->converted;
		c->converted = before || below;
		if (r < 0)
			return r;
		dn = xcalloc(1, sizeof(*dn));
		oci_descriptor_copy(&dn->out, out);
		dn->converted = below;
		*pathmap_put(&c->done, key) = dn;
		return 0;
	}
	if (oci_cancelled())
		return error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
	oci_descriptor_copy(out, &dn->out);
	c->converted |= dn->converted;
	return 0;
}

/* ---- sources ---- */

static void cp_image_release(struct cp_image *im)
{
	free(im->name);
	free(im->src);
	free(im->ref);
	oci_descriptor_release(&im->src_desc);
	oci_descriptor_release(&im->desc);
	free(im->layers);
}

struct cp_list {
	struct cp_image *v;
	size_t n;
};

static struct cp_image *cp_list_add(struct cp_list *l)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	struct cp_image *im = &l->v[l->n++];
	memset(im, 0, sizeof(*im));
	return im;
}

/* One image: its top (an index kept whole, or the manifest of one platform)
 * into the destination. */
static int cp_one(struct cp *c, struct cp_image *im, struct oci_error **err)
{
	const struct oci_descriptor *top = &im->src_desc;
	struct oci_image *img = NULL;
	int r = 0;
	bool docker = c->fmt == OCI_COPY_DOCKER_ARCHIVE;
	if (oci_media_kind(top->media_type) == OCI_MEDIA_INDEX && (c->o->platform || docker)) {
		/* one platform: the host's for a docker-archive unless named */
		if ((r = oci_image_load(c->src, top, c->o->platform, &img, err)) < 0)
			return r;
		top = &img->desc;
		if (!top->platform) {
			struct oci_descriptor *t = &img->desc;
			t->platform = xcalloc(1, sizeof(*t->platform));
			t->platform->os = xstrdup(img->platform.os);
			t->platform->architecture = xstrdup(img->platform.architecture);
			if (img->platform.variant)
				t->platform->variant = xstrdup(img->platform.variant);
		}
	}
	c->cur = im;
	c->converted = false;
	memset(&c->b, 0, sizeof(c->b));
	r = cp_node(c, top, &im->desc, 0, err);
	im->converted = c->converted;
	c->cur = NULL;
	oci_image_free(img);
	return r;
}

/* A repository name for a source's own refs in a docker-archive ("v1" in
 * layout ./app becomes app:v1): the path's last component without its
 * archive suffix, lowercased, runs of other characters made one '-'. */
static char *cp_repo_name(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	static const char *const sfx[] = {".docker.tar", ".tar.gz", ".tar.zst", ".tgz", ".tar"};
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		size_t k = strlen(sfx[i]);
		if (n > k && strcmp(base + n - k, sfx[i]) == 0) {
			n -= k;
			break;
		}
	}
	char *out = xmalloc(n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = base[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			out[o++] = ch;
		else if (o && out[o - 1] != '-')
			out[o++] = '-';
	}
	while (o && out[o - 1] == '-')
		o--;
	out[o] = 0;
	if (!o || strcmp(path, "-") == 0) {
		free(out);
		return xstrdup("image");
	}
	return out;
}

/* the images a source names: one, or with --all every top-level descriptor */
static int cp_select(struct cp *c, const char *spec, struct oci_layout *l,
		     const struct oci_image_ref *ir, struct cp_list *list, struct oci_error **err)
{
	if (c->o->all) {
		if (ir->ref || ir->has_digest)
			return error_set(err, OCI_E_USAGE, 0,
					 "--all copies every ref: name no "
					 "REF or DIGEST");
		const struct oci_index *idx = oci_layout_index(l);
		if (!idx->n_manifests)
			return error_set(err, OCI_E_NOTFOUND, 0, "no images in it");
		for (size_t i = 0; i < idx->n_manifests; i++) {
			struct cp_image *im = cp_list_add(list);
			im->src = xstrdup(spec);
			im->name = cp_repo_name(ir->path);
			oci_descriptor_copy(&im->src_desc, &idx->manifests[i]);
			im->src_desc.annotations = NULL;
			if (idx->manifests[i].ref_name)
				im->ref = xstrdup(idx->manifests[i].ref_name);
		}
		return 0;
	}
	struct oci_descriptor d = {0};
	int r = oci_layout_select(l, ir, &d, err);
	if (r < 0)
		return r;
	struct cp_image *im = cp_list_add(list);
	im->src = xstrdup(spec);
	im->name = cp_repo_name(ir->path);
	im->src_desc = d;
	im->src_desc.annotations = NULL;
	if (d.ref_name)
		im->ref = xstrdup(d.ref_name);
	else if (ir->ref)
		im->ref = xstrdup(ir->ref);
	return 0;
}

/* ---- the destination's refs ---- */

/* A RepoTag is NAME:TAG; a ref without a tag gets "latest" as docker does. */
static char *cp_repo_tag(const char *ref)
{
	const char *slash = strrchr(ref, '/');
	if (strchr(slash ? slash : ref, ':'))
		return xstrdup(ref);
	return xasprintf("%s:latest", ref);
}

/* docker.io/library/NAME:TAG, as Docker 25 names images in its index.json */
static char *cp_full_name(const char *tag)
{
	const char *slash = strchr(tag, '/');
	if (!slash)
		return xasprintf("docker.io/library/%s", tag);
	cleanup_free char *first = xstrndup(tag, (size_t)(slash - tag));
	if (strchr(first, '.') || strchr(first, ':') || strcmp(first, "localhost") == 0)
		return xstrdup(tag);
	return xasprintf("docker.io/%s", tag);
}

static int cp_put_file(struct cp *c, const char *name, cJSON *doc, struct oci_error **err)
{
	char *s = cJSON_PrintUnformatted(doc);
	if (!s)
		abort();
	int r = archive_out_file(c->ar, name, s, strlen(s), err);
	free(s);
	return r;
}

static int cp_finish_oci_archive(struct cp *c, struct cp_list *l, struct oci_error **err)
{
	cJSON *idx = cJSON_CreateObject();
	cJSON_AddNumberToObject(idx, "schemaVersion", 2);
	cJSON_AddStringToObject(idx, "mediaType", OCI_MT_INDEX);
	cJSON *arr = cJSON_AddArrayToObject(idx, "manifests");
	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(arr, layout_desc_json(&l->v[i].desc, l->v[i].ref, NULL));
	static const char v[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	int r = archive_out_file(c->ar, "oci-layout", v, sizeof(v) - 1, err);
	if (r == 0)
		r = cp_put_file(c, "index.json", idx, err);
	cJSON_Delete(idx);
	return r;
}

/* docker save's shape (Docker 25+): manifest.json naming the config and
 * layers by their blob paths, with RepoTags; index.json and oci-layout */
static int cp_finish_docker(struct cp *c, struct cp_list *l, struct oci_error **err)
{
	cJSON *mj = cJSON_CreateArray();
	cJSON *idx = cJSON_CreateObject();
	cJSON_AddNumberToObject(idx, "schemaVersion", 2);
	cJSON_AddStringToObject(idx, "mediaType", OCI_MT_INDEX);
	cJSON *arr = cJSON_AddArrayToObject(idx, "manifests");
	for (size_t i = 0; i < l->n; i++) {
		struct cp_image *im = &l->v[i];
		/* a ref named in DEST is a name (":latest" added when it has no
		 * tag); a source's own ref without ':' is a tag of the source */
		cleanup_free char *tag = !im->ref ? NULL
					 : im->dest_ref || strchr(im->ref, ':')
					     ? cp_repo_tag(im->ref)
					     : xasprintf("%s:%s", im->name, im->ref);
		cleanup_free char *full = tag ? cp_full_name(tag) : NULL;
		const char *colon = tag ? strrchr(tag, ':') : NULL;
		cJSON_AddItemToArray(arr,
				     layout_desc_json(&im->desc, colon ? colon + 1 : NULL, full));
		/* one entry per image, every tag of it in RepoTags */
		cJSON *e = NULL;
		for (size_t j = 0; j < i && !e; j++)
			if (oci_digest_equal(&l->v[j].desc.digest, &im->desc.digest))
				e = cJSON_GetArrayItem(mj, (int)j);
		if (e) {
			if (tag)
				cJSON_AddItemToArray(
				    cJSON_GetObjectItemCaseSensitive(e, "RepoTags"),
				    cJSON_CreateString(tag));
			cJSON_AddItemToArray(mj, cJSON_CreateNull()); /* keeps indexes aligned */
			continue;
		}
		e = cJSON_CreateObject();
		char *p = xasprintf("blobs/%s/%s", oci_digest_algo_name(im->config.algo),
				    oci_digest_hex(&im->config));
		cJSON_AddStringToObject(e, "Config", p);
		free(p);
		cJSON *tags = cJSON_AddArrayToObject(e, "RepoTags");
		if (tag)
			cJSON_AddItemToArray(tags, cJSON_CreateString(tag));
		cJSON *layers = cJSON_AddArrayToObject(e, "Layers");
		for (size_t k = 0; k < im->n_layers; k++) {
			p = xasprintf("blobs/%s/%s", oci_digest_algo_name(im->layers[k].algo),
				      oci_digest_hex(&im->layers[k]));
			cJSON_AddItemToArray(layers, cJSON_CreateString(p));
			free(p);
		}
		cJSON_AddItemToArray(mj, e);
	}
	/* drop the placeholders */
	for (cJSON *it = mj->child, *next; it; it = next) {
		next = it->next;
		if (cJSON_IsNull(it))
			cJSON_Delete(cJSON_DetachItemViaPointer(mj, it));
	}
	static const char v[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	int r = archive_out_file(c->ar, "oci-layout", v, sizeof(v) - 1, err);
	if (r == 0)
		r = cp_put_file(c, "index.json", idx, err);
	if (r == 0)
		r = cp_put_file(c, "manifest.json", mj, err);
	cJSON_Delete(idx);
	cJSON_Delete(mj);
	return r;
}

/* Every image's ref in the destination layout, in one update of index.json
 * so that a crash leaves all or none. cp_refs_check gave each a valid ref. */
static int cp_set_refs(int dirfd, const struct cp_list *l, struct oci_error **err)
{
	cleanup_free struct oci_ref_edit *ed = xcalloc(l->n + 1, sizeof(*ed));
	for (size_t i = 0; i < l->n; i++)
		ed[i] = (struct oci_ref_edit){.ref = l->v[i].ref, .desc = &l->v[i].desc};
	return oci_layout_edit_refs(dirfd, ed, l->n, err);
}

int oci_copy_delete_ref(const char *spec, struct oci_error **err)
{
	struct oci_image_ref ir;
	int r = oci_image_ref_parse(spec, &ir, err);
	if (r < 0)
		return r;
	if (!ir.ref || ir.has_digest) {
		r = error_set(err, OCI_E_USAGE, 0, "%s: name the ref to delete as DIR:REF", spec);
	} else {
		struct stat st;
		int fd = -1;
		if (lstat(ir.path, &st) < 0)
			r = error_set(err, OCI_E_IO, errno, "%s", ir.path);
		else if (!S_ISDIR(st.st_mode))
			r = error_set(err, OCI_E_USAGE, 0,
				      "%s: not a layout directory (an archive is never changed in "
				      "place)",
				      ir.path);
		else if ((fd = open(ir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			r = error_set(err, OCI_E_IO, errno, "%s", ir.path);
		else if ((r = oci_layout_edit_refs(fd, &(struct oci_ref_edit){.ref = ir.ref}, 1,
						   err)) < 0)
			error_wrap(err, "%s", ir.path);
		if (fd >= 0)
			close(fd);
	}
	oci_image_ref_release(&ir);
	return r;
}

/* ---- the copy ---- */

static bool cp_same_dir(const char *a, int bfd)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && fstat(bfd, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static int cp_refs_check(struct cp *c, struct cp_list *l, const char *dref, struct oci_error **err)
{
	if (dref) {
		if (l->n != 1)
			return error_set(err, OCI_E_USAGE, 0,
					 "%zu images but one destination ref \"%s\": name no ref "
					 "to keep each image's own",
					 l->n, dref);
		free(l->v[0].ref);
		l->v[0].ref = xstrdup(dref);
		l->v[0].dest_ref = true;
	}
	for (size_t i = 0; i < l->n; i++) {
		const char *ref = l->v[i].ref;
		if (!ref) {
			if (c->fmt == OCI_COPY_LAYOUT)
				return error_set(err, OCI_E_USAGE, 0,
						 "%s: the image has no ref: name one as DEST:REF",
						 l->v[i].src);
			continue;
		}
		if (!oci_ref_name_valid(ref))
			return error_set(err, OCI_E_USAGE, 0,
					 "ref \"%s\": not a valid ref name (image-spec: "
					 "[A-Za-z0-9]+ joined by - . _ : @ + -- and /)",
					 ref);
		for (size_t j = 0; j < i; j++)
			if (l->v[j].ref && strcmp(l->v[j].ref, ref) == 0)
				return error_set(err, OCI_E_USAGE, 0,
						 "ref \"%s\" given to two images (%s and %s)", ref,
						 l->v[j].src, l->v[i].src);
	}
	return 0;
}

static void cp_result(struct cp *c, struct cp_list *l)
{
	struct oci_copy_result *res = c->res;
	res->images = xcalloc(l->n + 1, sizeof(*res->images));
	for (size_t i = 0; i < l->n; i++) {
		struct oci_copy_image *o = &res->images[i];
		o->src = l->v[i].src;
		l->v[i].src = NULL;
		o->ref = l->v[i].ref;
		l->v[i].ref = NULL;
		o->src_digest = l->v[i].src_desc.digest;
		o->digest = l->v[i].desc.digest;
		o->media_type = xstrdup(l->v[i].desc.media_type);
		o->converted = l->v[i].converted;
	}
	res->n_images = l->n;
}

/* Every source's images into the destination. Sources are held open until
 * the end, each image copied with its own layout as the source. */
static int cp_run(struct cp *c, const char *dpath, const char *dref, struct cp_list *l,
		  struct oci_error **err)
{
	const struct oci_copy_opts *o = c->o;
	struct oci_layout **srcs = xcalloc(o->n_srcs + 1, sizeof(*srcs));
	size_t *first = xcalloc(o->n_srcs + 1, sizeof(*first));
	bool created = false;
	int r = 0;
	for (size_t i = 0; r == 0 && i < o->n_srcs; i++) {
		struct oci_image_ref ir;
		if ((r = oci_image_ref_parse(o->srcs[i], &ir, err)) < 0) {
			error_wrap(err, "%s", o->srcs[i]);
			break;
		}
		first[i] = l->n;
		if ((r = oci_layout_open(ir.path, &srcs[i], err)) < 0 ||
		    (r = cp_select(c, o->srcs[i], srcs[i], &ir, l, err)) < 0)
			error_wrap(err, "%s", o->srcs[i]);
		oci_image_ref_release(&ir);
	}
	first[o->n_srcs] = l->n;
	if (r == 0)
		r = cp_refs_check(c, l, dref, err);
	/* the destination, only once every source has opened */
	if (r == 0 && c->fmt == OCI_COPY_LAYOUT) {
		struct stat st;
		created = lstat(dpath, &st) < 0;
		if ((r = oci_layout_create(dpath, &c->dfd, err)) < 0)
			created = false;
	} else if (r == 0) {
		r = archive_out_open(dpath, &c->ar, err);
	}
	/* a tag: the same layout, nothing to convert */
	if (r == 0 && c->fmt == OCI_COPY_LAYOUT && o->n_srcs == 1 && !o->platform &&
	    o->compression < 0 && oci_layout_kind(srcs[0]) == OCI_LAYOUT_DIR &&
	    cp_same_dir(oci_layout_path(srcs[0]), c->dfd)) {
		c->res->tag_only = true;
		for (size_t i = 0; i < l->n; i++)
			oci_descriptor_copy(&l->v[i].desc, &l->v[i].src_desc);
		r = cp_set_refs(c->dfd, l, err);
		goto out;
	}
	for (size_t s = 0; r == 0 && s < o->n_srcs; s++) {
		c->src = srcs[s];
		for (size_t i = first[s]; r == 0 && i < first[s + 1]; i++)
			if ((r = cp_one(c, &l->v[i], err)) < 0)
				error_wrap(err, "%s", l->v[i].src);
	}
	c->src = NULL;
	if (r == 0 && oci_cancelled())
		r = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
	if (r == 0 && c->fmt == OCI_COPY_LAYOUT)
		r = cp_set_refs(c->dfd, l, err);
	else if (r == 0)
		r = c->fmt == OCI_COPY_DOCKER_ARCHIVE ? cp_finish_docker(c, l, err)
						      : cp_finish_oci_archive(c, l, err);
	if (r == 0 && c->ar)
		r = archive_out_commit(c->ar, err);
out:
	for (size_t i = 0; i < o->n_srcs; i++)
		oci_layout_free(srcs[i]);
	free(srcs);
	free(first);
	if (r < 0 && created) {
		/* a layout this failed copy made holds nothing anyone wants */
		if (c->dfd >= 0) {
			close(c->dfd);
			c->dfd = -1;
		}
		inroot_remove_path(dpath);
	}
	return r;
}

int oci_copy(const struct oci_copy_opts *o, struct oci_copy_result *res, struct oci_error **err)
{
	memset(res, 0, sizeof(*res));
	if (!o->n_srcs)
		return error_set(err, OCI_E_USAGE, 0, "nothing to copy");
	struct cp c = {.o = o, .res = res, .dfd = -1};
	pathmap_init(&c.done);
	cleanup_free char *dpath = NULL, *dref = NULL;
	int r = cp_split_dest(o->dest, &dpath, &dref, err);
	if (r < 0)
		return r;
	c.fmt = o->format ? o->format : oci_copy_guess_format(dpath);
	res->format = c.fmt;
	if (c.fmt == OCI_COPY_LAYOUT && strcmp(dpath, "-") == 0)
		return error_set(err, OCI_E_USAGE, 0,
				 "-: a layout is a directory; standard output takes an archive");
	struct cp_list l = {0};
	r = cp_run(&c, dpath, dref, &l, err);
	if (r == 0)
		cp_result(&c, &l);
	for (size_t i = 0; i < l.n; i++)
		cp_image_release(&l.v[i]);
	free(l.v);
	free(c.recodes);
	pathmap_release(&c.done, cp_done_free);
	archive_out_free(c.ar);
	if (c.dfd >= 0)
		close(c.dfd);
	return r;
}

void oci_copy_result_release(struct oci_copy_result *res)
{
	for (size_t i = 0; i < res->n_images; i++) {
		free(res->images[i].src);
		free(res->images[i].ref);
		free(res->images[i].media_type);
	}
	free(res->images);
	for (size_t i = 0; i < res->n_notes; i++)
		free(res->notes[i]);
	free(res->notes);
	memset(res, 0, sizeof(*res));
}
