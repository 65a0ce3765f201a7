/*
 * jwk: ECDH P-384 public keys as JSON Web Keys (RFC 7517/7518), checked
 * with OpenSSL before the server hands them to anyone.
 *
 * A key is accepted only as {"kty":"EC","crv":"P-384","x":…,"y":…} with x
 * and y the 48-byte big-endian coordinates in strict base64url, forming a
 * point that OpenSSL's full public-key check accepts: on the curve, not the
 * point at infinity, coordinates below the field prime. A JWK carrying the
 * private scalar "d" is refused on its own, so a client bug that would
 * upload a private key is named as such. The canonical form the server
 * stores and serves has those four members in that order and nothing else.
 */
#ifndef CHATD_JWK_H
#define CHATD_JWK_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"

#define JWK_COORD 48		/* bytes of a P-384 coordinate */
#define JWK_CANON_MAX 200	/* the canonical JSON (168 bytes), with room to spare */

/* 1 when (x, y) is a valid P-384 public point per OpenSSL, else 0. */
int jwk_point_valid(const unsigned char x[JWK_COORD], const unsigned char y[JWK_COORD]);

/*
 * Checks a JWK object: ERR_OK with the canonical JSON in out[JWK_CANON_MAX];
 * ERR_PRIVATE_KEY when it holds "d"; ERR_BAD_KEY (with *why, a short
 * reason for the message) when it is not a valid P-384 public key.
 */
enum err jwk_check(json_t *jwk, char out[JWK_CANON_MAX], const char **why);

#endif
