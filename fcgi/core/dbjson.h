/*
 * dbjson: the rows of a statement as a JSON array, described by a table of
 * columns instead of a loop per list (friends, blocks, requests, sessions,
 * keys, messages all read this way).
 *
 * Each column says the JSON name its value goes under (one level of nesting
 * with "outer.inner"), how the value is read and shown, and how large it may
 * be; a value larger than its column is a failed statement, never a cut one.
 */
#ifndef CHATD_DBJSON_H
#define CHATD_DBJSON_H

#include <jansson.h>

#include "db.h"

struct buf;

enum dbj_type {
	DBJ_INT,	/* a number */
	DBJ_ID_OR_NULL,	/* a number; 0 or NULL shows as null */
	DBJ_BOOL,	/* 0 or 1 */
	DBJ_STR,	/* text */
	DBJ_STR_OR_NULL,/* text; empty or NULL shows as null */
	DBJ_JSON,	/* text holding JSON, shown parsed */
	DBJ_B64,	/* bytes, shown as base64url */
	DBJ_B64_OPT,	/* bytes, shown as base64url; left out when NULL or empty */
};

struct dbj_col {
	const char *name;	/* "key_id", or "user.username" for {"user": {"username": ...}} */
	enum dbj_type type;
	size_t cap;		/* text or bytes at most (0: 256) */
};

/*
 * Runs statement s with params and appends each row, made from cols[0..nc),
 * to the array out; with max_rows > 0 reading stops there, and *more (if not
 * NULL) says whether another row followed. DB_OK, DB_UNAVAILABLE or
 * DB_FAILED (also when a row cannot be made: out of memory, bad JSON).
 */
enum db_rc db_json_rows(struct db *, enum db_stmt s, const struct db_param *params, size_t np,
    const struct dbj_col *cols, size_t nc, long long max_rows, json_t *out, int *more);

/*
 * The same, straight into a response as JSON text: the objects are appended
 * to out comma-separated (the caller writes the brackets around them), with
 * no tree built and dumped. The statement's first nlead columns are numbers
 * that are the same in every row (a page's markers): they go to lead[], not
 * into the objects. A row whose first shown column is NULL is no row (the
 * empty side of a LEFT JOIN). max_rows (> 0) as above; with reverse the
 * objects come out in the opposite order to the rows. Plain names only and
 * no DBJ_JSON column (DB_FAILED). On failure out is as it was.
 */
enum db_rc db_json_text(struct db *, enum db_stmt s, const struct db_param *params, size_t np,
    long long *lead, size_t nlead, const struct dbj_col *cols, size_t nc, long long max_rows,
    int reverse, struct buf *out, int *more);

#endif
