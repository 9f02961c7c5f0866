/* A hash map from paths to small records, for what unpack remembers about
 * each entry while it writes (and which paths the current layer made). */
#ifndef OCI_PATHMAP_H
#define OCI_PATHMAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "internal.h"

struct pathmap {
	struct pathmap_slot *slots;
	size_t cap, n;
	struct pathmap_block *keys; /* the keys' bytes, 64 KiB at a time (no deletion) */
};

struct pathmap_slot {
	char *key;
	uint64_t hash;
	void *val;
};

HIDDEN void pathmap_init(struct pathmap *m);
/* returns the slot's value pointer location: *pathmap_put(...) = v */
HIDDEN void **pathmap_put(struct pathmap *m, const char *key);
HIDDEN void *pathmap_get(const struct pathmap *m, const char *key);
/* is a strict ancestor directory of path ("a" for "a/b/c") a key? */
HIDDEN bool pathmap_has_ancestor(const struct pathmap *m, const char *path);
/* free keys; values with free_val when not NULL */
HIDDEN void pathmap_release(struct pathmap *m, void (*free_val)(void *));
HIDDEN void pathmap_clear(struct pathmap *m, void (*free_val)(void *));

#endif
