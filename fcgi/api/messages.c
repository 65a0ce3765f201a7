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
#include "user.h"

#define MSG_IV 12
#define MSG_MAC 32
#define MSG_CT_MAX 16384
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
	long long me = r->session->user_id, friends = 0, own_key = 0, their_key = 0;
	struct db_param p[13];
	struct db_col c[3] = {DB_COL_INT(&friends), DB_COL_INT(&own_key), DB_COL_INT(&their_key)};
	struct db_col t = DB_COL_STR(s->created);
	struct db_result res;
	enum err e;

	s->bad_key = 0;
	s->id = 0;
	if ((e = friends_lock_pair(r, me, s->peer.id, 1)) != ERR_OK)
		return e;
	p[0] = DB_INT(me);
	p[1] = DB_INT(s->peer.id);
	p[2] = DB_INT(s->skey);
	p[3] = DB_INT(me);
	p[4] = DB_INT(s->rkey);
	p[5] = DB_INT(s->peer.id);
	if (db_run(r->db, STMT_MESSAGE_CHECK, p, 6, c, 3, NULL, NULL, NULL) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (!friends)
		return ERR_NOT_FRIENDS;
	if (!own_key || !their_key) {
		s->bad_key = !own_key ? 1 : 2;
		return ERR_KEY_NOT_OWNED;
	}
	if ((e = ratelimit_try(r, "send", cfg->send_rate, cfg->send_burst, &s->retry_after)) != ERR_OK)
		return e;

	p[0] = DB_INT(me);
	p[1] = DB_INT(s->peer.id);
	p[2] = DB_STR(s->kind);
	p[3] = DB_INT(s->skey);
	p[4] = DB_INT(s->rkey);
	p[5] = DB_INT(fields_int(r->in, "epoch", 0));
	p[6] = DB_INT(fields_int(r->in, "counter", 0));
	p[7] = DB_BLOB(s->iv, sizeof(s->iv));
	p[8] = DB_BLOB(s->ct, (size_t)s->ctlen);
	p[9] = DB_BLOB(s->mac, sizeof(s->mac));
	p[10] = s->rekey ? DB_BLOB(s->mac2, sizeof(s->mac2)) : DB_NULL;
	p[11] = DB_INT(me);
	p[12] = DB_INT(s->peer.id);
	switch (db_run(r->db, STMT_MESSAGE_INSERT, p, 13, NULL, 0, NULL, NULL, &res)) {
	case DB_OK:
		break;
	case DB_FAILED:
		return res.err == DB_ER_DUP_ENTRY ? ERR_REPLAY : ERR_INTERNAL;
	default:
		return ERR_DB_UNAVAILABLE;
	}
	if (res.affected != 1)
		return ERR_NOT_FRIENDS;
	s->id = res.insert_id;
	p[0] = DB_INT(s->id);
	return db_run(r->db, STMT_MESSAGE_TIME, p, 1, &t, 1, NULL, NULL, NULL) == DB_OK ?
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

struct msg_row {
	long long id, sender, recipient, skey, rkey, epoch, counter;
	char kind[8], created[32];
	unsigned char iv[MSG_IV], mac[MSG_MAC], mac2[MSG_MAC], ct[MSG_CT_MAX];
	size_t ivlen, maclen, mac2len, ctlen;
	char text[B64URL_LEN(MSG_CT_MAX) + 1];
	json_t *list;
	long long limit, got;
};

static json_t *
msg_b64(struct msg_row *m, const unsigned char *b, size_t n)
{
	b64url_encode(b, n, m->text);
	return json_string(m->text);
}

static int
msg_row(void *ctx)
{
	struct msg_row *m = ctx;
	json_t *j;

	/* One row past the page says there is more. */
	if (++m->got > m->limit)
		return 1;
	j = json_pack("{s:I, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:s}",
	    "id", (json_int_t)m->id, "sender_id", (json_int_t)m->sender,
	    "recipient_id", (json_int_t)m->recipient, "kind", m->kind,
	    "sender_key_id", (json_int_t)m->skey, "recipient_key_id", (json_int_t)m->rkey,
	    "epoch", (json_int_t)m->epoch, "counter", (json_int_t)m->counter,
	    "iv", msg_b64(m, m->iv, m->ivlen), "ciphertext", msg_b64(m, m->ct, m->ctlen),
	    "mac", msg_b64(m, m->mac, m->maclen), "created_at", m->created);
	if (j != NULL && m->mac2len > 0)
		json_object_set_new(j, "mac2", msg_b64(m, m->mac2, m->mac2len));
	return j == NULL || json_array_append_new(m->list, j) != 0;
}

/* The caller's and the peer's markers of one conversation. */
static enum err
msg_markers(struct req *r, long long peer, long long *read, long long *peer_delivered,
    long long *peer_read)
{
	long long me = r->session->user_id;
	struct db_param p[6] = {DB_INT(me), DB_INT(peer), DB_INT(peer), DB_INT(me), DB_INT(peer), DB_INT(me)};
	struct db_col c[3] = {DB_COL_INT(read), DB_COL_INT(peer_delivered), DB_COL_INT(peer_read)};

	return db_run(r->db, STMT_MARKERS, p, 6, c, 3, NULL, NULL, NULL) == DB_OK ?
	    ERR_OK : ERR_DB_UNAVAILABLE;
}

enum err
messages_list(struct req *r)
{
	const char *after = query_get(&r->query, "after"), *before = query_get(&r->query, "before");
	const char *limit = query_get(&r->query, "limit");
	long long me = r->session->user_id, lo, hi, lim, read = 0, pdel = 0, pread = 0;
	struct msg_row *m;
	struct peer peer;
	struct db_param p[11];
	struct db_col c[13];
	enum db_stmt st;
	enum err e;

	if ((e = friends_peer(r, query_get(&r->query, "with"), &peer)) != ERR_OK)
		return e == ERR_YOURSELF ? ERR_NOT_FRIENDS : e;
	if ((m = arena_alloc(r->arena, sizeof(*m))) == NULL || (m->list = json_array()) == NULL)
		return ERR_INTERNAL;
	lo = after ? strtoll(after, NULL, 10) : 0;
	hi = before ? strtoll(before, NULL, 10) : MSG_INT_MAX + 1;
	lim = limit ? strtoll(limit, NULL, 10) : MSG_PAGE;
	m->limit = lim;
	m->got = 0;
	/* `after` pages forward from a cursor; otherwise back from the newest or `before`. */
	st = after ? STMT_MESSAGES_OLDEST : STMT_MESSAGES_NEWEST;
	p[0] = DB_INT(me);
	p[1] = DB_INT(peer.id);
	p[2] = DB_INT(lo);
	p[3] = DB_INT(hi);
	p[4] = DB_INT(lim + 1);
	p[5] = DB_INT(peer.id);
	p[6] = DB_INT(me);
	p[7] = DB_INT(lo);
	p[8] = DB_INT(hi);
	p[9] = DB_INT(lim + 1);
	p[10] = DB_INT(lim + 1);
	c[0] = DB_COL_INT(&m->id);
	c[1] = DB_COL_INT(&m->sender);
	c[2] = DB_COL_INT(&m->recipient);
	c[3] = DB_COL_STR(m->kind);
	c[4] = DB_COL_INT(&m->skey);
	c[5] = DB_COL_INT(&m->rkey);
	c[6] = DB_COL_INT(&m->epoch);
	c[7] = DB_COL_INT(&m->counter);
	c[8] = DB_COL_BLOB(m->iv, &m->ivlen);
	c[9] = DB_COL_BLOB(m->ct, &m->ctlen);
	c[10] = DB_COL_BLOB(m->mac, &m->maclen);
	c[11] = DB_COL_BLOB(m->mac2, &m->mac2len);
	c[12] = DB_COL_STR(m->created);
	if (db_run(r->db, st, p, 11, c, 13, msg_row, m, NULL) != DB_OK ||
	    msg_markers(r, peer.id, &read, &pdel, &pread) != ERR_OK) {
		json_decref(m->list);
		return ERR_DB_UNAVAILABLE;
	}
	if (st == STMT_MESSAGES_NEWEST) {	/* pages read oldest first */
		size_t n = json_array_size(m->list);

		for (size_t i = 0; i < n / 2; i++) {
			json_t *a = json_incref(json_array_get(m->list, i));

			json_array_set(m->list, i, json_array_get(m->list, n - 1 - i));
			json_array_set_new(m->list, n - 1 - i, a);
		}
	}
	req_json(r, 200, json_pack("{s:o, s:b, s:o, s:I, s:I, s:I}", "messages", m->list,
	    "more", m->got > m->limit, "with", friends_user_json(peer.id, peer.username),
	    "read_upto", (json_int_t)read, "peer_delivered_upto", (json_int_t)pdel,
	    "peer_read_upto", (json_int_t)pread));
	return ERR_OK;
}

/* --- POST /api/messages/delivered, /read ----------------------------------- */

static enum err
messages_mark(struct req *r, int read)
{
	long long me = r->session->user_id, delivered = 0, mine = 0, unread = 0;
	struct peer peer;
	struct db_param p[6];
	struct db_col m[2] = {DB_COL_INT(&delivered), DB_COL_INT(&mine)};
	struct db_col c = DB_COL_INT(&unread);
	enum err e;

	if ((e = friends_peer(r, fields_str(r->in, "with"), &peer)) != ERR_OK)
		return e;
	p[0] = DB_INT(me);
	p[1] = DB_INT(peer.id);
	p[2] = DB_INT(read);
	p[3] = DB_INT(peer.id);
	p[4] = DB_INT(me);
	p[5] = DB_INT(fields_int(r->in, "upto", 0));
	if (db_run(r->db, STMT_MARKER_SET, p, 6, NULL, 0, NULL, NULL, NULL) != DB_OK ||
	    db_run(r->db, STMT_MARKER_GET, p, 2, m, 2, NULL, NULL, NULL) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	p[0] = DB_INT(peer.id);
	p[1] = DB_INT(me);
	p[2] = DB_INT(mine);
	if (db_run(r->db, STMT_UNREAD, p, 3, &c, 1, NULL, NULL, NULL) != DB_OK)
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
