/*
 * totp: RFC 6238 codes through liboath (see totp.h). liboath keeps no state
 * after oath_init(), so every function here may run on any thread.
 */
#include <liboath/oath.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "totp.h"

int
totp_global_init(void)
{
	int rc = oath_init();

	if (rc != OATH_OK) {
		log_msg(LOG_ERROR, "totp: oath_init: %s", oath_strerror(rc));
		return -1;
	}
	return 0;
}

int
totp_secret_new(unsigned char secret[TOTP_SECRET_LEN])
{
	return RAND_bytes(secret, TOTP_SECRET_LEN) == 1 ? 0 : -1;
}

int
totp_base32(const unsigned char *secret, size_t n, char *out, size_t outlen)
{
	char *b32 = NULL;
	size_t len = 0;
	int rc, ret = -1;

	rc = oath_base32_encode((const char *)secret, n, &b32, &len);
	if (rc != OATH_OK || b32 == NULL)
		return -1;
	/* Authenticator apps want no padding (Google's key URI format). */
	while (len > 0 && b32[len - 1] == '=')
		len--;
	if (len < outlen && len <= INT32_MAX) {
		memcpy(out, b32, len);
		out[len] = '\0';
		ret = (int)len;
	}
	/* The encoding is the secret itself. */
	OPENSSL_cleanse(b32, len);
	free(b32);
	return ret;
}

/* Appends s percent-encoded (all but RFC 3986 unreserved) at out[*at]. */
static int
totp_uri_escape(char *out, size_t outlen, size_t *at, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
		size_t need = plain ? 1 : 3;

		if (outlen - *at <= need)
			return -1;
		if (plain) {
			out[(*at)++] = (char)c;
		} else {
			out[(*at)++] = '%';
			out[(*at)++] = hex[c >> 4];
			out[(*at)++] = hex[c & 15];
		}
	}
	out[*at] = '\0';
	return 0;
}

/* Appends s unchanged at out[*at]. */
static int
totp_uri_put(char *out, size_t outlen, size_t *at, const char *s)
{
	size_t n = strlen(s);

	if (outlen - *at <= n)
		return -1;
	memcpy(out + *at, s, n + 1);
	*at += n;
	return 0;
}

int
totp_uri(char *out, size_t outlen, const char *issuer, const char *user, const char *b32)
{
	size_t at = 0;

	if (out == NULL || outlen == 0 || issuer == NULL || user == NULL || b32 == NULL)
		return -1;
	out[0] = '\0';
	if (totp_uri_put(out, outlen, &at, "otpauth://totp/") < 0 ||
	    totp_uri_escape(out, outlen, &at, issuer) < 0 ||
	    totp_uri_put(out, outlen, &at, ":") < 0 ||
	    totp_uri_escape(out, outlen, &at, user) < 0 ||
	    totp_uri_put(out, outlen, &at, "?secret=") < 0 ||
	    totp_uri_escape(out, outlen, &at, b32) < 0 ||
	    totp_uri_put(out, outlen, &at, "&issuer=") < 0 ||
	    totp_uri_escape(out, outlen, &at, issuer) < 0 ||
	    totp_uri_put(out, outlen, &at, "&algorithm=SHA1&digits=6&period=30") < 0 ||
	    at > INT32_MAX) {
		out[0] = '\0';
		return -1;
	}
	return (int)at;
}

/* 1 when code is exactly TOTP_DIGITS ASCII digits. */
static int
totp_code_wellformed(const char *code)
{
	int i;

	if (code == NULL)
		return 0;
	for (i = 0; i < TOTP_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return 0;
	return code[i] == '\0';
}

int
totp_validate(const unsigned char *secret, size_t n, time_t now, const char *code,
    long long last_step, long long *step_out)
{
	uint64_t counter = 0;
	int pos = 0, rc;

	if (secret == NULL || n == 0 || !totp_code_wellformed(code))
		return -1;
	rc = oath_totp_validate3((const char *)secret, n, now, TOTP_PERIOD, 0, TOTP_WINDOW,
	    &pos, &counter, code);
	if (rc == OATH_INVALID_OTP)
		return -1;
	if (rc < 0) {
		log_msg(LOG_ERROR, "totp: oath_totp_validate3: %s", oath_strerror(rc));
		return -1;
	}
	if (counter > INT64_MAX)
		return -1;
	if ((long long)counter <= last_step)
		return -2;
	*step_out = (long long)counter;
	return 0;
}

int
totp_code(const unsigned char *secret, size_t n, time_t t, char out[7])
{
	int rc;

	rc = oath_totp_generate((const char *)secret, n, t, TOTP_PERIOD, 0, TOTP_DIGITS, out);
	if (rc != OATH_OK) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}
