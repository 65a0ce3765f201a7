/*
 * token: the bearer secrets chatd hands out (session cookies, MFA tickets,
 * enrolment tokens) and how they are stored.
 *
 * A token is 32 bytes from RAND_bytes in base64url (43 characters); the
 * database keeps only its SHA-256, so a leaked table opens nothing. Looking
 * a token up by that hash is an index probe on a value the caller cannot
 * steer, so it needs no constant-time comparison.
 */
#ifndef CHATD_TOKEN_H
#define CHATD_TOKEN_H

#include <stddef.h>

#define TOKEN_LEN 43	/* base64url of 32 bytes, no padding */

/* A new token into tok[TOKEN_LEN + 1] and its hash into hash[32]. 0, or -1
 * when the random generator failed (nothing is written then). */
int token_mint(char tok[TOKEN_LEN + 1], unsigned char hash[32]);
/* The stored form of any token or name: SHA-256 of s[0..n). */
void token_hash(const void *s, size_t n, unsigned char hash[32]);

#endif
