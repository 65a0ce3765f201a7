/*
 * sql_messages: the statements of conversations, one typed function each:
 * the checks and the insert of a message, a page of a conversation, the
 * read markers and the unread count.
 *
 * As in sql_social.h: each binds its inputs, runs its statement of db.c's
 * table once and returns DB_OK, DB_UNAVAILABLE or DB_FAILED; transactions,
 * the pair lock before an insert, and what a result means are the caller's.
 * Byte columns are bounded here by the sizes of the messages table, so a
 * row larger than its column is a failed statement, never a cut one.
 */
#ifndef CHATD_SQL_MESSAGES_H
#define CHATD_SQL_MESSAGES_H

#include <jansson.h>
#include <stddef.h>

#include "db.h"

#define SQL_MSG_IV 12		/* messages.iv BINARY(12) */
#define SQL_MSG_MAC 32		/* messages.mac, mac2 BINARY(32) */
#define SQL_MSG_CT_MAX 16384	/* messages.ciphertext VARBINARY(16384) */

/* What a message may be stored under (STMT_MESSAGE_CHECK). */
struct sql_message_check {
	long long friends;		/* 1 when sender and recipient are friends */
	long long sender_key;		/* 1 when the sender key is the sender's */
	long long recipient_key;	/* 1 when the recipient key is the recipient's */
};

/* A message as it is stored. */
struct sql_message {
	long long sender, recipient;
	const char *kind;		/* "ecdh", "text", "rekey", "receipt" */
	long long sender_key, recipient_key, epoch, counter;
	const unsigned char *iv, *ct, *mac, *mac2;	/* mac2: rekey only, else NULL */
	size_t ivlen, ctlen, maclen, mac2len;
};

/* The markers of one conversation, as its caller sees them (with a page). */
struct sql_markers {
	long long read;			/* how far the caller has read the peer's messages */
	long long peer_delivered;	/* how far the peer has received the caller's */
	long long peer_read;		/* how far the peer has read the caller's */
};

/* Whether a message from sender to recipient under the two key ids may be
 * stored: why sql_message_insert stored none. */
enum db_rc sql_message_check(struct db *, long long sender, long long recipient, long long sender_key,
    long long recipient_key, struct sql_message_check *);
/* What sql_message_insert did. */
struct sql_stored {
	long long id;		/* the new message's, 0 when none was stored */
	char created[32];	/* its time, ISO */
	int duplicate;		/* DB_FAILED: sent before (the same sides, keys, epoch, counter) */
	int rate_limited;	/* DB_FAILED: over the sender's send limit (the trigger's refusal) */
};

/*
 * Stores m in one statement and one commit (autocommit, the send limit's
 * step with it): only while its two users are friends and each key is its
 * side's, decided in the statement; id 0 when not (sql_message_check says
 * why).
 */
enum db_rc sql_message_insert(struct db *, const struct sql_message *m, struct sql_stored *);

/* Which page: ids in (after, before), at most limit of them; forward: the
 * oldest of the range (paging on from `after`), else the newest. */
struct sql_page {
	long long after, before, limit;
	int forward;
};

struct buf;

/*
 * A page of the conversation of a and b with a's markers of it, in one
 * statement: the messages appended to out as JSON text, oldest first,
 * comma-separated, {id, sender_id, recipient_id, kind, sender_key_id,
 * recipient_key_id, epoch, counter, iv, ciphertext, mac, [mac2,] created_at}
 * (bytes in base64url); *more 1 when the range holds more than the page.
 */
enum db_rc sql_messages_page(struct db *, long long a, long long b, const struct sql_page *,
    struct buf *out, struct sql_markers *, int *more);

/* Moves user's delivered marker of peer (and with read, the read marker) up
 * to the last message peer sent them at or below upto; markers never go back. */
enum db_rc sql_marker_set(struct db *, long long user, long long peer, long long upto, int read);
/* User's markers of peer (0 and 0 when none is set). */
enum db_rc sql_marker_get(struct db *, long long user, long long peer, long long *delivered,
    long long *read);
/* How many text messages from sender to recipient come after id `after`. */
enum db_rc sql_unread(struct db *, long long sender, long long recipient, long long after,
    long long *count);

#endif
