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

int
challenge_id_valid(const char *s, size_t n)
{
	return n == 32 && hex_valid(s, 32);
}

enum err
challenge_take(struct req *r, const char *id, const char *answer)
{
	char stored[16], given[7];
	long long live = 0;
	struct db_param p = DB_STR(id);
	struct db_col c[2] = {DB_COL_STR(stored), DB_COL_INT(&live)};
	struct db_result res;
	int norm;

	if (db_run(r->db, STMT_CAPTCHA_TAKE, &p, 1, c, 2, NULL, NULL, &res) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (res.rows == 0 || !live)
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
	struct db_param p[3];
	enum err e = ERR_INTERNAL;

	if (RAND_bytes(raw, sizeof(raw)) != 1 || captcha_answer_new(answer) < 0)
		return ERR_INTERNAL;
	hex_encode(raw, sizeof(raw), id, 0);
	if (captcha_png(answer, r->cfg->captcha_font, &png) < 0 || buf_failed(&png)) {
		log_msg(LOG_ERROR, "rid=%s captcha: cannot draw the image", r->id);
		goto out;
	}
	p[0] = DB_STR(id);
	p[1] = DB_STR(answer);
	p[2] = DB_INT(CHALLENGE_TTL);
	if (db_run(r->db, STMT_CAPTCHA_INSERT, p, 3, NULL, 0, NULL, NULL, NULL) != DB_OK) {
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
