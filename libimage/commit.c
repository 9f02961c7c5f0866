/* oci_commit: the new layer (from a changeset, a tree or a ready tar), then
 * the config and the manifest that name it, then (for a parent chosen from
 * an index) a new index with that platform replaced, and last the ref. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <oci/commit.h>
#include <oci/layout_write.h>
#include "compress.h"
#include "internal.h"
#include "layout_int.h"
#include "inroot.h"
#include "pathmap.h"
#include "snapshot_int.h"
#include "walk.h"
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>

struct commit {
	const struct oci_commit_opts *o;
	int dfd; /* destination layout */
	struct oci_image_ref dest;
	struct oci_layout *play;
	struct oci_image *parent;
	bool same_layout;
	char created[40];
	/* the parent index's rewrite, once per distinct document however many
	 * indexes name it: "media type size digest" -> struct commit_done */
	struct pathmap done;
	struct pathmap copied; /* manifests and blobs copied: the same keys -> a mark */
	struct walk_bounds b;
};

struct commit_done {
	bool changed;
	struct oci_descriptor out; /* when changed: the rewritten index */
};

static void commit_done_free(void *v)
{
	struct commit_done *dn = v;
	free(dn->out.media_type);
	free(dn);
}

static void commit_created(struct commit *c)
{
	time_t t = c->o->timestamp >= 0 ? (time_t)c->o->timestamp : time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(c->created, sizeof(c->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- the layer ---- */

struct copy_sink {
	int fd;
	struct oci_hash *digest;
	int64_t size;
};

static int sink_write(void *arg, const void *buf, size_t len, struct oci_error **err)
{
	struct copy_sink *s = arg;
	oci_hash_update(s->digest, buf, len);
	for (size_t done = 0; done < len;) {
		ssize_t n = write(s->fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(err, OCI_E_IO, errno, "write layer");
		done += (size_t)n;
	}
	s->size += (int64_t)len;
	return 0;
}

/* A ready layer tar: kept as it is when compressed (its diff_id found by
 * inflating it), compressed as asked when plain. */
static int commit_layer_file(struct commit *c, int out_fd, struct oci_layer_result *res,
			     int *compression, struct oci_error **err)
{
	const char *path = c->o->layer_file;
	int in = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return error_set(err, OCI_E_IO, errno, "%s", path);
	size_t bufsz = 1 << 20;
	uint8_t *buf = xmalloc(bufsz), *out = xmalloc(bufsz);
	struct copy_sink sink = {.fd = out_fd, .digest = oci_hash_new(OCI_DIGEST_SHA256)};
	struct oci_hash *diff = oci_hash_new(OCI_DIGEST_SHA256);
	struct decoder *dec = NULL;
	struct encoder *enc = NULL;
	int r = 0;
	ssize_t n = read_full(in, buf, bufsz);
	if (n < 0) {
		r = error_set(err, OCI_E_IO, errno, "%s: read", path);
		goto out;
	}
	int comp = compress_sniff(buf, (size_t)n);
	*compression = comp;
	if (comp != OCI_COMPRESS_NONE)
		dec = decoder_new(comp);
	else
		enc = encoder_new(c->o->compression, c->o->level, sink_write, &sink),
		*compression = c->o->compression;
	while (n > 0) {
		if (dec) {
			if ((r = sink_write(&sink, buf, (size_t)n, err)) < 0)
				goto out;
			const uint8_t *ip = buf;
			size_t il = (size_t)n;
			while (il > 0) {
				uint8_t *op = out;
				size_t ol = bufsz;
				if ((r = decoder_run(dec, &ip, &il, &op, &ol, err)) < 0) {
					error_wrap(err, "%s", path);
					goto out;
				}
				oci_hash_update(diff, out, bufsz - ol);
				if (ol == bufsz && il > 0 && ip == buf) {
					r = error_set(err, OCI_E_INVALID, 0,
						      "%s: decompression stalled", path);
					goto out;
				}
			}
		} else {
			oci_hash_update(diff, buf, (size_t)n);
			if ((r = encoder_write(enc, buf, (size_t)n, err)) < 0)
				goto out;
		}
		n = read_full(in, buf, bufsz);
		if (n < 0) {
			r = error_set(err, OCI_E_IO, errno, "%s: read", path);
			goto out;
		}
	}
	if (dec) {
		/* flush what the decoder still holds */
		for (;;) {
			const uint8_t *ip = buf;
			size_t il = 0;
			uint8_t *op = out;
			size_t ol = bufsz;
			if ((r = decoder_run(dec, &ip, &il, &op, &ol, err)) < 0)
				goto out;
			if (ol == bufsz)
				break;
			oci_hash_update(diff, out, bufsz - ol);
		}
		if (!decoder_at_end(dec)) {
			r = error_set(err, OCI_E_INVALID, 0, "%s: truncated compressed stream",
				      path);
			goto out;
		}
	} else if ((r = encoder_finish(enc, err)) < 0) {
		goto out;
	}
	oci_hash_final(diff, &res->diff_id);
	oci_hash_final(sink.digest, &res->digest);
	res->size = sink.size;
out:
	if (in > 0)
		close(in);
	free(buf);
	free(out);
	oci_hash_free(sink.digest);
	oci_hash_free(diff);
	decoder_free(dec);
	encoder_free(enc);
	return r;
}

/* A ready layer must be a tar to its end: read it back (from the temporary
 * blob) through the same verified reader as every other layer. */
static int commit_check_layer(struct commit *c, int fd, int compression,
			      struct oci_layer_result *res, struct oci_error **err)
{
	(void)c;
	struct oci_descriptor d = {
	    .media_type = (char *)(compression == OCI_COMPRESS_GZIP   ? OCI_MT_LAYER_GZIP
				   : compression == OCI_COMPRESS_ZSTD ? OCI_MT_LAYER_ZSTD
								      : OCI_MT_LAYER),
	    .digest = res->digest,
	    .size = res->size};
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/self/fd/%d", fd);
	/* a one-blob view of the temporary file */
	struct oci_layout *l = NULL;
	int r = layout_open_single_blob(dir, &d, &l, err);
	if (r < 0)
		return r;
	struct oci_layer_reader *lr;
	if ((r = oci_layer_open(l, &d, &res->diff_id, &lr, err)) == 0) {
		struct archive_entry *e;
		size_t n = 0;
		while ((r = oci_layer_next(lr, &e, err)) > 0)
			n++;
		res->entries = n;
		oci_layer_free(lr);
	}
	oci_layout_free(l);
	if (r < 0)
		return error_wrap(err, "%s: not a layer tar", c->o->layer_file);
	return 0;
}

/* ---- the config ---- */

bool oci_annotation_undefined(const char *key)
{
	static const char ns[] = "org.opencontainers.image.";
	/* annotations.md's keys, then those conversion.md derives from a config */
	static const char *const defined[] = {
	    "created",	   "authors",	"url",	      "documentation", "source",  "version",
	    "revision",	   "vendor",	"licenses",   "ref.name",      "title",	  "description",
	    "base.digest", "base.name", "os",	      "architecture",  "variant", "os.version",
	    "os.features", "author",	"stopSignal", "exposedPorts",
	};
	if (strncmp(key, ns, sizeof(ns) - 1) != 0)
		return false;
	for (size_t i = 0; i < sizeof(defined) / sizeof(defined[0]); i++)
		if (strcmp(key + sizeof(ns) - 1, defined[i]) == 0)
			return false;
	return true;
}

static cJSON *commit_args(const char *s, struct oci_error **err)
{
	cJSON *a;
	if (s[0] == '[') {
		if (oci_json_parse(s, strlen(s), &a, err) < 0)
			return NULL;
		const cJSON *e;
		bool ok = cJSON_IsArray(a);
		cJSON_ArrayForEach (e, a)
			ok = ok && cJSON_IsString(e);
		if (!ok) {
			cJSON_Delete(a);
			error_set(err, OCI_E_USAGE, 0, "%s: not a JSON array of strings", s);
			return NULL;
		}
		return a;
	}
	a = cJSON_CreateArray();
	cJSON_AddItemToArray(a, cJSON_CreateString("/bin/sh"));
	cJSON_AddItemToArray(a, cJSON_CreateString("-c"));
	cJSON_AddItemToArray(a, cJSON_CreateString(s));
	return a;
}

static cJSON *commit_obj(cJSON *parent, const char *key)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, key);
	if (!cJSON_IsObject(o)) {
		cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
		o = cJSON_AddObjectToObject(parent, key);
	}
	return o;
}

static void commit_set_str(cJSON *o, const char *key, const char *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddStringToObject(o, key, v);
}

static int commit_edit_config(struct commit *c, cJSON *cfg, struct oci_error **err)
{
	const struct oci_commit_opts *o = c->o;
	cJSON *cc = commit_obj(cfg, "config");
	if (o->entrypoint) {
		cJSON *a = commit_args(o->entrypoint, err);
		if (!a)
			return error_wrap(err, "--entrypoint");
		cJSON_DeleteItemFromObjectCaseSensitive(cc, "Entrypoint");
		cJSON_AddItemToObject(cc, "Entrypoint", a);
	}
	if (o->cmd) {
		cJSON *a = commit_args(o->cmd, err);
		if (!a)
			return error_wrap(err, "--cmd");
		cJSON_DeleteItemFromObjectCaseSensitive(cc, "Cmd");
		cJSON_AddItemToObject(cc, "Cmd", a);
	}
	for (const char *const *e = o->env; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq || eq == *e)
			return error_set(err, OCI_E_USAGE, 0, "--env %s: expected K=V", *e);
		cJSON *env = cJSON_GetObjectItemCaseSensitive(cc, "Env");
		if (!cJSON_IsArray(env)) {
			cJSON_DeleteItemFromObjectCaseSensitive(cc, "Env");
			env = cJSON_AddArrayToObject(cc, "Env");
		}
		size_t kl = (size_t)(eq - *e) + 1;
		bool replaced = false;
		cJSON *it;
		cJSON_ArrayForEach (it, env) {
			if (cJSON_IsString(it) && strncmp(it->valuestring, *e, kl) == 0) {
				cJSON_SetValuestring(it, *e);
				replaced = true;
			}
		}
		if (!replaced)
			cJSON_AddItemToArray(env, cJSON_CreateString(*e));
	}
	if (o->workdir)
		commit_set_str(cc, "WorkingDir", o->workdir);
	if (o->user)
		commit_set_str(cc, "User", o->user);
	if (o->stop_signal)
		commit_set_str(cc, "StopSignal", o->stop_signal);
	if (o->n_labels) {
		cJSON *l = commit_obj(cc, "Labels");
		for (size_t i = 0; i < o->n_labels; i++)
			commit_set_str(l, o->labels[i].key, o->labels[i].value);
	}
	for (const char *const *p = o->expose; p && *p; p++) {
		cJSON *ports = commit_obj(cc, "ExposedPorts");
		char port[128];
		snprintf(port, sizeof(port), "%s%s", *p, strchr(*p, '/') ? "" : "/tcp");
		cJSON_DeleteItemFromObjectCaseSensitive(ports, port);
		cJSON_AddObjectToObject(ports, port);
	}
	for (const char *const *v = o->volumes; v && *v; v++) {
		cJSON *vols = commit_obj(cc, "Volumes");
		cJSON_DeleteItemFromObjectCaseSensitive(vols, *v);
		cJSON_AddObjectToObject(vols, *v);
	}
	if (o->author)
		commit_set_str(cfg, "author", o->author);
	commit_set_str(cfg, "created", c->created);
	return 0;
}

static cJSON *commit_scratch_config(struct commit *c)
{
	struct oci_platform host = {0};
	const struct oci_platform *p = c->o->platform;
	if (!p) {
		oci_platform_host(&host);
		p = &host;
	}
	cJSON *cfg = cJSON_CreateObject();
	cJSON_AddStringToObject(cfg, "architecture", p->architecture);
	cJSON_AddStringToObject(cfg, "os", p->os);
	if (p->variant)
		cJSON_AddStringToObject(cfg, "variant", p->variant);
	cJSON_AddObjectToObject(cfg, "config");
	cJSON *rootfs = cJSON_AddObjectToObject(cfg, "rootfs");
	cJSON_AddStringToObject(rootfs, "type", "layers");
	cJSON_AddArrayToObject(rootfs, "diff_ids");
	cJSON_AddArrayToObject(cfg, "history");
	oci_platform_release(&host);
	return cfg;
}

/* ---- documents and blobs ---- */

/* A layer's OCI media type: a Docker parent's layers are re-described (same
 * blob, same digest) under the OCI name of their compression, so that the
 * child is OCI through and through (skopeo, umoci and buildah refuse a
 * Docker manifest in an OCI layout, and an OCI manifest naming Docker
 * layers is neither). */
static const char *commit_layer_mt(const char *mt, int compression)
{
	if (mt && !oci_media_is_docker(mt))
		return mt;
	if (mt)
		compression = oci_media_layer_compression(mt);
	return compression == OCI_COMPRESS_GZIP	  ? OCI_MT_LAYER_GZIP
	       : compression == OCI_COMPRESS_ZSTD ? OCI_MT_LAYER_ZSTD
						  : OCI_MT_LAYER;
}

/* the platform a manifest is for, from its config (index.json says it) */
static void commit_platform(const cJSON *cfg, struct oci_platform *p)
{
	const cJSON *os = cJSON_GetObjectItemCaseSensitive(cfg, "os");
	const cJSON *arch = cJSON_GetObjectItemCaseSensitive(cfg, "architecture");
	const cJSON *var = cJSON_GetObjectItemCaseSensitive(cfg, "variant");
	const cJSON *osv = cJSON_GetObjectItemCaseSensitive(cfg, "os.version");
	memset(p, 0, sizeof(*p));
	if (!cJSON_IsString(os) || !cJSON_IsString(arch) || !*os->valuestring ||
	    !*arch->valuestring)
		return;
	p->os = xstrdup(os->valuestring);
	p->architecture = xstrdup(arch->valuestring);
	if (cJSON_IsString(var) && *var->valuestring)
		p->variant = xstrdup(var->valuestring);
	if (cJSON_IsString(osv) && *osv->valuestring)
		p->os_version = xstrdup(osv->valuestring);
}

static cJSON *commit_desc_json(const struct oci_descriptor *d)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mediaType", d->media_type);
	cJSON_AddStringToObject(o, "digest", d->digest.str);
	cJSON_AddNumberToObject(o, "size", (double)d->size);
	if (d->annotations)
		cJSON_AddItemToObject(o, "annotations", cJSON_Duplicate(d->annotations, 1));
	return o;
}

static int commit_put_json(struct commit *c, cJSON *doc, struct oci_digest *out, int64_t *size,
			   struct oci_error **err)
{
	char *s = cJSON_PrintUnformatted(doc);
	if (!s)
		abort();
	*size = (int64_t)strlen(s);
	int r = oci_blob_put(c->dfd, s, strlen(s), out, err);
	free(s);
	return r;
}

static char *commit_key(const struct oci_descriptor *d)
{
	const char *mt = d->media_type ? d->media_type : "";
	size_t n = strlen(mt) + OCI_DIGEST_MAX + 48;
	char *key = xmalloc(n);
	snprintf(key, n, "%s %lld %s", mt, (long long)d->size, d->digest.str);
	return key;
}

/* a manifest (its config and layers) or another blob an index names, copied
 * into the destination once */
static int commit_copy_leaf(struct commit *c, const struct oci_descriptor *d,
			    struct oci_error **err)
{
	if (c->same_layout)
		return 0;
	cleanup_free char *key = commit_key(d);
	static char mark;
	void **slot = pathmap_put(&c->copied, key);
	if (*slot)
		return 0;
	int r = walk_node(&c->b, d, err);
	if (r == 0 && oci_cancelled())
		r = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
	if (r == 0)
		r = oci_blob_copy(c->play, d, c->dfd, err);
	if (r == 0 && oci_media_kind(d->media_type) == OCI_MEDIA_MANIFEST) {
		cleanup_free char *buf = NULL;
		size_t len;
		struct oci_manifest *m = NULL;
		if ((r = oci_blob_read_all(c->play, d, OCI_JSON_MAX, &buf, &len, err)) == 0 &&
		    (r = oci_manifest_parse(buf, len, d->media_type, &m, err)) < 0)
			error_wrap(err, "manifest %s", d->digest.str);
		if (r == 0)
			r = oci_blob_copy(c->play, &m->config, c->dfd, err);
		for (size_t i = 0; r == 0 && i < m->n_layers; i++)
			r = oci_blob_copy(c->play, &m->layers[i], c->dfd, err);
		oci_manifest_free(m);
	}
	if (r == 0)
		*slot = &mark;
	return r;
}

/* A new index like old, with target replaced by repl (in nested indexes
 * too). *changed says whether target was found below old. An index left
 * unchanged is copied as it is, bytes and digest, with everything below it.
 * Each distinct index is read and rewritten once: met again through another
 * path, it becomes what it became the first time. */
static int commit_rewrite_index(struct commit *c, const struct oci_descriptor *old,
				const struct oci_digest *target, const struct oci_descriptor *repl,
				struct oci_descriptor *out, bool *changed, int depth,
				struct oci_error **err)
{
	*changed = false;
	cleanup_free char *key = commit_key(old);
	struct commit_done *dn = pathmap_get(&c->done, key);
	if (dn) {
		if (oci_cancelled())
			return error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
		*changed = dn->changed;
		if (dn->changed) {
			*out = dn->out;
			out->media_type = xstrdup(dn->out.media_type);
		}
		return 0;
	}
	int r = walk_enter(&c->b, old, depth, err);
	if (r < 0)
		return r;
	struct oci_index *idx;
	if ((r = oci_index_load(c->play, old, &idx, err)) < 0)
		return r;
	if ((r = walk_count(&c->b, old, idx->n_manifests, err)) < 0) {
		oci_index_free(idx);
		return r;
	}
	cJSON *doc = cJSON_Duplicate(idx->root, 1);
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "manifests");
	cJSON *item = arr->child;
	for (size_t i = 0; r == 0 && i < idx->n_manifests; i++, item = item->next) {
		const struct oci_descriptor *d = &idx->manifests[i];
		struct oci_descriptor nd = {0};
		bool sub = false;
		if (oci_digest_equal(&d->digest, target)) {
			nd = *repl;
			sub = true;
		} else if (oci_media_kind(d->media_type) == OCI_MEDIA_INDEX) {
			r = commit_rewrite_index(c, d, target, repl, &nd, &sub, depth + 1, err);
		} else {
			r = commit_copy_leaf(c, d, err);
		}
		if (r == 0 && sub) {
			*changed = true;
			cJSON_ReplaceItemInObjectCaseSensitive(item, "mediaType",
							       cJSON_CreateString(nd.media_type));
			cJSON_ReplaceItemInObjectCaseSensitive(item, "digest",
							       cJSON_CreateString(nd.digest.str));
			cJSON_ReplaceItemInObjectCaseSensitive(item, "size",
							       cJSON_CreateNumber((double)nd.size));
		}
		if (sub && nd.media_type != repl->media_type)
			free(nd.media_type);
	}
	if (r == 0 && *changed) {
		/* a Docker manifest list that now holds an OCI manifest is an OCI
		 * index (its other manifests kept as they are, byte for byte) */
		out->media_type = xstrdup(OCI_MT_INDEX);
		cJSON *fresh = cJSON_CreateObject();
		cJSON *sv = cJSON_DetachItemFromObjectCaseSensitive(doc, "schemaVersion");
		cJSON_AddItemToObject(fresh, "schemaVersion", sv ? sv : cJSON_CreateNumber(2));
		cJSON_AddStringToObject(fresh, "mediaType", OCI_MT_INDEX);
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "mediaType");
		while (doc->child) {
			cJSON *it = cJSON_DetachItemViaPointer(doc, doc->child);
			cJSON_AddItemToObject(fresh, it->string, it);
		}
		cJSON_Delete(doc);
		doc = fresh;
		r = commit_put_json(c, doc, &out->digest, &out->size, err);
	} else if (r == 0 && !c->same_layout) {
		/* untouched: kept as it is, bytes and digest */
		r = oci_blob_copy(c->play, old, c->dfd, err);
	}
	cJSON_Delete(doc);
	oci_index_free(idx);
	if (r == 0) {
		dn = xcalloc(1, sizeof(*dn));
		dn->changed = *changed;
		if (*changed) {
			dn->out = *out;
			dn->out.media_type = xstrdup(out->media_type);
		}
		*pathmap_put(&c->done, key) = dn;
	} else if (*changed) {
		free(out->media_type);
		out->media_type = NULL;
	}
	return r;
}

/* ---- the source ---- */

/* A source directory that is an image layout, or that holds the destination,
 * would commit the layout into itself (its own temporary blob included):
 * refused before anything is written. Compared by device and inode, from
 * the destination (or its closest existing ancestor) up to the root, so
 * that no spelling of a path (symlinks, "..", bind mounts) slips by. */
static int commit_check_source(const char *src, const char *dest, struct oci_error **err)
{
	int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return error_set(err, OCI_E_IO, errno, "source %s", src);
	struct stat s, x;
	bool layout = fstatat(sfd, "oci-layout", &x, AT_SYMLINK_NOFOLLOW) == 0 ||
		      (fstatat(sfd, "index.json", &x, AT_SYMLINK_NOFOLLOW) == 0 &&
		       fstatat(sfd, "blobs", &x, AT_SYMLINK_NOFOLLOW) == 0);
	int r = fstat(sfd, &s) < 0 ? error_set(err, OCI_E_IO, errno, "source %s", src) : 0;
	close(sfd);
	if (r < 0)
		return r;
	if (layout)
		return error_set(err, OCI_E_USAGE, 0,
				 "source %s is an image layout, not a directory or bundle to "
				 "commit",
				 src);
	cleanup_free char *p = xstrdup(dest);
	for (;;) {
		struct stat d;
		if (stat(p, &d) == 0) {
			if (d.st_dev == s.st_dev && d.st_ino == s.st_ino)
				return error_set(err, OCI_E_USAGE, 0,
						 "source %s contains the destination %s", src,
						 dest);
			if (strcmp(p, "/") == 0)
				return 0;
			char *q = xasprintf("%s/..", p);
			free(p);
			p = q;
			struct stat up;
			if (stat(p, &up) == 0 && up.st_dev == d.st_dev && up.st_ino == d.st_ino)
				return 0; /* the root: its parent is itself */
			continue;
		}
		if (errno != ENOENT && errno != ENOTDIR)
			return error_set(err, OCI_E_IO, errno, "%s", p);
		/* not there yet: where it would be made */
		char *slash = strrchr(p, '/');
		while (slash && slash > p && slash[1] == 0) { /* trailing slashes */
			*slash = 0;
			slash = strrchr(p, '/');
		}
		if (!slash) {
			free(p);
			p = xstrdup(".");
		} else if (slash == p) {
			p[1] = 0;
		} else {
			*slash = 0;
		}
	}
}

/* ---- the bundle's record ---- */

/* After a bundle's commit its record describes the committed image: the
 * rootfs as it is now (the changeset's after-walk, whose unchanged entries
 * already took what the old record knew), the new manifest and config, and
 * the destination as source. So the next step's commit holds only that
 * step's changes. Written under a temporary name and renamed, so a crash
 * leaves the old record or the new one, never a mix. */
static int commit_update_record(struct commit *c, struct oci_changeset *cs,
				const struct oci_snapshot *old, const struct oci_digest *config,
				struct oci_commit_result *res, struct oci_error **err)
{
	const struct oci_commit_opts *o = c->o;
	struct oci_changeset *own = NULL;
	int r;
	if (!cs) { /* --squash wrote the tree without one */
		struct oci_diff_opts dopts = {0};
		if ((r = oci_changeset_bundle(o->bundle, &dopts, &own, err)) < 0)
			return r;
		cs = own;
	}
	struct oci_snapshot *s = cs->after;
	/* rootless: what we created is root's in the image, as the layer says */
	for (size_t i = 0; cs->ignore_owner && i < cs->n; i++) {
		struct oci_snap_entry *e = cs->c[i].after;
		if (cs->c[i].kind != OCI_CHANGE_ADDED || !e)
			continue;
		if (e->uid == getuid())
			e->uid = 0;
		if (e->gid == getgid())
			e->gid = 0;
	}
	r = snapshot_complete(cs->after_fd, s, err);
	char abs[PATH_MAX];
	if (r == 0 && !realpath(c->dest.path, abs))
		r = error_set(err, OCI_E_IO, errno, "%s", c->dest.path);
	int bfd = -1;
	if (r == 0 && (bfd = open(o->bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = error_set(err, OCI_E_IO, errno, "%s", o->bundle);
	if (r == 0) {
		free(s->source);
		s->source = xasprintf("%s:%s", abs, c->dest.ref);
		s->manifest = res->manifest;
		s->config = *config;
		s->rootless = old ? old->rootless : cs->before->rootless;
		r = oci_snapshot_write(s, bfd, OCI_BUNDLE_RECORD, err);
	}
	if (bfd >= 0)
		close(bfd);
	oci_changeset_free(own);
	if (r < 0)
		error_wrap(err,
			   "%s: committed as %s, but its record was not updated (the next "
			   "commit from it would repeat this one's changes)",
			   o->bundle, res->manifest.str);
	return r;
}

int oci_commit(const struct oci_commit_opts *o, struct oci_commit_result *res,
	       struct oci_error **err)
{
	struct commit c = {.o = o, .dfd = -1};
	pathmap_init(&c.done);
	pathmap_init(&c.copied);
	memset(res, 0, sizeof(*res));
	commit_created(&c);
	int r = oci_image_ref_parse(o->dest, &c.dest, err);
	if (r < 0)
		return r;
	struct oci_changeset *cs = NULL;
	struct oci_snapshot *rec = NULL;
	cJSON *cfg = NULL, *man = NULL;
	char *tmpname = NULL;
	int tmpfd = -1;
	char *from = NULL;
	bool created = false;
	struct oci_descriptor newtop = {0};
	struct oci_platform plat = {0};
	if (!c.dest.ref) {
		r = error_set(err, OCI_E_USAGE, 0, "the destination needs a :REF");
		goto out;
	}
	if ((r = oci_ref_name_check(c.dest.ref, err)) < 0)
		goto out;
	if ((o->bundle || o->dir) &&
	    (r = commit_check_source(o->bundle ? o->bundle : o->dir, c.dest.path, err)) < 0)
		goto out;
	/* the parent: --from, or where the bundle came from */
	const char *from_spec = o->from;
	if (!from_spec && o->bundle) {
		int bfd = open(o->bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (bfd < 0) {
			r = error_set(err, OCI_E_IO, errno, "%s", o->bundle);
			goto out;
		}
		r = oci_snapshot_load(bfd, OCI_BUNDLE_RECORD, &rec, err);
		close(bfd);
		if (r < 0) {
			error_wrap(err, "%s: not a bundle made by oci-unpack", o->bundle);
			goto out;
		}
		struct oci_image_ref sr;
		if (!rec->source || strcmp(rec->source, "-") == 0 || !rec->manifest.algo ||
		    oci_image_ref_parse(rec->source, &sr, NULL) < 0 || strcmp(sr.path, "-") == 0) {
			r = error_set(
			    err, OCI_E_USAGE, 0,
			    "%s: unpacked from stdin or an unknown image: name the parent "
			    "with --from",
			    o->bundle);
			goto out;
		}
		from = xasprintf("%s@%s", sr.path, rec->manifest.str);
		oci_image_ref_release(&sr);
		from_spec = from;
	}
	if (from_spec) {
		if ((r = oci_image_open(from_spec, o->platform, &c.play, &c.parent, err)) < 0) {
			error_wrap(err, "parent %s", from_spec);
			goto out;
		}
		if (from == from_spec) {
			/* unpacked from an index? Then the parent is that index, entered at
			 * this manifest's platform, so that the round trip keeps the index */
			struct oci_layout *l2 = NULL;
			struct oci_image *p2 = NULL;
			if (oci_image_open(rec->source, &c.parent->platform, &l2, &p2, NULL) == 0 &&
			    oci_digest_equal(&p2->desc.digest, &c.parent->desc.digest)) {
				oci_image_free(c.parent);
				oci_layout_free(c.play);
				c.parent = p2;
				c.play = l2;
			} else {
				oci_image_free(p2);
				oci_layout_free(l2);
			}
		}
	}
	/* what can be refused is refused before the destination exists */
	for (int i = 0; i < 2; i++) {
		const char *a = i ? o->cmd : o->entrypoint;
		cJSON *t = a ? commit_args(a, err) : NULL;
		if (a && !t) {
			r = error_wrap(err, i ? "--cmd" : "--entrypoint");
			goto out;
		}
		cJSON_Delete(t);
	}
	if (o->layer_file && strcmp(o->layer_file, "-") != 0 && access(o->layer_file, R_OK) < 0) {
		r = error_set(err, OCI_E_IO, errno, "%s", o->layer_file);
		goto out;
	}
	/* the destination, made only once the parent is known to be there */
	struct stat dst;
	created = stat(c.dest.path, &dst) < 0;
	if ((r = oci_layout_create(c.dest.path, &c.dfd, err)) < 0)
		goto out;
	if (c.parent) {
		struct stat a, b;
		c.same_layout = oci_layout_kind(c.play) == OCI_LAYOUT_DIR &&
				stat(oci_layout_path(c.play), &a) == 0 && fstat(c.dfd, &b) == 0 &&
				a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	}

	/* the layer */
	struct oci_layer_write_opts wo = {
	    .compression = o->compression, .level = o->level, .clamp_mtime = o->timestamp};
	int compression = o->compression;
	bool want_layer = o->bundle || o->dir || o->layer_file;
	if (o->bundle && !o->squash) {
		struct oci_diff_opts dopts = {0};
		if ((r = oci_changeset_bundle(o->bundle, &dopts, &cs, err)) < 0)
			goto out;
		res->changes = cs->n;
		/* the root's own metadata is not carried by layers: alone it is no change */
		size_t real = cs->n;
		for (size_t i = 0; i < cs->n; i++)
			if (cs->c[i].after && !*cs->c[i].after->path)
				real--;
		if (real == 0 && !o->allow_empty)
			want_layer = false;
	}
	if (want_layer) {
		if ((r = oci_blob_tmp_open(c.dfd, &tmpfd, &tmpname, err)) < 0)
			goto out;
		if (o->layer_file) {
			r = commit_layer_file(&c, tmpfd, &res->layer, &compression, err);
		} else if (cs) {
			r = oci_changeset_write_layer(cs, tmpfd, &wo, &res->layer, err);
		} else {
			cleanup_free char *rootfs =
			    o->bundle ? xasprintf("%s/rootfs", o->bundle) : xstrdup(o->dir);
			int rfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (rfd < 0) {
				r = error_set(err, OCI_E_IO, errno, "%s", rootfs);
			} else {
				r = oci_tree_write_layer(rfd, &wo, tmpfd, &res->layer, err);
				close(rfd);
			}
		}
		if (r == 0 && o->layer_file)
			r = commit_check_layer(&c, tmpfd, compression, &res->layer, err);
		if (r == 0 && oci_cancelled())
			r = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
		if (r == 0)
			r = oci_blob_tmp_commit(c.dfd, tmpfd, tmpname, &res->layer.digest, err);
		else
			oci_blob_tmp_abort(c.dfd, tmpfd, tmpname);
		tmpfd = -1;
		if (r < 0)
			goto out;
		res->layer_added = true;
	}

	/* the config */
	cfg = c.parent ? cJSON_Duplicate(c.parent->config->root, 1) : commit_scratch_config(&c);
	if ((r = commit_edit_config(&c, cfg, err)) < 0)
		goto out;
	cJSON *rootfs = commit_obj(cfg, "rootfs");
	cJSON *ids = cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids");
	cJSON *hist = cJSON_GetObjectItemCaseSensitive(cfg, "history");
	if (!cJSON_IsArray(hist)) {
		cJSON_DeleteItemFromObjectCaseSensitive(cfg, "history");
		hist = cJSON_AddArrayToObject(cfg, "history");
	}
	if (o->squash && res->layer_added) {
		cJSON_DeleteItemFromObjectCaseSensitive(rootfs, "diff_ids");
		ids = cJSON_AddArrayToObject(rootfs, "diff_ids");
		cJSON_DeleteItemFromObjectCaseSensitive(cfg, "history");
		hist = cJSON_AddArrayToObject(cfg, "history");
	}
	if (res->layer_added)
		cJSON_AddItemToArray(ids, cJSON_CreateString(res->layer.diff_id.str));
	cJSON *h = cJSON_CreateObject();
	cJSON_AddStringToObject(h, "created", c.created);
	cJSON_AddStringToObject(h, "created_by", o->created_by ? o->created_by : "oci-commit");
	if (o->author)
		cJSON_AddStringToObject(h, "author", o->author);
	if (o->message)
		cJSON_AddStringToObject(h, "comment", o->message);
	if (!res->layer_added)
		cJSON_AddBoolToObject(h, "empty_layer", 1);
	cJSON_AddItemToArray(hist, h);
	/* a parent with Docker media types gets an OCI child: its config is
	 * the same JSON (Docker's fields are a superset), its layers the same
	 * blobs under their OCI names */
	struct oci_descriptor cdesc = {.media_type = (char *)OCI_MT_CONFIG};
	if ((r = commit_put_json(&c, cfg, &cdesc.digest, &cdesc.size, err)) < 0)
		goto out;

	/* the manifest */
	man = cJSON_CreateObject();
	cJSON_AddNumberToObject(man, "schemaVersion", 2);
	cJSON_AddStringToObject(man, "mediaType", OCI_MT_MANIFEST);
	cJSON_AddItemToObject(man, "config", commit_desc_json(&cdesc));
	cJSON *layers = cJSON_AddArrayToObject(man, "layers");
	if (c.parent && !(o->squash && res->layer_added)) {
		const struct oci_manifest *pm = c.parent->manifest;
		for (size_t i = 0; i < pm->n_layers; i++) {
			if (!c.same_layout &&
			    (r = oci_blob_copy(c.play, &pm->layers[i], c.dfd, err)) < 0)
				goto out;
			struct oci_descriptor ld = pm->layers[i];
			ld.annotations = NULL;
			ld.media_type = (char *)commit_layer_mt(ld.media_type, -1);
			cJSON_AddItemToArray(layers, commit_desc_json(&ld));
		}
	}
	if (res->layer_added) {
		struct oci_descriptor ld = {.media_type =
						(char *)commit_layer_mt(NULL, compression),
					    .digest = res->layer.digest,
					    .size = res->layer.size};
		cJSON_AddItemToArray(layers, commit_desc_json(&ld));
	}
	if (o->n_annotations) {
		cJSON *ann = cJSON_AddObjectToObject(man, "annotations");
		for (size_t i = 0; i < o->n_annotations; i++)
			commit_set_str(ann, o->annotations[i].key, o->annotations[i].value);
	}
	struct oci_descriptor mdesc = {.media_type = (char *)OCI_MT_MANIFEST, .platform = &plat};
	commit_platform(cfg, &plat);
	if ((r = commit_put_json(&c, man, &mdesc.digest, &mdesc.size, err)) < 0)
		goto out;
	res->manifest = mdesc.digest;

	/* a parent chosen from an index: the same index with this platform replaced */
	struct oci_descriptor top = mdesc;
	if (c.parent && oci_media_kind(c.parent->top.media_type) == OCI_MEDIA_INDEX &&
	    !o->single_platform) {
		bool changed;
		if ((r = commit_rewrite_index(&c, &c.parent->top, &c.parent->desc.digest, &mdesc,
					      &newtop, &changed, 0, err)) < 0)
			goto out;
		top = newtop;
	}
	if (oci_cancelled()) {
		r = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
		goto out;
	}
	if ((r = oci_layout_set_ref(c.dfd, c.dest.ref, &top, err)) < 0)
		goto out;
	res->top = top.digest;
	if (o->bundle && !o->keep_record &&
	    (r = commit_update_record(&c, cs, rec, &cdesc.digest, res, err)) < 0) {
		created = false; /* the image landed: keep it */
		goto out;
	}
out:
	oci_platform_release(&plat);
	free(newtop.media_type);
	free(from);
	cJSON_Delete(cfg);
	cJSON_Delete(man);
	oci_changeset_free(cs);
	oci_snapshot_free(rec);
	oci_image_free(c.parent);
	oci_layout_free(c.play);
	pathmap_release(&c.done, commit_done_free);
	pathmap_release(&c.copied, NULL);
	free(tmpname);
	if (c.dfd >= 0)
		close(c.dfd);
	if (r < 0 && created) {
		/* a layout this failed commit made: it holds nothing anyone wants */
		cleanup_free char *p1 = xstrdup(c.dest.path), *p2 = xstrdup(c.dest.path);
		int pfd = open(dirname(p1), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd >= 0) {
			inroot_remove(pfd, basename(p2), c.dest.path, NULL, NULL, NULL);
			close(pfd);
		}
	}
	oci_image_ref_release(&c.dest);
	return r;
}
