/* A keyed hash for every table whose keys an input chooses (paths, member
 * names, digests): with a key no input can know, no input can pick names
 * that all land in one bucket. */
#ifndef OCI_HASH_H
#define OCI_HASH_H

#include <stddef.h>
#include <stdint.h>
#include "internal.h"

/* SipHash with c compression and d finalization rounds, 16-byte key */
HIDDEN uint64_t hash_siphash(const uint8_t key[16], const void *buf, size_t len, int c, int d);
/* SipHash-1-3 of buf under this process's random key */
HIDDEN uint64_t hash_keyed(const void *buf, size_t len);
HIDDEN uint64_t hash_keyed_str(const char *s);
/* hash_keyed of every prefix s[0..i) where s[i] == sep, in order, into out
 * (room for as many as sep occurs); returns how many. One pass over s: the
 * ancestors of a path 10,000 deep cost its length, not 10,000 times it. */
HIDDEN size_t hash_keyed_prefixes(const char *s, size_t len, char sep, uint64_t *out);

#endif
