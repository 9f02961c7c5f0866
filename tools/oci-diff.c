/* oci-diff: the changeset of a bundle against its unpack record, or of two
 * directories; as A/C/D lines, as JSON, or as a ready OCI layer tar. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "common.h"

static const char usage[] =
    "Usage: oci-diff [OPTION]... BUNDLE\n"
    "       oci-diff [OPTION]... DIR_A DIR_B\n"
    "       oci-diff [OPTION]... IMAGE_A IMAGE_B\n"
    "Show what changed in BUNDLE's rootfs since oci-unpack made it, from DIR_A to DIR_B, or\n"
    "from IMAGE_A's root filesystem and config to IMAGE_B's (computed from their layers,\n"
    "without unpacking; config differences are shown as C config.FIELD, or C os,\n"
    "C architecture, C variant, C author for the top-level ones).\n"
    "\n"
    "  (no option)        one line per change, sorted: A /path, C /path, D /path\n"
    "      --json         each change with the fields that differ, before and after\n"
    "      --tar          the changeset as an OCI layer tar on stdout (whiteouts for\n"
    "                     deletions, explicit whiteouts for replaced directories); between\n"
    "                     two images with B's content, to apply over A\n"
    "      --platform OS/ARCH[/VARIANT]  for images: choose from an index (default: host)\n"
    "      --compress gzip|zstd|none  compress the --tar output (default none)\n"
    "      --ignore-mtime changes in modification time alone do not count\n"
    "  -q, --quiet        no messages on stderr\n"
    "      --progress     between images: a live line on stderr even when it is not a\n"
    "                     terminal\n"
    "  -h, --help         this help\n"
    "  -V, --version      print the version\n"
    "\n"
    "Exit status: 0 no differences, 1 differences, 2 trouble; with --tar 0 when the\n"
    "layer was written (with changes or none), 2 trouble.\n";

static void put_path(FILE *f, const char *p)
{
	fputc('/', f);
	tool_put_escaped(f, p);
}

static const char *type_name(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "file";
	case S_IFDIR:
		return "dir";
	case S_IFLNK:
		return "symlink";
	case S_IFCHR:
		return "char";
	case S_IFBLK:
		return "block";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	}
	return "unknown";
}

static cJSON *json_entry(const struct oci_snap_entry *e)
{
	cJSON *o = cJSON_CreateObject();
	/* the encodings oci-inspect uses for the same things (docs/json.md) */
	cJSON_AddStringToObject(o, "type", type_name(e->mode));
	cJSON_AddNumberToObject(o, "mode", e->mode & 07777);
	cJSON_AddNumberToObject(o, "uid", e->uid);
	cJSON_AddNumberToObject(o, "gid", e->gid);
	tool_json_int(o, "size", (int64_t)e->size);
	tool_json_seconds(o, "mtime", e->mtime_ns);
	if (e->digest.algo)
		cJSON_AddStringToObject(o, "digest", e->digest.str);
	if (e->link)
		cJSON_AddStringToObject(o, "linkname", e->link);
	if (S_ISCHR(e->mode) || S_ISBLK(e->mode)) {
		cJSON_AddNumberToObject(o, "devmajor", major(e->rdev));
		cJSON_AddNumberToObject(o, "devminor", minor(e->rdev));
	}
	if (e->xattrs && *e->xattrs) {
		cJSON *x = cJSON_AddObjectToObject(o, "xattrs");
		/* names may hold ";" and "=": the library splits the string */
		const char *cur = e->xattrs;
		char *name;
		unsigned char *val;
		size_t len;
		while (oci_snapshot_xattr_next(&cur, &name, &val, &len) > 0) {
			char *hex = malloc(2 * len + 1);
			if (!hex)
				abort();
			for (size_t i = 0; i < len; i++)
				snprintf(hex + 2 * i, 3, "%02x", val[i]);
			hex[2 * len] = 0;
			cJSON_AddStringToObject(x, name, hex);
			free(hex);
			free(name);
			free(val);
		}
	}
	return o;
}

static int print_json(const struct oci_changeset *cs, cJSON *cfgdiff)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(root, "changes");
	for (size_t i = 0; i < cs->n; i++) {
		const struct oci_change *c = &cs->c[i];
		const struct oci_snap_entry *e = c->after ? c->after : c->before;
		cJSON *o = cJSON_CreateObject();
		size_t pl = strlen(e->path) + 2;
		char *p = malloc(pl);
		if (!p)
			abort();
		snprintf(p, pl, "/%s", e->path);
		cJSON_AddStringToObject(o, "path", p);
		free(p);
		cJSON_AddStringToObject(o, "kind",
					c->kind == OCI_CHANGE_ADDED	? "added"
					: c->kind == OCI_CHANGE_DELETED ? "deleted"
									: "changed");
		cJSON *fields = cJSON_AddArrayToObject(o, "fields");
		for (unsigned f = 1; f <= OCI_FIELD_REPLACED; f <<= 1)
			if (c->fields & f)
				cJSON_AddItemToArray(fields,
						     cJSON_CreateString(oci_change_field_name(f)));
		cJSON_AddItemToObject(o, "before",
				      c->before ? json_entry(c->before) : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "after",
				      c->after ? json_entry(c->after) : cJSON_CreateNull());
		cJSON_AddItemToArray(arr, o);
	}
	tool_json_int(root, "count", (int64_t)cs->n);
	if (cfgdiff)
		cJSON_AddItemReferenceToObject(root, "config", cfgdiff);
	char *s = cJSON_Print(root);
	puts(s);
	free(s);
	cJSON_Delete(root);
	return tool_flush_stdout();
}

/* the config fields two images may differ in: top-level, then config.* */
static const char *const config_top[] = {"os", "architecture", "variant", "author", NULL};
static const char *const config_fields[] = {"Entrypoint", "Cmd",    "Env",	    "WorkingDir",
					    "User",	  "Labels", "ExposedPorts", "Volumes",
					    "StopSignal", NULL};

static cJSON *config_diff(const struct oci_config *a, const struct oci_config *b)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *ca = cJSON_GetObjectItemCaseSensitive(a->root, "config");
	const cJSON *cb = cJSON_GetObjectItemCaseSensitive(b->root, "config");
	for (int pass = 0; pass < 2; pass++) {
		const char *const *keys = pass ? config_fields : config_top;
		const cJSON *pa = pass ? ca : a->root, *pb = pass ? cb : b->root;
		for (; *keys; keys++) {
			const cJSON *va = cJSON_GetObjectItemCaseSensitive(pa, *keys);
			const cJSON *vb = cJSON_GetObjectItemCaseSensitive(pb, *keys);
			bool na = !va || cJSON_IsNull(va), nb = !vb || cJSON_IsNull(vb);
			if ((na && nb) || (!na && !nb && cJSON_Compare(va, vb, 1)))
				continue;
			cJSON *o = cJSON_CreateObject();
			char field[64];
			snprintf(field, sizeof(field), "%s%s", pass ? "config." : "", *keys);
			cJSON_AddStringToObject(o, "field", field);
			cJSON_AddItemToObject(o, "before",
					      na ? cJSON_CreateNull() : cJSON_Duplicate(va, 1));
			cJSON_AddItemToObject(o, "after",
					      nb ? cJSON_CreateNull() : cJSON_Duplicate(vb, 1));
			cJSON_AddItemToArray(out, o);
		}
	}
	return out;
}

/* a directory that is not an image layout */
static bool is_plain_dir(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return false;
	size_t n = strlen(path) + 16;
	char *idx = malloc(n);
	if (!idx)
		abort();
	snprintf(idx, n, "%s/index.json", path);
	bool r = stat(idx, &st) < 0;
	free(idx);
	return r;
}

int main(int argc, char **argv)
{
	tool_init("oci-diff", argc, argv);
	enum { OPT_JSON = 256, OPT_TAR, OPT_COMPRESS, OPT_IGNORE_MTIME, OPT_PLATFORM };
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"tar", no_argument, NULL, OPT_TAR},
	    {"compress", required_argument, NULL, OPT_COMPRESS},
	    {"ignore-mtime", no_argument, NULL, OPT_IGNORE_MTIME},
	    {"platform", required_argument, NULL, OPT_PLATFORM},
	    TOOL_STD_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	bool json = false, tar = false;
	int compression = OCI_COMPRESS_NONE;
	struct oci_diff_opts o = {0};
	const char *platform_arg = NULL;
	int c, opt_st;
	while ((c = getopt_long(argc, argv, TOOL_STD_SHORT, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = true;
			break;
		case OPT_TAR:
			tar = true;
			break;
		case OPT_COMPRESS:
			if ((opt_st = tool_compression_option("--compress", optarg,
							      &compression)) != TOOL_CONTINUE)
				return opt_st;
			break;
		case OPT_IGNORE_MTIME:
			o.ignore_mtime = true;
			break;
		case OPT_PLATFORM:
			platform_arg = optarg;
			break;
		default:
			if ((opt_st = tool_std_option(c, usage, argv)) != TOOL_CONTINUE)
				return opt_st;
		}
	}
	tool_args_done(argc, argv);
	int nargs = argc - optind;
	if (nargs < 1 || nargs > 2)
		return tool_usage_error(
		    nargs < 1
			? "missing BUNDLE or DIR_A DIR_B"
			: "too many arguments: expected BUNDLE, DIR_A DIR_B or IMAGE_A IMAGE_B");
	if (json && tar)
		return tool_usage_error("--json and --tar are mutually exclusive");
	if (compression != OCI_COMPRESS_NONE && !tar)
		return tool_usage_error("--compress needs --tar");
	if (tar && isatty(1))
		return tool_usage_error("--tar: refusing to write a tar to a terminal");
	/* the walks and layer reads stop at a signal; the tool ends with 128+N */
	tool_catch_signals();
	oci_set_cancel_flag(&tool_signal);

	struct oci_error *err = NULL;
	struct oci_changeset *cs = NULL;
	const char *subject = argv[optind];
	struct oci_layout *la = NULL, *lb = NULL;
	struct oci_image *ia = NULL, *ib = NULL;
	cJSON *cfgdiff = NULL;
	int r;
	if (nargs == 1) {
		r = oci_changeset_bundle(argv[optind], &o, &cs, &err);
	} else if (is_plain_dir(argv[optind]) && is_plain_dir(argv[optind + 1])) {
		r = oci_changeset_dirs(argv[optind], argv[optind + 1], &o, &cs, &err);
	} else {
		/* a bundle is compared with its own record; beside an image or
		 * a directory it would be read as a layout it is not */
		for (int i = 0; i < 2; i++)
			if (tool_is_bundle(argv[optind + i]))
				return tool_usage_error(
				    "%s: a bundle is compared with the record of its unpack, "
				    "alone (oci-diff %s); compare two images or two directories",
				    argv[optind + i], argv[optind + i]);
		for (int i = 0; i < 2; i++) {
			struct oci_image_ref ir;
			struct stat st;
			if (oci_image_ref_parse(argv[optind + i], &ir, NULL) < 0 ||
			    (strcmp(ir.path, "-") && stat(ir.path, &st) < 0)) {
				if (ir.path)
					oci_image_ref_release(&ir);
				return tool_failf(argv[optind + i], "no such directory or image");
			}
			oci_image_ref_release(&ir);
		}
		struct oci_platform platform;
		if (tool_platform(platform_arg, &platform))
			return EXIT_TROUBLE;
		struct oci_snapshot *sa = NULL, *sb = NULL;
		struct tool_ticker tick;
		tool_ticker_start(&tick, "reading the images");
		subject = argv[optind];
		r = oci_image_open(argv[optind], &platform, &la, &ia, &err);
		if (r == 0)
			r = oci_image_merge(ia, &sa, &err);
		if (r == 0) {
			subject = argv[optind + 1];
			r = oci_image_open(argv[optind + 1], &platform, &lb, &ib, &err);
		}
		/* with --tar, B's files' content is kept as B is read: the layer
		 * needs it */
		if (r == 0)
			r = tar ? oci_image_merge_content(ib, &sb, &err)
				: oci_image_merge(ib, &sb, &err);
		if (r == 0) {
			r = oci_changeset_snapshots(sa, sb, &o, &cs, &err);
			sa = sb = NULL;
		}
		tool_ticker_stop(&tick);
		oci_snapshot_free(sa);
		oci_snapshot_free(sb);
		if (r == 0)
			cfgdiff = config_diff(ia->config, ib->config);
		oci_platform_release(&platform);
	}
	if (r < 0) {
		oci_image_free(ia);
		oci_image_free(ib);
		oci_layout_free(la);
		oci_layout_free(lb);
		tool_fail(subject, err);
		tool_signal_exit();
		return EXIT_TROUBLE;
	}
	int ncfg = cfgdiff ? cJSON_GetArraySize(cfgdiff) : 0;
	int status = cs->n || ncfg ? EXIT_NEGATIVE : EXIT_OK;
	if (tar) {
		struct oci_layer_write_opts wo = {.compression = compression, .clamp_mtime = -1};
		struct oci_layer_result res;
		/* a producer of a layer: having written it is success, changes
		 * or none, so that a pipeline into oci-commit passes under
		 * pipefail */
		status = EXIT_OK;
		tool_stream_begin();
		if (oci_changeset_write_layer(cs, 1, &wo, &res, &err) < 0) {
			tool_stream_abort();
			status = tool_fail(subject, err);
		} else
			tool_note("%zu change%s, %zu tar entries, diff_id %s", cs->n,
				  cs->n == 1 ? "" : "s", res.entries, res.diff_id.str);
		if (status != EXIT_TROUBLE && res.skipped)
			tool_note("%zu socket%s not kept in the layer (as tar does): %s%s",
				  res.skipped, res.skipped == 1 ? "" : "s", res.skipped_first,
				  res.skipped > 1 ? ", ..." : "");
	} else if (json) {
		if (print_json(cs, cfgdiff))
			status = EXIT_TROUBLE;
	} else {
		for (size_t i = 0; i < cs->n; i++) {
			const struct oci_change *ch = &cs->c[i];
			printf("%c ", ch->kind);
			put_path(stdout, (ch->after ? ch->after : ch->before)->path);
			putchar('\n');
		}
		const cJSON *d;
		cJSON_ArrayForEach (d, cfgdiff) {
			printf("C %s\n", cJSON_GetObjectItemCaseSensitive(d, "field")->valuestring);
		}
		if (tool_flush_stdout())
			status = EXIT_TROUBLE;
	}
	oci_changeset_free(cs);
	cJSON_Delete(cfgdiff);
	oci_image_free(ia);
	oci_image_free(ib);
	oci_layout_free(la);
	oci_layout_free(lb);
	tool_signal_exit();
	return status;
}
