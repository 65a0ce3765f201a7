/*
 * query: URL query strings and percent-decoding.
 *
 * A query `a=1&b=x%20y` becomes name/value pairs, percent- and plus-decoded,
 * each checked to be valid UTF-8. Malformed escapes, a repeated name, an
 * empty name or more than QUERY_MAX pairs are refused (ERR_BAD_QUERY).
 */
#ifndef CHATD_QUERY_H
#define CHATD_QUERY_H

#include <stddef.h>

#include "arena.h"
#include "err.h"

#define QUERY_MAX 16

struct query_pair {
	const char *name;
	const char *value;
};

struct query {
	struct query_pair pairs[QUERY_MAX];
	size_t n;
};

/*
 * Decodes s[0..n) into a NUL-terminated arena string; `plus` turns '+' into
 * a space (query strings) or keeps it (paths). Returns NULL on a malformed
 * escape, an encoded NUL or invalid UTF-8, setting *e.
 */
char *query_decode(struct arena *, const char *s, size_t n, int plus, enum err *e);

/* Parses a raw query (without '?'); NULL or "" gives no pairs. */
enum err query_parse(struct arena *, const char *raw, struct query *out);

/* The value of `name`, or NULL. */
const char *query_get(const struct query *, const char *name);

#endif
