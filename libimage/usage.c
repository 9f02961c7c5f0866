/* Where an image's bytes go (usage.h): an observer of the merge engine
 * (merge.c) adds up what each layer writes and what goes again before the
 * end, so the numbers follow exactly the tree that unpacking makes. */
#include <oci/usage.h>
#include "merge_int.h"

struct usage_acc {
	struct oci_usage *u;
	size_t cap_waste;
};

static void usage_added(void *arg, size_t li, int64_t size)
{
	struct usage_acc *a = arg;
	a->u->layers[li].added += size;
	a->u->layers[li].files++;
	a->u->total += size;
}

static void usage_dropped(void *arg, const char *path, int64_t size, size_t added_li,
			  size_t removed_li, bool by_whiteout)
{
	struct usage_acc *a = arg;
	struct oci_usage *u = a->u;
	u->layers[added_li].wasted += size;
	u->wasted += size;
	/* one record per dropped inode: bounded by the entries read, as the
	 * merge model itself is */
	if (u->n_waste == a->cap_waste) {
		a->cap_waste = a->cap_waste ? a->cap_waste * 2 : 64;
		u->waste = xrealloc(u->waste, a->cap_waste * sizeof(*u->waste));
	}
	u->waste[u->n_waste++] =
	    (struct oci_usage_waste){xstrdup(path), size, added_li, removed_li, by_whiteout};
}

static void usage_whiteout(void *arg, size_t li, size_t hidden)
{
	struct usage_acc *a = arg;
	a->u->layers[li].whiteouts++;
	a->u->layers[li].hidden += hidden;
}

static int cmp_waste(const void *pa, const void *pb)
{
	const struct oci_usage_waste *a = pa, *b = pb;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	int c = strcmp(a->path, b->path);
	if (c)
		return c;
	if (a->added != b->added)
		return a->added < b->added ? -1 : 1;
	return a->removed < b->removed ? -1 : a->removed > b->removed;
}

/* The history entries that are not empty layers name the layers in order
 * (the image-spec's rule); a history shorter than the layers leaves the
 * rest without one. */
static void usage_history(const struct oci_image *img, struct oci_usage *u)
{
	size_t li = 0;
	for (size_t i = 0; i < u->n_layers; i++)
		u->layers[i].history = -1;
	const cJSON *h = img->config->history;
	if (!cJSON_IsArray(h))
		return;
	long idx = 0;
	for (const cJSON *e = h->child; e && li < u->n_layers; e = e->next, idx++) {
		const cJSON *empty = cJSON_GetObjectItemCaseSensitive(e, "empty_layer");
		if (cJSON_IsTrue(empty))
			continue;
		u->layers[li++].history = idx;
	}
}

int oci_image_usage(const struct oci_image *img, struct oci_usage **out, struct oci_error **err)
{
	struct oci_usage *u = xcalloc(1, sizeof(*u));
	u->n_layers = img->manifest->n_layers;
	u->layers = xcalloc(u->n_layers ? u->n_layers : 1, sizeof(*u->layers));
	struct usage_acc a = {.u = u};
	struct merge_observer o = {usage_added, usage_dropped, usage_whiteout, &a};
	int r = merge_observe(img, &o, err);
	if (r < 0) {
		oci_usage_free(u);
		return r;
	}
	u->effective = u->total - u->wasted;
	usage_history(img, u);
	if (u->n_waste)
		qsort(u->waste, u->n_waste, sizeof(*u->waste), cmp_waste);
	*out = u;
	return 0;
}

void oci_usage_free(struct oci_usage *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n_waste; i++)
		free(u->waste[i].path);
	free(u->waste);
	free(u->layers);
	free(u);
}
