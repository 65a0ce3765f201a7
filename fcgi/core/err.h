/*
 * err: the error codes a client can see.
 *
 * Every refusal chatd answers is one of these: a stable machine-readable code,
 * the HTTP status it leads to, a default human message and whether it says
 * when to try again. Handlers return an `enum err` (details, if any, set with
 * req_refuse()); dispatch() turns it into {"error": code, "message": text}.
 */
#ifndef CHATD_ERR_H
#define CHATD_ERR_H

enum err {
	ERR_OK = 0,
	ERR_BAD_REQUEST,	/* 400 malformed request line or parameters */
	ERR_BAD_QUERY,		/* 400 query string that is not valid or not allowed */
	ERR_BAD_JSON,		/* 400 body is not well-formed JSON */
	ERR_INVALID_UTF8,	/* 400 body, path or query holds invalid UTF-8 */
	ERR_NOT_OBJECT,		/* 400 body is JSON but not an object */
	ERR_MISSING_FIELD,	/* 400 a required field is absent */
	ERR_UNKNOWN_FIELD,	/* 400 a field the route does not take */
	ERR_WRONG_TYPE,		/* 400 a field has the wrong JSON type */
	ERR_BAD_VALUE,		/* 422 a field has the right type but a bad value */
	ERR_UNEXPECTED_BODY,	/* 400 a body sent to a route that takes none */
	ERR_NOT_FOUND,		/* 404 no such route */
	ERR_METHOD,		/* 405 route exists, method does not */
	ERR_TOO_LARGE,		/* 413 body over the route's limit */
	ERR_MEDIA_TYPE,		/* 415 body is not of a type the route takes */
	ERR_UNAUTHENTICATED,	/* 401 no live session */
	ERR_BAD_ORIGIN,		/* 403 Origin missing or not this site */
	ERR_CSRF,		/* 403 CSRF token missing or wrong */
	ERR_BAD_USERNAME,	/* 422 user name not 3-32 of [A-Za-z0-9_] */
	ERR_USERNAME_TAKEN,	/* 409 */
	ERR_CAPTCHA_WRONG,	/* 400 the answer was wrong (the challenge is used up) */
	ERR_CAPTCHA_EXPIRED,	/* 400 unknown, used or expired challenge */
	ERR_CAPTCHA_REQUIRED,	/* 400 login without a CAPTCHA where one is needed */
	ERR_INVALID_CREDENTIALS,/* 401 user name or password wrong (never which) */
	ERR_LOCKED,		/* 429 too many failures; Retry-After */
	ERR_TICKET_INVALID,	/* 401 MFA ticket unknown, used or expired */
	ERR_CODE_WRONG,		/* 401 TOTP or recovery code wrong */
	ERR_CODE_REUSED,	/* 401 TOTP code of a time step already used */
	ERR_ENROLMENT_INVALID,	/* 404 enrolment token unknown or expired */
	ERR_BREACH_CHECK_DOWN,	/* 503 breached-password check unreachable and required */
	ERR_UNKNOWN_USER,	/* 404 no active account of that name */
	ERR_YOURSELF,		/* 422 a friend request, block or message to oneself */
	ERR_ALREADY_FRIENDS,	/* 409 */
	ERR_REQUEST_PENDING,	/* 409 the caller's request to that user is pending */
	ERR_REQUEST_UNKNOWN,	/* 404 no such request addressed to (or sent by) the caller */
	ERR_BLOCKED,		/* 403 the other user blocked the caller */
	ERR_YOU_BLOCKED,	/* 409 the caller blocked the other user: unblock first */
	ERR_NOT_FRIENDS,	/* 403 only friends may do this */
	ERR_NO_KEY,		/* 404 no public key (of that id) for that user */
	ERR_BAD_KEY,		/* 422 a JWK that is not a valid P-384 public key */
	ERR_PRIVATE_KEY,	/* 422 a JWK holding a private key ("d") */
	ERR_KEY_NOT_OWNED,	/* 422 a message names a key id that is not the sender's or recipient's */
	ERR_REPLAY,		/* 409 a message with these keys, epoch and counter exists */
	ERR_RATE_LIMITED,	/* 429 per-user limit; Retry-After */
	ERR_DB_UNAVAILABLE,	/* 503 the database did not answer */
	ERR_INTERNAL,		/* 500 a bug or a library failure; logged */
	ERR__MAX
};

/* The machine-readable code, e.g. "not_found". */
const char *err_code(enum err);
/* The default human-readable message. */
const char *err_strerror(enum err);
/* The HTTP status the error leads to. */
int err_status(enum err);
/* The Retry-After seconds the error says by default (0: none). */
long long err_retry_after(enum err);

#endif
