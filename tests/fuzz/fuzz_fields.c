/*
 * fuzz_fields: fields_parse() then fields_check() against a table using
 * every field type (nested, open, bounded, custom-checked) on arbitrary
 * bytes. Invariants: a parsed body is an object; a refusal of a field names
 * it; an accepted body holds every required field in its declared type.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
lower_only(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 'a' || s[i] > 'z')
			return 0;
	return 1;
}

static const struct field inner[] = {
	{"id", FIELD_STRING, FIELD_REQUIRED, 1, 32, NULL, lower_only},
	{"n", FIELD_INT, 0, -10, 10, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct field spec[] = {
	{"text", FIELD_STRING, FIELD_REQUIRED, 1, 64, NULL, NULL},
	{"count", FIELD_INT, 0, 0, 1000, NULL, NULL},
	{"flag", FIELD_BOOL, 0, 0, 0, NULL, NULL},
	{"obj", FIELD_OBJECT, 0, 0, 0, inner, NULL},
	{"open", FIELD_OBJECT, FIELD_OPEN, 0, 0, inner, NULL},
	{"any", FIELD_OBJECT, 0, 0, 0, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = NULL;
	const char *bad = NULL;
	enum err e;

	e = fields_parse((const char *)data, size, &j);
	if (e != ERR_OK) {
		if (j != NULL || (e != ERR_BAD_JSON && e != ERR_INVALID_UTF8 && e != ERR_NOT_OBJECT))
			abort();
		return 0;
	}
	if (!json_is_object(j))
		abort();
	e = fields_check(j, spec, &bad);
	switch (e) {
	case ERR_OK: {
		const char *text = fields_str(j, "text");

		if (bad != NULL || text == NULL || strlen(text) < 1 || strlen(text) > 64 ||
		    !utf8_valid(text, strlen(text)))
			abort();
		if (fields_int(j, "count", 0) < 0 || fields_int(j, "count", 0) > 1000)
			abort();
		break;
	}
	case ERR_MISSING_FIELD:
	case ERR_UNKNOWN_FIELD:
	case ERR_WRONG_TYPE:
	case ERR_BAD_VALUE:
		if (bad == NULL)
			abort();
		break;
	default:
		abort();
	}
	json_decref(j);
	return 0;
}
