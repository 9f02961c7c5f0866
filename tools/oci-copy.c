/* oci-copy: images between layouts and archives (oci-archive,
 * docker-archive, standard output), verified as they stream, converted and
 * recompressed on the way; a tag or untag within one layout. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

static const char usage[] =
    "Usage: oci-copy [OPTION]... SRC... DEST\n"
    "   or: oci-copy --delete DIR:REF\n"
    "Copy images between OCI layouts and archives, verifying every blob as it streams.\n"
    "SRC is an IMAGE (a layout PATH[:REF|@DIGEST], an oci-archive, plain or compressed, a\n"
    "docker-archive, or - for an archive on stdin). DEST is a layout DIR[:REF] (created when\n"
    "missing), an archive FILE[:REF], or - for an archive on stdout. Several SRCs go into one\n"
    "DEST, each under its own ref. In one layout, `oci-copy L:a L:b` adds ref b (a tag).\n"
    "\n"
    "      --format oci|oci-archive|docker-archive  what DEST is (default: a directory is a\n"
    "                         layout; FILE.docker.tar a docker-archive; FILE.tar and - an\n"
    "                         oci-archive; any other new name a layout)\n"
    "      --all              every ref of each SRC\n"
    "      --platform OS/ARCH[/VARIANT]  keep one platform of an index (a docker-archive\n"
    "                         holds one per image: default the host's)\n"
    "      --compression gzip|zstd|none  recompress layers (digests change, diff_ids not)\n"
    "      --level N          compression level (gzip 1..12, zstd 1..19)\n"
    "      --delete DIR:REF   remove REF from the layout (blobs stay until --repair --gc)\n"
    "      --json             a summary of what was copied, skipped and converted\n"
    "      --progress         progress on stderr even when it is not a terminal\n"
    "  -q, --quiet            no messages on stderr\n"
    "  -h, --help             this help\n"
    "  -V, --version          print the version\n"
    "\n"
    "Exit status: 0 success, 2 trouble.\n";

static void copy_progress(void *arg, size_t blob, int64_t done, int64_t total, int64_t all)
{
	struct tool_progress *p = arg;
	if (!p->on)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (now - p->last < 0.1 && done < total)
		return;
	p->last = now;
	char d[32], t[32], a[32], r[32];
	double el = now - p->start;
	tool_human_size(done, d, sizeof(d));
	tool_human_size(total, t, sizeof(t));
	tool_human_size(all, a, sizeof(a));
	tool_human_size(el > 0 ? (long long)((double)all / el) : 0, r, sizeof(r));
	fprintf(stderr, "\r%s: blob %zu  %s / %s  (%s in all, %s/s)\033[K", tool_name, blob, d, t,
		a, r);
	p->drawn = true;
}

static const char *format_name(enum oci_copy_format f)
{
	return f == OCI_COPY_LAYOUT	   ? "oci"
	       : f == OCI_COPY_OCI_ARCHIVE ? "oci-archive"
					   : "docker-archive";
}

static void print_json(const struct oci_copy_result *res, const char *dest)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "destination", dest);
	cJSON_AddStringToObject(o, "format", format_name(res->format));
	cJSON_AddBoolToObject(o, "tagOnly", res->tag_only);
	cJSON *imgs = cJSON_AddArrayToObject(o, "images");
	for (size_t i = 0; i < res->n_images; i++) {
		const struct oci_copy_image *im = &res->images[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "source", im->src);
		if (im->ref)
			cJSON_AddStringToObject(j, "ref", im->ref);
		else
			cJSON_AddNullToObject(j, "ref");
		cJSON_AddStringToObject(j, "sourceDigest", im->src_digest.str);
		cJSON_AddStringToObject(j, "digest", im->digest.str);
		cJSON_AddStringToObject(j, "mediaType", im->media_type);
		cJSON_AddBoolToObject(j, "converted", im->converted);
		cJSON_AddItemToArray(imgs, j);
	}
	cJSON *b = cJSON_AddObjectToObject(o, "blobs");
	tool_json_int(b, "copied", (int64_t)res->blobs_copied);
	tool_json_int(b, "skipped", (int64_t)res->blobs_skipped);
	tool_json_int(b, "recompressed", (int64_t)res->layers_recompressed);
	tool_json_int(b, "documentsRewritten", (int64_t)res->documents_rewritten);
	tool_json_int(b, "bytes", (int64_t)res->bytes_copied);
	cJSON *n = cJSON_AddArrayToObject(o, "notes");
	for (size_t i = 0; i < res->n_notes; i++)
		cJSON_AddItemToArray(n, cJSON_CreateString(res->notes[i]));
	char *s = cJSON_Print(o);
	printf("%s\n", s);
	free(s);
	cJSON_Delete(o);
}

enum {
	OPT_FORMAT = 0x100,
	OPT_ALL,
	OPT_PLATFORM,
	OPT_COMPRESSION,
	OPT_LEVEL,
	OPT_DELETE,
	OPT_JSON,
	OPT_PROGRESS,
};

int main(int argc, char **argv)
{
	tool_init("oci-copy", argc, argv);
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"all", no_argument, NULL, OPT_ALL},
	    {"platform", required_argument, NULL, OPT_PLATFORM},
	    {"compression", required_argument, NULL, OPT_COMPRESSION},
	    {"level", required_argument, NULL, OPT_LEVEL},
	    {"delete", required_argument, NULL, OPT_DELETE},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"progress", no_argument, NULL, OPT_PROGRESS},
	    TOOL_STD_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct oci_copy_opts o = {.compression = -1};
	const char *platform_arg = NULL, *del = NULL;
	bool json = false, progress = false;
	int c, r;
	while ((c = getopt_long(argc, argv, TOOL_STD_SHORT, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			if (strcmp(optarg, "oci") == 0)
				o.format = OCI_COPY_LAYOUT;
			else if (strcmp(optarg, "oci-archive") == 0)
				o.format = OCI_COPY_OCI_ARCHIVE;
			else if (strcmp(optarg, "docker-archive") == 0)
				o.format = OCI_COPY_DOCKER_ARCHIVE;
			else
				return tool_usage_error(
				    "--format %s: expected oci, oci-archive or docker-archive",
				    optarg);
			break;
		case OPT_ALL:
			o.all = true;
			break;
		case OPT_PLATFORM:
			platform_arg = optarg;
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
		case OPT_DELETE:
			del = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_PROGRESS:
			progress = true;
			break;
		default:
			if ((r = tool_std_option(c, usage, argv)) != TOOL_CONTINUE)
				return r;
		}
	}
	tool_args_done(argc, argv);
	int nargs = argc - optind;
	if (o.level && o.compression < 0)
		return tool_usage_error("--level needs --compression");
	if (o.level > (o.compression == OCI_COMPRESS_ZSTD ? 19 : 12))
		return tool_usage_error("--level %d: expected 1..12 (gzip) or 1..19 (zstd)",
					o.level);
	if (o.level && o.compression == OCI_COMPRESS_NONE)
		return tool_usage_error("--level: no level for --compression none");

	tool_catch_signals();
	oci_set_cancel_flag(&tool_signal);
	struct oci_error *err = NULL;
	if (del) {
		if (nargs)
			return tool_usage_error("--delete DIR:REF takes no other argument");
		if (oci_copy_delete_ref(del, &err) < 0)
			return tool_fail(del, err);
		tool_note("%s: ref removed", del);
		return EXIT_OK;
	}
	if (nargs < 2)
		return tool_usage_error(nargs ? "missing DEST" : "missing SRC and DEST");
	o.srcs = (const char *const *)argv + optind;
	o.n_srcs = (size_t)nargs - 1;
	o.dest = argv[argc - 1];
	size_t stdin_srcs = 0;
	for (size_t i = 0; i < o.n_srcs; i++)
		if (o.srcs[i][0] == '-' && (!o.srcs[i][1] || strchr(":@", o.srcs[i][1])))
			stdin_srcs++;
	if (stdin_srcs > 1)
		return tool_usage_error("standard input can be only one SRC");
	if (json && strcmp(o.dest, "-") == 0)
		return tool_usage_error("--json: standard output holds the archive");
	struct oci_platform platform = {0};
	if (platform_arg && tool_platform(platform_arg, &platform))
		return EXIT_TROUBLE;
	o.platform = platform_arg ? &platform : NULL;
	struct tool_progress prog;
	tool_progress_init(&prog, progress);
	o.progress = copy_progress;
	o.progress_arg = &prog;

	struct oci_copy_result res;
	r = oci_copy(&o, &res, &err);
	tool_progress_end(&prog);
	oci_platform_release(&platform);
	if (r < 0) {
		if (tool_signal) {
			oci_error_free(err);
			tool_signal_exit();
		}
		if (err && err->errnum == EPIPE && strcmp(o.dest, "-") == 0) {
			/* the reader went away: end as cat(1) ends then, by SIGPIPE */
			oci_error_free(err);
			signal(SIGPIPE, SIG_DFL);
			raise(SIGPIPE);
		}
		return tool_fail(o.dest, err);
	}
	for (size_t i = 0; i < res.n_notes; i++)
		tool_note("%s", res.notes[i]);
	for (size_t i = 0; i < res.n_images; i++) {
		const struct oci_copy_image *im = &res.images[i];
		tool_note("%s -> %s%s%s (%s%s)", im->src, strcmp(o.dest, "-") ? o.dest : "stdout",
			  res.tag_only ? " tag " : "", res.tag_only && im->ref ? im->ref : "",
			  im->digest.str, im->converted ? ", converted" : "");
	}
	if (json)
		print_json(&res, o.dest);
	oci_copy_result_release(&res);
	return tool_flush_stdout();
}
