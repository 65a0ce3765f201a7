/*
 * messages: ciphertext between friends (design §3 "Keys and messages", §4).
 *   POST /api/messages                   store one message to a friend: 201 {id, created_at}
 *   GET  /api/messages?with=&after=&before=&limit=   a page of one conversation
 *   POST /api/messages/delivered|read    {with, upto}: the caller's markers
 * The server never parses a ciphertext: it checks each field's type, its
 * base64url form and exact length, that the two are friends, and that each
 * key id is a key of its side. (sender, recipient, sender key, recipient
 * key, epoch, counter) is unique, so the server cannot be made to store a
 * replay (409). A conversation is readable by its two users only, friends
 * or no longer; the query names the caller on one side of every row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "config.h"
#include "db.h"
#include "event.h"
#include "friends.h"
#include "handlers.h"
#include "ratelimit.h"
#include "session.h"
#include "sql_messages.h"
#include "user.h"

#define MSG_IV SQL_MSG_IV	/* the byte sizes are the table's */
#define MSG_MAC SQL_MSG_MAC
#define MSG_CT_MAX SQL_MSG_CT_MAX
#define MSG_INT_MAX 9007199254740991LL	/* 2^53 - 1: exact in every JSON reader */
#define MSG_PAGE 50
#define MSG_PAGE_MAX 200

/* Field checks: strict base64url of an exact (or bounded) length. */
static int
b64_exact(const char *s, size_t n, size_t bytes)
{
	unsigned char out[MSG_MAC];

	return n == B64URL_LEN(bytes) && b64url_decode(s, n, out, sizeof(out)) == (long)bytes;
}

static int
iv_ok(const char *s, size_t n)
{
	return b64_exact(s, n, MSG_IV);
}

static int
mac_ok(const char *s, size_t n)
{
	return b64_exact(s, n, MSG_MAC);
}

/* Only the form here; the decode into the row buffer follows in the handler. */
static int
ct_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return n % 4 != 1;
}

static int
kind_ok(const char *s, size_t n)
{
	(void)n;
	return strcmp(s, "ecdh") == 0 || strcmp(s, "text") == 0 || strcmp(s, "rekey") == 0 ||
	    strcmp(s, "receipt") == 0;
}

static int
name_ok(const char *s, size_t n)
{
	return user_name_valid(s, n);
}

const struct field message_fields[] = {
	{"to", FIELD_STRING, FIELD_REQUIRED, 1, 64, NULL, name_ok},
	{"kind", FIELD_STRING, FIELD_REQUIRED, 1, 8, NULL, kind_ok},
	{"sender_key_id", FIELD_INT, FIELD_REQUIRED, 1, MSG_INT_MAX, NULL, NULL},
	{"recipient_key_id", FIELD_INT, FIELD_REQUIRED, 1, MSG_INT_MAX, NULL, NULL},
	{"epoch", FIELD_INT, FIELD_REQUIRED, 1, MSG_INT_MAX, NULL, NULL},
	{"counter", FIELD_INT, FIELD_REQUIRED, 1, MSG_INT_MAX, NULL, NULL},
	{"iv", FIELD_STRING, FIELD_REQUIRED, 1, 64, NULL, iv_ok},
	{"ciphertext", FIELD_STRING, FIELD_REQUIRED, 1, B64URL_LEN(MSG_CT_MAX), NULL, ct_ok},
	{"mac", FIELD_STRING, FIELD_REQUIRED, 1, 64, NULL, mac_ok},
	{"mac2", FIELD_STRING, 0, 1, 64, NULL, mac_ok},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

const struct field history_query[] = {
	{"with", FIELD_STRING, FIELD_REQUIRED, 1, 64, NULL, name_ok},
	{"after", FIELD_INT, 0, 0, MSG_INT_MAX, NULL, NULL},
	{"before", FIELD_INT, 0, 1, MSG_INT_MAX, NULL, NULL},
	{"limit", FIELD_INT, 0, 1, MSG_PAGE_MAX, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

const struct field marker_fields[] = {
	{"with", FIELD_STRING, FIELD_REQUIRED, 1, 64, NULL, name_ok},
	{"upto", FIELD_INT, FIELD_REQUIRED, 0, MSG_INT_MAX, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

/* Decodes base64url field `name` into out[cap]; its length, or -1. */
static long
msg_bytes(struct req *r, const char *name, unsigned char *out, size_t cap)
{
	const char *s = fields_str(r->in, name);

	return s == NULL ? -1 : b64url_decode(s, strlen(s), out, cap);
}

/* A message on its way into the table: what the request holds, and what
 * the transaction found (it may run more than once: see db_tx). */
struct send {
	struct req *r;
	struct peer peer;
	const char *kind;
	int rekey;
	long long skey, rkey;
	unsigned char iv[MSG_IV], mac[MSG_MAC], mac2[MSG_MAC], *ct;
	long ctlen;
	/* found */
	int bad_key;		/* 1: the sender's key is not theirs, 2: the recipient's */
	long long retry_after;	/* when rate limited */
	long long id;
	char created[32];
};

/*
 * One send, in lock order (friends.h): the two user rows shared, lower id
 * first; then the checks, the sender's rate row, and the insert, which is
 * stored only while the two are friends, decided in the same statement.
 */
static enum err
messages_send_tx(void *ctx)
{
	struct send *s = ctx;
	struct req *r = s->r;
	const struct config *cfg = r->cfg;
	long long me = r->session->user_id;
	struct sql_message_check ok;
	struct sql_message m = {
		.sender = me, .recipient = s->peer.id, .kind = s->kind,
		.sender_key = s->skey, .recipient_key = s->rkey,
		.epoch = fields_int(r->in, "epoch", 0), .counter = fields_int(r->in, "counter", 0),
		.iv = s->iv, .ivlen = sizeof(s->iv), .ct = s->ct, .ctlen = (size_t)s->ctlen,
		.mac = s->mac, .maclen = sizeof(s->mac),
		.mac2 = s->rekey ? s->mac2 : NULL, .mac2len = s->rekey ? sizeof(s->mac2) : 0,
	};
	int duplicate;
	enum err e;

	s->bad_key = 0;
	s->id = 0;
	if ((e = friends_lock_pair(r, me, s->peer.id, 1)) != ERR_OK)
		return e;
	if (sql_message_check(r->db, me, s->peer.id, s->skey, s->rkey, &ok) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (!ok.friends)
		return ERR_NOT_FRIENDS;
	if (!ok.sender_key || !ok.recipient_key) {
		s->bad_key = !ok.sender_key ? 1 : 2;
		return ERR_KEY_NOT_OWNED;
	}
	if ((e = ratelimit_try(r, "send", cfg->send_rate, cfg->send_burst, &s->retry_after)) != ERR_OK)
		return e;

	switch (sql_message_insert(r->db, &m, &s->id, &duplicate)) {
	case DB_OK:
		break;
	case DB_FAILED:
		return duplicate ? ERR_REPLAY : ERR_INTERNAL;
	default:
		return ERR_DB_UNAVAILABLE;
	}
	if (s->id == 0)
		return ERR_NOT_FRIENDS;
	return sql_message_time(r->db, s->id, s->created, sizeof(s->created)) == DB_OK ?
	    ERR_OK : ERR_DB_UNAVAILABLE;
}

enum err
messages_post(struct req *r)
{
	long long me = r->session->user_id;
	const char *kind = fields_str(r->in, "kind");
	int rekey = strcmp(kind, "rekey") == 0, has_mac2 = json_object_get(r->in, "mac2") != NULL;
	struct send *s;
	json_t *ev;
	enum err e;

	if (rekey && !has_mac2)
		return req_refuse(r, ERR_MISSING_FIELD, "A rekey message needs mac2, the MAC under the new keys.");
	if (!rekey && has_mac2)
		return req_refuse(r, ERR_BAD_VALUE, "Only a rekey message has mac2.");
	if ((s = arena_alloc(r->arena, sizeof(*s))) == NULL || (s->ct = arena_alloc(r->arena, MSG_CT_MAX)) == NULL)
		return ERR_INTERNAL;
	s->r = r;
	s->kind = kind;
	s->rekey = rekey;
	s->skey = fields_int(r->in, "sender_key_id", 0);
	s->rkey = fields_int(r->in, "recipient_key_id", 0);
	if ((s->ctlen = msg_bytes(r, "ciphertext", s->ct, MSG_CT_MAX)) <= 0)
		return req_refuse(r, ERR_BAD_VALUE,
		    "The ciphertext must be 1 to 16384 bytes in base64url without padding.");
	if (msg_bytes(r, "iv", s->iv, sizeof(s->iv)) != MSG_IV ||
	    msg_bytes(r, "mac", s->mac, sizeof(s->mac)) != MSG_MAC ||
	    (rekey && msg_bytes(r, "mac2", s->mac2, sizeof(s->mac2)) != MSG_MAC))
		return ERR_INTERNAL;	/* the field checks let only these lengths through */

	if ((e = friends_peer(r, fields_str(r->in, "to"), &s->peer)) != ERR_OK)
		return e;
	switch ((e = db_tx(r->db, "message_send", messages_send_tx, s))) {
	case ERR_OK:
		break;
	case ERR_KEY_NOT_OWNED:
		return req_refuse(r, e, s->bad_key == 1 ? "sender_key_id is not one of your keys." :
		    "recipient_key_id is not a key of the recipient.");
	case ERR_RATE_LIMITED:
		return ratelimit_refuse(r, s->retry_after);
	default:
		return e;
	}
	ev = json_pack("{s:s, s:I, s:s, s:I, s:I}", "type", "message", "id", (json_int_t)s->id,
	    "kind", kind, "sender_id", (json_int_t)me, "recipient_id", (json_int_t)s->peer.id);
	/* The recipient, and the sender's other sessions. */
	event_publish_many(r, (const long long[]){s->peer.id, me}, 2, ev);
	req_json(r, 201, json_pack("{s:I, s:s}", "id", (json_int_t)s->id, "created_at", s->created));
	return ERR_OK;
}

/* --- GET /api/messages ---------------------------------------------------- */

enum err
messages_list(struct req *r)
{
	const char *after = query_get(&r->query, "after"), *before = query_get(&r->query, "before");
	const char *limit = query_get(&r->query, "limit");
	long long me = r->session->user_id, lo, hi, lim;
	struct sql_markers mk;
	struct peer peer;
	json_t *list;
	int more = 0;
	enum db_rc rc;
	enum err e;

	if ((e = friends_peer(r, query_get(&r->query, "with"), &peer)) != ERR_OK)
		return e == ERR_YOURSELF ? ERR_NOT_FRIENDS : e;
	if ((list = json_array()) == NULL)
		return ERR_INTERNAL;
	lo = after ? strtoll(after, NULL, 10) : 0;
	hi = before ? strtoll(before, NULL, 10) : MSG_INT_MAX + 1;
	lim = limit ? strtoll(limit, NULL, 10) : MSG_PAGE;
	/* `after` pages forward from a cursor; otherwise back from the newest or `before`. */
	rc = after ? sql_messages_oldest(r->db, me, peer.id, lo, hi, lim, list, &more) :
	    sql_messages_newest(r->db, me, peer.id, lo, hi, lim, list, &more);
	if (rc != DB_OK || sql_markers(r->db, me, peer.id, &mk) != DB_OK) {
		json_decref(list);
		return ERR_DB_UNAVAILABLE;
	}
	if (!after) {	/* pages read oldest first */
		size_t n = json_array_size(list);

		for (size_t i = 0; i < n / 2; i++) {
			json_t *a = json_incref(json_array_get(list, i));

			json_array_set(list, i, json_array_get(list, n - 1 - i));
			json_array_set_new(list, n - 1 - i, a);
		}
	}
	req_json(r, 200, json_pack("{s:o, s:b, s:o, s:I, s:I, s:I}", "messages", list,
	    "more", more, "with", friends_user_json(peer.id, peer.username),
	    "read_upto", (json_int_t)mk.read, "peer_delivered_upto", (json_int_t)mk.peer_delivered,
	    "peer_read_upto", (json_int_t)mk.peer_read));
	return ERR_OK;
}

/* --- POST /api/messages/delivered, /read ----------------------------------- */

static enum err
messages_mark(struct req *r, int read)
{
	long long me = r->session->user_id, delivered = 0, mine = 0, unread = 0;
	struct peer peer;
	enum err e;

	if ((e = friends_peer(r, fields_str(r->in, "with"), &peer)) != ERR_OK)
		return e;
	if (sql_marker_set(r->db, me, peer.id, fields_int(r->in, "upto", 0), read) != DB_OK ||
	    sql_marker_get(r->db, me, peer.id, &delivered, &mine) != DB_OK ||
	    sql_unread(r->db, peer.id, me, mine, &unread) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	event_publish(r, peer.id, json_pack("{s:s, s:I, s:I, s:I}", "type", "receipt",
	    "user_id", (json_int_t)me, "delivered_upto", (json_int_t)delivered, "read_upto", (json_int_t)mine));
	req_json(r, 200, json_pack("{s:I, s:I, s:I}", "delivered_upto", (json_int_t)delivered,
	    "read_upto", (json_int_t)mine, "unread", (json_int_t)unread));
	return ERR_OK;
}

enum err
messages_delivered(struct req *r)
{
	return messages_mark(r, 0);
}

enum err
messages_read(struct req *r)
{
	return messages_mark(r, 1);
}
