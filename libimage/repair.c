/* Repairing a layout directory, without guessing and without losing
 * anything: recreate oci-layout, drop stray temporary files, correct wrong
 * descriptor sizes and media types where the content is intact (rewriting
 * the parents up to index.json, refs kept), rebuild a lost index.json from
 * the manifests in blobs/, and (--gc) delete unreferenced blobs. Every
 * rewrite goes through the crash-safe writes of layout_write.c. Each blob
 * is checked, and each document fixed, once (however many paths lead to
 * it), within the walk bounds of oci/image.h. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <oci/copy.h>
#include <oci/layout_write.h>
#include <oci/verify.h>
#include "compress.h"
#include "inroot.h"
#include "layout_int.h"
#include "layoutfs.h"
#include "pathmap.h"
#include "walk.h"

enum rp_role { RP_ENTRY, RP_CONFIG, RP_LAYER };

/* What one blob, in one role, needs: computed once, applied to every
 * descriptor that names it. */
struct rp_memo {
	bool busy;	  /* being computed (a loop, which content addressing forbids) */
	int64_t size;	  /* the stored size when the content is intact, else -1 */
	int compression;  /* layers: what the content is */
	const char *kind; /* entries: the media type the document says it is, or NULL */
	bool rewritten;	  /* documents: rewritten with fixed children as... */
	struct oci_digest new_digest;
	int64_t new_size;
};

struct repair {
	struct oci_layout *l;
	int dfd;
	const struct oci_repair_opts *o;
	struct pathmap reachable; /* digest strings */
	struct pathmap memo;	  /* "ROLE DIGEST" -> struct rp_memo */
	struct walk_bounds b;
	int fixes;
	bool damaged; /* some reachable content is lost or corrupt: its blobs are unknown */
	struct oci_error **err;
};

static void rp_report(struct repair *r, const char *kind, const char *digest, const char *refs,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void rp_report(struct repair *r, const char *kind, const char *digest, const char *refs,
		      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *detail;
	if (vasprintf(&detail, fmt, ap) < 0)
		abort();
	va_end(ap);
	r->fixes++;
	if (r->o->report)
		r->o->report(r->o->arg, kind, digest ? digest : "-", refs ? refs : "-", detail);
	free(detail);
}

/* the stored blob's size when its content matches its digest, else -1 */
static int64_t rp_intact(struct repair *r, const struct oci_digest *d)
{
	int64_t size = oci_layout_blob_size(r->l, d);
	if (size < 0)
		return -1;
	struct oci_descriptor tmp = {.digest = *d, .size = size};
	struct oci_blob *b;
	if (oci_blob_open(r->l, &tmp, &b, NULL) < 0)
		return -1;
	int ok = oci_blob_finish(b, NULL);
	oci_blob_free(b);
	return ok == 0 ? size : -1;
}

static int rp_sniff(struct repair *r, const struct oci_digest *d, int64_t size)
{
	struct oci_descriptor tmp = {.digest = *d, .size = size};
	uint8_t magic[4] = {0};
	struct oci_blob *b;
	if (oci_blob_open(r->l, &tmp, &b, NULL) < 0)
		return -1;
	oci_blob_read(b, magic, sizeof(magic), NULL);
	oci_blob_free(b);
	return compress_sniff(magic, sizeof(magic));
}

static const char *rp_layer_type(int actual, const char *mt)
{
	if (actual < 0 || oci_media_layer_compression(mt) == actual)
		return mt;
	/* an unknown type: say what the content is (the check after repair reads
	 * it as a tar to its end) */
	bool docker = oci_media_is_docker(mt);
	return actual == OCI_COMPRESS_GZIP ? (docker ? OCI_MT_DOCKER_LAYER_GZIP : OCI_MT_LAYER_GZIP)
	       : actual == OCI_COMPRESS_ZSTD
		   ? (docker ? OCI_MT_DOCKER_LAYER_ZSTD : OCI_MT_LAYER_ZSTD)
		   : (docker ? OCI_MT_DOCKER_LAYER : OCI_MT_LAYER);
}

/* the media type a document says it is, for its index entry */
static const char *rp_doc_kind(const cJSON *doc)
{
	const cJSON *dm = cJSON_GetObjectItemCaseSensitive(doc, "mediaType");
	if (cJSON_IsString(dm) && oci_media_kind(dm->valuestring) != OCI_MEDIA_UNKNOWN)
		return oci_media_kind(dm->valuestring) == OCI_MEDIA_INDEX
			   ? (oci_media_is_docker(dm->valuestring) ? OCI_MT_DOCKER_LIST
								   : OCI_MT_INDEX)
			   : (oci_media_is_docker(dm->valuestring) ? OCI_MT_DOCKER_MANIFEST
								   : OCI_MT_MANIFEST);
	if (cJSON_GetObjectItemCaseSensitive(doc, "manifests"))
		return OCI_MT_INDEX;
	if (cJSON_GetObjectItemCaseSensitive(doc, "layers"))
		return OCI_MT_MANIFEST;
	return NULL;
}

static void rp_set(cJSON *o, const char *key, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(o, key))
		cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
	else
		cJSON_AddItemToObject(o, key, v);
}

static int rp_fix(struct repair *r, cJSON *desc, const char *ref, int depth, enum rp_role role,
		  bool *changed);

/* A document's children fixed; when one changed, the document is written
 * anew and m says as what. */
static int rp_doc(struct repair *r, cJSON *doc, const struct oci_digest *d, const char *ref,
		  int depth, struct rp_memo *m)
{
	bool child_changed = false;
	int rc = 0;
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "manifests");
	if (cJSON_IsArray(arr)) {
		struct oci_descriptor dd = {.digest = *d};
		if (depth >= OCI_MAX_INDEX_DEPTH) {
			r->damaged = true; /* too deep to follow: verify names it */
			return 0;
		}
		if ((rc = walk_count(&r->b, &dd, (size_t)cJSON_GetArraySize(arr), r->err)) < 0)
			return rc;
		cJSON *c;
		cJSON_ArrayForEach (c, arr) {
			if (rc == 0)
				rc = rp_fix(r, c, ref, depth + 1, RP_ENTRY, &child_changed);
		}
	} else {
		cJSON *cfg = cJSON_GetObjectItemCaseSensitive(doc, "config");
		if (cJSON_IsObject(cfg))
			rc = rp_fix(r, cfg, ref, depth, RP_CONFIG, &child_changed);
		cJSON *ls = cJSON_GetObjectItemCaseSensitive(doc, "layers");
		cJSON *c;
		cJSON_ArrayForEach (c, ls) {
			if (rc == 0)
				rc = rp_fix(r, c, ref, depth, RP_LAYER, &child_changed);
		}
	}
	if (rc == 0 && child_changed) {
		char *s = cJSON_PrintUnformatted(doc);
		struct oci_digest nd;
		if (r->o->dry_run)
			oci_digest_buffer(OCI_DIGEST_SHA256, s, strlen(s), &nd);
		else
			rc = oci_blob_put(r->dfd, s, strlen(s), &nd, r->err);
		if (rc == 0) {
			rp_report(r, "rewrite", nd.str, ref, "%s rewritten from %s",
				  cJSON_IsArray(arr) ? "index" : "manifest", d->str);
			*pathmap_put(&r->reachable, nd.str) = (void *)1;
			m->rewritten = true;
			m->new_digest = nd;
			m->new_size = (int64_t)strlen(s);
		}
		free(s);
	}
	return rc;
}

/* what d needs in this role, worked out once */
static int rp_memo_fill(struct repair *r, struct rp_memo *m, const struct oci_digest *d,
			const char *ref, int depth, enum rp_role role)
{
	m->size = rp_intact(r, d);
	if (m->size < 0) {
		r->damaged = true;
		return 0; /* lost or corrupt content: verify names it */
	}
	if (role == RP_LAYER)
		m->compression = rp_sniff(r, d, m->size);
	if (role != RP_ENTRY)
		return 0;
	struct oci_descriptor tmp = {.digest = *d, .size = m->size};
	char *buf = NULL;
	size_t len;
	cJSON *doc;
	if (oci_blob_read_all(r->l, &tmp, OCI_JSON_MAX, &buf, &len, NULL) < 0 ||
	    oci_json_parse(buf, len, &doc, NULL) < 0) {
		free(buf);
		r->damaged = true;
		return 0; /* not a document: nothing to fix here, verify names it */
	}
	free(buf);
	int rc = walk_node(&r->b, &tmp, r->err);
	m->kind = rp_doc_kind(doc);
	if (rc == 0)
		rc = rp_doc(r, doc, d, ref, depth, m);
	cJSON_Delete(doc);
	return rc;
}

/* Fix one descriptor (a cJSON object) in place; *changed when it did. */
static int rp_fix(struct repair *r, cJSON *desc, const char *ref, int depth, enum rp_role role,
		  bool *changed)
{
	const cJSON *jd = cJSON_GetObjectItemCaseSensitive(desc, "digest");
	const cJSON *jm = cJSON_GetObjectItemCaseSensitive(desc, "mediaType");
	const cJSON *js = cJSON_GetObjectItemCaseSensitive(desc, "size");
	struct oci_digest d;
	if (oci_cancelled())
		return error_set(r->err, OCI_E_INTERRUPTED, 0, "interrupted");
	if (!cJSON_IsString(jd) || oci_digest_parse(jd->valuestring, &d, NULL) < 0)
		return 0;
	*pathmap_put(&r->reachable, d.str) = (void *)1;
	char key[OCI_DIGEST_MAX + 8];
	snprintf(key, sizeof(key), "%d %s", (int)role, d.str);
	void **slot = pathmap_put(&r->memo, key);
	struct rp_memo *m = *slot;
	if (!m) {
		m = *slot = xcalloc(1, sizeof(*m));
		m->busy = true;
		int rc = rp_memo_fill(r, m, &d, ref, depth, role);
		m->busy = false;
		if (rc < 0)
			return rc;
	} else if (m->busy) {
		r->damaged = true;
		return 0;
	}
	if (m->size < 0)
		return 0;
	/* sizes are integers: anything else (1e300, 1.5, -1) is a wrong size */
	int64_t said;
	if (!oci_json_int64(js, 0, INT64_MAX, &said) || said != m->size) {
		const char *text = cJSON_IsNumber(js) && js->valuestring ? js->valuestring : "-1";
		rp_report(r, "size", d.str, ref, "descriptor size %.40s -> %lld", text,
			  (long long)m->size);
		rp_set(desc, "size", cJSON_CreateNumber((double)m->size));
		*changed = true;
	}
	const char *mt = cJSON_IsString(jm) ? jm->valuestring : "";
	const char *want = role == RP_LAYER   ? rp_layer_type(m->compression, mt)
			   : role == RP_ENTRY ? m->kind
					      : NULL;
	if (want && strcmp(want, mt) != 0) {
		rp_report(r, "mediatype", d.str, ref, "\"%s\" -> \"%s\"", mt, want);
		rp_set(desc, "mediaType", cJSON_CreateString(want));
		*changed = true;
	}
	if (m->rewritten) {
		rp_set(desc, "digest", cJSON_CreateString(m->new_digest.str));
		rp_set(desc, "size", cJSON_CreateNumber((double)m->new_size));
		*changed = true;
	}
	return 0;
}

/* index.json from the manifests and indexes in blobs/ that nothing else names */
static cJSON *rp_rebuild_index(struct repair *r)
{
	char **names;
	cJSON *idx = cJSON_CreateObject();
	cJSON_AddNumberToObject(idx, "schemaVersion", 2);
	cJSON_AddStringToObject(idx, "mediaType", OCI_MT_INDEX);
	cJSON *arr = cJSON_AddArrayToObject(idx, "manifests");
	if (oci_layout_list_blobs(r->l, &names, NULL) < 0)
		return idx;
	struct pathmap named;
	pathmap_init(&named);
	cJSON *cands = cJSON_CreateArray();
	for (char **p = names; *p; p++) {
		if (oci_cancelled()) { /* the caller sees the flag and writes nothing */
			free(*p);
			continue;
		}
		const char *slash = strrchr(*p, '/');
		char dg[OCI_DIGEST_MAX];
		snprintf(dg, sizeof(dg), "%.6s:%s", *p + 6, slash ? slash + 1 : "");
		struct oci_digest d;
		int64_t size;
		char *buf = NULL;
		size_t len;
		cJSON *doc = NULL;
		if (oci_digest_parse(dg, &d, NULL) == 0 && (size = rp_intact(r, &d)) >= 0 &&
		    size <= (int64_t)OCI_JSON_MAX) {
			struct oci_descriptor tmp = {.digest = d, .size = size};
			if (oci_blob_read_all(r->l, &tmp, OCI_JSON_MAX, &buf, &len, NULL) == 0 &&
			    oci_json_parse(buf, len, &doc, NULL) == 0) {
				const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "manifests");
				const cJSON *ls = cJSON_GetObjectItemCaseSensitive(doc, "layers");
				const cJSON *c;
				cJSON_ArrayForEach (c, m) {
					const cJSON *cd =
					    cJSON_GetObjectItemCaseSensitive(c, "digest");
					if (cJSON_IsString(cd))
						*pathmap_put(&named, cd->valuestring) = (void *)1;
				}
				if (cJSON_IsArray(m) || cJSON_IsArray(ls)) {
					const cJSON *dm =
					    cJSON_GetObjectItemCaseSensitive(doc, "mediaType");
					cJSON *o = cJSON_CreateObject();
					cJSON_AddStringToObject(o, "mediaType",
								cJSON_IsString(dm) ? dm->valuestring
								: cJSON_IsArray(m)
								    ? OCI_MT_INDEX
								    : OCI_MT_MANIFEST);
					cJSON_AddStringToObject(o, "digest", d.str);
					cJSON_AddNumberToObject(o, "size", (double)size);
					const cJSON *ann =
					    cJSON_GetObjectItemCaseSensitive(doc, "annotations");
					const cJSON *rn = cJSON_GetObjectItemCaseSensitive(
					    ann, "org.opencontainers.image.ref.name");
					if (cJSON_IsString(rn)) {
						cJSON *a =
						    cJSON_AddObjectToObject(o, "annotations");
						cJSON_AddStringToObject(
						    a, "org.opencontainers.image.ref.name",
						    rn->valuestring);
					}
					cJSON_AddItemToArray(cands, o);
				}
			}
		}
		cJSON_Delete(doc);
		free(buf);
		free(*p);
	}
	free(names);
	cJSON *c;
	cJSON_ArrayForEach (c, cands) {
		const char *dg = cJSON_GetObjectItemCaseSensitive(c, "digest")->valuestring;
		if (pathmap_get(&named, dg))
			continue; /* named by an index: not a top-level image */
		rp_report(r, "index", dg, "-", "added to the rebuilt index.json");
		cJSON_AddItemToArray(arr, cJSON_Duplicate(c, 1));
	}
	cJSON_Delete(cands);
	pathmap_release(&named, NULL);
	return idx;
}

static int rp_write_index(struct repair *r, cJSON *idx, struct oci_error **err)
{
	if (r->o->dry_run)
		return 0;
	char *s = cJSON_PrintUnformatted(idx);
	int rc = layoutfs_replace(r->dfd, "index.json", s, strlen(s), err);
	free(s);
	return rc;
}

int oci_layout_repair(const char *path, const struct oci_repair_opts *o, struct oci_error **err)
{
	struct repair r = {.o = o, .dfd = -1, .err = err};
	pathmap_init(&r.reachable);
	pathmap_init(&r.memo);
	int rc = oci_layout_open_flags(path, OCI_LAYOUT_OPEN_LENIENT, &r.l, err);
	if (rc < 0)
		return rc;
	if (oci_layout_kind(r.l) != OCI_LAYOUT_DIR) {
		oci_layout_free(r.l);
		return error_set(err, OCI_E_USAGE, 0,
				 "only a layout directory is repaired in place");
	}
	r.dfd = oci_layout_dirfd(r.l);
	/* the lock that oci-commit takes: no commit lands while we rewrite; a
	 * lock file that is not one (a FIFO, a symlink) stops us, one we may not
	 * create (a read-only layout) does not: then nothing is written anyway */
	struct oci_error *lerr = NULL;
	int lk = o->dry_run ? -1 : layoutfs_lock(r.dfd, &lerr);
	if (lk == OCI_E_INVALID) {
		oci_layout_free(r.l);
		pathmap_release(&r.reachable, NULL);
		if (err) {
			oci_error_free(*err);
			*err = lerr;
		} else {
			oci_error_free(lerr);
		}
		return OCI_E_INVALID;
	}
	oci_error_free(lerr);

	if (!oci_layout_has_version_file(r.l)) {
		rp_report(&r, "layout", "-", "-", "recreated oci-layout");
		if (!o->dry_run) {
			static const char v[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
			rc = layoutfs_replace(r.dfd, "oci-layout", v, sizeof(v) - 1, err);
		}
	}
	cJSON *idx = NULL;
	bool idx_changed = false;
	if (rc == 0 && oci_layout_index_error(r.l)) {
		idx = rp_rebuild_index(&r);
		idx_changed = true;
		rp_report(&r, "index", "-", "-",
			  "rebuilt index.json with %d image%s found in blobs/ "
			  "(was: %s)",
			  cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(idx, "manifests")),
			  cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(idx, "manifests")) ==
				  1
			      ? ""
			      : "s",
			  oci_layout_index_error(r.l));
	} else if (rc == 0) {
		const char *const *bad;
		if (oci_layout_bad_entries(r.l, &bad)) {
			/* keep every entry, the unusable ones too: they are refs */
			r.damaged = true;
			char *buf = NULL;
			struct stat st;
			int fd = layoutfs_open(r.dfd, "index.json", false, &st, NULL);
			if (fd >= 0 && st.st_size <= (off_t)OCI_JSON_MAX) {
				buf = xmalloc((size_t)st.st_size + 1);
				ssize_t n = read_full(fd, buf, (size_t)st.st_size);
				if (n >= 0)
					oci_json_parse(buf, (size_t)n, &idx, NULL);
			}
			if (fd >= 0)
				close(fd);
			free(buf);
		}
		if (!idx)
			idx = cJSON_Duplicate(oci_layout_index(r.l)->root, 1);
	}
	if (rc == 0) {
		cJSON *arr = cJSON_GetObjectItemCaseSensitive(idx, "manifests");
		cJSON *c;
		cJSON_ArrayForEach (c, arr) {
			const cJSON *ann = cJSON_GetObjectItemCaseSensitive(c, "annotations");
			const cJSON *rn = cJSON_GetObjectItemCaseSensitive(
			    ann, "org.opencontainers.image.ref.name");
			if (rc == 0)
				rc = rp_fix(&r, c, cJSON_IsString(rn) ? rn->valuestring : "-", 0,
					    RP_ENTRY, &idx_changed);
		}
	}
	/* a blob that is a FIFO or a symlink out of the layout was met on the
	 * way: the layout is refused, not rewritten */
	if (rc == 0 && layout_unsafe(r.l))
		rc = error_set(err, OCI_E_INVALID, 0, "%s", layout_unsafe(r.l));
	if (rc == 0 && oci_cancelled())
		rc = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
	if (rc == 0 && idx_changed)
		rc = rp_write_index(&r, idx, err);
	cJSON_Delete(idx);
	/* stray temporary files (ours: dot names), and (gc) unreferenced blobs;
	 * gc only when every reachable image could be read: the blobs of a
	 * damaged one are unknown and may be wanted */
	if (rc == 0 && o->gc && r.damaged)
		rp_report(&r, "gc", "-", "-",
			  "skipped: some images are damaged, and their blobs may "
			  "be wanted");
	char **names;
	if (rc == 0 && oci_layout_list_blobs(r.l, &names, NULL) == 0) {
		for (char **p = names; *p; p++) {
			/* relative to the blob directory held since the layout was
			 * opened, never to a name resolved again */
			const char *base;
			int bfd = layout_listed_dirfd(r.l, *p, &base);
			char dg[OCI_DIGEST_MAX];
			snprintf(dg, sizeof(dg), "%.6s:%s", *p + 6, bfd >= 0 ? base : "");
			struct oci_digest d;
			struct stat st;
			bool file = bfd >= 0 && fstatat(bfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				    S_ISREG(st.st_mode);
			/* a temporary of ours has one name: one with more is a file
			 * elsewhere too, and removing a name of it would change it */
			if (file && base[0] == '.' && st.st_nlink == 1) {
				if (o->dry_run || unlinkat(bfd, base, 0) == 0)
					rp_report(&r, "stray", "-", "-", "removed %s", *p);
			} else if (o->gc && !r.damaged && file &&
				   oci_digest_parse(dg, &d, NULL) == 0 &&
				   !pathmap_get(&r.reachable, d.str)) {
				if (o->dry_run || unlinkat(bfd, base, 0) == 0)
					rp_report(&r, "gc", d.str, "-",
						  "removed unreferenced blob");
			}
			free(*p);
		}
		free(names);
	}
	size_t nt = 0;
	char **top = rc == 0 ? layoutfs_list(r.dfd, &nt) : NULL;
	for (size_t i = 0; i < nt; i++) {
		const char *n = top[i];
		/* only the temporary names this toolkit makes */
		bool ours = n[0] == '.' && (strncmp(n, ".index.json.", 12) == 0 ||
					    strncmp(n, ".oci-layout.tmp", 15) == 0);
		struct stat st;
		if (ours && fstatat(r.dfd, n, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_nlink == 1 &&
		    (o->dry_run || unlinkat(r.dfd, n, 0) == 0))
			rp_report(&r, "stray", "-", "-", "removed %s", n);
		free(top[i]);
	}
	free(top);
	if (lk >= 0)
		close(lk);
	pathmap_release(&r.reachable, NULL);
	pathmap_release(&r.memo, free);
	oci_layout_free(r.l);
	return rc;
}

/* ---- an archive's contents as a new layout directory ---- */

/* Remove a tree we made ourselves (a failed export): nothing in it is
 * followed, every name is removed relative to its directory's fd. */
static void export_remove_at(int pfd, const char *name)
{
	int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		size_t n = 0;
		char **names = layoutfs_list(fd, &n);
		for (size_t i = 0; i < n; i++) {
			if (unlinkat(fd, names[i], 0) < 0)
				export_remove_at(fd, names[i]);
			free(names[i]);
		}
		free(names);
		close(fd);
	}
	unlinkat(pfd, name, AT_REMOVEDIR);
}

static int export_fill(struct oci_layout *l, const char *dest, int dfd, struct oci_error **err);

/* Built under a temporary name beside DEST and renamed when whole: a
 * failure (a full disk) leaves nothing, so the same command can be run
 * again, and nothing half-made ever has DEST's name. */
int oci_layout_export_dir(struct oci_layout *l, const char *dest, struct oci_error **err)
{
	struct stat st;
	if (lstat(dest, &st) == 0)
		return error_set(err, OCI_E_USAGE, 0, "%s: exists; give a new path", dest);
	cleanup_free char *tmp = NULL;
	for (int tries = 0;; tries++) {
		unsigned rnd;
		if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			rnd = (unsigned)getpid() ^ (unsigned)tries;
		free(tmp);
		size_t dl = strlen(dest);
		while (dl > 1 && dest[dl - 1] == '/')
			dl--;
		tmp = xasprintf("%.*s.partial-%08x", (int)dl, dest, rnd);
		if (mkdir(tmp, 0755) == 0)
			break;
		if (errno != EEXIST || tries > 16)
			return error_set(err, OCI_E_IO, errno, "%s: create", dest);
	}
	int dfd;
	int rc = oci_layout_create(tmp, &dfd, err);
	if (rc == 0) {
		rc = export_fill(l, dest, dfd, err);
		close(dfd);
	}
	if (rc == 0 && rename(tmp, dest) < 0)
		rc = error_set(err, OCI_E_IO, errno, "%s: rename into place", dest);
	if (rc < 0) {
		int saved = errno;
		export_remove_at(AT_FDCWD, tmp);
		errno = saved;
	}
	return rc;
}

static int export_fill(struct oci_layout *l, const char *dest, int dfd, struct oci_error **err)
{
	int rc = 0;
	char **names;
	if ((rc = oci_layout_list_blobs(l, &names, err)) == 0) {
		for (char **p = names; *p; p++) {
			const char *base = strrchr(*p, '/') + 1;
			char dg[OCI_DIGEST_MAX];
			snprintf(dg, sizeof(dg), "%.6s:%s", *p + 6, base);
			struct oci_digest d;
			if (rc == 0 && oci_digest_parse(dg, &d, NULL) == 0) {
				/* copied as stored: verification comes after */
				struct blob_loc loc;
				if (layout_locate(l, &d, &loc, NULL) == 0) {
					int fd;
					char *tmp;
					/* stored under the digest parsed from the
					 * member's name, never under the name itself */
					if ((rc = oci_blob_tmp_open(dfd, &fd, &tmp, err)) == 0) {
						cleanup_free char *buf = xmalloc(1 << 20);
						for (int64_t off = 0; rc == 0 && off < loc.size;) {
							size_t n = loc.size - off < (1 << 20)
								       ? (size_t)(loc.size - off)
								       : (1 << 20);
							ssize_t k =
							    loc.mem
								? (memcpy(buf, loc.mem + off, n),
								   (ssize_t)n)
								: read_full_at(loc.fd, buf, n,
									       loc.off + off);
							if (k < 0 ||
							    (k > 0 &&
							     write_full(fd, buf, (size_t)k) < 0))
								rc = error_set(err, OCI_E_IO, errno,
									       "copy %s", d.str);
							else if (k == 0)
								rc = error_set(
								    err, OCI_E_INVALID, 0,
								    "copy %s: ends early", d.str);
							off += k > 0 ? k : 0;
						}
						if (rc == 0) {
							rc = oci_blob_tmp_commit(dfd, fd, tmp, &d,
										 err);
						} else {
							oci_blob_tmp_abort(dfd, fd, tmp);
						}
						free(tmp);
					}
					if (loc.own_fd)
						close(loc.fd);
				}
			}
			free(*p);
		}
		free(names);
	}
	/* docker-save archives: the documents we built, and members named by path */
	for (size_t i = 0; rc == 0 && i < l->n_vblobs; i++) {
		struct vblob *vb = &l->vblobs[i];
		struct oci_descriptor d = {.digest = vb->digest,
					   .size = oci_layout_blob_size(l, &vb->digest)};
		if (d.size >= 0)
			rc = oci_blob_copy(l, &d, dfd, err);
	}
	if (rc == 0 && oci_layout_index_error(l)) {
		/* the archive's index.json is lost or unreadable: the copy has none
		 * either (not the empty stand-in the reader made), so that the
		 * repair that follows rebuilds it from the manifests in blobs/ */
		if (unlinkat(dfd, "index.json", 0) < 0 && errno != ENOENT)
			rc = error_set(err, OCI_E_IO, errno, "%s: remove index.json", dest);
	} else if (rc == 0) {
		const struct oci_index *idx = oci_layout_index(l);
		if ((rc = layoutfs_replace(dfd, "index.json", idx->raw, idx->raw_len, err)) < 0)
			error_wrap(err, "%s", dest);
	}
	return rc;
}

/* ---- a repaired layout back into an archive ---- */

int oci_layout_export_archive(const char *layout, const char *dest, enum oci_layout_kind kind,
			      bool remove_layout, struct oci_error **err)
{
	/* through oci-copy's writer: every blob verified again as it streams,
	 * the archive renamed into place only when whole */
	struct oci_copy_opts o = {.srcs = &layout,
				  .n_srcs = 1,
				  .dest = dest,
				  .all = true,
				  .compression = -1,
				  .format = kind == OCI_LAYOUT_DOCKER_ARCHIVE
						? OCI_COPY_DOCKER_ARCHIVE
						: OCI_COPY_OCI_ARCHIVE};
	struct oci_copy_result res;
	int r = dest ? oci_copy(&o, &res, err) : 0;
	if (r == 0 && dest)
		oci_copy_result_release(&res);
	if (remove_layout) {
		inroot_remove_path(layout);
	}
	return r;
}
