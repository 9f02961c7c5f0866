/* What every fuzz target shares: a check that stops the run (libFuzzer
 * saves the input) when an invariant of the library does not hold. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A failed call must fill err consistently: its status, and a message. */
#define CHECK_ERR(r, err)                                                                          \
	do {                                                                                       \
		CHECK((err) != NULL);                                                              \
		CHECK((err)->status == (r));                                                       \
		CHECK((err)->msg != NULL);                                                         \
	} while (0)

/* The input as a C string (cut at its first NUL, as a C caller would see it). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
