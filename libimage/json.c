/* Strict JSON: cJSON accepts duplicate keys and stops at the end of the
 * first value; image documents must be refused for both, and for NULs. */
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
	*out = root;
	return 0;
}
