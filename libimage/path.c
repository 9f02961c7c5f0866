/* Entry names from layers: cleaned lexically (never above the root) and
 * classified as whiteouts per the image-spec. */
#include "internal.h"

char *oci_path_clean(const char *name)
{
	size_t len = strlen(name);
	char *out = xmalloc(len + 1);
	size_t o = 0;
	const char *p = name;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 1 && p[0] == '.') {
			/* skip */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			/* drop the last component, never above the root */
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	out[o] = 0;
	return out;
}

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

enum oci_whiteout oci_whiteout_parse(const char *path, char **target)
{
	const char *base = strrchr(path, '/');
	size_t dirlen = base ? (size_t)(base - path) : 0;
	base = base ? base + 1 : path;
	if (target)
		*target = NULL;
	if (strncmp(base, WH_PREFIX, 4) != 0)
		return OCI_WHITEOUT_NONE;
	if (strcmp(base, WH_OPAQUE) == 0) {
		if (target)
			*target = xstrndup(path, dirlen);
		return OCI_WHITEOUT_OPAQUE;
	}
	const char *hidden = base + 4;
	if (!*hidden || strcmp(hidden, ".") == 0 || strcmp(hidden, "..") == 0 ||
	    strncmp(hidden, ".wh.", 4) == 0)
		return OCI_WHITEOUT_INVALID;
	if (target)
		*target =
		    dirlen ? xasprintf("%.*s/%s", (int)dirlen, path, hidden) : xstrdup(hidden);
	return OCI_WHITEOUT_FILE;
}
