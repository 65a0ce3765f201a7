/*
 * fuzz_tmpl: tmpl_add() on arbitrary template text, then tmpl_render() with
 * values taken from the input. The input is "template\0value\0value...".
 * Invariant: values are escaped, so every '<', '>', '"' and '\'' of the
 * output comes from the template itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
count(const char *s, size_t n, char c)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"a", "b", "title", "x_1"};
	struct tmpl_var vars[4];
	struct tmpl_set set = {0};
	struct buf out = {0};
	const char *text = (const char *)data, *end = text + size, *v;
	size_t tlen = strnlen(text, size), nvars = 0;

	/* The values: NUL-separated strings after the template. */
	for (v = text + tlen; v < end && nvars < 4; v += strlen(v)) {
		v++;
		if (v >= end || memchr(v, '\0', (size_t)(end - v)) == NULL)
			break;
		vars[nvars].name = names[nvars];
		vars[nvars].value = v;
		nvars++;
	}

	/* Every value escaped: none of the specials survives, '&' only as an entity. */
	for (size_t i = 0; i < nvars; i++) {
		buf_reset(&out);
		tmpl_escape(&out, vars[i].value);
		if (out.len > 0 && strpbrk(out.p, "<>\"'") != NULL)
			abort();
	}

	if (tmpl_add(&set, "t", text, tlen) == 0) {
		const struct tmpl *t = tmpl_get(&set, "t");

		if (t == NULL || t->len != tlen)
			abort();
		buf_reset(&out);
		if (tmpl_render(t, vars, nvars, &out) == 0) {
			const char *o = out.p ? out.p : "";

			if (count(o, out.len, '<') != count(text, tlen, '<') ||
			    count(o, out.len, '>') != count(text, tlen, '>') ||
			    count(o, out.len, '"') != count(text, tlen, '"') ||
			    count(o, out.len, '\'') != count(text, tlen, '\''))
				abort();
			if (memmem(text, tlen, "{{", 2) == NULL &&
			    (out.len != tlen || memcmp(o, text, tlen) != 0))
				abort();
		}
	}
	buf_free(&out);
	tmpl_free(&set);
	return 0;
}
