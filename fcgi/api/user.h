/*
 * user: accounts as rows of `users`, and the steps every account handler
 * shares: user-name rules, checking a new password against every rule
 * (NIST SP 800-63B: length, breach corpus, blocklist, context), issuing a
 * TOTP secret sealed at rest, verifying a TOTP code once per time step, and
 * issuing or redeeming recovery codes.
 */
#ifndef CHATD_USER_H
#define CHATD_USER_H

#include "err.h"
#include "req.h"
#include "recovery.h"
#include "sql_accounts.h"
#include "totp.h"

#define USER_PASSWORD_MAX 1024	/* bytes of a password we normalize (128 code points fit) */
#define USER_PASSWORD_FIELD_MAX 6000	/* bytes taken in a body; longer ones are too long by rule */
#define USER_SEALED_MAX SQL_SEALED_MAX

/* A user is its row of users: struct sql_user (sql_accounts.h). */

/* 1 when s is 3-32 of [A-Za-z0-9_]. */
int user_name_valid(const char *s, size_t n);
/* The throttle key of a login name into out[33]: a valid name lower-cased,
 * anything else '#' and a hash, so any input maps to a short ASCII key. */
void user_name_key(const char *name, char out[33]);

/* Loads a user by name or id: ERR_OK, ERR_NOT_FOUND or ERR_DB_UNAVAILABLE. */
enum err user_by_name(struct req *, const char *name, struct sql_user *);
enum err user_by_id(struct req *, long long id, struct sql_user *);

/*
 * Normalizes and checks a new password for `username`. ERR_OK with the NFKC
 * form in nfkc[USER_PASSWORD_MAX]; otherwise ERR_BAD_VALUE with the reason's
 * own code and message set (req_refuse_code: 422 password_pwned, ...) or
 * ERR_BREACH_CHECK_DOWN; the caller returns what this returns.
 */
enum err user_password_accept(struct req *, const char *username, const char *password, char *nfkc);

/* Normalizes a password given at login (no rules); -1 when it cannot be. */
int user_password_normalize(const char *password, char *nfkc);

/* Checks password against the user's hash (upgrading a lower cost); 1, 0, -1. */
int user_password_verify(struct req *, const struct sql_user *, const char *nfkc);

/* Hashes nfkc at the configured cost into out[100]. 0 or -1. */
int user_password_hash(struct req *, const char *nfkc, char *out);

/* A new TOTP secret: its sealed form (AAD bound to the user id) and base32. */
int user_totp_new(struct req *, long long user_id, unsigned char *sealed, size_t *sealed_len,
    char b32[40]);

/* The base32 of the user's sealed TOTP secret into b32[40] (for an enrolment shown again). 0 or -1. */
int user_totp_b32(struct req *, long long user_id, const unsigned char *sealed, size_t sealed_len,
    char b32[40]);

/*
 * Checks a TOTP code against the sealed secret of user_id: ERR_OK,
 * ERR_CODE_WRONG, ERR_CODE_REUSED, ERR_DB_UNAVAILABLE. USER_TOTP_USE marks
 * its time step used; USER_TOTP_ACTIVATE also makes a pending account
 * active; USER_TOTP_PEEK writes nothing (the caller stores *step).
 */
enum user_totp_mode { USER_TOTP_USE, USER_TOTP_ACTIVATE, USER_TOTP_PEEK };
enum err user_totp_check(struct req *, long long user_id, const unsigned char *sealed,
    size_t sealed_len, long long last_step, const char *code, enum user_totp_mode mode,
    long long *step);

/* Inside db_tx(): replaces the user's recovery codes with 10 new ones (a JSON
 * array into *codes, which holds NULL or an earlier try's array, released). */
enum err user_recovery_new(struct req *, long long user_id, json_t **codes);

/* Inside db_tx(): locks the user's row, first in the lock order (friends.h),
 * so the user's own multi-row changes (codes, authenticator, password) run
 * one at a time. ERR_OK, ERR_NOT_FOUND or ERR_DB_UNAVAILABLE. */
enum err user_lock(struct req *, long long user_id);
/* Redeems a recovery code: ERR_OK, ERR_CODE_WRONG, ERR_DB_UNAVAILABLE. */
enum err user_recovery_use(struct req *, long long user_id, const char *code);
/* Unused recovery codes left, or -1. */
long long user_recovery_left(struct req *, long long user_id);

/* The JSON answer of a login: {user: {id, username}, csrf_token}. */
json_t *user_login_json(struct req *);

#endif
