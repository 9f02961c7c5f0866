/* The tar writer: entries written to memory and read back with libarchive
 * (names of every kind, pax record lengths across a digit boundary, ids
 * and xattrs), and which entries get an extended header at all. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <archive.h>
#include <archive_entry.h>
#include "tar_write.h"
#include "tap.h"

struct mem {
	char *buf;
	size_t len;
};

static int mem_sink(void *arg, const void *buf, size_t len, struct oci_error **err)
{
	(void)err;
	struct mem *m = arg;
	m->buf = realloc(m->buf, m->len + len);
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	return 0;
}

static struct archive_entry *entry(const char *name, mode_t type, int64_t size)
{
	struct archive_entry *ae = archive_entry_new();
	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, type);
	archive_entry_set_perm(ae, 0644);
	archive_entry_set_size(ae, size);
	archive_entry_set_mtime(ae, 1700000000, 0);
	return ae;
}

/* how many pax extended headers the tar holds */
static int count_x(const struct mem *m)
{
	int n = 0;
	for (size_t off = 0; off + 512 <= m->len;) {
		const char *h = m->buf + off;
		if (!h[0])
			break;
		size_t size = strtoull(h + 124, NULL, 8);
		n += h[156] == 'x';
		off += 512 + (size + 511) / 512 * 512;
	}
	return n;
}

/* ustar's split points: name alone a tar of its own; 1 when it took an
 * extended header, 0 when it fit ustar's name (and prefix) fields, -1 when
 * it was not read back as written */
static int split_x(const char *name, mode_t type)
{
	struct mem m = {0};
	struct tar_writer *w = tar_writer_new(mem_sink, &m);
	struct oci_error *err = NULL;
	struct archive_entry *ae = entry(name, type, 0);
	int r = tar_write_header(w, ae, &err) | tar_writer_finish(w, &err);
	archive_entry_free(ae);
	tar_writer_free(w);
	oci_error_free(err);
	int x = r == 0 ? count_x(&m) : -1;
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	archive_read_open_memory(a, m.buf, m.len);
	struct archive_entry *e;
	if (archive_read_next_header(a, &e) != ARCHIVE_OK || !archive_entry_pathname(e) ||
	    strcmp(archive_entry_pathname(e), name) != 0)
		x = -1;
	archive_read_free(a);
	free(m.buf);
	return x;
}

/* n1 bytes of c1; then, when n2, a '/' and n2 bytes of c2; then end */
static const char *path_of(char *out, char c1, size_t n1, char c2, size_t n2, const char *end)
{
	size_t k = 0;
	memset(out, c1, n1);
	k += n1;
	if (n2) {
		out[k++] = '/';
		memset(out + k, c2, n2);
		k += n2;
	}
	snprintf(out + k, 8, "%s", end);
	return out;
}

int main(void)
{
	char longname[300], boundary[200], split[200];
	memset(longname, 'a', 200);
	longname[200] = 0;
	/* "NN path=NAME\n" is len + 7 + digits: a 91-byte name makes 98 + 2
	 * = 100, which has 3 digits, so the record is 101 long: the length
	 * must count its own digits right at the boundary */
	memset(boundary, 'b', 200);
	boundary[0] = (char)0xc3, boundary[1] = (char)0xa9; /* not ASCII: a path record */
	boundary[91] = 0;
	snprintf(split, sizeof(split), "%.*s/%.*s", 80, longname, 80, longname);

	struct mem m = {0};
	struct tar_writer *w = tar_writer_new(mem_sink, &m);
	struct oci_error *err = NULL;
	const char *names[] = {"plain", longname, boundary, split, "bad\xff", "dir/"};
	int r = 0;
	for (size_t i = 0; i < 6; i++) {
		struct archive_entry *ae =
		    entry(names[i], i == 5 ? AE_IFDIR : AE_IFREG, i == 0 ? 5 : 0);
		r |= tar_write_header(w, ae, &err);
		if (i == 0)
			r |= tar_write_data(w, "hello", 5, &err);
		archive_entry_free(ae);
	}
	struct archive_entry *ae = entry("ids", AE_IFREG, 0);
	archive_entry_set_uid(ae, 3000000);
	archive_entry_set_gid(ae, 7);
	archive_entry_xattr_add_entry(ae, "user.k", "v\0w", 3);
	r |= tar_write_header(w, ae, &err);
	archive_entry_free(ae);
	ae = entry("link", AE_IFLNK, 0);
	archive_entry_set_symlink(ae, longname);
	r |= tar_write_header(w, ae, &err);
	archive_entry_free(ae);
	is_int(r, 0, "headers written");
	is_int(tar_write_data(w, "x", 1, &err), OCI_E_IO, "data beyond an entry's size refused");
	oci_error_free(err);
	err = NULL;
	is_int(tar_writer_finish(w, &err), 0, "finished");
	tar_writer_free(w);
	ok(m.len % 512 == 0, "a whole number of blocks");
	ok(m.len >= 1024 && memcmp(m.buf + m.len - 1024, (char[1024]){0}, 1024) == 0,
	   "ends with two zero blocks");
	/* long name, boundary, bad, ids (uid+xattr), link: 5; plain, split, dir: none */
	is_int(count_x(&m), 5, "extended headers only where needed");

	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	archive_read_open_memory(a, m.buf, m.len);
	struct archive_entry *e;
	size_t i = 0;
	int rr;
	/* a name that is not ASCII is a warning in the C locale, as in layer_read.c */
	while ((rr = archive_read_next_header(a, &e)) == ARCHIVE_OK || rr == ARCHIVE_WARN) {
		if (i < 6) {
			ok(archive_entry_pathname(e) &&
			       strcmp(archive_entry_pathname(e), names[i]) == 0,
			   "name %zu read back", i);
		} else if (i == 6) {
			is_int(archive_entry_uid(e), 3000000, "a large uid read back");
			is_int(archive_entry_gid(e), 7, "gid");
			const char *xn;
			const void *xv;
			size_t xl;
			archive_entry_xattr_reset(e);
			ok(archive_entry_xattr_next(e, &xn, &xv, &xl) == ARCHIVE_OK &&
			       strcmp(xn, "user.k") == 0 && xl == 3 && memcmp(xv, "v\0w", 3) == 0,
			   "an xattr with a NUL byte read back");
		} else {
			is_str(archive_entry_symlink(e), longname, "a long link target read back");
		}
		if (i == 0) {
			char buf[8] = {0};
			is_int(archive_read_data(a, buf, sizeof(buf)), 5, "data size");
			is_str(buf, "hello", "data");
		}
		i++;
	}
	is_int(i, 8, "every entry read back");
	archive_read_free(a);
	free(m.buf);

	ae = entry("big", AE_IFREG, 077777777777LL + 1);
	ok(tar_needs_pax(ae), "a size over 11 octal digits needs a header");
	archive_entry_set_size(ae, 077777777777LL);
	ok(!tar_needs_pax(ae), "the largest ustar size does not");
	archive_entry_set_mtime(ae, -1, 0);
	ok(tar_needs_pax(ae), "a negative mtime needs one");
	archive_entry_set_mtime(ae, 1700000000, 999999999);
	ok(!tar_needs_pax(ae), "a sub-second mtime does not (times are whole seconds)");
	archive_entry_free(ae);

	/* the bounds of ustar's fields (tw_split): a name of 100 bytes, a
	 * prefix of 155 cut at a '/', and one byte past each */
	char nm[600];
	is_int(split_x(path_of(nm, 'a', 100, 0, 0, ""), AE_IFREG), 0,
	       "a name of 100 bytes fits ustar");
	is_int(split_x(path_of(nm, 'a', 101, 0, 0, ""), AE_IFREG), 1,
	       "101 bytes, no '/': a header");
	is_int(split_x(path_of(nm, 'p', 155, 'n', 100, ""), AE_IFREG), 0,
	       "a prefix of 155 and a name of 100: ustar");
	is_int(split_x(path_of(nm, 'p', 156, 'n', 100, ""), AE_IFREG), 1,
	       "a prefix of 156: a header");
	is_int(split_x(path_of(nm, 'p', 155, 'n', 101, ""), AE_IFREG), 1,
	       "a name of 101 after the cut: a header");
	is_int(split_x(path_of(nm, 'p', 155, 'n', 99, "/"), AE_IFDIR), 0,
	       "a directory: 155 / 99 and its slash fit");
	is_int(split_x(path_of(nm, 'p', 1, 'n', 100, ""), AE_IFREG), 0, "a prefix of one byte");
	return done_testing();
}
