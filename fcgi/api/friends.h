/*
 * friends: what two users are to each other, and the friend list.
 *
 * Between two users there is at most one of: a friendship (two rows, one a
 * side), a pending request (one direction; a request crossing one the other
 * way becomes a friendship), or nothing; and independently each may block
 * the other. Blocking ends the friendship and any request between the two,
 * and a blocked user can neither send requests or messages nor see the
 * blocker's presence or keys.
 *
 * The lock order, kept by every path that writes between two users: the two
 * user rows first, lower id first, then the rows between them (friendships,
 * requests, blocks, messages). A change (friends_change) takes both rows
 * FOR UPDATE, so parallel changes to one pair run one after the other; a
 * message (messages.c) takes them shared, in the same order, before its
 * insert, so a send crossing a block or an unfriend waits instead of
 * deadlocking (the insert's foreign keys would otherwise lock the sender's
 * row, then the recipient's, after the friendship row).
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
#include "sql_social.h"

struct peer {
	long long id;
	char username[33];	/* as registered, whatever case the caller used */
};

/*
 * The active user called `name` (any case), who is not the caller: ERR_OK,
 * ERR_UNKNOWN_USER (404), ERR_YOURSELF (422) or ERR_DB_UNAVAILABLE.
 */
enum err friends_peer(struct req *, const char *name, struct peer *);

/* The user of id `id` as a peer: ERR_OK, ERR_UNKNOWN_USER or ERR_DB_UNAVAILABLE. */
enum err friends_peer_by_id(struct req *, long long id, struct peer *);

/* Inside db_tx(): locks the rows of users a and b, lower id first, for
 * update (a change between them; a message takes them shared in its own
 * statement, STMT_MESSAGE_INSERT). ERR_OK or ERR_DB_UNAVAILABLE. */
enum err friends_lock_pair(struct req *, long long a, long long b);

/* What a is to b (the caller is a). ERR_OK or ERR_DB_UNAVAILABLE. */
enum err friends_relation(struct req *, long long a, long long b, struct sql_relation *);

/* {"user_id", "username"} */
json_t *friends_user_json(long long id, const char *username);

/* The statements of a change between the caller and a peer; may run more
 * than once (see db_tx), so it only touches the database and its ctx. */
typedef enum err (*friends_change_fn)(struct req *, const struct peer *, void *ctx);

/* Runs fn in one transaction after locking the caller's and the peer's rows:
 * fn's error, or ERR_DB_UNAVAILABLE. */
enum err friends_change(struct req *, const struct peer *, const char *what, friends_change_fn fn,
    void *ctx);

#endif
