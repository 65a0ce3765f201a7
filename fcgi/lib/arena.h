/*
 * arena: a per-request bump allocator.
 *
 * Everything a request parses (strings, arrays) is allocated here and freed at
 * once when the request ends, so handlers never free and never leak. The first
 * chunk is kept between requests; larger ones are returned to malloc.
 */
#ifndef CHATD_ARENA_H
#define CHATD_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
	size_t limit;		/* total bytes allowed; 0 = no limit */
	size_t used;
};

/* Returns zeroed memory aligned for any type, or NULL when out of memory or over the limit. */
void *arena_alloc(struct arena *, size_t);
/* A NUL-terminated copy of s[0..n), or NULL. */
char *arena_strndup(struct arena *, const char *s, size_t n);
char *arena_strdup(struct arena *, const char *s);
/* Frees everything but the first chunk. */
void arena_reset(struct arena *);
/* Frees everything. */
void arena_free(struct arena *);

#endif
