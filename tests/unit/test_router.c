/*
 * router: router_match() matches one path against one pattern, and
 * router_dispatch() applies every generic check of a route table before a
 * handler runs. Dispatch is driven here through a fake `struct req` whose
 * body comes from a test buffer; every answer is parsed as JSON and judged
 * by its `error` code, not only its status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "router.h"

/* --- router_match ------------------------------------------------------ */

static int
setup_arena(void **state)
{
	struct arena *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return -1;
	*state = a;
	return 0;
}

static int
teardown_arena(void **state)
{
	arena_free(*state);
	free(*state);
	return 0;
}

static int
match(void **state, const char *pattern, const char *path, const char **caps, enum err *e)
{
	for (size_t i = 0; i < REQ_MAX_CAPTURES + 1; i++)
		caps[i] = NULL;
	*e = ERR_OK;
	return router_match(*state, pattern, path, caps, e);
}

static void
test_match_literal(void **state)
{
	const char *caps[REQ_MAX_CAPTURES + 1];
	enum err e;

	assert_int_equal(match(state, "/api/health", "/api/health", caps, &e), 1);
	assert_int_equal(match(state, "/", "/", caps, &e), 1);
	assert_null(caps[0]);
}

static void
test_match_literal_mismatch(void **state)
{
	const char *caps[REQ_MAX_CAPTURES + 1];
	enum err e;

	assert_int_equal(match(state, "/api/health", "/api/healthz", caps, &e), 0);
	assert_int_equal(match(state, "/api/health", "/api/healt", caps, &e), 0);
	assert_int_equal(match(state, "/api/health", "/api", caps, &e), 0);
	assert_int_equal(match(state, "/api", "/api/health", caps, &e), 0);
	assert_int_equal(match(state, "/", "/a", caps, &e), 0);
	assert_int_equal(match(state, "/a", "/", caps, &e), 0);
	assert_int_equal(match(state, "/api/health", "/API/health", caps, &e), 0);
	assert_int_equal(match(state, "/api/health", "api/health", caps, &e), 0);
	assert_int_equal(match(state, "/api/health", "", caps, &e), 0);
}

static void
test_match_literal_is_not_decoded(void **state)
{
	const char *caps[REQ_MAX_CAPTURES + 1];
	enum err e;

	/* Literal segments compare the bytes as sent. */
	assert_int_equal(match(state, "/api/health", "/api/%68ealth", caps, &e), 0);
}

static void
test_match_captures(void **state)
{
	const char *caps[REQ_MAX_CAPTURES + 1];
	enum err e;

	assert_int_equal(match(state, "/api/rooms/{id}/messages/{mid}",
	    "/api/rooms/r1/messages/42", caps, &e), 1);
	assert_string_equal(caps[0], "r1");
	assert_string_equal(caps[1], "42");
	assert_null(caps[2]);
}

static void
test_match_capture_is_one_segment(void **state)
{
	const char *caps[REQ_MAX_CAPTURES + 1];
	enum err e;

	assert_int_equal(match(state, "/x/{id}", "/x/a/b", caps, &e), 0);
	assert_int_equal(match(state, "/x/{id}/y", "/x/a/b/y", caps, &e), 0);
	assert_int_equal(match(state, "/x/{id}/y", "/x/a", caps, &e), 0);
}

static void
test_match_capture_percent_decoded(void **state)
{
	const char *caps[REQ_MAX_CAPTURES + 1];
	enum err e;

	assert_int_equal(match(state, "/x/{id}", "/x/a%20b%C3%BC", caps, &e), 1);
	assert_string_equal(caps[0], "a b\xc3\xbc");
	/* A path keeps '+' (only query strings turn it into a space). */
	assert_int_equal(match(state, "/x/{id}", "/x/a+b", caps, &e), 1);
	assert_string_equal(caps[0], "a+b");
}

static void
test_match_encoded_slash_in_capture_refused(void **state)
{
	const char *caps[REQ_MAX_CAPTURES + 1];
	enum err e;

	assert_int_equal(match(state, "/x/{id}", "/x/a%2Fb", caps, &e), 0);
	assert_int_equal(match(state, "/x/{id}", "/x/%2f", caps, &e), 0);
	assert_int_equal(e, ERR_OK);
}

static void
test_match_trailing_slash_mismatch(void **state)
{
	const char *caps[REQ_MAX_CAPTURES + 1];
	enum err e;

	assert_int_equal(match(state, "/api/health", "/api/health/", caps, &e), 0);
	assert_int_equal(match(state, "/api/health/", "/api/health", caps, &e), 0);
	assert_int_equal(match(state, "/x/{id}", "/x/1/", caps, &e), 0);
}

static void
test_match_empty_segment_refused(void **state)
{
	const char *caps[REQ_MAX_CAPTURES + 1];
	enum err e;

	assert_int_equal(match(state, "/x/{id}", "/x/", caps, &e), 0);
	assert_int_equal(match(state, "/x/{id}/y", "/x//y", caps, &e), 0);
	assert_int_equal(match(state, "/a/b", "/a//b", caps, &e), 0);
	assert_int_equal(match(state, "/a/b", "//a/b", caps, &e), 0);
}

static void
test_match_at_most_max_captures(void **state)
{
	const char *caps[REQ_MAX_CAPTURES + 1];
	enum err e;

	assert_int_equal(REQ_MAX_CAPTURES, 4);
	assert_int_equal(match(state, "/{a}/{b}/{c}/{d}", "/1/2/3/4", caps, &e), 1);
	assert_string_equal(caps[3], "4");
	assert_int_equal(match(state, "/{a}/{b}/{c}/{d}/{e}", "/1/2/3/4/5", caps, &e), 0);
	assert_null(caps[4]);
}

static void
test_match_malformed_escape_is_error(void **state)
{
	const char *caps[REQ_MAX_CAPTURES + 1];
	enum err e;

	assert_int_equal(match(state, "/x/{id}", "/x/%zz", caps, &e), -1);
	assert_int_equal(e, ERR_BAD_QUERY);
	assert_int_equal(match(state, "/x/{id}", "/x/a%", caps, &e), -1);
	assert_int_equal(e, ERR_BAD_QUERY);
	assert_int_equal(match(state, "/x/{id}", "/x/%4", caps, &e), -1);
	assert_int_equal(e, ERR_BAD_QUERY);
}

static void
test_match_invalid_utf8_in_capture_is_error(void **state)
{
	const char *caps[REQ_MAX_CAPTURES + 1];
	enum err e;

	assert_int_equal(match(state, "/x/{id}", "/x/%FF", caps, &e), -1);
	assert_int_equal(e, ERR_INVALID_UTF8);
	assert_int_equal(match(state, "/x/{id}", "/x/%00", caps, &e), -1);
	assert_int_equal(e, ERR_INVALID_UTF8);
}

/* --- router_dispatch --------------------------------------------------- */

#define MAX_BODY 64

struct fixture {
	struct req r;			/* first: handlers find the fixture from it */
	struct arena arena;
	struct config cfg;
	const char *body;		/* what the fake reader serves */
	size_t body_len;
	size_t read_max;		/* the limit dispatch gave the reader */
	int reads;
	int calls;			/* handler runs */
	json_t *resp;			/* the last response body, parsed */
};

static struct fixture *
fixture_of(struct req *r)
{
	return (struct fixture *)(void *)((char *)r - offsetof(struct fixture, r));
}

/* Serves the test buffer like the worker's reader: ERR_TOO_LARGE past max. */
static int
fake_read_body(struct req *r, size_t max, enum err *e)
{
	struct fixture *f = fixture_of(r);
	char *b;

	f->reads++;
	f->read_max = max;
	if (f->body_len > max) {
		*e = ERR_TOO_LARGE;
		return -1;
	}
	if ((b = arena_strndup(r->arena, f->body ? f->body : "", f->body_len)) == NULL) {
		*e = ERR_INTERNAL;
		return -1;
	}
	r->body = b;
	r->body_len = f->body_len;
	return 0;
}

/* Answers 200 with what it was given: captures, query and body. */
static enum err
h_echo(struct req *r)
{
	json_t *caps = json_array(), *q = json_object();

	fixture_of(r)->calls++;
	for (size_t i = 0; i < REQ_MAX_CAPTURES && r->captures[i] != NULL; i++)
		json_array_append_new(caps, json_string(r->captures[i]));
	for (size_t i = 0; i < r->query.n; i++)
		json_object_set_new(q, r->query.pairs[i].name, json_string(r->query.pairs[i].value));
	req_json(r, 200, json_pack("{s:s, s:o, s:o, s:O?}", "method", r->method,
	    "captures", caps, "query", q, "in", r->in));
	return ERR_OK;
}

static enum err
h_db_down(struct req *r)
{
	fixture_of(r)->calls++;
	return ERR_DB_UNAVAILABLE;
}

static enum err
h_conflict_after_headers(struct req *r)
{
	fixture_of(r)->calls++;
	req_json(r, 200, json_pack("{s:b}", "half", 1));
	return ERR_BAD_VALUE;
}

static enum err
h_silent(struct req *r)
{
	fixture_of(r)->calls++;
	return ERR_OK;
}

static const struct field list_query[] = {
	{"limit", FIELD_INT, 0, 1, 50, NULL, NULL},
	{"q", FIELD_STRING, 0, 0, 5, NULL, NULL},
	{"offset", FIELD_INT, 0, 0, 100, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct field search_query[] = {
	{"q", FIELD_STRING, FIELD_REQUIRED, 1, 0, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct field item_body[] = {
	{"text", FIELD_STRING, FIELD_REQUIRED, 1, 20, NULL, NULL},
	{"n", FIELD_INT, 0, 0, 10, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static const char *const report_types[] = {"application/csp-report", "application/json", NULL};

static const struct route table[] = {
	{"GET", "/api/items", list_query, NULL, 0, NULL, h_echo},
	{"POST", "/api/items", NULL, item_body, 0, NULL, h_echo},
	{"GET", "/api/items/{id}", NULL, NULL, 0, NULL, h_echo},
	{"DELETE", "/api/items/{id}", NULL, NULL, 0, NULL, h_echo},
	{"GET", "/api/a/{x}/b/{y}", NULL, NULL, 0, NULL, h_echo},
	{"GET", "/api/search", search_query, NULL, 0, NULL, h_echo},
	{"POST", "/api/small", NULL, item_body, 24, NULL, h_echo},
	{"POST", "/api/report", NULL, item_body, 0, report_types, h_echo},
	{"GET", "/api/down", NULL, NULL, 0, NULL, h_db_down},
	{"GET", "/api/conflict", NULL, NULL, 0, NULL, h_conflict_after_headers},
	{"GET", "/api/silent", NULL, NULL, 0, NULL, h_silent},
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

static int
setup_req(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->cfg.max_body = MAX_BODY;
	f->r.arena = &f->arena;
	f->r.cfg = &f->cfg;
	f->r.read_body = fake_read_body;
	req_reset(&f->r);
	*state = f;
	return 0;
}

static int
teardown_req(void **state)
{
	struct fixture *f = *state;

	json_decref(f->resp);
	req_reset(&f->r);
	buf_free(&f->r.resp_body);
	buf_free(&f->r.resp_headers);
	arena_free(&f->arena);
	free(f);
	return 0;
}

/*
 * Runs one request through the table. The fake reader serves body (NULL:
 * none); content_length is what the client announced (-1: none).
 */
static void
run_cl(struct fixture *f, const char *method, const char *uri, const char *ctype,
    const char *body, long long content_length)
{
	json_error_t jerr;

	json_decref(f->resp);
	f->resp = NULL;
	f->calls = f->reads = 0;
	f->read_max = 0;
	req_reset(&f->r);
	f->r.method = method;
	f->r.uri = uri;
	f->r.content_type = ctype;
	f->r.content_length = content_length;
	f->body = body;
	f->body_len = body ? strlen(body) : 0;
	router_dispatch(table, NTABLE, &f->r);
	assert_int_not_equal(f->r.status, 0);
	assert_false(buf_failed(&f->r.resp_body));
	if (f->r.resp_body.len > 0) {
		f->resp = json_loadb(f->r.resp_body.p, f->r.resp_body.len, 0, &jerr);
		assert_non_null(f->resp);
	}
}

/* A request whose Content-Length is the body's length. */
static void
run(struct fixture *f, const char *method, const char *uri, const char *ctype, const char *body)
{
	run_cl(f, method, uri, ctype, body, body ? (long long)strlen(body) : -1);
}

static const char *
resp_str(struct fixture *f, const char *key)
{
	return json_string_value(json_object_get(f->resp, key));
}

/* 1 when the response headers hold the complete line `line` ("Name: value\r\n"). */
static int
has_header(struct fixture *f, const char *line)
{
	return f->r.resp_headers.p != NULL && strstr(f->r.resp_headers.p, line) != NULL;
}

/* 1 when the error message names `what` (e.g. "'limit'"). */
static int
message_names(struct fixture *f, const char *what)
{
	const char *m = resp_str(f, "message");

	return m != NULL && strstr(m, what) != NULL;
}

/* Asserts an error answer: its status, its `error` code, a message, no handler run. */
#define assert_error(f, st, code) do {						\
	assert_int_equal((f)->r.status, (st));					\
	assert_non_null(resp_str((f), "error"));				\
	assert_string_equal(resp_str((f), "error"), (code));			\
	assert_non_null(resp_str((f), "message"));				\
	assert_string_equal((f)->r.resp_type, "application/json");		\
	assert_int_equal((f)->calls, 0);					\
} while (0)

#define assert_ok(f) do {							\
	assert_int_equal((f)->r.status, 200);					\
	assert_null(resp_str((f), "error"));					\
	assert_int_equal((f)->calls, 1);					\
} while (0)

static void
test_dispatch_unknown_path_is_404(void **state)
{
	struct fixture *f = *state;

	run(f, "GET", "/api/nope", NULL, NULL);
	assert_error(f, 404, "not_found");
	run(f, "GET", "/api/items/", NULL, NULL);
	assert_error(f, 404, "not_found");
	run(f, "GET", "/", NULL, NULL);
	assert_error(f, 404, "not_found");
}

static void
test_dispatch_wrong_method_is_405_with_allow(void **state)
{
	struct fixture *f = *state;

	run(f, "PUT", "/api/items/7", NULL, NULL);
	assert_error(f, 405, "method_not_allowed");
	assert_true(has_header(f, "Allow: GET, HEAD, DELETE\r\n"));

	run(f, "DELETE", "/api/items", NULL, NULL);
	assert_error(f, 405, "method_not_allowed");
	assert_true(has_header(f, "Allow: GET, HEAD, POST\r\n"));
}

static void
test_dispatch_missing_method_is_405(void **state)
{
	struct fixture *f = *state;

	run(f, NULL, "/api/items", NULL, NULL);
	assert_error(f, 405, "method_not_allowed");
}

static void
test_dispatch_head_matches_get(void **state)
{
	struct fixture *f = *state;

	run(f, "HEAD", "/api/items/7", NULL, NULL);
	assert_ok(f);
	assert_string_equal(json_string_value(json_array_get(json_object_get(f->resp, "captures"), 0)), "7");
	/* HEAD is not a wildcard: a POST-only route refuses it. */
	run(f, "HEAD", "/api/small", NULL, NULL);
	assert_error(f, 405, "method_not_allowed");
	assert_true(has_header(f, "Allow: POST\r\n"));
}

static void
test_dispatch_method_is_case_sensitive(void **state)
{
	struct fixture *f = *state;

	run(f, "get", "/api/items", NULL, NULL);
	assert_error(f, 405, "method_not_allowed");
}

static void
test_dispatch_handler_gets_captures(void **state)
{
	struct fixture *f = *state;
	json_t *caps;

	run(f, "GET", "/api/a/x%20y/b/%C3%BC", NULL, NULL);
	assert_ok(f);
	caps = json_object_get(f->resp, "captures");
	assert_int_equal(json_array_size(caps), 2);
	assert_string_equal(json_string_value(json_array_get(caps, 0)), "x y");
	assert_string_equal(json_string_value(json_array_get(caps, 1)), "\xc3\xbc");
	assert_string_equal(f->r.captures[0], "x y");
	assert_ptr_equal(f->r.route, &table[4]);
}

static void
test_dispatch_encoded_slash_does_not_match(void **state)
{
	struct fixture *f = *state;

	run(f, "GET", "/api/items/a%2Fb", NULL, NULL);
	assert_error(f, 404, "not_found");
}

static void
test_dispatch_malformed_path_is_400(void **state)
{
	struct fixture *f = *state;

	run(f, "GET", "/api/items/%zz", NULL, NULL);
	assert_error(f, 400, "bad_request");
	run(f, "GET", "/api/items/%", NULL, NULL);
	assert_error(f, 400, "bad_request");
	run(f, "GET", "/api/items/%FF", NULL, NULL);
	assert_error(f, 400, "invalid_utf8");
	run(f, "GET", "api/items", NULL, NULL);
	assert_error(f, 400, "bad_request");
	run(f, "GET", NULL, NULL, NULL);
	assert_error(f, 400, "bad_request");
}

static void
test_dispatch_query_checked_and_given(void **state)
{
	struct fixture *f = *state;
	json_t *q;

	run(f, "GET", "/api/items?limit=5&q=a+b", NULL, NULL);
	assert_ok(f);
	q = json_object_get(f->resp, "query");
	assert_string_equal(json_string_value(json_object_get(q, "limit")), "5");
	assert_string_equal(json_string_value(json_object_get(q, "q")), "a b");
	assert_string_equal(query_get(&f->r.query, "limit"), "5");
	/* The path the route saw ends before the query. */
	assert_string_equal(f->r.path, "/api/items");
	run(f, "GET", "/api/items?", NULL, NULL);
	assert_ok(f);
}

static void
test_dispatch_unknown_query_parameter_is_400(void **state)
{
	struct fixture *f = *state;

	run(f, "GET", "/api/items?limit=5&debug=1", NULL, NULL);
	assert_error(f, 400, "bad_query");
	assert_true(message_names(f, "'debug'"));
	/* A route that declares no query takes none. */
	run(f, "GET", "/api/items/7?x=1", NULL, NULL);
	assert_error(f, 400, "bad_query");
}

static void
test_dispatch_malformed_query_is_400(void **state)
{
	struct fixture *f = *state;

	run(f, "GET", "/api/items?limit=%zz", NULL, NULL);
	assert_error(f, 400, "bad_query");
	run(f, "GET", "/api/items?limit=1&limit=2", NULL, NULL);
	assert_error(f, 400, "bad_query");
	run(f, "GET", "/api/items?=1", NULL, NULL);
	assert_error(f, 400, "bad_query");
	run(f, "GET", "/api/items?q=%FF", NULL, NULL);
	assert_error(f, 400, "invalid_utf8");
}

static void
test_dispatch_query_values_checked(void **state)
{
	struct fixture *f = *state;

	run(f, "GET", "/api/items?limit=abc", NULL, NULL);
	assert_error(f, 400, "bad_query");
	assert_true(message_names(f, "'limit'"));
	run(f, "GET", "/api/items?limit=", NULL, NULL);
	assert_error(f, 400, "bad_query");
	/* Empty is not zero, even where zero is allowed. */
	run(f, "GET", "/api/items?offset=", NULL, NULL);
	assert_error(f, 400, "bad_query");
	run(f, "GET", "/api/items?offset=0", NULL, NULL);
	assert_ok(f);
	run(f, "GET", "/api/items?limit=0", NULL, NULL);
	assert_error(f, 400, "bad_query");
	run(f, "GET", "/api/items?limit=51", NULL, NULL);
	assert_error(f, 400, "bad_query");
	run(f, "GET", "/api/items?limit=5x", NULL, NULL);
	assert_error(f, 400, "bad_query");
	run(f, "GET", "/api/items?limit=99999999999999999999", NULL, NULL);
	assert_error(f, 400, "bad_query");
	/* strtoll alone would take these as 5. */
	run(f, "GET", "/api/items?limit=%2B5", NULL, NULL);
	assert_error(f, 400, "bad_query");
	run(f, "GET", "/api/items?limit=+5", NULL, NULL);
	assert_error(f, 400, "bad_query");
	run(f, "GET", "/api/items?limit=%0A5", NULL, NULL);
	assert_error(f, 400, "bad_query");
	run(f, "GET", "/api/items?q=toolong", NULL, NULL);
	assert_error(f, 400, "bad_query");
	run(f, "GET", "/api/items?limit=50&q=12345", NULL, NULL);
	assert_ok(f);
}

static void
test_dispatch_required_query_parameter(void **state)
{
	struct fixture *f = *state;

	run(f, "GET", "/api/search", NULL, NULL);
	assert_error(f, 400, "bad_query");
	assert_true(message_names(f, "'q'"));
	run(f, "GET", "/api/search?q=", NULL, NULL);
	assert_error(f, 400, "bad_query");
	run(f, "GET", "/api/search?q=x", NULL, NULL);
	assert_ok(f);
}

static void
test_dispatch_body_checked_and_given(void **state)
{
	struct fixture *f = *state;
	json_t *in;

	run(f, "POST", "/api/items", "application/json", "{\"text\": \"hello\", \"n\": 3}");
	assert_ok(f);
	assert_int_equal(f->reads, 1);
	assert_int_equal(f->read_max, MAX_BODY);
	in = json_object_get(f->resp, "in");
	assert_string_equal(json_string_value(json_object_get(in, "text")), "hello");
	assert_int_equal(json_integer_value(json_object_get(in, "n")), 3);
	assert_non_null(f->r.in);
	assert_string_equal(fields_str(f->r.in, "text"), "hello");
}

static void
test_dispatch_content_length_over_limit_is_413(void **state)
{
	struct fixture *f = *state;
	char big[MAX_BODY + 2];

	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	run(f, "POST", "/api/items", "application/json", big);
	assert_error(f, 413, "too_large");
	assert_int_equal(f->reads, 0);	/* refused before reading */
}

static void
test_dispatch_body_at_limit_is_read(void **state)
{
	struct fixture *f = *state;
	char body[MAX_BODY + 1];

	/* Exactly MAX_BODY bytes of valid JSON: padded with spaces. */
	memset(body, ' ', MAX_BODY);
	memcpy(body, "{\"text\": \"x\"}", 13);
	body[MAX_BODY] = '\0';
	run(f, "POST", "/api/items", "application/json", body);
	assert_ok(f);
}

static void
test_dispatch_body_longer_than_announced_is_413(void **state)
{
	struct fixture *f = *state;
	char big[MAX_BODY + 2];

	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* No Content-Length (chunked), but the reader finds more than the limit. */
	run_cl(f, "POST", "/api/items", "application/json", big, -1);
	assert_error(f, 413, "too_large");
	assert_int_equal(f->reads, 1);
	assert_int_equal(f->read_max, MAX_BODY);
	/* Announced small, sent big: the reader's count is what counts. */
	run_cl(f, "POST", "/api/items", "application/json", big, 10);
	assert_error(f, 413, "too_large");
	assert_int_equal(f->reads, 1);
}

static void
test_dispatch_route_limit_overrides_default(void **state)
{
	struct fixture *f = *state;

	run(f, "POST", "/api/small", "application/json", "{\"text\": \"0123456789abcdef\"}");
	assert_error(f, 413, "too_large");
	run(f, "POST", "/api/small", "application/json", "{\"text\": \"ab\"}");
	assert_ok(f);
	assert_int_equal(f->read_max, 24);
}

static void
test_dispatch_wrong_media_type_is_415(void **state)
{
	struct fixture *f = *state;

	run(f, "POST", "/api/items", "text/plain", "{\"text\": \"x\"}");
	assert_error(f, 415, "unsupported_media_type");
	run(f, "POST", "/api/items", "application/x-www-form-urlencoded", "text=x");
	assert_error(f, 415, "unsupported_media_type");
	run(f, "POST", "/api/items", "application/jsonx", "{\"text\": \"x\"}");
	assert_error(f, 415, "unsupported_media_type");
	run(f, "POST", "/api/items", "application/csp-report", "{\"text\": \"x\"}");
	assert_error(f, 415, "unsupported_media_type");
	assert_int_equal(f->reads, 0);
}

static void
test_dispatch_missing_media_type_is_415(void **state)
{
	struct fixture *f = *state;

	run(f, "POST", "/api/items", NULL, "{\"text\": \"x\"}");
	assert_error(f, 415, "unsupported_media_type");
}

static void
test_dispatch_media_type_parameters(void **state)
{
	struct fixture *f = *state;

	run(f, "POST", "/api/items", "application/json; charset=utf-8", "{\"text\": \"x\"}");
	assert_ok(f);
	run(f, "POST", "/api/items", "Application/JSON;charset=UTF-8", "{\"text\": \"x\"}");
	assert_ok(f);
	run(f, "POST", "/api/items", "application/json; charset=\"utf-8\"", "{\"text\": \"x\"}");
	assert_ok(f);
	run(f, "POST", "/api/items", "application/json; charset=latin1", "{\"text\": \"x\"}");
	assert_error(f, 415, "unsupported_media_type");
	run(f, "POST", "/api/items", "application/json; charset=utf-16", "{\"text\": \"x\"}");
	assert_error(f, 415, "unsupported_media_type");
	/* The charset parameter is matched whole, wherever it stands. */
	run(f, "POST", "/api/items", "application/json; charset=utf-8mb4", "{\"text\": \"x\"}");
	assert_error(f, 415, "unsupported_media_type");
	run(f, "POST", "/api/items", "application/json; foo=\"charset=utf-8\"; charset=latin1",
	    "{\"text\": \"x\"}");
	assert_error(f, 415, "unsupported_media_type");
	run(f, "POST", "/api/items", "application/json; foo=bar; charset=utf-8", "{\"text\": \"x\"}");
	assert_ok(f);
}

static void
test_dispatch_route_media_types(void **state)
{
	struct fixture *f = *state;

	run(f, "POST", "/api/report", "application/csp-report", "{\"text\": \"x\"}");
	assert_ok(f);
	run(f, "POST", "/api/report", "application/json", "{\"text\": \"x\"}");
	assert_ok(f);
	run(f, "POST", "/api/report", "text/plain", "{\"text\": \"x\"}");
	assert_error(f, 415, "unsupported_media_type");
}

static void
test_dispatch_bad_json_is_400(void **state)
{
	struct fixture *f = *state;

	run(f, "POST", "/api/items", "application/json", "{\"text\": ");
	assert_error(f, 400, "bad_json");
	run(f, "POST", "/api/items", "application/json", "");
	assert_error(f, 400, "bad_json");
	run(f, "POST", "/api/items", "application/json", "{\"text\": \"a\", \"text\": \"b\"}");
	assert_error(f, 400, "bad_json");
	run(f, "POST", "/api/items", "application/json", "[1]");
	assert_error(f, 400, "not_object");
	run(f, "POST", "/api/items", "application/json", "{\"text\": \"\xff\"}");
	assert_error(f, 400, "invalid_utf8");
}

static void
test_dispatch_unknown_field_is_400(void **state)
{
	struct fixture *f = *state;

	run(f, "POST", "/api/items", "application/json", "{\"text\": \"x\", \"admin\": true}");
	assert_error(f, 400, "unknown_field");
	assert_true(message_names(f, "'admin'"));
}

static void
test_dispatch_missing_field_is_400(void **state)
{
	struct fixture *f = *state;

	run(f, "POST", "/api/items", "application/json", "{\"n\": 1}");
	assert_error(f, 400, "missing_field");
	assert_true(message_names(f, "'text'"));
}

static void
test_dispatch_wrong_type_and_bad_value(void **state)
{
	struct fixture *f = *state;

	run(f, "POST", "/api/items", "application/json", "{\"text\": 5}");
	assert_error(f, 400, "wrong_type");
	run(f, "POST", "/api/items", "application/json", "{\"text\": \"x\", \"n\": 11}");
	assert_error(f, 422, "bad_value");
	assert_true(message_names(f, "'n'"));
}

static void
test_dispatch_body_to_bodiless_route_is_400(void **state)
{
	struct fixture *f = *state;

	run(f, "GET", "/api/items/7", "application/json", "{}");
	assert_error(f, 400, "unexpected_body");
	assert_int_equal(f->reads, 0);
	/* An announced empty body is no body. */
	run(f, "GET", "/api/items/7", NULL, "");
	assert_ok(f);
}

static void
test_dispatch_handler_error_is_answered(void **state)
{
	struct fixture *f = *state;

	run(f, "GET", "/api/down", NULL, NULL);
	assert_int_equal(f->r.status, 503);
	assert_string_equal(resp_str(f, "error"), "db_unavailable");
	assert_int_equal(f->calls, 1);
	assert_true(has_header(f, "Retry-After: 5\r\n"));
}

static void
test_dispatch_handler_error_replaces_its_response(void **state)
{
	struct fixture *f = *state;

	run(f, "GET", "/api/conflict", NULL, NULL);
	assert_int_equal(f->r.status, 422);
	assert_string_equal(resp_str(f, "error"), "bad_value");
	assert_null(json_object_get(f->resp, "half"));
	assert_int_equal(f->calls, 1);
}

static void
test_dispatch_handler_without_response_is_500(void **state)
{
	struct fixture *f = *state;

	run(f, "GET", "/api/silent", NULL, NULL);
	assert_int_equal(f->r.status, 500);
	assert_string_equal(resp_str(f, "error"), "internal");
	assert_int_equal(f->calls, 1);
}

static void
test_dispatch_reset_clears_previous_request(void **state)
{
	struct fixture *f = *state;

	run(f, "PUT", "/api/items/7", NULL, NULL);
	assert_int_not_equal(f->r.resp_headers.len, 0);
	run(f, "POST", "/api/items", "application/json", "{\"text\": \"x\"}");
	assert_ok(f);
	assert_int_equal(f->r.resp_headers.len, 0);
	assert_null(f->r.captures[0]);
	req_reset(&f->r);
	assert_null(f->r.in);
	assert_int_equal(f->r.status, 0);
	assert_int_equal(f->r.content_length, -1);
	assert_ptr_equal(f->r.read_body, fake_read_body);
	assert_ptr_equal(f->r.cfg, &f->cfg);
}

#define TM(fn) cmocka_unit_test_setup_teardown(fn, setup_arena, teardown_arena)
#define TD(fn) cmocka_unit_test_setup_teardown(fn, setup_req, teardown_req)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TM(test_match_literal),
		TM(test_match_literal_mismatch),
		TM(test_match_literal_is_not_decoded),
		TM(test_match_captures),
		TM(test_match_capture_is_one_segment),
		TM(test_match_capture_percent_decoded),
		TM(test_match_encoded_slash_in_capture_refused),
		TM(test_match_trailing_slash_mismatch),
		TM(test_match_empty_segment_refused),
		TM(test_match_at_most_max_captures),
		TM(test_match_malformed_escape_is_error),
		TM(test_match_invalid_utf8_in_capture_is_error),
		TD(test_dispatch_unknown_path_is_404),
		TD(test_dispatch_wrong_method_is_405_with_allow),
		TD(test_dispatch_missing_method_is_405),
		TD(test_dispatch_head_matches_get),
		TD(test_dispatch_method_is_case_sensitive),
		TD(test_dispatch_handler_gets_captures),
		TD(test_dispatch_encoded_slash_does_not_match),
		TD(test_dispatch_malformed_path_is_400),
		TD(test_dispatch_query_checked_and_given),
		TD(test_dispatch_unknown_query_parameter_is_400),
		TD(test_dispatch_malformed_query_is_400),
		TD(test_dispatch_query_values_checked),
		TD(test_dispatch_required_query_parameter),
		TD(test_dispatch_body_checked_and_given),
		TD(test_dispatch_content_length_over_limit_is_413),
		TD(test_dispatch_body_at_limit_is_read),
		TD(test_dispatch_body_longer_than_announced_is_413),
		TD(test_dispatch_route_limit_overrides_default),
		TD(test_dispatch_wrong_media_type_is_415),
		TD(test_dispatch_missing_media_type_is_415),
		TD(test_dispatch_media_type_parameters),
		TD(test_dispatch_route_media_types),
		TD(test_dispatch_bad_json_is_400),
		TD(test_dispatch_unknown_field_is_400),
		TD(test_dispatch_missing_field_is_400),
		TD(test_dispatch_wrong_type_and_bad_value),
		TD(test_dispatch_body_to_bodiless_route_is_400),
		TD(test_dispatch_handler_error_is_answered),
		TD(test_dispatch_handler_error_replaces_its_response),
		TD(test_dispatch_handler_without_response_is_500),
		TD(test_dispatch_reset_clears_previous_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
