/* oci-inspect: show an image (layout directory, oci-archive, docker-save
 * archive or stdin) as a tree, as JSON, as refs, as its documents' exact
 * bytes, or as the entries of its layers. */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include "common.h"
#include "inspect-usage.h"
#include "inspect.h"

static const char usage[] =
    "Usage: oci-inspect [OPTION]... IMAGE\n"
    "Show an OCI image: a layout directory, an oci-archive or docker-save tar, or - for stdin.\n"
    "IMAGE is PATH, PATH:REF or PATH@DIGEST.\n"
    "\n"
    "  (no option)        a tree: index -> manifest (platform) -> config -> layers\n"
    "      --json         the same, resolved, as one JSON document\n"
    "      --refs         one line per ref: REF<TAB>DIGEST<TAB>MEDIATYPE<TAB>PLATFORMS\n"
    "      --manifest     the manifest's exact bytes\n"
    "      --config       the config's exact bytes\n"
    "      --index        the index's exact bytes (the one named, else index.json)\n"
    "      --files        each layer's entries, ls -l style, whiteouts marked\n"
    "      --history      the config's history: created, created by, comment, the size of\n"
    "                     the layer each entry made; empty layers marked\n"
    "      --layer N|DIGEST  with --files: only layer N (1 = bottom) or that digest\n"
    "      --merged       with --files: the root filesystem the layers make, whiteouts\n"
    "                     applied, without unpacking\n"
    "      --usage        where the bytes go: per layer added and wasted (overwritten or\n"
    "                     deleted later) bytes, efficiency, the largest wasted paths\n"
    "      --max-wasted-bytes N[K|M|G]  with --usage: fail (exit 1) above N wasted bytes\n"
    "      --max-wasted-percent P  with --usage: fail when more than P percent is wasted\n"
    "      --min-efficiency E  with --usage: fail when effective/total is below E (0..1)\n"
    "      --platform OS/ARCH[/VARIANT]  choose from an index (default: the host's)\n"
    "      --verify       check the whole layout: every reachable blob (digest, size, media\n"
    "                     type, JSON, diff_ids, layers readable to the end), refs, oci-layout;\n"
    "                     one line per problem: KIND DIGEST REFS DETAIL; exit 1 when any\n"
    "      --repair       fix what can be fixed without guessing or losing anything; one\n"
    "                     line per fix; exit 0 when it verifies afterwards, 1 otherwise\n"
    "      --dry-run      with --repair: only say what would be fixed\n"
    "      --gc           with --repair: delete unreferenced blobs\n"
    "  -o PATH            with --repair of an archive: write the repaired copy (a layout\n"
    "                     directory) to PATH; an archive is never rewritten in place\n"
    "  -q, --quiet        no messages on stderr\n"
    "      --progress     with --verify, --repair: a live line on stderr even when it is\n"
    "                     not a terminal\n"
    "  -h, --help         this help\n"
    "  -V, --version      print the version\n"
    "\n"
    "Exit status: 0 success, 1 problems found (--verify, --repair), 2 trouble (bad usage,\n"
    "bad or unsafe image, I/O error).\n";

enum mode {
	MODE_TREE,
	MODE_JSON,
	MODE_REFS,
	MODE_MANIFEST,
	MODE_CONFIG,
	MODE_INDEX,
	MODE_FILES,
	MODE_HISTORY,
	MODE_VERIFY,
	MODE_REPAIR,
	MODE_USAGE
};

struct inspect {
	enum mode mode;
	bool json;
	const char *layer;
	bool merged;
	struct usage_gates gates;
	bool dry_run, gc;
	const char *output;
	const char *platform_arg;
	struct oci_platform platform;
	const char *spec;
	struct oci_layout *layout;
	struct oci_image_ref ref;
	bool have_sel;
	struct oci_descriptor sel;
};

/* print untrusted text with control characters escaped */
static void put_name(const char *s)
{
	tool_put_escaped(stdout, s);
}

/* "PRE│     key  value" with value escaped */
static void tree_kv(const char *pre, const char *key, const char *value)
{
	printf("%s│     %-11s ", pre, key);
	put_name(value);
	putchar('\n');
}

/* ---- text tree ---- */

static void put_json_strv(char **v)
{
	cJSON *a = cJSON_CreateArray();
	for (; v && *v; v++)
		cJSON_AddItemToArray(a, cJSON_CreateString(*v));
	char *s = cJSON_PrintUnformatted(a);
	/* JSON escapes C0 controls and backslashes, not DEL or C1 */
	tool_put_escaped_raw_bs(stdout, s);
	free(s);
	cJSON_Delete(a);
}

static const char *kind_word(enum oci_media_kind k)
{
	return k == OCI_MEDIA_INDEX ? "index" : k == OCI_MEDIA_MANIFEST ? "manifest" : "blob";
}

struct totals {
	long long manifests, layers, layer_bytes;
};

static void tree_image(const struct oci_image *img, const char *pre, struct totals *t)
{
	const struct oci_manifest *m = img->manifest;
	const struct oci_config *c = img->config;
	char hs[32];
	printf("%s├── config %s  ", pre, m->config.digest.str);
	put_name(oci_media_short(m->config.media_type));
	printf("  %s\n", tool_human_size(m->config.size, hs, sizeof(hs)));
	if (c->created)
		tree_kv(pre, "created", c->created);
	if (c->author)
		tree_kv(pre, "author", c->author);
	if (c->entrypoint) {
		printf("%s│     entrypoint  ", pre);
		put_json_strv(c->entrypoint);
		putchar('\n');
	}
	if (c->cmd) {
		printf("%s│     cmd         ", pre);
		put_json_strv(c->cmd);
		putchar('\n');
	}
	for (char **e = c->env; e && *e; e++)
		tree_kv(pre, e == c->env ? "env" : "", *e);
	if (c->workdir && *c->workdir)
		tree_kv(pre, "workdir", c->workdir);
	if (c->user && *c->user)
		tree_kv(pre, "user", c->user);
	long long sum = 0;
	for (size_t i = 0; i < m->n_layers; i++)
		sum += m->layers[i].size;
	printf("%s└── layers: %zu, %s\n", pre, m->n_layers, tool_human_size(sum, hs, sizeof(hs)));
	for (size_t i = 0; i < m->n_layers; i++) {
		const struct oci_descriptor *l = &m->layers[i];
		printf("%s    %s %zu %s  ", pre, i + 1 == m->n_layers ? "└──" : "├──", i + 1,
		       l->digest.str);
		put_name(oci_media_short(l->media_type));
		printf("  %s  diff_id %s\n", tool_human_size(l->size, hs, sizeof(hs)),
		       c->diff_ids[i].str);
	}
	t->manifests++;
	t->layers += (long long)m->n_layers;
	t->layer_bytes += sum;
}

/* the image a manifest node shows: its own, or the first node's of a repeat */
static const struct oci_image *node_image(const struct oci_node *n)
{
	return n->same ? n->same->image : n->image;
}

/* A node met again (indexes may name one child many times) is one line
 * that refers to the first: the tree stays as long as the layout. */
static void tree_node(const struct oci_node *n, const char *pre, bool last, struct totals *t)
{
	char hs[32], plat[200] = "";
	const struct oci_descriptor *d = &n->desc;
	if (d->platform)
		oci_platform_format(d->platform, plat, sizeof(plat));
	else if (node_image(n))
		oci_platform_format(&node_image(n)->platform, plat, sizeof(plat));
	printf("%s%s ", pre, last ? "└──" : "├──");
	if (d->ref_name) {
		put_name(d->ref_name);
		fputs(": ", stdout);
	}
	printf("%s %s  ", kind_word(n->kind), d->digest.str);
	put_name(oci_media_short(d->media_type));
	printf("  %s%s", tool_human_size(d->size, hs, sizeof(hs)), *plat ? "  " : "");
	put_name(plat);
	if (n->same) {
		printf("  (repeated: shown above)\n");
		return;
	}
	putchar('\n');
	char sub[512];
	snprintf(sub, sizeof(sub), "%s%s", pre, last ? "    " : "│   ");
	if (n->kind == OCI_MEDIA_INDEX)
		for (size_t i = 0; i < n->n_children; i++)
			tree_node(&n->children[i], sub, i + 1 == n->n_children, t);
	else if (n->image)
		tree_image(n->image, sub, t);
}

/* ---- JSON ---- */

static cJSON *json_strv(char **v)
{
	if (!v)
		return cJSON_CreateNull();
	cJSON *a = cJSON_CreateArray();
	for (; *v; v++)
		cJSON_AddItemToArray(a, cJSON_CreateString(*v));
	return a;
}

static cJSON *json_platform(const struct oci_platform *p)
{
	if (!p || !p->os)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "os", p->os);
	cJSON_AddStringToObject(o, "architecture", p->architecture);
	if (p->variant)
		cJSON_AddStringToObject(o, "variant", p->variant);
	return o;
}

static cJSON *json_opt_string(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *json_copy(const cJSON *j)
{
	return j ? cJSON_Duplicate(j, 1) : cJSON_CreateNull();
}

static cJSON *json_descriptor(const struct oci_descriptor *d)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mediaType", d->media_type);
	cJSON_AddStringToObject(o, "digest", d->digest.str);
	tool_json_int(o, "size", (int64_t)d->size);
	return o;
}

static cJSON *json_image(const struct oci_image *img, struct totals *t)
{
	const struct oci_manifest *m = img->manifest;
	const struct oci_config *c = img->config;
	cJSON *o = cJSON_CreateObject();
	cJSON *cfg = json_descriptor(&m->config);
	cJSON_AddItemToObject(cfg, "created", json_opt_string(c->created));
	cJSON_AddItemToObject(cfg, "author", json_opt_string(c->author));
	cJSON_AddItemToObject(cfg, "entrypoint", json_strv(c->entrypoint));
	cJSON_AddItemToObject(cfg, "cmd", json_strv(c->cmd));
	cJSON_AddItemToObject(cfg, "env", json_strv(c->env));
	cJSON_AddItemToObject(cfg, "workdir", json_opt_string(c->workdir));
	cJSON_AddItemToObject(cfg, "user", json_opt_string(c->user));
	cJSON_AddItemToObject(cfg, "stopSignal", json_opt_string(c->stop_signal));
	cJSON_AddItemToObject(cfg, "labels", json_copy(c->labels));
	cJSON_AddItemToObject(cfg, "exposedPorts", json_copy(c->exposed_ports));
	cJSON_AddItemToObject(cfg, "volumes", json_copy(c->volumes));
	cJSON_AddItemToObject(cfg, "platform", json_platform(&img->platform));
	cJSON_AddItemToObject(o, "config", cfg);
	cJSON *layers = cJSON_AddArrayToObject(o, "layers");
	long long sum = 0;
	for (size_t i = 0; i < m->n_layers; i++) {
		cJSON *l = json_descriptor(&m->layers[i]);
		cJSON_AddStringToObject(l, "diffId", c->diff_ids[i].str);
		cJSON_AddItemToArray(layers, l);
		sum += m->layers[i].size;
	}
	cJSON *tot = cJSON_AddObjectToObject(o, "totals");
	tool_json_int(tot, "layers", (int64_t)m->n_layers);
	tool_json_int(tot, "layerBytes", (int64_t)sum);
	t->manifests++;
	t->layers += (long long)m->n_layers;
	t->layer_bytes += sum;
	return o;
}

static cJSON *json_node(const struct oci_node *n, struct totals *t)
{
	cJSON *o = json_descriptor(&n->desc);
	cJSON_AddStringToObject(o, "kind",
				n->kind == OCI_MEDIA_INDEX	? "index"
				: n->kind == OCI_MEDIA_MANIFEST ? "manifest"
								: "other");
	cJSON_AddItemToObject(o, "ref", json_opt_string(n->desc.ref_name));
	cJSON_AddItemToObject(o, "platform", json_platform(n->desc.platform));
	if (n->desc.annotations)
		cJSON_AddItemToObject(o, "annotations", json_copy(n->desc.annotations));
	if (n->same) {
		/* shown in full where it first appears (the same digest earlier in
		 * document order): the output stays as long as the layout */
		cJSON_AddBoolToObject(o, "repeated", true);
		if (n->desc.platform == NULL && n->same->image)
			cJSON_ReplaceItemInObject(o, "platform",
						  json_platform(&n->same->image->platform));
	} else if (n->kind == OCI_MEDIA_INDEX) {
		cJSON *a = cJSON_AddArrayToObject(o, "manifests");
		for (size_t i = 0; i < n->n_children; i++)
			cJSON_AddItemToArray(a, json_node(&n->children[i], t));
	} else if (n->image) {
		cJSON *img = json_image(n->image, t);
		cJSON *c;
		while ((c = img->child)) {
			cJSON_DetachItemViaPointer(img, c);
			cJSON_AddItemToObject(o, c->string, c);
		}
		cJSON_Delete(img);
		if (n->desc.platform == NULL) {
			cJSON_ReplaceItemInObject(o, "platform",
						  json_platform(&n->image->platform));
		}
	}
	return o;
}

/* ---- loading ---- */

/* the selection, or every entry of index.json, in one load */
static int load_nodes(struct inspect *in, struct oci_node **nodes, size_t *n_nodes)
{
	struct oci_error *err = NULL;
	const struct oci_platform *filter = in->platform_arg ? &in->platform : NULL;
	const struct oci_index *idx = oci_layout_index(in->layout);
	size_t n = in->have_sel ? 1 : idx->n_manifests;
	const struct oci_descriptor *d = in->have_sel ? &in->sel : idx->manifests;
	if (oci_nodes_load(in->layout, d, n, filter, nodes, &err) < 0)
		return tool_fail(in->spec, err);
	*n_nodes = n;
	return 0;
}

static const char *compression_name(int c)
{
	return c == OCI_COMPRESS_GZIP ? "gzip" : c == OCI_COMPRESS_ZSTD ? "zstd" : "none";
}

static int do_tree(struct inspect *in)
{
	struct oci_node *nodes;
	size_t n;
	int r = load_nodes(in, &nodes, &n);
	if (r)
		return r;
	struct totals t = {0};
	char hs[32];
	if (in->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON *src = cJSON_AddObjectToObject(o, "source");
		cJSON_AddStringToObject(src, "path", oci_layout_path(in->layout));
		cJSON_AddStringToObject(src, "kind", oci_layout_kind_name(in->layout));
		cJSON_AddStringToObject(
		    src, "compression",
		    compression_name(oci_layout_archive_compression(in->layout)));
		cJSON *a = cJSON_AddArrayToObject(o, "manifests");
		for (size_t i = 0; i < n; i++)
			cJSON_AddItemToArray(a, json_node(&nodes[i], &t));
		cJSON *tot = cJSON_AddObjectToObject(o, "totals");
		tool_json_int(tot, "manifests", (int64_t)t.manifests);
		tool_json_int(tot, "layers", (int64_t)t.layers);
		tool_json_int(tot, "layerBytes", (int64_t)t.layer_bytes);
		char *s = cJSON_Print(o);
		puts(s);
		free(s);
		cJSON_Delete(o);
	} else {
		put_name(in->have_sel ? in->spec : oci_layout_path(in->layout));
		printf("  (%s", oci_layout_kind_name(in->layout));
		if (oci_layout_archive_compression(in->layout))
			printf(", %s",
			       compression_name(oci_layout_archive_compression(in->layout)));
		printf(")\n");
		for (size_t i = 0; i < n; i++)
			tree_node(&nodes[i], "", i + 1 == n, &t);
		printf("total: %lld manifest%s, %lld layer%s, %s in layers\n", t.manifests,
		       t.manifests == 1 ? "" : "s", t.layers, t.layers == 1 ? "" : "s",
		       tool_human_size(t.layer_bytes, hs, sizeof(hs)));
	}
	oci_nodes_free(nodes, n);
	return tool_flush_stdout();
}

/* platforms under a node, comma-separated; an index is looked into once
 * (seen, by node id), however many paths lead to it */
static void collect_platforms(const struct oci_node *n, char *buf, size_t len, bool *seen)
{
	char p[200] = "";
	if (n->kind == OCI_MEDIA_INDEX) {
		if (n->id <= OCI_MAX_WALK_NODES && seen[n->id])
			return;
		if (n->id <= OCI_MAX_WALK_NODES)
			seen[n->id] = true;
		const struct oci_node *c = n->same ? n->same : n;
		for (size_t i = 0; i < c->n_children; i++)
			collect_platforms(&c->children[i], buf, len, seen);
		return;
	}
	if (n->desc.platform)
		oci_platform_format(n->desc.platform, p, sizeof(p));
	else if (node_image(n))
		oci_platform_format(&node_image(n)->platform, p, sizeof(p));
	if (!*p)
		return;
	/* each platform once */
	size_t o = strlen(buf);
	char probe[210];
	snprintf(probe, sizeof(probe), ",%s,", p);
	char *hay = malloc(o + 3);
	if (!hay)
		abort();
	snprintf(hay, o + 3, ",%s,", buf);
	bool dup = strstr(hay, probe) != NULL;
	free(hay);
	if (!dup)
		snprintf(buf + o, len - o, "%s%s", o ? "," : "", p);
}

static int do_refs(struct inspect *in)
{
	struct oci_node *nodes;
	size_t n;
	int r = load_nodes(in, &nodes, &n);
	if (r)
		return r;
	bool *seen = calloc(OCI_MAX_WALK_NODES + 1, sizeof(*seen));
	if (!seen)
		abort();
	cJSON *arr = in->json ? cJSON_CreateArray() : NULL;
	for (size_t i = 0; i < n; i++) {
		char plats[4096] = "";
		memset(seen, 0, (OCI_MAX_WALK_NODES + 1) * sizeof(*seen));
		collect_platforms(&nodes[i], plats, sizeof(plats), seen);
		const struct oci_descriptor *d = &nodes[i].desc;
		if (arr) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddItemToObject(o, "ref", json_opt_string(d->ref_name));
			cJSON_AddStringToObject(o, "digest", d->digest.str);
			cJSON_AddStringToObject(o, "mediaType", d->media_type);
			cJSON *pa = cJSON_AddArrayToObject(o, "platforms");
			for (char *tok = strtok(plats, ","); tok; tok = strtok(NULL, ","))
				cJSON_AddItemToArray(pa, cJSON_CreateString(tok));
			cJSON_AddItemToArray(arr, o);
		} else {
			put_name(d->ref_name ? d->ref_name : "-");
			printf("\t%s\t", d->digest.str);
			put_name(d->media_type);
			putchar('\t');
			put_name(*plats ? plats : "-");
			putchar('\n');
		}
	}
	free(seen);
	oci_nodes_free(nodes, n);
	if (arr) {
		char *s = cJSON_Print(arr);
		puts(s);
		free(s);
		cJSON_Delete(arr);
	}
	return tool_flush_stdout();
}

static int write_bytes(const char *buf, size_t len)
{
	if (fwrite(buf, 1, len, stdout) != len)
		return tool_flush_stdout() ? EXIT_TROUBLE : EXIT_TROUBLE;
	return tool_flush_stdout();
}

/* The one image a mode needs: the selection, or the only one. */
static int load_image(struct inspect *in, struct oci_image **img)
{
	struct oci_error *err = NULL;
	if (!in->have_sel) {
		if (oci_layout_select(in->layout, &in->ref, &in->sel, &err) < 0)
			return tool_fail(in->spec, err);
		in->have_sel = true;
	}
	if (oci_image_load(in->layout, &in->sel, &in->platform, img, &err) < 0)
		return tool_fail(in->spec, err);
	return 0;
}

static int do_document(struct inspect *in)
{
	if (in->mode == MODE_INDEX) {
		if (in->have_sel && oci_media_kind(in->sel.media_type) == OCI_MEDIA_INDEX) {
			struct oci_index *idx;
			struct oci_error *err = NULL;
			if (oci_index_load(in->layout, &in->sel, &idx, &err) < 0)
				return tool_fail(in->spec, err);
			int r = write_bytes(idx->raw, idx->raw_len);
			oci_index_free(idx);
			return r;
		}
		const struct oci_index *idx = oci_layout_index(in->layout);
		return write_bytes(idx->raw, idx->raw_len);
	}
	struct oci_image *img;
	int r = load_image(in, &img);
	if (r)
		return r;
	if (in->mode == MODE_MANIFEST)
		r = write_bytes(img->manifest->raw, img->manifest->raw_len);
	else
		r = write_bytes(img->config->raw, img->config->raw_len);
	oci_image_free(img);
	return r;
}

static int do_history(struct inspect *in)
{
	struct oci_image *img;
	int r = load_image(in, &img);
	if (r)
		return r;
	r = inspect_history(img, in->json);
	oci_image_free(img);
	return r;
}

/* Every path in our JSON is absolute, with the leading "/" (docs/json.md),
 * whatever form the layer or record keeps it in. */
static void json_add_path(cJSON *o, const char *key, const char *path)
{
	while (*path == '/')
		path++;
	size_t n = strlen(path) + 2;
	char *p = malloc(n);
	if (!p)
		abort();
	snprintf(p, n, "/%s", path);
	cJSON_AddStringToObject(o, key, p);
	free(p);
}

static void free_refs(char **p)
{
	free(*p);
}
#define cleanup_refs __attribute__((cleanup(free_refs)))

/* ---- files ---- */

static void mode_string(mode_t m, char c0, char out[11])
{
	out[0] = c0;
	const char *rwx = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		out[1 + i] = (m & (1u << (8 - i))) ? rwx[i] : '-';
	if (m & S_ISUID)
		out[3] = (m & S_IXUSR) ? 's' : 'S';
	if (m & S_ISGID)
		out[6] = (m & S_IXGRP) ? 's' : 'S';
	if (m & S_ISVTX)
		out[9] = (m & S_IXOTH) ? 't' : 'T';
	out[10] = 0;
}

static char type_char(struct archive_entry *e)
{
	if (archive_entry_hardlink(e))
		return 'h';
	switch (archive_entry_filetype(e)) {
	case AE_IFDIR:
		return 'd';
	case AE_IFLNK:
		return 'l';
	case AE_IFCHR:
		return 'c';
	case AE_IFBLK:
		return 'b';
	case AE_IFIFO:
		return 'p';
	case AE_IFSOCK:
		return 's';
	default:
		return '-';
	}
}

static const char *type_word(char c)
{
	switch (c) {
	case 'h':
		return "hardlink";
	case 'd':
		return "dir";
	case 'l':
		return "symlink";
	case 'c':
		return "char";
	case 'b':
		return "block";
	case 'p':
		return "fifo";
	case 's':
		return "socket";
	default:
		return "file";
	}
}

static int list_layer(struct inspect *in, const struct oci_image *img, size_t i, cJSON *jlayers)
{
	const struct oci_descriptor *d = &img->manifest->layers[i];
	struct oci_layer_reader *r;
	struct oci_error *err = NULL;
	if (oci_layer_open(in->layout, d, &img->config->diff_ids[i], &r, &err) < 0)
		return tool_fail(in->spec, err);
	cJSON *entries = NULL;
	if (jlayers) {
		cJSON *jl = json_descriptor(d);
		tool_json_int(jl, "layer", (int64_t)(i + 1));
		cJSON_AddStringToObject(jl, "diffId", img->config->diff_ids[i].str);
		entries = cJSON_AddArrayToObject(jl, "entries");
		cJSON_AddItemToArray(jlayers, jl);
	} else {
		printf("layer %zu/%zu %s (", i + 1, img->manifest->n_layers, d->digest.str);
		put_name(oci_media_short(d->media_type));
		printf(")\n");
	}
	struct archive_entry *e;
	int rc;
	while ((rc = oci_layer_next(r, &e, &err)) > 0) {
		const char *raw = archive_entry_pathname(e);
		char *path = oci_path_clean(raw ? raw : "");
		char *target = NULL;
		enum oci_whiteout wh = oci_whiteout_parse(path, &target);
		char tc = type_char(e);
		mode_t mode = archive_entry_perm(e);
		const char *link = archive_entry_hardlink(e);
		if (!link)
			link = archive_entry_symlink(e);
		char *clean_link = link && tc == 'h' ? oci_path_clean(link) : NULL;
		time_t mt = archive_entry_mtime(e);
		if (entries) {
			cJSON *o = cJSON_CreateObject();
			json_add_path(o, "path", path);
			cJSON_AddStringToObject(o, "type", type_word(tc));
			cJSON_AddNumberToObject(o, "mode", mode);
			tool_json_int(o, "uid", (int64_t)archive_entry_uid(e));
			tool_json_int(o, "gid", (int64_t)archive_entry_gid(e));
			tool_json_int(o, "size", (int64_t)archive_entry_size(e));
			tool_json_int(o, "mtime", (int64_t)mt);
			/* a hardlink names a path in the image (absolute, as
			 * every path); a symlink's target is its content */
			if (clean_link)
				json_add_path(o, "linkname", clean_link);
			else if (link)
				cJSON_AddStringToObject(o, "linkname", link);
			if (tc == 'c' || tc == 'b') {
				cJSON_AddNumberToObject(o, "devmajor", archive_entry_rdevmajor(e));
				cJSON_AddNumberToObject(o, "devminor", archive_entry_rdevminor(e));
			}
			if (wh == OCI_WHITEOUT_FILE || wh == OCI_WHITEOUT_OPAQUE) {
				cJSON_AddStringToObject(
				    o, "whiteout", wh == OCI_WHITEOUT_FILE ? "file" : "opaque");
				json_add_path(o, "hides", target);
			}
			if (archive_entry_xattr_reset(e) > 0) {
				cJSON *x = cJSON_AddObjectToObject(o, "xattrs");
				const char *xn;
				const void *xv;
				size_t xl;
				while (archive_entry_xattr_next(e, &xn, &xv, &xl) == ARCHIVE_OK)
					cJSON_AddItemToObject(
					    x, xn, cJSON_CreateString(xl ? "(binary)" : ""));
			}
			cJSON_AddItemToArray(entries, o);
		} else {
			char ms[11], tbuf[32];
			mode_string(mode, wh ? 'w' : tc, ms);
			struct tm tm;
			gmtime_r(&mt, &tm);
			strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M", &tm);
			char owner[64];
			snprintf(owner, sizeof(owner), "%lld/%lld", (long long)archive_entry_uid(e),
				 (long long)archive_entry_gid(e));
			if (tc == 'c' || tc == 'b')
				printf("%s %-11s %4u,%4u %s /", ms, owner,
				       (unsigned)archive_entry_rdevmajor(e),
				       (unsigned)archive_entry_rdevminor(e), tbuf);
			else
				printf("%s %-11s %9lld %s /", ms, owner,
				       (long long)archive_entry_size(e), tbuf);
			put_name(path);
			if (tc == 'd' && *path)
				putchar('/');
			if (wh == OCI_WHITEOUT_FILE) {
				printf("  [whiteout: removes /");
				put_name(target);
				putchar(']');
			} else if (wh == OCI_WHITEOUT_OPAQUE) {
				printf("  [opaque whiteout: empties /");
				put_name(target);
				putchar(']');
			} else if (tc == 'l') {
				printf(" -> ");
				put_name(link);
			} else if (tc == 'h') {
				printf(" link to /");
				put_name(clean_link);
			}
			putchar('\n');
		}
		free(clean_link);
		free(target);
		free(path);
	}
	oci_layer_free(r);
	if (rc < 0)
		return tool_fail(in->spec, err);
	return 0;
}

static int pick_layer(const struct oci_image *img, const char *arg, size_t *out)
{
	size_t n = img->manifest->n_layers;
	char *end;
	unsigned long v = strtoul(arg, &end, 10);
	if (*arg && !*end) {
		if (v < 1 || v > n)
			return tool_usage_error("--layer %s: the image has %zu layer%s (1..%zu)",
						arg, n, n == 1 ? "" : "s", n);
		*out = v - 1;
		return 0;
	}
	size_t found = n;
	for (size_t i = 0; i < n; i++) {
		const char *dg = img->manifest->layers[i].digest.str;
		const char *hex = oci_digest_hex(&img->manifest->layers[i].digest);
		if (strncmp(dg, arg, strlen(arg)) == 0 || strncmp(hex, arg, strlen(arg)) == 0) {
			if (found != n && strcmp(img->manifest->layers[found].digest.str, dg) != 0)
				return tool_usage_error("--layer %s: matches several layers", arg);
			found = i;
		}
	}
	if (found == n)
		return tool_usage_error("--layer %s: no such layer in the image", arg);
	*out = found;
	return 0;
}

static int list_merged(struct inspect *in, const struct oci_image *img)
{
	struct oci_snapshot *s;
	struct oci_error *err = NULL;
	if (oci_image_merge(img, &s, &err) < 0)
		return tool_fail(in->spec, err);
	cJSON *root = in->json ? cJSON_CreateObject() : NULL, *arr = NULL;
	if (root) {
		cJSON_AddStringToObject(root, "manifest", img->desc.digest.str);
		arr = cJSON_AddArrayToObject(root, "entries");
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct oci_snap_entry *e = &s->e[i];
		char tc = S_ISDIR(e->mode)    ? 'd'
			  : S_ISLNK(e->mode)  ? 'l'
			  : S_ISCHR(e->mode)  ? 'c'
			  : S_ISBLK(e->mode)  ? 'b'
			  : S_ISFIFO(e->mode) ? 'p'
					      : '-';
		time_t mt = (time_t)(e->mtime_ns / 1000000000);
		if (root) {
			cJSON *o = cJSON_CreateObject();
			json_add_path(o, "path", e->path);
			cJSON_AddStringToObject(o, "type", type_word(tc));
			cJSON_AddNumberToObject(o, "mode", e->mode & 07777);
			cJSON_AddNumberToObject(o, "uid", e->uid);
			cJSON_AddNumberToObject(o, "gid", e->gid);
			tool_json_int(o, "size", (int64_t)e->size);
			tool_json_int(o, "mtime", (int64_t)mt);
			if (e->link)
				cJSON_AddStringToObject(o, "linkname", e->link);
			if (e->digest.algo)
				cJSON_AddStringToObject(o, "digest", e->digest.str);
			cJSON_AddItemToArray(arr, o);
			continue;
		}
		char ms[11], tbuf[32], owner[64];
		mode_string(e->mode, tc, ms);
		struct tm tm;
		gmtime_r(&mt, &tm);
		strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M", &tm);
		snprintf(owner, sizeof(owner), "%u/%u", e->uid, e->gid);
		if (tc == 'c' || tc == 'b')
			printf("%s %-11s %4u,%4u %s /", ms, owner, major(e->rdev), minor(e->rdev),
			       tbuf);
		else
			printf("%s %-11s %9lld %s /", ms, owner, (long long)e->size, tbuf);
		put_name(e->path);
		if (tc == 'd')
			putchar('/');
		else if (tc == 'l') {
			printf(" -> ");
			put_name(e->link);
		}
		putchar('\n');
	}
	if (root) {
		char *js = cJSON_Print(root);
		puts(js);
		free(js);
		cJSON_Delete(root);
	}
	oci_snapshot_free(s);
	return tool_flush_stdout();
}

static int do_usage(struct inspect *in)
{
	struct oci_image *img;
	int r = load_image(in, &img);
	if (r)
		return r;
	r = inspect_usage(in->spec, img, in->json, &in->gates);
	oci_image_free(img);
	return r;
}

static int do_files(struct inspect *in)
{
	struct oci_image *img;
	int r = load_image(in, &img);
	if (r)
		return r;
	if (in->merged) {
		r = list_merged(in, img);
		oci_image_free(img);
		return r;
	}
	size_t from = 0, to = img->manifest->n_layers;
	if (in->layer) {
		size_t k = 0;
		if ((r = pick_layer(img, in->layer, &k))) {
			oci_image_free(img);
			return r;
		}
		from = k;
		to = k + 1;
	}
	cJSON *root = in->json ? cJSON_CreateObject() : NULL;
	cJSON *jlayers = NULL;
	if (root) {
		cJSON_AddStringToObject(root, "manifest", img->desc.digest.str);
		jlayers = cJSON_AddArrayToObject(root, "layers");
	}
	for (size_t i = from; i < to && !r; i++)
		r = list_layer(in, img, i, jlayers);
	if (root && !r) {
		char *s = cJSON_Print(root);
		puts(s);
		free(s);
	}
	cJSON_Delete(root);
	oci_image_free(img);
	return r ? r : tool_flush_stdout();
}

/* ---- fsck ---- */

static void put_field(const char *s)
{
	/* one line per problem: no spaces or control characters inside a field */
	for (const char *sp; (sp = strchr(s, ' ')); s = sp + 1) {
		char *part = strndup(s, (size_t)(sp - s));
		if (!part)
			abort();
		put_name(part);
		free(part);
		fputs("\\040", stdout);
	}
	put_name(s);
}

static int print_report(const struct inspect *in, const struct oci_verify_report *rep,
			bool unfixable_only)
{
	if (in->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON *p = cJSON_AddArrayToObject(o, "problems");
		cJSON *nn = cJSON_AddArrayToObject(o, "notes");
		for (size_t i = 0; i < rep->n; i++) {
			const struct oci_problem *x = &rep->p[i];
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "kind", x->kind);
			cJSON_AddStringToObject(e, "digest", x->digest);
			/* a list is an array, never a joined string: the library
			 * joins with commas, "-" for none; a ref cannot hold a
			 * comma (annotations.md's grammar) */
			cJSON *refs = cJSON_AddArrayToObject(e, "refs");
			if (strcmp(x->refs, "-") != 0) {
				cleanup_refs char *all = strdup(x->refs);
				char *save = NULL;
				for (char *r = all ? strtok_r(all, ",", &save) : NULL; r;
				     r = strtok_r(NULL, ",", &save))
					cJSON_AddItemToArray(refs, cJSON_CreateString(r));
			}
			cJSON_AddStringToObject(e, "detail", x->detail);
			cJSON_AddBoolToObject(e, "repairable", x->fixable);
			cJSON_AddItemToArray(x->note ? nn : p, e);
		}
		tool_json_int(o, "blobs", (int64_t)rep->blobs);
		tool_json_int(o, "bytes", (int64_t)rep->bytes);
		char *s = cJSON_Print(o);
		puts(s);
		free(s);
		cJSON_Delete(o);
	} else {
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < rep->n; i++) {
				const struct oci_problem *x = &rep->p[i];
				if (x->note != (pass == 1) ||
				    (unfixable_only && (x->note || x->fixable)))
					continue;
				if (x->note)
					fputs("note ", stdout);
				put_field(x->kind);
				putchar(' ');
				put_field(x->digest);
				putchar(' ');
				put_field(x->refs);
				putchar(' ');
				put_name(x->detail);
				putchar('\n');
			}
		tool_note("%zu problem%s, %zu note%s; %zu blobs, %lld bytes checked",
			  rep->n_problems, rep->n_problems == 1 ? "" : "s", rep->n_notes,
			  rep->n_notes == 1 ? "" : "s", rep->blobs, rep->bytes);
	}
	if (tool_flush_stdout())
		return EXIT_TROUBLE;
	if (unfixable_only) {
		for (size_t i = 0; i < rep->n; i++)
			if (!rep->p[i].note && !rep->p[i].fixable)
				return EXIT_NEGATIVE;
		return EXIT_OK;
	}
	return rep->n_problems ? EXIT_NEGATIVE : EXIT_OK;
}

static int verify_path(struct inspect *in, const char *path, bool unfixable_only)
{
	struct oci_error *err = NULL;
	struct oci_layout *l;
	if (oci_layout_open_flags(path, OCI_LAYOUT_OPEN_LENIENT, &l, &err) < 0)
		return tool_fail(path, err);
	struct oci_verify_report *rep;
	struct tool_ticker tick;
	tool_ticker_start(&tick, "verifying");
	int vr = oci_layout_verify(l, &rep, &err);
	tool_ticker_stop(&tick);
	if (vr < 0) {
		oci_layout_free(l);
		return tool_fail(path, err);
	}
	int r = print_report(in, rep, unfixable_only);
	oci_verify_report_free(rep);
	oci_layout_free(l);
	return r;
}

static int do_verify(struct inspect *in)
{
	struct oci_image_ref ref;
	struct oci_error *err = NULL;
	if (oci_image_ref_parse(in->spec, &ref, &err) < 0)
		return tool_fail(in->spec, err);
	int r = verify_path(in, ref.path, false);
	oci_image_ref_release(&ref);
	return r;
}

static void repair_line(void *arg, const char *kind, const char *digest, const char *refs,
			const char *detail)
{
	const struct inspect *in = arg;
	fputs(in->dry_run ? "would fix " : "fixed ", stdout);
	put_field(kind);
	putchar(' ');
	put_field(digest);
	putchar(' ');
	put_field(refs);
	putchar(' ');
	put_name(detail);
	putchar('\n');
}

static int do_repair(struct inspect *in)
{
	struct oci_image_ref ref;
	struct oci_error *err = NULL;
	if (oci_image_ref_parse(in->spec, &ref, &err) < 0)
		return tool_fail(in->spec, err);
	struct stat st;
	const char *target = ref.path;
	char *tmp_layout = NULL;
	enum oci_layout_kind kind = OCI_LAYOUT_DIR;
	int r = 0;
	if (strcmp(ref.path, "-") == 0 || stat(ref.path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		/* an archive: repaired as a copy, never in place */
		if (!in->output) {
			oci_image_ref_release(&ref);
			return tool_usage_error(
			    "--repair of an archive needs -o PATH for the repaired "
			    "copy");
		}
		struct oci_layout *l = NULL;
		/* -o naming an archive: repaired in a layout beside it, then
		 * written as an archive of the source's kind (oci-copy's writer) */
		if (oci_copy_guess_format(in->output) != OCI_COPY_LAYOUT) {
			if (lstat(in->output, &st) == 0) {
				r = tool_failf(ref.path, "%s: exists; give a new path", in->output);
				oci_image_ref_release(&ref);
				return r;
			}
			if (asprintf(&tmp_layout, "%s.repair-%d", in->output, (int)getpid()) < 0)
				abort();
		}
		if (oci_layout_open_flags(ref.path, OCI_LAYOUT_OPEN_LENIENT, &l, &err) < 0 ||
		    oci_layout_export_dir(l, tmp_layout ? tmp_layout : in->output, &err) < 0) {
			oci_layout_free(l);
			r = tool_fail(ref.path, err);
			oci_image_ref_release(&ref);
			free(tmp_layout);
			return r;
		}
		kind = oci_layout_kind(l);
		oci_layout_free(l);
		target = tmp_layout ? tmp_layout : in->output;
	} else if (in->output) {
		oci_image_ref_release(&ref);
		return tool_usage_error(
		    "-o is for archives; a layout directory is repaired in place");
	}
	struct oci_repair_opts o = {
	    .dry_run = in->dry_run, .gc = in->gc, .report = repair_line, .arg = in};
	if (oci_layout_repair(target, &o, &err) < 0)
		r = tool_fail(target, err);
	else if (tool_flush_stdout())
		r = EXIT_TROUBLE;
	if (r == 0) {
		/* what is left after the fixes (with --dry-run: what they would not fix) */
		struct inspect quiet = *in;
		quiet.json = false;
		r = verify_path(&quiet, target, in->dry_run);
	}
	if (tmp_layout) {
		if (r == 0 && !in->dry_run &&
		    oci_layout_export_archive(tmp_layout, in->output, kind, true, &err) < 0)
			r = tool_fail(in->output, err);
		else if (r != 0 || in->dry_run)
			oci_layout_export_archive(tmp_layout, NULL, kind, true, NULL);
		free(tmp_layout);
	}
	oci_image_ref_release(&ref);
	return r;
}

int main(int argc, char **argv)
{
	tool_init("oci-inspect", argc, argv);
	enum {
		OPT_JSON = 256,
		OPT_REFS,
		OPT_MANIFEST,
		OPT_CONFIG,
		OPT_INDEX,
		OPT_FILES,
		OPT_HISTORY,
		OPT_LAYER,
		OPT_MERGED,
		OPT_PLATFORM,
		OPT_VERIFY,
		OPT_REPAIR,
		OPT_DRY_RUN,
		OPT_GC,
		OPT_USAGE,
		OPT_GATE,
	};
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"refs", no_argument, NULL, OPT_REFS},
	    {"manifest", no_argument, NULL, OPT_MANIFEST},
	    {"config", no_argument, NULL, OPT_CONFIG},
	    {"index", no_argument, NULL, OPT_INDEX},
	    {"files", no_argument, NULL, OPT_FILES},
	    {"history", no_argument, NULL, OPT_HISTORY},
	    {"layer", required_argument, NULL, OPT_LAYER},
	    {"merged", no_argument, NULL, OPT_MERGED},
	    {"platform", required_argument, NULL, OPT_PLATFORM},
	    {"verify", no_argument, NULL, OPT_VERIFY},
	    {"repair", no_argument, NULL, OPT_REPAIR},
	    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
	    {"gc", no_argument, NULL, OPT_GC},
	    {"output", required_argument, NULL, 'o'},
	    {"usage", no_argument, NULL, OPT_USAGE},
	    {"max-wasted-bytes", required_argument, NULL, OPT_GATE},
	    {"max-wasted-percent", required_argument, NULL, OPT_GATE},
	    {"min-efficiency", required_argument, NULL, OPT_GATE},
	    TOOL_STD_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct inspect in = {.mode = MODE_TREE};
	int nmodes = 0, c, li;
	while ((c = getopt_long(argc, argv, "o:" TOOL_STD_SHORT, longopts, &li)) != -1) {
		switch (c) {
		case OPT_USAGE:
			in.mode = MODE_USAGE, nmodes++;
			break;
		case OPT_GATE: {
			int st = usage_gate_option(&in.gates, longopts[li].name, optarg);
			if (st)
				return st;
			break;
		}
		case OPT_JSON:
			in.json = true;
			break;
		case OPT_REFS:
			in.mode = MODE_REFS, nmodes++;
			break;
		case OPT_MANIFEST:
			in.mode = MODE_MANIFEST, nmodes++;
			break;
		case OPT_CONFIG:
			in.mode = MODE_CONFIG, nmodes++;
			break;
		case OPT_INDEX:
			in.mode = MODE_INDEX, nmodes++;
			break;
		case OPT_FILES:
			in.mode = MODE_FILES, nmodes++;
			break;
		case OPT_HISTORY:
			in.mode = MODE_HISTORY, nmodes++;
			break;
		case OPT_LAYER:
			in.layer = optarg;
			break;
		case OPT_PLATFORM:
			in.platform_arg = optarg;
			break;
		case OPT_MERGED:
			in.merged = true;
			break;
		case OPT_VERIFY:
			in.mode = MODE_VERIFY, nmodes++;
			break;
		case OPT_REPAIR:
			in.mode = MODE_REPAIR, nmodes++;
			break;
		case OPT_DRY_RUN:
			in.dry_run = true;
			break;
		case OPT_GC:
			in.gc = true;
			break;
		case 'o':
			in.output = optarg;
			break;
		default: {
			int st = tool_std_option(c, usage, argv);
			if (st != TOOL_CONTINUE)
				return st;
		}
		}
	}
	tool_args_done(argc, argv);
	if (nmodes > 1)
		return tool_usage_error(
		    "--refs, --manifest, --config, --index, --files, --history, --usage, "
		    "--verify and --repair are mutually exclusive");
	if (usage_gates_any(&in.gates) && nmodes == 0)
		in.mode = MODE_USAGE, nmodes++;
	if (usage_gates_any(&in.gates) && in.mode != MODE_USAGE)
		return tool_usage_error("--max-wasted-bytes, --max-wasted-percent and "
					"--min-efficiency go with --usage");
	if ((in.dry_run || in.gc || in.output) && in.mode != MODE_REPAIR)
		return tool_usage_error("--dry-run, --gc and -o go with --repair");
	if (in.merged && nmodes == 0)
		in.mode = MODE_FILES, nmodes++;
	if (in.layer && in.mode != MODE_FILES)
		return tool_usage_error("--layer needs --files");
	if (in.layer && in.merged)
		return tool_usage_error("--layer and --merged are mutually exclusive");
	if (in.merged && in.mode != MODE_FILES)
		return tool_usage_error("--merged goes with --files");
	if (in.json &&
	    (in.mode == MODE_MANIFEST || in.mode == MODE_CONFIG || in.mode == MODE_INDEX))
		return tool_usage_error("--json does not apply to --manifest, --config or --index "
					"(they print JSON already)");
	if (optind + 1 != argc)
		return tool_usage_error(optind == argc ? "missing IMAGE" : "too many arguments");
	if (in.json && in.mode == MODE_TREE)
		in.mode = MODE_JSON;
	in.spec = argv[optind];
	if (tool_platform(in.platform_arg, &in.platform))
		return EXIT_TROUBLE;
	/* every walk, read and repair stops at a signal, leaving nothing half
	 * written; the tool then ends with 128+N */
	tool_catch_signals();
	oci_set_cancel_flag(&tool_signal);

	struct oci_error *err = NULL;
	int r = -1;
	if (in.mode == MODE_VERIFY || in.mode == MODE_REPAIR)
		r = in.mode == MODE_VERIFY ? do_verify(&in) : do_repair(&in);
	else if (oci_image_ref_parse(in.spec, &in.ref, &err) < 0)
		r = tool_fail(in.spec, err);
	else if (oci_layout_open(in.ref.path, &in.layout, &err) < 0 &&
		 tool_is_bundle(in.ref.path)) {
		oci_error_free(err);
		r = tool_failf(in.ref.path,
			       "a bundle made by oci-unpack, not an image (oci-diff %s "
			       "shows what changed in it)",
			       in.ref.path);
	} else if (in.layout == NULL)
		r = tool_fail(in.ref.path, err);
	else if ((in.ref.ref || in.ref.has_digest) &&
		 oci_layout_select(in.layout, &in.ref, &in.sel, &err) < 0)
		r = tool_fail(in.spec, err);
	else
		in.have_sel = in.ref.ref || in.ref.has_digest;
	if (r >= 0)
		goto out;
	switch (in.mode) {
	case MODE_TREE:
	case MODE_JSON:
		r = do_tree(&in);
		break;
	case MODE_REFS:
		r = do_refs(&in);
		break;
	case MODE_FILES:
		r = do_files(&in);
		break;
	case MODE_USAGE:
		r = do_usage(&in);
		break;
	case MODE_HISTORY:
		r = do_history(&in);
		break;
	default:
		r = do_document(&in);
		break;
	}
out:
	if (in.have_sel)
		oci_descriptor_release(&in.sel);
	oci_image_ref_release(&in.ref);
	oci_platform_release(&in.platform);
	oci_layout_free(in.layout);
	tool_signal_exit();
	return r;
}
