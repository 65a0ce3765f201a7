/*
 * router: the route table and the one dispatch() every request goes through.
 *
 * A route is one row {method, path pattern, query fields, body fields, body
 * limit, media types, handler}. dispatch() applies every check once, in
 * order, each with an early return: 404 (no path), 405 (no method, with
 * Allow), 403 (Origin), 401 (session), 403 (CSRF token), 400 (query), 413 (body size), 415 (media type), 400 (JSON and its
 * fields); only then does the handler run, and it sees checked input only.
 */
#ifndef CHATD_ROUTER_H
#define CHATD_ROUTER_H

#include <stddef.h>

#include "err.h"
#include "fields.h"
#include "req.h"

struct route {
	const char *method;		/* GET also answers HEAD */
	const char *pattern;		/* "/api/x/{id}/y": {name} captures one segment */
	const struct field *query;	/* allowed query parameters; NULL = none */
	const struct field *body;	/* JSON body fields; NULL = takes no body */
	size_t max_body;		/* 0 = CHATD_MAX_BODY */
	const char *const *media_types;	/* NULL = application/json only */
	/* Builds the response, or returns an error for dispatch() to answer. */
	enum err (*handler)(struct req *);
	unsigned flags;			/* ROUTE_* below */
	/* With ROUTE_AUTH: the query parameter or body field naming the other
	 * user, resolved with the session in one statement (session.h). */
	const char *peer;
};

#define ROUTE_ORIGIN 0x1	/* state-changing: Origin must be this site (403) */
#define ROUTE_AUTH 0x2		/* needs a live session (401) */
#define ROUTE_CSRF 0x4		/* needs the session's CSRF token in X-CSRF-Token (403) */
#define ROUTE_PAGE 0x8		/* with ROUTE_AUTH: a page, so no session redirects to / */

/* The application's route table. */
extern const struct route router_routes[];
extern const size_t router_nroutes;

/*
 * Matches path against pattern; on a match fills captures (arena copies,
 * percent-decoded) and returns 1, else 0. -1 with *e set when the path holds
 * a malformed escape or invalid UTF-8.
 */
int router_match(struct arena *, const char *pattern, const char *path,
    const char **captures, enum err *e);

/* Runs r through the table; afterwards r holds a complete response. */
void router_dispatch(const struct route *table, size_t n, struct req *r);

#endif
