/* oci-inspect --history: how an image was built, from its config's history
 * (config.md), each step beside the layer it made. */
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "inspect.h"

static const char *hist_string(const cJSON *h, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(h, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool hist_empty(const cJSON *h)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "empty_layer"));
}

/* untrusted text on one table cell: no control characters (C0, DEL, C1),
 * no newlines; "-" for none */
static void put_cell(const char *s)
{
	if (!s || !*s)
		fputs("-", stdout);
	else
		tool_put_escaped(stdout, s);
}

static cJSON *json_string_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static int history_json(const struct oci_image *img)
{
	const struct oci_manifest *m = img->manifest;
	cJSON *root = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(root, "history");
	size_t layer = 0;
	const cJSON *h;
	cJSON_ArrayForEach (h, img->config->history) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "created", json_string_or_null(hist_string(h, "created")));
		cJSON_AddItemToObject(o, "createdBy",
				      json_string_or_null(hist_string(h, "created_by")));
		cJSON_AddItemToObject(o, "author", json_string_or_null(hist_string(h, "author")));
		cJSON_AddItemToObject(o, "comment", json_string_or_null(hist_string(h, "comment")));
		bool empty = hist_empty(h);
		cJSON_AddBoolToObject(o, "emptyLayer", empty);
		if (!empty && layer < m->n_layers) {
			const struct oci_descriptor *d = &m->layers[layer];
			cJSON *l = cJSON_AddObjectToObject(o, "layer");
			tool_json_int(l, "index", (int64_t)(layer + 1));
			cJSON_AddStringToObject(l, "mediaType", d->media_type);
			cJSON_AddStringToObject(l, "digest", d->digest.str);
			tool_json_int(l, "size", (int64_t)d->size);
		} else {
			cJSON_AddNullToObject(o, "layer");
		}
		layer += !empty;
		cJSON_AddItemToArray(arr, o);
	}
	cJSON *t = cJSON_AddObjectToObject(root, "totals");
	tool_json_int(t, "entries", (int64_t)cJSON_GetArraySize(arr));
	tool_json_int(t, "layers", (int64_t)m->n_layers);
	char *s = cJSON_Print(root);
	puts(s);
	free(s);
	cJSON_Delete(root);
	return tool_flush_stdout();
}

static int history_table(const struct oci_image *img)
{
	const struct oci_manifest *m = img->manifest;
	printf("%-20s  %-5s  %10s  %s  %s\n", "CREATED", "LAYER", "SIZE", "CREATED BY", "COMMENT");
	size_t layer = 0;
	const cJSON *h;
	cJSON_ArrayForEach (h, img->config->history) {
		const char *created = hist_string(h, "created");
		char when[21];
		/* the seconds are enough for a table; --json has the whole */
		snprintf(when, sizeof(when), "%.20s", created && *created ? created : "-");
		for (char *p = when; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		char num[24], size[32];
		if (hist_empty(h)) {
			snprintf(num, sizeof(num), "-");
			snprintf(size, sizeof(size), "(empty)");
		} else if (layer < m->n_layers) {
			snprintf(num, sizeof(num), "%zu", layer + 1);
			tool_human_size(m->layers[layer].size, size, sizeof(size));
		} else {
			/* more history than layers: the config contradicts the
			 * manifest; show it rather than guess */
			snprintf(num, sizeof(num), "?");
			snprintf(size, sizeof(size), "(no layer)");
		}
		layer += !hist_empty(h);
		printf("%-20s  %-5s  %10s  ", when, num, size);
		put_cell(hist_string(h, "created_by"));
		fputs("  ", stdout);
		put_cell(hist_string(h, "comment"));
		putchar('\n');
	}
	if (layer < m->n_layers)
		tool_note("%zu layer%s without a history entry", m->n_layers - layer,
			  m->n_layers - layer == 1 ? "" : "s");
	return tool_flush_stdout();
}

int inspect_history(const struct oci_image *img, bool json)
{
	return json ? history_json(img) : history_table(img);
}
