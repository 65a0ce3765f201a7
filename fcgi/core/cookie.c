/*
 * cookie: Cookie header lookup (see cookie.h).
 */
#include <string.h>

#include "cookie.h"

const char *
cookie_get(struct arena *a, const char *hdr, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = hdr;

	if (hdr == NULL || nlen == 0)
		return NULL;
	while (*p != '\0') {
		const char *end, *eq, *k, *v;
		size_t klen, vlen;

		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL) {
			k = p;
			klen = (size_t)(eq - p);
			while (klen > 0 && (k[klen - 1] == ' ' || k[klen - 1] == '\t'))
				klen--;
			v = eq + 1;
			vlen = (size_t)(end - v);
			while (vlen > 0 && (*v == ' ' || *v == '\t')) {
				v++;
				vlen--;
			}
			while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			if (klen == nlen && memcmp(k, name, nlen) == 0)
				return arena_strndup(a, v, vlen);
		}
		p = end;
	}
	return NULL;
}
