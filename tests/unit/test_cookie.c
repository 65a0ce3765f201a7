/*
 * cookie: cookie_get() finds one cookie by its exact name in a Cookie
 * header, trims the spaces around it, strips one pair of quotes and copies
 * the value to the arena; absent cookies and absent headers give NULL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "arena.h"
#include "arena_fixture.h"
#include "cookie.h"


static void
test_cookie_single(void **state)
{
	assert_string_equal(cookie_get(*state, "sid=abc", "sid"), "abc");
}

static void
test_cookie_among_several(void **state)
{
	const char *h = "a=1; sid=abc; b=2";

	assert_string_equal(cookie_get(*state, h, "a"), "1");
	assert_string_equal(cookie_get(*state, h, "sid"), "abc");
	assert_string_equal(cookie_get(*state, h, "b"), "2");
}

static void
test_cookie_without_spaces(void **state)
{
	const char *h = "a=1;sid=abc;b=2";

	assert_string_equal(cookie_get(*state, h, "sid"), "abc");
	assert_string_equal(cookie_get(*state, h, "b"), "2");
}

static void
test_cookie_spaces_trimmed(void **state)
{
	const char *h = "  a = 1 ;\tsid=\tabc\t ;  b=2  ";

	assert_string_equal(cookie_get(*state, h, "a"), "1");
	assert_string_equal(cookie_get(*state, h, "sid"), "abc");
	assert_string_equal(cookie_get(*state, h, "b"), "2");
}

static void
test_cookie_inner_space_kept(void **state)
{
	assert_string_equal(cookie_get(*state, "a=x y", "a"), "x y");
}

static void
test_cookie_quotes_stripped(void **state)
{
	assert_string_equal(cookie_get(*state, "a=1; sid=\"abc\"; b=2", "sid"), "abc");
	assert_string_equal(cookie_get(*state, "sid=\"\"", "sid"), "");
}

static void
test_cookie_unbalanced_quote_kept(void **state)
{
	assert_string_equal(cookie_get(*state, "sid=\"abc", "sid"), "\"abc");
	assert_string_equal(cookie_get(*state, "sid=\"", "sid"), "\"");
}

static void
test_cookie_name_that_is_a_suffix_of_another(void **state)
{
	const char *h = "__Host-sid=host; sid=plain";

	assert_string_equal(cookie_get(*state, h, "sid"), "plain");
	assert_string_equal(cookie_get(*state, h, "__Host-sid"), "host");
	/* Only the longer one present: the short name must not match it. */
	assert_null(cookie_get(*state, "__Host-sid=host", "sid"));
}

static void
test_cookie_name_that_is_a_prefix_of_another(void **state)
{
	const char *h = "sidx=1; sid=2";

	assert_string_equal(cookie_get(*state, h, "sid"), "2");
	assert_null(cookie_get(*state, "sidx=1", "sid"));
	assert_null(cookie_get(*state, "sid=1", "sidx"));
}

static void
test_cookie_name_is_case_sensitive(void **state)
{
	assert_null(cookie_get(*state, "SID=1", "sid"));
}

static void
test_cookie_missing(void **state)
{
	assert_null(cookie_get(*state, "a=1; b=2", "sid"));
	assert_null(cookie_get(*state, "", "sid"));
	assert_null(cookie_get(*state, ";;; ", "sid"));
}

static void
test_cookie_null_header(void **state)
{
	assert_null(cookie_get(*state, NULL, "sid"));
}

static void
test_cookie_empty_name_never_matches(void **state)
{
	assert_null(cookie_get(*state, "=x; a=1", ""));
}

static void
test_cookie_empty_value(void **state)
{
	assert_string_equal(cookie_get(*state, "sid=; a=1", "sid"), "");
	assert_string_equal(cookie_get(*state, "a=1; sid=", "sid"), "");
}

static void
test_cookie_value_may_hold_equals(void **state)
{
	assert_string_equal(cookie_get(*state, "t=a=b==", "t"), "a=b==");
}

static void
test_cookie_segment_without_equals_skipped(void **state)
{
	const char *h = "junk; sid; sid=ok";

	assert_string_equal(cookie_get(*state, h, "sid"), "ok");
}

static void
test_cookie_first_of_duplicates_wins(void **state)
{
	assert_string_equal(cookie_get(*state, "sid=first; sid=second", "sid"), "first");
}

static void
test_cookie_out_of_memory_gives_null(void **state)
{
	struct arena a = {.limit = 8};

	(void)state;
	assert_null(cookie_get(&a, "sid=0123456789abcdef", "sid"));
	arena_free(&a);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cookie_single),
		T(test_cookie_among_several),
		T(test_cookie_without_spaces),
		T(test_cookie_spaces_trimmed),
		T(test_cookie_inner_space_kept),
		T(test_cookie_quotes_stripped),
		T(test_cookie_unbalanced_quote_kept),
		T(test_cookie_name_that_is_a_suffix_of_another),
		T(test_cookie_name_that_is_a_prefix_of_another),
		T(test_cookie_name_is_case_sensitive),
		T(test_cookie_missing),
		T(test_cookie_null_header),
		T(test_cookie_empty_name_never_matches),
		T(test_cookie_empty_value),
		T(test_cookie_value_may_hold_equals),
		T(test_cookie_segment_without_equals_skipped),
		T(test_cookie_first_of_duplicates_wins),
		T(test_cookie_out_of_memory_gives_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
