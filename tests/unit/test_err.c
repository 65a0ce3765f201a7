/*
 * err: every error a client can see has a code, an HTTP status and a
 * message; anything outside the enum is answered as internal/500.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"

static void
test_err_every_value_has_code_status_message(void **state)
{
	(void)state;
	for (int e = 0; e < ERR__MAX; e++) {
		const char *code = err_code((enum err)e), *msg = err_strerror((enum err)e);

		assert_non_null(code);
		assert_non_null(msg);
		assert_true(strlen(code) > 0);
		assert_true(strlen(msg) > 0);
		/* Codes are machine-readable: lower case, digits and '_'. */
		assert_int_equal(strspn(code, "abcdefghijklmnopqrstuvwxyz0123456789_"), strlen(code));
		assert_in_range(err_status((enum err)e), 200, 599);
		/* Only ERR_OK is a success; every other value is a refusal. */
		if (e != ERR_OK)
			assert_in_range(err_status((enum err)e), 400, 599);
	}
}

static void
test_err_codes_are_unique(void **state)
{
	(void)state;
	for (int a = 0; a < ERR__MAX; a++)
		for (int b = a + 1; b < ERR__MAX; b++)
			assert_string_not_equal(err_code((enum err)a), err_code((enum err)b));
}

static void
test_err_known_values(void **state)
{
	(void)state;
	assert_string_equal(err_code(ERR_OK), "ok");
	assert_int_equal(err_status(ERR_OK), 200);
	assert_string_equal(err_code(ERR_NOT_FOUND), "not_found");
	assert_int_equal(err_status(ERR_NOT_FOUND), 404);
	assert_string_equal(err_code(ERR_METHOD), "method_not_allowed");
	assert_int_equal(err_status(ERR_METHOD), 405);
	assert_int_equal(err_status(ERR_BAD_VALUE), 422);
	assert_int_equal(err_status(ERR_TOO_LARGE), 413);
	assert_int_equal(err_status(ERR_MEDIA_TYPE), 415);
	assert_string_equal(err_code(ERR_DB_UNAVAILABLE), "db_unavailable");
	assert_int_equal(err_status(ERR_DB_UNAVAILABLE), 503);
	assert_string_equal(err_code(ERR_INTERNAL), "internal");
	assert_int_equal(err_status(ERR_INTERNAL), 500);
	for (int e = ERR_BAD_REQUEST; e <= ERR_UNEXPECTED_BODY; e++)
		if (e != ERR_BAD_VALUE)
			assert_int_equal(err_status((enum err)e), 400);
}

static void
test_err_out_of_range_is_internal(void **state)
{
	const int bad[] = {ERR__MAX, ERR__MAX + 1, 1000, -1};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum err e = (enum err)bad[i];

		assert_string_equal(err_code(e), "internal");
		assert_int_equal(err_status(e), 500);
		assert_string_equal(err_strerror(e), err_strerror(ERR_INTERNAL));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_every_value_has_code_status_message),
		cmocka_unit_test(test_err_codes_are_unique),
		cmocka_unit_test(test_err_known_values),
		cmocka_unit_test(test_err_out_of_range_is_internal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
