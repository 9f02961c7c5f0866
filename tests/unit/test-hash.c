/* The keyed hash: SipHash against the paper's SipHash-2-4 test vectors
 * (key 00..0f, message 00..len-1), and the keyed variant being stable
 * within a process. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "hash.h"
#include "tap.h"

int main(void)
{
	uint8_t key[16], msg[64];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	ok(hash_siphash(key, msg, 0, 2, 4) == 0x726fdb47dd0e0e31ull, "SipHash-2-4 of 0 bytes");
	ok(hash_siphash(key, msg, 1, 2, 4) == 0x74f839c593dc67fdull, "SipHash-2-4 of 1 byte");
	ok(hash_siphash(key, msg, 8, 2, 4) == 0x93f5f5799a932462ull, "SipHash-2-4 of 8 bytes");
	ok(hash_siphash(key, msg, 15, 2, 4) == 0xa129ca6149be45e5ull, "SipHash-2-4 of 15 bytes");
	ok(hash_keyed_str("etc/passwd") == hash_keyed("etc/passwd", 10),
	   "the keyed hash is the same for the same bytes");
	ok(hash_keyed_str("etc/passwd") != hash_keyed_str("etc/passwe"),
	   "and differs for a one-bit change");

	/* every prefix before a '/', across block boundaries (8 bytes) */
	const char *path = "a/bc/defghij/klmnopqrstu/v/wxyz0123456789/x";
	uint64_t h[16];
	size_t k = hash_keyed_prefixes(path, strlen(path), '/', h), j = 0;
	bool all = true;
	for (size_t i = 0; path[i]; i++)
		if (path[i] == '/')
			all = all && j < k && h[j++] == hash_keyed(path, i);
	ok(all && j == k && k == 6, "hash_keyed_prefixes: each prefix's hash_keyed (%zu)", k);
	return done_testing();
}
