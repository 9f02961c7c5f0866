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
    "  kill [--all] ID [SIGNAL]  send SIGNAL (TERM, SIGTERM or a number; default TERM)\n"
    "                     to the init, or (--all) to every process of its cgroup\n"
    "  delete [--force] ID  delete a container (--force: kill it when running)\n"
    "  list [-q] [--format table|json]  the containers under the root\n"
    "  spec [--rootless] [--bundle B]  write a default config.json (never overwrites)\n"
    "  exec [--process F] [--env K=V] [--cwd D] [--user U[:G]] [--detach] [--pid-file F]\n"
    "       [--tty] [--console-socket S] ID [-- CMD [ARG]...]\n"
    "                     run a process in a running container (its namespaces, cgroups,\n"
    "                     capabilities, seccomp); exits with its status; --tty: a new\n"
    "                     terminal of the container's, copied to ours or sent to S\n"
    "  pause ID, resume ID  freeze and thaw the container's processes (freezer cgroup)\n"
    "  ps ID              the host pids in the container's cgroup, as a JSON array\n"
    "  events --stats ID  memory, cpu and pids of its cgroup as JSON\n"
    "  update [--resources FILE|-] [--memory N] [--pids-limit N] [--cpu-quota N]\n"
    "         [--cpu-period N] [--cpu-shares N] [--cpuset-cpus L] ID\n"
    "                     change linux.resources of a running container\n"
    "  features           what this runtime supports, as JSON\n"
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
	bool force = false, all = false;
	bool is_delete = strcmp(cmd, "delete") == 0, is_kill = strcmp(cmd, "kill") == 0;
	int c;
	while ((c = getopt_long(argc, argv,
				is_delete ? "f"
				: is_kill ? "a"
					  : "",
				lo, NULL)) != -1) {
		if (c == 'f' && is_delete) {
			force = true;
		} else if (c == 'a' && is_kill) {
			all = true;
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
		r = all ? oci_runtime_kill_all(root, id, sig, &err)
			: oci_runtime_kill(root, id, sig, &err);
	}
	return r < 0 ? tool_fail(id, err) : EXIT_OK;
}

/* exec [--process F | -- CMD...] [--env K=V] [--cwd D] [--user U[:G]] [--detach] [--pid-file F] ID
 */
static int cmd_exec(const char *root, int argc, char **argv)
{
	enum { OPT_PROCESS = 256, OPT_CWD, OPT_PID, OPT_TTY, OPT_CONSOLE, OPT_HELP };
	static const struct option lo[] = {
	    {"process", required_argument, NULL, 'p'},
	    {"env", required_argument, NULL, 'e'},
	    {"cwd", required_argument, NULL, OPT_CWD},
	    {"user", required_argument, NULL, 'u'},
	    {"detach", no_argument, NULL, 'd'},
	    {"pid-file", required_argument, NULL, OPT_PID},
	    {"tty", no_argument, NULL, 't'},
	    {"console-socket", required_argument, NULL, OPT_CONSOLE},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	struct oci_exec_opts o = {0};
	char **env = calloc((size_t)argc + 1, sizeof(char *));
	size_t ne = 0;
	int c;
	if (!env)
		return tool_usage_error("out of memory");
	/* "+": the command's own options are not ours */
	while ((c = getopt_long(argc, argv, "+p:e:u:dt", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.process = optarg;
			break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				free(env);
				return tool_usage_error("--env %s: not K=V", optarg);
			}
			env[ne++] = optarg;
			break;
		case OPT_CWD:
			o.cwd = optarg;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'd':
			o.detach = true;
			break;
		case OPT_PID:
			o.pid_file = optarg;
			break;
		case 't':
			o.tty = true;
			break;
		case OPT_CONSOLE:
			o.console_socket = optarg;
			break;
		case OPT_HELP:
			free(env);
			fputs(usage, stdout);
			return tool_flush_stdout();
		default:
			free(env);
			return tool_bad_option(argv);
		}
	}
	if (argc - optind < 1) {
		free(env);
		return tool_usage_error("missing container ID");
	}
	const char *id = argv[optind];
	int cmd = optind + 1;
	if (cmd < argc && strcmp(argv[cmd], "--") == 0)
		cmd++;
	if (cmd < argc)
		o.args = argv + cmd;
	if (!o.process && !o.args) {
		free(env);
		return tool_usage_error("exec: give --process FILE or a command");
	}
	if (ne)
		o.env = env;
	struct oci_error *err = NULL;
	int st = 0;
	int r = oci_runtime_exec(root, id, &o, &st, &err);
	free(env);
	if (r < 0)
		return tool_fail(id, err);
	if (o.detach)
		return EXIT_OK;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* pause, resume, ps, events --stats, update: the container's cgroups */
static int cmd_cgroup(const char *cmd, const char *root, int argc, char **argv)
{
	enum {
		OPT_RES = 256,
		OPT_MEM,
		OPT_PIDS,
		OPT_QUOTA,
		OPT_PERIOD,
		OPT_SHARES,
		OPT_CPUS,
		OPT_STATS,
		OPT_FORMAT,
		OPT_HELP
	};
	static const struct option lo[] = {
	    {"resources", required_argument, NULL, 'r'},
	    {"memory", required_argument, NULL, 'm'},
	    {"pids-limit", required_argument, NULL, OPT_PIDS},
	    {"cpu-quota", required_argument, NULL, OPT_QUOTA},
	    {"cpu-period", required_argument, NULL, OPT_PERIOD},
	    {"cpu-shares", required_argument, NULL, OPT_SHARES},
	    {"cpuset-cpus", required_argument, NULL, OPT_CPUS},
	    {"stats", no_argument, NULL, OPT_STATS},
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	bool update = strcmp(cmd, "update") == 0, events = strcmp(cmd, "events") == 0;
	bool ps = strcmp(cmd, "ps") == 0, stats = false;
	const char *resfile = NULL;
	/* flags for update, as runc's; each a validated number put in JSON */
	const char *num[5] = {0}, *cpus = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+r:m:f:", lo, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(usage, stdout);
			return tool_flush_stdout();
		} else if (update && c == 'r') {
			resfile = optarg;
		} else if (update && (c == 'm' || (c >= OPT_PIDS && c <= OPT_SHARES))) {
			char *end;
			errno = 0;
			long long v = strtoll(optarg, &end, 10);
			(void)v;
			if (end == optarg || *end || errno)
				return tool_usage_error("--%s %s: not an integer",
							c == 'm' ? "memory" : lo[c - OPT_RES].name,
							optarg);
			num[c == 'm' ? 0 : c - OPT_PIDS + 1] = optarg;
		} else if (update && c == OPT_CPUS) {
			if (strspn(optarg, "0123456789,-") != strlen(optarg))
				return tool_usage_error("--cpuset-cpus %s: not a cpu list", optarg);
			cpus = optarg;
		} else if (events && c == OPT_STATS) {
			stats = true;
		} else if (ps && c == 'f') {
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0)
				return tool_usage_error("--format %s: table or json", optarg);
		} else {
			return tool_bad_option(argv);
		}
	}
	if (events && !stats)
		return tool_usage_error("events: only --stats is supported");
	int r = need_id(argc, argv, 0);
	if (r)
		return r;
	const char *id = argv[optind];
	struct oci_error *err = NULL;
	if (strcmp(cmd, "pause") == 0) {
		r = oci_runtime_pause(root, id, &err);
	} else if (strcmp(cmd, "resume") == 0) {
		r = oci_runtime_resume(root, id, &err);
	} else if (ps) {
		pid_t *pids = NULL;
		size_t n = 0;
		r = oci_runtime_ps(root, id, &pids, &n, &err);
		if (r == 0) {
			/* runc's ps --format json: the pids as a JSON array */
			printf("[");
			for (size_t i = 0; i < n; i++)
				printf("%s%d", i ? "," : "", (int)pids[i]);
			printf("]\n");
			free(pids);
			return tool_flush_stdout();
		}
	} else if (events) {
		char *json = NULL;
		r = oci_runtime_stats(root, id, &json, &err);
		if (r == 0) {
			printf("{\"type\":\"stats\",\"id\":\"%s\",\"data\":%s}\n", id, json);
			free(json);
			return tool_flush_stdout();
		}
	} else {
		char *text = NULL;
		if (resfile) {
			FILE *f = strcmp(resfile, "-") == 0 ? stdin : fopen(resfile, "re");
			if (!f)
				return tool_usage_error("--resources %s: %s", resfile,
							strerror(errno));
			size_t cap = 1 << 20;
			text = calloc(cap + 1, 1);
			size_t n = text ? fread(text, 1, cap, f) : 0;
			if (f != stdin)
				fclose(f);
			if (!text)
				return tool_usage_error("out of memory");
			text[n] = 0;
		} else {
			text = calloc(1, 512 + (cpus ? strlen(cpus) : 0));
			if (!text)
				return tool_usage_error("out of memory");
			size_t l = 0, cap = 512 + (cpus ? strlen(cpus) : 0);
			l += (size_t)snprintf(text + l, cap - l, "{");
			if (num[0])
				l += (size_t)snprintf(text + l, cap - l,
						      "\"memory\":{\"limit\":%s},", num[0]);
			if (num[1])
				l += (size_t)snprintf(text + l, cap - l, "\"pids\":{\"limit\":%s},",
						      num[1]);
			if (num[2] || num[3] || num[4] || cpus) {
				l += (size_t)snprintf(text + l, cap - l, "\"cpu\":{");
				if (num[2])
					l += (size_t)snprintf(text + l, cap - l, "\"quota\":%s,",
							      num[2]);
				if (num[3])
					l += (size_t)snprintf(text + l, cap - l, "\"period\":%s,",
							      num[3]);
				if (num[4])
					l += (size_t)snprintf(text + l, cap - l, "\"shares\":%s,",
							      num[4]);
				if (cpus)
					l += (size_t)snprintf(text + l, cap - l, "\"cpus\":\"%s\",",
							      cpus);
				text[l - 1] = '}';
				l += (size_t)snprintf(text + l, cap - l, ",");
			}
			if (l > 1)
				l--;
			snprintf(text + l, cap - l, "}");
		}
		r = oci_runtime_update(root, id, text, &err);
		free(text);
	}
	return r < 0 ? tool_fail(id, err) : EXIT_OK;
}

/* runc's features: what this runtime supports, for callers to probe */
static int cmd_features(void)
{
	fputs("{\n"
	      "  \"ociVersionMin\": \"1.0.0\",\n"
	      "  \"ociVersionMax\": \"1.0.2\",\n"
	      "  \"hooks\": [\"prestart\", \"createRuntime\", \"createContainer\", "
	      "\"startContainer\", \"poststart\", \"poststop\"],\n"
	      "  \"mountOptions\": [\"ro\", \"rw\", \"nosuid\", \"suid\", \"nodev\", \"dev\", "
	      "\"noexec\", \"exec\", \"bind\", \"rbind\", \"private\", \"rprivate\", "
	      "\"shared\", \"rshared\", \"slave\", \"rslave\", \"unbindable\", "
	      "\"runbindable\", \"rro\", \"rnosuid\", \"rnodev\", \"rnoexec\"],\n"
	      "  \"linux\": {\n"
	      "    \"namespaces\": [\"cgroup\", \"ipc\", \"mount\", \"network\", \"pid\", "
	      "\"user\", \"uts\"],\n"
	      "    \"capabilities\": [],\n"
	      "    \"cgroup\": {\"v1\": true, \"v2\": true, \"systemd\": false, "
	      "\"systemdUser\": false, \"rdma\": false},\n"
	      "    \"seccomp\": {\"enabled\": true},\n"
	      "    \"apparmor\": {\"enabled\": true},\n"
	      "    \"selinux\": {\"enabled\": true},\n"
	      "    \"intelRdt\": {\"enabled\": false}\n"
	      "  }\n"
	      "}\n",
	      stdout);
	return tool_flush_stdout();
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
	if (strcmp(cmd, "create") == 0 || strcmp(cmd, "run") == 0 || strcmp(cmd, "exec") == 0) {
		/* no container may reach our binary through /proc/self/exe */
		struct oci_error *err = NULL;
		if (oci_runtime_reexec_sealed(orig, &err) < 0)
			return tool_fail(NULL, err);
		free(orig);
		if (strcmp(cmd, "exec") == 0)
			return cmd_exec(root, argc, argv);
		return cmd_create(root, argc, argv, strcmp(cmd, "run") == 0);
	}
	free(orig);
	if (strcmp(cmd, "start") == 0 || strcmp(cmd, "state") == 0 || strcmp(cmd, "delete") == 0 ||
	    strcmp(cmd, "kill") == 0)
		return cmd_simple(cmd, root, argc, argv);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(root, argc, argv);
	if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0 || strcmp(cmd, "ps") == 0 ||
	    strcmp(cmd, "events") == 0 || strcmp(cmd, "update") == 0)
		return cmd_cgroup(cmd, root, argc, argv);
	if (strcmp(cmd, "features") == 0)
		return cmd_features();
	if (strcmp(cmd, "spec") == 0)
		return cmd_spec(argc, argv);
	return tool_usage_error("%s: unknown command", cmd);
}
