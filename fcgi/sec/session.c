/*
 * session: tokens, cookies, CSRF and Origin checks (see session.h).
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hex.h"
#include "b64.h"
#include "config.h"
#include "cookie.h"
#include "db.h"
#include "event.h"
#include "log.h"
#include "presence.h"
#include "session.h"
#include "sql_accounts.h"
#include "token.h"
#include "utf8.h"

static void
session_csrf_of(const struct config *cfg, const unsigned char hash[32], char out[65])
{
	unsigned char mac[32], msg[37];
	unsigned int len = sizeof(mac);

	memcpy(msg, "csrf:", 5);
	memcpy(msg + 5, hash, 32);
	if (HMAC(EVP_sha256(), cfg->pepper, sizeof(cfg->pepper), msg, sizeof(msg), mac, &len) == NULL)
		RAND_bytes(mac, sizeof(mac));	/* an unguessable value nobody holds */
	hex_encode(mac, 32, out, 0);
	OPENSSL_cleanse(mac, sizeof(mac));
}

enum err
session_load(struct req *r, const char *peer)
{
	const char *tok = cookie_get(r->arena, r->cookie, SESSION_COOKIE);
	struct sql_session row;
	struct sql_session_key key;
	struct session *s;
	int found;

	if (tok == NULL || strlen(tok) != TOKEN_LEN)
		return ERR_UNAUTHENTICATED;
	if ((s = arena_alloc(r->arena, sizeof(*s))) == NULL)
		return ERR_INTERNAL;
	token_hash(tok, TOKEN_LEN, s->hash);
	/* Marking every request seen would be a write per request; an eighth of
	 * the idle timeout is precise enough (225 s of 30 min). */
	key = (struct sql_session_key){.hash = s->hash, .idle = r->cfg->session_idle,
	    .max = r->cfg->session_max, .touch_every = r->cfg->session_idle / 8, .peer = peer};
	if (sql_session_get(r->db, &key, &row, &found) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (!found)
		return ERR_UNAUTHENTICATED;
	s->id = row.id;
	s->user_id = row.user_id;
	memcpy(s->username, row.username, sizeof(s->username));
	s->seen_age = row.seen_age;
	s->touch_due = row.touch_due != 0;
	s->peer_asked = peer;
	s->peer_id = row.peer_id;
	memcpy(s->peer_name, row.peer_name, sizeof(s->peer_name));
	session_csrf_of(r->cfg, s->hash, s->csrf);
	r->session = s;
	return ERR_OK;
}

int
session_origin_ok(const struct req *r)
{
	if (r->origin == NULL)
		return 0;
	for (int i = 0; i < r->cfg->norigins; i++)
		if (strcasecmp(r->origin, r->cfg->origins[i]) == 0)
			return 1;
	return 0;
}

int
session_csrf_ok(const struct req *r)
{
	if (r->session == NULL || r->csrf == NULL || strlen(r->csrf) != 64)
		return 0;
	return CRYPTO_memcmp(r->csrf, r->session->csrf, 64) == 0;
}

static void
session_cookie(struct req *r, const char *value, int max_age)
{
	char v[160];

	snprintf(v, sizeof(v), SESSION_COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=%d",
	    value, max_age);
	req_header(r, "Set-Cookie", v);
}

/* A header value as storable text: invalid UTF-8 and controls become '?', cut whole. */
static void
session_text(const char *in, char *out, size_t outlen)
{
	size_t i = 0, j = 0, n = in ? strlen(in) : 0;

	while (i < n && j + 5 < outlen) {
		unsigned char c = (unsigned char)in[i];
		size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;

		if (i + len <= n && utf8_valid(in + i, len) && c >= 0x20 && c != 0x7F) {
			memcpy(out + j, in + i, len);
			j += len;
			i += len;
		} else {
			out[j++] = '?';
			i++;
		}
	}
	out[j] = '\0';
}

enum err
session_create(struct req *r, long long user_id, const char *username)
{
	char tok[TOKEN_LEN + 1], ua[256];
	struct session *s = arena_alloc(r->arena, sizeof(*s));

	if (s == NULL || token_mint(tok, s->hash) < 0)
		return ERR_INTERNAL;
	session_text(r->user_agent, ua, sizeof(ua));
	if (sql_session_insert(r->db, s->hash, user_id, ua, r->remote_addr ? r->remote_addr : "",
	    &s->id) != DB_OK) {
		OPENSSL_cleanse(tok, sizeof(tok));
		return ERR_DB_UNAVAILABLE;
	}
	s->user_id = user_id;
	snprintf(s->username, sizeof(s->username), "%s", username);
	session_csrf_of(r->cfg, s->hash, s->csrf);
	session_cookie(r, tok, r->cfg->session_max);
	OPENSSL_cleanse(tok, sizeof(tok));
	r->session = s;
	return ERR_OK;
}

void
session_clear_cookie(struct req *r)
{
	session_cookie(r, "", 0);
}

enum err
session_end(struct req *r)
{
	if (sql_session_delete(r->db, r->session->id, r->session->user_id, NULL) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	session_clear_cookie(r);
	session_ended(r);
	presence_left(r, r->session->user_id);
	return ERR_OK;
}

void
session_ended(struct req *r)
{
	/* Open event streams outlive their session: close the user's, and
	 * only the sessions still alive subscribe again. */
	event_close_streams(r, r->session->user_id);
}
