/*
 * fuzz_b64: b64url_decode() on arbitrary bytes. Invariants: a decode never
 * writes past its buffer (ASan), and what decodes is canonical: encoding
 * the bytes again gives back exactly the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char out[256];
	char again[B64URL_LEN(sizeof(out)) + 1];
	long n;

	/* An exact-size buffer too, so an overrun by one is caught. */
	unsigned char *tight = malloc(size * 3 / 4 + 1);

	if (tight == NULL)
		return 0;
	n = b64url_decode((const char *)data, size, tight, size * 3 / 4);
	if (n >= 0 && (size_t)n > size * 3 / 4)
		abort();
	free(tight);
	n = b64url_decode((const char *)data, size, out, sizeof(out));
	if (n < 0)
		return 0;
	b64url_encode(out, (size_t)n, again);
	if (strlen(again) != size || memcmp(again, data, size) != 0)
		abort();
	return 0;
}
