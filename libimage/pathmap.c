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

static struct pathmap_slot *pathmap_find(const struct pathmap *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct pathmap_slot *s = &m->slots[i];
		if (!s->hash || (s->hash == h && strcmp(s->key, key) == 0))
			return s;
	}
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
	cleanup_free char *p = xstrdup(path);
	for (char *s = strrchr(p, '/'); s; s = strrchr(p, '/')) {
		*s = 0;
		if (pathmap_get(m, p))
			return true;
	}
	return false;
}
