/*
 * dbjson: statement rows as JSON (see dbjson.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "buf.h"
#include "dbjson.h"
#include "log.h"

#define DBJ_MAX_COLS 24

struct dbj_read {
	const struct dbj_col *cols;
	size_t nc;
	struct db_col dc[DBJ_MAX_COLS];
	long long ints[DBJ_MAX_COLS];
	size_t lens[DBJ_MAX_COLS];
	char *textval;			/* base64url of the largest byte column */
	long long max_rows, got;
	int more, failed;
	json_t *out;		/* rows as objects, or ... */
	struct buf *text;	/* ... as JSON text */
	size_t nlead;		/* text: leading number columns, not shown */
	long long *lead;
	size_t *starts;		/* text: where each row begins, to reverse them */
};

static json_t *
dbj_value(struct dbj_read *d, size_t k)
{
	const struct db_col *c = &d->dc[k];

	switch (d->cols[k].type) {
	case DBJ_INT:
		return json_integer(d->ints[k]);
	case DBJ_ID_OR_NULL:
		return c->null || d->ints[k] == 0 ? json_null() : json_integer(d->ints[k]);
	case DBJ_BOOL:
		return json_boolean(d->ints[k] != 0);
	case DBJ_STR:
		return json_string(c->s);
	case DBJ_STR_OR_NULL:
		return c->null || c->s[0] == '\0' ? json_null() : json_string(c->s);
	case DBJ_JSON:
		return json_loads(c->s, 0, NULL);
	case DBJ_B64:
	case DBJ_B64_OPT:
		b64url_encode(c->b, d->lens[k], d->textval);
		return json_string(d->textval);
	}
	return NULL;
}

/* Puts v under name (or under "outer" then "inner") in row. 0 or -1. */
static int
dbj_set(json_t *row, const char *name, json_t *v)
{
	const char *dot = strchr(name, '.');
	char outer[32];
	json_t *o;

	if (dot == NULL)
		return json_object_set_new(row, name, v);
	if ((size_t)(dot - name) >= sizeof(outer)) {
		json_decref(v);
		return -1;
	}
	memcpy(outer, name, (size_t)(dot - name));
	outer[dot - name] = '\0';
	if ((o = json_object_get(row, outer)) == NULL) {
		if ((o = json_object()) == NULL || json_object_set_new(row, outer, o) != 0) {
			json_decref(v);
			return -1;
		}
	}
	return json_object_set_new(o, dot + 1, v);
}

/* s as a JSON string: quotes, backslashes and controls escaped; the
 * database's text is UTF-8 already (utf8mb4). */
static void
dbj_text_str(struct buf *b, const char *s)
{
	const char *run = s;

	buf_append(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_append(b, run, (size_t)(s - run));
		snprintf(esc, sizeof(esc), c == '"' || c == '\\' ? "\\%c" : "\\u%04x", c);
		buf_puts(b, esc);
		run = s + 1;
	}
	buf_append(b, run, (size_t)(s - run));
	buf_append(b, "\"", 1);
}

/* One row as a JSON object appended to d->text. */
static int
dbj_text_row(struct dbj_read *d)
{
	struct buf *b = d->text;
	int first = 1;

	for (size_t k = 0; k < d->nlead; k++)
		d->lead[k] = d->ints[k];
	/* A row whose first shown column is NULL is a LEFT JOIN's empty side. */
	if (d->nc > d->nlead && d->dc[d->nlead].null)
		return 0;
	if (d->max_rows > 0 && ++d->got > d->max_rows) {
		d->more = 1;
		return 1;
	}
	d->starts[d->got - 1] = b->len;
	if (d->got > 1)
		buf_append(b, ",", 1);
	buf_append(b, "{", 1);
	for (size_t k = d->nlead; k < d->nc; k++) {
		const struct db_col *c = &d->dc[k];

		if (d->cols[k - d->nlead].type == DBJ_B64_OPT && (c->null || d->lens[k] == 0))
			continue;
		buf_printf(b, "%s\"%s\":", first ? "" : ",", d->cols[k - d->nlead].name);
		first = 0;
		switch (d->cols[k - d->nlead].type) {
		case DBJ_INT:
			buf_printf(b, "%lld", d->ints[k]);
			break;
		case DBJ_ID_OR_NULL:
			if (c->null || d->ints[k] == 0)
				buf_puts(b, "null");
			else
				buf_printf(b, "%lld", d->ints[k]);
			break;
		case DBJ_BOOL:
			buf_puts(b, d->ints[k] != 0 ? "true" : "false");
			break;
		case DBJ_STR_OR_NULL:
			if (c->null || c->s[0] == '\0') {
				buf_puts(b, "null");
				break;
			}
			/* fall through */
		case DBJ_STR:
			dbj_text_str(b, c->s);
			break;
		case DBJ_B64:
		case DBJ_B64_OPT:
			b64url_encode(c->b, d->lens[k], d->textval);
			buf_append(b, "\"", 1);
			buf_puts(b, d->textval);
			buf_append(b, "\"", 1);
			break;
		case DBJ_JSON:	/* refused by db_json_text */
			return 1;
		}
	}
	buf_append(b, "}", 1);
	return 0;
}

static int
dbj_row(void *ctx)
{
	struct dbj_read *d = ctx;
	json_t *row;

	if (d->text != NULL)
		return dbj_text_row(d);
	if (d->max_rows > 0 && ++d->got > d->max_rows) {
		d->more = 1;
		return 1;
	}
	if ((row = json_object()) == NULL)
		goto fail;
	for (size_t k = 0; k < d->nc; k++) {
		json_t *v;

		if (d->cols[k].type == DBJ_B64_OPT && (d->dc[k].null || d->lens[k] == 0))
			continue;
		if ((v = dbj_value(d, k)) == NULL || dbj_set(row, d->cols[k].name, v) != 0) {
			json_decref(row);
			goto fail;
		}
	}
	if (json_array_append_new(d->out, row) == 0)
		return 0;
fail:
	d->failed = 1;
	return 1;
}

/* Runs s with the columns d describes: nlead numbers, then cols. */
static enum db_rc
dbj_run(struct db *db, enum db_stmt s, const struct db_param *params, size_t np, struct dbj_read *d)
{
	size_t n = d->nlead + d->nc, biggest = 0;
	enum db_rc rc = DB_FAILED;

	if (n > DBJ_MAX_COLS)
		return DB_FAILED;
	memset(d->dc, 0, sizeof(d->dc));
	for (size_t k = 0; k < d->nlead; k++)
		d->dc[k] = DB_COL_INT(&d->ints[k]);
	for (size_t k = d->nlead; k < n; k++) {
		const struct dbj_col *col = &d->cols[k - d->nlead];
		size_t cap = col->cap > 0 ? col->cap : 256;
		void *buf = NULL;

		switch (col->type) {
		case DBJ_INT:
		case DBJ_ID_OR_NULL:
		case DBJ_BOOL:
			d->dc[k] = DB_COL_INT(&d->ints[k]);
			continue;
		case DBJ_STR:
		case DBJ_STR_OR_NULL:
		case DBJ_JSON:
			if ((buf = malloc(cap + 1)) == NULL)
				goto out;
			d->dc[k] = (struct db_col){.type = DBC_STR, .s = buf, .cap = cap + 1};
			continue;
		case DBJ_B64:
		case DBJ_B64_OPT:
			if ((buf = malloc(cap)) == NULL)
				goto out;
			d->dc[k] = (struct db_col){.type = DBC_BLOB, .b = buf, .cap = cap, .len = &d->lens[k]};
			biggest = cap > biggest ? cap : biggest;
			continue;
		}
	}
	if (biggest > 0 && (d->textval = malloc(B64URL_LEN(biggest) + 1)) == NULL)
		goto out;
	/* the row functions index cols from 0, and dc from the first lead */
	d->nc = n;
	rc = db_run(db, s, params, np, d->dc, n, dbj_row, d, NULL);
	if (rc == DB_OK && (d->failed || (d->text != NULL && buf_failed(d->text)))) {
		log_msg(LOG_ERROR, "db: statement %s: a row could not be made into JSON", db_stmt_name(s));
		rc = DB_FAILED;
	}
out:
	for (size_t k = d->nlead; k < n; k++)
		free(d->dc[k].type == DBC_BLOB ? (void *)d->dc[k].b : (void *)d->dc[k].s);
	free(d->textval);
	return rc;
}

enum db_rc
db_json_rows(struct db *db, enum db_stmt s, const struct db_param *params, size_t np,
    const struct dbj_col *cols, size_t nc, long long max_rows, json_t *out, int *more)
{
	struct dbj_read d = {.cols = cols, .nc = nc, .max_rows = max_rows, .out = out};
	enum db_rc rc;

	if (out == NULL)
		return DB_FAILED;
	rc = dbj_run(db, s, params, np, &d);
	if (more != NULL)
		*more = d.more;
	return rc;
}

/* Puts the n objects of b (from start, each beginning at starts[i] with its
 * comma) in the opposite order. 0 or -1. */
static int
dbj_reverse(struct buf *b, size_t start, const size_t *starts, size_t n)
{
	size_t len = b->len - start;
	char *copy;

	if (n < 2)
		return 0;
	if ((copy = malloc(len)) == NULL)
		return -1;
	memcpy(copy, b->p + start, len);
	b->len = start;
	for (size_t i = n; i-- > 0;) {
		size_t from = starts[i] - start + (i > 0 ? 1 : 0);
		size_t to = i + 1 < n ? starts[i + 1] - start : len;

		if (i + 1 < n)
			buf_append(b, ",", 1);
		buf_append(b, copy + from, to - from);
	}
	free(copy);
	return buf_failed(b) ? -1 : 0;
}

enum db_rc
db_json_text(struct db *db, enum db_stmt s, const struct db_param *params, size_t np,
    long long *lead, size_t nlead, const struct dbj_col *cols, size_t nc, long long max_rows,
    int reverse, struct buf *out, int *more)
{
	struct dbj_read d = {.cols = cols, .nc = nc, .max_rows = max_rows, .text = out,
	    .nlead = nlead, .lead = lead};
	size_t start = out->len;
	enum db_rc rc;

	if (max_rows <= 0 || max_rows > 100000)
		return DB_FAILED;
	for (size_t k = 0; k < nc; k++)
		if (cols[k].type == DBJ_JSON || strchr(cols[k].name, '.') != NULL)
			return DB_FAILED;	/* shown parsed or nested: db_json_rows's */
	for (size_t k = 0; k < nlead; k++)
		lead[k] = 0;
	if ((d.starts = malloc(sizeof(*d.starts) * (size_t)max_rows)) == NULL)
		return DB_FAILED;
	rc = dbj_run(db, s, params, np, &d);
	if (rc == DB_OK && reverse && dbj_reverse(out, start, d.starts,
	    (size_t)(d.got > max_rows ? max_rows : d.got)) != 0)
		rc = DB_FAILED;
	if (rc != DB_OK)
		out->len = start;
	free(d.starts);
	if (more != NULL)
		*more = d.more;
	return rc;
}
