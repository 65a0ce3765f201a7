/*
 * challenge: CAPTCHA challenge rows and POST /api/captcha (see challenge.h).
 */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "hex.h"
#include "captcha.h"
#include "challenge.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "session.h"
#include "sql_guard.h"

int
challenge_id_valid(const char *s, size_t n)
{
	return n == 32 && hex_valid(s, 32);
}

enum err
challenge_take(struct req *r, const char *id, const char *answer)
{
	char stored[SQL_CAPTCHA_ANSWER_MAX], given[7];
	int found, live, norm;

	if (sql_captcha_take(r->db, id, stored, &live, &found) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (!found || !live)
		return ERR_CAPTCHA_EXPIRED;
	norm = captcha_normalize(answer, given);
	if (norm < 0 || strlen(given) != strlen(stored) ||
	    CRYPTO_memcmp(given, stored, strlen(stored)) != 0)
		return ERR_CAPTCHA_WRONG;
	return ERR_OK;
}

enum err
challenge_post(struct req *r)
{
	unsigned char raw[16];
	char id[33], answer[7];
	struct buf png = {0}, url = {0};
	enum err e = ERR_INTERNAL;

	if (RAND_bytes(raw, sizeof(raw)) != 1 || captcha_answer_new(answer) < 0)
		return ERR_INTERNAL;
	hex_encode(raw, sizeof(raw), id, 0);
	if (captcha_png(answer, r->cfg->captcha_font, &png) < 0 || buf_failed(&png)) {
		log_msg(LOG_ERROR, "rid=%s captcha: cannot draw the image", r->id);
		goto out;
	}
	if (sql_captcha_insert(r->db, id, answer, CHALLENGE_TTL) != DB_OK) {
		e = ERR_DB_UNAVAILABLE;
		goto out;
	}
	buf_data_url(&url, "image/png", png.p, png.len);
	if (buf_failed(&url))
		goto out;
	req_json(r, 201, json_pack("{s:s, s:s}", "id", id, "image", url.p));
	e = ERR_OK;
out:
	OPENSSL_cleanse(answer, sizeof(answer));
	buf_free(&url);
	buf_free(&png);
	return e;
}
