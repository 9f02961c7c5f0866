/* Strict JSON: one value, no trailing bytes, no duplicate keys at any
 * depth, no NULs, bounded size and depth. Every buffer is an exact-size
 * heap copy without a terminator, so ASan sees any read past its end. */
#include <stdlib.h>
#include <string.h>
#include <oci/oci.h>
#include "tap.h"

static int parse_n(const char *s, size_t len, cJSON **out, struct oci_error **err)
{
	char *copy = malloc(len ? len : 1);
	memcpy(copy, s, len);
	int r = oci_json_parse(copy, len, out, err);
	free(copy);
	return r;
}

/* status of parsing s (a C string, without its NUL) */
static int parse_status(const char *s)
{
	cJSON *j = NULL;
	struct oci_error *err = NULL;
	int r = parse_n(s, strlen(s), &j, &err);
	if (r == 0) {
		if (err)
			r = 1000; /* success must not leave an error behind */
		cJSON_Delete(j);
	} else if (!err || err->status != r || !err->msg) {
		r = 2000; /* failure must fill err consistently */
	}
	oci_error_free(err);
	return r;
}

static void test_valid(void)
{
	const char *doc = "{\"schemaVersion\":2,\"a\":[1,2,{\"b\":null}],\"s\":\"x\\u00e9\"}";
	cJSON *j = NULL;
	struct oci_error *err = NULL;
	is_int(parse_n(doc, strlen(doc), &j, &err), 0, "valid object parses");
	ok(err == NULL, "no error on success");
	ok(cJSON_IsObject(j), "root is an object");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "schemaVersion");
	ok(cJSON_IsNumber(v) && v->valuedouble == 2, "schemaVersion is 2");
	v = cJSON_GetObjectItemCaseSensitive(j, "s");
	ok(cJSON_IsString(v) && strcmp(v->valuestring, "x\xc3\xa9") == 0, "\\u escape decoded");
	cJSON_Delete(j);

	is_int(parse_status("{}"), 0, "empty object");
	is_int(parse_status("{} \t\r\n"), 0, "trailing whitespace accepted");
	is_int(parse_status(" \n{}"), 0, "leading whitespace accepted");
	is_int(parse_status("[]"), 0, "an array is valid JSON");
	is_int(parse_status("[{\"a\":1},{\"a\":2}]"), 0, "same key in sibling objects is fine");
	is_int(parse_status("{\"a\":{\"a\":{\"a\":1}}}"), 0,
	       "same key at different depths is fine");
	is_int(parse_status("{\"a\":1,\"A\":2}"), 0, "keys differing in case are distinct");
	is_int(parse_status("{\"a\":1,\"ab\":2,\"b\":3}"), 0, "prefix keys are distinct");
}

static void test_trailing(void)
{
	is_int(parse_status("{} x"), OCI_E_INVALID, "{} x refused");
	is_int(parse_status("{}{}"), OCI_E_INVALID, "{}{} refused");
	is_int(parse_status("{}}"), OCI_E_INVALID, "{}} refused");
	is_int(parse_status("{}\v"), OCI_E_INVALID, "vertical tab is not JSON whitespace");
	is_int(parse_status("{}\f"), OCI_E_INVALID, "form feed is not JSON whitespace");
	is_int(parse_status("{} ,"), OCI_E_INVALID, "trailing comma refused");
	is_int(parse_status("[1] [2]"), OCI_E_INVALID, "two arrays refused");
	is_int(parse_status("{\"a\":1}}xyz"), OCI_E_INVALID, "}xyz after a document refused");
}

static void test_duplicates(void)
{
	is_int(parse_status("{\"a\":1,\"a\":2}"), OCI_E_INVALID, "top-level duplicate refused");
	is_int(parse_status("{\"a\":1,\"b\":0,\"a\":1}"), OCI_E_INVALID,
	       "non-adjacent duplicate refused");
	is_int(parse_status("{\"x\":{\"k\":1,\"k\":2}}"), OCI_E_INVALID,
	       "duplicate in nested object refused");
	is_int(parse_status("{\"layers\":[{\"a\":1},{\"digest\":\"x\",\"digest\":\"y\"}]}"),
	       OCI_E_INVALID, "duplicate inside an array of objects refused");
	is_int(parse_status("[[[{\"a\":[{\"q\":1,\"q\":1}]}]]]"), OCI_E_INVALID,
	       "duplicate deep in arrays refused");
	is_int(parse_status("{\"a\":1,\"\\u0061\":2}"), OCI_E_INVALID,
	       "duplicate spelled with a \\u escape refused");
	is_int(parse_status("{\"\":1,\"\":2}"), OCI_E_INVALID, "duplicate empty key refused");

	/* many keys: the check must not be quadratic in a way that matters, and
	 * must still find a duplicate at the end */
	size_t n = 20000;
	char *big = malloc(n * 16 + 64);
	size_t o = 0;
	big[o++] = '{';
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(big + o, 32, "%s\"k%zu\":0", i ? "," : "", i);
	o += (size_t)snprintf(big + o, 32, ",\"k7\":1}");
	cJSON *j = NULL;
	struct oci_error *err = NULL;
	is_int(parse_n(big, o, &j, &err), OCI_E_INVALID, "duplicate among 20000 keys refused");
	oci_error_free(err);
	/* the status must not depend on whether the caller wants the message */
	is_int(parse_n(big, o, &j, NULL), OCI_E_INVALID, "same, with err == NULL");
	is_int(parse_n("{\"a\":1,\"a\":2}", 13, &j, NULL), OCI_E_INVALID,
	       "top-level duplicate with err == NULL is OCI_E_INVALID");
	free(big);
}

static void test_bounds(void)
{
	cJSON *j = NULL;
	struct oci_error *err = NULL;

	is_int(parse_n("", 0, &j, &err), OCI_E_INVALID, "empty document refused");
	ok(err && err->status == OCI_E_INVALID, "error filled for empty");
	oci_error_free(err);
	err = NULL;
	is_int(parse_status("   "), OCI_E_INVALID, "whitespace-only document refused");
	is_int(parse_status("{"), OCI_E_INVALID, "unterminated object refused");
	is_int(parse_status("{\"a\":tru"), OCI_E_INVALID, "truncated literal refused");
	is_int(parse_status("{\"a\":\"x"), OCI_E_INVALID, "truncated string refused");
	is_int(parse_status("{\"a\":\"\\u12"), OCI_E_INVALID, "truncated escape refused");
	is_int(parse_status("{\"a\":1e"), OCI_E_INVALID, "truncated number refused");
	is_int(parse_status("nul"), OCI_E_INVALID, "truncated null refused");

	is_int(parse_n("{}\0", 3, &j, &err), OCI_E_INVALID, "NUL after the document refused");
	oci_error_free(err);
	err = NULL;
	is_int(parse_n("{\"a\":\"x\0y\"}", 11, &j, NULL), OCI_E_INVALID,
	       "NUL inside a string refused");
	is_int(parse_n("\0{}", 3, &j, NULL), OCI_E_INVALID, "leading NUL refused");
	/* an escaped NUL would be cut by cJSON, so two parsers would disagree
	 * on the value ("a\u0000b" read as "a") */
	is_int(parse_status("{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json"
			    "\\u0000evil\"}"),
	       OCI_E_INVALID, "escaped NUL (\\u0000) inside a string value refused");
	is_int(parse_status("{\"a\\u0000b\":1}"), OCI_E_INVALID,
	       "escaped NUL (\\u0000) inside a key refused");
	is_int(parse_status("{\"\\u0000\":1}"), OCI_E_INVALID, "key that is only \\u0000 refused");
	is_int(parse_status("{\"a\":\"\\\\\\u0000\"}"), OCI_E_INVALID,
	       "\\u0000 after an escaped backslash refused");
	is_int(parse_status("{\"a\":\"\\\"\\u0000\"}"), OCI_E_INVALID,
	       "\\u0000 after an escaped quote refused");
	is_int(parse_status("{\"a\":\"x\",\"b\":[\"\\u00000\"]}"), OCI_E_INVALID,
	       "\\u0000 in a later array element refused");
	is_int(parse_status("{\"a\\\\u0000\":1}"), 0,
	       "a backslash then the letters u0000 is not a NUL");
	is_int(parse_status("{\"a\":\"\\u0001\\u0100\\uFFFF\"}"), 0, "other \\u escapes are fine");
	is_int(parse_status("{\"a\":\"\\\\\"}"), 0, "a string ending in an escaped backslash");

	/* size: one byte over the bound is refused before parsing */
	size_t max = OCI_JSON_MAX;
	char *big = malloc(max + 1);
	memset(big, ' ', max + 1);
	big[0] = '{';
	big[1] = '}';
	is_int(oci_json_parse(big, max + 1, &j, &err), OCI_E_LIMIT, "OCI_JSON_MAX + 1 refused");
	ok(err && err->status == OCI_E_LIMIT, "error is OCI_E_LIMIT");
	oci_error_free(err);
	err = NULL;
	/* exactly the bound is fine: {"a":"xxx...x"} */
	char *exact = malloc(max);
	memset(exact, 'x', max);
	memcpy(exact, "{\"a\":\"", 6);
	memcpy(exact + max - 2, "\"}", 2);
	j = NULL;
	is_int(oci_json_parse(exact, max, &j, NULL), 0, "exactly OCI_JSON_MAX bytes accepted");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "a");
	ok(cJSON_IsString(a) && strlen(a->valuestring) == max - 8, "large string intact");
	cJSON_Delete(j);
	free(exact);
	free(big);

	/* depth: 2000 and 100000 levels refused without a crash */
	size_t depths[] = {2000, 100000};
	for (size_t k = 0; k < 2; k++) {
		size_t d = depths[k];
		char *deep = malloc(2 * d);
		memset(deep, '[', d);
		memset(deep + d, ']', d);
		j = NULL;
		int r = oci_json_parse(deep, 2 * d, &j, &err);
		ok(r == OCI_E_INVALID || r == OCI_E_LIMIT, "%zu nested arrays refused (got %d)", d,
		   r);
		ok(err && err->status == r, "error status matches for %zu levels", d);
		oci_error_free(err);
		err = NULL;
		free(deep);
	}
	/* depth: exactly JSON_MAX_DEPTH (256, json.c) levels accepted, 257 refused
	 * as a limit, for arrays and for objects */
	for (size_t d = 256; d <= 257; d++) {
		char *deep = malloc(2 * d + 2);
		memset(deep, '[', d);
		memset(deep + d, ']', d);
		j = NULL;
		int r = oci_json_parse(deep, 2 * d, &j, &err);
		ok(r == (d == 256 ? 0 : OCI_E_LIMIT), "%zu nested arrays: %s (got %d)", d,
		   d == 256 ? "accepted" : "refused with OCI_E_LIMIT", r);
		if (r == 0)
			cJSON_Delete(j);
		oci_error_free(err);
		err = NULL;
		free(deep);
		/* d - 1 objects {"a": around one array [] */
		char *obj = malloc(6 * d + 4);
		size_t o = 0;
		for (size_t i = 0; i + 1 < d; i++) {
			memcpy(obj + o, "{\"a\":", 5);
			o += 5;
		}
		obj[o++] = '[';
		obj[o++] = ']';
		memset(obj + o, '}', d - 1);
		o += d - 1;
		j = NULL;
		r = oci_json_parse(obj, o, &j, NULL);
		ok(r == (d == 256 ? 0 : OCI_E_LIMIT), "%zu levels of objects: %s (got %d)", d,
		   d == 256 ? "accepted" : "refused with OCI_E_LIMIT", r);
		if (r == 0)
			cJSON_Delete(j);
		free(obj);
	}
	/* 2000 nested objects */
	{
		size_t d = 2000;
		char *deep = malloc(6 * d + 1);
		size_t o = 0;
		for (size_t i = 0; i < d; i++) {
			memcpy(deep + o, "{\"a\":", 5);
			o += 5;
		}
		deep[o++] = '1';
		memset(deep + o, '}', d);
		o += d;
		j = NULL;
		int r = oci_json_parse(deep, o, &j, NULL);
		ok(r == OCI_E_INVALID || r == OCI_E_LIMIT, "2000 nested objects refused (got %d)",
		   r);
		free(deep);
	}
	/* modest nesting is fine */
	{
		char s[100];
		memset(s, '[', 32);
		memcpy(s + 32, "{}", 2);
		memset(s + 34, ']', 32);
		s[66] = 0;
		is_int(parse_status(s), 0, "32 levels accepted");
	}
}

/* integers read from their text: exact at the edges, never through a double */
static void test_integers(void)
{
	const char *doc = "{\"u\":18446744073709551615,\"u1\":18446744073709551616,"
			  "\"m\":-9223372036854775808,\"m1\":-9223372036854775809,"
			  "\"big\":1e300,\"f\":1.0,\"lead\":012,\"neg0\":-0,"
			  "\"arr\":[1,[2,{\"k\":\"9\",\"x\":3}],4],\"s\":\"5\","
			  "\"p\":9007199254740993}";
	cJSON *j = NULL;
	if (oci_json_parse(doc, strlen(doc), &j, NULL) < 0) {
		ok(0, "integers document parses");
		return;
	}
	uint64_t u = 0;
	int64_t i = 0;
	ok(oci_json_uint64(cJSON_GetObjectItem(j, "u"), UINT64_MAX, &u) && u == UINT64_MAX,
	   "2^64-1 read exactly");
	ok(!oci_json_uint64(cJSON_GetObjectItem(j, "u1"), UINT64_MAX, &u), "2^64 refused");
	ok(oci_json_int64(cJSON_GetObjectItem(j, "m"), INT64_MIN, INT64_MAX, &i) && i == INT64_MIN,
	   "-2^63 read exactly");
	ok(!oci_json_int64(cJSON_GetObjectItem(j, "m1"), INT64_MIN, INT64_MAX, &i),
	   "-2^63-1 refused");
	ok(!oci_json_int64(cJSON_GetObjectItem(j, "big"), INT64_MIN, INT64_MAX, &i),
	   "1e300 refused");
	ok(!oci_json_int64(cJSON_GetObjectItem(j, "f"), INT64_MIN, INT64_MAX, &i), "1.0 refused");
	ok(!oci_json_uint64(cJSON_GetObjectItem(j, "neg0"), 1, &u) || u == 0, "-0 is zero");
	ok(oci_json_int64(cJSON_GetObjectItem(j, "p"), 0, INT64_MAX, &i) && i == 9007199254740993,
	   "2^53+1 read exactly");
	ok(!oci_json_int64(cJSON_GetObjectItem(j, "s"), 0, 10, &i), "a string is not an integer");
	ok(!oci_json_int64(cJSON_GetObjectItem(j, "u"), 0, 10, &i), "out of bounds refused");
	const cJSON *arr = cJSON_GetObjectItem(j, "arr");
	const cJSON *inner = cJSON_GetArrayItem(arr, 1);
	ok(oci_json_int64(cJSON_GetArrayItem(arr, 0), 0, 10, &i) && i == 1, "array item 0");
	ok(oci_json_int64(cJSON_GetArrayItem(inner, 0), 0, 10, &i) && i == 2, "nested item");
	ok(oci_json_int64(cJSON_GetObjectItem(cJSON_GetArrayItem(inner, 1), "x"), 0, 10, &i) &&
	       i == 3,
	   "number after a string holding digits");
	ok(oci_json_int64(cJSON_GetArrayItem(arr, 2), 0, 10, &i) && i == 4, "item after nesting");
	cJSON_Delete(j);
}

int main(void)
{
	test_integers();
	test_valid();
	test_trailing();
	test_duplicates();
	test_bounds();
	return done_testing();
}
