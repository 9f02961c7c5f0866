/* oci-runtime: a minimal OCI runtime with runc's command line: create,
 * start, state, kill, delete, list, spec and run. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <oci/runtime.h>
#include "common.h"

static const char usage[] =
    "Usage: oci-runtime [GLOBAL OPTION]... COMMAND [OPTION]... ID\n"
    "Run OCI runtime-spec bundles as containers, with runc's command line.\n"
    "\n"
    "Commands:\n"
    "  create [--bundle B] [--pid-file F] [--console-socket S] ID\n"
    "                     create a container from bundle B (default: .); its init waits\n"
    "                     for start and keeps our stdin, stdout and stderr\n"
    "  start ID           run the process of a created container\n"
    "  state ID           its runtime-spec state as JSON (created, running or stopped)\n"
    "  kill ID [SIGNAL]   send SIGNAL (TERM, SIGTERM or a number; default TERM)\n"
    "  delete [--force] ID  delete a container (--force: kill it when running)\n"
    "  list [-q] [--format table|json]  the containers under the root\n"
    "  spec [--rootless] [--bundle B]  write a default config.json (never overwrites)\n"
    "  run [--bundle B] [--detach] [--pid-file F] ID [-- CMD [ARG]...]\n"
    "                     create, start, wait and delete; CMD replaces process.args;\n"
    "                     exits with the container's status (128+N when killed by N)\n"
    "\n"
    "Global options:\n"
    "      --root DIR     where containers' state lives, ours and 0700 (default:\n"
    "                     /run/oci-runtime as root, else $XDG_RUNTIME_DIR/oci-runtime\n"
    "                     or /tmp/oci-runtime-UID)\n"
    "      --log FILE, --log-format text|json, --debug, --systemd-cgroup\n"
    "                     accepted for runc compatibility; ignored\n"
    "  -q, --quiet        no warnings on stderr\n"
    "      --progress     accepted, as by every tool (nothing long to show)\n"
    "  -h, --help         this help\n"
    "  -V, --version      print the version\n"
    "\n"
    "Exit status: 0 success, 2 trouble; run: the container's own status.\n";

static bool quiet_warnings;

static void on_warn(const char *msg)
{
	if (!quiet_warnings)
		fprintf(stderr, "oci-runtime: warning: %s\n", msg);
}

static int need_id(int argc, char **argv, int max_extra)
{
	if (argc - optind < 1)
		return tool_usage_error("missing container ID");
	if (argc - optind > 1 + max_extra)
		return tool_usage_error("too many arguments");
	return 0;
}

struct create_args {
	struct oci_runtime_opts o;
	bool detach;
};

/* the options create and run share; returns 0, or an exit status */
static int parse_create(int argc, char **argv, struct create_args *a, bool run)
{
	enum {
		OPT_BUNDLE = 256,
		OPT_PID,
		OPT_CONSOLE,
		OPT_NOKEYRING,
		OPT_NOPIVOT,
		OPT_PRESERVE,
		OPT_HELP
	};
	static const struct option lo[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"pid-file", required_argument, NULL, OPT_PID},
	    {"console-socket", required_argument, NULL, OPT_CONSOLE},
	    {"no-new-keyring", no_argument, NULL, OPT_NOKEYRING},
	    {"no-pivot", no_argument, NULL, OPT_NOPIVOT},
	    {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
	    {"detach", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, run ? "b:dh" : "b:h", lo, NULL)) != -1) {
		switch (c) {
		case 'b':
			a->o.bundle = optarg;
			break;
		case OPT_PID:
			a->o.pid_file = optarg;
			break;
		case OPT_CONSOLE:
			a->o.console_socket = optarg;
			break;
		case OPT_NOKEYRING:
			a->o.no_new_keyring = true;
			break;
		case OPT_NOPIVOT:
			return tool_usage_error(
			    "--no-pivot: not supported (pivot_root is always used)");
		case OPT_PRESERVE:
			if (strcmp(optarg, "0") != 0)
				return tool_usage_error("--preserve-fds: not supported");
			break;
		case 'd':
			if (!run)
				return tool_bad_option(argv);
			a->detach = true;
			break;
		case OPT_HELP:
		case 'h':
			fputs(usage, stdout);
			exit(tool_flush_stdout());
		default:
			return tool_bad_option(argv);
		}
	}
	return 0;
}

static int cmd_create(const char *root, int argc, char **argv, bool run)
{
	struct create_args a = {0};
	int r = parse_create(argc, argv, &a, run);
	if (r)
		return r;
	if ((r = need_id(argc, argv, 1 << 20)))
		return r;
	const char *id = argv[optind];
	/* getopt leaves "--" between ID and CMD */
	int cmd = optind + 1;
	if (cmd < argc && strcmp(argv[cmd], "--") == 0)
		cmd++;
	if (run && cmd < argc)
		a.o.args = argv + cmd;
	else if (argc - optind > 1 && !(argc - optind == 2 && strcmp(argv[optind + 1], "--") == 0))
		return tool_usage_error("too many arguments");
	a.o.foreground = run && !a.detach;
	struct oci_error *err = NULL;
	struct oci_container *c = NULL;
	if (!a.o.foreground) {
		tool_catch_signals();
		oci_set_cancel_flag(&tool_signal);
	}
	if (oci_runtime_create(root, id, &a.o, &c, &err) < 0) {
		if (tool_signal) {
			oci_error_free(err);
			tool_signal_exit();
		}
		return tool_fail(id, err);
	}
	if (!run) {
		oci_container_free(c);
		tool_signal_exit();
		return EXIT_OK;
	}
	if (oci_runtime_start(root, id, &err) < 0) {
		r = tool_fail(id, err);
		oci_container_free(c);
		struct oci_error *e2 = NULL;
		if (oci_runtime_delete(root, id, true, &e2) < 0)
			tool_fail(id, e2);
		return r;
	}
	if (a.detach) {
		oci_container_free(c);
		return EXIT_OK;
	}
	int st = 0;
	r = EXIT_OK;
	if (oci_container_wait(c, &st, &err) < 0)
		r = tool_fail(id, err);
	oci_container_free(c);
	if (oci_runtime_delete(root, id, true, &err) < 0)
		r = tool_fail(id, err);
	if (r)
		return r;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* start, state, delete, kill: a few options, an ID */
static int cmd_simple(const char *cmd, const char *root, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"force", no_argument, NULL, 'f'},
	    {"all", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool force = false;
	bool is_delete = strcmp(cmd, "delete") == 0, is_kill = strcmp(cmd, "kill") == 0;
	int c;
	while ((c = getopt_long(argc, argv, is_delete ? "f" : "", lo, NULL)) != -1) {
		if (c == 'f' && is_delete) {
			force = true;
		} else if (c == 'a' && is_kill) {
			return tool_usage_error("kill --all: not supported");
		} else if (c == 'h') {
			fputs(usage, stdout);
			return tool_flush_stdout();
		} else {
			return tool_bad_option(argv);
		}
	}
	int r = need_id(argc, argv, is_kill ? 1 : 0);
	if (r)
		return r;
	const char *id = argv[optind];
	struct oci_error *err = NULL;
	if (strcmp(cmd, "start") == 0) {
		r = oci_runtime_start(root, id, &err);
	} else if (strcmp(cmd, "state") == 0) {
		char *json = NULL;
		r = oci_runtime_state(root, id, &json, &err);
		if (r == 0) {
			puts(json);
			free(json);
			return tool_flush_stdout();
		}
	} else if (is_delete) {
		r = oci_runtime_delete(root, id, force, &err);
	} else {
		const char *signame = argc - optind > 1 ? argv[optind + 1] : "TERM";
		int sig = oci_signal_parse(signame);
		if (sig < 0)
			return tool_usage_error("\"%s\": not a signal", signame);
		r = oci_runtime_kill(root, id, sig, &err);
	}
	return r < 0 ? tool_fail(id, err) : EXIT_OK;
}

static int cmd_list(const char *root, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"quiet", no_argument, NULL, 'q'},
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool ids = false, json = false;
	int c;
	while ((c = getopt_long(argc, argv, "qf:", lo, NULL)) != -1) {
		if (c == 'q') {
			ids = true;
		} else if (c == 'f') {
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "table") != 0)
				return tool_usage_error("--format %s: table or json", optarg);
		} else if (c == 'h') {
			fputs(usage, stdout);
			return tool_flush_stdout();
		} else {
			return tool_bad_option(argv);
		}
	}
	if (optind != argc)
		return tool_usage_error("too many arguments");
	struct oci_runtime_entry *v;
	size_t n;
	struct oci_error *err = NULL;
	if (oci_runtime_list(root, &v, &n, &err) < 0)
		return tool_fail(root, err);
	if (json) {
		cJSON *a = cJSON_CreateArray();
		for (size_t i = 0; i < n; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "id", v[i].id);
			cJSON_AddNumberToObject(o, "pid", v[i].pid);
			cJSON_AddStringToObject(o, "status", v[i].status);
			cJSON_AddStringToObject(o, "bundle", v[i].bundle);
			cJSON_AddStringToObject(o, "created", v[i].created);
			cJSON_AddItemToArray(a, o);
		}
		char *s = cJSON_Print(a);
		puts(s ? s : "[]");
		free(s);
		cJSON_Delete(a);
	} else if (ids) {
		for (size_t i = 0; i < n; i++)
			puts(v[i].id);
	} else {
		int w = 2;
		for (size_t i = 0; i < n; i++)
			if ((int)strlen(v[i].id) > w)
				w = (int)strlen(v[i].id);
		printf("%-*s  %-7s  %-7s  %-30s  %s\n", w, "ID", "PID", "STATUS", "CREATED",
		       "BUNDLE");
		for (size_t i = 0; i < n; i++)
			printf("%-*s  %-7d  %-7s  %-30s  %s\n", w, v[i].id, (int)v[i].pid,
			       v[i].status, v[i].created, v[i].bundle);
	}
	oci_runtime_entries_free(v, n);
	return tool_flush_stdout();
}

static int cmd_spec(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"rootless", no_argument, NULL, 'r'},
	    {"bundle", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool rootless = false;
	const char *bundle = ".";
	int c;
	while ((c = getopt_long(argc, argv, "b:", lo, NULL)) != -1) {
		if (c == 'r') {
			rootless = true;
		} else if (c == 'b') {
			bundle = optarg;
		} else if (c == 'h') {
			fputs(usage, stdout);
			return tool_flush_stdout();
		} else {
			return tool_bad_option(argv);
		}
	}
	if (optind != argc)
		return tool_usage_error("too many arguments");
	cJSON *s = oci_spec_default(rootless);
	char *text = cJSON_Print(s);
	cJSON_Delete(s);
	size_t n = strlen(text);
	size_t plen = strlen(bundle) + sizeof("/config.json");
	char *path = malloc(plen);
	if (!path || !text)
		abort();
	snprintf(path, plen, "%s/config.json", bundle);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	int r = EXIT_OK;
	if (fd < 0) {
		r = tool_failf(path, errno == EEXIST ? "already exists: not overwritten" : "%s",
			       strerror(errno));
	} else {
		if (write(fd, text, n) != (ssize_t)n || write(fd, "\n", 1) != 1) {
			r = tool_failf(path, "write: %s", strerror(errno));
			unlink(path);
		}
		close(fd);
	}
	free(path);
	free(text);
	return r;
}

int main(int argc, char **argv)
{
	/* argv as given, for a re-execution (getopt permutes it); static so that
	 * it lives as long as the process, whichever way main returns */
	static char **orig;
	orig = malloc(((size_t)argc + 1) * sizeof(char *));
	if (!orig)
		abort();
	memcpy(orig, argv, ((size_t)argc + 1) * sizeof(char *));
	tool_init("oci-runtime", argc, argv);
	enum { OPT_ROOT = 256, OPT_LOG, OPT_LOGFMT, OPT_DEBUG, OPT_SYSTEMD };
	static const struct option lo[] = {
	    {"root", required_argument, NULL, OPT_ROOT},
	    {"log", required_argument, NULL, OPT_LOG},
	    {"log-format", required_argument, NULL, OPT_LOGFMT},
	    {"debug", no_argument, NULL, OPT_DEBUG},
	    {"systemd-cgroup", no_argument, NULL, OPT_SYSTEMD},
	    TOOL_STD_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *root = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+" TOOL_STD_SHORT, lo, NULL)) != -1) {
		switch (c) {
		case OPT_ROOT:
			root = optarg;
			break;
		case OPT_LOG:
		case OPT_LOGFMT:
		case OPT_DEBUG:
		case OPT_SYSTEMD:
			break;
		case 'q':
			tool_quiet = quiet_warnings = true;
			break;
		default: {
			int st = tool_std_option(c, usage, argv);
			if (st != TOOL_CONTINUE)
				return st;
		}
		}
	}
	tool_args_done(argc, argv);
	if (optind >= argc)
		return tool_usage_error("missing COMMAND");
	if (!root)
		root = oci_runtime_default_root();
	if (!*root)
		return tool_usage_error("--root: empty");
	oci_runtime_set_warn(on_warn);
	const char *cmd = argv[optind];
	/* each command parses its own options from the next argument on */
	argc -= optind;
	argv += optind;
	optind = 1;
	if (strcmp(cmd, "create") == 0 || strcmp(cmd, "run") == 0) {
		/* no container may reach our binary through /proc/self/exe */
		struct oci_error *err = NULL;
		if (oci_runtime_reexec_sealed(orig, &err) < 0)
			return tool_fail(NULL, err);
		free(orig);
		return cmd_create(root, argc, argv, strcmp(cmd, "run") == 0);
	}
	free(orig);
	if (strcmp(cmd, "start") == 0 || strcmp(cmd, "state") == 0 || strcmp(cmd, "delete") == 0 ||
	    strcmp(cmd, "kill") == 0)
		return cmd_simple(cmd, root, argc, argv);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(root, argc, argv);
	if (strcmp(cmd, "spec") == 0)
		return cmd_spec(argc, argv);
	return tool_usage_error("%s: unknown command", cmd);
}
