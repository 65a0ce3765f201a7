/*
 * b64: base64url (RFC 4648 §5) without padding, the form of every binary
 * value in the API: session tokens, message IVs, ciphertexts and MACs, JWK
 * coordinates. The decoder is strict, so each byte string has exactly one
 * accepted spelling: only the 64 URL-safe characters, no padding, no
 * whitespace, and the unused low bits of the last character zero.
 */
#ifndef CHATD_B64_H
#define CHATD_B64_H

#include <stddef.h>

/* Characters of the encoding of n bytes (without the NUL). */
#define B64URL_LEN(n) (((n) * 4 + 2) / 3)

/* Encodes n bytes into out (B64URL_LEN(n) + 1 bytes, NUL-terminated). */
void b64url_encode(const unsigned char *in, size_t n, char *out);

/*
 * Decodes s[0..n) into out[cap]: the number of bytes, or -1 when s is not
 * canonical base64url or does not fit.
 */
long b64url_decode(const char *s, size_t n, unsigned char *out, size_t cap);

#endif
