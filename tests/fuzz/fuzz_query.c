/*
 * fuzz_query: query_parse() and query_decode() on arbitrary bytes. Beyond
 * "no crash, no leak", every accepted result must keep the promises of
 * query.h: at most QUERY_MAX distinct, non-empty names, all text valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "query.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a = {.limit = 1 << 20};
	struct query q;
	enum err e = ERR_OK;
	char *raw, *d;

	/* query_parse takes a C string: the input up to its first NUL. */
	if ((raw = malloc(size + 1)) == NULL)
		return 0;
	memcpy(raw, data, size);
	raw[size] = '\0';

	e = query_parse(&a, raw, &q);
	if (e == ERR_OK) {
		if (q.n > QUERY_MAX)
			abort();
		for (size_t i = 0; i < q.n; i++) {
			const char *n = q.pairs[i].name, *v = q.pairs[i].value;

			if (n[0] == '\0' || !utf8_valid(n, strlen(n)) || !utf8_valid(v, strlen(v)))
				abort();
			if (query_get(&q, n) != v)	/* names are unique */
				abort();
		}
	} else if (e != ERR_BAD_QUERY && e != ERR_INVALID_UTF8 && e != ERR_INTERNAL)
		abort();

	/* query_decode sees every byte, NULs included. */
	for (int plus = 0; plus <= 1; plus++) {
		e = ERR_OK;
		d = query_decode(&a, (const char *)data, size, plus, &e);
		if (d != NULL && (strlen(d) > size || !utf8_valid(d, strlen(d))))
			abort();
		if (d == NULL && e == ERR_OK)
			abort();
	}

	free(raw);
	arena_free(&a);
	return 0;
}
