/*
 * resp: building a request's response (the req_* writers of req.h).
 *
 * Responses are built in memory and written out by the worker in one go, so
 * a handler that fails half-way can still replace its answer with an error.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "req.h"

void
req_json(struct req *r, int status, json_t *j)
{
	char *s;

	buf_reset(&r->resp_body);
	if (j == NULL || (s = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		log_msg(LOG_ERROR, "rid=%s cannot encode JSON response", r->id);
		r->status = 500;
		r->resp_type = "application/json";
		buf_puts(&r->resp_body,
		    "{\"error\":\"internal\",\"message\":\"Something went wrong on the server.\"}");
		return;
	}
	json_decref(j);
	r->status = status;
	r->resp_type = "application/json";
	buf_puts(&r->resp_body, s);
	free(s);
}

enum err
req_refuse(struct req *r, enum err e, const char *message)
{
	r->refusal.message = message != NULL ? arena_strdup(r->arena, message) : NULL;
	return e;
}

enum err
req_refuse_code(struct req *r, enum err e, const char *code, const char *message)
{
	r->refusal.code = code;
	return req_refuse(r, e, message);
}

enum err
req_refuse_for(struct req *r, enum err e, long long seconds)
{
	r->refusal.retry_after = seconds > 0 ? seconds : 1;
	return e;
}

void
req_error(struct req *r, enum err e, const char *message)
{
	const struct refusal *f = &r->refusal;
	long long retry = f->retry_after > 0 ? f->retry_after : err_retry_after(e);
	json_t *j = json_pack("{s:s, s:s}", "error", f->code != NULL ? f->code : err_code(e),
	    "message", message != NULL ? message : f->message != NULL ? f->message : err_strerror(e));
	char v[24];

	if (j != NULL && f->counted &&
	    (json_object_set_new(j, "attempts_left", json_integer(f->attempts_left)) != 0 ||
	    (f->retry_after > 0 && json_object_set_new(j, "retry_after", json_integer(f->retry_after)) != 0))) {
		json_decref(j);
		j = NULL;
	}
	req_json(r, err_status(e), j);
	if (retry > 0) {
		snprintf(v, sizeof(v), "%lld", retry);
		req_header(r, "Retry-After", v);
	}
}

enum err
req_json_list(struct req *r, const char *name, int rc, json_t *list)
{
	if (list == NULL)
		return ERR_INTERNAL;
	if (rc != 0) {
		json_decref(list);
		return ERR_DB_UNAVAILABLE;
	}
	req_json(r, 200, json_pack("{s:o}", name, list));
	return ERR_OK;
}

void
req_html(struct req *r, int status, const char *html, size_t len)
{
	buf_reset(&r->resp_body);
	r->status = status;
	r->resp_type = "text/html; charset=utf-8";
	buf_append(&r->resp_body, html, len);
}

void
req_header(struct req *r, const char *name, const char *value)
{
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL) {
		log_msg(LOG_ERROR, "rid=%s refused a header with CR/LF: %s", r->id, name);
		return;
	}
	buf_printf(&r->resp_headers, "%s: %s\r\n", name, value);
}

void
req_reset(struct req *r)
{
	struct buf h = r->resp_headers, b = r->resp_body;
	struct arena *a = r->arena;
	const struct config *cfg = r->cfg;
	const struct tmpl_set *t = r->tmpls;
	struct db *db = r->db;
	struct notify *n = r->notify;
	const struct blocklist *bl = r->blocklist;
	void *curl = r->curl;
	int (*rb)(struct req *, size_t, enum err *) = r->read_body;

	json_decref(r->in);
	buf_reset(&h);
	buf_reset(&b);
	arena_reset(a);
	memset(r, 0, sizeof(*r));
	r->resp_headers = h;
	r->resp_body = b;
	r->arena = a;
	r->cfg = cfg;
	r->tmpls = t;
	r->db = db;
	r->notify = n;
	r->blocklist = bl;
	r->curl = curl;
	r->read_body = rb;
	r->content_length = -1;
}
