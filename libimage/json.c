/* Strict JSON: cJSON accepts duplicate keys and stops at the end of the
 * first value; image documents must be refused for both, and for NULs.
 * Numbers keep their text, so integers are read exactly, never through a
 * double (2^64-1 is not representable as one). */
#include <errno.h>
#include <inttypes.h>
#include "internal.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int json_check_dups_object(const cJSON *node, struct oci_error **err)
{
	size_t n = 0;
	for (const cJSON *c = node->child; c; c = c->next)
		n++;
	if (n < 2)
		return 0;
	cleanup_free const char **names = xmalloc(n * sizeof(*names));
	size_t i = 0;
	for (const cJSON *c = node->child; c; c = c->next)
		names[i++] = c->string ? c->string : "";
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 1; i < n; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			return error_set(err, OCI_E_INVALID, 0, "duplicate key \"%.64s\"",
					 names[i]);
	return 0;
}

/* every object in the tree, with a stack on the heap rather than a call per
 * level (the depth is bounded by JSON_MAX_DEPTH all the same) */
static int json_check_dups(const cJSON *root, struct oci_error **err)
{
	size_t n = 0, cap = 16;
	cleanup_free const cJSON **stack = xmalloc(cap * sizeof(*stack));
	stack[n++] = root;
	while (n > 0) {
		const cJSON *node = stack[--n];
		if (cJSON_IsObject(node)) {
			int r = json_check_dups_object(node, err);
			if (r < 0)
				return r;
		}
		if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
			continue;
		for (const cJSON *c = node->child; c; c = c->next) {
			if (n == cap) {
				cap *= 2;
				stack = xrealloc(stack, cap * sizeof(*stack));
			}
			stack[n++] = c;
		}
	}
	return 0;
}

#define JSON_MAX_DEPTH 256

/* One pass before cJSON: nesting deeper than we accept is reported as
 * such (cJSON calls it a syntax error), and "\u0000" is refused: cJSON
 * turns it into a NUL that silently cuts a string short
 * ("sha256:<hex>\u0000/../x" would read as a valid digest). */
static int json_prescan(const char *buf, size_t len, struct oci_error **err)
{
	bool in_string = false;
	int depth = 0;
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (in_string) {
			if (c == '"') {
				in_string = false;
			} else if (c == '\\' && i + 1 < len) {
				if (buf[i + 1] == 'u' && i + 5 < len &&
				    memcmp(buf + i + 2, "0000", 4) == 0)
					return error_set(err, OCI_E_INVALID, 0,
							 "invalid JSON: escaped NUL at offset %zu",
							 i);
				i++; /* skip the escaped character */
			}
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > JSON_MAX_DEPTH)
				return error_set(err, OCI_E_LIMIT, 0,
						 "JSON nested deeper than %d levels at offset %zu",
						 JSON_MAX_DEPTH, i);
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return 0;
}

/* The next number token at or after *pos, outside strings; its text is
 * copied (cJSON_Delete frees valuestring for every node type). */
static char *json_next_number(const char *buf, size_t len, size_t *pos)
{
	bool in_string = false;
	for (size_t i = *pos; i < len; i++) {
		char c = buf[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			size_t j = i;
			while (j < len && strchr("+-.0123456789eE", buf[j]))
				j++;
			*pos = j;
			return xstrndup(buf + i, j - i);
		}
	}
	*pos = len;
	return NULL;
}

/* Numbers appear in the tree in the order of the text (cJSON keeps
 * document order), so one lexical pass pairs each with its token. The walk
 * is iterative with a stack as deep as the prescan allows nesting. */
static void json_attach_numbers(cJSON *root, const char *buf, size_t len)
{
	cJSON *stack[JSON_MAX_DEPTH + 2];
	size_t depth = 0, pos = 0;
	cJSON *n = root;
	while (n) {
		if (cJSON_IsNumber(n) && !n->valuestring)
			n->valuestring = json_next_number(buf, len, &pos);
		if (n->child && depth < sizeof(stack) / sizeof(stack[0])) {
			stack[depth++] = n;
			n = n->child;
			continue;
		}
		while (!n->next && depth > 0)
			n = stack[--depth];
		n = depth > 0 ? n->next : NULL;
	}
}

int oci_json_parse(const char *buf, size_t len, cJSON **out, struct oci_error **err)
{
	if (len > OCI_JSON_MAX)
		return error_set(err, OCI_E_LIMIT, 0, "JSON document of %zu bytes exceeds %u bytes",
				 len, OCI_JSON_MAX);
	if (len == 0)
		return error_set(err, OCI_E_INVALID, 0, "invalid JSON: empty document");
	if (memchr(buf, 0, len))
		return error_set(err, OCI_E_INVALID, 0, "invalid JSON: NUL byte at offset %zu",
				 (size_t)((const char *)memchr(buf, 0, len) - buf));
	int pr = json_prescan(buf, len, err);
	if (pr < 0)
		return pr;
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (!root) {
		size_t off = end && end >= buf && end <= buf + len ? (size_t)(end - buf) : 0;
		return error_set(err, OCI_E_INVALID, 0,
				 "invalid JSON: syntax error near offset %zu", off);
	}
	for (const char *p = end; p < buf + len; p++) {
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
			cJSON_Delete(root);
			return error_set(err, OCI_E_INVALID, 0,
					 "invalid JSON: trailing data at offset %zu",
					 (size_t)(p - buf));
		}
	}
	int r = json_check_dups(root, err);
	if (r < 0) {
		cJSON_Delete(root);
		return error_wrap(err, "invalid JSON");
	}
	json_attach_numbers(root, buf, len);
	*out = root;
	return 0;
}

/* The integer a number token spells, exactly: digits only (an optional
 * minus), no fraction or exponent, no leading zeros. */
static bool json_token_int(const cJSON *v, bool is_signed, intmax_t *s_out, uintmax_t *u_out)
{
	if (!cJSON_IsNumber(v) || !v->valuestring)
		return false;
	const char *t = v->valuestring;
	const char *d = t[0] == '-' ? t + 1 : t;
	if (!*d || strspn(d, "0123456789") != strlen(d) || (d[0] == '0' && d[1]))
		return false;
	char *end = NULL;
	errno = 0;
	if (is_signed) {
		*s_out = strtoimax(t, &end, 10);
	} else {
		if (t[0] == '-') {
			*u_out = 0;
			return strcmp(t, "-0") == 0;
		}
		*u_out = strtoumax(t, &end, 10);
	}
	return errno == 0 && end && *end == 0;
}

bool oci_json_int64(const cJSON *v, int64_t min, int64_t max, int64_t *out)
{
	intmax_t x;
	if (!json_token_int(v, true, &x, NULL) || x < min || x > max)
		return false;
	*out = (int64_t)x;
	return true;
}

bool oci_json_uint64(const cJSON *v, uint64_t max, uint64_t *out)
{
	uintmax_t x;
	if (!json_token_int(v, false, NULL, &x) || x > max)
		return false;
	*out = (uint64_t)x;
	return true;
}
