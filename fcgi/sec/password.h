/*
 * password: what a password must be, and how it is kept (NIST SP 800-63B).
 *
 * A password is compared and stored in its Unicode NFKC form, so the same
 * characters typed on different keyboards are the same password. A new one
 * must be 8 to 128 code points of printable characters or spaces, must not
 * contain the user name, must not be a run such as "aaaaaaaa" or "12345678",
 * and must not be in the shipped blocklist; there are no composition rules.
 * It is stored as bcrypt ($2b$) of base64(HMAC-SHA256(pepper, password)):
 * the pepper lives outside the database, and the pre-hash lets passwords
 * longer than bcrypt's 72 bytes count in full. Nothing here does I/O except
 * blocklist_load(), which reads its file; nothing here logs.
 */
#ifndef CHATD_PASSWORD_H
#define CHATD_PASSWORD_H

#include <stddef.h>

#define PASSWORD_MIN 8		/* code points, after NFKC */
#define PASSWORD_MAX 128
#define PASSWORD_HASH_MAX 100	/* bytes a stored hash needs, NUL included ($2b$ is 60) */

enum password_verdict {
	PASSWORD_OK,
	PASSWORD_TOO_SHORT,
	PASSWORD_TOO_LONG,
	PASSWORD_INVALID,	/* not UTF-8, holds NUL, or too long to normalize */
	PASSWORD_NOT_PRINTABLE,
	PASSWORD_HAS_USERNAME,
	PASSWORD_RUN,
	PASSWORD_BLOCKLISTED,
	PASSWORD_PWNED,
};

/* The API error code of a verdict, e.g. "password_too_short" (422). */
const char *password_verdict_code(enum password_verdict);
/* One sentence for the user saying what is wrong and what to do. */
const char *password_verdict_message(enum password_verdict);

/*
 * Writes the NFKC form of in[0..n) to out as a C string and its length in
 * code points to *codepoints. 0, or -1 when in is not valid UTF-8 (or holds
 * NUL) or the result does not fit in outlen bytes (PASSWORD_INVALID).
 */
int password_normalize(const char *in, size_t n, char *out, size_t outlen, size_t *codepoints);

/*
 * Checks a normalized password, in this order: length, printable, user
 * name (case-insensitive; NULL or "" skips it), run. PASSWORD_OK or the
 * first rule broken. The blocklist and the breach corpus are the caller's.
 */
enum password_verdict password_rules(const char *nfkc, size_t codepoints, const char *username);

/*
 * 1 when the whole of nfkc is one repeated pattern of at most 4 code points
 * ("aaaaaaaa", "abababab", "123123123") or steps by +1 or -1 throughout
 * ("12345678", "hgfedcba"), ASCII letters compared without case; else 0.
 * Fewer than 2 code points are never a run.
 */
int password_is_run(const char *nfkc);

/* Common passwords, lower case, sorted; read-only once loaded. */
struct blocklist {
	char **words;
	size_t n;
};

/*
 * Reads path: one word per line, '#' lines and blank lines skipped, ASCII
 * letters lower-cased. 0, or -1 with a one-line reason in err (cannot open
 * or read, out of memory, no entries at all).
 */
int blocklist_load(struct blocklist *, const char *path, char *err, size_t errlen);
/* 1 when nfkc, ASCII letters lower-cased, is on the list; else 0 (also for NULL). */
int blocklist_contains(const struct blocklist *, const char *nfkc);
void blocklist_free(struct blocklist *);

/*
 * Hashes nfkc with a fresh salt at bcrypt cost (4..31) into out, which
 * needs PASSWORD_HASH_MAX bytes. 0, or -1 (bad cost, no randomness, out
 * too small, library failure).
 */
int password_hash(const unsigned char pepper[32], const char *nfkc, int cost, char *out,
    size_t outlen);

/*
 * Checks nfkc against a stored hash in constant time. 1 match, 0 no match,
 * -1 error (stored is not a $2b$ hash, library failure). *cost_out, when
 * not NULL, gets the stored hash's cost whenever it parses, so a caller can
 * re-hash a password kept at a lower cost than today's.
 */
int password_verify(const unsigned char pepper[32], const char *nfkc, const char *stored,
    int *cost_out);

#endif
