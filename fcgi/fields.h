/*
 * fields: validation of JSON request bodies at the door.
 *
 * A route declares its body as a table of `struct field` (terminated by an
 * entry with a NULL name). fields_parse() turns raw bytes into a JSON object
 * and fields_check() holds it against the table: every required field
 * present, none unknown, each of its declared type and within its bounds,
 * strings valid UTF-8 without NUL and passing the field's own check. A
 * handler only ever sees a body that passed, so it reads fields without
 * re-checking them.
 */
#ifndef CHATD_FIELDS_H
#define CHATD_FIELDS_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"

enum field_type {
	FIELD_STRING,		/* min/max: length in bytes */
	FIELD_INT,		/* min/max: value */
	FIELD_BOOL,
	FIELD_OBJECT,		/* sub: the object's own fields */
};

#define FIELD_REQUIRED 0x1
#define FIELD_OPEN 0x2		/* FIELD_OBJECT: unknown members are ignored, not refused */

struct field {
	const char *name;
	enum field_type type;
	unsigned flags;
	long long min, max;
	const struct field *sub;
	/* Optional value check for strings; returns 1 when acceptable. */
	int (*check)(const char *s, size_t n);
};

/*
 * Parses s[0..n) as one JSON object. ERR_INVALID_UTF8, ERR_BAD_JSON (also for
 * duplicate keys) or ERR_NOT_OBJECT; on ERR_OK *out holds a new reference.
 */
enum err fields_parse(const char *s, size_t n, json_t **out);

/* Checks obj against spec; on failure *bad names the offending field (or NULL). */
enum err fields_check(json_t *obj, const struct field *spec, const char **bad);

/* Accessors for a checked body; a missing optional field gives the default. */
const char *fields_str(json_t *obj, const char *name);
long long fields_int(json_t *obj, const char *name, long long dflt);

#endif
