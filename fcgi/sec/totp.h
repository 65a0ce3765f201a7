/*
 * totp: RFC 6238 time-based one-time passwords through liboath, with the
 * parameters every authenticator app understands: SHA-1, 6 digits, 30 s
 * steps, a 160-bit secret, and one step of clock drift either way.
 *
 * totp_validate() reports the absolute time step a code matched; the caller
 * stores it and passes it back, so a code (a step) is accepted once only.
 */
#ifndef CHATD_TOTP_H
#define CHATD_TOTP_H

#include <stddef.h>
#include <time.h>

#define TOTP_SECRET_LEN 20	/* 160 bits, RFC 4226's recommendation */
#define TOTP_DIGITS 6
#define TOTP_PERIOD 30
#define TOTP_WINDOW 1	/* steps of drift accepted either way */

/* oath_init(): once, before threads start. 0 or -1. */
int totp_global_init(void);

/* A new random secret. 0 or -1. */
int totp_secret_new(unsigned char secret[TOTP_SECRET_LEN]);

/*
 * RFC 4648 base32 of secret[0..n) without '=' padding (32 characters for 20
 * bytes) into out. The length written, or -1 when out is too small.
 */
int totp_base32(const unsigned char *secret, size_t n, char *out, size_t outlen);

/*
 * The otpauth:// key URI for an authenticator app (issuer and user
 * percent-encoded, RFC 3986 unreserved characters kept). The length
 * written, or -1 when out is too small or an argument is NULL.
 */
int totp_uri(char *out, size_t outlen, const char *issuer, const char *user, const char *b32);

/*
 * Checks code (exactly 6 ASCII digits) at time now, ±TOTP_WINDOW steps.
 * 0 with *step_out = the matched absolute step when it is after last_step;
 * -2 when the code matches a step ≤ last_step (a replay: 409 for the
 * caller); -1 when the code is malformed, wrong or out of the window, or
 * liboath fails (a wrong code: 401).
 */
int totp_validate(const unsigned char *secret, size_t n, time_t now, const char *code,
    long long last_step, long long *step_out);

/* The code for time t into out (6 digits and NUL). 0 or -1. For tests. */
int totp_code(const unsigned char *secret, size_t n, time_t t, char out[7]);

#endif
