/*
 * login: POST /api/login (user name + password + CAPTCHA → MFA ticket),
 * POST /api/login/mfa (ticket + TOTP or recovery code → session) and
 * POST /api/logout.
 *
 * The answers never tell whether a user name exists: an unknown name runs
 * the same bcrypt work against a dummy hash, counts failures and locks out
 * like a real one, and a wrong password gets the same 401 as a wrong name. A
 * locked name answers 429 with Retry-After whether or not the password was
 * right. A hard-locked name gets a ticket that only a recovery code can use
 * (and only when the password was right, which the answer does not show).
 *
 * The password step asks for a CAPTCHA on every attempt (CHATD_LOGIN_CAPTCHA
 * "always"), or only after a recent failure of the name or from the address
 * ("after-failures"): without one where one is needed it answers 400
 * captcha_required before the password is looked at, so the CAPTCHA still
 * guards every guess that follows a failure.
 *
 * A right password for an account whose enrolment was never confirmed (the
 * page was reloaded or closed after sign-up) resumes the enrolment instead
 * of a ticket: the same authenticator secret again, since it may already be
 * in the user's app, and fresh recovery codes, since the old ones were never
 * confirmed as saved. A wrong password for such an account answers like any
 * other; an enrolment past CHATD_ENROL_TTL is purged and the name is unknown.
 */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "audit.h"
#include "b64.h"
#include "challenge.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "session.h"
#include "sql_accounts.h"
#include "token.h"
#include "throttle.h"
#include "user.h"

#define TICKET_TTL 300
#define TICKET_ATTEMPTS 5

static int
method_ok(const char *s, size_t n)
{
	return (n == 4 && memcmp(s, "totp", 4) == 0) || (n == 8 && memcmp(s, "recovery", 8) == 0);
}

/* Registration's fields, with the CAPTCHA left to login_post to demand (see above). */
const struct field login_fields[] = {
	{"username", FIELD_STRING, FIELD_REQUIRED, 1, 64, NULL, NULL},
	{"password", FIELD_STRING, FIELD_REQUIRED, 1, USER_PASSWORD_FIELD_MAX, NULL, NULL},
	{"captcha_id", FIELD_STRING, 0, 32, 32, NULL, challenge_id_valid},
	{"captcha", FIELD_STRING, 0, 1, 16, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

const struct field mfa_fields[] = {
	{"mfa_ticket", FIELD_STRING, FIELD_REQUIRED, TOKEN_LEN, TOKEN_LEN, NULL, NULL},
	{"method", FIELD_STRING, FIELD_REQUIRED, 4, 8, NULL, method_ok},
	{"code", FIELD_STRING, FIELD_REQUIRED | FIELD_CODE, 1, 64, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static enum err login_captcha_free(struct req *, const char *key);
static enum err login_password(struct req *, const char *key, int solved);

enum err
login_post(struct req *r)
{
	const char *cid = fields_str(r->in, "captcha_id"), *answer = fields_str(r->in, "captcha");
	enum err e;
	char key[33];

	/* An answer without its image (or the reverse) is a malformed body. */
	if ((cid == NULL) != (answer == NULL)) {
		char msg[96];

		snprintf(msg, sizeof(msg), "%s Field: '%s'.", err_strerror(ERR_MISSING_FIELD),
		    cid == NULL ? "captcha_id" : "captcha");
		return req_refuse(r, ERR_MISSING_FIELD, msg);
	}
	if (cid == NULL && r->cfg->login_captcha == CONFIG_CAPTCHA_ALWAYS)
		return ERR_CAPTCHA_REQUIRED;
	if (cid != NULL && (e = challenge_take(r, cid, answer)) != ERR_OK)
		return e;
	/* A malformed name is simply one that does not exist. */
	user_name_key(fields_str(r->in, "username"), key);
	if (cid == NULL && (e = login_captcha_free(r, key)) != ERR_OK)
		return e;
	return login_password(r, key, cid != NULL);
}

/*
 * after-failures, an attempt without a CAPTCHA: refused (400 captcha_required)
 * when the name failed recently, before any row is made for it; else it takes
 * the address's one CAPTCHA-free try of the window, in a statement of its own
 * committed before the password is checked, so attempts sent at once from one
 * address (or one IPv6 /64) get one try between them, not one each. The name
 * is looked at again under its lock (throttle_admit).
 */
static enum err
login_captcha_free(struct req *r, const char *key)
{
	struct throttle t;
	enum err e;
	int claimed;

	if ((e = throttle_get(r, key, 0, &t)) != ERR_OK)
		return e;
	if (t.retry_after > 0 && !t.hard) {	/* locked: said first, so the page can count down */
		return throttle_locked(r, t.retry_after);
	}
	if (t.recent || t.hard)
		return ERR_CAPTCHA_REQUIRED;
	if ((claimed = throttle_addr_claim(r)) < 0)
		return ERR_DB_UNAVAILABLE;
	return claimed ? ERR_OK : ERR_CAPTCHA_REQUIRED;
}

/* A pending account still within CHATD_ENROL_TTL: ERR_OK; one past it is
 * purged here, as the next registration would, and is ERR_NOT_FOUND. */
static enum err
login_pending_live(struct req *r, const struct sql_user *u)
{
	long long purged = 0;

	if (sql_user_purge_pending_one(r->db, u->id, r->cfg->enrol_ttl, &purged) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return purged > 0 ? ERR_NOT_FOUND : ERR_OK;
}

/*
 * The password step. The attempt is admitted under the name's row lock
 * (guesses sent at once are decided one at a time, each seeing those before
 * it), the password is checked with no lock held, and the result is counted
 * under the lock again (throttle.h).
 */
static enum err
login_password(struct req *r, const char *key, int solved)
{
	const char *name = fields_str(r->in, "username");
	char nfkc[USER_PASSWORD_MAX], token[TOKEN_LEN + 1];
	unsigned char hash[32];
	struct throttle t;
	struct sql_user u;
	long long failures = 0;
	int known, pending, ok = 0;
	enum err e, settled;

	switch ((e = throttle_admit(r, key, solved, 1, &t))) {
	case ERR_OK:
		break;
	case ERR_LOCKED:
		return throttle_locked(r, t.retry_after);
	default:
		return e;
	}
	e = user_name_valid(name, strlen(name)) ? user_by_name(r, name, &u) : ERR_NOT_FOUND;
	if (e == ERR_OK && !u.active && (e = login_pending_live(r, &u)) != ERR_OK && e != ERR_NOT_FOUND)
		goto unsettled;
	if (e == ERR_DB_UNAVAILABLE)
		goto unsettled;
	/* A pending account is known to its password, except to a hard-locked
	 * name, whose ticket only a recovery code of an active account can use. */
	pending = e == ERR_OK && !u.active && !t.hard;
	known = e == ERR_OK && (u.active || pending);
	if (!known) {
		memset(&u, 0, sizeof(u));
		snprintf(u.password_hash, sizeof(u.password_hash), "%s", r->cfg->dummy_hash);
	}
	if (user_password_normalize(fields_str(r->in, "password"), nfkc) == 0)
		ok = user_password_verify(r, &u, nfkc) == 1 && known;
	OPENSSL_cleanse(nfkc, sizeof(nfkc));

	if ((settled = throttle_settle(r, key, u.id, ok, 0, &failures)) != ERR_OK)
		return settled;
	if (!ok && !t.hard) {
		audit_log(r, u.id, "login_failure", known ? "password" : "unknown user");
		return throttle_refuse(r, ERR_INVALID_CREDENTIALS, failures);
	}
	/* The password was right: the address's CAPTCHA-free try is given back. */
	if (ok && !solved && r->cfg->login_captcha != CONFIG_CAPTCHA_ALWAYS && (e = throttle_addr_clear(r)) != ERR_OK)
		return e;
	if (ok && pending)
		return register_resume(r, &u);

	/* Password right (or hard-locked, where the answer must not say). */
	if (token_mint(token, hash) < 0)
		return ERR_INTERNAL;
	if (sql_ticket_insert(r->db, hash, key, u.id, ok, t.hard, TICKET_TTL) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (t.hard)
		req_json(r, 200, json_pack("{s:s, s:[s]}", "mfa_ticket", token, "methods", "recovery"));
	else
		req_json(r, 200, json_pack("{s:s, s:[s, s]}", "mfa_ticket", token, "methods", "totp",
		    "recovery"));
	OPENSSL_cleanse(token, sizeof(token));
	return ERR_OK;
unsettled:
	/* Neither right nor wrong: the attempt leaves the count as it was. */
	(void)throttle_settle(r, key, 0, 1, 0, NULL);
	return e;
}

/* The ticket, locked until the step's transaction ends; its hash into hash. */
static enum err
ticket_get(struct req *r, const char *token, unsigned char hash[32], struct sql_ticket *t)
{
	int found;

	token_hash(token, strlen(token), hash);
	if (sql_ticket_lock(r->db, hash, t, &found) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return found ? ERR_OK : ERR_TICKET_INVALID;
}

/* The second factor's transaction: what it found, and the refusal to
 * answer once it has committed (a failure is counted, not undone). */
struct mfa {
	struct req *r;
	const char *code;
	int recovery;
	unsigned char hash[32];		/* the ticket's */
	struct sql_ticket t;
	struct throttle th;
	struct sql_user u;
	enum err outcome;
	long long failures;
};

/* A wrong second factor: counted against the ticket and the name. */
static enum err
mfa_failed(struct mfa *m, enum err why)
{
	enum db_rc rc;
	enum err e;

	m->outcome = why;
	if (m->t.attempts + 1 >= TICKET_ATTEMPTS)
		rc = sql_ticket_delete(m->r->db, m->hash);
	else
		rc = sql_ticket_attempt(m->r->db, m->hash);
	if (rc != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (!m->th.hard && (e = throttle_fail(m->r, m->t.username, &m->failures)) != ERR_OK)
		return e;
	return ERR_OK;
}

static enum err
login_mfa_tx(void *ctx)
{
	struct mfa *m = ctx;
	struct req *r = m->r;
	enum err e;

	m->outcome = ERR_OK;
	m->failures = 0;
	if ((e = ticket_get(r, fields_str(r->in, "mfa_ticket"), m->hash, &m->t)) != ERR_OK)
		return e;
	/* The name's row for update, after the ticket (nothing takes them the
	 * other way round): guesses on many tickets of one name at once are
	 * decided one at a time, each seeing the lockout the one before set. */
	if ((e = throttle_ensure(r, m->t.username)) != ERR_OK ||
	    (e = throttle_get(r, m->t.username, 1, &m->th)) != ERR_OK)
		return e;
	if (m->th.retry_after > 0 && !m->th.hard)
		return ERR_LOCKED;
	if (m->t.user_id == 0 || !m->t.password_ok || (m->t.recovery_only && !m->recovery))
		return mfa_failed(m, ERR_CODE_WRONG);
	if ((e = user_by_id(r, m->t.user_id, &m->u)) != ERR_OK)
		return e == ERR_NOT_FOUND ? ERR_TICKET_INVALID : e;
	if (m->recovery)
		e = user_recovery_use(r, m->u.id, m->code);
	else
		e = user_totp_check(r, m->u.id, m->u.totp_sealed, m->u.totp_sealed_len, m->u.totp_last_step,
		    m->code, USER_TOTP_USE, NULL);
	if (e == ERR_CODE_WRONG || e == ERR_CODE_REUSED)
		return mfa_failed(m, e);
	if (e != ERR_OK)
		return e;
	if (sql_ticket_delete(r->db, m->hash) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return throttle_reset(r, m->t.username);
}

enum err
login_mfa(struct req *r)
{
	const char *method = fields_str(r->in, "method");
	struct mfa *m = arena_alloc(r->arena, sizeof(*m));
	long long left = -1;
	json_t *j;
	enum err e;

	if (m == NULL)
		return ERR_INTERNAL;
	memset(m, 0, sizeof(*m));
	m->r = r;
	m->code = fields_str(r->in, "code");
	m->recovery = strcmp(method, "recovery") == 0;
	if ((e = db_tx(r->db, "login_mfa", login_mfa_tx, m)) == ERR_LOCKED) {
		return throttle_locked(r, m->th.retry_after);
	}
	if (e != ERR_OK)
		return e;
	if (m->outcome != ERR_OK) {
		audit_log(r, m->t.user_id, "mfa_failure", method);
		if (!m->th.hard)
			throttle_audit(r, m->t.user_id, m->failures);
		return m->th.hard ? m->outcome : throttle_refuse(r, m->outcome, m->failures);
	}
	if ((e = session_create(r, m->u.id, m->u.username)) != ERR_OK)
		return e;
	if (m->recovery) {
		char detail[48];

		left = user_recovery_left(r, m->u.id);
		snprintf(detail, sizeof(detail), "remaining=%lld%s", left, m->th.hard ? " unlocked" : "");
		audit_log(r, m->u.id, "recovery_used", detail);
	}
	audit_log(r, m->u.id, "login_success", method);
	j = user_login_json(r);
	if (j != NULL && m->recovery)
		json_object_set_new(j, "recovery_remaining", json_integer(left));
	req_json(r, 200, j);
	return ERR_OK;
}

enum err
logout_post(struct req *r)
{
	long long uid = r->session->user_id;
	enum err e = session_end(r);

	if (e != ERR_OK)
		return e;
	audit_log(r, uid, "logout", NULL);
	r->status = 204;
	return ERR_OK;
}
