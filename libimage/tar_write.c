/* The tar writer of every layer and stream we produce. An entry is a plain
 * ustar header unless it cannot be one: a pax extended header is added only
 * for a name or link target that is not ASCII or does not fit the ustar
 * fields, an id, size, time or device number out of the ustar range, and
 * xattrs. Never hdrcharset (GNU tar warns about it on every entry): name
 * records hold the name's bytes as they are, as Go's archive/tar (umoci,
 * skopeo, containerd) writes and reads them. Times are whole seconds, so a
 * sub-second mtime never needs a header and the bytes do not depend on the
 * file system's time resolution. libarchive's pax writer cannot do this: it
 * gives every entry a header once names are bytes, and depends on the locale
 * otherwise. */
#include <errno.h>
#include <sys/stat.h>
#include "tar_write.h"

#define TW_BLOCK    512
#define TW_BUF	    (64u << 10)
#define TW_ID_MAX   07777777LL	   /* 7 octal digits: uid, gid, device numbers */
#define TW_SIZE_MAX 077777777777LL /* 11 octal digits: size and mtime */
#define TW_PAX_MAX  (64u << 20)	   /* a bound on one entry's extended header */

struct tar_writer {
	tar_sink_fn sink;
	void *arg;
	unsigned char *buf;
	size_t used;
	int64_t left; /* data still owed by the current entry */
	int64_t pad;  /* zeros after it */
};

struct tar_writer *tar_writer_new(tar_sink_fn sink, void *arg)
{
	struct tar_writer *w = xcalloc(1, sizeof(*w));
	w->sink = sink;
	w->arg = arg;
	w->buf = xmalloc(TW_BUF);
	return w;
}

void tar_writer_free(struct tar_writer *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w);
}

static int tw_flush(struct tar_writer *w, struct oci_error **err)
{
	int r = w->used ? w->sink(w->arg, w->buf, w->used, err) : 0;
	w->used = 0;
	return r;
}

static int tw_put(struct tar_writer *w, const void *p, size_t len, struct oci_error **err)
{
	const unsigned char *s = p;
	while (len > 0) {
		if (w->used == TW_BUF) {
			int r = tw_flush(w, err);
			if (r < 0)
				return r;
		}
		size_t n = TW_BUF - w->used < len ? TW_BUF - w->used : len;
		if (s)
			memcpy(w->buf + w->used, s, n);
		else
			memset(w->buf + w->used, 0, n);
		w->used += n;
		len -= n;
		if (s)
			s += n;
	}
	return 0;
}

static bool tw_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* where a name is cut into ustar's prefix and name fields: 0 when it fits
 * the name field, -1 when it cannot be cut (Go's splitUSTARPath) */
static ssize_t tw_split(const char *name)
{
	size_t len = strlen(name);
	if (len <= 100)
		return 0;
	size_t scan = len;
	if (scan > 156)
		scan = 156;
	else if (name[scan - 1] == '/')
		scan--;
	ssize_t i = -1;
	for (size_t k = 0; k < scan; k++)
		if (name[k] == '/')
			i = (ssize_t)k;
	if (i <= 0 || len - (size_t)i - 1 > 100 || len - (size_t)i - 1 == 0 || i > 155)
		return -1;
	return i;
}

static void tw_octal(char *field, size_t width, int64_t v)
{
	/* width-1 digits and a NUL, as GNU tar and Go write them */
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%0*llo", (int)(width - 1), (unsigned long long)v);
	memcpy(field, tmp, width - 1);
	field[width - 1] = 0;
}

struct pax {
	char *s;
	size_t len, cap;
};

static void pax_add(struct pax *p, const char *key, const char *val, size_t vlen)
{
	size_t body = strlen(key) + vlen + 3; /* ' ', '=', '\n' */
	size_t digits = 1;
	for (size_t t = body; t >= 10; t /= 10)
		digits++;
	size_t total = body + digits;
	size_t d2 = 1;
	for (size_t t = total; t >= 10; t /= 10)
		d2++;
	if (d2 > digits)
		total++;
	if (p->len + total + 1 > p->cap) {
		p->cap = (p->len + total + 1) * 2;
		p->s = xrealloc(p->s, p->cap);
	}
	int n = snprintf(p->s + p->len, p->cap - p->len, "%zu %s=", total, key);
	memcpy(p->s + p->len + (size_t)n, val, vlen);
	p->s[p->len + (size_t)n + vlen] = '\n';
	p->len += total;
}

static void pax_add_int(struct pax *p, const char *key, int64_t v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%lld", (long long)v);
	pax_add(p, key, num, (size_t)n);
}

/* the pax records this entry needs, in a fixed order (empty: none) */
static void tw_pax_records(struct archive_entry *ae, struct pax *p)
{
	const char *name = archive_entry_pathname(ae);
	if (!name)
		name = "";
	if (!tw_ascii(name) || tw_split(name) < 0)
		pax_add(p, "path", name, strlen(name));
	const char *link = archive_entry_hardlink(ae);
	if (!link)
		link = archive_entry_symlink(ae);
	if (link && (!tw_ascii(link) || strlen(link) > 100))
		pax_add(p, "linkpath", link, strlen(link));
	int64_t uid = archive_entry_uid(ae), gid = archive_entry_gid(ae);
	if (uid < 0 || uid > TW_ID_MAX)
		pax_add_int(p, "uid", uid);
	if (gid < 0 || gid > TW_ID_MAX)
		pax_add_int(p, "gid", gid);
	int64_t size = archive_entry_size(ae);
	if (size > TW_SIZE_MAX)
		pax_add_int(p, "size", size);
	int64_t mtime = archive_entry_mtime(ae);
	if (mtime < 0 || mtime > TW_SIZE_MAX)
		pax_add_int(p, "mtime", mtime);
	mode_t type = archive_entry_filetype(ae);
	if (type == AE_IFCHR || type == AE_IFBLK) {
		if ((int64_t)archive_entry_rdevmajor(ae) > TW_ID_MAX)
			pax_add_int(p, "SCHILY.devmajor", (int64_t)archive_entry_rdevmajor(ae));
		if ((int64_t)archive_entry_rdevminor(ae) > TW_ID_MAX)
			pax_add_int(p, "SCHILY.devminor", (int64_t)archive_entry_rdevminor(ae));
	}
	const char *xn;
	const void *xv;
	size_t xl;
	archive_entry_xattr_reset(ae);
	while (archive_entry_xattr_next(ae, &xn, &xv, &xl) == ARCHIVE_OK) {
		cleanup_free char *key = xasprintf("SCHILY.xattr.%s", xn);
		pax_add(p, key, xv ? xv : "", xv ? xl : 0);
	}
}

bool tar_needs_pax(struct archive_entry *ae)
{
	struct pax p = {0};
	tw_pax_records(ae, &p);
	free(p.s);
	return p.len > 0;
}

static char tw_typeflag(struct archive_entry *ae)
{
	if (archive_entry_hardlink(ae))
		return '1';
	switch (archive_entry_filetype(ae)) {
	case AE_IFLNK:
		return '2';
	case AE_IFCHR:
		return '3';
	case AE_IFBLK:
		return '4';
	case AE_IFDIR:
		return '5';
	case AE_IFIFO:
		return '6';
	default:
		return '0';
	}
}

/* A name as ustar fields can hold it: an ASCII stand-in, cut to fit, for a
 * name that its pax record carries whole. */
static void tw_fill_name(char *hdr, const char *name)
{
	ssize_t cut = tw_ascii(name) ? tw_split(name) : -1;
	if (cut > 0) {
		memcpy(hdr + 345, name, (size_t)cut);
		memcpy(hdr, name + cut + 1, strlen(name) - (size_t)cut - 1);
		return;
	}
	size_t j = 0;
	for (const char *s = name; *s && j < 100; s++)
		if ((unsigned char)*s < 0x80)
			hdr[j++] = *s;
}

static void tw_header(char *hdr, const char *name, const char *link, char type, mode_t mode,
		      int64_t uid, int64_t gid, int64_t size, int64_t mtime, int64_t major,
		      int64_t minor)
{
	memset(hdr, 0, TW_BLOCK);
	tw_fill_name(hdr, name);
	tw_octal(hdr + 100, 8, mode & 07777);
	tw_octal(hdr + 108, 8, uid >= 0 && uid <= TW_ID_MAX ? uid : 0);
	tw_octal(hdr + 116, 8, gid >= 0 && gid <= TW_ID_MAX ? gid : 0);
	tw_octal(hdr + 124, 12, size <= TW_SIZE_MAX ? size : 0);
	tw_octal(hdr + 136, 12, mtime >= 0 && mtime <= TW_SIZE_MAX ? mtime : 0);
	hdr[156] = type;
	if (link) {
		size_t j = 0;
		for (const char *s = link; *s && j < 100; s++)
			if ((unsigned char)*s < 0x80)
				hdr[157 + j++] = *s;
	}
	memcpy(hdr + 257, "ustar", 6);
	memcpy(hdr + 263, "00", 2);
	if (type == '3' || type == '4') {
		tw_octal(hdr + 329, 8, major <= TW_ID_MAX ? major : 0);
		tw_octal(hdr + 337, 8, minor <= TW_ID_MAX ? minor : 0);
	}
	memset(hdr + 148, ' ', 8);
	unsigned sum = 0;
	for (size_t i = 0; i < TW_BLOCK; i++)
		sum += (unsigned char)hdr[i];
	char tmp[16];
	snprintf(tmp, sizeof(tmp), "%06o", sum);
	memcpy(hdr + 148, tmp, 6);
	hdr[154] = 0;
	hdr[155] = ' ';
}

static int tw_end_entry(struct tar_writer *w, const char *what, struct oci_error **err)
{
	if (w->left > 0)
		return error_set(err, OCI_E_IO, 0, "tar: %lld bytes of data missing before %s",
				 (long long)w->left, what);
	int r = tw_put(w, NULL, (size_t)w->pad, err);
	w->pad = 0;
	return r;
}

int tar_write_header(struct tar_writer *w, struct archive_entry *ae, struct oci_error **err)
{
	const char *name = archive_entry_pathname(ae);
	if (!name || !*name)
		return error_set(err, OCI_E_INVALID, 0, "tar: an entry without a name");
	int r = tw_end_entry(w, name, err);
	if (r < 0)
		return r;
	char type = tw_typeflag(ae);
	int64_t size = type == '0' ? archive_entry_size(ae) : 0;
	if (size < 0)
		return error_set(err, OCI_E_INVALID, 0, "tar: \"%s\": negative size", name);
	struct pax p = {0};
	tw_pax_records(ae, &p);
	char hdr[TW_BLOCK];
	if (p.len > TW_PAX_MAX) {
		free(p.s);
		return error_set(err, OCI_E_LIMIT, 0, "tar: \"%s\": extended header over %u bytes",
				 name, TW_PAX_MAX);
	}
	if (p.len) {
		/* named like Go's, so that the bytes are the same on every host */
		const char *base = strrchr(name, '/');
		base = base && base[1] ? base + 1 : name;
		cleanup_free char *pname = xasprintf("PaxHeaders.0/%s", base);
		size_t pl = strlen(pname);
		if (pl && pname[pl - 1] == '/')
			pname[pl - 1] = 0;
		if (strlen(pname) > 100 || !tw_ascii(pname)) {
			free(pname);
			pname = xstrdup("PaxHeaders.0/entry");
		}
		tw_header(hdr, pname, NULL, 'x', 0644, 0, 0, (int64_t)p.len, 0, 0, 0);
		size_t padn = (TW_BLOCK - p.len % TW_BLOCK) % TW_BLOCK;
		if ((r = tw_put(w, hdr, TW_BLOCK, err)) < 0 ||
		    (r = tw_put(w, p.s, p.len, err)) < 0 || (r = tw_put(w, NULL, padn, err)) < 0) {
			free(p.s);
			return r;
		}
	}
	free(p.s);
	const char *link = archive_entry_hardlink(ae);
	if (!link && type == '2')
		link = archive_entry_symlink(ae);
	tw_header(hdr, name, link, type, archive_entry_mode(ae), archive_entry_uid(ae),
		  archive_entry_gid(ae), size, archive_entry_mtime(ae),
		  (int64_t)archive_entry_rdevmajor(ae), (int64_t)archive_entry_rdevminor(ae));
	if ((r = tw_put(w, hdr, TW_BLOCK, err)) < 0)
		return r;
	w->left = size;
	w->pad = (TW_BLOCK - size % TW_BLOCK) % TW_BLOCK;
	return 0;
}

int tar_writer_flush(struct tar_writer *w, struct oci_error **err)
{
	return tw_flush(w, err);
}

int tar_write_data(struct tar_writer *w, const void *buf, size_t len, struct oci_error **err)
{
	if ((int64_t)len > w->left)
		return error_set(err, OCI_E_IO, 0, "tar: %zu bytes of data beyond the entry's size",
				 len - (size_t)w->left);
	w->left -= (int64_t)len;
	return tw_put(w, buf, len, err);
}

int tar_writer_finish(struct tar_writer *w, struct oci_error **err)
{
	int r = tw_end_entry(w, "the end of the archive", err);
	if (r == 0)
		r = tw_put(w, NULL, 2 * TW_BLOCK, err);
	if (r == 0)
		r = tw_flush(w, err);
	return r;
}
