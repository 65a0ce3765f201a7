/*
 * friends: relations between two users, the friend list, removal and
 * blocks (see friends.h).
 */
#include <string.h>

#include "db.h"
#include "dbjson.h"
#include "event.h"
#include "friends.h"
#include "handlers.h"
#include "session.h"
#include "user.h"

/* Loads a peer's id and name (nothing of their secrets) with statement st. */
static enum err
friends_load(struct req *r, enum db_stmt st, struct db_param in, struct peer *p)
{
	struct db_col c[2] = {DB_COL_INT(&p->id), DB_COL_STR(p->username)};
	struct db_result res;

	memset(p, 0, sizeof(*p));
	if (db_run(r->db, st, &in, 1, c, 2, NULL, NULL, &res) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return res.rows == 1 ? ERR_OK : ERR_UNKNOWN_USER;
}

enum err
friends_peer(struct req *r, const char *name, struct peer *p)
{
	enum err e;

	if (!user_name_valid(name, strlen(name))) {
		memset(p, 0, sizeof(*p));
		return ERR_UNKNOWN_USER;
	}
	if ((e = friends_load(r, STMT_USER_ACTIVE_BY_NAME, DB_STR(name), p)) != ERR_OK)
		return e;
	return p->id == r->session->user_id ? ERR_YOURSELF : ERR_OK;
}

enum err
friends_peer_by_id(struct req *r, long long id, struct peer *p)
{
	return friends_load(r, STMT_USER_NAME_BY_ID, DB_INT(id), p);
}

enum err
friends_lock_pair(struct req *r, long long a, long long b, int share)
{
	long long id;
	struct db_param p[2] = {DB_INT(a), DB_INT(b)};
	struct db_col c = DB_COL_INT(&id);

	/* The statement locks every row it reads, fetched or not, in index order. */
	return db_run(r->db, share ? STMT_PAIR_SHARE : STMT_PAIR_LOCK, p, 2, &c, 1, NULL, NULL, NULL) == DB_OK ?
	    ERR_OK : ERR_DB_UNAVAILABLE;
}

enum err
friends_relation(struct req *r, long long a, long long b, struct relation *rel)
{
	struct db_param p[10] = {DB_INT(a), DB_INT(b), DB_INT(a), DB_INT(b), DB_INT(b), DB_INT(a),
	    DB_INT(a), DB_INT(b), DB_INT(b), DB_INT(a)};
	struct db_col c[5] = {DB_COL_INT(&rel->friends), DB_COL_INT(&rel->request_out),
	    DB_COL_INT(&rel->request_in), DB_COL_INT(&rel->blocking), DB_COL_INT(&rel->blocked)};

	memset(rel, 0, sizeof(*rel));
	return db_run(r->db, STMT_RELATION, p, 10, c, 5, NULL, NULL, NULL) == DB_OK ?
	    ERR_OK : ERR_DB_UNAVAILABLE;
}

json_t *
friends_user_json(long long id, const char *username)
{
	return json_pack("{s:I, s:s}", "user_id", (json_int_t)id, "username", username);
}

struct change {
	struct req *r;
	const struct peer *peer;
	friends_change_fn fn;
	void *ctx;
};

static enum err
friends_change_tx(void *ctx)
{
	struct change *c = ctx;
	enum err e = friends_lock_pair(c->r, c->r->session->user_id, c->peer->id, 0);

	return e != ERR_OK ? e : c->fn(c->r, c->peer, c->ctx);
}

enum err
friends_change(struct req *r, const struct peer *peer, const char *what, friends_change_fn fn, void *ctx)
{
	struct change c = {r, peer, fn, ctx};

	return db_tx(r->db, what, friends_change_tx, &c);
}

/* --- GET /api/friends ---------------------------------------------------- */

enum err
friends_list(struct req *r)
{
	static const struct dbj_col cols[] = {
		{"user_id", DBJ_INT, 0}, {"username", DBJ_STR, 32}, {"since", DBJ_STR, 32},
		{"online", DBJ_BOOL, 0}, {"last_seen", DBJ_STR_OR_NULL, 32}, {"unread", DBJ_INT, 0},
		{"key_id", DBJ_ID_OR_NULL, 0},
	};
	struct db_param p = DB_INT(r->session->user_id);
	json_t *list = json_array();

	if (list == NULL)
		return ERR_INTERNAL;
	if (db_json_rows(r->db, STMT_FRIEND_LIST, &p, 1, cols, sizeof(cols) / sizeof(cols[0]), 0, list,
	    NULL) != DB_OK) {
		json_decref(list);
		return ERR_DB_UNAVAILABLE;
	}
	req_json(r, 200, json_pack("{s:o}", "friends", list));
	return ERR_OK;
}

/* --- DELETE /api/friends/{username} -------------------------------------- */

/* Tells both sides that a friendship ended. */
static void
friends_removed(struct req *r, const struct peer *peer)
{
	const struct session *s = r->session;

	event_publish(r, peer->id, json_pack("{s:s, s:s, s:o}", "type", "friend", "state", "removed",
	    "user", friends_user_json(s->user_id, s->username)));
	event_publish(r, s->user_id, json_pack("{s:s, s:s, s:o}", "type", "friend", "state", "removed",
	    "user", friends_user_json(peer->id, peer->username)));
}

/* Deletes the friendship of the caller and peer; *ended says whether there was one. */
static enum err
friends_end(struct req *r, const struct peer *peer, int *ended)
{
	long long me = r->session->user_id;
	struct db_param p[4] = {DB_INT(me), DB_INT(peer->id), DB_INT(peer->id), DB_INT(me)};
	struct db_result res;

	if (db_run(r->db, STMT_FRIEND_DELETE, p, 4, NULL, 0, NULL, NULL, &res) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	*ended = res.affected > 0;
	return ERR_OK;
}

static enum err
friends_unfriend(struct req *r, const struct peer *peer, void *ctx)
{
	int ended = 0;
	enum err e = friends_end(r, peer, &ended);

	(void)ctx;
	return e != ERR_OK ? e : ended ? ERR_OK : ERR_NOT_FRIENDS;
}

enum err
friends_remove(struct req *r)
{
	struct peer peer;
	enum err e;

	if ((e = friends_peer(r, r->captures[0], &peer)) != ERR_OK)
		return e == ERR_YOURSELF ? ERR_NOT_FRIENDS : e;
	if ((e = friends_change(r, &peer, "unfriend", friends_unfriend, NULL)) != ERR_OK)
		return e;
	friends_removed(r, &peer);
	r->status = 204;
	return ERR_OK;
}

/* --- blocks ---------------------------------------------------------------- */

struct block_row {
	long long id;
	char username[33], since[32];
	json_t *list;
};

static int
block_row(void *ctx)
{
	struct block_row *b = ctx;
	json_t *j = json_pack("{s:I, s:s, s:s}", "user_id", (json_int_t)b->id,
	    "username", b->username, "since", b->since);

	return j == NULL || json_array_append_new(b->list, j) != 0;
}

enum err
blocks_list(struct req *r)
{
	struct block_row b = {.list = json_array()};
	struct db_param p = DB_INT(r->session->user_id);
	struct db_col c[3] = {DB_COL_INT(&b.id), DB_COL_STR(b.username), DB_COL_STR(b.since)};

	if (b.list == NULL)
		return ERR_INTERNAL;
	if (db_run(r->db, STMT_BLOCK_LIST, &p, 1, c, 3, block_row, &b, NULL) != DB_OK) {
		json_decref(b.list);
		return ERR_DB_UNAVAILABLE;
	}
	req_json(r, 200, json_pack("{s:o}", "blocks", b.list));
	return ERR_OK;
}

struct cancelled {
	long long id, from;
	long long ids[2], froms[2];
	size_t n;
	int added, ended;	/* the block is new; a friendship ended */
};

static int
cancelled_row(void *ctx)
{
	struct cancelled *c = ctx;

	if (c->n < 2) {
		c->ids[c->n] = c->id;
		c->froms[c->n++] = c->from;
	}
	return 0;
}

/*
 * Blocking ends the friendship and every request between the two; both
 * sides hear of what ended (the blocked user learns of the block only by
 * the refusals that follow).
 */
static enum err
blocks_add_tx(struct req *r, const struct peer *peer, void *ctx)
{
	long long me = r->session->user_id;
	struct cancelled *gone = ctx;
	struct db_param p[4] = {DB_INT(me), DB_INT(peer->id), DB_INT(peer->id), DB_INT(me)};
	struct db_col c[2] = {DB_COL_INT(&gone->id), DB_COL_INT(&gone->from)};
	struct db_result res;
	enum err e;

	memset(gone, 0, sizeof(*gone));
	if (db_run(r->db, STMT_BLOCK_INSERT, p, 2, NULL, 0, NULL, NULL, &res) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	gone->added = res.affected == 1;
	if ((e = friends_end(r, peer, &gone->ended)) != ERR_OK)
		return e;
	return db_run(r->db, STMT_REQUEST_DELETE_PAIR, p, 4, c, 2, cancelled_row, gone, NULL) == DB_OK ?
	    ERR_OK : ERR_DB_UNAVAILABLE;
}

enum err
blocks_add(struct req *r)
{
	long long me = r->session->user_id;
	struct peer peer;
	struct cancelled gone;
	enum err e;

	if ((e = friends_peer(r, r->captures[0], &peer)) != ERR_OK)
		return e;
	if ((e = friends_change(r, &peer, "block", blocks_add_tx, &gone)) != ERR_OK)
		return e;
	if (gone.ended)
		friends_removed(r, &peer);
	for (size_t i = 0; i < gone.n; i++) {
		json_t *ev = json_pack("{s:s, s:I, s:s, s:o, s:o}", "type", "request", "id",
		    (json_int_t)gone.ids[i], "state", "cancelled",
		    "from", gone.froms[i] == me ? friends_user_json(me, r->session->username) :
		    friends_user_json(peer.id, peer.username),
		    "to", gone.froms[i] == me ? friends_user_json(peer.id, peer.username) :
		    friends_user_json(me, r->session->username));

		event_publish_many(r, (const long long[]){me, peer.id}, 2, ev);
	}
	req_json(r, gone.added ? 201 : 200, json_pack("{s:o}", "blocked", friends_user_json(peer.id, peer.username)));
	return ERR_OK;
}

enum err
blocks_remove(struct req *r)
{
	struct peer peer;
	struct db_param p[2];
	struct db_result res;
	enum err e;

	if ((e = friends_peer(r, r->captures[0], &peer)) != ERR_OK)
		return e;
	p[0] = DB_INT(r->session->user_id);
	p[1] = DB_INT(peer.id);
	if (db_run(r->db, STMT_BLOCK_DELETE, p, 2, NULL, 0, NULL, NULL, &res) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (res.affected == 0) {
		return req_refuse(r, ERR_NOT_FOUND, "You have not blocked this user.");
	}
	r->status = 204;
	return ERR_OK;
}
