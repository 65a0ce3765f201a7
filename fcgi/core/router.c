/*
 * router: route matching and dispatch (see router.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"
#include "presence.h"
#include "router.h"
#include "session.h"

int
router_match(struct arena *a, const char *pattern, const char *path,
    const char **captures, enum err *e)
{
	const char *p = pattern, *s = path;
	size_t ncap = 0;

	if (*p != '/' || *s != '/')
		return 0;
	while (*p != '\0' && *s != '\0') {
		const char *pend, *send;

		p++;
		s++;
		pend = strchrnul(p, '/');
		send = strchrnul(s, '/');
		if (*p == '{') {
			char *seg;

			if (send == s || ncap == REQ_MAX_CAPTURES)
				return 0;
			seg = query_decode(a, s, (size_t)(send - s), 0, e);
			if (seg == NULL)
				return -1;
			if (seg[0] == '\0' || strchr(seg, '/') != NULL)
				return 0;
			captures[ncap++] = seg;
		} else if ((size_t)(pend - p) != (size_t)(send - s) ||
		    memcmp(p, s, (size_t)(pend - p)) != 0)
			return 0;
		p = pend;
		s = send;
	}
	return *p == '\0' && *s == '\0';
}

/* The path part of a request URI, percent-decoded only for checking. */
static const char *
uri_path(struct req *r, enum err *e)
{
	const char *q;
	char *path, *check;
	size_t n;

	if (r->uri == NULL || r->uri[0] != '/') {
		*e = ERR_BAD_REQUEST;
		return NULL;
	}
	q = strchr(r->uri, '?');
	n = q != NULL ? (size_t)(q - r->uri) : strlen(r->uri);
	path = arena_strndup(r->arena, r->uri, n);
	if (path == NULL) {
		*e = ERR_INTERNAL;
		return NULL;
	}
	check = query_decode(r->arena, path, n, 0, e);
	if (check == NULL) {
		if (*e == ERR_BAD_QUERY)
			*e = ERR_BAD_REQUEST;
		return NULL;
	}
	return path;
}

static int
method_matches(const struct route *rt, const char *method)
{
	return strcmp(rt->method, method) == 0 ||
	    (strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0);
}

/* 1 when the parameter list p ("; a=b; charset=utf-8") names no charset or exactly UTF-8. */
static int
charset_ok(const char *p)
{
	while (p != NULL && *p != '\0') {
		const char *name, *val, *end;
		size_t nlen, vlen;

		p += strspn(p, "; \t");
		name = p;
		end = strchrnul(p, ';');
		val = memchr(name, '=', (size_t)(end - name));
		p = end;
		if (val == NULL)
			continue;
		nlen = (size_t)(val - name);
		while (nlen > 0 && (name[nlen - 1] == ' ' || name[nlen - 1] == '\t'))
			nlen--;
		if (nlen != 7 || strncasecmp(name, "charset", 7) != 0)
			continue;
		val++;
		vlen = (size_t)(end - val);
		while (vlen > 0 && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
			vlen--;
		if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
			val++;
			vlen -= 2;
		}
		if (vlen != 5 || strncasecmp(val, "utf-8", 5) != 0)
			return 0;
	}
	return 1;
}

/* 1 when Content-Type ct is one of the route's media types, in UTF-8. */
static int
media_type_ok(const struct route *rt, const char *ct)
{
	static const char *const json_only[] = {"application/json", NULL};
	const char *const *types = rt->media_types ? rt->media_types : json_only;
	const char *semi;
	size_t n;

	if (ct == NULL)
		return 0;
	semi = strchr(ct, ';');
	n = semi ? (size_t)(semi - ct) : strlen(ct);
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	/* A charset other than UTF-8 would change how we must read the bytes. */
	if (!charset_ok(semi))
		return 0;
	for (; *types != NULL; types++)
		if (strlen(*types) == n && strncasecmp(ct, *types, n) == 0)
			return 1;
	return 0;
}

static enum err
check_query(struct req *r, const struct field *spec, const char **bad)
{
	const char *q = strchr(r->uri, '?');
	enum err e;

	*bad = NULL;
	if ((e = query_parse(r->arena, q ? q + 1 : NULL, &r->query)) != ERR_OK)
		return e;
	for (size_t i = 0; i < r->query.n; i++) {
		const struct field *f = spec;
		const char *v = r->query.pairs[i].value;

		for (; f != NULL && f->name != NULL; f++)
			if (strcmp(f->name, r->query.pairs[i].name) == 0)
				break;
		*bad = r->query.pairs[i].name;
		if (f == NULL || f->name == NULL)
			return ERR_BAD_QUERY;
		if (f->type == FIELD_INT) {
			char *end;
			long long n;

			/* strtoll would skip blanks and a '+': only digits and '-' pass. */
			if (!(*v == '-' || (*v >= '0' && *v <= '9')))
				return ERR_BAD_QUERY;
			errno = 0;
			n = strtoll(v, &end, 10);
			if (errno != 0 || *end != '\0' || n < f->min || n > f->max)
				return ERR_BAD_QUERY;
		} else if ((long long)strlen(v) < f->min || (f->max > 0 && (long long)strlen(v) > f->max) ||
		    (f->check != NULL && !f->check(v, strlen(v))))
			return ERR_BAD_QUERY;
	}
	for (const struct field *f = spec; f != NULL && f->name != NULL; f++)
		if ((f->flags & FIELD_REQUIRED) && query_get(&r->query, f->name) == NULL) {
			*bad = f->name;
			return ERR_BAD_QUERY;
		}
	*bad = NULL;
	return ERR_OK;
}

static enum err
read_json_body(struct req *r, const struct route *rt, const char **bad)
{
	size_t max = rt->max_body ? rt->max_body : r->cfg->max_body;
	enum err e = ERR_OK;

	if (r->content_length > (long long)max)
		return ERR_TOO_LARGE;
	if (!media_type_ok(rt, r->content_type))
		return ERR_MEDIA_TYPE;
	if (r->read_body(r, max, &e) < 0)
		return e;
	if ((e = fields_parse(r->body, r->body_len, &r->in)) != ERR_OK)
		return e;
	return fields_check(r->in, rt->body, bad);
}

/* An error answer whose message names the offending field or parameter. */
static void
field_error(struct req *r, enum err e, const char *what, const char *bad)
{
	char msg[160];

	if (bad == NULL) {
		req_error(r, e, NULL);
		return;
	}
	snprintf(msg, sizeof(msg), "%s %s: '%.48s'.", err_strerror(e), what, bad);
	req_error(r, e, msg);
}

/* The query, then the body: ERR_OK, or the error with what (and *bad) to name. */
static enum err
check_input(struct req *r, const struct route *rt, const char **bad, const char **what)
{
	enum err e;

	if ((e = check_query(r, rt->query, bad)) != ERR_OK) {
		*what = "Parameter";
		return e;
	}
	if (rt->body == NULL)
		return r->content_length > 0 ? ERR_UNEXPECTED_BODY : ERR_OK;
	if ((e = read_json_body(r, rt, bad)) != ERR_OK)
		*what = "Field";
	return e;
}

/* The name of the user the request is about, from where the route says. */
static const char *
route_peer(struct req *r, const struct route *rt)
{
	const char *name;

	if (rt->peer == NULL)
		return NULL;
	if ((name = query_get(&r->query, rt->peer)) == NULL && r->in != NULL)
		name = fields_str(r->in, rt->peer);
	return name;
}

void
router_dispatch(const struct route *table, size_t n, struct req *r)
{
	const struct route *rt = NULL;
	const char *path, *bad = NULL, *field_what = NULL;
	int path_known = 0;
	struct buf allow = {0};
	enum err e = ERR_OK;

	if ((path = uri_path(r, &e)) == NULL) {
		req_error(r, e, NULL);
		return;
	}
	r->path = path;
	for (size_t i = 0; i < n; i++) {
		const char *caps[REQ_MAX_CAPTURES] = {0};
		int m = router_match(r->arena, table[i].pattern, path, caps, &e);

		if (m < 0) {
			buf_free(&allow);
			req_error(r, e == ERR_BAD_QUERY ? ERR_BAD_REQUEST : e, NULL);
			return;
		}
		if (m == 0)
			continue;
		path_known = 1;
		buf_printf(&allow, "%s%s%s", allow.len ? ", " : "", table[i].method,
		    strcmp(table[i].method, "GET") == 0 ? ", HEAD" : "");
		if (rt == NULL && r->method != NULL && method_matches(&table[i], r->method)) {
			rt = &table[i];
			memcpy(r->captures, caps, sizeof(caps));
		}
	}
	if (rt == NULL) {
		if (path_known) {
			req_error(r, ERR_METHOD, NULL);
			if (!buf_failed(&allow))
				req_header(r, "Allow", allow.p);
		} else
			req_error(r, ERR_NOT_FOUND, NULL);
		buf_free(&allow);
		return;
	}
	buf_free(&allow);
	r->route = rt;

	if ((rt->flags & (ROUTE_ORIGIN | ROUTE_CSRF)) && !session_origin_ok(r)) {
		req_error(r, ERR_BAD_ORIGIN, NULL);
		return;
	}
	/* A route whose query or body names the other user (rt->peer) has them
	 * read and checked before the session, so that user comes with the
	 * session in one round trip; their errors are still answered after the
	 * session's. Other routes read nothing before the session. */
	if (rt->peer != NULL)
		e = check_input(r, rt, &bad, &field_what);
	if (rt->flags & ROUTE_AUTH) {
		enum err auth;

		if ((auth = session_load(r, e == ERR_OK ? route_peer(r, rt) : NULL)) != ERR_OK) {
			e = auth;
			field_what = NULL;
			if (e == ERR_UNAUTHENTICATED && (rt->flags & ROUTE_PAGE)) {
				r->status = 303;
				req_header(r, "Location", "/");
				return;
			}
			req_error(r, e, NULL);
			return;
		}
		if ((rt->flags & ROUTE_CSRF) && !session_csrf_ok(r)) {
			req_error(r, ERR_CSRF, NULL);
			return;
		}
		presence_seen(r);
	}
	if (rt->peer == NULL)
		e = check_input(r, rt, &bad, &field_what);
	if (e != ERR_OK) {
		if (field_what != NULL)
			field_error(r, e, field_what, bad);
		else
			req_error(r, e, NULL);
		return;
	}

	/* A refusal is answered here, and only here (the handler's half-built
	 * answer, if any, goes). */
	if ((e = rt->handler(r)) != ERR_OK) {
		buf_reset(&r->resp_headers);
		req_error(r, e, NULL);
	} else if (r->status == 0) {
		log_msg(LOG_ERROR, "rid=%s handler for %s %s set no response", r->id,
		    rt->method, rt->pattern);
		req_error(r, ERR_INTERNAL, NULL);
	}
}
