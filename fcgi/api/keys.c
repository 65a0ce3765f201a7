/*
 * keys: the directory of users' ECDH P-384 public keys (design §3, §4).
 *   PUT /api/keys                       {jwk}: publish a new current key
 *   GET /api/keys/{username}[?id=N]     the current key, or key N of that user
 *   GET /api/keys/{username}/history    every key, newest first
 * A key is checked with OpenSSL (jwk.c) and stored in canonical form under a
 * new id; earlier keys stay, since old messages name them. Publishing the
 * current key again changes nothing. Only the user, their friends and the
 * two sides of a pending request may read a user's keys; to anyone else the
 * keys do not exist (403 not_friends). A new key is announced to every
 * friend and the user's other sessions as one "key" fan-out, and audited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "event.h"
#include "friends.h"
#include "handlers.h"
#include "jwk.h"
#include "ratelimit.h"
#include "session.h"
#include "sql_social.h"

#define KEY_RATE 6	/* key changes per minute, after a burst of KEY_BURST */
#define KEY_BURST 10

static const struct field jwk_fields[] = {
	{"kty", FIELD_STRING, FIELD_REQUIRED, 1, 16, NULL, NULL},
	{"crv", FIELD_STRING, FIELD_REQUIRED, 1, 16, NULL, NULL},
	{"x", FIELD_STRING, FIELD_REQUIRED, 1, 128, NULL, NULL},
	{"y", FIELD_STRING, FIELD_REQUIRED, 1, 128, NULL, NULL},
	{"d", FIELD_STRING, 0, 0, 128, NULL, NULL},	/* refused by jwk_check, by name */
	{"ext", FIELD_BOOL, 0, 0, 0, NULL, NULL},	/* WebCrypto's export adds it */
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

const struct field key_fields[] = {
	{"jwk", FIELD_OBJECT, FIELD_REQUIRED, 0, 0, jwk_fields, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

const struct field key_query[] = {
	{"id", FIELD_INT, 0, 1, 9007199254740991LL, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

/* {key_id, jwk, created_at}, as sql_key_history() shows each key too. */
static json_t *
key_json(const struct sql_key *k)
{
	json_t *jwk = json_loads(k->jwk, 0, NULL);

	return jwk == NULL ? NULL : json_pack("{s:I, s:o, s:s}", "key_id", (json_int_t)k->id,
	    "jwk", jwk, "created_at", k->created);
}

enum err
keys_put(struct req *r)
{
	long long me = r->session->user_id;
	char canon[JWK_CANON_MAX], msg[160], detail[48];
	struct sql_key cur;
	long long id;
	const char *why;
	json_t *ev;
	enum err e;

	if ((e = jwk_check(json_object_get(r->in, "jwk"), canon, &why)) != ERR_OK) {
		if (e != ERR_BAD_KEY)
			return e;
		snprintf(msg, sizeof(msg), "%s (%s)", err_strerror(e), why);
		return req_refuse(r, e, msg);
	}
	if (sql_key_current(r->db, me, &cur) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (cur.id != 0 && strcmp(cur.jwk, canon) == 0) {
		req_json(r, 200, key_json(&cur));
		return ERR_OK;
	}
	if ((e = ratelimit_take(r, "key", KEY_RATE, KEY_BURST)) != ERR_OK)
		return e;
	if (sql_key_insert(r->db, me, canon, &id) != DB_OK || sql_key_by_id(r->db, me, id, &cur) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	snprintf(detail, sizeof(detail), "key_id=%lld", cur.id);
	audit_log(r, me, "key_change", detail);
	ev = json_pack("{s:s, s:I, s:s, s:I}", "type", "key", "user_id", (json_int_t)me,
	    "username", r->session->username, "key_id", (json_int_t)cur.id);
	event_to_friends(r, me, EVENT_FRIENDS_AND_SELF, ev);
	req_json(r, 201, key_json(&cur));
	return ERR_OK;
}

/*
 * The user {username} whose keys the caller may read: themself, a friend, or
 * either side of a pending request. ERR_UNKNOWN_USER, ERR_NOT_FRIENDS.
 */
static enum err
key_owner(struct req *r, struct peer *owner)
{
	struct sql_relation rel;
	enum err e = friends_peer(r, r->captures[0], owner);

	if (e == ERR_YOURSELF)
		return ERR_OK;
	if (e != ERR_OK)
		return e;
	if ((e = friends_relation(r, r->session->user_id, owner->id, &rel)) != ERR_OK)
		return e;
	if (rel.blocking || rel.blocked || !(rel.friends || rel.request_in || rel.request_out))
		return ERR_NOT_FRIENDS;
	return ERR_OK;
}

enum err
keys_get(struct req *r)
{
	const char *id = query_get(&r->query, "id");
	struct sql_key k;
	struct peer owner;
	json_t *j;
	enum err e;

	if ((e = key_owner(r, &owner)) != ERR_OK)
		return e;
	if ((id != NULL ? sql_key_by_id(r->db, owner.id, strtoll(id, NULL, 10), &k) :
	    sql_key_current(r->db, owner.id, &k)) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (k.id == 0)
		return ERR_NO_KEY;
	if ((j = key_json(&k)) == NULL)
		return ERR_INTERNAL;
	json_object_set_new(j, "user", friends_user_json(owner.id, owner.username));
	req_json(r, 200, j);
	return ERR_OK;
}

enum err
keys_history(struct req *r)
{
	struct peer owner;
	json_t *list;
	enum err e;

	if ((e = key_owner(r, &owner)) != ERR_OK)
		return e;
	if ((list = json_array()) == NULL)
		return ERR_INTERNAL;
	if (sql_key_history(r->db, owner.id, list) != DB_OK) {
		json_decref(list);
		return ERR_DB_UNAVAILABLE;
	}
	req_json(r, 200, json_pack("{s:o, s:o}", "user", friends_user_json(owner.id, owner.username),
	    "keys", list));
	return ERR_OK;
}
