/* oci-commit: a bundle's changeset, a directory, or a ready layer tar into
 * a new layer, config, manifest and ref; or a config change alone. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

static const char usage[] =
    "Usage: oci-commit [OPTION]... [SOURCE] IMAGE:REF\n"
    "Commit SOURCE as a new layer on top of its parent and point REF at the result.\n"
    "SOURCE is a bundle made by oci-unpack (the layer is its changeset, the parent the image\n"
    "it came from), a plain directory (a scratch image with that one layer), or absent with\n"
    "--layer FILE|- (a ready layer tar) or --from IMAGE alone (a config change).\n"
    "Prints the new manifest digest.\n"
    "\n"
    "      --from IMAGE       the parent image\n"
    "      --layer FILE|-     a ready layer tar (plain, gzip or zstd)\n"
    "      --compression gzip|zstd|none  (default gzip)   --level N\n"
    "      --squash           one layer holding the whole rootfs instead of the changeset\n"
    "      --allow-empty      add a layer even when nothing changed\n"
    "      --single-platform  REF points at the new manifest, not at a new index\n"
    "      --keep-record      leave a bundle's record as it was (by default it is rewritten\n"
    "                         to describe the committed image, so that the next commit\n"
    "                         from the bundle holds only the next step's changes)\n"
    "      --timestamp T      reproducible: created and history use T (seconds since the\n"
    "                         epoch or YYYY-MM-DDTHH:MM:SSZ); no mtime later than T.\n"
    "                         SOURCE_DATE_EPOCH is used when this is absent.\n"
    "      --platform OS/ARCH[/VARIANT]  of a scratch image; chooses the parent from an index\n"
    "Config:\n"
    "      --entrypoint ARGS  a JSON array, or a string run by /bin/sh -c\n"
    "      --cmd ARGS         likewise\n"
    "      --env K=V          set K (repeatable)\n"
    "      --workdir DIR      --user USER[:GROUP]   --stop-signal SIG\n"
    "      --label K=V        (repeatable)   --expose PORT[/PROTO] (repeatable)\n"
    "      --volume PATH      (repeatable)   --author NAME\n"
    "  -m, --message TEXT     the history comment   --created-by TEXT\n"
    "      --annotation K=V   on the manifest (repeatable)\n"
    "  -q, --quiet            no messages on stderr\n"
    "      --progress         a live line on stderr even when it is not a terminal\n"
    "  -h, --help             this help\n"
    "  -V, --version          print the version\n"
    "\n"
    "Exit status: 0 success, 2 trouble.\n";

#define MAXREP 256

static int add_kv(struct oci_kv *v, size_t *n, char *s, const char *opt)
{
	char *eq = strchr(s, '=');
	if (!eq || eq == s)
		return tool_usage_error("%s %s: expected K=V", opt, s);
	if (*n >= MAXREP)
		return tool_usage_error("%s: too many", opt);
	*eq = 0;
	v[*n].key = s;
	v[*n].value = eq + 1;
	(*n)++;
	return 0;
}

static int add_str(const char **v, size_t *n, const char *s, const char *opt)
{
	if (*n >= MAXREP)
		return tool_usage_error("%s: too many", opt);
	v[(*n)++] = s;
	v[*n] = NULL;
	return 0;
}

static int parse_time(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*s && !*end && !errno && v >= 0) {
		*out = v;
		return 0;
	}
	struct tm tm = {0};
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end && !*end) {
		*out = (int64_t)timegm(&tm);
		return 0;
	}
	return -1;
}

/* a directory that can be a SOURCE: one oci-unpack made, or a plain one
 * (not an image layout, which is a destination) */
static bool is_source_dir(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return false;
	size_t n = strlen(path) + sizeof("/index.json");
	char *idx = malloc(n);
	if (!idx)
		abort();
	snprintf(idx, n, "%s/index.json", path);
	bool layout = stat(idx, &st) == 0;
	free(idx);
	return !layout;
}

int main(int argc, char **argv)
{
	tool_init("oci-commit", argc, argv);
	enum {
		OPT_FROM = 256,
		OPT_LAYER,
		OPT_COMPRESSION,
		OPT_LEVEL,
		OPT_SQUASH,
		OPT_ALLOW_EMPTY,
		OPT_SINGLE,
		OPT_TIMESTAMP,
		OPT_PLATFORM,
		OPT_ENTRYPOINT,
		OPT_CMD,
		OPT_ENV,
		OPT_WORKDIR,
		OPT_USER,
		OPT_STOP,
		OPT_LABEL,
		OPT_EXPOSE,
		OPT_VOLUME,
		OPT_AUTHOR,
		OPT_CREATED_BY,
		OPT_ANNOTATION,
		OPT_KEEP_RECORD,
	};
	static const struct option longopts[] = {
	    {"from", required_argument, NULL, OPT_FROM},
	    {"layer", required_argument, NULL, OPT_LAYER},
	    {"compression", required_argument, NULL, OPT_COMPRESSION},
	    {"level", required_argument, NULL, OPT_LEVEL},
	    {"squash", no_argument, NULL, OPT_SQUASH},
	    {"allow-empty", no_argument, NULL, OPT_ALLOW_EMPTY},
	    {"single-platform", no_argument, NULL, OPT_SINGLE},
	    {"timestamp", required_argument, NULL, OPT_TIMESTAMP},
	    {"platform", required_argument, NULL, OPT_PLATFORM},
	    {"entrypoint", required_argument, NULL, OPT_ENTRYPOINT},
	    {"cmd", required_argument, NULL, OPT_CMD},
	    {"env", required_argument, NULL, OPT_ENV},
	    {"workdir", required_argument, NULL, OPT_WORKDIR},
	    {"user", required_argument, NULL, OPT_USER},
	    {"stop-signal", required_argument, NULL, OPT_STOP},
	    {"label", required_argument, NULL, OPT_LABEL},
	    {"expose", required_argument, NULL, OPT_EXPOSE},
	    {"volume", required_argument, NULL, OPT_VOLUME},
	    {"author", required_argument, NULL, OPT_AUTHOR},
	    {"message", required_argument, NULL, 'm'},
	    {"created-by", required_argument, NULL, OPT_CREATED_BY},
	    {"annotation", required_argument, NULL, OPT_ANNOTATION},
	    {"keep-record", no_argument, NULL, OPT_KEEP_RECORD},
	    TOOL_STD_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	static struct oci_kv labels[MAXREP], annotations[MAXREP];
	static const char *env[MAXREP + 1], *expose[MAXREP + 1], *volumes[MAXREP + 1];
	size_t n_env = 0, n_expose = 0, n_volumes = 0;
	struct oci_commit_opts o = {.compression = OCI_COMPRESS_GZIP,
				    .timestamp = -1,
				    .env = env,
				    .expose = expose,
				    .volumes = volumes,
				    .labels = labels,
				    .annotations = annotations};
	const char *platform_arg = NULL, *ts = NULL;
	int c, r;
	while ((c = getopt_long(argc, argv, "m:" TOOL_STD_SHORT, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FROM:
			o.from = optarg;
			break;
		case OPT_LAYER:
			o.layer_file = optarg;
			break;
		case OPT_COMPRESSION:
			if ((r = tool_compression_option("--compression", optarg,
							 &o.compression)) != TOOL_CONTINUE)
				return r;
			break;
		case OPT_LEVEL:
			if ((r = tool_level_option(optarg, &o.level)) != TOOL_CONTINUE)
				return r;
			break;
		case OPT_SQUASH:
			o.squash = true;
			break;
		case OPT_ALLOW_EMPTY:
			o.allow_empty = true;
			break;
		case OPT_SINGLE:
			o.single_platform = true;
			break;
		case OPT_KEEP_RECORD:
			o.keep_record = true;
			break;
		case OPT_TIMESTAMP:
			ts = optarg;
			break;
		case OPT_PLATFORM:
			platform_arg = optarg;
			break;
		case OPT_ENTRYPOINT:
			o.entrypoint = optarg;
			break;
		case OPT_CMD:
			o.cmd = optarg;
			break;
		case OPT_ENV:
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return tool_usage_error("--env %s: expected K=V", optarg);
			if ((r = add_str(env, &n_env, optarg, "--env")))
				return r;
			break;
		case OPT_WORKDIR:
			o.workdir = optarg;
			break;
		case OPT_USER:
			o.user = optarg;
			break;
		case OPT_STOP:
			o.stop_signal = optarg;
			break;
		case OPT_LABEL:
			if ((r = add_kv(labels, &o.n_labels, optarg, "--label")))
				return r;
			break;
		case OPT_EXPOSE:
			if ((r = add_str(expose, &n_expose, optarg, "--expose")))
				return r;
			break;
		case OPT_VOLUME:
			if ((r = add_str(volumes, &n_volumes, optarg, "--volume")))
				return r;
			break;
		case OPT_AUTHOR:
			o.author = optarg;
			break;
		case 'm':
			o.message = optarg;
			break;
		case OPT_CREATED_BY:
			o.created_by = optarg;
			break;
		case OPT_ANNOTATION:
			if ((r = add_kv(annotations, &o.n_annotations, optarg, "--annotation")))
				return r;
			break;
		default: {
			int st = tool_std_option(c, usage, argv);
			if (st != TOOL_CONTINUE)
				return st;
		}
		}
	}
	tool_args_done(argc, argv);
	int nargs = argc - optind;
	if (nargs < 1 || nargs > 2)
		return tool_usage_error(nargs < 1
					    ? "missing the destination IMAGE:REF"
					    : "too many arguments: expected [SOURCE] IMAGE:REF");
	o.dest = argv[argc - 1];
	/* the usual slips, said in the user's terms: a bundle without a
	 * destination, or the destination given first */
	if (nargs == 1 && !o.layer_file && !o.from && is_source_dir(o.dest))
		return tool_usage_error("%s: missing the destination: oci-commit %s IMAGE:REF",
					o.dest, o.dest);
	if (nargs == 2 && !is_source_dir(argv[optind]) && is_source_dir(o.dest))
		return tool_usage_error("%s: the SOURCE comes first: oci-commit %s %s", o.dest,
					o.dest, argv[optind]);
	if (nargs == 2) {
		const char *src = argv[optind];
		struct stat st;
		if (stat(src, &st) < 0 || !S_ISDIR(st.st_mode))
			return tool_failf(src, "not a directory");
		size_t n = strlen(src) + sizeof(OCI_BUNDLE_RECORD) + 2;
		char *rec = malloc(n);
		if (!rec)
			abort();
		snprintf(rec, n, "%s/%s", src, OCI_BUNDLE_RECORD);
		if (stat(rec, &st) == 0)
			o.bundle = src;
		else
			o.dir = src;
		free(rec);
		if (o.layer_file)
			return tool_usage_error("--layer and a SOURCE are mutually exclusive");
	} else if (!o.layer_file && !o.from) {
		return tool_usage_error("nothing to commit: give a SOURCE, --layer or --from");
	}
	if (o.level > (o.compression == OCI_COMPRESS_ZSTD ? 19 : 9))
		return tool_usage_error("--level %d: expected 1..9 (gzip) or 1..19 (zstd)",
					o.level);
	if (o.squash && !o.bundle)
		return tool_usage_error("--squash needs a bundle as SOURCE");
	if (!ts)
		ts = getenv("SOURCE_DATE_EPOCH");
	if (ts && *ts && parse_time(ts, &o.timestamp) < 0)
		return tool_usage_error(
		    "timestamp \"%s\": expected seconds or YYYY-MM-DDTHH:MM:SSZ", ts);
	struct oci_platform platform = {0};
	if (platform_arg && tool_platform(platform_arg, &platform))
		return EXIT_TROUBLE;
	o.platform = platform_arg ? &platform : NULL;

	/* annotations.md reserves the namespace to the spec's own keys: a user's
	 * key there is kept (it is the user's image) but named */
	for (int k = 0; k < 2; k++) {
		const struct oci_kv *kv = k ? annotations : labels;
		size_t n = k ? o.n_annotations : o.n_labels;
		for (size_t i = 0; i < n; i++)
			if (oci_annotation_undefined(kv[i].key))
				tool_note("%s %s: warning: not a key the image-spec defines in "
					  "its reserved org.opencontainers.image.* namespace "
					  "(annotations.md)",
					  k ? "--annotation" : "--label", kv[i].key);
	}

	tool_catch_signals();
	oci_set_cancel_flag(&tool_signal);
	struct oci_error *err = NULL;
	struct oci_commit_result res;
	struct tool_ticker tick;
	tool_ticker_start(&tick, o.squash ? "committing (squash)" : "committing");
	int rc = oci_commit(&o, &res, &err);
	tool_ticker_stop(&tick);
	if (rc < 0) {
		oci_platform_release(&platform);
		if (tool_signal) {
			oci_error_free(err);
			tool_signal_exit();
		}
		return tool_fail(o.dest, err);
	}
	if (!res.layer_added && (o.bundle || o.dir))
		tool_note("no changes: no layer added (use --allow-empty to add an empty one)");
	else if (res.layer_added)
		tool_note("layer %s (%lld bytes, %zu entries)", res.layer.digest.str,
			  (long long)res.layer.size, res.layer.entries);
	if (res.layer.skipped)
		tool_note("%zu socket%s not kept in the layer (as tar does): %s%s",
			  res.layer.skipped, res.layer.skipped == 1 ? "" : "s",
			  res.layer.skipped_first, res.layer.skipped > 1 ? ", ..." : "");
	if (!oci_digest_equal(&res.top, &res.manifest))
		tool_note("%s now points at index %s", o.dest, res.top.str);
	printf("%s\n", res.manifest.str);
	oci_platform_release(&platform);
	return tool_flush_stdout();
}
