/*
 * fields: JSON body parsing and validation (see fields.h).
 */
#include <string.h>

#include "fields.h"
#include "utf8.h"

enum err
fields_parse(const char *s, size_t n, json_t **out)
{
	json_error_t jerr;
	json_t *j;

	*out = NULL;
	/* jansson refuses invalid UTF-8 too, but cannot tell it apart from
	 * other syntax errors as clearly; NUL is refused by jansson itself. */
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0')
			return ERR_BAD_JSON;
	if (!utf8_valid(s, n))
		return ERR_INVALID_UTF8;
	j = json_loadb(s, n, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return ERR_BAD_JSON;
	if (!json_is_object(j)) {
		json_decref(j);
		return ERR_NOT_OBJECT;
	}
	*out = j;
	return ERR_OK;
}

static const struct field *
spec_find(const struct field *spec, const char *name)
{
	for (; spec->name != NULL; spec++)
		if (strcmp(spec->name, name) == 0)
			return spec;
	return NULL;
}

size_t
fields_code_squeeze(const char *in, size_t n, char *out)
{
	/* UTF-8 of U+00A0, U+2009, U+202F (spaces) and U+2010, U+2011, U+2013 (dashes). */
	static const char *const wide[] = {
		"\xc2\xa0", "\xe2\x80\x89", "\xe2\x80\xaf", "\xe2\x80\x90", "\xe2\x80\x91",
		"\xe2\x80\x93",
	};
	size_t i = 0, o = 0;

	while (i < n) {
		size_t skip = 0;

		if (in[i] == ' ' || in[i] == '\t' || in[i] == '-')
			skip = 1;
		for (size_t k = 0; skip == 0 && k < sizeof(wide) / sizeof(wide[0]); k++) {
			size_t w = strlen(wide[k]);

			if (n - i >= w && memcmp(in + i, wide[k], w) == 0)
				skip = w;
		}
		if (skip == 0)
			out[o++] = in[i++];
		else
			i += skip;
	}
	out[o] = '\0';
	return o;
}

static enum err
field_value_check(json_t *v, const struct field *f, const char **bad)
{
	switch (f->type) {
	case FIELD_STRING: {
		const char *s;
		size_t n;

		if (!json_is_string(v))
			return ERR_WRONG_TYPE;
		s = json_string_value(v);
		n = json_string_length(v);
		if (strlen(s) != n || !utf8_valid(s, n))
			return ERR_BAD_VALUE;
		if (f->flags & FIELD_CODE) {
			char sq[FIELDS_CODE_RAW_MAX + 1];

			if (n > FIELDS_CODE_RAW_MAX)
				return ERR_BAD_VALUE;
			n = fields_code_squeeze(s, n, sq);
			if (json_string_setn(v, sq, n) != 0)
				return ERR_INTERNAL;
			s = json_string_value(v);
		}
		if ((long long)n < f->min || (f->max > 0 && (long long)n > f->max))
			return ERR_BAD_VALUE;
		if (f->check != NULL && !f->check(s, n))
			return ERR_BAD_VALUE;
		return ERR_OK;
	}
	case FIELD_INT: {
		json_int_t i;

		if (!json_is_integer(v))
			return ERR_WRONG_TYPE;
		i = json_integer_value(v);
		if (i < f->min || i > f->max)
			return ERR_BAD_VALUE;
		return ERR_OK;
	}
	case FIELD_BOOL:
		return json_is_boolean(v) ? ERR_OK : ERR_WRONG_TYPE;
	case FIELD_OBJECT:
		if (!json_is_object(v))
			return ERR_WRONG_TYPE;
		if (f->sub == NULL)
			return ERR_OK;
		if (f->flags & FIELD_OPEN) {
			/* Check the members we know; ignore the others. */
			for (const struct field *s = f->sub; s->name != NULL; s++) {
				json_t *m = json_object_get(v, s->name);
				enum err e;

				if (m == NULL) {
					if (s->flags & FIELD_REQUIRED) {
						*bad = s->name;
						return ERR_MISSING_FIELD;
					}
					continue;
				}
				if ((e = field_value_check(m, s, bad)) != ERR_OK) {
					if (*bad == NULL)
						*bad = s->name;
					return e;
				}
			}
			return ERR_OK;
		}
		return fields_check(v, f->sub, bad);
	}
	return ERR_INTERNAL;
}

enum err
fields_check(json_t *obj, const struct field *spec, const char **bad)
{
	const char *key;
	json_t *v;
	enum err e;

	*bad = NULL;
	if (!json_is_object(obj))
		return ERR_NOT_OBJECT;
	json_object_foreach(obj, key, v) {
		const struct field *f = spec_find(spec, key);

		if (f == NULL) {
			*bad = key;
			return ERR_UNKNOWN_FIELD;
		}
		if ((e = field_value_check(v, f, bad)) != ERR_OK) {
			if (*bad == NULL)
				*bad = f->name;
			return e;
		}
	}
	for (const struct field *f = spec; f->name != NULL; f++)
		if ((f->flags & FIELD_REQUIRED) && json_object_get(obj, f->name) == NULL) {
			*bad = f->name;
			return ERR_MISSING_FIELD;
		}
	return ERR_OK;
}

const char *
fields_str(json_t *obj, const char *name)
{
	return json_string_value(json_object_get(obj, name));
}

long long
fields_int(json_t *obj, const char *name, long long dflt)
{
	json_t *v = json_object_get(obj, name);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}
