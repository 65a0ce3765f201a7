/*
 * register: POST /api/register and POST /api/register/confirm.
 *
 * Registration takes a user name, a password that passes every rule and a
 * solved CAPTCHA, and answers with everything enrolment needs, once: the
 * TOTP secret (as an otpauth URI, a QR code and text), 10 recovery codes and
 * an enrolment token. The account stays inactive until /confirm receives a
 * right code from the authenticator; unconfirmed accounts expire after
 * CHATD_ENROL_TTL seconds and their name becomes free again. Confirmation
 * logs the new user in.
 *
 * An enrolment interrupted by a reload is resumed at login (login.c calls
 * register_resume() once the password is right): the same secret, a new
 * token (the old one dies) and new recovery codes (the old ones were never
 * confirmed as saved). Secrets go into the answer only, never into a log.
 */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "audit.h"
#include "b64.h"
#include "challenge.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "qr.h"
#include "session.h"
#include "sql_accounts.h"
#include "token.h"
#include "throttle.h"
#include "user.h"

/* Registration and the password step of login take the same fields. */
const struct field credential_fields[] = {
	{"username", FIELD_STRING, FIELD_REQUIRED, 1, 64, NULL, NULL},
	{"password", FIELD_STRING, FIELD_REQUIRED, 1, USER_PASSWORD_FIELD_MAX, NULL, NULL},
	{"captcha_id", FIELD_STRING, FIELD_REQUIRED, 32, 32, NULL, challenge_id_valid},
	{"captcha", FIELD_STRING, FIELD_REQUIRED, 1, 16, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

const struct field confirm_fields[] = {
	{"enrolment_token", FIELD_STRING, FIELD_REQUIRED, TOKEN_LEN, TOKEN_LEN, NULL, NULL},
	{"code", FIELD_STRING, FIELD_REQUIRED | FIELD_CODE, 1, 64, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

/* An enrolment token and its row; the token goes into *token. */
enum err
register_enrolment(struct req *r, long long user_id, const char *purpose,
    const unsigned char *sealed, size_t sealed_len, char token[TOKEN_LEN + 1])
{
	unsigned char hash[32];

	if (token_mint(token, hash) < 0)
		return ERR_INTERNAL;
	if (sql_enrol_insert(r->db, hash, user_id, purpose, sealed, sealed_len, r->cfg->enrol_ttl) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return ERR_OK;
}

/* A resumed enrolment ends when the account's first one would have. */
static enum err
register_enrolment_cap(struct req *r, long long user_id)
{
	return sql_enrol_cap(r->db, user_id, r->cfg->enrol_ttl) == DB_OK ? ERR_OK : ERR_DB_UNAVAILABLE;
}

/* The enrolment answer: token, otpauth URI, secret, QR image and (optional) recovery codes. */
json_t *
register_enrolment_json(struct req *r, const char *username, const char *token, const char *b32,
    json_t *codes)
{
	char uri[512];
	struct buf qr = {0};
	json_t *j;

	if (totp_uri(uri, sizeof(uri), r->cfg->issuer, username, b32) < 0 || qr_data_url(uri, &qr) < 0 ||
	    buf_failed(&qr)) {
		buf_free(&qr);
		json_decref(codes);
		return NULL;
	}
	j = json_pack("{s:s, s:s, s:s, s:s}", "enrolment_token", token, "totp_uri", uri,
	    "totp_secret", b32, "qr", qr.p);
	if (j != NULL && codes != NULL && json_object_set_new(j, "recovery_codes", codes) != 0) {
		json_decref(j);
		j = NULL;
	} else if (j == NULL)
		json_decref(codes);
	OPENSSL_cleanse(uri, sizeof(uri));
	buf_free(&qr);
	return j;
}

/* A new account's rows, written together or not at all: the user, its
 * sealed secret (sealed to the id the insert gives), the enrolment and the
 * recovery codes. */
struct newcomer {
	struct req *r;
	const char *name, *hash;
	long long uid;
	char b32[40], token[TOKEN_LEN + 1];
	json_t *codes;
};

static enum err
register_tx(void *ctx)
{
	struct newcomer *n = ctx;
	struct req *r = n->r;
	unsigned char sealed[USER_SEALED_MAX];
	size_t sealed_len;
	int taken = 0;
	enum err e;

	switch (sql_user_insert(r->db, n->name, n->hash, &n->uid, &taken)) {
	case DB_OK:
		break;
	case DB_FAILED:
		return taken ? ERR_USERNAME_TAKEN : ERR_INTERNAL;
	default:
		return ERR_DB_UNAVAILABLE;
	}
	if (user_totp_new(r, n->uid, sealed, &sealed_len, n->b32) < 0)
		return ERR_INTERNAL;
	if (sql_user_set_totp(r->db, n->uid, sealed, sealed_len, 0) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if ((e = register_enrolment(r, n->uid, "register", sealed, sealed_len, n->token)) != ERR_OK)
		return e;
	return user_recovery_new(r, n->uid, &n->codes);
}

enum err
register_post(struct req *r)
{
	const char *name = fields_str(r->in, "username");
	char nfkc[USER_PASSWORD_MAX], hash[100];
	struct newcomer n = {0};
	json_t *j;
	enum err e;

	if (!user_name_valid(name, strlen(name)))
		return ERR_BAD_USERNAME;
	if ((e = challenge_take(r, fields_str(r->in, "captcha_id"), fields_str(r->in, "captcha"))) != ERR_OK)
		return e;
	if ((e = user_password_accept(r, name, fields_str(r->in, "password"), nfkc)) != ERR_OK)
		return e;
	if (user_password_hash(r, nfkc, hash) < 0) {
		OPENSSL_cleanse(nfkc, sizeof(nfkc));
		return ERR_INTERNAL;
	}
	OPENSSL_cleanse(nfkc, sizeof(nfkc));

	/* This name, if its registration was never confirmed in time, is free
	 * again now: the answer must not wait for the purge process. */
	if (sql_user_purge_pending_name(r->db, name, r->cfg->enrol_ttl) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	n.r = r;
	n.name = name;
	n.hash = hash;
	e = db_tx(r->db, "register", register_tx, &n);
	OPENSSL_cleanse(hash, sizeof(hash));
	j = e == ERR_OK ? register_enrolment_json(r, name, n.token, n.b32, n.codes) : NULL;
	OPENSSL_cleanse(n.b32, sizeof(n.b32));
	OPENSSL_cleanse(n.token, sizeof(n.token));
	if (e != ERR_OK) {
		json_decref(n.codes);
		return e;
	}
	if (j == NULL)
		return ERR_INTERNAL;
	audit_log(r, n.uid, "register", NULL);
	req_json(r, 201, j);
	return ERR_OK;
}

/* A resumed enrolment's rows: the old enrolment goes, a new one (capped to
 * the first one's end) and new recovery codes come, together. */
struct resumed {
	struct req *r;
	const struct sql_user *u;
	char token[TOKEN_LEN + 1];
	json_t *codes;
};

static enum err
register_resume_tx(void *ctx)
{
	struct resumed *m = ctx;
	const struct sql_user *u = m->u;
	enum err e;

	if ((e = user_lock(m->r, u->id)) != ERR_OK)
		return e == ERR_NOT_FOUND ? ERR_ENROLMENT_INVALID : e;
	if (sql_enrol_delete_register(m->r->db, u->id) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if ((e = register_enrolment(m->r, u->id, "register", u->totp_sealed, u->totp_sealed_len,
	    m->token)) != ERR_OK || (e = register_enrolment_cap(m->r, u->id)) != ERR_OK)
		return e;
	return user_recovery_new(m->r, u->id, &m->codes);
}

enum err
register_resume(struct req *r, const struct sql_user *u)
{
	char b32[40];
	struct resumed m = {.r = r, .u = u};
	json_t *j = NULL, *out = NULL;
	enum err e;

	if (user_totp_b32(r, u->id, u->totp_sealed, u->totp_sealed_len, b32) < 0)
		return ERR_INTERNAL;
	/* The old token and codes go only with the new ones stored. */
	if ((e = db_tx(r->db, "enrolment_resume", register_resume_tx, &m)) == ERR_OK)
		j = register_enrolment_json(r, u->username, m.token, b32, m.codes);
	else
		json_decref(m.codes);
	OPENSSL_cleanse(b32, sizeof(b32));
	OPENSSL_cleanse(m.token, sizeof(m.token));
	if (e != ERR_OK)
		return e;
	if (j == NULL || (out = json_pack("{s:o}", "enrolment", j)) == NULL)
		return ERR_INTERNAL;
	audit_log(r, u->id, "enrolment_resumed", NULL);
	req_json(r, 200, out);
	return ERR_OK;
}

/* Looks up a live enrolment by token (its hash into hash). */
enum err
register_enrolment_get(struct req *r, const char *token, struct sql_enrolment *en,
    unsigned char hash[32])
{
	int found;

	memset(en, 0, sizeof(*en));
	if (strlen(token) != TOKEN_LEN)
		return ERR_ENROLMENT_INVALID;
	token_hash(token, TOKEN_LEN, hash);
	if (sql_enrol_get(r->db, hash, en, &found) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return found ? ERR_OK : ERR_ENROLMENT_INVALID;
}

/* The first code activates the account, ends the enrolment and clears
 * failures from before a resumed enrolment (password and code proven). */
struct confirm {
	struct req *r;
	long long uid;
	const unsigned char *sealed, *hash;
	size_t sealed_len;
	char key[33];
};

static enum err
register_confirm_tx(void *ctx)
{
	struct confirm *c = ctx;
	enum err e;

	e = user_totp_check(c->r, c->uid, c->sealed, c->sealed_len, 0, fields_str(c->r->in, "code"),
	    USER_TOTP_ACTIVATE, NULL);
	if (e != ERR_OK)
		return e;
	if (sql_enrol_delete(c->r->db, c->hash, NULL) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return throttle_reset(c->r, c->key);
}

enum err
register_confirm(struct req *r)
{
	unsigned char hash[32];
	struct sql_enrolment en;
	long long uid;
	struct confirm c;
	enum err e;

	e = register_enrolment_get(r, fields_str(r->in, "enrolment_token"), &en, hash);
	if (e == ERR_OK && strcmp(en.purpose, "register") != 0)
		e = ERR_ENROLMENT_INVALID;
	if (e != ERR_OK)
		return e;
	uid = en.user_id;
	c.r = r;
	c.uid = uid;
	c.sealed = en.totp_sealed;
	c.sealed_len = en.totp_sealed_len;
	c.hash = hash;
	user_name_key(en.username, c.key);
	if ((e = db_tx(r->db, "register_confirm", register_confirm_tx, &c)) != ERR_OK) {
		if (e == ERR_CODE_WRONG || e == ERR_CODE_REUSED)
			audit_log(r, uid, "mfa_failure", "enrolment");
		return e;
	}
	if ((e = session_create(r, uid, en.username)) != ERR_OK)
		return e;
	audit_log(r, uid, "register_confirm", NULL);
	req_json(r, 200, user_login_json(r));
	return ERR_OK;
}
