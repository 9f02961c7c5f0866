/* The unpack record's encoder and decoder (docs/record.md): every byte
 * 0..255 in every text field and xattr name and value survives a round
 * trip, numbers at their limits are read exactly, an xattr name holding
 * ";" or "=" stays one name, and every non-canonical or hostile spelling
 * is refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "snapshot_int.h"
#include "tap.h"

#define D64 "sha256:abababababababababababababababababababababababababababababababab"

static char *fmt(const struct oci_snapshot *s, size_t *len)
{
	char *out = NULL;
	struct oci_error *err = NULL;
	if (snapshot_format(s, &out, len, &err) < 0) {
		printf("# format: %s\n", err ? err->msg : "?");
		oci_error_free(err);
		return NULL;
	}
	return out;
}

static struct oci_snapshot *parse(const char *buf, size_t len, const char **why)
{
	struct oci_snapshot *s = NULL;
	size_t line;
	const char *w = NULL;
	if (snapshot_parse(buf, len, &s, &line, &w) < 0)
		s = NULL;
	if (why)
		*why = w;
	return s;
}

static void set_digest(struct oci_snap_digest *d, const char *s)
{
	struct oci_digest full;
	if (oci_digest_parse(s, &full, NULL) == 0)
		oci_snap_digest_set(d, &full);
}

static bool same_entry(const struct oci_snap_entry *a, const struct oci_snap_entry *b)
{
	return strcmp(a->path, b->path) == 0 && a->mode == b->mode && a->uid == b->uid &&
	       a->gid == b->gid && a->nlink == b->nlink && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns && a->ino == b->ino &&
	       a->rdev == b->rdev && a->flags == b->flags && !a->link == !b->link &&
	       (!a->link || strcmp(a->link, b->link) == 0) &&
	       strcmp(a->xattrs ? a->xattrs : "", b->xattrs ? b->xattrs : "") == 0 &&
	       oci_snap_digest_equal(&a->digest, &b->digest);
}

/* every byte in every field: one record per byte, written, read, compared */
static void test_round_trip_bytes(void)
{
	int bad = 0, bad_x = 0, bad_lines = 0;
	for (int c = 0; c < 256; c++) {
		char b = (char)c;
		unsigned char val[3] = {(unsigned char)c, 0, (unsigned char)c};
		char name[16], path[8], link[8], src[8], one[2] = {b, 0};
		snprintf(name, sizeof(name), "user.%cn", c ? b : 'z');
		snprintf(path, sizeof(path), "p%cq", c && c != '/' ? b : 'z');
		snprintf(link, sizeof(link), "l%cm", c ? b : 'z');
		snprintf(src, sizeof(src), "s%cx", c ? b : 'z');
		struct snapshot_xattr xv[2] = {{name, val, 3}, {"user.a;trusted.b=c", one, 1}};
		struct oci_snap_entry e[4] = {
		    {.path = "", .mode = S_IFDIR | 0755, .nlink = 2},
		    {.path = path, .mode = S_IFLNK | 0777, .link = link, .mtime_ns = INT64_MIN},
		    {.path = "r",
		     .mode = S_IFREG | 0644,
		     .size = INT64_MAX,
		     .ctime_ns = INT64_MAX,
		     .ino = UINT64_MAX,
		     .uid = UINT32_MAX,
		     .gid = UINT32_MAX},
		    {.path = "s", .mode = S_IFLNK | 0777, .link = c ? one : ""},
		};
		char *xs = snapshot_xattrs_encode(xv, 2);
		e[c % 3 + 1].xattrs = xs;
		for (int i = 0; i < 4; i++)
			if (S_ISREG(e[i].mode))
				set_digest(&e[i].digest, D64);
		struct oci_snapshot s = {.n = 4, .e = e, .source = c ? src : "", .rootless = c & 1};
		oci_snapshot_sort(&s); /* "p/q" sorts before "r", "p~q" after "s" */
		size_t len;
		char *out = fmt(&s, &len);
		struct oci_snapshot *back = out ? parse(out, len, NULL) : NULL;
		bool same = back && back->n == 4 && strcmp(back->source, s.source) == 0 &&
			    back->rootless == s.rootless;
		for (int i = 0; same && i < 4; i++)
			same = same_entry(&e[i], &back->e[i]);
		if (!same) {
			bad++;
			printf("# byte %d did not round trip\n", c);
		}
		/* the line structure survives: 6 + 4 LFs, 13 TABs a line */
		size_t lf = 0, tab = 0;
		for (size_t i = 0; out && i < len; i++)
			lf += out[i] == '\n', tab += out[i] == '\t';
		if (lf != 10 || tab != 4 * 13)
			bad_lines++;
		/* the xattrs decode to exactly what went in */
		const char *cur = xs;
		char *n;
		unsigned char *v;
		size_t vl;
		int k = 0;
		while (oci_snapshot_xattr_next(&cur, &n, &v, &vl) > 0) {
			bool is_inj = strcmp(n, "user.a;trusted.b=c") == 0 && vl == 1 &&
				      v[0] == (unsigned char)c;
			bool is_one = strcmp(n, name) == 0 && vl == 3 && memcmp(v, val, 3) == 0;
			if (!is_inj && !is_one)
				bad_x++;
			k++;
			free(n);
			free(v);
		}
		if (k != 2)
			bad_x++;
		free(xs);
		free(out);
		oci_snapshot_free(back);
	}
	is_int(bad, 0,
	       "every byte 1..255 in path, link, source, xattr name; 0..255 in value: round trip");
	is_int(bad_lines, 0, "no byte breaks a line or a field");
	is_int(bad_x, 0,
	       "xattrs decode to the names and values encoded, ';' and '=' in a name included");
}

static void test_xattrs(void)
{
	struct snapshot_xattr v[] = {
	    {"user.b", "2", 1}, {"user.a;trusted.x", "1", 1}, {"user.b", "3", 1}, {"", "z", 1}};
	char *s = snapshot_xattrs_encode(v, 4);
	is_str(s, "user.a%3btrusted.x=31;user.b=33",
	       "sorted, escaped, last of a twice-given name, empty name dropped");
	ok(snapshot_xattrs_valid(s), "the encoder's output is valid");
	free(s);
	ok(snapshot_xattrs_encode(v, 0) == NULL, "no xattrs: NULL");
	const char *bad[] = {"",
			     "user.a",
			     "=00",
			     "user.a=0",
			     "user.a=0G",
			     "user.a=00;",
			     "user.b=;user.a=",
			     "user.a=;user.a=",
			     "user.a;t=00",
			     "user%3Bx=00",
			     "user%41=00",
			     "user%00=00",
			     "user a=00",
			     "user.a=AA",
			     ";user.a=00"};
	int n_ok = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (snapshot_xattrs_valid(bad[i])) {
			printf("# accepted \"%s\"\n", bad[i]);
			n_ok++;
		}
	}
	is_int(n_ok, 0, "malformed, unsorted, repeated or non-canonical xattrs strings refused");
}

static const char *good_head =
    "oci-unpack-record 2\nsource img\nmanifest " D64 "\nconfig -\nrootless 0\ncount 2\n";
static const char *good_root = "/\t40755\t0\t0\t2\t0\t0\t0\t2\t0\t-\t-\t-\t0\n";

/* a record of the good header and root, then line */
static struct oci_snapshot *with_line(const char *line, const char **why)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s%s%s", good_head, good_root, line);
	return parse(buf, strlen(buf), why);
}

static void test_numbers(void)
{
	struct oci_snapshot *s = with_line(
	    "/f\t100644\t0\t0\t1\t0\t-9223372036854775808\t-1\t0\t0\t" D64 "\t-\t-\t0\n", NULL);
	ok(s && s->e[1].mtime_ns == INT64_MIN && s->e[1].ctime_ns == -1,
	   "mtime -9223372036854775808 read as INT64_MIN, without negating it");
	oci_snapshot_free(s);
	const char *bad[] = {
	    "/f\t100644\t0\t0\t1\t0\t-9223372036854775809\t0\t0\t0\t-\t-\t-\t0\n",
	    "/f\t100644\t0\t0\t1\t0\t9223372036854775808\t0\t0\t0\t-\t-\t-\t0\n",
	    "/f\t100644\t0\t0\t1\t0\t-0\t0\t0\t0\t-\t-\t-\t0\n",
	    "/f\t100644\t0\t0\t1\t0\t+1\t0\t0\t0\t-\t-\t-\t0\n",
	    "/f\t0100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\n",
	    "/f\t100644\t4294967296\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\n",
	    "/f\t100644\t-1\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\n",
	    "/f\t100644\t0\t0\t1\t-1\t0\t0\t0\t0\t-\t-\t-\t0\n",
	    "/f\t100644\t0\t0\t1\t0\t0\t0\t18446744073709551616\t0\t-\t-\t-\t0\n",
	    "/f\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t2\n",
	    "/f\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t1\n",
	    "/f\t100648\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\n",
	    "/f\t200644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\n",
	    "/f\t100644\t0\t0\t1\t0\t0 \t0\t0\t0\t-\t-\t-\t0\n",
	    "/f\t100644\t0\t0\t1\t0\t\t0\t0\t0\t-\t-\t-\t0\n",
	};
	int n_ok = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		const char *why = NULL;
		s = with_line(bad[i], &why);
		if (s) {
			printf("# accepted %s", bad[i]);
			n_ok++;
		}
		oci_snapshot_free(s);
	}
	is_int(n_ok, 0,
	       "numbers out of range, signed where they may not be, or not canonical: refused");
}

static void test_refused(void)
{
	const char *why = NULL;
	struct oci_snapshot *s;
	const char *v1 =
	    "oci-unpack-record 1\nsource img\nmanifest -\nconfig -\nrootless 0\ncount 0\n";
	s = parse(v1, strlen(v1), &why);
	ok(!s && why && strstr(why, "unpack the image again"),
	   "version 1 refused, saying to unpack again");
	oci_snapshot_free(s);
	const char *bad[] = {
	    "/a%20b\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\n/a "
	    "b\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\n",
	    "/a b\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\n",    /* a raw space */
	    "/a%2F\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\n",   /* uppercase */
	    "/a%2f\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\n",   /* "/" needs none */
	    "/a%00\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\n",   /* NUL */
	    "/a%2\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\n",    /* truncated */
	    "/a/../b\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\n", /* not clean */
	    "/a/\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\n",
	    "/a\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\n",	   /* 13 fields */
	    "/a\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\tx\n", /* 15 */
	    "/a\t100644\t0\t0\t1\t0\t0\t0\t0\t0\tsha256:AB\t-\t-\t0\n",
	    "/a\t40755\t0\t0\t1\t0\t0\t0\t0\t0\t" D64 "\t-\t-\t0\n", /* digest on a dir */
	    "/a\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\tx\t-\t0\n",	     /* target on a file */
	    "/a\t120777\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\n",	     /* link without one */
	    "/a\t120777\t0\t0\t1\t0\t0\t0\t0\t0\t-\tx%2dy\t-\t0\n",  /* %2d but alone */
	    "/a\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\tuser.b=;user.a=\t0\n",
	    "/a\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t\t0\n",	  /* empty xattrs */
	    "/a\t100644\t0\t0\t1\t5\t0\t0\t0\t0\t-\t-\t-\t0\r\n", /* CR */
	    "/a\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0",	  /* no last LF */
	    "/a\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\n\n", /* trailing */
	    "/\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\t-\t0\n",	  /* repeated */
	    "/a\t100644\t0\t0\t1\t0\t0\t0\t0\t0\t-\t-\tuser.x=00\0\t0\n",
	};
	int n_ok = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char buf[4096];
		size_t hl = strlen(good_head), rl = strlen(good_root), ll = strlen(bad[i]);
		if (i == sizeof(bad) / sizeof(*bad) - 1)
			ll += 5; /* the NUL and what follows it */
		memcpy(buf, good_head, hl);
		memcpy(buf + hl, good_root, rl);
		memcpy(buf + hl + rl, bad[i], ll);
		s = parse(buf, hl + rl + ll, &why);
		if (s) {
			printf("# accepted %zu: %s", i, bad[i]);
			n_ok++;
		}
		oci_snapshot_free(s);
	}
	is_int(n_ok, 0,
	       "bad escapes, paths, field counts, digests, targets, xattrs, lines refused");
#define HDR "oci-unpack-record 2\nsource img\nmanifest -\nconfig -\n"
	const char *heads[] = {
	    "oci-unpack-record 3\nsource img\nmanifest -\nconfig -\nrootless 0\ncount 0\n",
	    "oci-unpack-record 02\nsource img\nmanifest -\nconfig -\nrootless 0\ncount 0\n",
	    "oci-unpack-record 2\nsource img\nmanifest -\nconfig -\nrootless 2\ncount 0\n",
	    "oci-unpack-record 2\nsource img\nmanifest -\nconfig -\nrootless 0\ncount 1\n",
	    HDR "rootless 0\ncount 99999999999\n",
	    "oci-unpack-record 2\nsource img\nmanifest x\nconfig -\nrootless 0\ncount 0\n",
	    "oci-unpack-record 2\nsource a b\nmanifest -\nconfig -\nrootless 0\ncount 0\n",
	    "oci-unpack-record 2 \nsource img\nmanifest -\nconfig -\nrootless 0\ncount 0\n",
	    "oci-unpack-record 2\nsource img\nconfig -\nmanifest -\nrootless 0\ncount 0\n",
	};
	n_ok = 0;
	for (size_t i = 0; i < sizeof(heads) / sizeof(*heads); i++) {
		s = parse(heads[i], strlen(heads[i]), &why);
		if (s) {
			printf("# accepted header %zu\n", i);
			n_ok++;
		}
		oci_snapshot_free(s);
	}
	is_int(n_ok, 0, "bad versions, flags, counts, digests and header order refused");
	/* a NUL after a digest, inside its field (found by fuzz-record) */
	char nul[256];
	int nl = snprintf(nul, sizeof(nul), "oci-unpack-record 2\nsource img\nmanifest %s", D64);
	memcpy(nul + nl, "\0\0\nconfig -\nrootless 0\ncount 0\n", 31);
	s = parse(nul, (size_t)nl + 31, &why);
	ok(!s && why && strcmp(why, "bad digest") == 0, "a NUL inside a digest field refused");
	oci_snapshot_free(s);
	const char *empty =
	    "oci-unpack-record 2\nsource \nmanifest -\nconfig -\nrootless 1\ncount 0\n";
	s = parse(empty, strlen(empty), &why);
	ok(s && s->n == 0 && s->rootless && strcmp(s->source, "") == 0,
	   "an empty record with an empty source reads");
	oci_snapshot_free(s);
}

static void test_writer_refuses(void)
{
	struct oci_snap_entry e[2] = {
	    {.path = "", .mode = S_IFDIR | 0755},
	    {.path = "f", .mode = S_IFREG | 0644, .xattrs = "user.a;trusted.b=00"},
	};
	struct oci_snapshot s = {.n = 2, .e = e};
	size_t len;
	char *out = fmt(&s, &len);
	ok(!out, "the writer refuses an xattrs string it could not read back");
	free(out);
	e[1].xattrs = NULL;
	e[1].path = "a/../f";
	out = fmt(&s, &len);
	ok(!out, "the writer refuses a path that is not clean");
	free(out);
}

/* oci_snapshot_write streams a large record out in pieces: the file holds
 * exactly what snapshot_format makes, it loads back whole, and an entry
 * refused after some pieces were written leaves no record and no
 * temporary file behind. */
static void test_streamed_write(void)
{
	enum { N = 30000 };
	struct oci_snap_entry *e = calloc(N, sizeof(*e));
	char(*paths)[16] = calloc(N, sizeof(*paths));
	e[0] = (struct oci_snap_entry){.path = "", .mode = S_IFDIR | 0755};
	for (int i = 1; i < N; i++) {
		snprintf(paths[i], sizeof(paths[i]), "f%06d", i);
		e[i] = (struct oci_snap_entry){.path = paths[i],
					       .mode = S_IFREG | 0644,
					       .nlink = 1,
					       .size = i,
					       .mtime_ns = 1000000000LL * i};
		set_digest(&e[i].digest, D64);
	}
	struct oci_snapshot s = {.n = N, .e = e};
	size_t len = 0;
	char *want = fmt(&s, &len);
	ok(want && len > (2u << 20), "a record of %d entries is %zu bytes (several pieces)", N,
	   len);

	char dir[] = "/tmp/test-snapshot.XXXXXX";
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct oci_error *err = NULL;
	ok(oci_snapshot_write(&s, dfd, "rec", &err) == 0, "written");
	oci_error_free(err);
	err = NULL;
	char *got = malloc(len + 1);
	int fd = openat(dfd, "rec", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, got, len + 1) : -1;
	size_t have = n > 0 ? (size_t)n : 0;
	while (fd >= 0 && n > 0 && have <= len) {
		n = read(fd, got + have, len + 1 - have);
		if (n > 0)
			have += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	ok(want && have == len && memcmp(got, want, len) == 0,
	   "the file is byte for byte what snapshot_format makes (%zu of %zu bytes)", have, len);
	struct oci_snapshot *back = NULL;
	ok(oci_snapshot_load(dfd, "rec", &back, &err) == 0 && back && back->n == N &&
	       same_entry(&back->e[N - 1], &e[N - 1]),
	   "it loads back whole");
	oci_error_free(err);
	err = NULL;
	oci_snapshot_free(back);

	unlinkat(dfd, "rec", 0);
	e[N - 10].path = "a/../b"; /* refused, long after the first piece was written */
	ok(oci_snapshot_write(&s, dfd, "rec", &err) < 0 && err && err->status == OCI_E_INVALID,
	   "a bad entry late in the record is refused");
	oci_error_free(err);
	ok(faccessat(dfd, "rec", F_OK, 0) < 0 && faccessat(dfd, ".rec.tmp", F_OK, 0) < 0,
	   "and leaves neither the record nor its temporary file");
	close(dfd);
	rmdir(dir);
	free(got);
	free(want);
	free(paths);
	free(e);
}

/* ---- the record written while walking: the same bytes as a snapshot's ---- */

static int n_visits;

static int count_visit(void *arg, struct oci_snap_entry *e, int dfd, const char *name, int self_fd,
		       struct stat *st, struct oci_error **err)
{
	n_visits++;
	return 0;
}

/* every directory but a few: after its children */
static bool defer_some(void *arg, const struct oci_snap_entry *e, const struct stat *st)
{
	const char *const *which = arg;
	for (; *which; which++)
		if (strcmp(e->path, *which) == 0)
			return true;
	return false;
}

static char *slurp(int dfd, const char *name, size_t *len)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap);
	ssize_t k;
	while ((k = read(fd, b + n, cap - n)) > 0) {
		n += (size_t)k;
		if (n == cap)
			b = realloc(b, cap *= 2);
	}
	close(fd);
	*len = n;
	return b;
}

static void test_walk_write(void)
{
	char dir[] = "/tmp/test-snapshot-ww.XXXXXX";
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	mkdirat(dfd, "t", 0755);
	int t = openat(dfd, "t", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* names whose bytewise order interleaves a directory, its siblings
	 * and its children: "d" < "d!z" < "d-x" < "d-x/h" < "d.y" < "d/f" */
	static const char *const dirs[] = {"d",	       "d-x",	"d!z",	  "d/sub", "d/sub-1",
					   "d/sub/in", "d-x/q", "d-x/q.", "e",	   NULL};
	static const char *const files[] = {"d.y",     "d/f",	  "d/sub/g", "d/sub.t", "d-x/h",
					    "d-x/q.r", "d-x/q/s", "a",	     "d!z/1",	NULL};
	for (int i = 0; dirs[i]; i++)
		mkdirat(t, dirs[i], 0755);
	for (int i = 0; files[i]; i++)
		close(openat(t, files[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	symlinkat("d/f", t, "d-link");
	struct oci_error *err = NULL;
	struct oci_snapshot *s = NULL;
	/* the reference: a walk with a visit takes the other way (each directory
	 * after its children, then a sort) */
	s = calloc(1, sizeof(*s));
	ok(snapshot_walk(t, count_visit, NULL, s, &err) == 0, "the tree walked, then sorted");
	struct oci_snapshot *c = NULL;
	ok(oci_snapshot_of_dir(t, &c, &err) == 0 && c->n == s->n,
	   "the tree walked in the record's order, into a snapshot");
	bool same_order = c && c->n == s->n;
	for (size_t i = 0; same_order && i < s->n; i++)
		same_order = strcmp(c->e[i].path, s->e[i].path) == 0 && c->e[i].ino == s->e[i].ino;
	ok(same_order, "the same entries in the same order, without a sort");
	oci_snapshot_free(c);
	size_t n_entries = s ? s->n : 0;
	if (s) {
		s->source = strdup("src:1");
		oci_snapshot_write(s, dfd, "whole", &err);
	}
	struct oci_snapshot head = {.source = "src:1"};
	static const char *const none[] = {NULL};
	static const char *const some[] = {"", "d", "d-x", "d/sub", "d-x/q", NULL};
	const char *const *defers[] = {none, some};
	size_t wl = 0;
	char *want = slurp(dfd, "whole", &wl);
	for (int v = 0; v < 2; v++) {
		n_visits = 0;
		int r = snapshot_walk_write(t, count_visit, defer_some, (void *)defers[v], &head,
					    dfd, "streamed", &err);
		if (r < 0 && err)
			printf("# %s\n", err->msg);
		size_t gl = 0;
		char *got = slurp(dfd, "streamed", &gl);
		ok(r == 0 && want && got && gl == wl && memcmp(got, want, wl) == 0,
		   "streamed record == the snapshot's record, byte for byte (%s deferred)",
		   v ? "some directories" : "no directory");
		is_int(n_visits, (long long)n_entries, "every entry visited once");
		free(got);
		unlinkat(dfd, "streamed", 0);
	}
	free(want);
	oci_snapshot_free(s);
	oci_error_free(err);
	close(t);
	close(dfd);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

/* a line longer than the reader's 1 MiB buffer: read whole, all the same */
static void test_long_line(void)
{
	size_t vl = 700000; /* 1.4 MB of hex */
	unsigned char *val = calloc(1, vl);
	for (size_t i = 0; i < vl; i++)
		val[i] = (unsigned char)(i * 7);
	struct snapshot_xattr xv[1] = {{"user.big", val, vl}};
	char *xs = snapshot_xattrs_encode(xv, 1);
	struct oci_snap_entry e[3] = {
	    {.path = "", .mode = S_IFDIR | 0755, .nlink = 2},
	    {.path = "big", .mode = S_IFREG | 0644, .nlink = 1, .size = 3, .xattrs = xs},
	    {.path = "c", .mode = S_IFREG | 0644, .nlink = 1},
	};
	set_digest(&e[1].digest, D64);
	struct oci_snapshot s = {.n = 3, .e = e, .source = "x"};
	char dir[] = "/tmp/test-snapshot-ll.XXXXXX";
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct oci_error *err = NULL;
	struct oci_snapshot *back = NULL;
	int r = oci_snapshot_write(&s, dfd, "rec", &err);
	if (r == 0)
		r = oci_snapshot_load(dfd, "rec", &back, &err);
	bool same = r == 0 && back && back->n == 3;
	for (int i = 0; same && i < 3; i++)
		same = same_entry(&e[i], &back->e[i]);
	ok(same, "a 1.4 MB line (the reader's buffer is 1 MiB) loads back whole");
	oci_snapshot_free(back);
	oci_error_free(err);
	unlinkat(dfd, "rec", 0);
	close(dfd);
	rmdir(dir);
	free(xs);
	free(val);
}

int main(void)
{
	test_round_trip_bytes();
	test_xattrs();
	test_numbers();
	test_refused();
	test_writer_refuses();
	test_streamed_write();
	test_walk_write();
	test_long_line();
	return done_testing();
}
