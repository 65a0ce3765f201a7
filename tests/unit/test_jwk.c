/*
 * jwk: OpenSSL's public-key check accepts the P-384 generator and its
 * negation and refuses points off the curve, coordinates at or past the
 * field prime and (0, 0); jwk_check() gives the canonical form of a good
 * JWK, names a private key as such and refuses other key types, curves and
 * coordinate encodings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "b64.h"
#include "jwk.h"

/* The P-384 generator (SEC 2 §2.5.1) and the field prime. */
static const char GX[] = "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a38"
    "5502f25dbf55296c3a545e3872760ab7";
static const char GY[] = "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c0"
    "0a60b1ce1d7e819d7a431d7c90ea0e5f";
static const char P[] = "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe"
    "ffffffff0000000000000000ffffffff";

static void
hex(const char *s, unsigned char out[JWK_COORD])
{
	for (size_t i = 0; i < JWK_COORD; i++) {
		unsigned int v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (unsigned char)v;
	}
}

/* out = a - b over 48-byte big-endian numbers (a >= b). */
static void
sub(const unsigned char a[JWK_COORD], const unsigned char b[JWK_COORD], unsigned char out[JWK_COORD])
{
	int borrow = 0;

	for (int i = JWK_COORD - 1; i >= 0; i--) {
		int d = a[i] - b[i] - borrow;

		borrow = d < 0;
		out[i] = (unsigned char)(d + (borrow ? 256 : 0));
	}
}

static void
test_jwk_the_generator_is_valid(void **state)
{
	unsigned char x[JWK_COORD], y[JWK_COORD];

	(void)state;
	hex(GX, x);
	hex(GY, y);
	assert_int_equal(jwk_point_valid(x, y), 1);
}

static void
test_jwk_the_negated_generator_is_valid(void **state)
{
	unsigned char x[JWK_COORD], y[JWK_COORD], p[JWK_COORD], ny[JWK_COORD];

	(void)state;
	hex(GX, x);
	hex(GY, y);
	hex(P, p);
	sub(p, y, ny);
	assert_int_equal(jwk_point_valid(x, ny), 1);
}

static void
test_jwk_a_point_off_the_curve_is_refused(void **state)
{
	unsigned char x[JWK_COORD], y[JWK_COORD];

	(void)state;
	hex(GX, x);
	hex(GY, y);
	y[JWK_COORD - 1] ^= 1;
	assert_int_equal(jwk_point_valid(x, y), 0);
	hex(GY, y);
	x[0] ^= 0x80;
	assert_int_equal(jwk_point_valid(x, y), 0);
}

static void
test_jwk_coordinates_at_the_prime_are_refused(void **state)
{
	unsigned char x[JWK_COORD], y[JWK_COORD];

	(void)state;
	hex(P, x);
	hex(GY, y);
	assert_int_equal(jwk_point_valid(x, y), 0);
	memset(x, 0xff, sizeof(x));
	assert_int_equal(jwk_point_valid(x, y), 0);
}

static void
test_jwk_zero_is_refused(void **state)
{
	unsigned char z[JWK_COORD] = {0};

	(void)state;
	assert_int_equal(jwk_point_valid(z, z), 0);
}

/* A JWK of the generator with one member replaced (value NULL: removed). */
static json_t *
g_jwk(const char *name, json_t *value)
{
	unsigned char x[JWK_COORD], y[JWK_COORD];
	char bx[B64URL_LEN(JWK_COORD) + 1], by[B64URL_LEN(JWK_COORD) + 1];
	json_t *j;

	hex(GX, x);
	hex(GY, y);
	b64url_encode(x, sizeof(x), bx);
	b64url_encode(y, sizeof(y), by);
	j = json_pack("{s:b, s:s, s:s, s:s, s:s}", "ext", 1, "y", by, "x", bx, "crv", "P-384", "kty", "EC");
	assert_non_null(j);
	if (name != NULL) {
		if (value != NULL)
			json_object_set_new(j, name, value);
		else
			json_object_del(j, name);
	}
	return j;
}

static void
test_jwk_a_good_key_gets_its_canonical_form(void **state)
{
	char out[JWK_CANON_MAX], want[JWK_CANON_MAX];
	const char *why;
	json_t *j = g_jwk(NULL, NULL);

	(void)state;
	assert_int_equal(jwk_check(j, out, &why), ERR_OK);
	snprintf(want, sizeof(want), "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"%s\",\"y\":\"%s\"}",
	    json_string_value(json_object_get(j, "x")), json_string_value(json_object_get(j, "y")));
	assert_string_equal(out, want);
	json_decref(j);
}

static void
test_jwk_a_private_key_is_named(void **state)
{
	char out[JWK_CANON_MAX];
	const char *why;
	json_t *j = g_jwk("d", json_string("AAAA"));

	(void)state;
	assert_int_equal(jwk_check(j, out, &why), ERR_PRIVATE_KEY);
	json_decref(j);
}

static void
expect_bad(const char *name, json_t *value, const char *reason)
{
	char out[JWK_CANON_MAX];
	const char *why = NULL;
	json_t *j = g_jwk(name, value);

	assert_int_equal(jwk_check(j, out, &why), ERR_BAD_KEY);
	assert_non_null(why);
	assert_non_null(strstr(why, reason));
	json_decref(j);
}

static void
test_jwk_other_types_curves_and_encodings_are_refused(void **state)
{
	(void)state;
	expect_bad("kty", json_string("RSA"), "kty");
	expect_bad("kty", NULL, "kty");
	expect_bad("crv", json_string("P-256"), "crv");
	expect_bad("crv", json_string("p-384"), "crv");
	expect_bad("x", json_string("qofKIr6LBTeOscce8yCtdG4dO2KLp5uYWfdB4IJUKjhVAvJdv1UpbDpUXjhydgq3=="), "48 bytes");
	expect_bad("x", json_string("qofKIr6LBTeOscce8yCtdG4dO2KLp5uYWfdB4IJUKjhVAvJdv1UpbDpUXjhydgq"), "48 bytes");
	expect_bad("y", json_integer(3), "48 bytes");
	expect_bad("y", json_string("NhfeSpYmLG9dnpi/kpLcKfj0Hb0omhR86doxE7XwuMAKYLHOHX6BnXpDHXyQ6g5f"), "48 bytes");
	expect_bad("y", json_string("NhfeSpYmLG9dnpi_kpLcKfj0Hb0omhR86doxE7XwuMAKYLHOHX6BnXpDHXyQ6g5e"), "curve");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jwk_the_generator_is_valid),
		cmocka_unit_test(test_jwk_the_negated_generator_is_valid),
		cmocka_unit_test(test_jwk_a_point_off_the_curve_is_refused),
		cmocka_unit_test(test_jwk_coordinates_at_the_prime_are_refused),
		cmocka_unit_test(test_jwk_zero_is_refused),
		cmocka_unit_test(test_jwk_a_good_key_gets_its_canonical_form),
		cmocka_unit_test(test_jwk_a_private_key_is_named),
		cmocka_unit_test(test_jwk_other_types_curves_and_encodings_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
