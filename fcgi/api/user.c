/*
 * user: shared account steps (see user.h).
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hex.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "password.h"
#include "pwned.h"
#include "seal.h"
#include "session.h"
#include "sql_accounts.h"
#include "token.h"
#include "user.h"
#include "utf8.h"

int
user_name_valid(const char *s, size_t n)
{
	if (n < 3 || n > 32)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

void
user_name_key(const char *name, char out[33])
{
	unsigned char h[32];
	size_t i;

	if (user_name_valid(name, strlen(name))) {
		for (i = 0; name[i] != '\0'; i++)
			out[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] + 32) : name[i];
		out[i] = '\0';
		return;
	}
	/* Not a possible user name: a key of its own that no real name can be
	 * ('#' is not allowed in names), of fixed length and plain ASCII. */
	token_hash(name, strlen(name), h);
	out[0] = '#';
	hex_encode(h, 15, out + 1, 0);
	out[31] = '\0';
}

enum err
user_by_name(struct req *r, const char *name, struct sql_user *u)
{
	int found;

	if (sql_user_by_name(r->db, name, u, &found) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return found ? ERR_OK : ERR_NOT_FOUND;
}

enum err
user_by_id(struct req *r, long long id, struct sql_user *u)
{
	int found;

	if (sql_user_by_id(r->db, id, u, &found) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return found ? ERR_OK : ERR_NOT_FOUND;
}

int
user_password_normalize(const char *password, char *nfkc)
{
	size_t cps;

	return password_normalize(password, strlen(password), nfkc, USER_PASSWORD_MAX, &cps);
}

enum err
user_password_accept(struct req *r, const char *username, const char *password, char *nfkc)
{
	enum password_verdict v;
	size_t cps = 0;

	/* Past USER_PASSWORD_MAX bytes, before or after NFKC, a password is far
	 * over 128 code points (no code point is over 4 bytes). */
	if (!utf8_valid(password, strlen(password)))
		v = PASSWORD_INVALID;
	else if (strlen(password) >= USER_PASSWORD_MAX ||
	    password_normalize(password, strlen(password), nfkc, USER_PASSWORD_MAX, &cps) < 0)
		v = PASSWORD_TOO_LONG;
	else if ((v = password_rules(nfkc, cps, username)) == PASSWORD_OK &&
	    blocklist_contains(r->blocklist, nfkc))
		v = PASSWORD_BLOCKLISTED;
	if (v == PASSWORD_OK) {
		switch (pwned_check(r->curl, r->cfg->pwned_url, r->cfg->pwned_cainfo, nfkc,
		    r->cfg->pwned_timeout_ms, r->id)) {
		case PWNED_FOUND:
			v = PASSWORD_PWNED;
			break;
		case PWNED_NOT_FOUND:
			break;
		case PWNED_UNREACHABLE:
			if (r->cfg->pwned_required) {
				OPENSSL_cleanse(nfkc, USER_PASSWORD_MAX);
				return ERR_BREACH_CHECK_DOWN;
			}
			log_msg(LOG_WARN, "rid=%s pwned: range API unreachable; accepted on the local "
			    "blocklist alone", r->id);
			break;
		}
	}
	if (v == PASSWORD_OK)
		return ERR_OK;
	OPENSSL_cleanse(nfkc, USER_PASSWORD_MAX);
	return req_refuse_code(r, ERR_BAD_VALUE, password_verdict_code(v), password_verdict_message(v));
}

int
user_password_hash(struct req *r, const char *nfkc, char *out)
{
	return password_hash(r->cfg->pepper, nfkc, r->cfg->bcrypt_cost, out, 100);
}

int
user_password_verify(struct req *r, const struct sql_user *u, const char *nfkc)
{
	char upgraded[100];
	int cost = 0, ok = password_verify(r->cfg->pepper, nfkc, u->password_hash, &cost);

	/* A hash made at a lower cost is replaced while the password is at hand. */
	if (ok == 1 && cost < r->cfg->bcrypt_cost && user_password_hash(r, nfkc, upgraded) == 0) {
		if (sql_user_set_password(r->db, u->id, upgraded) == DB_OK)
			log_msg(LOG_INFO, "rid=%s password hash of user %lld upgraded from cost %d to %d",
			    r->id, u->id, cost, r->cfg->bcrypt_cost);
	}
	return ok;
}

static void
user_totp_aad(long long user_id, char aad[48])
{
	snprintf(aad, 48, "totp:user:%lld", user_id);
}

int
user_totp_new(struct req *r, long long user_id, unsigned char *sealed, size_t *sealed_len,
    char b32[40])
{
	unsigned char secret[TOTP_SECRET_LEN];
	char aad[48];
	int n;

	user_totp_aad(user_id, aad);
	if (totp_secret_new(secret) < 0 || totp_base32(secret, sizeof(secret), b32, 40) < 0) {
		OPENSSL_cleanse(secret, sizeof(secret));
		return -1;
	}
	n = seal_encrypt(r->cfg->totp_key, secret, sizeof(secret), aad, sealed, USER_SEALED_MAX);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (n < 0)
		return -1;
	*sealed_len = (size_t)n;
	return 0;
}

int
user_totp_b32(struct req *r, long long user_id, const unsigned char *sealed, size_t sealed_len,
    char b32[40])
{
	unsigned char secret[64];
	char aad[48];
	int n, ret;

	user_totp_aad(user_id, aad);
	n = seal_decrypt(r->cfg->totp_key, sealed, sealed_len, aad, secret, sizeof(secret));
	if (n < 0) {
		log_msg(LOG_ERROR, "rid=%s totp: the sealed secret of user %lld does not open", r->id, user_id);
		return -1;
	}
	ret = totp_base32(secret, (size_t)n, b32, 40) < 0 ? -1 : 0;
	OPENSSL_cleanse(secret, sizeof(secret));
	return ret;
}

enum err
user_totp_check(struct req *r, long long user_id, const unsigned char *sealed, size_t sealed_len,
    long long last_step, const char *code, enum user_totp_mode mode, long long *step_out)
{
	unsigned char secret[64];
	long long step = 0, taken = 0;
	char aad[48];
	enum db_rc rc;
	int n, v;

	user_totp_aad(user_id, aad);
	n = seal_decrypt(r->cfg->totp_key, sealed, sealed_len, aad, secret, sizeof(secret));
	if (n < 0) {
		log_msg(LOG_ERROR, "rid=%s totp: the sealed secret of user %lld does not open", r->id, user_id);
		return ERR_INTERNAL;
	}
	v = totp_validate(secret, (size_t)n, time(NULL), code, last_step, &step);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (v == -2)
		return ERR_CODE_REUSED;
	if (v != 0)
		return ERR_CODE_WRONG;
	if (step_out != NULL)
		*step_out = step;
	if (mode == USER_TOTP_PEEK)
		return ERR_OK;
	/* Take the step in one statement, so two requests cannot both use it. */
	if (mode == USER_TOTP_ACTIVATE)
		rc = sql_user_activate(r->db, user_id, step, &taken);
	else
		rc = sql_user_set_step(r->db, user_id, step, &taken);
	if (rc != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return taken == 1 ? ERR_OK : ERR_CODE_REUSED;
}

enum err
user_lock(struct req *r, long long user_id)
{
	int found;

	if (sql_user_lock(r->db, user_id, &found) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return found ? ERR_OK : ERR_NOT_FOUND;
}

enum err
user_recovery_new(struct req *r, long long user_id, json_t **out)
{
	char codes[RECOVERY_COUNT][RECOVERY_CODE_LEN + 1], norm[17], hex[65];
	enum err e = ERR_OK;
	json_t *arr;

	json_decref(*out);	/* the codes of an earlier try of the transaction */
	*out = NULL;
	if (recovery_generate(codes) < 0 || (arr = json_array()) == NULL)
		return ERR_INTERNAL;
	if (sql_recovery_delete_user(r->db, user_id) != DB_OK)
		e = ERR_DB_UNAVAILABLE;
	for (int i = 0; e == ERR_OK && i < RECOVERY_COUNT; i++) {
		if (recovery_normalize(codes[i], norm) < 0 || recovery_hash(r->cfg->pepper, norm, hex) < 0 ||
		    json_array_append_new(arr, json_string(codes[i])) != 0) {
			e = ERR_INTERNAL;
			break;
		}
		if (sql_recovery_insert(r->db, user_id, hex) != DB_OK)
			e = ERR_DB_UNAVAILABLE;
	}
	OPENSSL_cleanse(codes, sizeof(codes));
	OPENSSL_cleanse(norm, sizeof(norm));
	if (e != ERR_OK) {
		json_decref(arr);
		return e;
	}
	*out = arr;
	return ERR_OK;
}

enum err
user_recovery_use(struct req *r, long long user_id, const char *code)
{
	char norm[17], hex[65];
	long long used = 0;

	if (recovery_normalize(code, norm) < 0)
		return ERR_CODE_WRONG;
	if (recovery_hash(r->cfg->pepper, norm, hex) < 0)
		return ERR_INTERNAL;
	if (sql_recovery_use(r->db, user_id, hex, &used) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return used == 1 ? ERR_OK : ERR_CODE_WRONG;
}

long long
user_recovery_left(struct req *r, long long user_id)
{
	long long n = -1;

	if (sql_recovery_remaining(r->db, user_id, &n) != DB_OK)
		return -1;
	return n;
}

json_t *
user_login_json(struct req *r)
{
	return json_pack("{s:{s:I, s:s}, s:s}", "user", "id", (json_int_t)r->session->user_id,
	    "username", r->session->username, "csrf_token", r->session->csrf);
}
