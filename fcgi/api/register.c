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
	struct db_param p[5];

	if (token_mint(token, hash) < 0)
		return ERR_INTERNAL;
	p[0] = DB_BLOB(hash, 32);
	p[1] = DB_INT(user_id);
	p[2] = DB_STR(purpose);
	p[3] = DB_BLOB(sealed, sealed_len);
	p[4] = DB_INT(r->cfg->enrol_ttl);
	return db_run(r->db, STMT_ENROL_INSERT, p, 5, NULL, 0, NULL, NULL, NULL) == DB_OK ?
	    ERR_OK : ERR_DB_UNAVAILABLE;
}

/* A resumed enrolment ends when the account's first one would have. */
static enum err
register_enrolment_cap(struct req *r, long long user_id)
{
	struct db_param p[2] = {DB_INT(r->cfg->enrol_ttl), DB_INT(user_id)};

	return db_run(r->db, STMT_ENROL_CAP, p, 2, NULL, 0, NULL, NULL, NULL) == DB_OK ? ERR_OK : ERR_DB_UNAVAILABLE;
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
	struct db_param p[3] = {DB_STR(n->name), DB_STR(n->hash), DB_BLOB("", 0)};
	struct db_result res;
	enum err e;

	switch (db_run(r->db, STMT_USER_INSERT, p, 3, NULL, 0, NULL, NULL, &res)) {
	case DB_OK:
		break;
	case DB_FAILED:
		return res.err == DB_ER_DUP_ENTRY ? ERR_USERNAME_TAKEN : ERR_INTERNAL;
	default:
		return ERR_DB_UNAVAILABLE;
	}
	n->uid = res.insert_id;
	if (user_totp_new(r, n->uid, sealed, &sealed_len, n->b32) < 0)
		return ERR_INTERNAL;
	p[0] = DB_BLOB(sealed, sealed_len);
	p[1] = DB_INT(0);
	p[2] = DB_INT(n->uid);
	if (db_run(r->db, STMT_USER_SET_TOTP, p, 3, NULL, 0, NULL, NULL, NULL) != DB_OK)
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
	struct db_param p[2];
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
	p[0] = DB_STR(name);
	p[1] = DB_INT(r->cfg->enrol_ttl);
	if (db_run(r->db, STMT_USER_PURGE_PENDING_NAME, p, 2, NULL, 0, NULL, NULL, NULL) != DB_OK)
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
	const struct user *u;
	char token[TOKEN_LEN + 1];
	json_t *codes;
};

static enum err
register_resume_tx(void *ctx)
{
	struct resumed *m = ctx;
	const struct user *u = m->u;
	struct db_param p = DB_INT(u->id);
	enum err e;

	if ((e = user_lock(m->r, u->id)) != ERR_OK)
		return e == ERR_NOT_FOUND ? ERR_ENROLMENT_INVALID : e;
	if (db_run(m->r->db, STMT_ENROL_DELETE_REGISTER, &p, 1, NULL, 0, NULL, NULL, NULL) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if ((e = register_enrolment(m->r, u->id, "register", u->totp_sealed, u->totp_sealed_len,
	    m->token)) != ERR_OK || (e = register_enrolment_cap(m->r, u->id)) != ERR_OK)
		return e;
	return user_recovery_new(m->r, u->id, &m->codes);
}

enum err
register_resume(struct req *r, const struct user *u)
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

/* Looks up a live enrolment by token: user id, purpose, sealed secret, user name. */
enum err
register_enrolment_get(struct req *r, const char *token, long long *uid, char purpose[16],
    unsigned char *sealed, size_t *sealed_len, char username[33], unsigned char hash[32])
{
	struct db_param p;
	struct db_col c[4] = {
		DB_COL_INT(uid), {.type = DBC_STR, .s = purpose, .cap = 16},
		{.type = DBC_BLOB, .b = sealed, .cap = USER_SEALED_MAX, .len = sealed_len},
		{.type = DBC_STR, .s = username, .cap = 33},
	};
	struct db_result res;

	if (strlen(token) != TOKEN_LEN)
		return ERR_ENROLMENT_INVALID;
	token_hash(token, TOKEN_LEN, hash);
	p = DB_BLOB(hash, 32);
	if (db_run(r->db, STMT_ENROL_GET, &p, 1, c, 4, NULL, NULL, &res) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return res.rows == 1 ? ERR_OK : ERR_ENROLMENT_INVALID;
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
	struct db_param p = DB_BLOB(c->hash, 32);
	enum err e;

	e = user_totp_check(c->r, c->uid, c->sealed, c->sealed_len, 0, fields_str(c->r->in, "code"),
	    USER_TOTP_ACTIVATE, NULL);
	if (e != ERR_OK)
		return e;
	if (db_run(c->r->db, STMT_ENROL_DELETE, &p, 1, NULL, 0, NULL, NULL, NULL) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return throttle_reset(c->r, c->key);
}

enum err
register_confirm(struct req *r)
{
	unsigned char sealed[USER_SEALED_MAX], hash[32];
	char purpose[16], username[33];
	size_t sealed_len = 0;
	long long uid = 0;
	struct confirm c;
	enum err e;

	e = register_enrolment_get(r, fields_str(r->in, "enrolment_token"), &uid, purpose, sealed,
	    &sealed_len, username, hash);
	if (e == ERR_OK && strcmp(purpose, "register") != 0)
		e = ERR_ENROLMENT_INVALID;
	if (e != ERR_OK)
		return e;
	c.r = r;
	c.uid = uid;
	c.sealed = sealed;
	c.sealed_len = sealed_len;
	c.hash = hash;
	user_name_key(username, c.key);
	if ((e = db_tx(r->db, "register_confirm", register_confirm_tx, &c)) != ERR_OK) {
		if (e == ERR_CODE_WRONG || e == ERR_CODE_REUSED)
			audit_log(r, uid, "mfa_failure", "enrolment");
		return e;
	}
	if ((e = session_create(r, uid, username)) != ERR_OK)
		return e;
	audit_log(r, uid, "register_confirm", NULL);
	req_json(r, 200, user_login_json(r));
	return ERR_OK;
}
