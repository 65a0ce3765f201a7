/*
 * dbjson: statement rows as JSON (see dbjson.h).
 */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "dbjson.h"
#include "log.h"

#define DBJ_MAX_COLS 16

struct dbj_read {
	const struct dbj_col *cols;
	size_t nc;
	struct db_col dc[DBJ_MAX_COLS];
	long long ints[DBJ_MAX_COLS];
	size_t lens[DBJ_MAX_COLS];
	char *text;			/* base64url of the largest byte column */
	long long max_rows, got;
	int more, failed;
	json_t *out;
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
		b64url_encode(c->b, d->lens[k], d->text);
		return json_string(d->text);
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

static int
dbj_row(void *ctx)
{
	struct dbj_read *d = ctx;
	json_t *row;

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

enum db_rc
db_json_rows(struct db *db, enum db_stmt s, const struct db_param *params, size_t np,
    const struct dbj_col *cols, size_t nc, long long max_rows, json_t *out, int *more)
{
	struct dbj_read d = {.cols = cols, .nc = nc, .max_rows = max_rows, .out = out};
	size_t biggest = 0;
	enum db_rc rc = DB_FAILED;

	if (nc > DBJ_MAX_COLS || out == NULL)
		return DB_FAILED;
	memset(d.dc, 0, sizeof(d.dc));
	for (size_t k = 0; k < nc; k++) {
		size_t cap = cols[k].cap > 0 ? cols[k].cap : 256;
		void *buf = NULL;

		switch (cols[k].type) {
		case DBJ_INT:
		case DBJ_ID_OR_NULL:
		case DBJ_BOOL:
			d.dc[k] = DB_COL_INT(&d.ints[k]);
			continue;
		case DBJ_STR:
		case DBJ_STR_OR_NULL:
		case DBJ_JSON:
			if ((buf = malloc(cap + 1)) == NULL)
				goto out;
			d.dc[k] = (struct db_col){.type = DBC_STR, .s = buf, .cap = cap + 1};
			continue;
		case DBJ_B64:
		case DBJ_B64_OPT:
			if ((buf = malloc(cap)) == NULL)
				goto out;
			d.dc[k] = (struct db_col){.type = DBC_BLOB, .b = buf, .cap = cap, .len = &d.lens[k]};
			biggest = cap > biggest ? cap : biggest;
			continue;
		}
	}
	if (biggest > 0 && (d.text = malloc(B64URL_LEN(biggest) + 1)) == NULL)
		goto out;
	rc = db_run(db, s, params, np, d.dc, nc, dbj_row, &d, NULL);
	if (rc == DB_OK && d.failed) {
		log_msg(LOG_ERROR, "db: statement %s: a row could not be made into JSON", db_stmt_name(s));
		rc = DB_FAILED;
	}
	if (more != NULL)
		*more = d.more;
out:
	for (size_t k = 0; k < nc; k++)
		free(d.dc[k].type == DBC_BLOB ? (void *)d.dc[k].b : (void *)d.dc[k].s);
	free(d.text);
	return rc;
}
