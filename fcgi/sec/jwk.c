/*
 * jwk: P-384 public key validation with OpenSSL (see jwk.h).
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>

#include "b64.h"
#include "jwk.h"

int
jwk_point_valid(const unsigned char x[JWK_COORD], const unsigned char y[JWK_COORD])
{
	unsigned char point[1 + 2 * JWK_COORD];
	char group[] = "P-384";
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = NULL, *check = NULL;
	EVP_PKEY *pkey = NULL;
	int ok = 0;

	/* SEC 1 uncompressed form: 0x04 || x || y. */
	point[0] = 0x04;
	memcpy(point + 1, x, JWK_COORD);
	memcpy(point + 1 + JWK_COORD, y, JWK_COORD);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point));
	params[2] = OSSL_PARAM_construct_end();

	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	/* fromdata decodes the point; the public check proves it is on the
	 * curve, not at infinity, and of the group's order. */
	if ((check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL)
		goto out;
	ok = EVP_PKEY_public_check(check) == 1;
out:
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/* The member `name` as a string, or NULL. */
static const char *
member(json_t *jwk, const char *name)
{
	return json_string_value(json_object_get(jwk, name));
}

/* Decodes a coordinate: exactly JWK_COORD bytes of strict base64url. */
static int
coord(const char *s, unsigned char out[JWK_COORD])
{
	return s != NULL && b64url_decode(s, strlen(s), out, JWK_COORD) == JWK_COORD;
}

enum err
jwk_check(json_t *jwk, char out[JWK_CANON_MAX], const char **why)
{
	unsigned char x[JWK_COORD], y[JWK_COORD];
	const char *kty = member(jwk, "kty"), *crv = member(jwk, "crv");

	*why = NULL;
	if (json_object_get(jwk, "d") != NULL)
		return ERR_PRIVATE_KEY;
	if (kty == NULL || strcmp(kty, "EC") != 0)
		*why = "kty must be \"EC\"";
	else if (crv == NULL || strcmp(crv, "P-384") != 0)
		*why = "crv must be \"P-384\"";
	else if (!coord(member(jwk, "x"), x) || !coord(member(jwk, "y"), y))
		*why = "x and y must be 48 bytes each, in base64url without padding";
	else if (!jwk_point_valid(x, y))
		*why = "the point is not on the P-384 curve";
	if (*why != NULL)
		return ERR_BAD_KEY;
	if (snprintf(out, JWK_CANON_MAX, "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"%s\",\"y\":\"%s\"}",
	    member(jwk, "x"), member(jwk, "y")) >= JWK_CANON_MAX)
		return ERR_INTERNAL;
	return ERR_OK;
}
