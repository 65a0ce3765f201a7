/*
 * b64: base64url without padding round-trips every length, and the strict
 * decoder takes exactly one spelling per byte string: no padding, no
 * standard-alphabet characters, no whitespace, no leftover character, no
 * set bits past the last byte, nothing that does not fit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "b64.h"

#define DECODE(s, out) b64url_decode((s), strlen(s), (out), sizeof(out))

static void
test_b64_rfc4648_vectors(void **state)
{
	static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const coded[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
	char out[16];
	unsigned char back[16];

	(void)state;
	for (size_t i = 0; i < 7; i++) {
		b64url_encode((const unsigned char *)plain[i], strlen(plain[i]), out);
		assert_string_equal(out, coded[i]);
		assert_int_equal(strlen(out), B64URL_LEN(strlen(plain[i])));
		assert_int_equal(DECODE(coded[i], back), (long)strlen(plain[i]));
		assert_memory_equal(back, plain[i], strlen(plain[i]));
	}
}

static void
test_b64_uses_the_url_safe_alphabet(void **state)
{
	static const unsigned char in[] = {0xfb, 0xff, 0xbf};
	unsigned char back[3];
	char out[8];

	(void)state;
	b64url_encode(in, sizeof(in), out);
	assert_string_equal(out, "-_-_");
	assert_int_equal(DECODE("-_-_", back), 3);
	assert_memory_equal(back, in, 3);
	assert_int_equal(DECODE("+/+/", back), -1);
}

static void
test_b64_round_trips_every_length_and_byte(void **state)
{
	unsigned char in[64], back[64];
	char out[B64URL_LEN(64) + 1];

	(void)state;
	for (size_t n = 0; n <= sizeof(in); n++) {
		for (size_t i = 0; i < n; i++)
			in[i] = (unsigned char)(i * 37 + n * 11);
		b64url_encode(in, n, out);
		assert_int_equal(b64url_decode(out, strlen(out), back, sizeof(back)), (long)n);
		assert_memory_equal(back, in, n);
	}
}

static void
test_b64_refuses_padding_whitespace_and_strangers(void **state)
{
	unsigned char out[16];

	(void)state;
	assert_int_equal(DECODE("Zg==", out), -1);
	assert_int_equal(DECODE("Zm8=", out), -1);
	assert_int_equal(DECODE("Zm9v ", out), -1);
	assert_int_equal(DECODE("Zm\n9v", out), -1);
	assert_int_equal(DECODE("Zm9v.", out), -1);
	assert_int_equal(b64url_decode("Zm\0v", 4, out, sizeof(out)), -1);
	assert_int_equal(DECODE("\xc3\xbc", out), -1);
}

static void
test_b64_refuses_a_leftover_character(void **state)
{
	unsigned char out[16];

	(void)state;
	assert_int_equal(DECODE("Z", out), -1);
	assert_int_equal(DECODE("Zm9vY", out), -1);
}

static void
test_b64_refuses_set_bits_past_the_last_byte(void **state)
{
	unsigned char out[16];

	(void)state;
	/* "Zg" is 'f'; "Zh" spells the same byte with a set unused bit. */
	assert_int_equal(DECODE("Zg", out), 1);
	assert_int_equal(DECODE("Zh", out), -1);
	assert_int_equal(DECODE("Zm8", out), 2);
	assert_int_equal(DECODE("Zm9", out), -1);
}

static void
test_b64_refuses_what_does_not_fit(void **state)
{
	unsigned char out[3];

	(void)state;
	assert_int_equal(DECODE("Zm9v", out), 3);
	assert_int_equal(DECODE("Zm9vYg", out), -1);
	assert_int_equal(b64url_decode("Zm9vYg", 6, out, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_rfc4648_vectors),
		cmocka_unit_test(test_b64_uses_the_url_safe_alphabet),
		cmocka_unit_test(test_b64_round_trips_every_length_and_byte),
		cmocka_unit_test(test_b64_refuses_padding_whitespace_and_strangers),
		cmocka_unit_test(test_b64_refuses_a_leftover_character),
		cmocka_unit_test(test_b64_refuses_set_bits_past_the_last_byte),
		cmocka_unit_test(test_b64_refuses_what_does_not_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
