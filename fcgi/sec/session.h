/*
 * session: logged-in sessions (design §3).
 *
 * A session is a 256-bit random token in a `__Host-sid` cookie (Secure,
 * HttpOnly, SameSite=Strict, Path=/); the database keeps only its SHA-256,
 * so a database leak holds no usable token. A session ends after
 * CHATD_SESSION_IDLE seconds without a request or CHATD_SESSION_MAX seconds
 * after login, whichever is first, and at logout (the row is deleted). Each
 * session has a CSRF token, HMAC(pepper, token hash), required in the
 * X-CSRF-Token header of every state-changing request together with a
 * same-origin Origin header.
 */
#ifndef CHATD_SESSION_H
#define CHATD_SESSION_H

#include "err.h"
#include "req.h"

#include "token.h"

#define SESSION_COOKIE "__Host-sid"

struct session {
	long long id;
	long long user_id;
	char username[33];
	unsigned char hash[32];
	char csrf[65];
	long long seen_age;	/* seconds since the user was last seen (presence.h) */
	int touch_due;		/* the session's last use is older than an eighth of its idle time */
	/* The user the request names (session_load's peer), resolved with the
	 * session in the same statement: id 0 when no active user has the name. */
	const char *peer_asked;
	long long peer_id;
	char peer_name[33];
};

/* Loads the caller's live session into r->session, with the active user
 * named peer (NULL: none) in the same round trip; presence_seen() writes
 * what is due. ERR_OK, ERR_UNAUTHENTICATED (401) or ERR_DB_UNAVAILABLE (503). */
enum err session_load(struct req *, const char *peer);

/* 1 when Origin is one of the configured origins (CHATD_HOSTNAMES), else 0. */
int session_origin_ok(const struct req *);

/* 1 when X-CSRF-Token equals the session's token (constant time). */
int session_csrf_ok(const struct req *);

/* Starts a session for user_id: a new token, its row, the cookie header;
 * r->session is set (csrf included). ERR_OK or ERR_DB_UNAVAILABLE/INTERNAL. */
enum err session_create(struct req *, long long user_id, const char *username);

/* Ends the caller's session: deletes the row, clears the cookie, closes the
 * user's event streams and marks them offline if no session is left. */
enum err session_end(struct req *);

/* After other sessions of the caller's user were deleted: their event streams end. */
void session_ended(struct req *);

/* Adds a Set-Cookie that removes the session cookie. */
void session_clear_cookie(struct req *);

#endif
