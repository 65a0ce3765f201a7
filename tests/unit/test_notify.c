/*
 * notify: only channel names are tested here (publishing needs nchan, which
 * the API tests cover): 1 to 64 of [A-Za-z0-9_-], nothing else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "notify.h"

static void
test_notify_channel_good_names(void **state)
{
	(void)state;
	assert_int_equal(notify_channel_valid("a"), 1);
	assert_int_equal(notify_channel_valid("user_42"), 1);
	assert_int_equal(notify_channel_valid("AZaz09-_"), 1);
	assert_int_equal(notify_channel_valid("0123456789abcdef0123456789abcdef"), 1);
}

static void
test_notify_channel_64_chars_ok(void **state)
{
	char name[65];

	(void)state;
	memset(name, 'c', 64);
	name[64] = '\0';
	assert_int_equal(notify_channel_valid(name), 1);
}

static void
test_notify_channel_65_chars_refused(void **state)
{
	char name[66];

	(void)state;
	memset(name, 'c', 65);
	name[65] = '\0';
	assert_int_equal(notify_channel_valid(name), 0);
}

static void
test_notify_channel_empty_refused(void **state)
{
	(void)state;
	assert_int_equal(notify_channel_valid(""), 0);
}

static void
test_notify_channel_slash_refused(void **state)
{
	(void)state;
	assert_int_equal(notify_channel_valid("a/b"), 0);
	assert_int_equal(notify_channel_valid("../pub"), 0);
}

static void
test_notify_channel_space_refused(void **state)
{
	(void)state;
	assert_int_equal(notify_channel_valid("a b"), 0);
	assert_int_equal(notify_channel_valid("a\tb"), 0);
	assert_int_equal(notify_channel_valid("a\n"), 0);
}

static void
test_notify_channel_non_ascii_refused(void **state)
{
	(void)state;
	assert_int_equal(notify_channel_valid("\xc3\xbc"), 0);	/* ü */
	assert_int_equal(notify_channel_valid("a\xc3\xbc"), 0);
}

static void
test_notify_channel_url_specials_refused(void **state)
{
	const char *bad[] = {"a?b", "a#b", "a%20", "a.b", "a:b", "a&b", "a=b", "a+b"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(notify_channel_valid(bad[i]), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_channel_good_names),
		cmocka_unit_test(test_notify_channel_64_chars_ok),
		cmocka_unit_test(test_notify_channel_65_chars_refused),
		cmocka_unit_test(test_notify_channel_empty_refused),
		cmocka_unit_test(test_notify_channel_slash_refused),
		cmocka_unit_test(test_notify_channel_space_refused),
		cmocka_unit_test(test_notify_channel_non_ascii_refused),
		cmocka_unit_test(test_notify_channel_url_specials_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
