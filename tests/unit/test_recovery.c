/*
 * recovery: a set is 10 distinct "xxxx-xxxx-xxxx-xxxx" codes over the
 * 31-letter alphabet, every letter reachable; typed codes normalize case,
 * spaces and dashes and nothing else; the stored hash is HMAC-SHA256 under
 * the pepper, deterministic and distinct per pepper and per code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <regex.h>

#include "recovery.h"

static const unsigned char pepper0[32];	/* all zero */
static const unsigned char pepper1[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static void
test_recovery_alphabet_has_31_unambiguous_letters(void **state)
{
	(void)state;
	assert_int_equal(strlen(recovery_alphabet), 31);
	assert_null(strpbrk(recovery_alphabet, "ilo01"));
	for (size_t i = 0; i < 31; i++)
		assert_ptr_equal(strchr(recovery_alphabet, recovery_alphabet[i]), recovery_alphabet + i);
}

static void
test_recovery_generate_ten_codes_in_format(void **state)
{
	char codes[RECOVERY_COUNT][RECOVERY_CODE_LEN + 1];
	regex_t re;

	(void)state;
	assert_int_equal(RECOVERY_COUNT, 10);
	assert_int_equal(regcomp(&re, "^[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){3}$",
	    REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(recovery_generate(codes), 0);
	for (int i = 0; i < RECOVERY_COUNT; i++) {
		assert_int_equal(strlen(codes[i]), RECOVERY_CODE_LEN);
		assert_int_equal(regexec(&re, codes[i], 0, NULL, 0), 0);
	}
	regfree(&re);
}

static void
test_recovery_generate_codes_distinct(void **state)
{
	char a[RECOVERY_COUNT][RECOVERY_CODE_LEN + 1], b[RECOVERY_COUNT][RECOVERY_CODE_LEN + 1];

	(void)state;
	assert_int_equal(recovery_generate(a), 0);
	assert_int_equal(recovery_generate(b), 0);
	for (int i = 0; i < RECOVERY_COUNT; i++)
		for (int j = 0; j < RECOVERY_COUNT; j++) {
			if (i != j)
				assert_string_not_equal(a[i], a[j]);
			assert_string_not_equal(a[i], b[j]);
		}
}

/*
 * 1,000 sets are 160,000 characters: each letter is expected 5,161 times
 * (standard deviation 71). A plain `byte % 31` would give the first 8
 * letters 5,625 each, beyond the 6 deviations allowed here.
 */
static void
test_recovery_generate_uses_whole_alphabet_evenly(void **state)
{
	char codes[RECOVERY_COUNT][RECOVERY_CODE_LEN + 1];
	int count[256] = {0};

	(void)state;
	for (int k = 0; k < 1000; k++) {
		assert_int_equal(recovery_generate(codes), 0);
		for (int i = 0; i < RECOVERY_COUNT; i++)
			for (const char *p = codes[i]; *p != '\0'; p++)
				if (*p != '-')
					count[(unsigned char)*p]++;
	}
	for (int c = 0; c < 256; c++) {
		if (strchr(recovery_alphabet, c) != NULL && c != '\0') {
			assert_in_range(count[c], 4737, 5585);
		} else {
			assert_int_equal(count[c], 0);
		}
	}
}

static void
test_recovery_normalize_generated_code(void **state)
{
	char codes[RECOVERY_COUNT][RECOVERY_CODE_LEN + 1], norm[17], want[17];

	(void)state;
	assert_int_equal(recovery_generate(codes), 0);
	for (int i = 0; i < RECOVERY_COUNT; i++) {
		for (int j = 0, k = 0; j < RECOVERY_CODE_LEN; j++)
			if (codes[i][j] != '-')
				want[k++] = codes[i][j];
		want[16] = '\0';
		assert_int_equal(recovery_normalize(codes[i], norm), 0);
		assert_string_equal(norm, want);
	}
}

static void
test_recovery_normalize_case_spaces_dashes(void **state)
{
	static const char *const forms[] = {
		"ABCD EFGH-jkmn pqrs",
		"abcd-efgh-jkmn-pqrs",
		"ABCDEFGHJKMNPQRS",
		"  abcd efgh jkmn pqrs  ",
		"-a-b-c-d-e-f-g-h-j-k-m-n-p-q-r-s-",
		"AbCd--EfGh  JkMn - PqRs",
	};
	char norm[17];

	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		assert_int_equal(recovery_normalize(forms[i], norm), 0);
		assert_string_equal(norm, "abcdefghjkmnpqrs");
	}
}

static void
test_recovery_normalize_wrong_length_refused(void **state)
{
	char norm[17];

	(void)state;
	assert_int_equal(recovery_normalize("abcd-efgh-jkmn-pqr", norm), -1);
	assert_int_equal(recovery_normalize("abcd-efgh-jkmn-pqrst", norm), -1);
	assert_int_equal(recovery_normalize("", norm), -1);
	assert_int_equal(recovery_normalize("- - - -", norm), -1);
	assert_int_equal(recovery_normalize("abcdefghjkmnpqrsabcdefghjkmnpqrs", norm), -1);
	assert_int_equal(recovery_normalize(NULL, norm), -1);
	assert_string_equal(norm, "");
}

static void
test_recovery_normalize_maps_no_lookalikes(void **state)
{
	char norm[17];

	(void)state;
	/* 'l', 'i', 'o', '0' and '1' are not guessed into '1', 'j', '0'...: refused. */
	assert_int_equal(recovery_normalize("abcd-efgh-jkmn-pqrl", norm), -1);
	assert_int_equal(recovery_normalize("abcd-efgh-jkmn-pqr0", norm), -1);
	assert_int_equal(recovery_normalize("abcd-efgh-jkmn-pqr1", norm), -1);
	assert_int_equal(recovery_normalize("abcd-efgh-jkmn-pqrO", norm), -1);
	assert_int_equal(recovery_normalize("abcd-efgh-jkmn-pqrI", norm), -1);
	/* Other separators and non-ASCII are not dropped either. */
	assert_int_equal(recovery_normalize("abcd_efgh_jkmn_pqrs", norm), -1);
	assert_int_equal(recovery_normalize("abcd\tefgh-jkmn-pqrs", norm), -1);
	assert_int_equal(recovery_normalize("abcd\xe2\x80\x93""efgh-jkmn-pqrs", norm), -1);
	assert_string_equal(norm, "");
}

static void
test_recovery_hash_known_answer(void **state)
{
	char hex[65];

	(void)state;
	/* printf 'recovery:abcdefghjkmnpqrs' | openssl dgst -sha256 -mac HMAC -macopt hexkey:00..1f */
	assert_int_equal(recovery_hash(pepper1, "abcdefghjkmnpqrs", hex), 0);
	assert_string_equal(hex, "ae186f9e45d3d49a51ae62828c19f257b0073674336c5f21b0f0495509384fc9");
	assert_int_equal(recovery_hash(pepper0, "abcdefghjkmnpqrs", hex), 0);
	assert_string_equal(hex, "fb1ce93a164084d85877802143cba5925204b1e1d4889d578aa3a3c0633926c3");
}

static void
test_recovery_hash_deterministic(void **state)
{
	char a[65], b[65];

	(void)state;
	assert_int_equal(recovery_hash(pepper1, "2345678923456789", a), 0);
	assert_int_equal(recovery_hash(pepper1, "2345678923456789", b), 0);
	assert_string_equal(a, b);
	assert_int_equal(strspn(a, "0123456789abcdef"), 64);
}

static void
test_recovery_hash_differs_by_pepper_and_code(void **state)
{
	char a[65], b[65], c[65];

	(void)state;
	assert_int_equal(recovery_hash(pepper1, "abcdefghjkmnpqrs", a), 0);
	assert_int_equal(recovery_hash(pepper0, "abcdefghjkmnpqrs", b), 0);
	assert_int_equal(recovery_hash(pepper1, "abcdefghjkmnpqrt", c), 0);
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c);
}

static void
test_recovery_hash_requires_normalized_length(void **state)
{
	char hex[65], shorter[17] = "abcdefghjkmnpqr";

	(void)state;
	assert_int_equal(recovery_hash(pepper1, shorter, hex), -1);
	assert_int_equal(recovery_hash(pepper1, "abcdefghjkmnpqrst", hex), -1);
	assert_string_equal(hex, "");
}

#define T(f) cmocka_unit_test(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_recovery_alphabet_has_31_unambiguous_letters),
		T(test_recovery_generate_ten_codes_in_format),
		T(test_recovery_generate_codes_distinct),
		T(test_recovery_generate_uses_whole_alphabet_evenly),
		T(test_recovery_normalize_generated_code),
		T(test_recovery_normalize_case_spaces_dashes),
		T(test_recovery_normalize_wrong_length_refused),
		T(test_recovery_normalize_maps_no_lookalikes),
		T(test_recovery_hash_known_answer),
		T(test_recovery_hash_deterministic),
		T(test_recovery_hash_differs_by_pepper_and_code),
		T(test_recovery_hash_requires_normalized_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
