/* The unpack record: a versioned text file, one sorted line per path, that
 * a later diff loads instead of re-reading the rootfs. See docs/record.md. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include "internal.h"
#include "snapshot_int.h"
#include "inroot.h"

#define SNAP_MAGIC "oci-unpack-record"
#define SNAP_MAX   (1ull << 31)

static int snap_cmp(const void *a, const void *b)
{
	return strcmp(((const struct oci_snap_entry *)a)->path,
		      ((const struct oci_snap_entry *)b)->path);
}

void oci_snapshot_sort(struct oci_snapshot *s)
{
	if (s->n)
		qsort(s->e, s->n, sizeof(*s->e), snap_cmp);
}

const struct oci_snap_entry *oci_snapshot_find(const struct oci_snapshot *s, const char *path)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->e[mid].path, path);
		if (c == 0)
			return &s->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void oci_snapshot_free(struct oci_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->e[i].path);
		free(s->e[i].link);
		free(s->e[i].xattrs);
	}
	free(s->e);
	free(s->source);
	if (s->content_off && s->content_fd >= 0)
		close(s->content_fd);
	free(s->content_off);
	free(s);
}

/* a growing output buffer */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_need(struct sbuf *b, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
}

static void sb_str(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);
	sb_need(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void sb_fmt(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_fmt(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	sb_need(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* ---- extended attributes as the snapshot keeps them ----
 * "NAME=HEX;NAME=HEX", sorted by name, each name escaped so that ";" and
 * "=" (which a user.* name may contain) can never split or join items: a
 * name is data, and a name the kernel or a layer gave us must come out of
 * the string exactly as it went in. */

static const char snap_hex[] = "0123456789abcdef";

/* Which bytes a field keeps as %XX. Names of xattrs also escape the two
 * separators of the xattrs string. */
static bool snap_escapes(unsigned char c, bool xname)
{
	return c <= 0x20 || c == 0x7f || c == '%' || (xname && (c == ';' || c == '='));
}

static void sb_escaped_n(struct sbuf *b, const char *s, size_t n, bool xname)
{
	sb_need(b, n * 3);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (snap_escapes(c, xname)) {
			b->p[b->len++] = '%';
			b->p[b->len++] = snap_hex[c >> 4];
			b->p[b->len++] = snap_hex[c & 15];
		} else {
			b->p[b->len++] = (char)c;
		}
	}
	b->p[b->len] = 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Unescape [p, end) into a new string, accepting only the canonical form a
 * writer produces: every byte of the escape set as %XX with lowercase hex,
 * and every other byte as itself. So one string has one spelling, and a
 * record that parses is written back byte for byte. NULL when not so. */
static char *snap_unescape(const char *p, const char *end, bool xname)
{
	char *o = xmalloc((size_t)(end - p) + 1), *w = o;
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		if (c == '%') {
			int h, l;
			if (end - p < 3 || (h = hexval(p[1])) < 0 || (l = hexval(p[2])) < 0 ||
			    (h == 0 && l == 0) ||
			    !snap_escapes((unsigned char)(h * 16 + l), xname)) {
				free(o);
				return NULL;
			}
			*w++ = (char)(h * 16 + l);
			p += 3;
		} else if (snap_escapes(c, xname)) {
			free(o);
			return NULL;
		} else {
			*w++ = (char)c;
			p++;
		}
	}
	*w = 0;
	return o;
}

struct xa_item {
	const struct snapshot_xattr *x;
	size_t i;
};

static int xa_cmp(const void *a, const void *b)
{
	const struct xa_item *x = a, *y = b;
	int c = strcmp(x->x->name, y->x->name);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

char *snapshot_xattrs_encode(const struct snapshot_xattr *v, size_t n)
{
	if (n == 0)
		return NULL;
	struct xa_item *it = xcalloc(n, sizeof(*it));
	for (size_t i = 0; i < n; i++)
		it[i] = (struct xa_item){&v[i], i};
	qsort(it, n, sizeof(*it), xa_cmp);
	struct sbuf b = {0};
	for (size_t i = 0; i < n; i++) {
		const struct snapshot_xattr *x = it[i].x;
		/* a name given twice: the last one given is the one set on disk */
		if (!*x->name || (i + 1 < n && strcmp(x->name, it[i + 1].x->name) == 0))
			continue;
		if (b.len)
			sb_str(&b, ";");
		sb_escaped_n(&b, x->name, strlen(x->name), true);
		sb_need(&b, 1 + 2 * x->len);
		b.p[b.len++] = '=';
		for (size_t j = 0; j < x->len; j++) {
			unsigned char c = ((const unsigned char *)x->val)[j];
			b.p[b.len++] = snap_hex[c >> 4];
			b.p[b.len++] = snap_hex[c & 15];
		}
		b.p[b.len] = 0;
	}
	free(it);
	return b.p; /* NULL when every name was empty */
}

int oci_snapshot_xattr_next(const char **cursor, char **name, unsigned char **value, size_t *len)
{
	const char *p = *cursor;
	*name = NULL;
	*value = NULL;
	*len = 0;
	if (!*p)
		return 0;
	const char *eq = strchr(p, '=');
	const char *semi = strchr(p, ';');
	if (!eq || eq == p || (semi && semi < eq))
		return -1;
	const char *hex = eq + 1, *hend = semi ? semi : hex + strlen(hex);
	if ((hend - hex) % 2 != 0 || (semi && !semi[1]))
		return -1;
	char *n = snap_unescape(p, eq, true);
	if (!n)
		return -1;
	size_t vl = (size_t)(hend - hex) / 2;
	unsigned char *v = xmalloc(vl + 1);
	for (size_t i = 0; i < vl; i++) {
		int h = hexval(hex[2 * i]), l = hexval(hex[2 * i + 1]);
		if (h < 0 || l < 0) {
			free(n);
			free(v);
			return -1;
		}
		v[i] = (unsigned char)(h * 16 + l);
	}
	v[vl] = 0;
	*name = n;
	*value = v;
	*len = vl;
	*cursor = semi ? semi + 1 : hend;
	return 1;
}

bool snapshot_xattrs_valid(const char *s)
{
	cleanup_free char *prev = NULL;
	const char *p = s;
	for (;;) {
		char *n;
		unsigned char *v;
		size_t vl;
		int r = oci_snapshot_xattr_next(&p, &n, &v, &vl);
		free(v);
		if (r <= 0)
			return r == 0 && p != s; /* "" is not a list: none is "-" / NULL */
		/* strictly increasing: sorted, each name once */
		bool ok = !prev || strcmp(prev, n) < 0;
		free(prev);
		prev = n;
		if (!ok)
			return false;
	}
}

/* ---- the record file ---- */

/* Why an entry cannot be in a record, or NULL. The writer and the reader
 * hold entries to the same rules, so what one writes the other reads. */
static const char *snap_entry_check(const struct oci_snap_entry *e)
{
	const char *p = e->path;
	if (*p) {
		for (;;) {
			const char *s = strchr(p, '/');
			size_t l = s ? (size_t)(s - p) : strlen(p);
			if (l == 0 || (l == 1 && p[0] == '.') ||
			    (l == 2 && p[0] == '.' && p[1] == '.'))
				return "path not clean";
			if (!s)
				break;
			p = s + 1;
		}
	}
	mode_t t = e->mode & S_IFMT;
	if ((e->mode & ~(uint32_t)0177777) ||
	    !(t == S_IFREG || t == S_IFDIR || t == S_IFLNK || t == S_IFCHR || t == S_IFBLK ||
	      t == S_IFIFO || t == S_IFSOCK))
		return "bad mode";
	if (e->size < 0 || (t != S_IFREG && e->size != 0))
		return "bad size";
	if (e->flags & ~(uint32_t)OCI_SNAP_VIRTUAL)
		return "unknown flags";
	if ((e->flags & OCI_SNAP_VIRTUAL) && t != S_IFCHR && t != S_IFBLK)
		return "only a device can be virtual";
	if (e->digest.algo && (t != S_IFREG || (e->flags & OCI_SNAP_VIRTUAL)))
		return "a digest on what is not a regular file";
	if (!e->link != (t != S_IFLNK))
		return t == S_IFLNK ? "a symbolic link without a target"
				    : "a target on what is not a symbolic link";
	if (e->xattrs && *e->xattrs && !snapshot_xattrs_valid(e->xattrs))
		return "bad xattrs";
	if (!*e->path && t != S_IFDIR)
		return "the root is not a directory";
	return NULL;
}

static int ino_cmp(const void *a, const void *b)
{
	const struct oci_snap_entry *x = *(const struct oci_snap_entry *const *)a;
	const struct oci_snap_entry *y = *(const struct oci_snap_entry *const *)b;
	return (x->ino > y->ino) - (x->ino < y->ino);
}

/* The names of one inode have one content: hard-linked regular files that
 * share an inode but not a digest make a record whose digests cannot be
 * trusted (one of them, at least, is not the inode's). One such entry, or
 * NULL. */
static const struct oci_snap_entry *snap_links_check(const struct oci_snapshot *s)
{
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++)
		k += s->e[i].nlink > 1 && S_ISREG(s->e[i].mode) &&
		     !(s->e[i].flags & OCI_SNAP_VIRTUAL);
	if (k < 2)
		return NULL;
	const struct oci_snap_entry **v = xcalloc(k, sizeof(*v));
	k = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].nlink > 1 && S_ISREG(s->e[i].mode) &&
		    !(s->e[i].flags & OCI_SNAP_VIRTUAL))
			v[k++] = &s->e[i];
	qsort(v, k, sizeof(*v), ino_cmp);
	const struct oci_snap_entry *bad = NULL;
	for (size_t i = 1; i < k && !bad; i++)
		if (v[i]->ino == v[i - 1]->ino &&
		    !oci_digest_equal(&v[i]->digest, &v[i - 1]->digest))
			bad = v[i];
	free(v);
	return bad;
}

static bool snap_digest_ok(const struct oci_digest *d)
{
	return d->algo == OCI_DIGEST_NONE ||
	       oci_digest_parse(d->str, &(struct oci_digest){0}, NULL) == 0;
}

/* all of buf to fd: 0, or the errno */
static int snap_write_all(int fd, const char *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		done += (size_t)n;
	}
	return 0;
}

#define SNAP_FLUSH (1u << 20)

/* The record as text: into *out when fd < 0; else written to fd as it is
 * made, SNAP_FLUSH bytes at a time, so a million entries do not take their
 * ~160 MB of text in memory at once (a failure then leaves part of it
 * written: the caller writes to a temporary name). */
static int snapshot_emit(const struct oci_snapshot *s, int fd, const char *name, char **out,
			 size_t *len, struct oci_error **err)
{
	if (!snap_digest_ok(&s->manifest) || !snap_digest_ok(&s->config))
		return error_set(err, OCI_E_INVALID, 0, "record: bad manifest or config digest");
	/* before any text is made: nothing of a refused record is written */
	const struct oci_snap_entry *bad = snap_links_check(s);
	if (bad)
		return error_set(
		    err, OCI_E_INVALID, 0,
		    "record entry \"%s\": hard links of one inode with different digests",
		    bad->path);
	struct sbuf b = {0};
	sb_fmt(&b, "%s %d\n", SNAP_MAGIC, OCI_SNAPSHOT_VERSION);
	sb_str(&b, "source ");
	const char *src = s->source ? s->source : "";
	sb_escaped_n(&b, src, strlen(src), false);
	sb_fmt(&b, "\nmanifest %s\nconfig %s\nrootless %d\ncount %zu\n",
	       s->manifest.algo ? s->manifest.str : "-", s->config.algo ? s->config.str : "-",
	       s->rootless ? 1 : 0, s->n);
	for (size_t i = 0; i < s->n; i++) {
		const struct oci_snap_entry *e = &s->e[i];
		const char *why = snap_entry_check(e);
		if (!why && i && strcmp(s->e[i - 1].path, e->path) >= 0)
			why = "out of order or repeated";
		if (!why && !snap_digest_ok(&e->digest))
			why = "bad digest";
		if (why) {
			free(b.p);
			return error_set(err, OCI_E_INVALID, 0, "record entry \"%s\": %s", e->path,
					 why);
		}
		sb_str(&b, "/");
		sb_escaped_n(&b, e->path, strlen(e->path), false);
		sb_fmt(&b, "\t%o\t%u\t%u\t%u\t%lld\t%lld\t%lld\t%llu\t%llu\t%s\t", e->mode, e->uid,
		       e->gid, e->nlink, (long long)e->size, (long long)e->mtime_ns,
		       (long long)e->ctime_ns, (unsigned long long)e->ino,
		       (unsigned long long)e->rdev, e->digest.algo ? e->digest.str : "-");
		if (!e->link)
			sb_str(&b, "-");
		else if (strcmp(e->link, "-") == 0)
			sb_str(&b, "%2d"); /* the target "-", not "no target" */
		else
			sb_escaped_n(&b, e->link, strlen(e->link), false);
		/* the xattrs string escapes what a record must (a subset of what
		 * its names escape) and was checked above: it goes in as it is */
		sb_str(&b, "\t");
		sb_str(&b, e->xattrs && *e->xattrs ? e->xattrs : "-");
		sb_fmt(&b, "\t%u\n", e->flags);
		if (fd >= 0 && b.len >= SNAP_FLUSH) {
			int we = snap_write_all(fd, b.p, b.len);
			if (we) {
				free(b.p);
				return error_set(err, OCI_E_IO, we, "write %s", name);
			}
			b.len = 0;
		}
	}
	if (fd >= 0) {
		int we = snap_write_all(fd, b.p, b.len);
		free(b.p);
		return we ? error_set(err, OCI_E_IO, we, "write %s", name) : 0;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

int snapshot_format(const struct oci_snapshot *s, char **out, size_t *len, struct oci_error **err)
{
	return snapshot_emit(s, -1, NULL, out, len, err);
}

int oci_snapshot_write(const struct oci_snapshot *s, int dirfd, const char *name,
		       struct oci_error **err)
{
	cleanup_free char *tmp = xasprintf(".%s.tmp", name);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "create %s", tmp);
	int r = snapshot_emit(s, fd, name, NULL, NULL, err);
	if (r < 0) {
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	/* close even when fsync failed: no descriptor left behind */
	int e = 0;
	bool ok = true;
	if (fsync(fd) < 0)
		e = errno, ok = false;
	if (close(fd) < 0 && ok)
		e = errno, ok = false;
	if (!ok) {
		unlinkat(dirfd, tmp, 0);
		return error_set(err, OCI_E_IO, e, "write %s", name);
	}
	/* the old record or the new one, whole, whatever moment a crash comes */
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		e = errno;
		unlinkat(dirfd, tmp, 0);
		return error_set(err, OCI_E_IO, e, "rename %s", name);
	}
	if (fsync(dirfd) < 0)
		return error_set(err, OCI_E_IO, errno, "sync the directory of %s", name);
	return 0;
}

/* A number in [p, end): ASCII digits of base only, no sign, no leading zero
 * (one spelling per value), at most max. */
static bool snap_uint(const char *p, const char *end, int base, uint64_t max, uint64_t *out)
{
	if (p == end || (*p == '0' && end - p > 1))
		return false;
	uint64_t v = 0;
	for (; p < end; p++) {
		int d = hexval(*p);
		if (d < 0 || d >= base || (uint64_t)d > max ||
		    v > (max - (uint64_t)d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*out = v;
	return true;
}

/* A signed 64-bit decimal: INT64_MIN is read as its magnitude, 2^63,
 * which only the negative side may reach, and is never negated as an
 * int64_t (that overflows). "-0" is not a spelling of 0. */
static bool snap_int(const char *p, const char *end, int64_t *out)
{
	bool neg = p < end && *p == '-';
	uint64_t v;
	if (!snap_uint(p + neg, end, 10, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &v) ||
	    (neg && v == 0))
		return false;
	*out = !neg ? (int64_t)v : v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	return true;
}

/* a digest field: "-" or a digest in the one spelling it prints as */
static bool snap_digest(const char *p, const char *end, struct oci_digest *d)
{
	memset(d, 0, sizeof(*d));
	if (end - p == 1 && *p == '-')
		return true;
	if (end - p > OCI_DIGEST_MAX)
		return false;
	char tmp[OCI_DIGEST_MAX + 1];
	memcpy(tmp, p, (size_t)(end - p));
	tmp[end - p] = 0;
	/* all of the field: a NUL inside would end the C string early */
	return strlen(tmp) == (size_t)(end - p) && oci_digest_parse(tmp, d, NULL) == 0 &&
	       strcmp(d->str, tmp) == 0;
}

#define SNAP_FIELDS 14

static const char *snap_parse_line(const char *p, const char *end, struct oci_snap_entry *e)
{
	memset(e, 0, sizeof(*e));
	const char *f[SNAP_FIELDS + 1];
	int k = 0;
	f[k++] = p;
	for (const char *t = p; (t = memchr(t, '\t', (size_t)(end - t))); t++) {
		if (k == SNAP_FIELDS)
			return "too many fields";
		f[k++] = t + 1;
	}
	if (k != SNAP_FIELDS)
		return "too few fields";
	f[SNAP_FIELDS] = end + 1;
#define FEND(i) (f[(i) + 1] - 1)
	if (*p != '/' || !(e->path = snap_unescape(p + 1, FEND(0), false)))
		return "bad path";
	uint64_t v[8];
	if (!snap_uint(f[1], FEND(1), 8, UINT32_MAX, &v[0]) ||
	    !snap_uint(f[2], FEND(2), 10, UINT32_MAX, &v[1]) ||
	    !snap_uint(f[3], FEND(3), 10, UINT32_MAX, &v[2]) ||
	    !snap_uint(f[4], FEND(4), 10, UINT32_MAX, &v[3]) ||
	    !snap_uint(f[5], FEND(5), 10, INT64_MAX, &v[4]) ||
	    !snap_int(f[6], FEND(6), &e->mtime_ns) || !snap_int(f[7], FEND(7), &e->ctime_ns) ||
	    !snap_uint(f[8], FEND(8), 10, UINT64_MAX, &v[5]) ||
	    !snap_uint(f[9], FEND(9), 10, UINT64_MAX, &v[6]) ||
	    !snap_uint(f[13], FEND(13), 10, UINT32_MAX, &v[7]))
		return "bad number";
	e->mode = (uint32_t)v[0];
	e->uid = (uint32_t)v[1];
	e->gid = (uint32_t)v[2];
	e->nlink = (uint32_t)v[3];
	e->size = (int64_t)v[4];
	e->ino = v[5];
	e->rdev = v[6];
	e->flags = (uint32_t)v[7];
	if (!snap_digest(f[10], FEND(10), &e->digest))
		return "bad digest";
	const char *l = f[11], *le = FEND(11);
	if (le - l == 1 && *l == '-')
		e->link = NULL;
	else if (le - l == 3 && memcmp(l, "%2d", 3) == 0)
		e->link = xstrdup("-");
	else if (!(e->link = snap_unescape(l, le, false)))
		return "bad link target";
	const char *x = f[12], *xe = FEND(12);
	if (!(xe - x == 1 && *x == '-')) {
		e->xattrs = xstrndup(x, (size_t)(xe - x));
		if (strlen(e->xattrs) != (size_t)(xe - x) || !snapshot_xattrs_valid(e->xattrs))
			return "bad xattrs";
	}
#undef FEND
	return snap_entry_check(e);
}

/* the header line "KEY VALUE": VALUE, or NULL */
static const char *snap_hdr(const char *p, const char *nl, const char *key)
{
	size_t k = strlen(key);
	if ((size_t)(nl - p) <= k || memcmp(p, key, k) != 0 || p[k] != ' ')
		return NULL;
	return p + k + 1;
}

int snapshot_parse(const char *buf, size_t n, struct oci_snapshot **out, size_t *line,
		   const char **why)
{
	const char *p = buf, *end = buf + n, *v;
	struct oci_snapshot *s = xcalloc(1, sizeof(*s));
	const char *nl[6];
	*why = NULL;
	*line = 0;
	uint64_t u = 0;
	for (int i = 0; i < 6 && !*why; i++) {
		++*line;
		nl[i] = memchr(p, '\n', (size_t)(end - p));
		if (!nl[i]) {
			*why = "truncated header";
			break;
		}
		switch (i) {
		case 0:
			if (!(v = snap_hdr(p, nl[i], SNAP_MAGIC)) ||
			    !snap_uint(v, nl[i], 10, INT32_MAX, &u))
				*why = "not a record";
			else if (u == 1)
				*why =
				    "version 1 is no longer read (its xattr names and link targets "
				    "are ambiguous): unpack the image again";
			else if (u != OCI_SNAPSHOT_VERSION)
				*why = "unknown version";
			break;
		case 1:
			if (!(v = snap_hdr(p, nl[i], "source")) ||
			    !(s->source = snap_unescape(v, nl[i], false)))
				*why = "bad source";
			break;
		case 2:
		case 3:
			if (!(v = snap_hdr(p, nl[i], i == 2 ? "manifest" : "config")) ||
			    !snap_digest(v, nl[i], i == 2 ? &s->manifest : &s->config))
				*why = "bad digest";
			break;
		case 4:
			if (!(v = snap_hdr(p, nl[i], "rootless")) ||
			    !snap_uint(v, nl[i], 10, 1, &u))
				*why = "bad rootless";
			s->rootless = u != 0;
			break;
		case 5:
			/* an entry line takes at least 28 bytes: count cannot outgrow the file */
			if (!(v = snap_hdr(p, nl[i], "count")) ||
			    !snap_uint(v, nl[i], 10, (uint64_t)(end - nl[i]) / 28, &u))
				*why = "bad count";
			break;
		}
		p = nl[i] + 1;
	}
	size_t count = (size_t)u;
	if (!*why)
		s->e = xcalloc(count ? count : 1, sizeof(*s->e));
	while (!*why && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		++*line;
		if (s->n >= count) {
			*why = "more entries than count";
			break;
		}
		if (!eol) {
			*why = "truncated";
			break;
		}
		struct oci_snap_entry *e = &s->e[s->n++]; /* freed with s, even when bad */
		*why = snap_parse_line(p, eol, e);
		if (!*why && s->n > 1 && strcmp(s->e[s->n - 2].path, e->path) >= 0)
			*why = "out of order or repeated";
		p = eol + 1;
	}
	if (!*why && s->n != count)
		*why = "fewer entries than count";
	const struct oci_snap_entry *bad = *why ? NULL : snap_links_check(s);
	if (bad) {
		*line = 6 + (size_t)(bad - s->e) + 1;
		*why = "hard links of one inode with different digests";
	}
	if (*why) {
		oci_snapshot_free(s);
		return OCI_E_INVALID;
	}
	*out = s;
	return 0;
}

int oci_snapshot_load(int dirfd, const char *name, struct oci_snapshot **out,
		      struct oci_error **err)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return error_set(err, errno == ENOENT ? OCI_E_NOTFOUND : OCI_E_IO, errno, "open %s",
				 name);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > SNAP_MAX)
		return error_set(err, OCI_E_INVALID, 0, "%s: not a record file", name);
	cleanup_free char *buf = xmalloc((size_t)st.st_size + 1);
	ssize_t n = read_full(fd, buf, (size_t)st.st_size);
	if (n != st.st_size)
		return error_set(err, OCI_E_IO, n < 0 ? errno : 0, "read %s%s", name,
				 n < 0 ? "" : ": it changed while being read");
	buf[n] = 0;
	size_t line;
	const char *why;
	if (snapshot_parse(buf, (size_t)n, out, &line, &why) < 0)
		return error_set(err, OCI_E_INVALID, 0, "%s: malformed record at line %zu: %s",
				 name, line, why);
	return 0;
}

/* ---- walking a tree ---- */

struct snap_walker {
	struct oci_snapshot *s;
	size_t cap;
	snapshot_visit_fn visit;
	void *arg;
};

static struct oci_snap_entry *snap_add(struct snap_walker *w)
{
	if (w->s->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 1024;
		w->s->e = xrealloc(w->s->e, w->cap * sizeof(*w->s->e));
	}
	struct oci_snap_entry *e = &w->s->e[w->s->n++];
	memset(e, 0, sizeof(*e));
	return e;
}

void snapshot_fill_stat(struct oci_snap_entry *e, const struct stat *st)
{
	e->mode = st->st_mode;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->nlink = (uint32_t)st->st_nlink;
	e->size = S_ISREG(st->st_mode) ? st->st_size : 0;
	e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	e->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
	e->ino = st->st_ino;
	e->rdev = st->st_rdev;
}

int snapshot_content_fd(int fd, const struct oci_snap_entry *expect, const char *path,
			struct oci_error **err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_set(err, OCI_E_IO, errno, "stat \"%s\"", path);
	if (!S_ISREG(st.st_mode))
		return error_set(err, OCI_E_IO, 0, "read \"%s\": not a regular file any more",
				 path);
	if (expect && st.st_ino != expect->ino)
		return error_set(err, OCI_E_IO, 0, "read \"%s\": it changed while being read",
				 path);
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return error_set(err, OCI_E_IO, errno, "fcntl \"%s\"", path);
	return 0;
}

int snapshot_open_content(int dfd, const char *name, const struct oci_snap_entry *expect,
			  const char *path, struct oci_error **err)
{
	/* O_NONBLOCK: what is there now may be a FIFO put in the file's place,
	 * whose open would wait for a writer that never comes */
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "open \"%s\"", path);
	int r = snapshot_content_fd(fd, expect, path, err);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Zeros for the holes of sparse files: a hole of any size is this block
 * given again, never a buffer of its size nor a byte at a time. */
static const char snap_zero[1 << 16];

int snapshot_read_content(int fd, int64_t size, const char *path, snapshot_sink_fn sink, void *arg,
			  struct oci_error **err)
{
	cleanup_free char *buf = xmalloc(1 << 17);
	int64_t pos = 0, zeros_to = 0, data_end = 0;
	bool seek = true;
	while (pos < size) {
		if (oci_cancelled())
			return error_set(err, OCI_E_INTERRUPTED, 0, "read \"%s\": interrupted",
					 path);
		int r;
		if (pos < zeros_to) {
			size_t z = zeros_to - pos > (int64_t)sizeof(snap_zero)
				       ? sizeof(snap_zero)
				       : (size_t)(zeros_to - pos);
			if ((r = sink(arg, snap_zero, z, err)) < 0)
				return r;
			pos += (int64_t)z;
			continue;
		}
		if (pos >= data_end) {
			/* where the next data starts and ends; before it, a hole */
			int64_t data = pos, hole = size;
			if (seek) {
				off_t d = lseek(fd, pos, SEEK_DATA);
				if (d >= 0 || errno == ENXIO) {
					data = d >= 0 && d < size ? d : size;
					off_t h = data < size ? lseek(fd, data, SEEK_HOLE) : size;
					hole = h > data && h < size ? h : size;
				} else {
					seek = false; /* no SEEK_DATA here: all of it is data */
				}
			}
			zeros_to = data;
			data_end = hole;
			if (data > pos)
				continue;
		}
		size_t want = data_end - pos > (1 << 17) ? (1 << 17) : (size_t)(data_end - pos);
		ssize_t n = pread(fd, buf, want, pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(err, OCI_E_IO, errno, "read \"%s\"", path);
		if (n == 0)
			return error_set(err, OCI_E_IO, 0,
					 "read \"%s\": it shrank while being read", path);
		if ((r = sink(arg, buf, (size_t)n, err)) < 0)
			return r;
		pos += n;
	}
	/* a hole past the end looks like the end of a file that shrank */
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_set(err, OCI_E_IO, errno, "stat \"%s\"", path);
	if (st.st_size < size)
		return error_set(err, OCI_E_IO, 0, "read \"%s\": it shrank while being read", path);
	return 0;
}

static int snap_hash_sink(void *arg, const void *buf, size_t len, struct oci_error **err)
{
	(void)err;
	oci_hash_update(arg, buf, len);
	return 0;
}

int snapshot_hash_file(int dfd, const char *name, const struct oci_snap_entry *e,
		       struct oci_digest *out, struct oci_error **err)
{
	cleanup_close int fd = snapshot_open_content(dfd, name, e, e->path, err);
	if (fd < 0)
		return fd;
	struct oci_hash *h = oci_hash_new(OCI_DIGEST_SHA256);
	int r = snapshot_read_content(fd, e->size, e->path, snap_hash_sink, h, err);
	if (r == 0)
		oci_hash_final(h, out);
	oci_hash_free(h);
	return r;
}

int snapshot_read_xattrs(int dfd, const char *name, mode_t mode, char **out, struct oci_error **err)
{
	*out = NULL;
	if (!S_ISREG(mode) && !S_ISDIR(mode))
		return 0;
	cleanup_close int fd =
	    openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "open \"%s\"", name);
	/* The kernel lists at most 64 KiB of names (E2BIG past it) and gives a
	 * value of at most 64 KiB: what does not fit, or cannot be read, is an
	 * error, never an inode recorded (or committed) without some of its
	 * xattrs. */
	char list[65536];
	ssize_t n = flistxattr(fd, list, sizeof(list));
	if (n < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
		return 0;
	if (n < 0)
		return error_set(err, OCI_E_IO, errno, "list the xattrs of \"%s\"", name);
	if (n == 0)
		return 0;
	struct snapshot_xattr x[1024];
	cleanup_free char *vals = xmalloc(1 << 20);
	size_t k = 0, used = 0;
	for (char *p = list; p < list + n; p += strlen(p) + 1) {
		if (k == 1024)
			return error_set(err, OCI_E_INVALID, 0, "\"%s\": more than 1,024 xattrs",
					 name);
		/* a value is at most 64 KiB (XATTR_SIZE_MAX); all of them share vals */
		size_t room = (1 << 20) - used;
		ssize_t vl = fgetxattr(fd, p, vals + used, room < 65536 ? room : 65536);
		/* removed since the list was made; or one we may not read (as
		 * before: a rootless commit keeps what it can see) */
		if (vl < 0 && (errno == ENODATA || errno == EPERM || errno == EACCES ||
			       errno == ENOTSUP || errno == EOPNOTSUPP))
			continue;
		if (vl < 0 && errno == ERANGE && room < 65536)
			return error_set(err, OCI_E_INVALID, 0,
					 "\"%s\": xattr values of more than 1 MiB", name);
		if (vl < 0)
			return error_set(err, OCI_E_IO, errno, "read xattr %s of \"%s\"", p, name);
		x[k++] = (struct snapshot_xattr){p, vals + used, (size_t)vl};
		used += (size_t)vl;
	}
	*out = snapshot_xattrs_encode(x, k);
	return 0;
}

/* a non-directory entry, in directory dfd */
static int snap_leaf(struct snap_walker *w, int dfd, const char *name, const char *path,
		     struct stat *st, struct oci_error **err)
{
	struct oci_snap_entry *e = snap_add(w);
	e->path = xstrdup(path);
	snapshot_fill_stat(e, st);
	if (S_ISLNK(st->st_mode)) {
		char buf[4097];
		ssize_t n = readlinkat(dfd, name, buf, sizeof(buf) - 1);
		if (n < 0)
			return error_set(err, OCI_E_IO, errno, "readlink \"%s\"", path);
		buf[n] = 0;
		e->link = xstrdup(buf);
	}
	return w->visit ? w->visit(w->arg, e, dfd, name, -1, st, err) : 0;
}

/* The tree below rootfd, depth first, each directory after its children.
 * Iterative, with the stack on the heap: any depth costs heap, not C
 * stack, and at most INROOT_WALK_FDS open directories. */
static int snap_walk_tree(struct snap_walker *w, int rootfd, struct oci_error **err)
{
	struct inroot_walk k = {0};
	int r = 0;
	inroot_path_at(&k.path, 0, "");
	struct stat st;
	int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = error_set(err, OCI_E_IO, errno, "read directory \"\"");
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (inroot_walk_push(&k, fd, &st, ".") < 0) {
		r = error_set(err, OCI_E_IO, errno, "read directory \"\"");
		goto out;
	}
	while (k.depth > 0) {
		struct inroot_frame *f = &k.v[k.depth - 1];
		if (oci_cancelled()) {
			r = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
			goto out;
		}
		if (f->i < f->n) {
			const char *cn = f->names[f->i++];
			inroot_path_at(&k.path, f->plen, cn);
			if (fstatat(f->fd, cn, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				r = error_set(err, OCI_E_IO, errno, "stat \"%s\"", k.path.p);
				goto out;
			}
			if (!S_ISDIR(st.st_mode)) {
				if ((r = snap_leaf(w, f->fd, cn, k.path.p, &st, err)) < 0)
					goto out;
				continue;
			}
			fd = openat(f->fd, cn, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				r = error_set(err, OCI_E_IO, errno, "open directory \"%s\"",
					      k.path.p);
				goto out;
			}
			if (inroot_walk_push(&k, fd, &st, cn) < 0) {
				r = error_set(err, OCI_E_IO, errno, "read directory \"%s\"",
					      k.path.p);
				goto out;
			}
			continue;
		}
		if (k.depth == 1)
			break; /* the root: the caller adds it */
		/* every name below f done: f itself, seen from its parent */
		k.path.len = f->plen;
		k.path.p[k.path.len] = 0;
		int pfd = inroot_walk_parent_fd(&k);
		if (pfd < 0) {
			r = error_set(err, OCI_E_IO, errno, "reopen the parent of \"%s\"",
				      k.path.p);
			goto out;
		}
		struct oci_snap_entry *e = snap_add(w);
		e->path = xstrdup(k.path.p);
		snapshot_fill_stat(e, &f->st);
		if (w->visit && (r = w->visit(w->arg, e, pfd, f->name, f->fd, &f->st, err)) < 0)
			goto out;
		inroot_walk_pop(&k);
	}
out:
	inroot_walk_free(&k);
	return r;
}

int snapshot_walk(int rootfd, snapshot_visit_fn visit, void *arg, struct oci_snapshot *s,
		  struct oci_error **err)
{
	struct snap_walker w = {.s = s, .cap = s->n, .visit = visit, .arg = arg};
	int r = snap_walk_tree(&w, rootfd, err);
	if (r == 0) {
		struct stat st;
		if (fstat(rootfd, &st) < 0)
			return error_set(err, OCI_E_IO, errno, "stat the root");
		struct oci_snap_entry *e = snap_add(&w);
		e->path = xstrdup("");
		snapshot_fill_stat(e, &st);
		if (visit)
			r = visit(arg, e, rootfd, ".", rootfd, &st, err);
	}
	if (r == 0)
		oci_snapshot_sort(s);
	return r;
}

int oci_snapshot_of_dir(int dirfd, struct oci_snapshot **out, struct oci_error **err)
{
	struct oci_snapshot *s = xcalloc(1, sizeof(*s));
	int r = snapshot_walk(dirfd, NULL, NULL, s, err);
	if (r < 0) {
		oci_snapshot_free(s);
		return r;
	}
	*out = s;
	return 0;
}

int snapshot_entry_xattrs(int rootfd, struct oci_snap_entry *e, struct oci_error **err)
{
	if (e->xattrs || rootfd < 0 || (!S_ISREG(e->mode) && !S_ISDIR(e->mode)) ||
	    (e->flags & OCI_SNAP_VIRTUAL))
		return 0;
	const char *base = ".";
	int pfd = *e->path ? inroot_parent(rootfd, e->path, false, &base, err)
			   : fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (pfd < 0)
		return pfd;
	char *x = NULL;
	int r = snapshot_read_xattrs(pfd, base, e->mode, &x, err);
	close(pfd);
	if (r == 0)
		e->xattrs = x ? x : xstrdup("");
	return r;
}

int snapshot_complete(int rootfd, struct oci_snapshot *s, struct oci_error **err)
{
	for (size_t i = 0; i < s->n; i++) {
		struct oci_snap_entry *e = &s->e[i];
		int r;
		if (oci_cancelled())
			return error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
		if ((r = snapshot_entry_xattrs(rootfd, e, err)) < 0)
			return r;
		if (S_ISREG(e->mode) && !e->digest.algo && !(e->flags & OCI_SNAP_VIRTUAL)) {
			const char *base;
			int pfd = inroot_parent(rootfd, e->path, false, &base, err);
			if (pfd < 0)
				return pfd;
			r = snapshot_hash_file(pfd, base, e, &e->digest, err);
			close(pfd);
			if (r < 0)
				return r;
		}
	}
	return 0;
}
