/* The unpack record: a versioned text file, one sorted line per path, that
 * a later diff loads instead of re-reading the rootfs. See docs/record.md. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include "internal.h"
#include "snapshot_int.h"
#include "inroot.h"
#include "pathmap.h"

#define SNAP_MAGIC "oci-unpack-record"

/* docs/design.md counts on it: a field added or moved shows here first */
_Static_assert(sizeof(void *) != 8 || sizeof(struct oci_snap_entry) == 120,
	       "struct oci_snap_entry is 120 bytes on 64-bit");
#define SNAP_MAX (1ull << 31)

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

/* ---- digests of entries ---- */

static const char snap_hex[] = "0123456789abcdef";

/* a digit's value plus one; 0: not a digit (lowercase hex only) */
static const uint8_t snap_digit[256] = {
    ['0'] = 1, ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static int hexval(char c)
{
	return snap_digit[(unsigned char)c] - 1;
}

static struct oci_digest *snap_digest_other(const struct oci_snap_digest *d)
{
	struct oci_digest *o;
	memcpy(&o, d->raw, sizeof(o));
	return o;
}

void oci_snap_digest_clear(struct oci_snap_digest *d)
{
	if (d->algo != OCI_DIGEST_NONE && d->algo != OCI_DIGEST_SHA256)
		free(snap_digest_other(d));
	memset(d, 0, sizeof(*d));
}

/* 64 lowercase hex digits into 32 bytes; false when they are not */
static bool snap_unhex32(const char *hex, uint8_t out[32])
{
	for (int k = 0; k < 32; k++) {
		int h = hexval(hex[2 * k]), l = hexval(hex[2 * k + 1]);
		if (h < 0 || l < 0)
			return false;
		out[k] = (uint8_t)(h << 4 | l);
	}
	return true;
}

void oci_snap_digest_set(struct oci_snap_digest *d, const struct oci_digest *from)
{
	oci_snap_digest_clear(d);
	if (from->algo == OCI_DIGEST_NONE)
		return;
	const char *hex = oci_digest_hex(from);
	if (from->algo == OCI_DIGEST_SHA256 && strlen(hex) == 64 && snap_unhex32(hex, d->raw)) {
		d->algo = OCI_DIGEST_SHA256;
		return;
	}
	struct oci_digest *o = xmalloc(sizeof(*o));
	*o = *from;
	d->algo = (uint8_t)from->algo;
	memcpy(d->raw, &o, sizeof(o));
}

/* "sha256:<hex>" of d (which holds a sha256) into out, 71 bytes, no NUL */
static void snap_sha256_text(const struct oci_snap_digest *d, char *out)
{
	memcpy(out, "sha256:", 7);
	for (int k = 0; k < 32; k++) {
		out[7 + 2 * k] = snap_hex[d->raw[k] >> 4];
		out[8 + 2 * k] = snap_hex[d->raw[k] & 15];
	}
}

bool oci_snap_digest_get(const struct oci_snap_digest *d, struct oci_digest *out)
{
	memset(out, 0, sizeof(*out));
	if (d->algo == OCI_DIGEST_NONE)
		return false;
	if (d->algo != OCI_DIGEST_SHA256) {
		*out = *snap_digest_other(d);
		return true;
	}
	out->algo = OCI_DIGEST_SHA256;
	snap_sha256_text(d, out->str);
	out->str[71] = 0;
	return true;
}

bool oci_snap_digest_equal(const struct oci_snap_digest *a, const struct oci_snap_digest *b)
{
	if (a->algo != b->algo)
		return false;
	if (a->algo == OCI_DIGEST_NONE)
		return true;
	if (a->algo == OCI_DIGEST_SHA256)
		return memcmp(a->raw, b->raw, 32) == 0;
	return oci_digest_equal(snap_digest_other(a), snap_digest_other(b));
}

void oci_snap_digest_copy(struct oci_snap_digest *to, const struct oci_snap_digest *from)
{
	if (to == from)
		return;
	if (from->algo == OCI_DIGEST_NONE || from->algo == OCI_DIGEST_SHA256) {
		oci_snap_digest_clear(to);
		*to = *from;
		return;
	}
	oci_snap_digest_set(to, snap_digest_other(from));
}

/* "" shared: read from disk and found to be none, the common case, is
 * not a malloc per entry */
char snapshot_no_xattrs[1];

/* ---- paths, packed ---- */

#define SNAP_BLOCK (64u << 10)

struct snap_block {
	struct snap_block *next;
	size_t used, cap;
	char data[];
};

char *snapshot_path_dup(struct oci_snapshot *s, const char *p, size_t n)
{
	struct snap_block *b = s->paths;
	if (!b || b->cap - b->used < n + 1) {
		size_t cap = n + 1 > SNAP_BLOCK / 4 ? n + 1 : SNAP_BLOCK - sizeof(*b);
		struct snap_block *nb = xmalloc(sizeof(*nb) + cap);
		nb->used = 0;
		nb->cap = cap;
		if (b && cap != SNAP_BLOCK - sizeof(*b) && b->cap - b->used > 64) {
			/* a long one alone, behind the block still being filled */
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			s->paths = b = nb;
		}
		b = nb;
	}
	char *o = b->data + b->used;
	memcpy(o, p, n);
	o[n] = 0;
	b->used += n + 1;
	return o;
}

void oci_snapshot_free(struct oci_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		if (!s->paths)
			free(s->e[i].path);
		free(s->e[i].link);
		if (s->e[i].xattrs != snapshot_no_xattrs)
			free(s->e[i].xattrs);
		oci_snap_digest_clear(&s->e[i].digest);
	}
	for (struct snap_block *b = s->paths, *nb; b; b = nb) {
		nb = b->next;
		free(b);
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
	b->p[b->len] = 0;
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

/* Unescape [p, end) into o (room for end - p + 1 bytes), accepting only
 * the canonical form a writer produces: every byte of the escape set as
 * %XX with lowercase hex, and every other byte as itself. So one string
 * has one spelling, and a record that parses is written back byte for
 * byte. The length written, or -1 when not so. */
static ssize_t snap_unescape_to(const char *p, const char *end, bool xname, char *o)
{
	char *w = o;
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		if (c == '%') {
			int h, l;
			if (end - p < 3 || (h = hexval(p[1])) < 0 || (l = hexval(p[2])) < 0 ||
			    (h == 0 && l == 0) || !snap_escapes((unsigned char)(h * 16 + l), xname))
				return -1;
			*w++ = (char)(h * 16 + l);
			p += 3;
		} else if (snap_escapes(c, xname)) {
			return -1;
		} else {
			*w++ = (char)c;
			p++;
		}
	}
	*w = 0;
	return w - o;
}

/* the same into a new string, NULL when not canonical */
static char *snap_unescape(const char *p, const char *end, bool xname)
{
	char *o = xmalloc((size_t)(end - p) + 1);
	if (snap_unescape_to(p, end, xname, o) < 0) {
		free(o);
		return NULL;
	}
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
		    !oci_snap_digest_equal(&v[i]->digest, &v[i - 1]->digest))
			bad = v[i];
	free(v);
	return bad;
}

static bool snap_digest_ok(const struct oci_digest *d)
{
	return d->algo == OCI_DIGEST_NONE ||
	       oci_digest_parse(d->str, &(struct oci_digest){0}, NULL) == 0;
}

/* an entry's digest: sha256 bytes are always a digest (they were made by
 * a hash or parsed from hex); any other is checked whole */
static bool snap_entry_digest_ok(const struct oci_snap_digest *d)
{
	if (d->algo == OCI_DIGEST_NONE || d->algo == OCI_DIGEST_SHA256)
		return true;
	const struct oci_digest *o = d->algo == OCI_DIGEST_SHA512 ? snap_digest_other(d) : NULL;
	return o && o->algo == OCI_DIGEST_SHA512 && snap_digest_ok(o);
}

static void sb_char(struct sbuf *b, char c)
{
	sb_need(b, 1);
	b->p[b->len++] = c;
	b->p[b->len] = 0;
}

/* v in base 8 or 10, by hand: printf's generality was a tenth of the
 * record's cost */
static void sb_uint(struct sbuf *b, uint64_t v, unsigned base)
{
	char t[24];
	int n = 0;
	if (base == 8) {
		do {
			t[n++] = (char)('0' + (v & 7));
			v >>= 3;
		} while (v);
	} else {
		do { /* a constant divisor: a multiply, not a division */
			t[n++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
	}
	sb_need(b, (size_t)n);
	while (n)
		b->p[b->len++] = t[--n];
	b->p[b->len] = 0;
}

static void sb_int(struct sbuf *b, int64_t v)
{
	if (v < 0) {
		sb_char(b, '-');
		sb_uint(b, -(uint64_t)v, 10); /* INT64_MIN too: 2^63 as unsigned */
	} else {
		sb_uint(b, (uint64_t)v, 10);
	}
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

/* The record's text as it is made: into memory (fd < 0) or written to fd
 * SNAP_FLUSH bytes at a time, so a million entries do not take their
 * ~160 MB of text in memory at once. Every entry is held to the rules a
 * reader holds it to. */
struct snap_out {
	int fd;
	const char *name;
	struct sbuf b;
	struct sbuf prev; /* the path before, for the order */
	size_t n;
	/* streaming (no snapshot to sort by inode first): "ino" -> the digest
	 * of the first name of each hard-linked inode */
	bool links;
	struct pathmap ino_digest;
};

static void snap_out_header(struct sbuf *b, const struct oci_snapshot *s, size_t count)
{
	sb_fmt(b, "%s %d\n", SNAP_MAGIC, OCI_SNAPSHOT_VERSION);
	sb_str(b, "source ");
	const char *src = s->source ? s->source : "";
	sb_escaped_n(b, src, strlen(src), false);
	sb_fmt(b, "\nmanifest %s\nconfig %s\nrootless %d\ncount %zu\n",
	       s->manifest.algo ? s->manifest.str : "-", s->config.algo ? s->config.str : "-",
	       s->rootless ? 1 : 0, count);
}

static int snap_out_flush(struct snap_out *o, size_t at_least, struct oci_error **err)
{
	if (o->fd < 0 || o->b.len < at_least)
		return 0;
	int we = snap_write_all(o->fd, o->b.p, o->b.len);
	o->b.len = 0;
	return we ? error_set(err, OCI_E_IO, we, "write %s", o->name) : 0;
}

static bool snap_out_links_ok(struct snap_out *o, const struct oci_snap_entry *e)
{
	if (!o->links || e->nlink < 2 || !S_ISREG(e->mode) || (e->flags & OCI_SNAP_VIRTUAL))
		return true;
	char key[24];
	snprintf(key, sizeof(key), "%llu", (unsigned long long)e->ino);
	void **slot = pathmap_put(&o->ino_digest, key);
	if (!*slot) {
		struct oci_snap_digest *d = xcalloc(1, sizeof(*d));
		oci_snap_digest_copy(d, &e->digest);
		*slot = d;
		return true;
	}
	return oci_snap_digest_equal(*slot, &e->digest);
}

static int snap_out_entry(struct snap_out *o, const struct oci_snap_entry *e,
			  struct oci_error **err)
{
	const char *why = snap_entry_check(e);
	if (!why && o->n && strcmp(o->prev.p, e->path) >= 0)
		why = "out of order or repeated";
	if (!why && !snap_entry_digest_ok(&e->digest))
		why = "bad digest";
	if (!why && !snap_out_links_ok(o, e))
		why = "hard links of one inode with different digests";
	if (why)
		return error_set(err, OCI_E_INVALID, 0, "record entry \"%s\": %s", e->path, why);
	o->n++;
	o->prev.len = 0;
	sb_str(&o->prev, e->path);
	struct sbuf *b = &o->b;
	sb_str(b, "/");
	sb_escaped_n(b, e->path, strlen(e->path), false);
	sb_char(b, '\t');
	sb_uint(b, e->mode, 8);
	sb_char(b, '\t');
	sb_uint(b, e->uid, 10);
	sb_char(b, '\t');
	sb_uint(b, e->gid, 10);
	sb_char(b, '\t');
	sb_uint(b, e->nlink, 10);
	sb_char(b, '\t');
	sb_int(b, e->size);
	sb_char(b, '\t');
	sb_int(b, e->mtime_ns);
	sb_char(b, '\t');
	sb_int(b, e->ctime_ns);
	sb_char(b, '\t');
	sb_uint(b, e->ino, 10);
	sb_char(b, '\t');
	sb_uint(b, e->rdev, 10);
	sb_char(b, '\t');
	if (e->digest.algo == OCI_DIGEST_SHA256) {
		sb_need(b, 71);
		snap_sha256_text(&e->digest, b->p + b->len);
		b->len += 71;
		b->p[b->len] = 0;
	} else {
		sb_str(b, e->digest.algo ? snap_digest_other(&e->digest)->str : "-");
	}
	sb_char(b, '\t');
	if (!e->link)
		sb_str(b, "-");
	else if (strcmp(e->link, "-") == 0)
		sb_str(b, "%2d"); /* the target "-", not "no target" */
	else
		sb_escaped_n(b, e->link, strlen(e->link), false);
	/* the xattrs string escapes what a record must (a subset of what
	 * its names escape) and was checked above: it goes in as it is */
	sb_char(b, '\t');
	sb_str(b, e->xattrs && *e->xattrs ? e->xattrs : "-");
	sb_char(b, '\t');
	sb_uint(b, e->flags, 10);
	sb_char(b, '\n');
	return snap_out_flush(o, SNAP_FLUSH, err);
}

static void snap_out_release(struct snap_out *o)
{
	free(o->b.p);
	free(o->prev.p);
	if (o->links)
		pathmap_release(&o->ino_digest, free); /* sha256 or none: nothing inside */
}

/* The record of s as text: into *out when fd < 0; else written to fd as
 * it is made (a failure then leaves part of it written: the caller writes
 * to a temporary name). */
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
	struct snap_out o = {.fd = fd, .name = name};
	snap_out_header(&o.b, s, s->n);
	int r = 0;
	for (size_t i = 0; r == 0 && i < s->n; i++)
		r = snap_out_entry(&o, &s->e[i], err);
	if (r == 0)
		r = snap_out_flush(&o, 0, err);
	if (r == 0 && fd < 0) {
		*out = o.b.p;
		*len = o.b.len;
		o.b.p = NULL;
	}
	snap_out_release(&o);
	return r;
}

int snapshot_format(const struct oci_snapshot *s, char **out, size_t *len, struct oci_error **err)
{
	return snapshot_emit(s, -1, NULL, out, len, err);
}

/* Write dirfd/name whole or not at all: made under a temporary name by
 * fill, synced, renamed over name. */
typedef int (*snap_fill_fn)(void *arg, int fd, struct oci_error **err);

static int snap_write_file(int dirfd, const char *name, snap_fill_fn fill, void *arg,
			   struct oci_error **err)
{
	cleanup_free char *tmp = xasprintf(".%s.tmp", name);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "create %s", tmp);
	int r = fill(arg, fd, err);
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

struct snap_write_whole {
	const struct oci_snapshot *s;
	const char *name;
};

static int snap_fill_whole(void *arg, int fd, struct oci_error **err)
{
	struct snap_write_whole *w = arg;
	return snapshot_emit(w->s, fd, w->name, NULL, NULL, err);
}

int oci_snapshot_write(const struct oci_snapshot *s, int dirfd, const char *name,
		       struct oci_error **err)
{
	struct snap_write_whole w = {s, name};
	return snap_write_file(dirfd, name, snap_fill_whole, &w, err);
}

/* A number in [p, end): ASCII digits of base only, no sign, no leading zero
 * (one spelling per value), at most max. */
static bool snap_uint(const char *p, const char *end, int base, uint64_t max, uint64_t *out)
{
	if (p == end || (*p == '0' && end - p > 1))
		return false;
	uint64_t v = 0;
	if (end - p <= (base == 8 ? 21 : 19)) {
		/* too few digits to overflow: check the value once, at the end */
		for (; p < end; p++) {
			unsigned d = snap_digit[(unsigned char)*p] - 1u;
			if (d >= (unsigned)base)
				return false;
			v = v * (uint64_t)base + d;
		}
		if (v > max)
			return false;
		*out = v;
		return true;
	}
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

/* an entry's digest field, the same spellings: sha256 straight from its
 * hex (the common case, without a 140-byte detour), any other through
 * snap_digest */
static bool snap_entry_digest(const char *p, const char *end, struct oci_snap_digest *d)
{
	if (end - p == 71 && memcmp(p, "sha256:", 7) == 0) {
		if (!snap_unhex32(p + 7, d->raw))
			return false;
		d->algo = OCI_DIGEST_SHA256;
		return true;
	}
	struct oci_digest full;
	if (!snap_digest(p, end, &full))
		return false;
	oci_snap_digest_set(d, &full);
	return true;
}

#define SNAP_FIELDS 14

/* The record being read, a line at a time: whole in memory (fuzz, tests)
 * or streamed from the file (load), the same checks either way. */
struct snap_parser {
	struct oci_snapshot *s;
	size_t total; /* bytes in the record */
	size_t off;   /* of the next line */
	size_t line;  /* lines seen */
	size_t count; /* entries the header announced */
	const char *why;
	char *scratch; /* a path unescaped, before it goes to s->paths */
	size_t scratch_cap;
};

static const char *snap_parse_line(struct snap_parser *sp, const char *p, const char *end,
				   struct oci_snap_entry *e)
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
	size_t plen = (size_t)(FEND(0) - p);
	if (plen + 1 > sp->scratch_cap) {
		sp->scratch_cap = plen + 1 > 4096 ? plen + 1 : 4096;
		free(sp->scratch);
		sp->scratch = xmalloc(sp->scratch_cap);
	}
	ssize_t pl;
	if (*p != '/' || (pl = snap_unescape_to(p + 1, FEND(0), false, sp->scratch)) < 0)
		return "bad path";
	e->path = snapshot_path_dup(sp->s, sp->scratch, (size_t)pl);
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
	if (!snap_entry_digest(f[10], FEND(10), &e->digest))
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

/* the header's line i (0-5), [p, nl) */
static const char *snap_header_line(struct snap_parser *sp, int i, const char *p, const char *nl)
{
	struct oci_snapshot *s = sp->s;
	const char *v;
	uint64_t u = 0;
	switch (i) {
	case 0:
		if (!(v = snap_hdr(p, nl, SNAP_MAGIC)) || !snap_uint(v, nl, 10, INT32_MAX, &u))
			return "not a record";
		if (u == 1)
			return "version 1 is no longer read (its xattr names and link targets "
			       "are ambiguous): unpack the image again";
		if (u != OCI_SNAPSHOT_VERSION)
			return "unknown version";
		return NULL;
	case 1:
		if (!(v = snap_hdr(p, nl, "source")) || !(s->source = snap_unescape(v, nl, false)))
			return "bad source";
		return NULL;
	case 2:
	case 3:
		if (!(v = snap_hdr(p, nl, i == 2 ? "manifest" : "config")) ||
		    !snap_digest(v, nl, i == 2 ? &s->manifest : &s->config))
			return "bad digest";
		return NULL;
	case 4:
		if (!(v = snap_hdr(p, nl, "rootless")) || !snap_uint(v, nl, 10, 1, &u))
			return "bad rootless";
		s->rootless = u != 0;
		return NULL;
	default:
		/* an entry line takes at least 28 bytes: count cannot outgrow the
		 * record, nor the array made for it */
		if (!(v = snap_hdr(p, nl, "count")) ||
		    !snap_uint(v, nl, 10, (uint64_t)(sp->total - (sp->off + (size_t)(nl - p))) / 28,
			       &u))
			return "bad count";
		sp->count = (size_t)u;
		s->e = xcalloc(sp->count ? sp->count : 1, sizeof(*s->e));
		return NULL;
	}
}

/* one whole line [p, nl), nl its '\n' */
static void snap_parser_line(struct snap_parser *sp, const char *p, const char *nl)
{
	struct oci_snapshot *s = sp->s;
	size_t i = sp->line++;
	if (i < 6) {
		sp->why = snap_header_line(sp, (int)i, p, nl);
	} else if (s->n >= sp->count) {
		sp->why = "more entries than count";
	} else {
		struct oci_snap_entry *e = &s->e[s->n++]; /* freed with s, even when bad */
		sp->why = snap_parse_line(sp, p, nl, e);
		if (!sp->why && s->n > 1 && strcmp(s->e[s->n - 2].path, e->path) >= 0)
			sp->why = "out of order or repeated";
	}
	sp->off += (size_t)(nl - p) + 1;
}

/* the end of the record, with rest bytes after its last '\n' */
static void snap_parser_end(struct snap_parser *sp, size_t rest)
{
	struct oci_snapshot *s = sp->s;
	if (sp->why)
		return;
	if (sp->line < 6) {
		sp->line++;
		sp->why = "truncated header";
		return;
	}
	if (rest) {
		sp->line++;
		sp->why = s->n >= sp->count ? "more entries than count" : "truncated";
		return;
	}
	if (s->n != sp->count) {
		sp->why = "fewer entries than count";
		return;
	}
	const struct oci_snap_entry *bad = snap_links_check(s);
	if (bad) {
		sp->line = 6 + (size_t)(bad - s->e) + 1;
		sp->why = "hard links of one inode with different digests";
	}
}

static void snap_parser_init(struct snap_parser *sp, size_t total)
{
	memset(sp, 0, sizeof(*sp));
	sp->s = xcalloc(1, sizeof(*sp->s));
	sp->total = total;
}

/* 0 with *out, or OCI_E_INVALID with *line and *why */
static int snap_parser_finish(struct snap_parser *sp, struct oci_snapshot **out, size_t *line,
			      const char **why)
{
	free(sp->scratch);
	*line = sp->line;
	*why = sp->why;
	if (sp->why) {
		oci_snapshot_free(sp->s);
		return OCI_E_INVALID;
	}
	*out = sp->s;
	return 0;
}

int snapshot_parse(const char *buf, size_t n, struct oci_snapshot **out, size_t *line,
		   const char **why)
{
	struct snap_parser sp;
	snap_parser_init(&sp, n);
	const char *p = buf, *end = buf + n, *nl;
	while (!sp.why && p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		snap_parser_line(&sp, p, nl);
		p = nl + 1;
	}
	snap_parser_end(&sp, (size_t)(end - p));
	return snap_parser_finish(&sp, out, line, why);
}

#define SNAP_READ (1u << 20)

size_t snapshot_load_chunk = SNAP_READ;

/* The record is read SNAP_READ bytes at a time, never whole: at a million
 * entries it is 160 MB of text, and its entries need less than that. A
 * line longer than the buffer grows it. */
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
	size_t chunk = snapshot_load_chunk ? snapshot_load_chunk : 1;
	size_t total = (size_t)st.st_size, got = 0, cap = total < chunk ? total + 1 : chunk;
	size_t have = 0; /* bytes in buf not parsed yet */
	cleanup_free char *buf = xmalloc(cap);
	struct snap_parser sp;
	snap_parser_init(&sp, total);
	while (!sp.why && got < total) {
		if (have == cap) { /* one line longer than the buffer */
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		size_t want = cap - have < total - got ? cap - have : total - got;
		ssize_t n = read(fd, buf + have, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : 0;
			free(sp.scratch);
			oci_snapshot_free(sp.s);
			return error_set(err, OCI_E_IO, e, "read %s%s", name,
					 n < 0 ? "" : ": it changed while being read");
		}
		got += (size_t)n;
		have += (size_t)n;
		const char *p = buf, *end = buf + have, *nl;
		while (!sp.why && p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
			snap_parser_line(&sp, p, nl);
			p = nl + 1;
		}
		have = (size_t)(end - p);
		memmove(buf, p, have);
	}
	snap_parser_end(&sp, have);
	size_t line;
	const char *why;
	if (snap_parser_finish(&sp, out, &line, &why) < 0)
		return error_set(err, OCI_E_INVALID, 0, "%s: malformed record at line %zu: %s",
				 name, line, why);
	return 0;
}

/* ---- walking a tree ---- */

struct snap_walker {
	struct oci_snapshot *s;
	size_t cap;
	bool packed; /* paths into s->paths (a snapshot that had no path of its own) */
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

static char *snap_walk_path(struct snap_walker *w, const char *path)
{
	return w->packed ? snapshot_path_dup(w->s, path, strlen(path)) : xstrdup(path);
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
		       struct oci_snap_digest *out, struct oci_error **err)
{
	cleanup_close int fd = snapshot_open_content(dfd, name, e, e->path, err);
	if (fd < 0)
		return fd;
	struct oci_hash *h = oci_hash_new(OCI_DIGEST_SHA256);
	int r = snapshot_read_content(fd, e->size, e->path, snap_hash_sink, h, err);
	if (r == 0) {
		struct oci_digest d;
		oci_hash_final(h, &d);
		oci_snap_digest_set(out, &d);
	}
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

/* what a non-directory's stat does not tell: a symlink's target */
static int snap_leaf_fill(struct oci_snap_entry *e, int dfd, const char *name, const char *path,
			  const struct stat *st, struct oci_error **err)
{
	if (S_ISLNK(st->st_mode)) {
		char buf[4097];
		ssize_t n = readlinkat(dfd, name, buf, sizeof(buf) - 1);
		if (n < 0)
			return error_set(err, OCI_E_IO, errno, "readlink \"%s\"", path);
		buf[n] = 0;
		e->link = xstrdup(buf);
	}
	return 0;
}

/* a non-directory entry, in directory dfd */
static int snap_leaf(struct snap_walker *w, int dfd, const char *name, const char *path,
		     struct stat *st, struct oci_error **err)
{
	struct oci_snap_entry *e = snap_add(w);
	e->path = snap_walk_path(w, path);
	snapshot_fill_stat(e, st);
	int r = snap_leaf_fill(e, dfd, name, path, st, err);
	if (r < 0)
		return r;
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
		e->path = snap_walk_path(w, k.path.p);
		snapshot_fill_stat(e, &f->st);
		if (w->visit && (r = w->visit(w->arg, e, pfd, f->name, f->fd, &f->st, err)) < 0)
			goto out;
		inroot_walk_pop(&k);
	}
out:
	inroot_walk_free(&k);
	return r;
}

static int snap_collect_walk(int rootfd, struct oci_snapshot *s, struct oci_error **err);

int snapshot_walk(int rootfd, snapshot_visit_fn visit, void *arg, struct oci_snapshot *s,
		  struct oci_error **err)
{
	if (!visit && s->n == 0 && !s->e)
		return snap_collect_walk(rootfd, s, err);
	struct snap_walker w = {
	    .s = s, .cap = s->n, .packed = s->paths || s->n == 0, .visit = visit, .arg = arg};
	int r = snap_walk_tree(&w, rootfd, err);
	if (r == 0) {
		struct stat st;
		if (fstat(rootfd, &st) < 0)
			return error_set(err, OCI_E_IO, errno, "stat the root");
		struct oci_snap_entry *e = snap_add(&w);
		e->path = snap_walk_path(&w, "");
		snapshot_fill_stat(e, &st);
		if (visit)
			r = visit(arg, e, rootfd, ".", rootfd, &st, err);
	}
	if (r == 0)
		oci_snapshot_sort(s);
	return r;
}

/* ---- the record written while the tree is walked ----
 * Unpack's record without a snapshot of the tree in memory: entries are
 * visited in the record's own order (bytewise by path) and formatted as
 * they come, so what is held is a directory's names at each level, not
 * 120 bytes and a path for every entry of the tree. */

/* Bytewise order of whole paths, walked one directory at a time. A
 * directory's children sort as "name/...": right after it, unless a
 * sibling's name begins with the directory's and goes on with a byte
 * below '/' ("d" < "d-x" < "d.y" < "d/f"). Such a directory is split in
 * two items: its own entry where "d" sorts, its subtree where "d/" does.
 * Names are sorted bytewise, and only where a name is followed by a longer
 * one it begins, with a byte below '/' next, is the first one stat'ed. */
enum { SNAP_ITEM_WHOLE, SNAP_ITEM_ENTRY, SNAP_ITEM_SUBTREE };

struct snap_key {
	char *name;
	char *key;
	uint8_t kind;
};

static int snap_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int snap_key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct snap_key *)a)->key, ((const struct snap_key *)b)->key);
}

/* f's names in the record's order; *kinds NULL when every item is WHOLE,
 * else a kind per item (f->names and f->n then include the subtree items) */
static int snap_order_names(int dfd, struct inroot_frame *f, uint8_t **kinds)
{
	char **v = f->names;
	size_t n = f->n, split = 0;
	*kinds = NULL;
	if (n < 2)
		return 0;
	qsort(v, n, sizeof(*v), snap_name_cmp);
	bool *is_split = NULL;
	for (size_t i = 0; i + 1 < n; i++) {
		size_t l = strlen(v[i]);
		if (strncmp(v[i], v[i + 1], l) != 0 || (unsigned char)v[i + 1][l] >= '/')
			continue;
		struct stat st;
		if (fstatat(dfd, v[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			free(is_split);
			return -1;
		}
		if (!S_ISDIR(st.st_mode))
			continue;
		if (!is_split)
			is_split = xcalloc(n, sizeof(*is_split));
		is_split[i] = true;
		split++;
	}
	if (!split)
		return 0;
	struct snap_key *k = xcalloc(n + split, sizeof(*k));
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_split[i]) {
			k[m++] = (struct snap_key){v[i], v[i], SNAP_ITEM_WHOLE};
			continue;
		}
		k[m++] = (struct snap_key){v[i], v[i], SNAP_ITEM_ENTRY};
		k[m++] =
		    (struct snap_key){xstrdup(v[i]), xasprintf("%s/", v[i]), SNAP_ITEM_SUBTREE};
	}
	free(is_split);
	qsort(k, m, sizeof(*k), snap_key_cmp);
	v = xrealloc(v, m * sizeof(*v));
	uint8_t *kd = xmalloc(m);
	for (size_t j = 0; j < m; j++) {
		v[j] = k[j].name;
		kd[j] = k[j].kind;
		if (k[j].key != k[j].name)
			free(k[j].key);
	}
	free(k);
	f->names = v;
	f->n = m;
	*kinds = kd;
	return 0;
}

struct snap_level {
	bool deferred;	/* its directory visited after its children */
	uint8_t *kinds; /* of its items, NULL when all are SNAP_ITEM_WHOLE */
};

struct snap_stream {
	struct snap_out out;
	snapshot_visit_fn visit;
	snapshot_defer_fn defer;
	void *arg;
	/* entries of directories visited after their children (defer), and
	 * what came after them, held back until the record reaches them */
	struct oci_snapshot pending;
	size_t pending_cap;
	size_t *open; /* pending index of each deferred directory still open */
	size_t n_open, cap_open;
	struct snap_level *level; /* per depth of the walk */
	size_t cap_level;
	bool *split; /* deferred? of split directories whose subtree is to come */
	size_t n_split, cap_split;
	/* not a record but a snapshot: entries appended to into, paths packed */
	struct oci_snapshot *into;
	size_t into_cap;
};

static char *snap_stream_path(struct snap_stream *st, const char *p)
{
	return st->into ? snapshot_path_dup(st->into, p, strlen(p)) : xstrdup(p);
}

static struct snap_level *snap_stream_level(struct snap_stream *st, size_t depth)
{
	if (depth >= st->cap_level) {
		size_t cap = depth * 2 + 16;
		st->level = xrealloc(st->level, cap * sizeof(*st->level));
		memset(st->level + st->cap_level, 0, (cap - st->cap_level) * sizeof(*st->level));
		st->cap_level = cap;
	}
	return &st->level[depth];
}

static void snap_entry_release(struct snap_stream *st, struct oci_snap_entry *e)
{
	if (!st->into)
		free(e->path);
	free(e->link);
	if (e->xattrs != snapshot_no_xattrs)
		free(e->xattrs);
	oci_snap_digest_clear(&e->digest);
}

/* e (its strings now the stream's) into the record, or the snapshot */
static int snap_stream_emit(struct snap_stream *st, struct oci_snap_entry *e,
			    struct oci_error **err)
{
	if (st->into) {
		struct oci_snapshot *s = st->into;
		if (s->n == st->into_cap) {
			st->into_cap = st->into_cap ? st->into_cap * 2 : 1024;
			s->e = xrealloc(s->e, st->into_cap * sizeof(*s->e));
		}
		s->e[s->n++] = *e;
		return 0;
	}
	int r = snap_out_entry(&st->out, e, err);
	snap_entry_release(st, e);
	return r;
}

/* e (its strings now the stream's) into the record, or held back */
static int snap_stream_put(struct snap_stream *st, struct oci_snap_entry *e, struct oci_error **err)
{
	if (st->n_open) {
		if (st->pending.n == st->pending_cap) {
			st->pending_cap = st->pending_cap ? st->pending_cap * 2 : 64;
			st->pending.e =
			    xrealloc(st->pending.e, st->pending_cap * sizeof(*st->pending.e));
		}
		st->pending.e[st->pending.n++] = *e;
		return 0;
	}
	return snap_stream_emit(st, e, err);
}

/* the last deferred directory done: what was held back, in order */
static int snap_stream_release(struct snap_stream *st, struct oci_error **err)
{
	int r = 0;
	for (size_t i = 0; i < st->pending.n; i++) {
		if (r == 0)
			r = snap_stream_emit(st, &st->pending.e[i], err);
		else
			snap_entry_release(st, &st->pending.e[i]);
	}
	st->pending.n = 0;
	return r;
}

/* a directory met before its children: visited now, or (*later) its
 * place kept */
static int snap_stream_dir(struct snap_stream *st, const char *path, int dfd, const char *name,
			   int self_fd, struct stat *sb, bool *later, struct oci_error **err)
{
	struct oci_snap_entry e = {0};
	e.path = snap_stream_path(st, path);
	snapshot_fill_stat(&e, sb);
	*later = st->defer && st->defer(st->arg, &e, sb);
	int r;
	if (!*later) {
		if (st->visit && (r = st->visit(st->arg, &e, dfd, name, self_fd, sb, err)) < 0) {
			snap_entry_release(st, &e);
			return r;
		}
		return snap_stream_put(st, &e, err);
	}
	if (st->n_open == st->cap_open) {
		st->cap_open = st->cap_open ? st->cap_open * 2 : 8;
		st->open = xrealloc(st->open, st->cap_open * sizeof(*st->open));
	}
	st->open[st->n_open++] = st->pending.n;
	return snap_stream_put(st, &e, err); /* held: n_open > 0 */
}

/* a deferred directory, its children done: visited now */
static int snap_stream_dir_done(struct snap_stream *st, int dfd, const char *name, int self_fd,
				struct stat *sb, struct oci_error **err)
{
	struct oci_snap_entry *e = &st->pending.e[st->open[--st->n_open]];
	int r = st->visit ? st->visit(st->arg, e, dfd, name, self_fd, sb, err) : 0;
	if (r == 0 && !st->n_open)
		r = snap_stream_release(st, err);
	return r;
}

static int snap_stream_walk(struct snap_stream *st, int rootfd, struct oci_error **err)
{
	struct inroot_walk k = {0};
	int r = 0;
	bool later;
	inroot_path_at(&k.path, 0, "");
	struct stat sb;
	int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		r = error_set(err, OCI_E_IO, errno, "read directory \"\"");
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if ((r = snap_stream_dir(st, "", rootfd, ".", rootfd, &sb, &later, err)) < 0) {
		close(fd);
		goto out;
	}
	snap_stream_level(st, 0)->deferred = later;
	if (inroot_walk_push(&k, fd, &sb, ".") < 0 ||
	    snap_order_names(fd, &k.v[0], &st->level[0].kinds) < 0) {
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
			uint8_t *kinds = st->level[k.depth - 1].kinds;
			uint8_t kind = kinds ? kinds[f->i] : SNAP_ITEM_WHOLE;
			const char *cn = f->names[f->i++];
			inroot_path_at(&k.path, f->plen, cn);
			if (fstatat(f->fd, cn, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
				r = error_set(err, OCI_E_IO, errno, "stat \"%s\"", k.path.p);
				goto out;
			}
			if (!S_ISDIR(sb.st_mode) && kind != SNAP_ITEM_WHOLE) {
				r = error_set(err, OCI_E_IO, 0,
					      "\"%s\": not a directory any more (changed while "
					      "being read)",
					      k.path.p);
				goto out;
			}
			if (!S_ISDIR(sb.st_mode)) {
				struct oci_snap_entry e = {0};
				e.path = snap_stream_path(st, k.path.p);
				snapshot_fill_stat(&e, &sb);
				if ((r = snap_leaf_fill(&e, f->fd, cn, k.path.p, &sb, err)) < 0 ||
				    (st->visit &&
				     (r = st->visit(st->arg, &e, f->fd, cn, -1, &sb, err)) < 0)) {
					snap_entry_release(st, &e);
					goto out;
				}
				if ((r = snap_stream_put(st, &e, err)) < 0)
					goto out;
				continue;
			}
			fd = openat(f->fd, cn, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				r = error_set(err, OCI_E_IO, errno, "open directory \"%s\"",
					      k.path.p);
				goto out;
			}
			if (kind != SNAP_ITEM_SUBTREE &&
			    (r = snap_stream_dir(st, k.path.p, f->fd, cn, fd, &sb, &later, err)) <
				0) {
				close(fd);
				goto out;
			}
			if (kind == SNAP_ITEM_ENTRY) {
				/* its subtree comes later, where "name/" sorts */
				close(fd);
				if (st->n_split == st->cap_split) {
					st->cap_split = st->cap_split ? st->cap_split * 2 : 8;
					st->split =
					    xrealloc(st->split, st->cap_split * sizeof(*st->split));
				}
				st->split[st->n_split++] = later;
				continue;
			}
			if (kind == SNAP_ITEM_SUBTREE)
				later = st->n_split ? st->split[--st->n_split] : false;
			struct snap_level *lv = snap_stream_level(st, k.depth);
			lv->deferred = later;
			if (inroot_walk_push(&k, fd, &sb, cn) < 0 ||
			    snap_order_names(fd, &k.v[k.depth - 1], &lv->kinds) < 0) {
				r = error_set(err, OCI_E_IO, errno, "read directory \"%s\"",
					      k.path.p);
				goto out;
			}
			continue;
		}
		/* every name below f done */
		k.path.len = f->plen;
		k.path.p[k.path.len] = 0;
		struct snap_level *lv = &st->level[k.depth - 1];
		/* the parent's fd again, whether or not this directory was deferred:
		 * past INROOT_WALK_FDS open directories the walk closed it, and the
		 * parent's next names are read through it */
		int pfd = k.depth == 1 ? rootfd : inroot_walk_parent_fd(&k);
		if (pfd < 0) {
			r = error_set(err, OCI_E_IO, errno, "reopen the parent of \"%s\"",
				      k.path.p);
			goto out;
		}
		if (lv->deferred) {
			if ((r = snap_stream_dir_done(
				 st, pfd, f->name, k.depth == 1 ? rootfd : f->fd, &f->st, err)) < 0)
				goto out;
		}
		free(lv->kinds);
		lv->kinds = NULL;
		inroot_walk_pop(&k);
	}
out:
	inroot_walk_free(&k);
	for (size_t i = 0; i < st->cap_level; i++)
		free(st->level[i].kinds);
	return r;
}

struct snap_stream_file {
	int rootfd;
	int entries_fd;
	struct snap_stream *st;
	const struct oci_snapshot *head;
};

/* all of the entries' temporary file, after the header */
static int snap_copy_entries(int from, int to, const char *name, struct oci_error **err)
{
	off_t end = lseek(from, 0, SEEK_CUR), off = 0;
	if (end < 0)
		return error_set(err, OCI_E_IO, errno, "write %s", name);
	bool kernel = true;
	char *buf = NULL;
	int r = 0;
	while (off < end && r == 0) {
		ssize_t n = -1;
		if (kernel) {
			n = copy_file_range(from, &off, to, NULL, (size_t)(end - off), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				kernel = false; /* not here: by hand */
				continue;
			}
			continue;
		}
		if (!buf)
			buf = xmalloc(SNAP_FLUSH);
		size_t want = end - off < (off_t)SNAP_FLUSH ? (size_t)(end - off) : SNAP_FLUSH;
		n = pread(from, buf, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = error_set(err, OCI_E_IO, n < 0 ? errno : EIO, "write %s", name);
			break;
		}
		int we = snap_write_all(to, buf, (size_t)n);
		if (we)
			r = error_set(err, OCI_E_IO, we, "write %s", name);
		off += n;
	}
	free(buf);
	return r;
}

static int snap_fill_stream(void *arg, int fd, struct oci_error **err)
{
	struct snap_stream_file *sf = arg;
	struct sbuf b = {0};
	snap_out_header(&b, sf->head, sf->st->out.n);
	int we = snap_write_all(fd, b.p, b.len);
	free(b.p);
	if (we)
		return error_set(err, OCI_E_IO, we, "write %s", sf->st->out.name);
	return snap_copy_entries(sf->entries_fd, fd, sf->st->out.name, err);
}

int snapshot_walk_write(int rootfd, snapshot_visit_fn visit, snapshot_defer_fn defer, void *arg,
			const struct oci_snapshot *head, int dirfd, const char *name,
			struct oci_error **err)
{
	if (!snap_digest_ok(&head->manifest) || !snap_digest_ok(&head->config))
		return error_set(err, OCI_E_INVALID, 0, "record: bad manifest or config digest");
	/* The count heads the record and is known at the end: entries go to a
	 * file of their own first (no name: gone with its fd), then after the
	 * header into the record. */
	int efd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC | O_EXCL, 0600);
	if (efd < 0) {
		cleanup_free char *tn = xasprintf(".%s.entries", name);
		efd = openat(dirfd, tn, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (efd < 0)
			return error_set(err, OCI_E_IO, errno, "create %s", tn);
		unlinkat(dirfd, tn, 0);
	}
	struct snap_stream st = {.out = {.fd = efd, .name = name, .links = true},
				 .visit = visit,
				 .defer = defer,
				 .arg = arg};
	pathmap_init(&st.out.ino_digest);
	int r = snap_stream_walk(&st, rootfd, err);
	if (r == 0)
		r = snap_out_flush(&st.out, 0, err);
	if (r == 0) {
		struct snap_stream_file sf = {rootfd, efd, &st, head};
		r = snap_write_file(dirfd, name, snap_fill_stream, &sf, err);
	}
	for (size_t i = 0; i < st.pending.n; i++)
		snap_entry_release(&st, &st.pending.e[i]);
	free(st.pending.e);
	free(st.open);
	free(st.level);
	free(st.split);
	snap_out_release(&st.out);
	close(efd);
	return r;
}

/* the tree's snapshot, read in its own order: no sort afterwards (nor
 * qsort's scratch of 16 bytes an entry) */
static int snap_collect_walk(int rootfd, struct oci_snapshot *s, struct oci_error **err)
{
	struct snap_stream st = {.into = s, .into_cap = 0};
	int r = snap_stream_walk(&st, rootfd, err);
	free(st.pending.e); /* empty: nothing is deferred */
	free(st.open);
	free(st.level);
	free(st.split);
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
		e->xattrs = x ? x : snapshot_no_xattrs;
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
