/* SipHash (Aumasson and Bernstein), written from the paper's description,
 * under a key drawn from getrandom() once per process. SipHash-1-3 is the
 * variant Rust's and Python's tables settled on: fast on short keys, and
 * its output reveals nothing usable about the key. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/random.h>
#include <time.h>
#include "hash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t hash_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline void hash_sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

static void hash_sip_init(uint64_t v[4], const uint8_t key[16])
{
	uint64_t k0 = hash_le64(key), k1 = hash_le64(key + 8);
	v[0] = k0 ^ 0x736f6d6570736575ull;
	v[1] = k1 ^ 0x646f72616e646f6dull;
	v[2] = k0 ^ 0x6c7967656e657261ull;
	v[3] = k1 ^ 0x7465646279746573ull;
}

static void hash_sip_block(uint64_t v[4], uint64_t m, int c)
{
	v[3] ^= m;
	for (int r = 0; r < c; r++)
		hash_sipround(v);
	v[0] ^= m;
}

/* the last block (the len & 7 bytes at tail, and the length in the top
 * byte) and the finalization, on a copy of the state */
static uint64_t hash_sip_final(const uint64_t state[4], const uint8_t *tail, size_t len, int c,
			       int d)
{
	uint64_t v[4] = {state[0], state[1], state[2], state[3]};
	uint64_t b = (uint64_t)len << 56;
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)tail[i] << (8 * i);
	hash_sip_block(v, b, c);
	v[2] ^= 0xff;
	for (int r = 0; r < d; r++)
		hash_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint64_t hash_siphash(const uint8_t key[16], const void *buf, size_t len, int c, int d)
{
	const uint8_t *p = buf;
	uint64_t v[4];
	hash_sip_init(v, key);
	size_t whole = len & ~(size_t)7;
	for (size_t i = 0; i < whole; i += 8)
		hash_sip_block(v, hash_le64(p + i), c);
	return hash_sip_final(v, p + whole, len, c, d);
}

static uint8_t hash_key[16];
static pthread_once_t hash_key_once = PTHREAD_ONCE_INIT;

static void hash_key_init(void)
{
	size_t have = 0;
	while (have < sizeof(hash_key)) {
		ssize_t n = getrandom(hash_key + have, sizeof(hash_key) - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	if (have == sizeof(hash_key))
		return;
	/* no getrandom (old kernel, seccomp): urandom, and failing that the
	 * clock and addresses, which at least differ between runs */
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		ssize_t n = read_full(fd, hash_key, sizeof(hash_key));
		close(fd);
		if (n == (ssize_t)sizeof(hash_key))
			return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t seed[2] = {(uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
				(uint64_t)(uintptr_t)&ts,
			    (uint64_t)getpid() ^ (uint64_t)(uintptr_t)&hash_key_init};
	memcpy(hash_key, seed, sizeof(hash_key));
}

uint64_t hash_keyed(const void *buf, size_t len)
{
	pthread_once(&hash_key_once, hash_key_init);
	return hash_siphash(hash_key, buf, len, 1, 3);
}

uint64_t hash_keyed_str(const char *s)
{
	return hash_keyed(s, strlen(s));
}

size_t hash_keyed_prefixes(const char *s, size_t len, char sep, uint64_t *out)
{
	pthread_once(&hash_key_once, hash_key_init);
	const uint8_t *p = (const uint8_t *)s;
	uint64_t v[4];
	hash_sip_init(v, hash_key);
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		/* v has taken the i / 8 whole blocks before i */
		if (p[i] == (uint8_t)sep)
			out[k++] = hash_sip_final(v, p + (i & ~(size_t)7), i, 1, 3);
		if ((i & 7) == 7)
			hash_sip_block(v, hash_le64(p + i - 7), 1);
	}
	return k;
}
