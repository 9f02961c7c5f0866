/* The error printer, messages and small helpers shared by the tools. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

const char *tool_name = "oci";
bool tool_quiet = false;

#include <getopt.h>

void tool_init(const char *name, int argc, char **argv)
{
	tool_name = name;
	opterr = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (argv[i][0] == '-' && (argv[i][1] == ':' || argv[i][1] == '@')) {
			/* "-:REF" is stdin with a ref, not options ':', 'R', ... */
			size_t n = strlen(argv[i]) + 1;
			char *hidden = malloc(n + 1);
			if (!hidden)
				abort();
			hidden[0] = '\x01';
			memcpy(hidden + 1, argv[i], n);
			argv[i] = hidden;
		}
	}
	/* a closed pipe is reported as a write error, not a silent death */
	signal(SIGPIPE, SIG_IGN);
}

/* Untrusted text (refs, paths, JSON strings) must not smuggle control
 * characters onto the user's terminal. */
static void tool_put_sanitized(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else if (c == 0xc2 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9f)
			fprintf(f, "\\x%02x\\x%02x", c, (unsigned char)*++s);
		else
			fputc(c, f);
	}
}

static void put_escaped(FILE *f, const char *s, bool backslash)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if (c < 0x20 || c == 0x7f || (c == '\\' && backslash)) {
			fprintf(f, "\\%03o", c);
		} else if (c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			/* U+0080..U+009F: C1 controls (CSI is one) */
			fprintf(f, "\\%03o\\%03o", c, p[1]);
			p++;
		} else {
			fputc(c, f);
		}
	}
}

void tool_put_escaped(FILE *f, const char *s)
{
	put_escaped(f, s, true);
}

void tool_put_escaped_raw_bs(FILE *f, const char *s)
{
	put_escaped(f, s, false);
}

int tool_fail(const char *subject, struct oci_error *err)
{
	if (tool_signal) {
		oci_error_free(err);
		return EXIT_TROUBLE;
	}
	fprintf(stderr, "%s: ", tool_name);
	if (subject) {
		tool_put_sanitized(stderr, subject);
		fputs(": ", stderr);
	}
	tool_put_sanitized(stderr, err && err->msg ? err->msg : "unknown error");
	fputc('\n', stderr);
	oci_error_free(err);
	return EXIT_TROUBLE;
}

int tool_failf(const char *subject, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	struct oci_error *e = calloc(1, sizeof(*e));
	if (!e)
		abort();
	e->msg = msg;
	return tool_fail(subject, e);
}

int tool_usage_error(const char *fmt, ...)
{
	char *msg;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	fprintf(stderr, "%s: ", tool_name);
	tool_put_sanitized(stderr, msg); /* it quotes arguments: one line */
	fprintf(stderr, " (see %s --help)\n", tool_name);
	free(msg);
	return EXIT_TROUBLE;
}

void tool_note(const char *fmt, ...)
{
	if (tool_quiet)
		return;
	/* notes name refs, paths and digests from the input: escaped */
	char *msg;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	fprintf(stderr, "%s: ", tool_name);
	tool_put_sanitized(stderr, msg);
	fputc('\n', stderr);
	free(msg);
}

int tool_version(void)
{
	printf("%s %s\n", tool_name, oci_version());
	return tool_flush_stdout();
}

int tool_flush_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		int e = errno;
		fprintf(stderr, "%s: stdout: write failed: %s\n", tool_name, strerror(e ? e : EIO));
		return EXIT_TROUBLE;
	}
	return EXIT_OK;
}

const char *tool_human_size(long long n, char *buf, size_t len)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	if (n < 1024) {
		snprintf(buf, len, "%lld B", n);
		return buf;
	}
	double v = (double)n;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

int tool_platform(const char *s, struct oci_platform *out)
{
	if (!s) {
		oci_platform_host(out);
		return 0;
	}
	struct oci_error *err = NULL;
	if (oci_platform_parse(s, out, &err) < 0)
		return tool_fail("--platform", err);
	return 0;
}

static double tool_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tool_progress_init(struct tool_progress *p, bool forced)
{
	p->on = !tool_quiet && (forced || isatty(2));
	p->start = tool_now();
	p->last = 0;
	p->drawn = false;
}

void tool_progress_layer(void *arg, size_t layer, size_t n_layers, int64_t done, int64_t total)
{
	struct tool_progress *p = arg;
	if (!p->on)
		return;
	double now = tool_now();
	if (now - p->last < 0.1 && done < total)
		return;
	p->last = now;
	char d[32], t[32], r[32];
	double el = now - p->start;
	tool_human_size(done, d, sizeof(d));
	tool_human_size(total, t, sizeof(t));
	tool_human_size(el > 0 ? (long long)((double)done / el) : 0, r, sizeof(r));
	fprintf(stderr, "\r%s: layer %zu/%zu  %s / %s  %s/s\033[K", tool_name, layer, n_layers, d,
		t, r);
	p->drawn = true;
}

void tool_progress_end(struct tool_progress *p)
{
	if (p->drawn)
		fputc('\n', stderr);
	p->drawn = false;
}

volatile sig_atomic_t tool_signal;

static void tool_on_signal(int sig)
{
	tool_signal = sig;
}

void tool_catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tool_on_signal;
	sigemptyset(&sa.sa_mask);
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		/* SIGHUP ignored on entry stays ignored: nohup meant it. (SIGINT
		 * is caught even when ignored: a shell ignores it for background
		 * jobs, and `tool &; kill -INT` must still stop the tool.) */
		struct sigaction old;
		if (sigs[i] == SIGHUP && sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}

void tool_signal_exit(void)
{
	if (!tool_signal)
		return;
	int sig = tool_signal;
	signal(sig, SIG_DFL);
	raise(sig);
	_exit(128 + sig);
}

void tool_args_done(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '\x01')
			argv[i]++;
}

int tool_bad_option(char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	if (arg[0] == '-' && arg[1] == '-') {
		size_t n = strcspn(arg, "=");
		return tool_usage_error("%.*s: %s", (int)n, arg,
					!optopt		? "unknown option"
					: arg[n] == '=' ? "takes no argument"
							: "needs an argument");
	}
	if (optopt > 0 && optopt < 128)
		return tool_usage_error("-%c: unknown option or missing argument", optopt);
	return tool_usage_error("%s: unknown option", arg);
}

int tool_std_option(int c, const char *usage, char **argv)
{
	switch (c) {
	case 'q':
		tool_quiet = true;
		return TOOL_CONTINUE;
	case TOOL_OPT_HELP:
		fputs(usage, stdout);
		return tool_flush_stdout();
	case TOOL_OPT_VERSION:
		return tool_version();
	default:
		return tool_bad_option(argv);
	}
}
