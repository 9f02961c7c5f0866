/* Tar headers, parsed just far enough to find members: ustar and GNU
 * names, pax "path" and "size" records, GNU long names and base-256 sizes.
 * Everything is bounded: names, extended headers, member count. */
#include <errno.h>
#include <sys/stat.h>
#include "tarindex.h"
#include "pathmap.h"

#define TAR_MAX_EXT	(1u << 20) /* pax or long-name header */
#define TAR_MAX_MEMBERS (1u << 22)
/* links followed from one member before it is refused as a loop (the
 * kernel's MAXSYMLINKS is 40; no writer we know chains even two) */
#define TAR_MAX_LINK_HOPS 16

struct tar_src {
	int fd;
	off_t base;
	const uint8_t *mem;
	size_t mem_len;
	off_t total; /* bytes from base to the end, or -1 when unknown */
};

static ssize_t tar_read(const struct tar_src *s, void *buf, size_t len, off_t off)
{
	if (s->mem) {
		if ((uint64_t)off >= s->mem_len)
			return 0;
		size_t n = s->mem_len - (size_t)off < len ? s->mem_len - (size_t)off : len;
		memcpy(buf, s->mem + off, n);
		return (ssize_t)n;
	}
	return read_full_at(s->fd, buf, len, s->base + off);
}

static int tar_number(const uint8_t *f, size_t len, int64_t *out)
{
	if (f[0] & 0x80) { /* base-256 */
		if (f[0] != 0x80)
			return -1; /* negative or too large */
		uint64_t v = 0;
		for (size_t i = 1; i < len; i++) {
			if (v >> 55)
				return -1;
			v = (v << 8) | f[i];
		}
		if (v > INT64_MAX / 2)
			return -1;
		*out = (int64_t)v;
		return 0;
	}
	size_t i = 0;
	while (i < len && f[i] == ' ')
		i++;
	uint64_t v = 0;
	bool any = false;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v * 8 + (uint64_t)(f[i] - '0');
		any = true;
	}
	for (; i < len; i++)
		if (f[i] != ' ' && f[i] != 0)
			return -1;
	if (!any)
		v = 0;
	*out = (int64_t)v;
	return 0;
}

static bool tar_checksum_ok(const uint8_t *h)
{
	int64_t want;
	if (tar_number(h + 148, 8, &want) < 0)
		return false;
	uint64_t sum = 0;
	for (int i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	return (int64_t)sum == want;
}

static bool tar_block_zero(const uint8_t *h)
{
	for (int i = 0; i < 512; i++)
		if (h[i])
			return false;
	return true;
}

/* pax records "LEN key=value\n"; pick path, linkpath and size */
static int tar_pax(const char *buf, size_t len, char **path, char **link, int64_t *size)
{
	size_t p = 0;
	while (p < len) {
		size_t rl = 0, q = p;
		while (q < len && buf[q] >= '0' && buf[q] <= '9' && rl < len)
			rl = rl * 10 + (size_t)(buf[q++] - '0');
		if (q >= len || buf[q] != ' ' || rl == 0 || rl > len - p)
			return -1;
		const char *kv = buf + q + 1, *end = buf + p + rl;
		if (end[-1] != '\n')
			return -1;
		const char *eq = memchr(kv, '=', (size_t)(end - kv));
		if (!eq)
			return -1;
		size_t kl = (size_t)(eq - kv), vl = (size_t)(end - 1 - (eq + 1));
		if (kl == 4 && memcmp(kv, "path", 4) == 0) {
			free(*path);
			*path = xstrndup(eq + 1, vl);
		} else if (kl == 8 && memcmp(kv, "linkpath", 8) == 0) {
			free(*link);
			*link = xstrndup(eq + 1, vl);
		} else if (kl == 4 && memcmp(kv, "size", 4) == 0) {
			char tmp[32];
			if (vl == 0 || vl >= sizeof(tmp))
				return -1;
			memcpy(tmp, eq + 1, vl);
			tmp[vl] = 0;
			char *e;
			errno = 0;
			long long v = strtoll(tmp, &e, 10);
			if (*e || errno || v < 0)
				return -1;
			*size = v;
		}
		p += rl;
	}
	return 0;
}

static char *tar_clean(const char *name)
{
	char *c = oci_path_clean(name);
	return c;
}

/* The member a symlink member names: its target taken relative to the
 * member's own directory, as the filesystem would, and cleaned. NULL when
 * the target is absolute or climbs above the archive's top: those name
 * files of whatever host extracts the archive, never another member. */
static char *tar_symlink_target(const char *member, const char *target)
{
	if (!*target || *target == '/')
		return NULL;
	const char *slash = strrchr(member, '/');
	size_t dl = slash ? (size_t)(slash - member) : 0;
	size_t tl = strlen(target);
	cleanup_free char *joined = xmalloc(dl + 1 + tl + 1);
	memcpy(joined, member, dl);
	joined[dl] = '/';
	memcpy(joined + dl + 1, target, tl + 1);
	/* depth never below the top: a lexical clean would clamp there and
	 * quietly turn "../../x" into "x" */
	long depth = 0;
	for (const char *p = joined; *p;) {
		while (*p == '/')
			p++;
		const char *e = p;
		while (*e && *e != '/')
			e++;
		size_t n = (size_t)(e - p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return NULL;
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p = e;
	}
	return oci_path_clean(joined);
}

static int cmp_member(const void *a, const void *b)
{
	const struct tar_member *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq; /* the later one last */
}

/* What a link member says, kept by its order in the archive until the
 * table is complete: the member name it ends at, or why it cannot. */
struct tar_link {
	char *target;
	const char *why;
};

static void links_free(struct tar_link *links, size_t n)
{
	for (size_t i = 0; links && i < n; i++)
		free(links[i].target);
	free(links);
}

/* A hard link names a member by its archive name, and tar has it refer to
 * what that name held when the link was written: an earlier member, taken
 * now. A symlink's target is relative to its directory and may name a
 * member anywhere in the archive: followed once the table is complete. */
static void tar_link_member(const struct tar_index *t, const struct tar_link *links,
			    const struct pathmap *latest, char type, const char *lraw,
			    struct tar_member *m, struct tar_link *link)
{
	if (type == '2') {
		link->target = tar_symlink_target(m->name, lraw);
		if (!link->target)
			link->why = "symlink out of the archive";
		return;
	}
	cleanup_free char *target = tar_clean(lraw);
	uintptr_t at = (uintptr_t)pathmap_get(latest, target);
	const struct tar_member *tm = at ? &t->m[at - 1] : NULL;
	if (!tm) {
		link->why = "hard link to no earlier member";
		return;
	}
	const struct tar_link *tl = &links[tm->seq];
	if (tl->target || tl->why) { /* a link to a symlink is that symlink */
		link->target = tl->target ? xstrdup(tl->target) : NULL;
		link->why = tl->why;
	} else {
		m->off = tm->off;
		m->size = tm->size;
	}
}

/* Follow each symlink (and hard link to one) to the regular member it ends
 * at, at most TAR_MAX_LINK_HOPS links; the ones that end nowhere, out of
 * the archive or in a loop leave the table for the refused list. */
static void tar_links_resolve(struct tar_index *t, const struct tar_link *links)
{
	cleanup_free const char **why = xcalloc(t->n ? t->n : 1, sizeof(*why));
	size_t n_bad = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct tar_member *m = &t->m[i];
		const struct tar_link *k = &links[m->seq];
		if (!k->target && !k->why)
			continue;
		const char *cur = k->target, *w = k->why;
		const struct tar_member *to = NULL;
		for (unsigned hops = 0; !w; hops++) {
			if (hops >= TAR_MAX_LINK_HOPS)
				w = "too many symlinks (a loop)";
			else if (!(to = tar_index_find(t, cur)))
				w = "symlink to a name not in the archive";
			else if (links[to->seq].target)
				cur = links[to->seq].target;
			else if (links[to->seq].why)
				w = links[to->seq].why;
			else if (to->off < 0)
				w = "symlink to a member that is not a regular file";
			else
				break;
		}
		if (w) {
			why[i] = w;
			n_bad++;
		} else {
			m->off = to->off;
			m->size = to->size;
		}
	}
	if (n_bad)
		t->bad = xcalloc(n_bad, sizeof(*t->bad));
	size_t w = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (why[i]) {
			t->bad[t->n_bad++] = (struct tar_refused){t->m[i].name, why[i]};
			continue;
		}
		if (t->m[i].off < 0) {
			free(t->m[i].name);
			continue;
		}
		t->m[w++] = t->m[i];
	}
	t->n = w;
}

static int tar_index_scan(const struct tar_src *s, struct tar_index *out, struct oci_error **err)
{
	struct tar_index t = {0};
	size_t cap = 0;
	off_t off = 0;
	char *pax_path = NULL, *pax_link = NULL, *long_name = NULL, *long_link = NULL;
	int64_t pax_size = -1;
	int r = 0;
	struct tar_link *links = NULL; /* by seq */
	struct pathmap latest;	       /* name -> 1 + index of its latest member */
	pathmap_init(&latest);
	for (;;) {
		uint8_t h[512];
		ssize_t n = tar_read(s, h, 512, off);
		if (n < 0) {
			r = error_set(err, OCI_E_IO, errno, "read tar header at offset %lld",
				      (long long)off);
			goto out;
		}
		if (n == 0 && t.n == 0 && off == 0) {
			r = error_set(err, OCI_E_INVALID, 0, "empty archive");
			goto out;
		}
		if (n < 512) {
			if (n == 0)
				break; /* tolerate a missing end-of-archive marker */
			r = error_set(err, OCI_E_INVALID, 0, "truncated tar header at offset %lld",
				      (long long)off);
			goto out;
		}
		if (tar_block_zero(h))
			break;
		if (!tar_checksum_ok(h)) {
			r = error_set(err, OCI_E_INVALID, 0,
				      "bad tar header checksum at offset %lld", (long long)off);
			goto out;
		}
		int64_t size;
		if (tar_number(h + 124, 12, &size) < 0) {
			r = error_set(err, OCI_E_INVALID, 0, "bad tar size field at offset %lld",
				      (long long)off);
			goto out;
		}
		char type = (char)h[156];
		if (pax_size >= 0 && type != 'x' && type != 'g' && type != 'L' && type != 'K')
			size = pax_size;
		off_t data = off + 512;
		if (size > INT64_MAX / 4 || data > INT64_MAX / 4 - size) {
			r = error_set(err, OCI_E_INVALID, 0, "tar member too large at offset %lld",
				      (long long)off);
			goto out;
		}
		off_t next = data + ((size + 511) & ~(int64_t)511);
		if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
			if (size > (int64_t)TAR_MAX_EXT) {
				r = error_set(err, OCI_E_LIMIT, 0,
					      "tar extended header of %lld bytes at offset %lld",
					      (long long)size, (long long)off);
				goto out;
			}
			cleanup_free char *ext = xmalloc((size_t)size + 1);
			if (tar_read(s, ext, (size_t)size, data) != size) {
				r = error_set(err, OCI_E_INVALID, 0,
					      "truncated tar extended header at offset %lld",
					      (long long)off);
				goto out;
			}
			ext[size] = 0;
			if (type == 'x' &&
			    tar_pax(ext, (size_t)size, &pax_path, &pax_link, &pax_size) < 0) {
				r = error_set(err, OCI_E_INVALID, 0,
					      "bad pax header at offset %lld", (long long)off);
				goto out;
			}
			if (type == 'L') {
				free(long_name);
				long_name = xstrndup(ext, (size_t)size);
			} else if (type == 'K') {
				free(long_link);
				long_link = xstrndup(ext, (size_t)size);
			}
			off = next;
			continue;
		}
		char name[257];
		if (pax_path || long_name) {
			/* from the extended header */
		} else if (memcmp(h + 257, "ustar", 5) == 0 && h[345]) {
			snprintf(name, sizeof(name), "%.155s/%.100s", (const char *)h + 345,
				 (const char *)h);
		} else {
			snprintf(name, sizeof(name), "%.100s", (const char *)h);
		}
		const char *raw = pax_path ? pax_path : long_name ? long_name : name;
		if (s->total >= 0 && (type == '0' || type == 0 || type == '7') &&
		    data + size > s->total) {
			r = error_set(err, OCI_E_INVALID, 0,
				      "tar member at offset %lld runs past the end of the archive",
				      (long long)off);
			goto out;
		}
		{
			/* every member takes its name; only files and links that end
			 * at one are readable (off >= 0), anything else hides an
			 * earlier file */
			bool readable = type == '0' || type == 0 || type == '7';
			struct tar_member m = {tar_clean(raw), readable ? data : -1, size, t.n};
			struct tar_link link = {0};
			if (type == '1' || type == '2') {
				char lname[101];
				snprintf(lname, sizeof(lname), "%.100s", (const char *)h + 157);
				const char *lraw = pax_link    ? pax_link
						   : long_link ? long_link
							       : lname;
				tar_link_member(&t, links, &latest, type, lraw, &m, &link);
			}
			/* a name seen before: the later member replaces it in place, so
			 * an archive repeating one name costs one slot, not one each */
			void **slot = pathmap_put(&latest, m.name);
			if (*slot) {
				struct tar_member *old = &t.m[(uintptr_t)*slot - 1];
				free(old->name);
				m.seq = old->seq;
				free(links[old->seq].target);
				links[old->seq] = link;
				*old = m;
			} else {
				if (t.n >= TAR_MAX_MEMBERS) {
					free(m.name);
					free(link.target);
					r = error_set(err, OCI_E_LIMIT, 0,
						      "more than %u tar members", TAR_MAX_MEMBERS);
					goto out;
				}
				if (t.n == cap) {
					cap = cap ? cap * 2 : 64;
					t.m = xrealloc(t.m, cap * sizeof(*t.m));
					links = xrealloc(links, cap * sizeof(*links));
				}
				*slot = (void *)(uintptr_t)(t.n + 1);
				links[t.n] = link;
				t.m[t.n++] = m;
			}
			if (oci_cancelled()) {
				r = error_set(err, OCI_E_INTERRUPTED, 0, "interrupted");
				goto out;
			}
		}
		free(pax_path);
		free(pax_link);
		free(long_name);
		free(long_link);
		pax_path = pax_link = long_name = long_link = NULL;
		pax_size = -1;
		off = next;
	}
	/* sort, and keep only the last of each name (sort is stable by offset) */
	size_t seen = t.n;
	if (t.n)
		qsort(t.m, t.n, sizeof(*t.m), cmp_member);
	size_t w = 0;
	for (size_t i = 0; i < t.n; i++) {
		if (i + 1 < t.n && strcmp(t.m[i].name, t.m[i + 1].name) == 0) {
			free(t.m[i].name);
			continue;
		}
		t.m[w++] = t.m[i];
	}
	t.n = w;
	/* what is not a readable file leaves the table only now: a symlink
	 * to it is refused for what it is */
	tar_links_resolve(&t, links);
	links_free(links, seen);
	links = NULL;
	*out = t;
	t = (struct tar_index){0};
out:
	links_free(links, t.n);
	pathmap_release(&latest, NULL);
	free(pax_path);
	free(pax_link);
	free(long_name);
	free(long_link);
	tar_index_release(&t);
	return r;
}

int tar_index_build(int fd, off_t base, struct tar_index *out, struct oci_error **err)
{
	struct stat st;
	struct tar_src s = {.fd = fd, .base = base, .total = -1};
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		s.total = st.st_size - base;
	return tar_index_scan(&s, out, err);
}

int tar_index_build_mem(const uint8_t *buf, size_t len, struct tar_index *out,
			struct oci_error **err)
{
	struct tar_src s = {
	    .fd = -1, .mem = buf ? buf : (const uint8_t *)"", .mem_len = len, .total = (off_t)len};
	return tar_index_scan(&s, out, err);
}

const struct tar_member *tar_index_find(const struct tar_index *t, const char *name)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->m[mid].name, name);
		if (c == 0)
			return &t->m[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *tar_index_refused(const struct tar_index *t, const char *name)
{
	for (size_t i = 0; i < t->n_bad; i++)
		if (strcmp(t->bad[i].name, name) == 0)
			return t->bad[i].why;
	return NULL;
}

void tar_index_release(struct tar_index *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->m[i].name);
	free(t->m);
	for (size_t i = 0; i < t->n_bad; i++)
		free(t->bad[i].name);
	free(t->bad);
	t->m = NULL;
	t->n = 0;
	t->bad = NULL;
	t->n_bad = 0;
}
