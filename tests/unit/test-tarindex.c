/* The tar member index over tars built here byte by byte: ustar, pax and
 * GNU long names, hard links, duplicates (the later one wins) and broken
 * or hostile headers, which must fail cleanly. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tarindex.h"
#include "tap.h"

struct tb {
	uint8_t *buf;
	size_t len, cap;
};

static uint8_t *tb_grow(struct tb *t, size_t n)
{
	if (t->len + n > t->cap) {
		t->cap = (t->len + n) * 2;
		t->buf = realloc(t->buf, t->cap);
	}
	uint8_t *p = t->buf + t->len;
	memset(p, 0, n);
	t->len += n;
	return p;
}

static void tb_checksum(uint8_t *h)
{
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += h[i];
	char c[16];
	snprintf(c, sizeof(c), "%06o", sum);
	memcpy(h + 148, c, 7); /* six digits, NUL, and the space stays */
}

/* a ustar header; returns its offset in the tar */
static size_t tb_header_p(struct tb *t, const char *prefix, const char *name, char type,
			  long long size, const char *link)
{
	size_t off = t->len;
	uint8_t *h = tb_grow(t, 512);
	strncpy((char *)h, name, 100);
	memcpy(h + 100, "0000644", 8);
	memcpy(h + 108, "0000000", 8);
	memcpy(h + 116, "0000000", 8);
	char f[32];
	snprintf(f, sizeof(f), "%011llo", size);
	memcpy(h + 124, f, 11);
	snprintf(f, sizeof(f), "%011o", 1700000000u);
	memcpy(h + 136, f, 11);
	h[156] = (uint8_t)type;
	if (link)
		strncpy((char *)h + 157, link, 100);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	if (prefix)
		strncpy((char *)h + 345, prefix, 155);
	tb_checksum(h);
	return off;
}

static size_t tb_header(struct tb *t, const char *name, char type, long long size, const char *link)
{
	return tb_header_p(t, NULL, name, type, size, link);
}

static void tb_data(struct tb *t, const void *data, size_t len)
{
	uint8_t *p = tb_grow(t, (len + 511) & ~(size_t)511);
	memcpy(p, data, len);
}

/* a regular file; returns the offset of its data */
static size_t tb_file(struct tb *t, const char *name, const char *data)
{
	tb_header(t, name, '0', (long long)strlen(data), NULL);
	size_t off = t->len;
	tb_data(t, data, strlen(data));
	return off;
}

/* one pax record "LEN key=value\n", LEN counting itself */
static size_t pax_record(char *out, size_t cap, const char *key, const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3; /* ' ', '=', '\n' */
	size_t len = body + 1;
	for (;;) {
		char digits[32];
		size_t d = (size_t)snprintf(digits, sizeof(digits), "%zu", len);
		if (body + d == len)
			break;
		len = body + d;
	}
	snprintf(out, cap, "%zu %s=%s\n", len, key, value);
	return len;
}

static void tb_pax(struct tb *t, const char *records)
{
	tb_header(t, "PaxHeaders.0/x", 'x', (long long)strlen(records), NULL);
	tb_data(t, records, strlen(records));
}

static const char *kb512(void)
{
	static char k[512];
	memset(k, 'k', sizeof(k));
	return k;
}

static void tb_end(struct tb *t)
{
	tb_grow(t, 1024);
}

static int build(const struct tb *t, struct tar_index *ix)
{
	struct oci_error *err = NULL;
	memset(ix, 0, sizeof(*ix));
	int r = tar_index_build_mem(t->buf, t->len, ix, &err);
	if (r < 0 && (!err || err->status != r || !err->msg))
		r = 2000;
	if (r == 0 && err)
		r = 1000;
	oci_error_free(err);
	return r;
}

static void member_is(const struct tar_index *ix, const char *name, size_t off, int64_t size,
		      const char *what)
{
	const struct tar_member *m = tar_index_find(ix, name);
	ok(m != NULL, "%s: \"%.60s\" found", what, name);
	if (!m)
		return;
	is_int(m->off, off, what);
	is_int(m->size, size, what);
}

static int sorted_unique(const struct tar_index *ix)
{
	for (size_t i = 1; i < ix->n; i++)
		if (strcmp(ix->m[i - 1].name, ix->m[i].name) >= 0)
			return 0;
	return 1;
}

static void test_basic(void)
{
	struct tb t = {0};
	struct tar_index ix;
	size_t a = tb_file(&t, "a.txt", "hello");
	tb_header(&t, "dir/", '5', 0, NULL);
	size_t bc = tb_file(&t, "./b/c", "xyz");
	size_t abs = tb_file(&t, "/abs", "");
	tb_header(&t, "sl", '2', 0, "a.txt");
	size_t up = tb_file(&t, "a/../../etc/passwd", "root");
	tb_header(&t, "fifo", '6', 0, NULL);
	size_t contig = tb_file(&t, "contig", "7");
	tb_header_p(&t, "p/q", "r", '0', 2, NULL);
	size_t pqr = t.len;
	tb_data(&t, "pq", 2);
	tb_end(&t);

	is_int(build(&t, &ix), 0, "basic tar indexes");
	is_int(ix.n, 7, "six regular members and a symlink to one");
	ok(sorted_unique(&ix), "members sorted by name, unique");
	member_is(&ix, "a.txt", a, 5, "plain file");
	is_int(a, 512, "first data right after the first header");
	member_is(&ix, "b/c", bc, 3, "leading ./ cleaned");
	member_is(&ix, "abs", abs, 0, "leading / cleaned, empty file");
	member_is(&ix, "etc/passwd", up, 4, ".. cleaned lexically");
	member_is(&ix, "contig", contig, 1, "type 7 is regular");
	member_is(&ix, "p/q/r", pqr, 2, "ustar prefix joined");
	ok(tar_index_find(&ix, "dir") == NULL && tar_index_find(&ix, "dir/") == NULL,
	   "directories are not members");
	member_is(&ix, "sl", a, 5, "a symlink aliases the member it names");
	ok(tar_index_find(&ix, "fifo") == NULL, "fifos are not members");
	ok(tar_index_find(&ix, "./b/c") == NULL, "lookups are by cleaned name");
	ok(tar_index_find(&ix, "a.tx") == NULL && tar_index_find(&ix, "a.txtx") == NULL,
	   "no prefix matches");
	tar_index_release(&ix);
	is_int(ix.n, 0, "release empties the index");
	tar_index_release(&ix);

	/* without the end-of-archive blocks, and with only one of them */
	t.len -= 1024;
	is_int(build(&t, &ix), 0, "missing end-of-archive marker tolerated");
	is_int(ix.n, 7, "same seven members");
	tar_index_release(&ix);
	tb_grow(&t, 512);
	is_int(build(&t, &ix), 0, "a single zero block ends the archive");
	tar_index_release(&ix);
	/* anything after the end marker is ignored */
	tb_grow(&t, 512);
	uint8_t *junk = tb_grow(&t, 512);
	memset(junk, 'J', 512);
	is_int(build(&t, &ix), 0, "junk after the end marker ignored");
	is_int(ix.n, 7, "still seven members");
	tar_index_release(&ix);
	free(t.buf);
}

static void test_extended(void)
{
	struct tb t = {0};
	struct tar_index ix;
	char rec[2048], rec2[512];

	char longname[301];
	memset(longname, 'n', 300);
	longname[300] = 0;
	memcpy(longname, "long/", 5);
	memcpy(longname + 100, "/dir/", 5);
	pax_record(rec, sizeof(rec), "path", longname);
	tb_pax(&t, rec);
	tb_header(&t, "truncated-name", '0', 8, NULL);
	size_t pax_off = t.len;
	tb_data(&t, "pax data", 8);

	/* pax size overrides the header's size field */
	pax_record(rec, sizeof(rec), "size", "1000");
	tb_pax(&t, rec);
	tb_header(&t, "sized", '0', 0, NULL);
	size_t sized = t.len;
	char kb[1000];
	memset(kb, 'k', sizeof(kb));
	tb_data(&t, kb, sizeof(kb));
	size_t after = tb_file(&t, "after", "still aligned");

	/* several records in one header, unknown keys skipped */
	size_t n = pax_record(rec, sizeof(rec), "mtime", "1700000000.5");
	n += pax_record(rec + n, sizeof(rec) - n, "SCHILY.xattr.user.x", "a=b=c");
	n += pax_record(rec + n, sizeof(rec) - n, "path", "multi/rec");
	pax_record(rec + n, sizeof(rec) - n, "uname", "");
	tb_pax(&t, rec);
	size_t multi = tb_file(&t, "ignored", "m");

	/* GNU long name: the data carries the name and a NUL */
	char gnuname[200];
	memset(gnuname, 'g', 199);
	gnuname[199] = 0;
	memcpy(gnuname, "gnu/", 4);
	tb_header(&t, "././@LongLink", 'L', 200, NULL);
	tb_data(&t, gnuname, 200);
	size_t gnu = tb_file(&t, "gnu/ggggg", "gnu data");

	/* a global pax header changes nothing for the next member */
	pax_record(rec2, sizeof(rec2), "path", "global-should-not-apply");
	tb_header(&t, "pax_global_header", 'g', (long long)strlen(rec2), NULL);
	tb_data(&t, rec2, strlen(rec2));
	size_t plain = tb_file(&t, "plain", "p");

	/* pax linkpath for a hard link to the long-named member */
	pax_record(rec, sizeof(rec), "linkpath", longname);
	tb_pax(&t, rec);
	tb_header(&t, "paxlink", '1', 0, "wrong-target");
	/* GNU long link name */
	tb_header(&t, "././@LongLink", 'K', 200, NULL);
	tb_data(&t, gnuname, 200);
	tb_header(&t, "gnulink", '1', 0, "wrong-target");
	tb_end(&t);

	is_int(build(&t, &ix), 0, "pax and GNU tar indexes");
	ok(sorted_unique(&ix), "sorted and unique");
	member_is(&ix, longname, pax_off, 8, "pax path");
	ok(tar_index_find(&ix, "truncated-name") == NULL, "header name replaced by pax path");
	member_is(&ix, "sized", sized, 1000, "pax size");
	member_is(&ix, "after", after, 13, "member after a pax-sized one");
	member_is(&ix, "multi/rec", multi, 1, "path among several records");
	member_is(&ix, gnuname, gnu, 8, "GNU long name");
	member_is(&ix, "plain", plain, 1, "global header ignored");
	ok(tar_index_find(&ix, "global-should-not-apply") == NULL, "no global path");
	member_is(&ix, "paxlink", pax_off, 8, "pax linkpath hard link");
	member_is(&ix, "gnulink", gnu, 8, "GNU long link hard link");
	is_int(ix.n, 8, "eight members");
	tar_index_release(&ix);
	free(t.buf);
}

static void test_links_and_duplicates(void)
{
	struct tb t = {0};
	struct tar_index ix;
	size_t a = tb_file(&t, "a.txt", "hello");
	tb_header(&t, "link", '1', 0, "a.txt");
	tb_header(&t, "dotlink", '1', 0, "./a.txt");
	tb_header(&t, "dangling", '1', 0, "nowhere");
	tb_header(&t, "forward", '1', 0, "later");
	tb_file(&t, "later", "later");
	tb_file(&t, "dup", "first");
	tb_file(&t, "dup", "second");
	size_t third = tb_file(&t, "dup", "third!!");
	tb_header(&t, "chain", '1', 0, "link");
	/* a hard link to a name that was replaced points at the latest */
	tb_file(&t, "re", "old");
	size_t re2 = tb_file(&t, "re", "newer");
	tb_header(&t, "relink", '1', 0, "re");
	tb_end(&t);

	is_int(build(&t, &ix), 0, "links and duplicates index");
	ok(sorted_unique(&ix), "one entry per name");
	member_is(&ix, "link", a, 5, "hard link aliases its target");
	member_is(&ix, "dotlink", a, 5, "hard link target is cleaned");
	member_is(&ix, "chain", a, 5, "hard link to a hard link");
	ok(tar_index_find(&ix, "dangling") == NULL, "dangling hard link skipped");
	ok(tar_index_find(&ix, "forward") == NULL, "hard link to a later member skipped");
	member_is(&ix, "dup", third, 7, "the last of three duplicates wins");
	member_is(&ix, "relink", re2, 5, "hard link to a replaced name gets the latest");
	tar_index_release(&ix);
	free(t.buf);

	/* a later hard link replaces an earlier regular file of the same name */
	t = (struct tb){0};
	size_t tgt = tb_file(&t, "target", "target data");
	tb_file(&t, "x", "earlier x");
	tb_header(&t, "x", '1', 0, "target");
	tb_end(&t);
	is_int(build(&t, &ix), 0, "file then hard link of the same name");
	member_is(&ix, "x", tgt, 11, "the later hard link wins over the earlier file");
	tar_index_release(&ix);
	free(t.buf);

	/* and a later file replaces an earlier hard link */
	t = (struct tb){0};
	tb_file(&t, "target", "target data");
	tb_header(&t, "y", '1', 0, "target");
	size_t y = tb_file(&t, "y", "later y");
	tb_end(&t);
	is_int(build(&t, &ix), 0, "hard link then file of the same name");
	member_is(&ix, "y", y, 7, "the later file wins over the earlier hard link");
	tar_index_release(&ix);
	free(t.buf);

	/* a later member of the same name that is not a readable file hides it */
	t = (struct tb){0};
	tb_file(&t, "z", "file z");
	tb_header(&t, "z", '2', 0, "elsewhere");
	tb_file(&t, "d", "file d");
	tb_header(&t, "d/", '5', 0, NULL);
	tb_file(&t, "h", "file h");
	tb_header(&t, "h", '1', 0, "no-such-target");
	tb_file(&t, "f", "file f");
	tb_header(&t, "./f", '6', 0, NULL);
	size_t back = tb_file(&t, "s", "file s");
	tb_header(&t, "s", '2', 0, "elsewhere");
	tb_file(&t, "s", "back");
	tb_end(&t);
	is_int(build(&t, &ix), 0, "files replaced by other kinds of member");
	ok(tar_index_find(&ix, "z") == NULL, "a later symlink of the same name replaces the file");
	ok(tar_index_find(&ix, "d") == NULL,
	   "a later directory of the same name replaces the file");
	ok(tar_index_find(&ix, "h") == NULL, "a later dangling hard link replaces the file");
	ok(tar_index_find(&ix, "f") == NULL, "a later fifo of the same name replaces the file");
	member_is(&ix, "s", back + 1024 + 512, 4, "a file after the symlink is found again");
	is_int(ix.n, 1, "only the last s is left");
	tar_index_release(&ix);
	free(t.buf);

	/* many hard links: indexing must stay about linear in the member count,
	 * or an archive of hard links to nowhere burns CPU for hours */
	t = (struct tb){0};
	enum { NL = 40000 };
	for (int i = 0; i < NL; i++) {
		char name[32];
		snprintf(name, sizeof(name), "l%d", i);
		tb_header(&t, name, '1', 0, "missing");
	}
	tb_file(&t, "last", "x");
	tb_end(&t);
	clock_t t0 = clock();
	is_int(build(&t, &ix), 0, "40000 dangling hard links index");
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	ok(secs < 2.0, "40000 hard links index in under 2 s of CPU (took %.2f s)", secs);
	ok(tar_index_find(&ix, "last") != NULL, "the file after them is found");
	tar_index_release(&ix);
	free(t.buf);

	/* many members: binary search over all of them */
	t = (struct tb){0};
	enum { N = 3000 };
	size_t *offs = malloc(N * sizeof(*offs));
	for (int i = N - 1; i >= 0; i--) {
		char name[32], data[32];
		snprintf(name, sizeof(name), "f/%05d", i);
		snprintf(data, sizeof(data), "%d", i);
		offs[i] = tb_file(&t, name, data);
	}
	tb_end(&t);
	is_int(build(&t, &ix), 0, "3000 members index");
	is_int(ix.n, N, "all 3000 present");
	int all = 1;
	for (int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof(name), "f/%05d", i);
		const struct tar_member *m = tar_index_find(&ix, name);
		if (!m || m->off != (off_t)offs[i])
			all = 0;
	}
	ok(all, "each found at its offset");
	ok(sorted_unique(&ix), "sorted");
	tar_index_release(&ix);
	free(offs);
	free(t.buf);
}

/* a tar with one member whose header is then modified by fix() */
static int one_member_then(void (*fix)(uint8_t *h), int recompute)
{
	struct tb t = {0};
	struct tar_index ix;
	tb_file(&t, "m", "data");
	tb_end(&t);
	fix(t.buf);
	if (recompute)
		tb_checksum(t.buf);
	int r = build(&t, &ix);
	tar_index_release(&ix);
	free(t.buf);
	return r;
}

static void flip_name(uint8_t *h)
{
	h[0] ^= 1;
}
static void base256_huge(uint8_t *h)
{
	h[124] = 0x80;
	for (int i = 125; i < 136; i++)
		h[i] = 0xff;
}
static void base256_negative(uint8_t *h)
{
	h[124] = 0xff;
	for (int i = 125; i < 136; i++)
		h[i] = 0xff;
}
static void base256_small(uint8_t *h)
{
	memset(h + 124, 0, 12);
	h[124] = 0x80;
	h[135] = 4;
}
static void octal_garbage(uint8_t *h)
{
	memcpy(h + 124, "0000000004x", 12);
}
static void octal_overflow(uint8_t *h)
{
	memcpy(h + 124, "777777777777", 12);
}
static void checksum_garbage(uint8_t *h)
{
	memcpy(h + 148, "zzzzzz\0 ", 8);
}

static int tar_status(struct tb *t)
{
	struct tar_index ix;
	int r = build(t, &ix);
	tar_index_release(&ix);
	return r;
}

static void test_hostile(void)
{
	struct tar_index ix;
	struct oci_error *err = NULL;

	is_int(tar_index_build_mem((const uint8_t *)"", 0, &ix, &err), OCI_E_INVALID,
	       "empty buffer refused");
	oci_error_free(err);
	err = NULL;
	is_int(tar_index_build_mem(NULL, 0, &ix, NULL), OCI_E_INVALID, "NULL buffer refused");

	is_int(one_member_then(flip_name, 0), OCI_E_INVALID, "bad checksum refused");
	is_int(one_member_then(checksum_garbage, 0), OCI_E_INVALID, "garbage checksum refused");
	is_int(one_member_then(base256_huge, 1), OCI_E_INVALID, "absurd base-256 size refused");
	is_int(one_member_then(base256_negative, 1), OCI_E_INVALID, "negative base-256 refused");
	is_int(one_member_then(octal_garbage, 1), OCI_E_INVALID, "garbage in the size refused");
	{
		int r = one_member_then(octal_overflow, 1);
		ok(r == 0 || r == OCI_E_INVALID, "12-digit octal size, no crash (got %d)", r);
	}
	{
		struct tb t = {0};
		tb_file(&t, "m", "data");
		tb_end(&t);
		base256_small(t.buf);
		tb_checksum(t.buf);
		is_int(build(&t, &ix), 0, "base-256 size accepted");
		member_is(&ix, "m", 512, 4, "base-256 size read");
		tar_index_release(&ix);
		free(t.buf);
	}

	/* truncated headers */
	struct tb t = {0};
	tb_file(&t, "m", "data");
	size_t full = t.len;
	tb_file(&t, "n", "more");
	t.len = 100;
	is_int(tar_status(&t), OCI_E_INVALID, "truncated first header refused");
	t.len = full + 300;
	is_int(tar_status(&t), OCI_E_INVALID, "truncated second header refused");
	t.len = full + 511;
	is_int(tar_status(&t), OCI_E_INVALID, "header one byte short refused");
	free(t.buf);

	/* member data running past the end of the buffer */
	t = (struct tb){0};
	tb_file(&t, "small", "fits");
	tb_header(&t, "big", '0', 1000000, NULL);
	tb_data(&t, "only a little", 13);
	is_int(tar_status(&t), OCI_E_INVALID, "member data cut by the end of the archive refused");
	t.len = 1024 + 512 + 512;
	is_int(tar_status(&t), OCI_E_INVALID, "same, cut at a block boundary");
	free(t.buf);
	t = (struct tb){0};
	tb_header(&t, "exact", '0', 512, NULL);
	tb_data(&t, kb512(), 512);
	is_int(tar_status(&t), 0, "member data ending exactly at the end is fine");
	t.len -= 1;
	is_int(tar_status(&t), OCI_E_INVALID, "one byte short refused");
	free(t.buf);
	/* pax size running past the end */
	t = (struct tb){0};
	tb_pax(&t, "16 size=1000000\n");
	tb_file(&t, "m", "data");
	tb_end(&t);
	is_int(tar_status(&t), OCI_E_INVALID, "pax size past the end refused");
	free(t.buf);

	/* pax: absurd and malformed sizes, bad records */
	char rec[256];
	const char *bad_sizes[] = {
	    "9000000000000000000", "99999999999999999999", "-1", "abc", "12x", ""};
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		t = (struct tb){0};
		pax_record(rec, sizeof(rec), "size", bad_sizes[i]);
		tb_pax(&t, rec);
		tb_file(&t, "m", "data");
		tb_end(&t);
		char name[80];
		snprintf(name, sizeof(name), "pax size \"%s\" refused", bad_sizes[i]);
		is_int(tar_status(&t), OCI_E_INVALID, name);
		free(t.buf);
	}
	const char *bad_records[] = {
	    "garbage",	"5 a=b\n",    "0 a=b\n",      "100 path=x\n",  "7 path\n",
	    "8 path=x", "x path=y\n", "9 path=xy\n5", "10 path=x\n\n",
	};
	for (size_t i = 0; i < sizeof(bad_records) / sizeof(bad_records[0]); i++) {
		t = (struct tb){0};
		tb_pax(&t, bad_records[i]);
		tb_file(&t, "m", "data");
		tb_end(&t);
		char name[80];
		snprintf(name, sizeof(name), "bad pax record #%zu refused", i);
		is_int(tar_status(&t), OCI_E_INVALID, name);
		free(t.buf);
	}
	/* a well-formed record of exactly the right length is fine */
	t = (struct tb){0};
	tb_pax(&t, "11 path=xy\n");
	tb_file(&t, "m", "data");
	tb_end(&t);
	is_int(build(&t, &ix), 0, "minimal pax record");
	ok(tar_index_find(&ix, "xy") != NULL, "its path used");
	tar_index_release(&ix);
	free(t.buf);

	/* huge extended headers: refused before any allocation of that size */
	const char types[] = {'x', 'g', 'L', 'K'};
	for (size_t i = 0; i < sizeof(types); i++) {
		t = (struct tb){0};
		tb_header(&t, "huge", types[i], 2ll << 20, NULL);
		tb_data(&t, "1 ", 2);
		char name[80];
		snprintf(name, sizeof(name), "2 MiB '%c' header refused with OCI_E_LIMIT",
			 types[i]);
		is_int(tar_status(&t), OCI_E_LIMIT, name);
		free(t.buf);
		t = (struct tb){0};
		tb_header(&t, "huge", types[i], 077777777777ll, NULL);
		snprintf(name, sizeof(name), "8 GiB '%c' header refused with OCI_E_LIMIT",
			 types[i]);
		is_int(tar_status(&t), OCI_E_LIMIT, name);
		free(t.buf);
	}
	/* exactly TAR_MAX_EXT (1 MiB, tarindex.c) of pax records is read; one
	 * byte more is OCI_E_LIMIT */
	for (size_t extra = 0; extra <= 1; extra++) {
		size_t total = (1u << 20) + extra;
		char *recs = malloc(total + 1);
		size_t n = pax_record(recs, total + 1, "path", "big-pax");
		/* pad with one "comment" record of the remaining length */
		size_t rest = total - n, vlen = rest - strlen(" comment=\n") - 7;
		char *val = malloc(vlen + 1);
		memset(val, 'c', vlen);
		val[vlen] = 0;
		size_t m = pax_record(recs + n, total + 1 - n, "comment", val);
		ok(n + m == total, "pax records of %zu bytes built", total);
		t = (struct tb){0};
		tb_pax(&t, recs);
		tb_file(&t, "m", "data");
		tb_end(&t);
		if (!extra) {
			is_int(build(&t, &ix), 0, "pax header of exactly 1 MiB accepted");
			ok(tar_index_find(&ix, "big-pax") != NULL, "its path used");
			tar_index_release(&ix);
		} else {
			is_int(tar_status(&t), OCI_E_LIMIT, "pax header of 1 MiB + 1 refused");
		}
		free(t.buf);
		free(val);
		free(recs);
	}
	t = (struct tb){0};
	tb_header(&t, "half", 'x', 1 << 20, NULL);
	tb_data(&t, "30 path=aaaaaaaaaaaaaaaaaaaaa\n", 30);
	is_int(tar_status(&t), OCI_E_INVALID, "1 MiB pax header cut short refused");
	free(t.buf);
}

static void test_fd(void)
{
	struct tb t = {0};
	tb_grow(&t, 1000); /* something before the tar */
	memset(t.buf, 'P', 1000);
	size_t start = t.len;
	tb_header(&t, "x", '0', 5, NULL);
	tb_data(&t, "xxxxx", 5);
	tb_file(&t, "y", "yy");
	tb_end(&t);
	char path[] = "/tmp/test-tarindex-XXXXXX";
	int fd = mkstemp(path);
	ok(fd >= 0, "temp file");
	if (fd < 0)
		return;
	unlink(path);
	ok(write(fd, t.buf, t.len) == (ssize_t)t.len, "tar written after 1000 bytes");
	struct tar_index ix;
	memset(&ix, 0, sizeof(ix));
	is_int(tar_index_build(fd, (off_t)start, &ix, NULL), 0, "index from an fd at a base");
	member_is(&ix, "x", 512, 5, "offsets are from the base");
	member_is(&ix, "y", 1536, 2, "second member from the base");
	tar_index_release(&ix);
	/* cut the file inside y's data: the fd path knows the size too */
	ok(ftruncate(fd, (off_t)(start + 1536 + 1)) == 0, "cut the file inside a member");
	is_int(tar_index_build(fd, (off_t)start, &ix, NULL), OCI_E_INVALID,
	       "a member past the end of the file refused");
	tar_index_release(&ix);
	close(fd);
	free(t.buf);
}

/* Archives without a single member. Last, because the library sorts an
 * empty (NULL) array here, which UBSan stops at. */
static void test_empty(void)
{
	struct tb t = {0};
	struct tar_index ix;
	/* only end blocks */
	tb_end(&t);
	is_int(build(&t, &ix), 0, "an archive of only end blocks");
	is_int(ix.n, 0, "has no members");
	ok(tar_index_find(&ix, "x") == NULL, "find in an empty index");
	tar_index_release(&ix);
	free(t.buf);
	/* an extended header with nothing after it */
	t = (struct tb){0};
	tb_pax(&t, "11 path=xy\n");
	is_int(build(&t, &ix), 0, "pax header at the very end: no member");
	is_int(ix.n, 0, "and nothing indexed");
	tar_index_release(&ix);
	free(t.buf);
}

/* why NAME was refused, or "" */
static const char *refused(const struct tar_index *ix, const char *name)
{
	const char *w = tar_index_refused(ix, name);
	return w ? w : "";
}

/* symlink members, as docker save writes one for a layer two images share:
 * followed to the member they name, relative to their directory, never out
 * of the archive, in a bounded chain */
static void test_symlinks(void)
{
	struct tb t = {0};
	struct tar_index ix;
	tb_header(&t, "id1/", '5', 0, NULL);
	size_t l1 = tb_file(&t, "id1/layer.tar", "layer one");
	tb_header(&t, "id2/", '5', 0, NULL);
	tb_header(&t, "id2/layer.tar", '2', 0, "../id1/layer.tar");
	tb_header(&t, "id3/layer.tar", '2', 0, "./../id2/layer.tar"); /* a chain of two */
	tb_header(&t, "id4/layer.tar", '1', 0, "id2/layer.tar");      /* hard link to a symlink */
	tb_header(&t, "fwd", '2', 0, "later");
	size_t later = tb_file(&t, "later", "later!");
	tb_header(&t, "up", '2', 0, "../../etc/passwd");
	tb_header(&t, "abs", '2', 0, "/etc/passwd");
	tb_header(&t, "a/up2", '2', 0, "../../x");
	tb_header(&t, "empty", '2', 0, "");
	tb_header(&t, "loop1", '2', 0, "loop2");
	tb_header(&t, "loop2", '2', 0, "loop1");
	tb_header(&t, "self", '2', 0, "self");
	tb_header(&t, "todir", '2', 0, "id1");
	tb_header(&t, "nowhere", '2', 0, "missing");
	tb_header(&t, "hl-bad", '1', 0, "up");
	tb_header(&t, "hl-none", '1', 0, "never");
	/* 16 links in a chain are followed, 17 are not */
	char name[16], to[16];
	for (int i = 0; i < 17; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		snprintf(to, sizeof(to), "c%d", i + 1);
		tb_header(&t, name, '2', 0, to);
	}
	size_t c17 = tb_file(&t, "c17", "end");
	tb_end(&t);

	is_int(build(&t, &ix), 0, "an archive of symlinks indexes");
	ok(sorted_unique(&ix), "one entry per name");
	member_is(&ix, "id2/layer.tar", l1, 9, "../id1/layer.tar from id2/");
	member_is(&ix, "id3/layer.tar", l1, 9, "a symlink to a symlink");
	member_is(&ix, "id4/layer.tar", l1, 9, "a hard link to a symlink");
	member_is(&ix, "fwd", later, 6, "a symlink to a later member");
	member_is(&ix, "c1", c17, 3, "a chain of 16 links is followed");
	ok(tar_index_find(&ix, "c0") == NULL, "a chain of 17 links is not");
	is_str(refused(&ix, "c0"), "too many symlinks (a loop)", "c0 refused as too long");
	const char *bad[][2] = {
	    {"up", "symlink out of the archive"},
	    {"abs", "symlink out of the archive"},
	    {"a/up2", "symlink out of the archive"},
	    {"empty", "symlink out of the archive"},
	    {"loop1", "too many symlinks (a loop)"},
	    {"loop2", "too many symlinks (a loop)"},
	    {"self", "too many symlinks (a loop)"},
	    {"todir", "symlink to a member that is not a regular file"},
	    {"nowhere", "symlink to a name not in the archive"},
	    {"hl-bad", "symlink out of the archive"},
	    {"hl-none", "hard link to no earlier member"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ok(tar_index_find(&ix, bad[i][0]) == NULL, "%s is not a member", bad[i][0]);
		is_str(refused(&ix, bad[i][0]), bad[i][1], bad[i][0]);
	}
	is_str(refused(&ix, "id1/layer.tar"), "", "a member is not refused");
	is_str(refused(&ix, "id1"), "", "nor is a directory");
	tar_index_release(&ix);
	is_int(ix.n_bad, 0, "release empties the refused list");
	free(t.buf);

	/* a later symlink replaces an earlier file, and a later file a symlink */
	t = (struct tb){0};
	size_t tg = tb_file(&t, "tg", "target");
	tb_file(&t, "x", "earlier x");
	tb_header(&t, "x", '2', 0, "tg");
	tb_header(&t, "y", '2', 0, "tg");
	size_t y = tb_file(&t, "y", "later");
	tb_header(&t, "z", '2', 0, "tg");
	tb_header(&t, "z", '2', 0, "../out");
	tb_end(&t);
	is_int(build(&t, &ix), 0, "symlinks and files of one name");
	member_is(&ix, "x", tg, 6, "the later symlink wins over the earlier file");
	member_is(&ix, "y", y, 5, "the later file wins over the earlier symlink");
	ok(tar_index_find(&ix, "z") == NULL, "the later, escaping symlink wins and is refused");
	tar_index_release(&ix);
	free(t.buf);
}

int main(void)
{
	test_basic();
	test_extended();
	test_links_and_duplicates();
	test_symlinks();
	test_hostile();
	test_fd();
	test_empty();
	return done_testing();
}
