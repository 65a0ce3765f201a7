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
#include "buf.h"
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
 * the statement did (it may run more than once: see db_auto). */
struct send {
	struct req *r;
	struct sql_message m;
	struct sql_stored out;
	unsigned char iv[MSG_IV], mac[MSG_MAC], mac2[MSG_MAC];
};

/* One send, one statement: the checks, the send limit's step and the
 * insert, in lock order (STMT_MESSAGE_INSERT). */
static enum err
messages_send_once(void *ctx)
{
	struct send *s = ctx;

	switch (sql_message_insert(s->r->db, &s->m, &s->out)) {
	case DB_OK:
		return ERR_OK;
	case DB_FAILED:
		return s->out.duplicate ? ERR_REPLAY : s->out.rate_limited ? ERR_RATE_LIMITED : ERR_INTERNAL;
	default:
		return ERR_DB_UNAVAILABLE;
	}
}

/* Why no row was stored: not friends (any more), or a key not its side's.
 * ERR_OK when everything holds now (a change between the two statements). */
static enum err
messages_why_not(struct req *r, const struct sql_message *m)
{
	struct sql_message_check ok;

	if (sql_message_check(r->db, m->sender, m->recipient, m->sender_key, m->recipient_key, &ok) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (!ok.friends)
		return ERR_NOT_FRIENDS;
	if (!ok.sender_key)
		return req_refuse(r, ERR_KEY_NOT_OWNED, "sender_key_id is not one of your keys.");
	if (!ok.recipient_key)
		return req_refuse(r, ERR_KEY_NOT_OWNED, "recipient_key_id is not a key of the recipient.");
	return ERR_OK;
}

enum err
messages_post(struct req *r)
{
	const struct config *cfg = r->cfg;
	long long me = r->session->user_id;
	const char *kind = fields_str(r->in, "kind");
	int rekey = strcmp(kind, "rekey") == 0, has_mac2 = json_object_get(r->in, "mac2") != NULL;
	struct send *s;
	struct peer peer;
	unsigned char *ct;
	long ctlen;
	json_t *ev;
	enum err e;

	if (rekey && !has_mac2)
		return req_refuse(r, ERR_MISSING_FIELD, "A rekey message needs mac2, the MAC under the new keys.");
	if (!rekey && has_mac2)
		return req_refuse(r, ERR_BAD_VALUE, "Only a rekey message has mac2.");
	if ((s = arena_alloc(r->arena, sizeof(*s))) == NULL || (ct = arena_alloc(r->arena, MSG_CT_MAX)) == NULL)
		return ERR_INTERNAL;
	if ((ctlen = msg_bytes(r, "ciphertext", ct, MSG_CT_MAX)) <= 0)
		return req_refuse(r, ERR_BAD_VALUE,
		    "The ciphertext must be 1 to 16384 bytes in base64url without padding.");
	if ((e = friends_peer(r, fields_str(r->in, "to"), &peer)) != ERR_OK)
		return e;
	s->r = r;
	s->m = (struct sql_message){
		.sender = me, .recipient = peer.id, .kind = kind,
		.sender_key = fields_int(r->in, "sender_key_id", 0),
		.recipient_key = fields_int(r->in, "recipient_key_id", 0),
		.epoch = fields_int(r->in, "epoch", 0), .counter = fields_int(r->in, "counter", 0),
		.iv = s->iv, .ivlen = MSG_IV, .ct = ct, .ctlen = (size_t)ctlen, .mac = s->mac, .maclen = MSG_MAC,
		.mac2 = rekey ? s->mac2 : NULL, .mac2len = rekey ? MSG_MAC : 0,
	};
	if (msg_bytes(r, "iv", s->iv, MSG_IV) != MSG_IV || msg_bytes(r, "mac", s->mac, MSG_MAC) != MSG_MAC ||
	    (rekey && msg_bytes(r, "mac2", s->mac2, MSG_MAC) != MSG_MAC))
		return ERR_INTERNAL;	/* the field checks let only these lengths through */

	/* Stored, or why not; a second try only if what was missing came to be
	 * in between (a friendship that was being made, say). */
	for (int tries = 0; tries < 2; tries++) {
		if ((e = db_auto(r->db, "message_send", messages_send_once, s)) == ERR_RATE_LIMITED)
			return ratelimit_refuse(r, "send", cfg->send_rate, cfg->send_burst);
		if (e != ERR_OK)
			return e;
		if (s->out.id != 0 || (e = messages_why_not(r, &s->m)) != ERR_OK)
			break;
	}
	if (s->out.id == 0)
		return e != ERR_OK ? e : ERR_NOT_FRIENDS;
	ev = json_pack("{s:s, s:I, s:s, s:I, s:I}", "type", "message", "id", (json_int_t)s->out.id,
	    "kind", kind, "sender_id", (json_int_t)me, "recipient_id", (json_int_t)peer.id);
	/* The recipient, and the sender's other sessions: one publish. */
	event_publish_many(r, (const long long[]){peer.id, me}, 2, ev);
	req_json(r, 201, json_pack("{s:I, s:s}", "id", (json_int_t)s->out.id, "created_at", s->out.created));
	return ERR_OK;
}

/* --- GET /api/messages ---------------------------------------------------- */

/*
 * The page is written straight into the answer as JSON text (no tree built
 * and dumped), with its markers from the same statement.
 */
enum err
messages_list(struct req *r)
{
	const char *after = query_get(&r->query, "after"), *before = query_get(&r->query, "before");
	const char *limit = query_get(&r->query, "limit");
	struct sql_page pg = {
		.after = after ? strtoll(after, NULL, 10) : 0,
		.before = before ? strtoll(before, NULL, 10) : MSG_INT_MAX + 1,
		.limit = limit ? strtoll(limit, NULL, 10) : MSG_PAGE,
		.forward = after != NULL,	/* pages forward from a cursor; else back from the newest or `before` */
	};
	struct buf *b = &r->resp_body;
	struct sql_markers mk;
	struct peer peer;
	json_t *with;
	char *name;
	int more = 0;
	enum err e;

	if ((e = friends_peer(r, query_get(&r->query, "with"), &peer)) != ERR_OK)
		return e == ERR_YOURSELF ? ERR_NOT_FRIENDS : e;
	if ((with = friends_user_json(peer.id, peer.username)) == NULL)
		return ERR_INTERNAL;
	name = json_dumps(with, JSON_COMPACT);
	json_decref(with);
	if (name == NULL)
		return ERR_INTERNAL;
	buf_reset(b);
	buf_puts(b, "{\"messages\":[");
	if (sql_messages_page(r->db, r->session->user_id, peer.id, &pg, b, &mk, &more) != DB_OK) {
		free(name);
		buf_reset(b);
		return ERR_DB_UNAVAILABLE;
	}
	buf_printf(b, "],\"more\":%s,\"with\":%s,\"read_upto\":%lld,\"peer_delivered_upto\":%lld,"
	    "\"peer_read_upto\":%lld}", more ? "true" : "false", name, mk.read, mk.peer_delivered, mk.peer_read);
	free(name);
	if (buf_failed(b))
		return ERR_INTERNAL;
	r->status = 200;
	r->resp_type = "application/json";
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
