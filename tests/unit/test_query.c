/*
 * query: query_decode() percent- and plus-decodes into checked UTF-8;
 * query_parse() splits a raw query into at most QUERY_MAX distinct, named
 * pairs and refuses everything else with an error, never a partial guess.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arena.h"
#include "arena_fixture.h"
#include "query.h"


/* Decodes a C string; NULL on refusal with *e set. */
static char *
decode(void **state, const char *s, int plus, enum err *e)
{
	*e = ERR_OK;
	return query_decode(*state, s, strlen(s), plus, e);
}

static void
test_query_decode_plain_text_unchanged(void **state)
{
	enum err e;

	assert_string_equal(decode(state, "abc-_.~", 1, &e), "abc-_.~");
	assert_string_equal(decode(state, "", 1, &e), "");
}

static void
test_query_decode_percent_escape(void **state)
{
	enum err e;

	assert_string_equal(decode(state, "%41", 1, &e), "A");
	assert_string_equal(decode(state, "x%41y%2f%2F", 1, &e), "xAy//");
	assert_string_equal(decode(state, "%c3%BC", 1, &e), "\xc3\xbc");
}

static void
test_query_decode_only_reads_n_bytes(void **state)
{
	enum err e = ERR_OK;
	char *s = query_decode(*state, "ab%41", 2, 1, &e);

	assert_non_null(s);
	assert_string_equal(s, "ab");
}

static void
test_query_decode_bad_hex_refused(void **state)
{
	enum err e;

	assert_null(decode(state, "%zz", 1, &e));
	assert_int_equal(e, ERR_BAD_QUERY);
	assert_null(decode(state, "%4g", 1, &e));
	assert_int_equal(e, ERR_BAD_QUERY);
}

static void
test_query_decode_trailing_percent_refused(void **state)
{
	enum err e;

	assert_null(decode(state, "abc%", 1, &e));
	assert_int_equal(e, ERR_BAD_QUERY);
}

static void
test_query_decode_short_escape_refused(void **state)
{
	enum err e;

	assert_null(decode(state, "%4", 1, &e));
	assert_int_equal(e, ERR_BAD_QUERY);
	assert_null(decode(state, "a%4", 0, &e));
	assert_int_equal(e, ERR_BAD_QUERY);
}

static void
test_query_decode_escape_cut_by_length(void **state)
{
	enum err e = ERR_OK;

	/* "%41" cut to 2 bytes is a short escape, not "A". */
	assert_null(query_decode(*state, "%41", 2, 1, &e));
	assert_int_equal(e, ERR_BAD_QUERY);
	e = ERR_OK;
	assert_null(query_decode(*state, "a%41", 3, 0, &e));
	assert_int_equal(e, ERR_BAD_QUERY);
}

static void
test_query_decode_plus_is_space_when_asked(void **state)
{
	enum err e;

	assert_string_equal(decode(state, "a+b", 1, &e), "a b");
	assert_string_equal(decode(state, "a%2Bb", 1, &e), "a+b");
}

static void
test_query_decode_plus_kept_in_paths(void **state)
{
	enum err e;

	assert_string_equal(decode(state, "a+b", 0, &e), "a+b");
	assert_string_equal(decode(state, "a%20b", 0, &e), "a b");
}

static void
test_query_decode_encoded_nul_refused(void **state)
{
	enum err e;

	assert_null(decode(state, "a%00b", 1, &e));
	assert_int_equal(e, ERR_INVALID_UTF8);
}

static void
test_query_decode_invalid_utf8_refused(void **state)
{
	enum err e;

	assert_null(decode(state, "%FF", 1, &e));
	assert_int_equal(e, ERR_INVALID_UTF8);
	assert_null(decode(state, "%C0%80", 1, &e));	/* overlong NUL */
	assert_int_equal(e, ERR_INVALID_UTF8);
	assert_null(decode(state, "%ED%A0%80", 1, &e));	/* surrogate */
	assert_int_equal(e, ERR_INVALID_UTF8);
}

static void
test_query_decode_raw_invalid_utf8_refused(void **state)
{
	enum err e;

	assert_null(decode(state, "\xc3", 1, &e));
	assert_int_equal(e, ERR_INVALID_UTF8);
}

static void
test_query_decode_out_of_memory_is_internal(void **state)
{
	struct arena a = {.limit = 16};
	enum err e = ERR_OK;

	assert_null(query_decode(&a, "0123456789abcdefghij", 20, 1, &e));
	assert_int_equal(e, ERR_INTERNAL);
	arena_free(&a);
	(void)state;
}

static void
test_query_parse_pairs(void **state)
{
	struct query q;

	assert_int_equal(query_parse(*state, "a=1&b=x%20y&c=d+e", &q), ERR_OK);
	assert_int_equal(q.n, 3);
	assert_string_equal(q.pairs[0].name, "a");
	assert_string_equal(q.pairs[0].value, "1");
	assert_string_equal(q.pairs[1].name, "b");
	assert_string_equal(q.pairs[1].value, "x y");
	assert_string_equal(q.pairs[2].name, "c");
	assert_string_equal(q.pairs[2].value, "d e");
}

static void
test_query_parse_decodes_names(void **state)
{
	struct query q;

	assert_int_equal(query_parse(*state, "a%5Fb=1&c+d=2", &q), ERR_OK);
	assert_int_equal(q.n, 2);
	assert_string_equal(q.pairs[0].name, "a_b");
	assert_string_equal(q.pairs[1].name, "c d");
}

static void
test_query_parse_value_may_hold_equals(void **state)
{
	struct query q;

	assert_int_equal(query_parse(*state, "a=b=c", &q), ERR_OK);
	assert_int_equal(q.n, 1);
	assert_string_equal(q.pairs[0].value, "b=c");
}

static void
test_query_parse_empty_value(void **state)
{
	struct query q;

	assert_int_equal(query_parse(*state, "a=", &q), ERR_OK);
	assert_int_equal(q.n, 1);
	assert_string_equal(q.pairs[0].name, "a");
	assert_string_equal(q.pairs[0].value, "");
}

static void
test_query_parse_name_without_equals(void **state)
{
	struct query q;

	assert_int_equal(query_parse(*state, "flag&b=2", &q), ERR_OK);
	assert_int_equal(q.n, 2);
	assert_string_equal(q.pairs[0].name, "flag");
	assert_string_equal(q.pairs[0].value, "");
	assert_string_equal(q.pairs[1].value, "2");
}

static void
test_query_parse_double_ampersand_skipped(void **state)
{
	struct query q;

	assert_int_equal(query_parse(*state, "a=1&&b=2", &q), ERR_OK);
	assert_int_equal(q.n, 2);
	assert_string_equal(q.pairs[1].name, "b");
	assert_int_equal(query_parse(*state, "&&&", &q), ERR_OK);
	assert_int_equal(q.n, 0);
}

static void
test_query_parse_trailing_ampersand(void **state)
{
	struct query q;

	assert_int_equal(query_parse(*state, "a=1&", &q), ERR_OK);
	assert_int_equal(q.n, 1);
	assert_string_equal(q.pairs[0].value, "1");
}

static void
test_query_parse_leading_ampersand(void **state)
{
	struct query q;

	assert_int_equal(query_parse(*state, "&a=1", &q), ERR_OK);
	assert_int_equal(q.n, 1);
	assert_string_equal(q.pairs[0].name, "a");
}

static void
test_query_parse_repeated_name_refused(void **state)
{
	struct query q;

	assert_int_equal(query_parse(*state, "a=1&a=2", &q), ERR_BAD_QUERY);
	/* The same name spelled differently is still the same name. */
	assert_int_equal(query_parse(*state, "a=1&%61=2", &q), ERR_BAD_QUERY);
	assert_int_equal(query_parse(*state, "a&a", &q), ERR_BAD_QUERY);
}

static void
test_query_parse_empty_name_refused(void **state)
{
	struct query q;

	assert_int_equal(query_parse(*state, "=1", &q), ERR_BAD_QUERY);
	assert_int_equal(query_parse(*state, "a=1&=2", &q), ERR_BAD_QUERY);
	assert_int_equal(query_parse(*state, "=", &q), ERR_BAD_QUERY);
}

static void
test_query_parse_at_most_query_max_pairs(void **state)
{
	char raw[512];
	size_t len = 0;
	struct query q;
	int i;

	for (i = 0; i < QUERY_MAX; i++)
		len += (size_t)snprintf(raw + len, sizeof(raw) - len, "%sk%d=%d", i ? "&" : "", i, i);
	assert_int_equal(query_parse(*state, raw, &q), ERR_OK);
	assert_int_equal(q.n, QUERY_MAX);
	assert_string_equal(query_get(&q, "k15"), "15");

	snprintf(raw + len, sizeof(raw) - len, "&k%d=%d", i, i);
	assert_int_equal(query_parse(*state, raw, &q), ERR_BAD_QUERY);
}

static void
test_query_parse_null_and_empty_give_no_pairs(void **state)
{
	struct query q;

	q.n = 99;
	assert_int_equal(query_parse(*state, NULL, &q), ERR_OK);
	assert_int_equal(q.n, 0);
	q.n = 99;
	assert_int_equal(query_parse(*state, "", &q), ERR_OK);
	assert_int_equal(q.n, 0);
}

static void
test_query_parse_bad_escape_refused(void **state)
{
	struct query q;

	assert_int_equal(query_parse(*state, "a=%zz", &q), ERR_BAD_QUERY);
	assert_int_equal(query_parse(*state, "a=1&b=%", &q), ERR_BAD_QUERY);
	assert_int_equal(query_parse(*state, "a%=1", &q), ERR_BAD_QUERY);
}

static void
test_query_parse_bad_utf8_refused(void **state)
{
	struct query q;

	assert_int_equal(query_parse(*state, "a=%FF", &q), ERR_INVALID_UTF8);
	assert_int_equal(query_parse(*state, "a=%00", &q), ERR_INVALID_UTF8);
	assert_int_equal(query_parse(*state, "%FF=1", &q), ERR_INVALID_UTF8);
}

static void
test_query_get_finds_by_exact_name(void **state)
{
	struct query q;

	assert_int_equal(query_parse(*state, "ab=1&a=2&abc=3", &q), ERR_OK);
	assert_string_equal(query_get(&q, "a"), "2");
	assert_string_equal(query_get(&q, "ab"), "1");
	assert_string_equal(query_get(&q, "abc"), "3");
	assert_null(query_get(&q, "b"));
	assert_null(query_get(&q, ""));
}

static void
test_query_get_on_empty_query(void **state)
{
	struct query q;

	assert_int_equal(query_parse(*state, NULL, &q), ERR_OK);
	assert_null(query_get(&q, "a"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_query_decode_plain_text_unchanged),
		T(test_query_decode_percent_escape),
		T(test_query_decode_only_reads_n_bytes),
		T(test_query_decode_bad_hex_refused),
		T(test_query_decode_trailing_percent_refused),
		T(test_query_decode_short_escape_refused),
		T(test_query_decode_escape_cut_by_length),
		T(test_query_decode_plus_is_space_when_asked),
		T(test_query_decode_plus_kept_in_paths),
		T(test_query_decode_encoded_nul_refused),
		T(test_query_decode_invalid_utf8_refused),
		T(test_query_decode_raw_invalid_utf8_refused),
		T(test_query_decode_out_of_memory_is_internal),
		T(test_query_parse_pairs),
		T(test_query_parse_decodes_names),
		T(test_query_parse_value_may_hold_equals),
		T(test_query_parse_empty_value),
		T(test_query_parse_name_without_equals),
		T(test_query_parse_double_ampersand_skipped),
		T(test_query_parse_trailing_ampersand),
		T(test_query_parse_leading_ampersand),
		T(test_query_parse_repeated_name_refused),
		T(test_query_parse_empty_name_refused),
		T(test_query_parse_at_most_query_max_pairs),
		T(test_query_parse_null_and_empty_give_no_pairs),
		T(test_query_parse_bad_escape_refused),
		T(test_query_parse_bad_utf8_refused),
		T(test_query_get_finds_by_exact_name),
		T(test_query_get_on_empty_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
