/*
 * req: one request, one struct.
 *
 * Everything a request owns hangs off `struct req`: its input (copied from
 * the FastCGI parameters into the arena), the matched route and its
 * captures, the parsed query and body, the thread's database connection and
 * publisher, and the response being built. The worker fills the input,
 * dispatch() runs the route, the worker writes the response out and resets
 * the struct for the next request. No handler touches FastCGI directly.
 */
#ifndef CHATD_REQ_H
#define CHATD_REQ_H

#include <jansson.h>
#include <stddef.h>

#include "arena.h"
#include "buf.h"
#include "err.h"
#include "query.h"

struct config;
struct db;
struct notify;
struct tmpl_set;
struct route;
struct session;
struct blocklist;

#define REQ_MAX_CAPTURES 4

/*
 * What a refusal says beyond its error's defaults (err.c): a message of its
 * own, a finer code (a password rule), Retry-After, and for a counted
 * failure the attempts left. A handler fills it through req_refuse() and
 * friends and returns the error; dispatch() answers.
 */
struct refusal {
	const char *message;		/* NULL: the error's own */
	const char *code;		/* NULL: the error's own */
	long long retry_after;		/* seconds; 0: the error's default */
	int counted;			/* a counted failure: attempts_left is said */
	long long attempts_left;
};

struct req {
	struct arena *arena;
	const struct config *cfg;
	const struct tmpl_set *tmpls;
	struct db *db;
	struct notify *notify;
	const struct blocklist *blocklist;
	void *curl;			/* the thread's handle for outgoing HTTP (Pwned Passwords) */

	char id[33];			/* request id: nginx's $request_id or our own */

	/* Input, as sent (arena copies; NULL when absent). */
	const char *method;
	const char *uri;		/* path and query as sent, e.g. /api/x?a=1 */
	const char *content_type;
	long long content_length;	/* -1 when absent */
	const char *cookie;
	const char *origin;
	const char *csrf;		/* X-CSRF-Token header */
	const char *remote_addr;
	const char *user_agent;

	/* Reads up to max bytes of body into the arena; 0, or -1 with *e set. */
	int (*read_body)(struct req *, size_t max, enum err *e);
	void *io;			/* the worker's FastCGI request */

	/* Parsed by dispatch() before the handler runs. */
	const struct route *route;
	const char *path;		/* path as sent (not decoded; captures are) */
	const char *captures[REQ_MAX_CAPTURES];
	struct query query;
	const char *body;
	size_t body_len;
	json_t *in;			/* checked JSON body, or NULL */
	struct session *session;	/* the caller's live session (ROUTE_AUTH), or NULL */

	/* Response. */
	struct refusal refusal;		/* when the handler returns an error */
	int status;
	const char *resp_type;		/* Content-Type */
	struct buf resp_headers;	/* extra "Name: value\r\n" lines */
	struct buf resp_body;
};

/* Sets status and a JSON body; takes the reference to j. */
void req_json(struct req *, int status, json_t *j);
/*
 * The one way a handler refuses: returns e, with message (copied; NULL for
 * e's own) as what the answer says. dispatch() answers it.
 */
enum err req_refuse(struct req *, enum err e, const char *message);
/* The same with a finer machine code than e's (e.g. "password_pwned"). */
enum err req_refuse_code(struct req *, enum err e, const char *code, const char *message);
/* The same, to be tried again after `seconds` (Retry-After). */
enum err req_refuse_for(struct req *, enum err e, long long seconds);
/* The JSON answer of error e and the request's refusal details, with its
 * status and Retry-After: what dispatch() sends for a refused request. */
void req_error(struct req *, enum err e, const char *message);
/* Answers 200 {name: list} for a list a statement filled (rc its result):
 * ERR_OK; ERR_INTERNAL when list is NULL; ERR_DB_UNAVAILABLE (list released). */
enum err req_json_list(struct req *, const char *name, int rc, json_t *list);
/* Sets status and an HTML body (already escaped by the template renderer). */
void req_html(struct req *, int status, const char *html, size_t len);
/* Adds a response header; name and value must not hold CR or LF. */
void req_header(struct req *, const char *name, const char *value);
/* Releases what the request holds outside its arena and readies it for reuse. */
void req_reset(struct req *);

#endif
