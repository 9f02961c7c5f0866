/* Open addressing, power-of-two capacity, no deletion (entries are
 * overwritten instead; a whole map is cleared at once). The keys are names
 * from images, so the hash is keyed (hash.c): with an unkeyed one (FNV-1a
 * before) a layer could pick 150,000 names in one probe run and make every
 * insertion walk all of them. */
#include "hash.h"
#include "pathmap.h"

static uint64_t pathmap_hash(const char *s)
{
	return hash_keyed_str(s) | 1; /* 0 marks an empty slot */
}

void pathmap_init(struct pathmap *m)
{
	m->cap = 0;
	m->n = 0;
	m->slots = NULL;
}

/* the slot of key[0..len), or the empty slot where it would go */
static struct pathmap_slot *pathmap_find_n(const struct pathmap *m, const char *key, size_t len,
					   uint64_t h)
{
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct pathmap_slot *s = &m->slots[i];
		if (!s->hash ||
		    (s->hash == h && strncmp(s->key, key, len) == 0 && s->key[len] == 0))
			return s;
	}
}

static struct pathmap_slot *pathmap_find(const struct pathmap *m, const char *key, uint64_t h)
{
	return pathmap_find_n(m, key, strlen(key), h);
}

static void pathmap_grow(struct pathmap *m)
{
	struct pathmap old = *m;
	m->cap = old.cap ? old.cap * 2 : 1024;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].hash)
			*pathmap_find(m, old.slots[i].key, old.slots[i].hash) = old.slots[i];
	free(old.slots);
}

void **pathmap_put(struct pathmap *m, const char *key)
{
	if ((m->n + 1) * 4 > m->cap * 3)
		pathmap_grow(m);
	uint64_t h = pathmap_hash(key);
	struct pathmap_slot *s = pathmap_find(m, key, h);
	if (!s->hash) {
		s->hash = h;
		s->key = xstrdup(key);
		s->val = NULL;
		m->n++;
	}
	return &s->val;
}

void *pathmap_get(const struct pathmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	struct pathmap_slot *s = pathmap_find(m, key, pathmap_hash(key));
	return s->hash ? s->val : NULL;
}

void pathmap_clear(struct pathmap *m, void (*free_val)(void *))
{
	for (size_t i = 0; i < m->cap; i++) {
		struct pathmap_slot *s = &m->slots[i];
		if (!s->hash)
			continue;
		free(s->key);
		if (free_val)
			free_val(s->val);
		s->hash = 0;
		s->key = NULL;
		s->val = NULL;
	}
	m->n = 0;
}

void pathmap_release(struct pathmap *m, void (*free_val)(void *))
{
	pathmap_clear(m, free_val);
	free(m->slots);
	pathmap_init(m);
}

bool pathmap_has_ancestor(const struct pathmap *m, const char *path)
{
	if (m->n == 0)
		return false;
	/* every ancestor's hash from one pass over path (hash_keyed_prefixes),
	 * then one probe each: linear in the path's length, whatever its depth */
	size_t len = strlen(path), k = 0;
	for (size_t i = 0; i < len; i++)
		k += path[i] == '/';
	if (k == 0)
		return false;
	uint64_t small[64];
	uint64_t *h = k <= 64 ? small : xmalloc(k * sizeof(*h));
	hash_keyed_prefixes(path, len, '/', h);
	bool found = false;
	for (size_t i = len, j = k; j-- > 0 && !found;) {
		while (path[--i] != '/')
			;
		struct pathmap_slot *s = pathmap_find_n(m, path, i, h[j] | 1);
		found = s->hash && s->val;
	}
	if (h != small)
		free(h);
	return found;
}
