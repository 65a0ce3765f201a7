/*
 * pwned: is a password in Have I Been Pwned's "Pwned Passwords" corpus?
 *
 * The k-anonymity range API is asked for every hash sharing the first 5 hex
 * characters of the password's SHA-1, and the answer is searched here: only
 * those 5 characters leave the process, and with `Add-Padding: true` every
 * answer has a similar size, so an observer of the encrypted traffic learns
 * nothing useful either. pwned_check() does network I/O (and logs a failure,
 * never the password or its hash); pwned_parse() is pure.
 */
#ifndef CHATD_PWNED_H
#define CHATD_PWNED_H

#include <stddef.h>

#define PWNED_BODY_MAX (2u << 20)	/* bytes of answer taken; a real one is ~40 KB */

enum pwned_result {
	PWNED_NOT_FOUND,
	PWNED_FOUND,
	PWNED_UNREACHABLE,	/* no answer, not 200, or not the expected format */
};

/*
 * Looks suffix (the 35 hex characters of SHA-1 after the first 5, either
 * case) up in a range answer of "SUFFIX:COUNT" lines (CRLF or LF, the last
 * newline optional, blank lines skipped). Padding lines (count 0) never
 * match. Returns the count (> 0, capped at INT_MAX) when found, 0 when
 * absent (also for an empty body), -1 when any line is malformed or suffix
 * is not 35 hex characters.
 */
int pwned_parse(const char *body, size_t n, const char *suffix);

/*
 * Asks <base_url>/range/<first 5 of SHA-1(nfkc)> through curl (the calling
 * thread's CURL *, reset before and after use) with connect and total
 * timeouts of timeout_ms; cainfo is a CA file, or NULL or "" for the
 * system's. PWNED_FOUND or PWNED_NOT_FOUND on a good answer; otherwise
 * PWNED_UNREACHABLE, logged with rid: the caller decides whether to refuse
 * (503) or fall back to the local blocklist.
 */
enum pwned_result pwned_check(void *curl, const char *base_url, const char *cainfo,
    const char *nfkc, int timeout_ms, const char *rid);

#endif
