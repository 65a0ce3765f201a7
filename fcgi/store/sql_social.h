/*
 * sql_social: the statements between users, one typed function each: a
 * user looked up as a peer, presence marks, the pair locks, what two users
 * are to each other, friendships, friend requests, blocks and public keys.
 *
 * Each function binds its inputs to its statement of the table in db.c,
 * runs it once and returns DB_OK, DB_UNAVAILABLE (no connection, or a row
 * lock or deadlock gave way: the caller answers 503 or lets db_tx() try
 * again) or DB_FAILED. None of them opens a transaction, retries or decides
 * what a result means: that is the caller's, and the lock order of
 * friends.h is kept by calling sql_pair_lock() first (a message's insert
 * keeps it in its own statement: sql_messages.h).
 * Outputs are zeroed before the statement runs, so an id of 0 means "no
 * such row" (no id is ever 0). A list statement appends one JSON object per
 * row to the array it is given, with the names and types the API shows.
 */
#ifndef CHATD_SQL_SOCIAL_H
#define CHATD_SQL_SOCIAL_H

#include <jansson.h>
#include <stddef.h>

#include "db.h"

#define SQL_JWK_MAX 255	/* public_keys.jwk is VARCHAR(255) */
#define SQL_TIME_LEN 32	/* an ISO time "2026-01-02T03:04:05Z" and its NUL, with room */

/* What a is to b (STMT_RELATION): each an answer of the same statement. */
struct sql_relation {
	long long friends;	/* 1 when friends */
	long long request_out;	/* id of a's pending request to b, or 0 */
	long long request_in;	/* id of b's pending request to a, or 0 */
	long long blocking;	/* 1 when a blocks b */
	long long blocked;	/* 1 when b blocks a */
};

/* The requests between two users that one delete ended (at most one each way). */
struct sql_requests_gone {
	long long ids[2];	/* the requests' ids */
	long long froms[2];	/* who sent each */
	size_t n;
};

/* One published key. */
struct sql_key {
	long long id;		/* 0: no such key */
	char jwk[SQL_JWK_MAX + 1];	/* canonical JSON */
	char created[SQL_TIME_LEN];
};

/* --- users as peers and presence --------------------------------------- */

/* The active user called name (any case): *id (0 if none) and the name as
 * registered into username[cap]. */
enum db_rc sql_user_active_by_name(struct db *, const char *name, long long *id, char *username,
    size_t cap);
/* User id's name into username[cap]; empty when there is no such user. */
enum db_rc sql_user_name_by_id(struct db *, long long id, char *username, size_t cap);
/* Marks user id offline unless a session of theirs is still live (idle and
 * max are the session limits in seconds); *offline 1 when it changed. */
enum db_rc sql_user_unseen(struct db *, long long id, long long idle, long long max, int *offline);

/* --- the pair locks and the relation ------------------------------------ */

/* Inside a transaction: the rows of users a and b, lower id first, for update. */
enum db_rc sql_pair_lock(struct db *, long long a, long long b);
/* What a is to b. */
enum db_rc sql_relation(struct db *, long long a, long long b, struct sql_relation *);

/* --- friend requests ----------------------------------------------------- */

/* A request from → to; *id is its id. DB_FAILED (duplicate key) if one is there. */
enum db_rc sql_request_insert(struct db *, long long from, long long to, long long *id);
/* Request id's two sides: *from and *to, both 0 when there is no such request. */
enum db_rc sql_request_get(struct db *, long long id, long long *from, long long *to);
/* Deletes request id if it still goes from → to; *deleted 1 when it did. */
enum db_rc sql_request_delete(struct db *, long long id, long long from, long long to, int *deleted);
/* Deletes the requests between a and b, either way, and says which they were. */
enum db_rc sql_request_delete_pair(struct db *, long long a, long long b, struct sql_requests_gone *);
/* Appends the requests to user id, oldest first: {id, user {user_id, username}, created_at}. */
enum db_rc sql_requests_in(struct db *, long long id, json_t *out);
/* Appends the requests from user id, the same way (user is the recipient). */
enum db_rc sql_requests_out(struct db *, long long id, json_t *out);

/* --- friendships ----------------------------------------------------------- */

/* Makes a and b friends (both rows). */
enum db_rc sql_friend_insert(struct db *, long long a, long long b);
/* Ends the friendship of a and b; *ended 1 when there was one. */
enum db_rc sql_friend_delete(struct db *, long long a, long long b, int *ended);
/* The ids of user id's friends into ids[0..max), at most max of them; *n read. */
enum db_rc sql_friend_ids(struct db *, long long id, long long *ids, size_t max, size_t *n);
/* Appends user id's friends by name: {user_id, username, since, online,
 * last_seen (or null), unread, key_id (or null)}. */
enum db_rc sql_friend_list(struct db *, long long id, json_t *out);

/* --- blocks ------------------------------------------------------------------ */

/* user blocks blocked; *added 1 when the block is new. */
enum db_rc sql_block_insert(struct db *, long long user, long long blocked, int *added);
/* user no longer blocks blocked; *removed 1 when there was a block. */
enum db_rc sql_block_delete(struct db *, long long user, long long blocked, int *removed);
/* Appends the users user id blocks, by name: {user_id, username, since}. */
enum db_rc sql_block_list(struct db *, long long id, json_t *out);

/* --- public keys ----------------------------------------------------------- */

/* Publishes jwk (canonical JSON) as user's newest key; *id is its id. */
enum db_rc sql_key_insert(struct db *, long long user, const char *jwk, long long *id);
/* User's current (newest) key; k->id 0 when they have none. */
enum db_rc sql_key_current(struct db *, long long user, struct sql_key *k);
/* User's key id; k->id 0 when it is not one of theirs. */
enum db_rc sql_key_by_id(struct db *, long long user, long long id, struct sql_key *k);
/* Appends user's keys, newest first (at most 1000): {key_id, jwk (parsed), created_at}. */
enum db_rc sql_key_history(struct db *, long long user, json_t *out);

#endif
