/* Open addressing, power-of-two capacity, no deletion (entries are
 * overwritten instead; a whole map is cleared at once). The keys are names
 * from images, so the hash is keyed (hash.c): with an unkeyed one (FNV-1a
 * before) a layer could pick 150,000 names in one probe run and make every
 * insertion walk all of them. */
#include <sys/mman.h>
#include <unistd.h>
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
	m->keys = NULL;
}

/* Keys are never removed one by one, only all at once: they are packed
 * into blocks, not a malloc each (a 14-byte path took a 32-byte chunk;
 * unpack keeps two maps of every path of the image). */
#define PATHMAP_BLOCK (64u << 10)

struct pathmap_block {
	struct pathmap_block *next;
	size_t used, cap;
	char data[];
};

static char *pathmap_key_dup(struct pathmap *m, const char *key)
{
	size_t n = strlen(key) + 1;
	struct pathmap_block *b = m->keys;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > PATHMAP_BLOCK / 4 ? n : PATHMAP_BLOCK - sizeof(*b);
		struct pathmap_block *nb = xmalloc(sizeof(*nb) + cap);
		nb->used = 0;
		nb->cap = cap;
		if (b && cap == n && b->cap - b->used > 64) {
			/* a long one alone, behind the block still being filled */
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			m->keys = nb;
		}
		b = nb;
	}
	char *o = b->data + b->used;
	memcpy(o, key, n);
	b->used += n;
	return o;
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

/* Old slots already moved give their pages back as the move goes: the
 * old table and the new one (twice its size) are never both resident,
 * which at 200,000 paths was 6 MB of a tool's peak. (Those pages are only
 * read again by free(), which rewrites what it needs.) */
#define PATHMAP_GIVE_BACK (1u << 20)

static void pathmap_give_back(char *from, char *to)
{
	uintptr_t pg = (uintptr_t)getpagesize();
	uintptr_t a = ((uintptr_t)from + pg - 1) & ~(pg - 1), b = (uintptr_t)to & ~(pg - 1);
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

static void pathmap_grow(struct pathmap *m)
{
	struct pathmap old = *m;
	m->cap = old.cap ? old.cap * 2 : 1024;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	bool give = old.cap * sizeof(*old.slots) >= 4 * PATHMAP_GIVE_BACK;
	char *done = (char *)old.slots;
	for (size_t i = 0; i < old.cap; i++) {
		if (old.slots[i].hash)
			*pathmap_find(m, old.slots[i].key, old.slots[i].hash) = old.slots[i];
		if (give && (char *)&old.slots[i + 1] - done >= (ptrdiff_t)PATHMAP_GIVE_BACK) {
			/* from the second page on: free() may look at the first */
			pathmap_give_back(done == (char *)old.slots ? done + 4096 : done,
					  (char *)&old.slots[i + 1]);
			done = (char *)&old.slots[i + 1];
		}
	}
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
		s->key = pathmap_key_dup(m, key);
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
		if (free_val)
			free_val(s->val);
		s->hash = 0;
		s->key = NULL;
		s->val = NULL;
	}
	m->n = 0;
	for (struct pathmap_block *b = m->keys, *nb; b; b = nb) {
		nb = b->next;
		free(b);
	}
	m->keys = NULL;
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
