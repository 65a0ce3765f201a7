/*
 * captcha: answers are 5-6 characters of an alphabet without look-alikes,
 * every character and both lengths in use; typed answers are compared
 * case-insensitively; images are real PNGs of the promised size, never the
 * same twice, and a bad answer or a missing font is an error, not a picture.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <gd.h>

#include "captcha.h"

static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static int
setup(void **state)
{
	(void)state;
	return captcha_global_init();
}

static int
teardown(void **state)
{
	(void)state;
	gdFontCacheShutdown();
	return 0;
}

static void
test_captcha_alphabet_has_no_lookalikes(void **state)
{
	(void)state;
	/* Every look-alike group (also rotated up to 25 degrees) is out whole,
	 * and of the rotation pairs at least one side: 7/T/L, M/W, N/Z, 6/9, U/V, C/G. */
	assert_null(strpbrk(captcha_alphabet, "0OQD" "1ILJT7" "2Z" "5S" "8B" "6G9" "VW" "F"));
	for (const char *p = captcha_alphabet; *p != '\0'; p++) {
		assert_true((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'));
		assert_ptr_equal(strchr(captcha_alphabet, *p), p);
	}
	/* Enough for 5-6 characters to be worth more than 2^19 guesses. */
	assert_true(strlen(captcha_alphabet) >= 14);
}

static void
test_captcha_answer_length_and_alphabet(void **state)
{
	char a[CAPTCHA_MAX + 1];

	(void)state;
	for (int i = 0; i < 200; i++) {
		assert_int_equal(captcha_answer_new(a), 0);
		assert_in_range(strlen(a), CAPTCHA_MIN, CAPTCHA_MAX);
		assert_int_equal(strspn(a, captcha_alphabet), strlen(a));
	}
}

static void
test_captcha_answers_use_every_character_and_both_lengths(void **state)
{
	char a[CAPTCHA_MAX + 1];
	int seen[256] = {0}, lengths[CAPTCHA_MAX + 1] = {0};

	(void)state;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(captcha_answer_new(a), 0);
		lengths[strlen(a)]++;
		for (const char *p = a; *p != '\0'; p++)
			seen[(unsigned char)*p]++;
	}
	for (const char *p = captcha_alphabet; *p != '\0'; p++)
		assert_true(seen[(unsigned char)*p] > 0);
	/* Each length is expected 500 times (standard deviation 16). */
	assert_in_range(lengths[CAPTCHA_MIN], 400, 600);
	assert_in_range(lengths[CAPTCHA_MAX], 400, 600);
}

static void
test_captcha_answers_differ(void **state)
{
	char a[CAPTCHA_MAX + 1], b[CAPTCHA_MAX + 1], c[CAPTCHA_MAX + 1];

	(void)state;
	assert_int_equal(captcha_answer_new(a), 0);
	assert_int_equal(captcha_answer_new(b), 0);
	assert_int_equal(captcha_answer_new(c), 0);
	/* Two equal pairs among three draws: chance below 1e-12. */
	assert_false(strcmp(a, b) == 0 && strcmp(b, c) == 0);
}

static void
test_captcha_normalize_case_insensitive(void **state)
{
	char out[CAPTCHA_MAX + 1];

	(void)state;
	assert_int_equal(captcha_normalize("acehk", out), 0);
	assert_string_equal(out, "ACEHK");
	assert_int_equal(captcha_normalize("AcEhK3", out), 0);
	assert_string_equal(out, "ACEHK3");
	assert_int_equal(captcha_normalize("ACEHK", out), 0);
	assert_string_equal(out, "ACEHK");
}

static void
test_captcha_normalize_trims_surrounding_spaces(void **state)
{
	char out[CAPTCHA_MAX + 1];

	(void)state;
	assert_int_equal(captcha_normalize("  hkmnp ", out), 0);
	assert_string_equal(out, "HKMNP");
	/* Inner spaces are not the answer's. */
	assert_int_equal(captcha_normalize("hk mnp", out), -1);
	assert_int_equal(captcha_normalize("      ", out), -1);
}

static void
test_captcha_normalize_refuses_length_and_foreign_characters(void **state)
{
	char out[CAPTCHA_MAX + 1];

	(void)state;
	assert_int_equal(captcha_normalize("ACEH", out), -1);
	assert_int_equal(captcha_normalize("ACEHKMN", out), -1);
	assert_int_equal(captcha_normalize("", out), -1);
	assert_int_equal(captcha_normalize(NULL, out), -1);
	assert_int_equal(captcha_normalize("ACEH0", out), -1);
	assert_int_equal(captcha_normalize("ACEHO", out), -1);
	assert_int_equal(captcha_normalize("acehl", out), -1);
	assert_int_equal(captcha_normalize("ACEH\xc3\x89", out), -1);
	assert_int_equal(captcha_normalize("ACE-HK", out), -1);
	/* An answer, then spaces, then more: not trimmed away past any length. */
	assert_int_equal(captcha_normalize("ACEHK                                                            "
	    "                                                                 X", out), -1);
	assert_string_equal(out, "");
}

static void
test_captcha_normalize_accepts_every_answer(void **state)
{
	char a[CAPTCHA_MAX + 1], out[CAPTCHA_MAX + 1];

	(void)state;
	for (int i = 0; i < 100; i++) {
		assert_int_equal(captcha_answer_new(a), 0);
		assert_int_equal(captcha_normalize(a, out), 0);
		assert_string_equal(out, a);
	}
}

static unsigned
be32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (unsigned)u[0] << 24 | (unsigned)u[1] << 16 | (unsigned)u[2] << 8 | u[3];
}

static void
test_captcha_png_signature_size_and_geometry(void **state)
{
	struct buf png = {0};

	(void)state;
	assert_int_equal(captcha_png("HKMNP4", NULL, &png), 0);
	assert_memory_equal(png.p, png_signature, sizeof(png_signature));
	assert_true(png.len > 2048);
	assert_memory_equal(png.p + 12, "IHDR", 4);
	assert_int_equal(be32(png.p + 16), CAPTCHA_WIDTH);
	assert_int_equal(be32(png.p + 20), CAPTCHA_HEIGHT);
	buf_free(&png);
}

static void
test_captcha_png_same_answer_differs(void **state)
{
	struct buf a = {0}, b = {0};

	(void)state;
	assert_int_equal(captcha_png("ACEHK", CAPTCHA_FONT_DEFAULT, &a), 0);
	assert_int_equal(captcha_png("ACEHK", CAPTCHA_FONT_DEFAULT, &b), 0);
	assert_false(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
	buf_free(&a);
	buf_free(&b);
}

static void
test_captcha_png_bad_answer_refused(void **state)
{
	struct buf png = {0};

	(void)state;
	assert_int_equal(captcha_png("ACEH", NULL, &png), -1);
	assert_int_equal(captcha_png("ACEHKMN", NULL, &png), -1);
	assert_int_equal(captcha_png("acdef", NULL, &png), -1);
	assert_int_equal(captcha_png("ACEH0", NULL, &png), -1);
	assert_int_equal(captcha_png(NULL, NULL, &png), -1);
	assert_int_equal(png.len, 0);
	buf_free(&png);
}

static void
test_captcha_png_missing_font_refused(void **state)
{
	struct buf png = {0};

	(void)state;
	assert_int_equal(captcha_png("ACEHK", "/nonexistent/font.ttf", &png), -1);
	assert_int_equal(png.len, 0);
	buf_free(&png);
}

#define T(f) cmocka_unit_test(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_captcha_alphabet_has_no_lookalikes),
		T(test_captcha_answer_length_and_alphabet),
		T(test_captcha_answers_use_every_character_and_both_lengths),
		T(test_captcha_answers_differ),
		T(test_captcha_normalize_case_insensitive),
		T(test_captcha_normalize_trims_surrounding_spaces),
		T(test_captcha_normalize_refuses_length_and_foreign_characters),
		T(test_captcha_normalize_accepts_every_answer),
		T(test_captcha_png_signature_size_and_geometry),
		T(test_captcha_png_same_answer_differs),
		T(test_captcha_png_bad_answer_refused),
		T(test_captcha_png_missing_font_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
