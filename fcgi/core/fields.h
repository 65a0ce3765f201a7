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
/* FIELD_STRING: a one-time code as people type or paste it ("123 456",
 * "123-456", "abcd efgh ..."): the separators fields_code_squeeze() drops
 * are dropped before the bounds and the check apply, and the body then
 * holds the squeezed value, so no handler ever sees a separator. */
#define FIELD_CODE 0x4

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

/* The longest code, separators included, a FIELD_CODE field takes as typed. */
#define FIELDS_CODE_RAW_MAX 256

/*
 * Copies in[0..n) into out without the separators people put into codes:
 * ASCII space, tab and hyphen-minus, and what pasting from an authenticator
 * or a document brings along (no-break, thin and narrow no-break spaces,
 * Unicode hyphens and the en dash). Everything else, letters' case
 * included, stays. out holds at least n + 1 bytes; returns the length
 * written (out is NUL-terminated).
 */
size_t fields_code_squeeze(const char *in, size_t n, char *out);

/* Accessors for a checked body; a missing optional field gives the default. */
const char *fields_str(json_t *obj, const char *name);
long long fields_int(json_t *obj, const char *name, long long dflt);

#endif
