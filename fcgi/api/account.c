/*
 * account: what a logged-in user does with their own account.
 *   GET  /api/me                          who am I, CSRF token, recovery codes left
 *   POST /api/account/password            {current_password, code, new_password}
 *   POST /api/account/totp                {password} → a new secret to bind
 *   POST /api/account/totp/confirm        {enrolment_token, code} (from the new authenticator)
 *   POST /api/account/recovery-codes      {code} → 10 new codes, the old ones void
 *   GET  /api/sessions, DELETE /api/sessions/{id}
 * Changing the password or the authenticator proves the current factors
 * again and ends every other session of the user.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "session.h"
#include "sql_accounts.h"
#include "token.h"
#include "throttle.h"
#include "user.h"

const struct field password_change_fields[] = {
	{"current_password", FIELD_STRING, FIELD_REQUIRED, 1, USER_PASSWORD_FIELD_MAX, NULL, NULL},
	{"code", FIELD_STRING, FIELD_REQUIRED | FIELD_CODE, 1, 64, NULL, NULL},
	{"new_password", FIELD_STRING, FIELD_REQUIRED, 1, USER_PASSWORD_FIELD_MAX, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

const struct field totp_new_fields[] = {
	{"password", FIELD_STRING, FIELD_REQUIRED, 1, USER_PASSWORD_FIELD_MAX, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

const struct field code_fields[] = {
	{"code", FIELD_STRING, FIELD_REQUIRED | FIELD_CODE, 1, 64, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

/* Inside db_tx(): ends the caller's other sessions; how many into *ended. */
static enum err
end_other_sessions_tx(struct req *r, long long *ended)
{
	return sql_session_delete_others(r->db, r->session->user_id, r->session->id, ended) == DB_OK ?
	    ERR_OK : ERR_DB_UNAVAILABLE;
}

/* After the commit: the ended sessions' streams close, and the log says so. */
static void
end_other_sessions_done(struct req *r, long long ended)
{
	char detail[40];

	if (ended <= 0)
		return;
	snprintf(detail, sizeof(detail), "others=%lld", ended);
	audit_log(r, r->session->user_id, "session_ended", detail);
	session_ended(r);
}

/*
 * Re-authentication here counts like login, under the same lock: the attempt
 * is admitted under the name's row lock (a locked name answers 429, and no
 * more are checked at once than the name has attempts left), and its result
 * is counted under it (a wrong password or code counts a failure, a success
 * clears the count). So a stolen session cannot guess codes or passwords
 * without limit, not even by sending its guesses all at once.
 */
static enum err
guard_open(struct req *r, const struct sql_user *u, char key[33])
{
	struct throttle t;
	enum err e;

	user_name_key(u->username, key);
	if ((e = throttle_admit(r, key, 1, 0, &t)) == ERR_LOCKED) {
		return throttle_locked(r, t.retry_after);
	}
	return e;
}

/* Settles what guard_open admitted, whatever e is; every path after a
 * successful guard_open goes through here once. */
static enum err
guard_close(struct req *r, const struct sql_user *u, const char *key, enum err e)
{
	long long failures = 0;
	int failed = e == ERR_INVALID_CREDENTIALS || e == ERR_CODE_WRONG || e == ERR_CODE_REUSED;

	if (throttle_settle(r, key, u->id, !failed, e == ERR_OK, &failures) != ERR_OK)
		return ERR_DB_UNAVAILABLE;
	return failed ? throttle_refuse(r, e, failures) : e;
}

/* The caller's password again: ERR_OK or ERR_INVALID_CREDENTIALS. */
static enum err
recheck_password(struct req *r, const struct sql_user *u, const char *password)
{
	char nfkc[USER_PASSWORD_MAX];
	int ok = 0;

	if (user_password_normalize(password, nfkc) == 0)
		ok = user_password_verify(r, u, nfkc) == 1;
	OPENSSL_cleanse(nfkc, sizeof(nfkc));
	if (!ok)
		audit_log(r, u->id, "reauth_failure", "password");
	return ok ? ERR_OK : ERR_INVALID_CREDENTIALS;
}

static enum err
me_user(struct req *r, struct sql_user *u)
{
	enum err e = user_by_id(r, r->session->user_id, u);

	return e == ERR_NOT_FOUND ? ERR_UNAUTHENTICATED : e;
}

enum err
account_me(struct req *r)
{
	json_t *j = user_login_json(r);

	if (j != NULL)
		json_object_set_new(j, "recovery_remaining",
		    json_integer(user_recovery_left(r, r->session->user_id)));
	req_json(r, 200, j);
	return ERR_OK;
}

/* A change of the caller's own secrets: written with the other sessions'
 * end, together, under the caller's row lock. */
struct change {
	struct req *r;
	const char *hash;			/* password: the new bcrypt hash */
	const unsigned char *sealed, *token;	/* authenticator: the secret, the enrolment */
	size_t sealed_len;
	long long step, ended;
};

static enum err
account_password_tx(void *ctx)
{
	struct change *c = ctx;
	enum err e;

	if ((e = user_lock(c->r, c->r->session->user_id)) != ERR_OK)
		return e == ERR_NOT_FOUND ? ERR_UNAUTHENTICATED : e;
	if (sql_user_set_password(c->r->db, c->r->session->user_id, c->hash) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return end_other_sessions_tx(c->r, &c->ended);
}

enum err
account_password(struct req *r)
{
	char nfkc[USER_PASSWORD_MAX], hash[100], key[33];
	struct change ch = {0};
	struct sql_user u;
	enum err e;

	if ((e = me_user(r, &u)) != ERR_OK || (e = guard_open(r, &u, key)) != ERR_OK)
		return e;
	if ((e = recheck_password(r, &u, fields_str(r->in, "current_password"))) != ERR_OK)
		return guard_close(r, &u, key, e);
	/* The new password first: a refused one must not use up the code. */
	if ((e = user_password_accept(r, u.username, fields_str(r->in, "new_password"), nfkc)) != ERR_OK)
		return guard_close(r, &u, key, e);
	e = user_totp_check(r, u.id, u.totp_sealed, u.totp_sealed_len, u.totp_last_step,
	    fields_str(r->in, "code"), USER_TOTP_USE, NULL);
	if (e != ERR_OK) {
		OPENSSL_cleanse(nfkc, sizeof(nfkc));
		if (e == ERR_CODE_WRONG || e == ERR_CODE_REUSED)
			audit_log(r, u.id, "mfa_failure", "password change");
		return guard_close(r, &u, key, e);
	}
	if ((e = guard_close(r, &u, key, ERR_OK)) != ERR_OK) {
		OPENSSL_cleanse(nfkc, sizeof(nfkc));
		return e;
	}
	if (user_password_hash(r, nfkc, hash) < 0) {
		OPENSSL_cleanse(nfkc, sizeof(nfkc));
		return ERR_INTERNAL;
	}
	OPENSSL_cleanse(nfkc, sizeof(nfkc));
	ch.r = r;
	ch.hash = hash;
	e = db_tx(r->db, "password_change", account_password_tx, &ch);
	OPENSSL_cleanse(hash, sizeof(hash));
	if (e != ERR_OK)
		return e;
	audit_log(r, u.id, "password_change", NULL);
	end_other_sessions_done(r, ch.ended);
	r->status = 204;
	return ERR_OK;
}

/* A new authenticator's enrolment, replacing a pending one: one at a time. */
struct rebind {
	struct req *r;
	long long uid;
	const unsigned char *sealed;
	size_t sealed_len;
	char *token;
};

static enum err
account_totp_new_tx(void *ctx)
{
	struct rebind *b = ctx;
	enum err e;

	if ((e = user_lock(b->r, b->uid)) != ERR_OK)
		return e == ERR_NOT_FOUND ? ERR_UNAUTHENTICATED : e;
	if (sql_enrol_delete_rebind(b->r->db, b->uid) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return register_enrolment(b->r, b->uid, "rebind", b->sealed, b->sealed_len, b->token);
}

enum err
account_totp_new(struct req *r)
{
	unsigned char sealed[USER_SEALED_MAX];
	char b32[40], token[TOKEN_LEN + 1], key[33];
	size_t sealed_len;
	struct rebind rb;
	struct sql_user u;
	json_t *j;
	enum err e;

	if ((e = me_user(r, &u)) != ERR_OK || (e = guard_open(r, &u, key)) != ERR_OK)
		return e;
	e = recheck_password(r, &u, fields_str(r->in, "password"));
	if ((e = guard_close(r, &u, key, e)) != ERR_OK)
		return e;
	if (user_totp_new(r, u.id, sealed, &sealed_len, b32) < 0)
		return ERR_INTERNAL;
	rb.r = r;
	rb.uid = u.id;
	rb.sealed = sealed;
	rb.sealed_len = sealed_len;
	rb.token = token;
	e = db_tx(r->db, "authenticator_new", account_totp_new_tx, &rb);
	j = e == ERR_OK ? register_enrolment_json(r, u.username, token, b32, NULL) : NULL;
	OPENSSL_cleanse(b32, sizeof(b32));
	OPENSSL_cleanse(token, sizeof(token));
	if (e != ERR_OK)
		return e;
	if (j == NULL)
		return ERR_INTERNAL;
	req_json(r, 201, j);
	return ERR_OK;
}

/* The new secret replaces the old, its enrolment ends (a parallel confirm
 * of the same one finds it gone), and the other sessions end. */
static enum err
account_totp_confirm_tx(void *ctx)
{
	struct change *c = ctx;
	long long uid = c->r->session->user_id, taken = 0;
	enum err e;

	if ((e = user_lock(c->r, uid)) != ERR_OK)
		return e == ERR_NOT_FOUND ? ERR_UNAUTHENTICATED : e;
	if (sql_enrol_delete(c->r->db, c->token, &taken) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (taken != 1)
		return ERR_ENROLMENT_INVALID;
	if (sql_user_set_totp(c->r->db, uid, c->sealed, c->sealed_len, c->step) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return end_other_sessions_tx(c->r, &c->ended);
}

enum err
account_totp_confirm(struct req *r)
{
	unsigned char hash[32];
	struct sql_enrolment en;
	long long uid, step = 0;
	struct change ch = {0};
	enum err e;

	e = register_enrolment_get(r, fields_str(r->in, "enrolment_token"), &en, hash);
	if (e == ERR_OK && (strcmp(en.purpose, "rebind") != 0 || en.user_id != r->session->user_id))
		e = ERR_ENROLMENT_INVALID;
	if (e != ERR_OK)
		return e;
	uid = en.user_id;
	/* The new secret has no used step yet; its step is stored with it. */
	e = user_totp_check(r, uid, en.totp_sealed, en.totp_sealed_len, 0, fields_str(r->in, "code"),
	    USER_TOTP_PEEK, &step);
	if (e != ERR_OK) {
		audit_log(r, uid, "mfa_failure", "authenticator change");
		return e;
	}
	ch.r = r;
	ch.sealed = en.totp_sealed;
	ch.sealed_len = en.totp_sealed_len;
	ch.token = hash;
	ch.step = step;
	if ((e = db_tx(r->db, "authenticator_change", account_totp_confirm_tx, &ch)) != ERR_OK)
		return e;
	audit_log(r, uid, "authenticator_change", NULL);
	end_other_sessions_done(r, ch.ended);
	r->status = 204;
	return ERR_OK;
}

/* Ten new codes replace all the old ones, or none do. */
struct regen {
	struct req *r;
	long long uid;
	json_t *codes;
};

static enum err
account_recovery_tx(void *ctx)
{
	struct regen *g = ctx;
	enum err e;

	if ((e = user_lock(g->r, g->uid)) != ERR_OK)
		return e == ERR_NOT_FOUND ? ERR_UNAUTHENTICATED : e;
	return user_recovery_new(g->r, g->uid, &g->codes);
}

enum err
account_recovery_codes(struct req *r)
{
	struct regen rc = {0};
	struct sql_user u;
	char key[33];
	enum err e;

	if ((e = me_user(r, &u)) != ERR_OK || (e = guard_open(r, &u, key)) != ERR_OK)
		return e;
	e = user_totp_check(r, u.id, u.totp_sealed, u.totp_sealed_len, u.totp_last_step,
	    fields_str(r->in, "code"), USER_TOTP_USE, NULL);
	if (e == ERR_CODE_WRONG || e == ERR_CODE_REUSED)
		audit_log(r, u.id, "mfa_failure", "recovery codes");
	if ((e = guard_close(r, &u, key, e)) != ERR_OK)
		return e;
	rc.r = r;
	rc.uid = u.id;
	if ((e = db_tx(r->db, "recovery_regenerate", account_recovery_tx, &rc)) != ERR_OK) {
		json_decref(rc.codes);
		return e;
	}
	audit_log(r, u.id, "recovery_regenerated", NULL);
	req_json(r, 201, json_pack("{s:o}", "recovery_codes", rc.codes));
	return ERR_OK;
}

enum err
sessions_list(struct req *r)
{
	json_t *list = json_array();

	return req_json_list(r, "sessions", sql_session_list(r->db, r->session->user_id, r->session->id,
	    r->cfg->session_idle, r->cfg->session_max, list), list);
}

static int
id_valid(const char *s, size_t n)
{
	return n >= 1 && n <= 18 && strspn(s, "0123456789") == n;
}

enum err
sessions_delete(struct req *r)
{
	long long id, ended = 0;

	if (!id_valid(r->captures[0], strlen(r->captures[0])))
		return ERR_NOT_FOUND;
	id = strtoll(r->captures[0], NULL, 10);
	if (id == r->session->id)
		return session_end(r) == ERR_OK ? (r->status = 204, ERR_OK) : ERR_DB_UNAVAILABLE;
	/* only one's own sessions */
	if (sql_session_delete(r->db, id, r->session->user_id, &ended) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (ended != 1)
		return ERR_NOT_FOUND;
	audit_log(r, r->session->user_id, "session_ended", r->captures[0]);
	session_ended(r);
	r->status = 204;
	return ERR_OK;
}
