/*
 * err: one table of the errors a client can see (see err.h).
 */
#include <stddef.h>

#include "err.h"

static const struct {
	const char *code;	/* machine-readable, stable */
	int status;		/* HTTP */
	const char *message;	/* the default human text */
	long long retry;	/* Retry-After seconds unless the refusal says (0: none) */
} errs[ERR__MAX] = {
	[ERR_OK] = {"ok", 200, "OK"},
	[ERR_BAD_REQUEST] = {"bad_request", 400, "The request is malformed."},
	[ERR_BAD_QUERY] = {"bad_query", 400, "The query string is not valid for this resource."},
	[ERR_BAD_JSON] = {"bad_json", 400, "The body is not well-formed JSON."},
	[ERR_INVALID_UTF8] = {"invalid_utf8", 400, "The request holds text that is not valid UTF-8."},
	[ERR_NOT_OBJECT] = {"not_object", 400, "The body must be a JSON object."},
	[ERR_MISSING_FIELD] = {"missing_field", 400, "A required field is missing."},
	[ERR_UNKNOWN_FIELD] = {"unknown_field", 400, "The body has a field this resource does not take."},
	[ERR_WRONG_TYPE] = {"wrong_type", 400, "A field has the wrong type."},
	[ERR_BAD_VALUE] = {"bad_value", 422, "A field has a value that is not allowed."},
	[ERR_UNEXPECTED_BODY] = {"unexpected_body", 400, "This resource takes no request body."},
	[ERR_NOT_FOUND] = {"not_found", 404, "There is no such resource."},
	[ERR_METHOD] = {"method_not_allowed", 405, "This method is not allowed on this resource."},
	[ERR_TOO_LARGE] = {"too_large", 413, "The request body is too large."},
	[ERR_MEDIA_TYPE] = {"unsupported_media_type", 415, "The body must be application/json."},
	[ERR_UNAUTHENTICATED] = {"unauthenticated", 401, "Log in first; the session is missing or has ended."},
	[ERR_BAD_ORIGIN] = {"bad_origin", 403, "The request did not come from this site."},
	[ERR_CSRF] = {"csrf_failed", 403, "The request's CSRF token is missing or wrong; reload the page."},
	[ERR_BAD_USERNAME] = {"bad_username", 422,
	    "A user name is 3 to 32 letters, digits or underscores."},
	[ERR_USERNAME_TAKEN] = {"username_taken", 409, "This user name is taken; choose another."},
	[ERR_CAPTCHA_WRONG] = {"captcha_wrong", 400,
	    "The characters from the image were wrong; here is a new image."},
	[ERR_CAPTCHA_EXPIRED] = {"captcha_expired", 400,
	    "The image expired or was already used; here is a new one."},
	[ERR_CAPTCHA_REQUIRED] = {"captcha_required", 400,
	    "Type the characters from the image to continue."},
	[ERR_INVALID_CREDENTIALS] = {"invalid_credentials", 401, "The user name or password is wrong."},
	[ERR_LOCKED] = {"locked", 429,
	    "Too many failed attempts; wait before trying again.", 1},
	[ERR_TICKET_INVALID] = {"ticket_invalid", 401,
	    "This login attempt expired or was used; start again."},
	[ERR_CODE_WRONG] = {"code_wrong", 401, "The code is wrong."},
	[ERR_CODE_REUSED] = {"code_reused", 401,
	    "This code was already used; wait for the next one."},
	[ERR_ENROLMENT_INVALID] = {"enrolment_invalid", 404,
	    "This enrolment expired or was already confirmed; start again."},
	[ERR_BREACH_CHECK_DOWN] = {"breach_check_unavailable", 503,
	    "Passwords cannot be checked against known breaches right now; try again shortly.", 5},
	[ERR_UNKNOWN_USER] = {"unknown_user", 404, "There is no user of that name."},
	[ERR_YOURSELF] = {"yourself", 422, "That is your own account."},
	[ERR_ALREADY_FRIENDS] = {"already_friends", 409, "You are friends already."},
	[ERR_REQUEST_PENDING] = {"request_pending", 409,
	    "Your friend request to this user is still waiting for an answer."},
	[ERR_REQUEST_UNKNOWN] = {"request_not_found", 404, "There is no such friend request."},
	[ERR_BLOCKED] = {"blocked", 403, "This user does not accept requests or messages from you."},
	[ERR_YOU_BLOCKED] = {"you_blocked", 409, "You have blocked this user; unblock them first."},
	[ERR_NOT_FRIENDS] = {"not_friends", 403, "Only friends can do this; send a friend request first."},
	[ERR_NO_KEY] = {"no_key", 404, "This user has no such public key."},
	[ERR_BAD_KEY] = {"bad_key", 422, "The key is not a valid P-384 public key."},
	[ERR_PRIVATE_KEY] = {"private_key", 422,
	    "The key holds a private part (\"d\"); upload the public key only."},
	[ERR_KEY_NOT_OWNED] = {"unknown_key", 422,
	    "A key id of the message is not a key of its sender or recipient."},
	[ERR_REPLAY] = {"replay", 409,
	    "A message with these keys, epoch and counter was stored already."},
	[ERR_RATE_LIMITED] = {"rate_limited", 429, "Too many requests; slow down and try again shortly.", 1},
	[ERR_DB_UNAVAILABLE] = {"db_unavailable", 503, "The database is not available; try again shortly.", 5},
	[ERR_INTERNAL] = {"internal", 500, "Something went wrong on the server."},
};

static int
valid(enum err e)
{
	return e >= 0 && e < ERR__MAX && errs[e].code != NULL;
}

const char *
err_code(enum err e)
{
	return valid(e) ? errs[e].code : errs[ERR_INTERNAL].code;
}

const char *
err_strerror(enum err e)
{
	return valid(e) ? errs[e].message : errs[ERR_INTERNAL].message;
}

int
err_status(enum err e)
{
	return valid(e) ? errs[e].status : 500;
}

long long
err_retry_after(enum err e)
{
	return valid(e) ? errs[e].retry : 0;
}
