/* What every part of the runtime uses and that uses nothing of it: the
 * JSON accessors of config.json (a wrong type is an error naming the
 * key), string lists, path cleaning, and warnings. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "runtime.h"

/* ---- JSON helpers ---- */

int rt_json_string(const cJSON *o, const char *key, bool required, char **out,
		   struct oci_error **err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v)) {
		if (required)
			return error_set(err, OCI_E_INVALID, 0, "%s: missing", key);
		return 0;
	}
	if (!cJSON_IsString(v))
		return error_set(err, OCI_E_INVALID, 0, "%s: not a string", key);
	*out = xstrdup(v->valuestring);
	return 0;
}

int rt_json_strings(const cJSON *o, const char *key, char ***out, struct oci_error **err)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
	*out = NULL;
	if (!a || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a))
		return error_set(err, OCI_E_INVALID, 0, "%s: not an array", key);
	size_t n = (size_t)cJSON_GetArraySize(a), i = 0;
	char **v = xcalloc(n + 1, sizeof(char *));
	const cJSON *s;
	cJSON_ArrayForEach (s, a) {
		if (!cJSON_IsString(s)) {
			rt_strv_free(v);
			return error_set(err, OCI_E_INVALID, 0, "%s[%zu]: not a string", key, i);
		}
		v[i++] = xstrdup(s->valuestring);
	}
	*out = v;
	return 0;
}

int rt_json_u32(const cJSON *o, const char *key, bool required, uint32_t *out,
		struct oci_error **err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v) {
		if (required)
			return error_set(err, OCI_E_INVALID, 0, "%s: missing", key);
		return 0;
	}
	/* exactly from the number's text: a double would accept 1000.0 or
	 * 4294967295.00000001 and round them */
	uint64_t x;
	if (!oci_json_uint64(v, UINT32_MAX, &x))
		return error_set(err, OCI_E_INVALID, 0, "%s: not an integer in 0..4294967295", key);
	*out = (uint32_t)x;
	return 0;
}

int rt_json_bool(const cJSON *o, const char *key, bool *out, struct oci_error **err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		return error_set(err, OCI_E_INVALID, 0, "%s: not a boolean", key);
	*out = cJSON_IsTrue(v);
	return 0;
}

void rt_strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

char *rt_clean_path(const char *p)
{
	size_t n = strlen(p);
	char *out = xmalloc(n + 1);
	size_t o = 0;
	while (*p) {
		while (*p == '/')
			p++;
		size_t l = strcspn(p, "/");
		if (l == 0)
			break;
		if (!(l == 1 && p[0] == '.')) {
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, l);
			o += l;
		}
		p += l;
	}
	out[o] = 0;
	return out;
}

static void (*rt_warn_fn)(const char *msg);

void oci_runtime_set_warn(void (*fn)(const char *msg))
{
	rt_warn_fn = fn;
}

void rt_warn(const char *fmt, ...)
{
	if (!rt_warn_fn)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *s;
	if (vasprintf(&s, fmt, ap) >= 0) {
		rt_warn_fn(s);
		free(s);
	}
	va_end(ap);
}
