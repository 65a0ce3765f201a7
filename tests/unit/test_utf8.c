/*
 * utf8: utf8_valid() accepts exactly RFC 3629 UTF-8 without NUL bytes:
 * no overlong forms, no surrogates, nothing above U+10FFFF, no truncated
 * sequence and no stray continuation byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "utf8.h"

/* Byte strings may hold NUL, so they carry their length. */
#define VALID(lit) utf8_valid((lit), sizeof(lit) - 1)

static void
test_utf8_empty_is_valid(void **state)
{
	(void)state;
	assert_int_equal(utf8_valid("", 0), 1);
}

static void
test_utf8_ascii_is_valid(void **state)
{
	(void)state;
	assert_int_equal(VALID("hello, world ~\x7f\x01"), 1);
}

static void
test_utf8_two_byte_is_valid(void **state)
{
	(void)state;
	assert_int_equal(VALID("\xc3\xbc"), 1);		/* U+00FC ü */
	assert_int_equal(VALID("\xc2\x80"), 1);		/* U+0080, smallest */
	assert_int_equal(VALID("\xdf\xbf"), 1);		/* U+07FF, largest */
}

static void
test_utf8_three_byte_is_valid(void **state)
{
	(void)state;
	assert_int_equal(VALID("\xe2\x82\xac"), 1);	/* U+20AC € */
	assert_int_equal(VALID("\xe0\xa0\x80"), 1);	/* U+0800, smallest */
	assert_int_equal(VALID("\xed\x9f\xbf"), 1);	/* U+D7FF, below surrogates */
	assert_int_equal(VALID("\xee\x80\x80"), 1);	/* U+E000, above surrogates */
	assert_int_equal(VALID("\xef\xbf\xbf"), 1);	/* U+FFFF */
}

static void
test_utf8_four_byte_is_valid(void **state)
{
	(void)state;
	assert_int_equal(VALID("\xf0\x9f\x98\x80"), 1);	/* U+1F600 */
	assert_int_equal(VALID("\xf0\x90\x80\x80"), 1);	/* U+10000, smallest */
	assert_int_equal(VALID("\xf4\x8f\xbf\xbf"), 1);	/* U+10FFFF, largest */
}

static void
test_utf8_mixed_text_is_valid(void **state)
{
	(void)state;
	assert_int_equal(VALID("a\xc3\xbc" "b\xe2\x82\xac" "c\xf0\x9f\x98\x80" "d"), 1);
}

static void
test_utf8_overlong_two_byte_refused(void **state)
{
	(void)state;
	assert_int_equal(VALID("\xc0\x80"), 0);		/* NUL */
	assert_int_equal(VALID("\xc1\xbf"), 0);		/* U+007F */
	assert_int_equal(VALID("\xc0\xaf"), 0);		/* '/' */
}

static void
test_utf8_overlong_three_byte_refused(void **state)
{
	(void)state;
	assert_int_equal(VALID("\xe0\x80\x80"), 0);
	assert_int_equal(VALID("\xe0\x9f\xbf"), 0);	/* U+07FF */
}

static void
test_utf8_overlong_four_byte_refused(void **state)
{
	(void)state;
	assert_int_equal(VALID("\xf0\x80\x80\x80"), 0);
	assert_int_equal(VALID("\xf0\x8f\xbf\xbf"), 0);	/* U+FFFF */
}

static void
test_utf8_surrogates_refused(void **state)
{
	(void)state;
	assert_int_equal(VALID("\xed\xa0\x80"), 0);	/* U+D800 */
	assert_int_equal(VALID("\xed\xbf\xbf"), 0);	/* U+DFFF */
	/* A CESU-8 pair is two surrogates, not one character. */
	assert_int_equal(VALID("\xed\xa0\xbd\xed\xb8\x80"), 0);
}

static void
test_utf8_above_max_refused(void **state)
{
	(void)state;
	assert_int_equal(VALID("\xf4\x90\x80\x80"), 0);	/* U+110000 */
	assert_int_equal(VALID("\xf5\x80\x80\x80"), 0);
	assert_int_equal(VALID("\xf8\x88\x80\x80\x80"), 0);
	assert_int_equal(VALID("\xfe"), 0);
	assert_int_equal(VALID("\xff"), 0);
}

static void
test_utf8_truncated_refused(void **state)
{
	(void)state;
	assert_int_equal(VALID("\xc3"), 0);
	assert_int_equal(VALID("\xe2\x82"), 0);
	assert_int_equal(VALID("\xf0\x9f\x98"), 0);
	assert_int_equal(VALID("ab\xf0"), 0);
	/* Truncated in the middle, followed by ASCII. */
	assert_int_equal(VALID("\xe2\x82z"), 0);
	/* The length given is what counts, not the NUL terminator. */
	assert_int_equal(utf8_valid("\xe2\x82\xac", 2), 0);
	assert_int_equal(utf8_valid("\xe2\x82\xac", 3), 1);
}

static void
test_utf8_lone_continuation_refused(void **state)
{
	(void)state;
	assert_int_equal(VALID("\x80"), 0);
	assert_int_equal(VALID("a\xbf" "b"), 0);
	/* One continuation byte too many. */
	assert_int_equal(VALID("\xc3\xbc\xbc"), 0);
}

static void
test_utf8_embedded_nul_refused(void **state)
{
	(void)state;
	assert_int_equal(VALID("a\0b"), 0);
	assert_int_equal(VALID("\0"), 0);
	assert_int_equal(VALID("abc\0"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_empty_is_valid),
		cmocka_unit_test(test_utf8_ascii_is_valid),
		cmocka_unit_test(test_utf8_two_byte_is_valid),
		cmocka_unit_test(test_utf8_three_byte_is_valid),
		cmocka_unit_test(test_utf8_four_byte_is_valid),
		cmocka_unit_test(test_utf8_mixed_text_is_valid),
		cmocka_unit_test(test_utf8_overlong_two_byte_refused),
		cmocka_unit_test(test_utf8_overlong_three_byte_refused),
		cmocka_unit_test(test_utf8_overlong_four_byte_refused),
		cmocka_unit_test(test_utf8_surrogates_refused),
		cmocka_unit_test(test_utf8_above_max_refused),
		cmocka_unit_test(test_utf8_truncated_refused),
		cmocka_unit_test(test_utf8_lone_continuation_refused),
		cmocka_unit_test(test_utf8_embedded_nul_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
