/*
 * friends: relations between two users, the friend list, removal and
 * blocks (see friends.h).
 */
#include <string.h>

#include "db.h"
#include "event.h"
#include "friends.h"
#include "handlers.h"
#include "session.h"
#include "sql_social.h"
#include "user.h"

/* A statement's outcome as a handler's: anything but DB_OK is a 503. */
static enum err
friends_db(enum db_rc rc)
{
	return rc == DB_OK ? ERR_OK : ERR_DB_UNAVAILABLE;
}

enum err
friends_peer(struct req *r, const char *name, struct peer *p)
{
	const struct session *s = r->session;

	memset(p, 0, sizeof(*p));
	if (!user_name_valid(name, strlen(name)))
		return ERR_UNKNOWN_USER;
	/* Resolved with the session when the route names it (router.h). */
	if (s->peer_asked != NULL && strcmp(s->peer_asked, name) == 0) {
		p->id = s->peer_id;
		memcpy(p->username, s->peer_name, sizeof(p->username));
	} else if (sql_user_active_by_name(r->db, name, &p->id, p->username, sizeof(p->username)) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (p->id == 0)
		return ERR_UNKNOWN_USER;
	return p->id == r->session->user_id ? ERR_YOURSELF : ERR_OK;
}

enum err
friends_peer_by_id(struct req *r, long long id, struct peer *p)
{
	memset(p, 0, sizeof(*p));
	if (sql_user_name_by_id(r->db, id, p->username, sizeof(p->username)) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (p->username[0] == '\0')
		return ERR_UNKNOWN_USER;
	p->id = id;
	return ERR_OK;
}

enum err
friends_lock_pair(struct req *r, long long a, long long b)
{
	return friends_db(sql_pair_lock(r->db, a, b));
}

enum err
friends_relation(struct req *r, long long a, long long b, struct sql_relation *rel)
{
	return friends_db(sql_relation(r->db, a, b, rel));
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
	enum err e = friends_lock_pair(c->r, c->r->session->user_id, c->peer->id);

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
	json_t *list = json_array();

	return req_json_list(r, "friends", sql_friend_list(r->db, r->session->user_id, list), list);
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
	return friends_db(sql_friend_delete(r->db, r->session->user_id, peer->id, ended));
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

enum err
blocks_list(struct req *r)
{
	json_t *list = json_array();

	return req_json_list(r, "blocks", sql_block_list(r->db, r->session->user_id, list), list);
}

/* What a block ended: the requests between the two, and maybe a friendship. */
struct cancelled {
	struct sql_requests_gone requests;
	int added, ended;	/* the block is new; a friendship ended */
};

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
	enum err e;

	memset(gone, 0, sizeof(*gone));
	if (sql_block_insert(r->db, me, peer->id, &gone->added) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if ((e = friends_end(r, peer, &gone->ended)) != ERR_OK)
		return e;
	return friends_db(sql_request_delete_pair(r->db, me, peer->id, &gone->requests));
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
	for (size_t i = 0; i < gone.requests.n; i++) {
		int mine = gone.requests.froms[i] == me;
		json_t *ev = json_pack("{s:s, s:I, s:s, s:o, s:o}", "type", "request", "id",
		    (json_int_t)gone.requests.ids[i], "state", "cancelled",
		    "from", mine ? friends_user_json(me, r->session->username) :
		    friends_user_json(peer.id, peer.username),
		    "to", mine ? friends_user_json(peer.id, peer.username) :
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
	int removed;
	enum err e;

	if ((e = friends_peer(r, r->captures[0], &peer)) != ERR_OK)
		return e;
	if (sql_block_delete(r->db, r->session->user_id, peer.id, &removed) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (!removed)
		return req_refuse(r, ERR_NOT_FOUND, "You have not blocked this user.");
	r->status = 204;
	return ERR_OK;
}
