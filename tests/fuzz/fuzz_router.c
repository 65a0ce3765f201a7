/*
 * fuzz_router: router_match() against fixed patterns, and router_dispatch()
 * of a whole request through a small table. The input is
 * "METHOD\nURI\nCONTENT-TYPE\nBODY". Invariants: a match yields non-empty,
 * slash-free, valid UTF-8 captures; every dispatched request ends with a
 * status and, for errors, a JSON body {"error", "message"}.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "router.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const patterns[] = {
	"/", "/api/health", "/api/rooms/{id}", "/api/rooms/{id}/messages/{mid}",
	"/{a}/{b}/{c}/{d}", "/{a}/{b}/{c}/{d}/{e}", "/x/{id}/",
};

struct fuzz_req {
	struct req r;			/* first: the reader finds the input from it */
	const char *body;
	size_t body_len;
};

static int
fake_read_body(struct req *r, size_t max, enum err *e)
{
	struct fuzz_req *f = (struct fuzz_req *)(void *)r;
	char *b;

	if (f->body_len > max) {
		*e = ERR_TOO_LARGE;
		return -1;
	}
	if ((b = arena_alloc(r->arena, f->body_len + 1)) == NULL) {
		*e = ERR_INTERNAL;
		return -1;
	}
	memcpy(b, f->body, f->body_len);
	r->body = b;
	r->body_len = f->body_len;
	return 0;
}

static enum err
h_ok(struct req *r)
{
	req_json(r, 200, json_pack("{s:b}", "ok", 1));
	return ERR_OK;
}

static enum err
h_fail(struct req *r)
{
	(void)r;
	return ERR_DB_UNAVAILABLE;
}

static const struct field q_fields[] = {
	{"limit", FIELD_INT, 0, 1, 100, NULL, NULL},
	{"before", FIELD_STRING, 0, 1, 32, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct field b_fields[] = {
	{"text", FIELD_STRING, FIELD_REQUIRED, 1, 100, NULL, NULL},
	{"n", FIELD_INT, 0, 0, 10, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct route table[] = {
	{"GET", "/api/rooms/{id}/messages", q_fields, NULL, 0, NULL, h_ok, 0},
	{"POST", "/api/rooms/{id}/messages", NULL, b_fields, 0, NULL, h_ok, 0},
	{"DELETE", "/api/rooms/{id}/messages/{mid}", NULL, NULL, 0, NULL, h_ok, 0},
	{"GET", "/api/health", NULL, NULL, 0, NULL, h_fail, 0},
	{"POST", "/api/small", NULL, b_fields, 16, NULL, h_ok, 0},
};

/* The next '\n'-terminated field of [*p, end), NUL-terminated in place. */
static char *
next_line(char **p, char *end)
{
	char *s = *p, *nl;

	if (s >= end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(end - s));
	if (nl == NULL) {
		*p = end;
		return s;
	}
	*nl = '\0';
	*p = nl + 1;
	return s;
}

static void
check_match(struct arena *a, const char *path)
{
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		const char *caps[REQ_MAX_CAPTURES] = {0};
		enum err e = ERR_OK;
		int m = router_match(a, patterns[i], path, caps, &e);

		if (m < -1 || m > 1 || (m == -1 && e == ERR_OK))
			abort();
		if (m != 1)
			continue;
		for (size_t k = 0; k < REQ_MAX_CAPTURES && caps[k] != NULL; k++)
			if (caps[k][0] == '\0' || strchr(caps[k], '/') != NULL ||
			    !utf8_valid(caps[k], strlen(caps[k])))
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena arena = {.limit = 1 << 20};
	struct config cfg = {.max_body = 256};
	struct fuzz_req f;
	char *buf, *p, *end, *method, *uri, *ctype;
	json_t *resp;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	p = buf;
	end = buf + size;
	method = next_line(&p, end);
	uri = next_line(&p, end);
	ctype = next_line(&p, end);

	/* router_match sees the URI as a path, up to its first NUL. */
	check_match(&arena, uri != NULL ? uri : "/");

	memset(&f, 0, sizeof(f));
	f.r.arena = &arena;
	f.r.cfg = &cfg;
	f.r.read_body = fake_read_body;
	req_reset(&f.r);
	f.r.method = method;
	f.r.uri = uri;
	f.r.content_type = ctype != NULL && ctype[0] != '\0' ? ctype : NULL;
	f.body = p;
	f.body_len = (size_t)(end - p);
	f.r.content_length = ctype != NULL ? (long long)f.body_len : -1;
	router_dispatch(table, sizeof(table) / sizeof(table[0]), &f.r);

	if (f.r.status < 200 || f.r.status > 599 || buf_failed(&f.r.resp_body))
		abort();
	resp = json_loadb(f.r.resp_body.p, f.r.resp_body.len, 0, NULL);
	if (resp == NULL)
		abort();
	if (f.r.status != 200 && (json_string_value(json_object_get(resp, "error")) == NULL ||
	    json_string_value(json_object_get(resp, "message")) == NULL))
		abort();
	json_decref(resp);
	/* Response headers hold complete "Name: value\r\n" lines only. */
	if (f.r.resp_headers.len > 0 &&
	    (f.r.resp_headers.len < 2 || memcmp(f.r.resp_headers.p + f.r.resp_headers.len - 2, "\r\n", 2) != 0))
		abort();

	req_reset(&f.r);
	buf_free(&f.r.resp_body);
	buf_free(&f.r.resp_headers);
	arena_free(&arena);
	free(buf);
	return 0;
}
