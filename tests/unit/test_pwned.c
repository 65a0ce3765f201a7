/*
 * pwned: pwned_parse() finds a suffix's count in a range answer, ignores
 * padding, takes CRLF or LF and either case, and calls anything else
 * malformed. pwned_check() is run against a one-shot HTTP server on
 * 127.0.0.1 in a thread: it sends only the 5-character prefix with the
 * padding and user-agent headers, follows no redirect, caps the answer,
 * times out, and never logs the hash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <curl/curl.h>
#include <cmocka.h>

#include "pwned.h"

/* SHA-1("Tr0ub4dor&3") = 87457 2E7A5AE6A49466A6AC578B98ADBA78C6AA6 */
#define PW "Tr0ub4dor&3"
#define PREFIX "87457"
#define SUFFIX "2E7A5AE6A49466A6AC578B98ADBA78C6AA6"
#define OTHER1 "0018A45C4D1DEF81644B54AB7F969B88D65"
#define OTHER2 "00D4F6E8FA6EECAD2A3AA415EEC418D38EC"
#define TIMEOUT_MS 2000

static int
parse(const char *body, const char *suffix)
{
	return pwned_parse(body, strlen(body), suffix);
}

static void
test_pwned_parse_found_with_count(void **state)
{
	(void)state;
	assert_int_equal(parse(OTHER1 ":1\r\n" SUFFIX ":3861493\r\n" OTHER2 ":12\r\n", SUFFIX), 3861493);
}

static void
test_pwned_parse_absent(void **state)
{
	(void)state;
	assert_int_equal(parse(OTHER1 ":1\r\n" OTHER2 ":12\r\n", SUFFIX), 0);
}

static void
test_pwned_parse_empty_body_absent(void **state)
{
	(void)state;
	assert_int_equal(pwned_parse("", 0, SUFFIX), 0);
	assert_int_equal(parse("\r\n", SUFFIX), 0);
}

static void
test_pwned_parse_padding_ignored(void **state)
{
	(void)state;
	/* A padding line with our very suffix still says nothing. */
	assert_int_equal(parse(OTHER1 ":0\r\n" SUFFIX ":0\r\n" OTHER2 ":0\r\n", SUFFIX), 0);
	assert_int_equal(parse(SUFFIX ":0\r\n" SUFFIX ":7\r\n", SUFFIX), 7);
	assert_int_equal(parse(SUFFIX ":7\r\n" SUFFIX ":0\r\n", SUFFIX), 7);
	assert_int_equal(parse(SUFFIX ":000\n", SUFFIX), 0);
}

static void
test_pwned_parse_lf_and_crlf(void **state)
{
	(void)state;
	assert_int_equal(parse(OTHER1 ":1\n" SUFFIX ":42\n" OTHER2 ":3\n", SUFFIX), 42);
	assert_int_equal(parse(OTHER1 ":1\r\n" SUFFIX ":42\n" OTHER2 ":3\r\n", SUFFIX), 42);
}

static void
test_pwned_parse_last_line_without_newline(void **state)
{
	(void)state;
	assert_int_equal(parse(OTHER1 ":1\r\n" SUFFIX ":9", SUFFIX), 9);
	assert_int_equal(parse(OTHER1 ":1\r\n" OTHER2 ":9", SUFFIX), 0);
}

static void
test_pwned_parse_suffix_case_ignored(void **state)
{
	(void)state;
	assert_int_equal(parse(OTHER1 ":1\r\n" SUFFIX ":5\r\n", "2e7a5ae6a49466a6ac578b98adba78c6aa6"), 5);
	assert_int_equal(parse("2e7a5ae6a49466a6ac578b98adba78c6aa6:5\r\n", SUFFIX), 5);
}

static void
test_pwned_parse_huge_count_capped(void **state)
{
	(void)state;
	assert_int_equal(parse(SUFFIX ":99999999999999999999999\r\n", SUFFIX), 2147483647);
}

static void
test_pwned_parse_malformed(void **state)
{
	(void)state;
	assert_int_equal(parse("<html>Service Unavailable</html>", SUFFIX), -1);
	assert_int_equal(parse(SUFFIX "\r\n", SUFFIX), -1);			/* no colon */
	assert_int_equal(parse(SUFFIX ":\r\n", SUFFIX), -1);			/* no count */
	assert_int_equal(parse(SUFFIX ":12a\r\n", SUFFIX), -1);		/* count not a number */
	assert_int_equal(parse(SUFFIX ":-1\r\n", SUFFIX), -1);
	assert_int_equal(parse(SUFFIX ": 1\r\n", SUFFIX), -1);
	assert_int_equal(parse("2E7A5AE6A49466A6AC578B98ADBA78C6AA:1\r\n", SUFFIX), -1);	/* 34 */
	assert_int_equal(parse("2E7A5AE6A49466A6AC578B98ADBA78C6AA6A:1\r\n", SUFFIX), -1);	/* 36 */
	assert_int_equal(parse("2E7A5AE6A49466A6AC578B98ADBA78C6AAG:1\r\n", SUFFIX), -1);	/* not hex */
	/* One bad line spoils a body whose other lines are fine. */
	assert_int_equal(parse(SUFFIX ":5\r\ngarbage\r\n", SUFFIX), -1);
	assert_int_equal(parse(SUFFIX ":5\r\r\n", SUFFIX), -1);
}

static void
test_pwned_parse_bad_suffix_argument(void **state)
{
	(void)state;
	assert_int_equal(parse(SUFFIX ":5\r\n", "2E7A5"), -1);
	assert_int_equal(parse(SUFFIX ":5\r\n", "ZE7A5AE6A49466A6AC578B98ADBA78C6AA6"), -1);
}

static void
test_pwned_parse_only_reads_n_bytes(void **state)
{
	const char *body = OTHER1 ":1\r\n" SUFFIX ":5\r\n";

	(void)state;
	assert_int_equal(pwned_parse(body, strlen(OTHER1 ":1\r\n"), SUFFIX), 0);
}

/* A one-shot HTTP server: accepts one connection, keeps the request, sends answer. */
struct server {
	int fd;
	int port;
	int accept;		/* 0: never accept, so the client waits */
	const char *answer;
	size_t answer_len;
	char request[8192];
	size_t request_len;
	pthread_t thread;
};

static void *
server_main(void *arg)
{
	struct server *s = arg;
	size_t off = 0;
	ssize_t k;
	int c;

	if ((c = accept(s->fd, NULL, NULL)) < 0)
		return NULL;
	while (s->request_len < sizeof(s->request) - 1) {
		k = read(c, s->request + s->request_len, sizeof(s->request) - 1 - s->request_len);
		if (k <= 0)
			break;
		s->request_len += (size_t)k;
		s->request[s->request_len] = '\0';
		if (strstr(s->request, "\r\n\r\n") != NULL)
			break;
	}
	/* The client may hang up early (a capped answer): no SIGPIPE. */
	while (off < s->answer_len && (k = send(c, s->answer + off, s->answer_len - off,
	    MSG_NOSIGNAL)) > 0)
		off += (size_t)k;
	close(c);
	return NULL;
}

static void
server_start(struct server *s, const char *answer, size_t len, int do_accept)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->answer = answer;
	s->answer_len = len;
	s->accept = do_accept;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(listen(s->fd, 4), 0);
	if (do_accept)
		assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void
server_stop(struct server *s)
{
	if (s->accept)
		assert_int_equal(pthread_join(s->thread, NULL), 0);
	close(s->fd);
}

static char *
server_url(const struct server *s, char buf[64])
{
	snprintf(buf, 64, "http://127.0.0.1:%d", s->port);
	return buf;
}

/* Runs pwned_check(PW) against a server answering answer; its request in s. */
static enum pwned_result
check_against(void **state, struct server *s, const char *answer, size_t len)
{
	enum pwned_result r;
	char url[64];

	server_start(s, answer, len, 1);
	r = pwned_check(*state, server_url(s, url), NULL, PW, TIMEOUT_MS, "test");
	server_stop(s);
	return r;
}

#define HTTP_200 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"

static void
test_pwned_check_found(void **state)
{
	static const char answer[] = HTTP_200 "\r\n"
	    OTHER1 ":0\r\n" SUFFIX ":3861493\r\n" OTHER2 ":2";
	struct server s;

	assert_int_equal(check_against(state, &s, answer, strlen(answer)), PWNED_FOUND);
	assert_non_null(strstr(s.request, "GET /range/" PREFIX " HTTP/1.1\r\n"));
}

static void
test_pwned_check_not_found(void **state)
{
	static const char answer[] = HTTP_200 "\r\n" OTHER1 ":0\r\n" OTHER2 ":2\r\n";
	struct server s;

	assert_int_equal(check_against(state, &s, answer, strlen(answer)), PWNED_NOT_FOUND);
}

static void
test_pwned_check_sends_only_the_prefix(void **state)
{
	static const char answer[] = HTTP_200 "\r\n" OTHER1 ":0\r\n";
	struct server s;

	assert_int_equal(check_against(state, &s, answer, strlen(answer)), PWNED_NOT_FOUND);
	assert_non_null(strstr(s.request, "GET /range/" PREFIX " HTTP/1.1\r\n"));
	assert_non_null(strcasestr(s.request, "\r\nAdd-Padding: true\r\n"));
	assert_non_null(strcasestr(s.request,
	    "\r\nUser-Agent: sealed-chat/1.0 (+pwned-passwords-check)\r\n"));
	assert_null(strcasestr(s.request, SUFFIX));
	assert_null(strcasestr(s.request, "2E7A5"));
	assert_null(strstr(s.request, PW));
}

static void
test_pwned_check_trailing_slash_in_base_url(void **state)
{
	static const char answer[] = HTTP_200 "\r\n";
	struct server s;
	char url[70];

	server_start(&s, answer, strlen(answer), 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s.port);
	assert_int_equal(pwned_check(*state, url, "", PW, TIMEOUT_MS, "test"), PWNED_NOT_FOUND);
	server_stop(&s);
	assert_non_null(strstr(s.request, "GET /range/" PREFIX " HTTP/1.1\r\n"));
}

static void
test_pwned_check_error_status_unreachable(void **state)
{
	static const char answer[] = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
	    "Content-Length: 0\r\n\r\n";
	struct server s;

	assert_int_equal(check_against(state, &s, answer, strlen(answer)), PWNED_UNREACHABLE);
}

static void
test_pwned_check_redirect_not_followed(void **state)
{
	static const char answer[] = "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/x\r\n"
	    "Connection: close\r\nContent-Length: 0\r\n\r\n";
	struct server s;

	assert_int_equal(check_against(state, &s, answer, strlen(answer)), PWNED_UNREACHABLE);
}

static void
test_pwned_check_malformed_answer_unreachable(void **state)
{
	static const char answer[] = HTTP_200 "\r\n<html>maintenance</html>\r\n";
	struct server s;

	assert_int_equal(check_against(state, &s, answer, strlen(answer)), PWNED_UNREACHABLE);
}

static void
test_pwned_check_oversized_answer_unreachable(void **state)
{
	/* Well-formed padding, 3 MiB of it, with no Content-Length to stop it early. */
	const char line[] = OTHER1 ":0\r\n";
	size_t head = strlen(HTTP_200 "\r\n"), n = head + (3u << 20);
	char *answer = malloc(n);
	struct server s;

	assert_non_null(answer);
	memcpy(answer, HTTP_200 "\r\n", head);
	for (size_t off = head; off < n; off += sizeof(line) - 1)
		memcpy(answer + off, line, off + sizeof(line) - 1 <= n ? sizeof(line) - 1 : n - off);
	/* The same answer cut below the cap is accepted, so the cap is what refuses it. */
	assert_int_equal(check_against(state, &s, answer,
	    head + (PWNED_BODY_MAX / (sizeof(line) - 1)) * (sizeof(line) - 1)), PWNED_NOT_FOUND);
	assert_int_equal(check_against(state, &s, answer, n), PWNED_UNREACHABLE);
	free(answer);
}

static void
test_pwned_check_refused_connection_unreachable(void **state)
{
	struct timespec t0, t1;
	double ms;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	assert_int_equal(pwned_check(*state, "http://127.0.0.1:1", NULL, PW, TIMEOUT_MS, "test"),
	    PWNED_UNREACHABLE);
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_true(ms < TIMEOUT_MS + 500);
}

static void
test_pwned_check_silent_server_times_out(void **state)
{
	struct timespec t0, t1;
	struct server s;
	char url[64];
	double ms;

	/* Listening but never accepting: the connection opens, no answer comes. */
	server_start(&s, NULL, 0, 0);
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	assert_int_equal(pwned_check(*state, server_url(&s, url), NULL, PW, 300, "test"),
	    PWNED_UNREACHABLE);
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
	server_stop(&s);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_true(ms >= 250 && ms < 1500);
}

static void
test_pwned_check_other_protocols_refused(void **state)
{
	assert_int_equal(pwned_check(*state, "file:///etc", NULL, PW, TIMEOUT_MS, "test"),
	    PWNED_UNREACHABLE);
	assert_int_equal(pwned_check(*state, "ftp://127.0.0.1:1", NULL, PW, TIMEOUT_MS, "test"),
	    PWNED_UNREACHABLE);
}

static void
test_pwned_check_without_handle_unreachable(void **state)
{
	(void)state;
	assert_int_equal(pwned_check(NULL, "http://127.0.0.1:1", NULL, PW, TIMEOUT_MS, "test"),
	    PWNED_UNREACHABLE);
}

static void
test_pwned_check_log_holds_no_hash(void **state)
{
	static const char answer[] = "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n"
	    "Content-Length: 0\r\n\r\n";
	char path[] = "/tmp/test_pwned.XXXXXX", log[4096];
	struct server s;
	int fd, saved;
	ssize_t n;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fd, 2) == 2);
	assert_int_equal(check_against(state, &s, answer, strlen(answer)), PWNED_UNREACHABLE);
	assert_int_equal(pwned_check(*state, "http://127.0.0.1:1", NULL, PW, TIMEOUT_MS, "rid42"),
	    PWNED_UNREACHABLE);
	assert_true(dup2(saved, 2) == 2);
	close(saved);
	n = pread(fd, log, sizeof(log) - 1, 0);
	close(fd);
	assert_true(n > 0);
	log[n] = '\0';
	assert_non_null(strstr(log, "rid=test pwned: "));
	assert_non_null(strstr(log, "500"));
	assert_non_null(strstr(log, "rid=rid42 pwned: "));
	assert_null(strcasestr(log, "874572E7"));
	assert_null(strcasestr(log, "2E7A5AE6"));
	assert_null(strstr(log, PW));
}

static int
setup(void **state)
{
	*state = curl_easy_init();
	return *state != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	curl_easy_cleanup(*state);
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pwned_parse_found_with_count),
		cmocka_unit_test(test_pwned_parse_absent),
		cmocka_unit_test(test_pwned_parse_empty_body_absent),
		cmocka_unit_test(test_pwned_parse_padding_ignored),
		cmocka_unit_test(test_pwned_parse_lf_and_crlf),
		cmocka_unit_test(test_pwned_parse_last_line_without_newline),
		cmocka_unit_test(test_pwned_parse_suffix_case_ignored),
		cmocka_unit_test(test_pwned_parse_huge_count_capped),
		cmocka_unit_test(test_pwned_parse_malformed),
		cmocka_unit_test(test_pwned_parse_bad_suffix_argument),
		cmocka_unit_test(test_pwned_parse_only_reads_n_bytes),
		T(test_pwned_check_found),
		T(test_pwned_check_not_found),
		T(test_pwned_check_sends_only_the_prefix),
		T(test_pwned_check_trailing_slash_in_base_url),
		T(test_pwned_check_error_status_unreachable),
		T(test_pwned_check_redirect_not_followed),
		T(test_pwned_check_malformed_answer_unreachable),
		T(test_pwned_check_oversized_answer_unreachable),
		T(test_pwned_check_refused_connection_unreachable),
		T(test_pwned_check_silent_server_times_out),
		T(test_pwned_check_other_protocols_refused),
		T(test_pwned_check_without_handle_unreachable),
		T(test_pwned_check_log_holds_no_hash),
	};
	int rc;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
