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

enum err
register_post(struct req *r)
{
	const char *name = fields_str(r->in, "username");
	char nfkc[USER_PASSWORD_MAX], hash[100], b32[40], token[TOKEN_LEN + 1];
	unsigned char sealed[USER_SEALED_MAX];
	size_t sealed_len;
	struct db_param p[3];
	struct db_result res;
	json_t *codes = NULL, *j;
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
	/* The secret is sealed to the user id, which the row gives: insert, then seal. */
	p[0] = DB_STR(name);
	p[1] = DB_STR(hash);
	p[2] = DB_BLOB("", 0);
	switch (db_run(r->db, STMT_USER_INSERT, p, 3, NULL, 0, NULL, NULL, &res)) {
	case DB_OK:
		break;
	case DB_FAILED:
		return res.err == DB_ER_DUP_ENTRY ? ERR_USERNAME_TAKEN : ERR_INTERNAL;
	default:
		return ERR_DB_UNAVAILABLE;
	}
	long long uid = res.insert_id;

	if (user_totp_new(r, uid, sealed, &sealed_len, b32) < 0)
		return ERR_INTERNAL;
	p[0] = DB_BLOB(sealed, sealed_len);
	p[1] = DB_INT(0);
	p[2] = DB_INT(uid);
	if (db_run(r->db, STMT_USER_SET_TOTP, p, 3, NULL, 0, NULL, NULL, NULL) != DB_OK ||
	    (e = register_enrolment(r, uid, "register", sealed, sealed_len, token)) != ERR_OK ||
	    (e = user_recovery_new(r, uid, &codes)) != ERR_OK) {
		OPENSSL_cleanse(b32, sizeof(b32));
		return e == ERR_OK ? ERR_DB_UNAVAILABLE : e;
	}
	j = register_enrolment_json(r, name, token, b32, codes);
	OPENSSL_cleanse(b32, sizeof(b32));
	OPENSSL_cleanse(token, sizeof(token));
	if (j == NULL)
		return ERR_INTERNAL;
	audit_log(r, uid, "register", NULL);
	req_json(r, 201, j);
	return ERR_OK;
}

enum err
register_resume(struct req *r, const struct user *u)
{
	char b32[40], token[TOKEN_LEN + 1];
	struct db_param p = DB_INT(u->id);
	json_t *codes = NULL, *j, *out;
	enum err e;

	if (db_run(r->db, STMT_ENROL_DELETE_REGISTER, &p, 1, NULL, 0, NULL, NULL, NULL) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (user_totp_b32(r, u->id, u->totp_sealed, u->totp_sealed_len, b32) < 0)
		return ERR_INTERNAL;
	if ((e = register_enrolment(r, u->id, "register", u->totp_sealed, u->totp_sealed_len, token)) != ERR_OK ||
	    (e = register_enrolment_cap(r, u->id)) != ERR_OK ||
	    (e = user_recovery_new(r, u->id, &codes)) != ERR_OK) {
		OPENSSL_cleanse(b32, sizeof(b32));
		OPENSSL_cleanse(token, sizeof(token));
		return e;
	}
	j = register_enrolment_json(r, u->username, token, b32, codes);
	OPENSSL_cleanse(b32, sizeof(b32));
	OPENSSL_cleanse(token, sizeof(token));
	/* Built whole before anything is answered: a failure here rolls back,
	 * so the old token and codes are never destroyed unseen. */
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

enum err
register_confirm(struct req *r)
{
	unsigned char sealed[USER_SEALED_MAX], hash[32];
	char purpose[16], username[33], key[33];
	size_t sealed_len = 0;
	long long uid = 0;
	struct db_param p;
	enum err e;

	e = register_enrolment_get(r, fields_str(r->in, "enrolment_token"), &uid, purpose, sealed,
	    &sealed_len, username, hash);
	if (e == ERR_OK && strcmp(purpose, "register") != 0)
		e = ERR_ENROLMENT_INVALID;
	if (e != ERR_OK)
		return e;
	e = user_totp_check(r, uid, sealed, sealed_len, 0, fields_str(r->in, "code"), USER_TOTP_ACTIVATE,
	    NULL);
	if (e != ERR_OK) {
		audit_log(r, uid, "mfa_failure", "enrolment");
		return e;
	}
	p = DB_BLOB(hash, 32);
	if (db_run(r->db, STMT_ENROL_DELETE, &p, 1, NULL, 0, NULL, NULL, NULL) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	/* Password and first code proven: failures from before a resumed enrolment are over. */
	user_name_key(username, key);
	if ((e = throttle_reset(r, key)) != ERR_OK)
		return e;
	if ((e = session_create(r, uid, username)) != ERR_OK)
		return e;
	audit_log(r, uid, "register_confirm", NULL);
	req_json(r, 200, user_login_json(r));
	return ERR_OK;
}
