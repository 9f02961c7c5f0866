/* The error printer, messages and small helpers shared by the tools. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "common.h"

const char *tool_name = "oci";
bool tool_quiet = false;
bool tool_progress_forced = false;

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
	/* A reader that goes away ends us as it ends cat(1): SIGPIPE's default
	 * action, whatever the parent left us (a shell may start us with it
	 * ignored). The library writes to no pipe but stdout, and no tool
	 * holds a half-written result on disk while it writes to stdout. */
	signal(SIGPIPE, SIG_DFL);
}

bool tool_stdout_gone(void)
{
	/* a pipe or socket whose reader closed polls as an error or hang-up
	 * without our asking for any event */
	struct pollfd p = {.fd = 1, .events = 0};
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

static off_t tool_stream_start = -1;

void tool_stream_begin(void)
{
	struct stat st;
	if (fstat(1, &st) == 0 && S_ISREG(st.st_mode))
		tool_stream_start = lseek(1, 0, SEEK_CUR);
}

void tool_stream_abort(void)
{
	int saved = errno;
	if (tool_stream_start >= 0 && ftruncate(1, tool_stream_start) == 0)
		lseek(1, tool_stream_start, SEEK_SET);
	errno = saved;
}

void tool_exit_sigpipe(void)
{
	fflush(stderr);
	signal(SIGPIPE, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(SIGPIPE);
	_exit(128 + SIGPIPE);
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
	/* the reader of our output went away: not an error to report */
	if ((!err || err->errnum == EPIPE || err->errnum == 0) && tool_stdout_gone())
		tool_exit_sigpipe();
	fprintf(stderr, "%s: ", tool_name);
	/* the library often names the subject itself ("nope: open: ..."):
	 * name it once */
	size_t sl = subject ? strlen(subject) : 0;
	if (subject && err && err->msg && strncmp(err->msg, subject, sl) == 0 &&
	    err->msg[sl] == ':')
		subject = NULL;
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
		if (e == EPIPE || tool_stdout_gone())
			tool_exit_sigpipe();
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

bool tool_is_bundle(const char *path)
{
	size_t n = strlen(path) + sizeof("/" OCI_BUNDLE_RECORD);
	char *rec = malloc(n);
	if (!rec)
		abort();
	snprintf(rec, n, "%s/" OCI_BUNDLE_RECORD, path);
	struct stat st;
	bool r = lstat(rec, &st) == 0 && S_ISREG(st.st_mode);
	free(rec);
	return r;
}

static double tool_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tool_progress_init(struct tool_progress *p, bool forced)
{
	p->on = !tool_quiet && (forced || tool_progress_forced || isatty(2));
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

struct ticker {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, drawn;
	char *label;
	double start;
};

static void *ticker_run(void *arg)
{
	struct ticker *k = arg;
	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 500000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&k->cv, &k->mu, &ts);
		if (k->stop)
			break;
		fprintf(stderr, "\r%s: %s  %.0f s\033[K", tool_name, k->label,
			tool_now() - k->start);
		fflush(stderr);
		k->drawn = true;
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

void tool_ticker_start(struct tool_ticker *t, const char *label)
{
	t->priv = NULL;
	t->on = !tool_quiet && (tool_progress_forced || isatty(2));
	if (!t->on)
		return;
	struct ticker *k = calloc(1, sizeof(*k));
	if (!k)
		abort();
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->cv, NULL);
	k->label = strdup(label);
	if (!k->label)
		abort();
	k->start = tool_now();
	/* the job's signals (SIGINT, SIGTERM) stay with the main thread */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int r = pthread_create(&k->th, NULL, ticker_run, k);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		/* no live line is no reason to fail the job */
		free(k->label);
		free(k);
		t->on = false;
		return;
	}
	t->priv = k;
}

void tool_ticker_stop(struct tool_ticker *t)
{
	struct ticker *k = t->priv;
	if (!k)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = true;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->th, NULL);
	if (k->drawn)
		fputs("\r\033[K", stderr);
	pthread_mutex_destroy(&k->mu);
	pthread_cond_destroy(&k->cv);
	free(k->label);
	free(k);
	t->priv = NULL;
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
	/* a tool whose optstring lacks "hV" gets them as getopt's '?' */
	if (c == '?' && (optopt == 'h' || optopt == 'V'))
		c = optopt;
	switch (c) {
	case 'q':
		tool_quiet = true;
		return TOOL_CONTINUE;
	case TOOL_OPT_PROGRESS:
		tool_progress_forced = true;
		return TOOL_CONTINUE;
	case 'h':
		fputs(usage, stdout);
		return tool_flush_stdout();
	case 'V':
		return tool_version();
	default:
		return tool_bad_option(argv);
	}
}

int tool_compression_option(const char *opt, const char *arg, int *out)
{
	static const struct {
		const char *name;
		int kind;
	} kinds[] = {
	    {"gzip", OCI_COMPRESS_GZIP}, {"zstd", OCI_COMPRESS_ZSTD}, {"none", OCI_COMPRESS_NONE}};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(arg, kinds[i].name) == 0) {
			*out = kinds[i].kind;
			return TOOL_CONTINUE;
		}
	return tool_usage_error("%s %s: expected gzip, zstd or none", opt, arg);
}

int tool_level_option(const char *arg, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (!*arg || *end || errno || v < 1 || v > 22)
		return tool_usage_error(
		    "--level %s: expected 1..22 (gzip stops at its maximum, 12)", arg);
	*out = (int)v;
	return TOOL_CONTINUE;
}

void tool_json_int(struct cJSON *o, const char *name, int64_t v)
{
	char t[24];
	snprintf(t, sizeof(t), "%lld", (long long)v);
	cJSON_AddRawToObject(o, name, t);
}

void tool_json_seconds(struct cJSON *o, const char *name, int64_t ns)
{
	/* the sign apart, then whole seconds and the fraction, without
	 * negating INT64_MIN */
	uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	char t[40];
	int n = snprintf(t, sizeof(t), "%s%llu", ns < 0 ? "-" : "",
			 (unsigned long long)(a / 1000000000u));
	unsigned frac = (unsigned)(a % 1000000000u);
	if (frac) {
		char f[16];
		snprintf(f, sizeof(f), "%09u", frac);
		for (size_t k = strlen(f); k > 0 && f[k - 1] == '0'; k--)
			f[k - 1] = 0;
		snprintf(t + n, sizeof(t) - (size_t)n, ".%s", f);
	}
	cJSON_AddRawToObject(o, name, t);
}
