/*
 * query: query-string parsing and percent-decoding (see query.h).
 */
#include <string.h>

#include "query.h"
#include "utf8.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
query_decode(struct arena *a, const char *s, size_t n, int plus, enum err *e)
{
	char *out = arena_alloc(a, n + 1);
	size_t i, j = 0;

	if (out == NULL) {
		*e = ERR_INTERNAL;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (n - i < 3) {
				*e = ERR_BAD_QUERY;
				return NULL;
			}
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0) {
				*e = ERR_BAD_QUERY;
				return NULL;
			}
			out[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (plus && s[i] == '+')
			out[j++] = ' ';
		else
			out[j++] = s[i];
	}
	out[j] = '\0';
	if (!utf8_valid(out, j)) {
		*e = ERR_INVALID_UTF8;
		return NULL;
	}
	return out;
}

enum err
query_parse(struct arena *a, const char *raw, struct query *q)
{
	const char *p = raw, *end, *eq;
	enum err e = ERR_OK;

	q->n = 0;
	if (raw == NULL)
		return ERR_OK;
	while (*p != '\0') {
		end = strchr(p, '&');
		if (end == NULL)
			end = p + strlen(p);
		if (end == p) {		/* "a=1&&b=2" or a trailing '&' */
			p = *end ? end + 1 : end;
			continue;
		}
		if (q->n == QUERY_MAX)
			return ERR_BAD_QUERY;
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq == p)
			return ERR_BAD_QUERY;
		if (eq == NULL)
			eq = end;
		char *name = query_decode(a, p, (size_t)(eq - p), 1, &e);
		if (name == NULL)
			return e;
		const char *vs = eq < end ? eq + 1 : end;
		char *value = query_decode(a, vs, (size_t)(end - vs), 1, &e);
		if (value == NULL)
			return e;
		if (name[0] == '\0' || query_get(q, name) != NULL)
			return ERR_BAD_QUERY;
		q->pairs[q->n].name = name;
		q->pairs[q->n].value = value;
		q->n++;
		p = *end ? end + 1 : end;
	}
	return ERR_OK;
}

const char *
query_get(const struct query *q, const char *name)
{
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->pairs[i].name, name) == 0)
			return q->pairs[i].value;
	return NULL;
}
