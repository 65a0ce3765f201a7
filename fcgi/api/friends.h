/*
 * friends: what two users are to each other, and the friend list.
 *
 * Between two users there is at most one of: a friendship (two rows, one a
 * side), a pending request (one direction; a request crossing one the other
 * way becomes a friendship), or nothing; and independently each may block
 * the other. Blocking ends the friendship and any request between the two,
 * and a blocked user can neither send requests or messages nor see the
 * blocker's presence or keys. Every change between two users runs in a
 * transaction that first locks both user rows, lower id first, so parallel
 * changes to one pair happen one after the other.
 *
 *   GET    /api/friends              friends with presence, unread count, key id
 *   DELETE /api/friends/{username}   end a friendship
 *   GET    /api/blocks, POST|DELETE /api/blocks/{username}
 * Friend requests are in friend_requests.c.
 */
#ifndef CHATD_FRIENDS_H
#define CHATD_FRIENDS_H

#include <jansson.h>

#include "err.h"
#include "req.h"

struct peer {
	long long id;
	char username[33];	/* as registered, whatever case the caller used */
};

struct relation {
	long long friends;	/* 1 when friends */
	long long request_out;	/* id of the caller's pending request to the peer, or 0 */
	long long request_in;	/* id of the peer's pending request to the caller, or 0 */
	long long blocking;	/* 1 when the caller blocks the peer */
	long long blocked;	/* 1 when the peer blocks the caller */
};

/*
 * The active user called `name` (any case), who is not the caller: ERR_OK,
 * ERR_UNKNOWN_USER (404), ERR_YOURSELF (422) or ERR_DB_UNAVAILABLE.
 */
enum err friends_peer(struct req *, const char *name, struct peer *);

/* The user of id `id` as a peer: ERR_OK, ERR_UNKNOWN_USER or ERR_DB_UNAVAILABLE. */
enum err friends_peer_by_id(struct req *, long long id, struct peer *);

/* Inside db_begin(): locks the rows of users a and b. ERR_OK or ERR_DB_UNAVAILABLE. */
enum err friends_lock_pair(struct req *, long long a, long long b);

/* What a is to b. ERR_OK or ERR_DB_UNAVAILABLE. */
enum err friends_relation(struct req *, long long a, long long b, struct relation *);

/* {"user_id", "username"} */
json_t *friends_user_json(long long id, const char *username);

/* Starts a transaction and locks the caller's and the peer's rows. */
enum err friends_begin(struct req *, const struct peer *);

/* Commits: ERR_OK or ERR_DB_UNAVAILABLE (rolled back). */
enum err friends_commit(struct req *);

/* A failed step inside friends_begin(): rolls back and returns e. */
enum err friends_abort(struct req *, enum err e);

#endif
