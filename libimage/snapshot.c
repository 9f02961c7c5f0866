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

/* bytes that would break the line format are %XX */
static void sb_escaped(struct sbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	sb_need(b, strlen(s) * 3);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c == 0x7f || c == '%') {
			b->p[b->len++] = '%';
			b->p[b->len++] = hex[c >> 4];
			b->p[b->len++] = hex[c & 15];
		} else {
			b->p[b->len++] = (char)c;
		}
	}
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

int oci_snapshot_write(const struct oci_snapshot *s, int dirfd, const char *name,
		       struct oci_error **err)
{
	struct sbuf b = {0};
	sb_fmt(&b, "%s %d\n", SNAP_MAGIC, OCI_SNAPSHOT_VERSION);
	sb_str(&b, "source ");
	sb_escaped(&b, s->source ? s->source : "");
	sb_fmt(&b, "\nmanifest %s\nconfig %s\nrootless %d\ncount %zu\n",
	       s->manifest.algo ? s->manifest.str : "-", s->config.algo ? s->config.str : "-",
	       s->rootless ? 1 : 0, s->n);
	for (size_t i = 0; i < s->n; i++) {
		const struct oci_snap_entry *e = &s->e[i];
		sb_str(&b, "/");
		sb_escaped(&b, e->path);
		sb_fmt(&b, "\t%o\t%u\t%u\t%u\t%lld\t%lld\t%lld\t%llu\t%llu\t%s\t", e->mode, e->uid,
		       e->gid, e->nlink, (long long)e->size, (long long)e->mtime_ns,
		       (long long)e->ctime_ns, (unsigned long long)e->ino,
		       (unsigned long long)e->rdev, e->digest.algo ? e->digest.str : "-");
		if (e->link && *e->link)
			sb_escaped(&b, e->link);
		else
			sb_str(&b, e->link ? "%" : "-"); /* "%" alone: an empty target */
		sb_str(&b, "\t");
		sb_escaped(&b, e->xattrs && *e->xattrs ? e->xattrs : "-");
		sb_fmt(&b, "\t%u\n", e->flags);
	}
	cleanup_free char *tmp = xasprintf(".%s.tmp", name);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		free(b.p);
		return error_set(err, OCI_E_IO, errno, "create %s", tmp);
	}
	size_t done = 0;
	while (done < b.len) {
		ssize_t n = write(fd, b.p + done, b.len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		done += (size_t)n;
	}
	int e = errno;
	free(b.p);
	if (done < b.len || fsync(fd) < 0 || close(fd) < 0) {
		unlinkat(dirfd, tmp, 0);
		return error_set(err, OCI_E_IO, done < b.len ? e : errno, "write %s", name);
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		e = errno;
		unlinkat(dirfd, tmp, 0);
		return error_set(err, OCI_E_IO, e, "rename %s", name);
	}
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Unescape [p, end) into a new string; NULL on a bad escape or NUL. */
static char *snap_unescape(const char *p, const char *end)
{
	char *o = xmalloc((size_t)(end - p) + 1), *w = o;
	while (p < end) {
		if (*p == '%') {
			int h, l;
			if (end - p < 3 || (h = hexval(p[1])) < 0 || (l = hexval(p[2])) < 0 ||
			    (h == 0 && l == 0)) {
				free(o);
				return NULL;
			}
			*w++ = (char)(h * 16 + l);
			p += 3;
		} else {
			*w++ = *p++;
		}
	}
	*w = 0;
	return o;
}

static bool snap_u64(const char **p, const char *end, int base, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	bool neg = false;
	if (s < end && *s == '-' && base == 10) {
		neg = true;
		s++;
	}
	const char *start = s;
	while (s < end && *s != '\t' && *s != '\n') {
		int d = hexval(*s);
		if (d < 0 || d >= base || v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
		s++;
	}
	if (s == start || s >= end || (*s != '\t' && *s != '\n'))
		return false;
	*out = neg ? (uint64_t)(-(int64_t)v) : v;
	*p = s + 1;
	return true;
}

static const char *snap_field(const char **p, const char *end)
{
	const char *s = *p, *t = memchr(s, '\t', (size_t)(end - s));
	if (!t)
		return NULL;
	*p = t + 1;
	return t;
}

static int snap_parse_line(const char *p, const char *end, struct oci_snap_entry *e)
{
	memset(e, 0, sizeof(*e));
	if (*p != '/')
		return -1;
	const char *start = p + 1;
	const char *t = snap_field(&p, end);
	if (!t || !(e->path = snap_unescape(start, t)))
		return -1;
	uint64_t v[9];
	if (!snap_u64(&p, end, 8, &v[0]))
		return -1;
	for (int i = 1; i < 9; i++)
		if (!snap_u64(&p, end, 10, &v[i]))
			return -1;
	e->mode = (uint32_t)v[0];
	e->uid = (uint32_t)v[1];
	e->gid = (uint32_t)v[2];
	e->nlink = (uint32_t)v[3];
	e->size = (int64_t)v[4];
	e->mtime_ns = (int64_t)v[5];
	e->ctime_ns = (int64_t)v[6];
	e->ino = v[7];
	e->rdev = v[8];
	const char *f = p;
	if (!(t = snap_field(&p, end)))
		return -1;
	if (!(t - f == 1 && *f == '-')) {
		cleanup_free char *d = xstrndup(f, (size_t)(t - f));
		if (oci_digest_parse(d, &e->digest, NULL) < 0)
			return -1;
	}
	f = p;
	if (!(t = snap_field(&p, end)))
		return -1;
	if (t - f == 1 && *f == '%')
		e->link = xstrdup("");
	else if (!(t - f == 1 && *f == '-') && !(e->link = snap_unescape(f, t)))
		return -1;
	f = p;
	if (!(t = snap_field(&p, end)))
		return -1;
	if (!(t - f == 1 && *f == '-') && !(e->xattrs = snap_unescape(f, t)))
		return -1;
	uint64_t flags;
	if (!snap_u64(&p, end + 1, 10, &flags))
		return -1;
	e->flags = (uint32_t)flags;
	return 0;
}

int oci_snapshot_load(int dirfd, const char *name, struct oci_snapshot **out,
		      struct oci_error **err)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return error_set(err, errno == ENOENT ? OCI_E_NOTFOUND : OCI_E_IO, errno, "open %s",
				 name);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > SNAP_MAX) {
		close(fd);
		return error_set(err, OCI_E_INVALID, 0, "%s: not a record file", name);
	}
	char *buf = xmalloc((size_t)st.st_size + 1);
	ssize_t n = read_full(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return error_set(err, OCI_E_IO, errno, "read %s", name);
	}
	buf[n] = 0;
	struct oci_snapshot *s = xcalloc(1, sizeof(*s));
	const char *p = buf, *end = buf + n;
	size_t line = 0, count = 0;
	int r = 0;
	char hdr[6][64 + OCI_DIGEST_MAX] = {{0}};
	/* six header lines */
	for (int i = 0; i < 6 && r == 0; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		line++;
		if (!nl || (i != 1 && (size_t)(nl - p) >= sizeof(hdr[0]))) {
			r = -1;
			break;
		}
		if (i == 1) {
			if (nl - p < 7 || memcmp(p, "source ", 7) != 0 ||
			    !(s->source = snap_unescape(p + 7, nl)))
				r = -1;
		} else {
			memcpy(hdr[i], p, (size_t)(nl - p));
		}
		p = nl + 1;
	}
	char dg[2][OCI_DIGEST_MAX + 1];
	int rootless = 0, ver = 0;
	if (r == 0 && (sscanf(hdr[0], SNAP_MAGIC " %d", &ver) != 1 || ver != OCI_SNAPSHOT_VERSION ||
		       sscanf(hdr[2], "manifest %136s", dg[0]) != 1 ||
		       sscanf(hdr[3], "config %136s", dg[1]) != 1 ||
		       sscanf(hdr[4], "rootless %d", &rootless) != 1 ||
		       sscanf(hdr[5], "count %zu", &count) != 1 || count > (size_t)n))
		r = -1;
	if (r == 0) {
		s->rootless = rootless != 0;
		if (strcmp(dg[0], "-") != 0 && oci_digest_parse(dg[0], &s->manifest, NULL) < 0)
			r = -1;
		if (strcmp(dg[1], "-") != 0 && oci_digest_parse(dg[1], &s->config, NULL) < 0)
			r = -1;
	}
	if (r == 0) {
		s->e = xcalloc(count ? count : 1, sizeof(*s->e));
		while (p < end && r == 0) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			line++;
			if (!nl || s->n >= count) {
				r = -1;
				break;
			}
			if (snap_parse_line(p, nl, &s->e[s->n]) < 0) {
				free(s->e[s->n].path);
				free(s->e[s->n].link);
				free(s->e[s->n].xattrs);
				r = -1;
				break;
			}
			if (s->n && strcmp(s->e[s->n - 1].path, s->e[s->n].path) >= 0) {
				s->n++;
				r = -1;
				break;
			}
			s->n++;
			p = nl + 1;
		}
		if (r == 0 && s->n != count)
			r = -1;
	}
	free(buf);
	if (r < 0) {
		oci_snapshot_free(s);
		return error_set(err, OCI_E_INVALID, 0, "%s: malformed record at line %zu", name,
				 line);
	}
	*out = s;
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

int snapshot_hash_file(int dfd, const char *name, const char *path, struct oci_digest *out,
		       struct oci_error **err)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "open \"%s\"", path);
	struct oci_hash *h = oci_hash_new(OCI_DIGEST_SHA256);
	cleanup_free char *buf = xmalloc(1 << 17);
	ssize_t n;
	while ((n = read(fd, buf, 1 << 17)) > 0)
		oci_hash_update(h, buf, (size_t)n);
	int e = errno;
	close(fd);
	if (n < 0) {
		oci_hash_free(h);
		return error_set(err, OCI_E_IO, e, "read \"%s\"", path);
	}
	oci_hash_final(h, out);
	oci_hash_free(h);
	return 0;
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int snapshot_read_xattrs(int dfd, const char *name, mode_t mode, char **out, struct oci_error **err)
{
	*out = NULL;
	if (!S_ISREG(mode) && !S_ISDIR(mode))
		return 0;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return error_set(err, OCI_E_IO, errno, "open \"%s\"", name);
	char list[65536];
	ssize_t n = flistxattr(fd, list, sizeof(list));
	if (n <= 0) {
		close(fd);
		return 0;
	}
	char *names[1024];
	size_t k = 0;
	for (char *p = list; p < list + n && k < 1024; p += strlen(p) + 1)
		names[k++] = p;
	qsort(names, k, sizeof(*names), cmp_cstr);
	size_t cap = 256, len = 0;
	char *s = xmalloc(cap);
	s[0] = 0;
	for (size_t i = 0; i < k; i++) {
		char val[65536];
		ssize_t vl = fgetxattr(fd, names[i], val, sizeof(val));
		if (vl < 0)
			continue;
		size_t need = len + strlen(names[i]) + 2 * (size_t)vl + 4;
		if (need > cap) {
			cap = need * 2;
			s = xrealloc(s, cap);
		}
		len += (size_t)snprintf(s + len, cap - len, "%s%s=", len ? ";" : "", names[i]);
		for (ssize_t j = 0; j < vl; j++)
			len += (size_t)snprintf(s + len, cap - len, "%02x", (unsigned char)val[j]);
	}
	close(fd);
	if (len == 0) {
		free(s);
		return 0;
	}
	*out = s;
	return 0;
}

static int snap_walk_dir(struct snap_walker *w, int dfd, const char *prefix, struct oci_error **err)
{
	int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return error_set(err, OCI_E_IO, errno, "read directory \"%s\"", prefix);
	}
	struct dirent *de;
	int r = 0;
	while (r == 0 && (errno = 0, de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char *path = *prefix ? xasprintf("%s/%s", prefix, de->d_name) : xstrdup(de->d_name);
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = error_set(err, OCI_E_IO, errno, "stat \"%s\"", path);
			free(path);
			break;
		}
		int cfd = -1;
		if (S_ISDIR(st.st_mode)) {
			cfd = openat(dirfd(d), de->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0) {
				r = error_set(err, OCI_E_IO, errno, "open directory \"%s\"", path);
				free(path);
				break;
			}
			r = snap_walk_dir(w, cfd, path, err);
			if (r < 0) {
				close(cfd);
				free(path);
				break;
			}
		}
		/* added after the children: the array may have moved meanwhile */
		struct oci_snap_entry *e = snap_add(w);
		e->path = path;
		snapshot_fill_stat(e, &st);
		if (S_ISLNK(st.st_mode)) {
			char buf[4097];
			ssize_t n = readlinkat(dirfd(d), de->d_name, buf, sizeof(buf) - 1);
			if (n < 0)
				r = error_set(err, OCI_E_IO, errno, "readlink \"%s\"", path);
			else
				buf[n] = 0, e->link = xstrdup(buf);
		}
		if (r == 0 && w->visit)
			r = w->visit(w->arg, e, dirfd(d), de->d_name, cfd, &st, err);
		if (cfd >= 0)
			close(cfd);
	}
	if (r == 0 && errno)
		r = error_set(err, OCI_E_IO, errno, "read directory \"%s\"", prefix);
	closedir(d);
	return r;
}

int snapshot_walk(int rootfd, snapshot_visit_fn visit, void *arg, struct oci_snapshot *s,
		  struct oci_error **err)
{
	struct snap_walker w = {.s = s, .cap = s->n, .visit = visit, .arg = arg};
	int r = snap_walk_dir(&w, rootfd, "", err);
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
			r = snapshot_hash_file(pfd, base, e->path, &e->digest, err);
			close(pfd);
			if (r < 0)
				return r;
		}
	}
	return 0;
}
