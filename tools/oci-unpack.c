/* oci-unpack: turn an image into a runtime bundle (rootfs/, config.json and
 * the record oci-diff and oci-commit use), or just a root filesystem. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common.h"

static const char usage[] =
    "Usage: oci-unpack [OPTION]... IMAGE BUNDLE\n"
    "Unpack IMAGE (PATH, PATH:REF or PATH@DIGEST; - for an archive on stdin) into BUNDLE:\n"
    "rootfs/, config.json and " OCI_BUNDLE_RECORD ". BUNDLE must be missing or empty; it\n"
    "appears only when whole. BUNDLE - writes the merged root filesystem as one tar stream\n"
    "to stdout instead (whiteouts applied, nothing written to disk).\n"
    "\n"
    "      --rootfs       BUNDLE is just the root filesystem (no config, no record)\n"
    "      --rootless     no chown, no device nodes (kept in the record instead); a user\n"
    "                     namespace in config.json. The default when not run as root.\n"
    "      --platform OS/ARCH[/VARIANT]  choose from an index (default: the host's)\n"
    "  -q, --quiet        no messages on stderr\n"
    "      --progress     a progress line on stderr even when it is not a terminal\n"
    "  -h, --help         this help\n"
    "  -V, --version      print the version\n"
    "\n"
    "Exit status: 0 success, 2 trouble; 128+N when stopped by signal N.\n";

/* the library's notes, one line each, naming the image */
static void unpack_note(void *arg, const char *msg)
{
	tool_note("%s: %s", (const char *)arg, msg);
}

int main(int argc, char **argv)
{
	tool_init("oci-unpack", argc, argv);
	enum { OPT_ROOTFS = 256, OPT_ROOTLESS, OPT_PLATFORM };
	static const struct option longopts[] = {
	    {"rootfs", no_argument, NULL, OPT_ROOTFS},
	    {"rootless", no_argument, NULL, OPT_ROOTLESS},
	    {"platform", required_argument, NULL, OPT_PLATFORM},
	    TOOL_STD_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	bool rootfs_only = false, rootless = geteuid() != 0;
	const char *platform_arg = NULL;
	int c;
	while ((c = getopt_long(argc, argv, TOOL_STD_SHORT, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ROOTFS:
			rootfs_only = true;
			break;
		case OPT_ROOTLESS:
			rootless = true;
			break;
		case OPT_PLATFORM:
			platform_arg = optarg;
			break;
		default: {
			int st = tool_std_option(c, usage, argv);
			if (st != TOOL_CONTINUE)
				return st;
		}
		}
	}
	tool_args_done(argc, argv);
	if (argc - optind != 2)
		return tool_usage_error(argc - optind < 2
					    ? "missing IMAGE or BUNDLE"
					    : "too many arguments: expected IMAGE BUNDLE");
	const char *spec = argv[optind], *bundle = argv[optind + 1];
	if (tool_is_bundle(spec))
		return tool_usage_error("%s: a bundle, not an image; the IMAGE comes first: "
					"oci-unpack IMAGE %s",
					spec, spec);
	bool to_stdout = strcmp(bundle, "-") == 0;
	if (to_stdout && isatty(1))
		return tool_usage_error("BUNDLE -: refusing to write a tar stream to a terminal");
	struct oci_platform platform;
	if (tool_platform(platform_arg, &platform))
		return EXIT_TROUBLE;
	tool_catch_signals();
	oci_set_cancel_flag(&tool_signal);

	/* the record names the source absolutely, so that oci-commit finds the
	 * parent from anywhere */
	char *source = NULL;
	struct oci_image_ref sref;
	if (strcmp(spec, "-") != 0 && oci_image_ref_parse(spec, &sref, NULL) == 0) {
		char *abs = realpath(sref.path, NULL);
		if (abs) {
			size_t n =
			    strlen(abs) + (sref.ref ? strlen(sref.ref) : 0) + OCI_DIGEST_MAX + 4;
			source = malloc(n);
			if (!source)
				abort();
			if (sref.has_digest)
				snprintf(source, n, "%s@%s", abs, sref.digest.str);
			else
				snprintf(source, n, "%s%s%s", abs, sref.ref ? ":" : "",
					 sref.ref ? sref.ref : "");
			free(abs);
		}
		oci_image_ref_release(&sref);
	}
	struct oci_error *err = NULL;
	struct oci_layout *layout = NULL;
	struct oci_image *img = NULL;
	int r = EXIT_OK;
	if (oci_image_open(spec, &platform, &layout, &img, &err) < 0) {
		r = tool_fail(spec, err);
	} else if (to_stdout) {
		/* the merged root filesystem as one tar stream, nothing on disk */
		tool_stream_begin();
		struct tool_ticker tick;
		tool_ticker_start(&tick, "exporting");
		int xr = oci_image_export(img, 1, &err);
		tool_ticker_stop(&tick);
		if (xr < 0) {
			tool_stream_abort();
			r = tool_fail(spec, err);
		} else if (tool_flush_stdout()) {
			tool_stream_abort();
			r = EXIT_TROUBLE;
		}
	} else {
		struct tool_progress prog;
		tool_progress_init(&prog, false);
		struct oci_unpack_opts o = {
		    .apply = {.rootless = rootless,
			      .cancel = &tool_signal,
			      .progress = tool_progress_layer,
			      .progress_arg = &prog,
			      .note = unpack_note,
			      .note_arg = (void *)spec},
		    .rootfs_only = rootfs_only,
		    .source = source ? source : spec,
		};
		int rc = oci_bundle_unpack(img, bundle, &o, &err);
		tool_progress_end(&prog);
		if (rc < 0) {
			if (tool_signal) {
				oci_error_free(err);
				err = NULL;
			} else {
				r = tool_fail(spec, err);
			}
		} else {
			tool_note("unpacked %s (%s, %zu layer%s) into %s", spec,
				  img->desc.digest.str, img->manifest->n_layers,
				  img->manifest->n_layers == 1 ? "" : "s", bundle);
		}
	}
	oci_image_free(img);
	oci_layout_free(layout);
	oci_platform_release(&platform);
	free(source);
	tool_signal_exit();
	return r;
}
