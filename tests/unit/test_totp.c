/*
 * totp: RFC 6238 codes (Appendix B vectors, SHA-1, cut to 6 digits), the
 * ±1-step window, refusal of a replayed or earlier step, strict code
 * syntax, base32 without padding, and the otpauth:// URI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <liboath/oath.h>

#include "totp.h"

/* The RFC 6238 SHA-1 seed. */
static const unsigned char seed[20] = "12345678901234567890";
/* A time in the middle of step 56666666 (30 s steps). */
#define NOW ((time_t)1699999995)
#define STEP ((long long)(NOW / 30))

static int
setup(void **state)
{
	(void)state;
	return totp_global_init();
}

static int
teardown(void **state)
{
	(void)state;
	return oath_done() == OATH_OK ? 0 : -1;
}

static void
test_totp_base32_rfc_seed(void **state)
{
	char b32[40];

	(void)state;
	assert_int_equal(totp_base32(seed, sizeof(seed), b32, sizeof(b32)), 32);
	assert_string_equal(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

static void
test_totp_base32_no_padding(void **state)
{
	char b32[40];

	(void)state;
	/* RFC 4648 §10: BASE32("foo") = "MZXW6===". */
	assert_int_equal(totp_base32((const unsigned char *)"foo", 3, b32, sizeof(b32)), 5);
	assert_string_equal(b32, "MZXW6");
}

static void
test_totp_base32_small_buffer_refused(void **state)
{
	char b32[32];

	(void)state;
	assert_int_equal(totp_base32(seed, sizeof(seed), b32, sizeof(b32)), -1);
}

static void
test_totp_secret_new_random(void **state)
{
	unsigned char a[TOTP_SECRET_LEN], b[TOTP_SECRET_LEN];

	(void)state;
	assert_int_equal(TOTP_SECRET_LEN, 20);
	assert_int_equal(totp_secret_new(a), 0);
	assert_int_equal(totp_secret_new(b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
}

static void
assert_code(time_t t, const char *want)
{
	char code[7];

	assert_int_equal(totp_code(seed, sizeof(seed), t, code), 0);
	assert_string_equal(code, want);
}

static void
test_totp_code_rfc6238_vectors(void **state)
{
	(void)state;
	assert_code(59, "287082");
	assert_code(1111111109, "081804");
	assert_code(1111111111, "050471");
	assert_code(1234567890, "005924");
	assert_code(2000000000, "279037");
	assert_code((time_t)20000000000LL, "353130");
}

/* totp_validate of the code for time t, checked at NOW. */
static int
validate_code_of(time_t t, long long last_step, long long *step)
{
	char code[7];

	assert_int_equal(totp_code(seed, sizeof(seed), t, code), 0);
	return totp_validate(seed, sizeof(seed), NOW, code, last_step, step);
}

static void
test_totp_validate_current_step(void **state)
{
	long long step = -1;

	(void)state;
	assert_int_equal(validate_code_of(NOW, 0, &step), 0);
	assert_int_equal(step, STEP);
}

static void
test_totp_validate_previous_step(void **state)
{
	long long step = -1;

	(void)state;
	assert_int_equal(validate_code_of(NOW - 30, 0, &step), 0);
	assert_int_equal(step, STEP - 1);
}

static void
test_totp_validate_next_step(void **state)
{
	long long step = -1;

	(void)state;
	assert_int_equal(validate_code_of(NOW + 30, 0, &step), 0);
	assert_int_equal(step, STEP + 1);
}

static void
test_totp_validate_outside_window_refused(void **state)
{
	long long step = -1;

	(void)state;
	assert_int_equal(validate_code_of(NOW - 60, 0, &step), -1);
	assert_int_equal(validate_code_of(NOW + 60, 0, &step), -1);
	assert_int_equal(validate_code_of(NOW - 3600, 0, &step), -1);
	assert_int_equal(step, -1);
}

static void
test_totp_validate_wrong_code_refused(void **state)
{
	char code[7];
	long long step = -1;

	(void)state;
	assert_int_equal(totp_code(seed, sizeof(seed), NOW, code), 0);
	code[5] = code[5] == '9' ? '0' : (char)(code[5] + 1);
	assert_int_equal(totp_validate(seed, sizeof(seed), NOW, code, 0, &step), -1);
	assert_int_equal(step, -1);
}

static void
test_totp_validate_replay_of_same_step_refused(void **state)
{
	long long step = -1, again = -1;

	(void)state;
	assert_int_equal(validate_code_of(NOW, 0, &step), 0);
	assert_int_equal(validate_code_of(NOW, step, &again), -2);
	assert_int_equal(again, -1);
}

static void
test_totp_validate_earlier_step_refused(void **state)
{
	long long step = -1;

	(void)state;
	/* The next step's code was used: the current one is now in the past. */
	assert_int_equal(validate_code_of(NOW - 30, STEP, &step), -2);
	assert_int_equal(validate_code_of(NOW, STEP + 1, &step), -2);
	assert_int_equal(step, -1);
	/* A later step is still fine. */
	assert_int_equal(validate_code_of(NOW + 30, STEP, &step), 0);
	assert_int_equal(step, STEP + 1);
}

static void
test_totp_validate_malformed_codes_refused(void **state)
{
	static const char *const bad[] = {
		"12345", "1234567", "12a456", "", " 12345", "12345 ", "+12345", "-12345",
		"１２３４５６",
	};
	char code[8];
	long long step = -1;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(totp_validate(seed, sizeof(seed), NOW, bad[i], 0, &step), -1);
	assert_int_equal(totp_validate(seed, sizeof(seed), NOW, NULL, 0, &step), -1);
	/* The right code with anything after it. */
	assert_int_equal(totp_code(seed, sizeof(seed), NOW, code), 0);
	strcat(code, "0");
	assert_int_equal(totp_validate(seed, sizeof(seed), NOW, code, 0, &step), -1);
	assert_int_equal(step, -1);
}

/* liboath accepts what `oathtool --totp -b` prints for the same secret. */
static void
test_totp_validate_accepts_oathtool(void **state)
{
	unsigned char secret[TOTP_SECRET_LEN];
	char b32[40], cmd[128], code[16] = "";
	long long step = -1;
	time_t now;
	FILE *p;

	(void)state;
	assert_int_equal(totp_secret_new(secret), 0);
	assert_int_equal(totp_base32(secret, sizeof(secret), b32, sizeof(b32)), 32);
	snprintf(cmd, sizeof(cmd), "oathtool --totp -b %s", b32);
	now = time(NULL);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(code, sizeof(code), p));
	assert_int_equal(pclose(p), 0);
	code[strcspn(code, "\n")] = '\0';
	assert_int_equal(totp_validate(secret, sizeof(secret), now, code, 0, &step), 0);
	assert_true(step >= now / 30 - 1 && step <= now / 30 + 1);
}

static void
test_totp_uri_format(void **state)
{
	char uri[256];
	const char *want = "otpauth://totp/Sealed:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	    "&issuer=Sealed&algorithm=SHA1&digits=6&period=30";

	(void)state;
	assert_int_equal(totp_uri(uri, sizeof(uri), "Sealed", "alice",
	    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), (int)strlen(want));
	assert_string_equal(uri, want);
}

static void
test_totp_uri_percent_encodes_issuer_and_user(void **state)
{
	char uri[256];

	(void)state;
	assert_true(totp_uri(uri, sizeof(uri), "Sealed Chat", "a b&c", "ABC") > 0);
	assert_string_equal(uri, "otpauth://totp/Sealed%20Chat:a%20b%26c?secret=ABC"
	    "&issuer=Sealed%20Chat&algorithm=SHA1&digits=6&period=30");
	assert_true(totp_uri(uri, sizeof(uri), "x:y/z?", "A-z_0.9~\xc3\xa9", "ABC") > 0);
	assert_string_equal(uri, "otpauth://totp/x%3Ay%2Fz%3F:A-z_0.9~%C3%A9?secret=ABC"
	    "&issuer=x%3Ay%2Fz%3F&algorithm=SHA1&digits=6&period=30");
}

static void
test_totp_uri_small_buffer_refused(void **state)
{
	char uri[256];
	int n;

	(void)state;
	n = totp_uri(uri, sizeof(uri), "Sealed", "a b&c", "ABC");
	assert_true(n > 0);
	/* Exactly enough room for the string and its NUL, then one byte less. */
	assert_int_equal(totp_uri(uri, (size_t)n + 1, "Sealed", "a b&c", "ABC"), n);
	assert_int_equal(totp_uri(uri, (size_t)n, "Sealed", "a b&c", "ABC"), -1);
	assert_string_equal(uri, "");
	assert_int_equal(totp_uri(uri, sizeof(uri), NULL, "a", "ABC"), -1);
}

#define T(f) cmocka_unit_test(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_totp_base32_rfc_seed),
		T(test_totp_base32_no_padding),
		T(test_totp_base32_small_buffer_refused),
		T(test_totp_secret_new_random),
		T(test_totp_code_rfc6238_vectors),
		T(test_totp_validate_current_step),
		T(test_totp_validate_previous_step),
		T(test_totp_validate_next_step),
		T(test_totp_validate_outside_window_refused),
		T(test_totp_validate_wrong_code_refused),
		T(test_totp_validate_replay_of_same_step_refused),
		T(test_totp_validate_earlier_step_refused),
		T(test_totp_validate_malformed_codes_refused),
		T(test_totp_validate_accepts_oathtool),
		T(test_totp_uri_format),
		T(test_totp_uri_percent_encodes_issuer_and_user),
		T(test_totp_uri_small_buffer_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
