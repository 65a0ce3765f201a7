/*
 * friend_requests: friend requests (design §3 "Friends").
 *   POST   /api/friends/requests              {username}: 201 request, or 200
 *                                             friendship when it crosses theirs
 *   GET    /api/friends/requests              {incoming, outgoing}
 *   POST   /api/friends/requests/{id}/accept  the recipient: 200 friendship
 *   POST   /api/friends/requests/{id}/reject  the recipient: 204
 *   DELETE /api/friends/requests/{id}         the sender cancels: 204
 * A request that is not the caller's to act on is answered as if it did not
 * exist (404), so request ids tell nobody anything. Both sides hear of every
 * change as a "request" event, and of a new friendship as a "friend" event.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "event.h"
#include "friends.h"
#include "handlers.h"
#include "ratelimit.h"
#include "session.h"
#include "sql_social.h"
#include "user.h"

static int
friend_request_name_ok(const char *s, size_t n)
{
	return user_name_valid(s, n);
}

const struct field friend_request_fields[] = {
	{"username", FIELD_STRING, FIELD_REQUIRED, 1, 64, NULL, friend_request_name_ok},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static json_t *
me_json(struct req *r)
{
	return friends_user_json(r->session->user_id, r->session->username);
}

/* A "request" event of state for request id from → to, told to both sides. */
static void
friend_request_event(struct req *r, long long id, const char *state, json_t *from, json_t *to,
    long long from_id, long long to_id)
{
	json_t *ev = json_pack("{s:s, s:I, s:s, s:o, s:o}", "type", "request", "id", (json_int_t)id,
	    "state", state, "from", from, "to", to);

	event_publish_many(r, (const long long[]){from_id, to_id}, 2, ev);
}

/* Makes the caller and peer friends (inside friends_change). */
static enum err
friend_request_befriend(struct req *r, const struct peer *peer)
{
	return sql_friend_insert(r->db, r->session->user_id, peer->id) == DB_OK ? ERR_OK : ERR_DB_UNAVAILABLE;
}

/* Deletes request id from → to (inside friends_change); ERR_REQUEST_UNKNOWN when gone. */
static enum err
friend_request_delete(struct req *r, long long id, long long from, long long to)
{
	int deleted;

	if (sql_request_delete(r->db, id, from, to, &deleted) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return deleted ? ERR_OK : ERR_REQUEST_UNKNOWN;
}

/* After commit: both sides hear that request id (peer → caller) was accepted. */
static void
friend_request_accepted(struct req *r, long long id, const struct peer *peer)
{
	const struct session *s = r->session;

	friend_request_event(r, id, "accepted", friends_user_json(peer->id, peer->username), me_json(r),
	    peer->id, s->user_id);
	event_publish(r, peer->id, json_pack("{s:s, s:s, s:o}", "type", "friend", "state", "added",
	    "user", me_json(r)));
	event_publish(r, s->user_id, json_pack("{s:s, s:s, s:o}", "type", "friend", "state", "added",
	    "user", friends_user_json(peer->id, peer->username)));
}

static void
friend_request_friend_answer(struct req *r, long long id, const struct peer *peer)
{
	req_json(r, 200, json_pack("{s:s, s:I, s:o}", "state", "accepted", "id", (json_int_t)id,
	    "friend", friends_user_json(peer->id, peer->username)));
}

/* What a new request became: a pending request, or a friendship when it
 * answered the peer's own (crossed). */
struct asked {
	long long id;
	int crossed;
};

static enum err
friend_request_post_tx(struct req *r, const struct peer *peer, void *ctx)
{
	long long me = r->session->user_id;
	struct asked *a = ctx;
	struct sql_relation rel;
	enum err e;

	memset(a, 0, sizeof(*a));
	if ((e = friends_relation(r, me, peer->id, &rel)) != ERR_OK)
		return e;
	if (rel.blocking)
		return ERR_YOU_BLOCKED;
	if (rel.blocked)
		return ERR_BLOCKED;
	if (rel.friends)
		return ERR_ALREADY_FRIENDS;
	if (rel.request_out)
		return ERR_REQUEST_PENDING;
	if (rel.request_in) {
		/* They asked first: this request answers theirs. */
		a->id = rel.request_in;
		a->crossed = 1;
		if ((e = friend_request_delete(r, rel.request_in, peer->id, me)) != ERR_OK)
			return e;
		return friend_request_befriend(r, peer);
	}
	return sql_request_insert(r->db, me, peer->id, &a->id) == DB_OK ? ERR_OK : ERR_DB_UNAVAILABLE;
}

enum err
friend_requests_post(struct req *r)
{
	const struct config *cfg = r->cfg;
	long long me = r->session->user_id;
	struct peer peer;
	struct asked a;
	enum err e;

	if ((e = friends_peer(r, fields_str(r->in, "username"), &peer)) != ERR_OK)
		return e;
	if ((e = ratelimit_take(r, "friend", cfg->friend_rate, cfg->friend_burst)) != ERR_OK)
		return e;
	if ((e = friends_change(r, &peer, "friend_request", friend_request_post_tx, &a)) != ERR_OK)
		return e;
	if (a.crossed) {
		friend_request_accepted(r, a.id, &peer);
		friend_request_friend_answer(r, a.id, &peer);
		return ERR_OK;
	}
	friend_request_event(r, a.id, "pending", me_json(r), friends_user_json(peer.id, peer.username),
	    me, peer.id);
	req_json(r, 201, json_pack("{s:s, s:I, s:o}", "state", "pending", "id", (json_int_t)a.id,
	    "to", friends_user_json(peer.id, peer.username)));
	return ERR_OK;
}

/* --- GET /api/friends/requests ------------------------------------------- */

enum err
friend_requests_list(struct req *r)
{
	long long me = r->session->user_id;
	json_t *in = json_array(), *out = json_array();

	if (in == NULL || out == NULL || sql_requests_in(r->db, me, in) != DB_OK ||
	    sql_requests_out(r->db, me, out) != DB_OK) {
		json_decref(in);
		json_decref(out);
		return ERR_DB_UNAVAILABLE;
	}
	req_json(r, 200, json_pack("{s:o, s:o}", "incoming", in, "outgoing", out));
	return ERR_OK;
}

/* --- acting on one request --------------------------------------------- */

/* A request id from the path: 1 .. 2^63-1 in plain digits, else 0. */
static long long
friend_request_id(const char *s)
{
	char *end;
	long long v;

	if (s == NULL || *s < '1' || *s > '9' || strlen(s) > 19)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0' ? v : 0;
}

/*
 * Loads request {id} for the caller as its recipient (incoming) or sender;
 * it is read again under the pair's lock by the delete that follows.
 */
static enum err
friend_request_open(struct req *r, int incoming, long long *id, struct peer *peer)
{
	long long from = 0, to = 0, me = r->session->user_id;
	enum err e;

	memset(peer, 0, sizeof(*peer));
	if ((*id = friend_request_id(r->captures[0])) == 0)
		return ERR_REQUEST_UNKNOWN;
	if (sql_request_get(r->db, *id, &from, &to) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (from == 0 || (incoming ? to : from) != me)
		return ERR_REQUEST_UNKNOWN;
	if ((e = friends_peer_by_id(r, incoming ? from : to, peer)) != ERR_OK)
		return e == ERR_UNKNOWN_USER ? ERR_REQUEST_UNKNOWN : e;
	return ERR_OK;
}

/* What a change does to request {id}: deleted, and for an accept, a friendship. */
struct settle {
	long long id;
	int incoming, accept;
};

static enum err
friend_request_settle_tx(struct req *r, const struct peer *peer, void *ctx)
{
	const struct settle *s = ctx;
	long long me = r->session->user_id;
	enum err e = s->incoming ? friend_request_delete(r, s->id, peer->id, me) :
	    friend_request_delete(r, s->id, me, peer->id);

	return e != ERR_OK || !s->accept ? e : friend_request_befriend(r, peer);
}

enum err
friend_requests_accept(struct req *r)
{
	struct settle s = {0, 1, 1};
	struct peer peer;
	long long id;
	enum err e;

	if ((e = friend_request_open(r, 1, &id, &peer)) != ERR_OK)
		return e;
	s.id = id;
	if ((e = friends_change(r, &peer, "friend_accept", friend_request_settle_tx, &s)) != ERR_OK)
		return e;
	friend_request_accepted(r, id, &peer);
	friend_request_friend_answer(r, id, &peer);
	return ERR_OK;
}

/* Reject (incoming) or cancel (outgoing): the request is deleted. */
static enum err
friend_request_drop(struct req *r, int incoming, const char *state)
{
	long long me = r->session->user_id, id;
	struct peer peer;
	enum err e;

	struct settle s = {0, incoming, 0};

	if ((e = friend_request_open(r, incoming, &id, &peer)) != ERR_OK)
		return e;
	s.id = id;
	if ((e = friends_change(r, &peer, incoming ? "friend_reject" : "friend_cancel",
	    friend_request_settle_tx, &s)) != ERR_OK)
		return e;
	if (incoming)
		friend_request_event(r, id, state, friends_user_json(peer.id, peer.username), me_json(r),
		    peer.id, me);
	else
		friend_request_event(r, id, state, me_json(r), friends_user_json(peer.id, peer.username),
		    me, peer.id);
	r->status = 204;
	return ERR_OK;
}

enum err
friend_requests_reject(struct req *r)
{
	return friend_request_drop(r, 1, "rejected");
}

enum err
friend_requests_cancel(struct req *r)
{
	return friend_request_drop(r, 0, "cancelled");
}
