/* What only the tools share: the error printer (the one place an error
 * becomes a line on stderr and an exit status), messages, option helpers. */
#ifndef TOOLS_COMMON_H
#define TOOLS_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <oci/oci.h>

enum {
	EXIT_OK = 0,
	EXIT_NEGATIVE = 1, /* a check's negative answer */
	EXIT_TROUBLE = 2,
};

extern const char *tool_name;
extern bool tool_quiet;

/* Also: getopt stays quiet (tool_bad_option reports, in one line), and an
 * IMAGE such as "-:REF" or "-@DIGEST" is hidden from getopt until
 * tool_args_done() puts it back. */
void tool_init(const char *name, int argc, char **argv);
void tool_args_done(int argc, char **argv);
/* the one-line complaint for getopt's '?' (or ':') */
int tool_bad_option(char **argv);

/* The options every tool has, for its getopt_long table and its short
 * option string ("o:" TOOL_STD_SHORT), and their handling: tool_std_option()
 * returns TOOL_CONTINUE after -q or --progress, else the exit status to
 * return (-h/--help, -V/--version, or a bad option). A tool whose optstring
 * lacks "hV" still gets -h and -V: getopt's '?' for them lands here too. */
#define TOOL_OPT_PROGRESS 0x7f02
#define TOOL_CONTINUE	  (-1)
#define TOOL_STD_SHORT	  "qhV"
#define TOOL_STD_OPTIONS                                                                           \
	{"quiet", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'},                       \
	    {"version", no_argument, NULL, 'V'},                                                   \
	{                                                                                          \
		"progress", no_argument, NULL, TOOL_OPT_PROGRESS                                   \
	}
int tool_std_option(int c, const char *usage, char **argv);
/* --progress was given: draw progress even when stderr is not a terminal */
extern bool tool_progress_forced;
/* Untrusted text (anything an image, a layout or a file name holds) printed
 * as text: C0 controls, DEL, the C1 controls (as UTF-8) and backslash come
 * out as \ooo octal escapes, so that nothing reaches a terminal as a
 * control sequence and a line stays one line. */
void tool_put_escaped(FILE *f, const char *s);
/* the same, leaving backslashes alone (for text that escapes them already,
 * such as JSON) */
void tool_put_escaped_raw_bs(FILE *f, const char *s);
/* The compression options: NAME gzip|zstd|none (OCI_COMPRESS_*), LEVEL
 * 1..22 (zstd's range; gzip's levels past its maximum are its maximum).
 * TOOL_CONTINUE with *out set, or the exit status of a usage error. */
int tool_compression_option(const char *opt, const char *arg, int *out);
int tool_level_option(const char *arg, int *out);
/* "TOOL: SUBJECT: MESSAGE" on stderr; returns EXIT_TROUBLE. subject may be
 * NULL. After a signal it prints nothing (the failure is the signal's doing;
 * tool_signal_exit() ends the tool with 128+N). */
/* JSON numbers that are exact: an integer as its digits (cJSON keeps a
 * double, exact only to 2^53: a size of 2^53 + 1 from a descriptor or a
 * sparse file would be printed one off), and nanoseconds as decimal
 * seconds with no more digits than they need */
struct cJSON;
void tool_json_int(struct cJSON *o, const char *name, int64_t v);
void tool_json_seconds(struct cJSON *o, const char *name, int64_t ns);

int tool_fail(const char *subject, struct oci_error *err);
int tool_failf(const char *subject, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* a bad command line: message plus a hint, exit status 2 */
int tool_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* an informational message, silenced by -q */
void tool_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int tool_version(void);
/* check stdout was written completely (a full disk is a failure; a reader
 * that went away ends the tool quietly, see tool_stdout_gone) */
int tool_flush_stdout(void);
/* Pipes: SIGPIPE has its default action in every tool (tool_init), so a
 * reader that goes away (| head) ends the writer as it ends cat(1), killed
 * by SIGPIPE, without a message. Code that must survive EPIPE on another
 * pipe (the runtime feeding its hooks) ignores SIGPIPE around that write;
 * and should a write to stdout still fail with EPIPE, every failure report
 * checks whether stdout's reader is gone and, if so, ends the same quiet
 * way. */
bool tool_stdout_gone(void);
/* A stream written to stdout (a layer, a tar) that fails half-way must not
 * stay behind as a file that looks whole: when stdout is a regular file,
 * tool_stream_begin() notes where the stream starts and tool_stream_abort()
 * cuts the file back there. */
void tool_stream_begin(void);
void tool_stream_abort(void);
__attribute__((noreturn)) void tool_exit_sigpipe(void);
/* "123 B", "1.2 MiB" */
const char *tool_human_size(long long n, char *buf, size_t len);
/* PATH is a bundle oci-unpack made (it holds the record): for the one-line
 * complaint when a bundle is given where an image belongs */
bool tool_is_bundle(const char *path);
/* parse a platform option, or the host's when s is NULL */
int tool_platform(const char *s, struct oci_platform *out);

/* Progress on stderr: only when stderr is a terminal or forced (--progress). */
struct tool_progress {
	bool on;
	double last; /* seconds, last line drawn */
	double start;
	bool drawn;
};
void tool_progress_init(struct tool_progress *p, bool forced);
/* "layer i/n  done/total  rate"; rate-limited to 10 lines a second */
void tool_progress_layer(void *arg, size_t layer, size_t n_layers, int64_t done, int64_t total);
void tool_progress_end(struct tool_progress *p);

/* A live line for a long job the library does not report on step by step
 * (a commit, a verify or repair, reading two images for a diff): the label
 * and the time spent, redrawn by a thread twice a second; shown under the
 * same rule as tool_progress (a terminal, or --progress) and never before
 * the job has run for half a second. */
struct tool_ticker {
	bool on;
	void *priv;
};
void tool_ticker_start(struct tool_ticker *t, const char *label);
void tool_ticker_stop(struct tool_ticker *t);

/* Signals: SIGINT/SIGTERM/SIGHUP set tool_signal (SIGHUP not when ignored
 * on entry: nohup); a tool cleans up, then calls tool_signal_exit(), which
 * re-raises it (exit status 128+N). */
#include <signal.h>
extern volatile sig_atomic_t tool_signal;
void tool_catch_signals(void);
void tool_signal_exit(void);

#endif
