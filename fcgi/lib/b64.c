/*
 * b64: strict base64url without padding (see b64.h).
 */
#include "b64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void
b64url_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i, j = 0;

	for (i = 0; i + 2 < n; i += 3) {
		out[j++] = alphabet[in[i] >> 2];
		out[j++] = alphabet[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[j++] = alphabet[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		out[j++] = alphabet[in[i + 2] & 63];
	}
	if (n - i == 1) {
		out[j++] = alphabet[in[i] >> 2];
		out[j++] = alphabet[(in[i] & 3) << 4];
	} else if (n - i == 2) {
		out[j++] = alphabet[in[i] >> 2];
		out[j++] = alphabet[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[j++] = alphabet[(in[i + 1] & 15) << 2];
	}
	out[j] = '\0';
}

/* The 6-bit value of c, or -1. */
static int
b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

long
b64url_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
	unsigned long acc = 0;
	size_t len = 0;
	int bits = 0;

	/* One leftover character carries 6 bits: no whole byte. */
	if (n % 4 == 1 || n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) > cap)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_value(s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6 | (unsigned long)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[len++] = (unsigned char)(acc >> bits);
		}
	}
	/* The bits past the last byte must be zero, or two spellings would decode alike. */
	if ((acc & ((1ul << bits) - 1)) != 0)
		return -1;
	return (long)len;
}
