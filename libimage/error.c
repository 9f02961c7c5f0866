/* Error construction and wrapping, and the one place that allocates or dies. */
#include <errno.h>
#include <fcntl.h>
#include "internal.h"

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		abort();
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		abort();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		abort();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		abort();
	return p;
}

static char *xvasprintf(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	return s;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* With err NULL a caller still needs the status back through error_wrap. */
static __thread int error_last = OCI_E_IO;

int error_set(struct oci_error **err, enum oci_status st, int errnum, const char *fmt, ...)
{
	error_last = st;
	if (!err)
		return st;
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (errnum) {
		char *full = xasprintf("%s: %s", msg, strerror(errnum));
		free(msg);
		msg = full;
	}
	oci_error_free(*err);
	struct oci_error *e = xcalloc(1, sizeof(*e));
	e->status = st;
	e->errnum = errnum;
	e->msg = msg;
	*err = e;
	return st;
}

int error_wrap(struct oci_error **err, const char *fmt, ...)
{
	if (!err || !*err)
		return error_last;
	va_list ap;
	va_start(ap, fmt);
	char *ctx = xvasprintf(fmt, ap);
	va_end(ap);
	char *msg = xasprintf("%s: %s", ctx, (*err)->msg);
	free(ctx);
	free((*err)->msg);
	(*err)->msg = msg;
	return (*err)->status;
}

int error_status(struct oci_error **err, int fallback)
{
	if (err && *err)
		return (*err)->status;
	return fallback;
}

void oci_error_free(struct oci_error *err)
{
	if (!err)
		return;
	free(err->msg);
	free(err);
}

const char *oci_status_name(enum oci_status st)
{
	switch (st) {
	case OCI_OK:
		return "ok";
	case OCI_E_IO:
		return "i/o error";
	case OCI_E_INVALID:
		return "invalid";
	case OCI_E_NOTFOUND:
		return "not found";
	case OCI_E_MISMATCH:
		return "mismatch";
	case OCI_E_UNSUPPORTED:
		return "unsupported";
	case OCI_E_USAGE:
		return "usage";
	case OCI_E_LIMIT:
		return "limit exceeded";
	case OCI_E_INTERRUPTED:
		return "interrupted";
	}
	return "error";
}

const char *oci_version(void)
{
	return OCI_VERSION;
}

ssize_t read_full_at(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int write_full(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			/* no progress and no reason given: do not loop */
			errno = EIO;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

int tmpfile_anon(const char *fallback_dir, const char *tag, struct oci_error **err)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = fallback_dir;
	/* O_EXCL: never linkat()ed into a name, it is gone once closed */
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC | O_EXCL, 0600);
	if (fd >= 0)
		return fd;
	/* no O_TMPFILE there: a named one, unlinked at once */
	cleanup_free char *tmpl = xasprintf("%s/%s-XXXXXX", dir, tag);
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "create temporary file in %s", dir);
	unlink(tmpl);
	return fd;
}

static volatile sig_atomic_t *cancel_flag;

void oci_set_cancel_flag(volatile sig_atomic_t *flag)
{
	cancel_flag = flag;
}

bool oci_cancelled(void)
{
	return cancel_flag && *cancel_flag;
}
