/*
 * presence: who is online. A user is online while an authenticated request
 * or an event-stream subscription of theirs is less than PRESENCE_ONLINE
 * seconds old; the event stream reconnects every PRESENCE_STREAM seconds,
 * so an open stream alone keeps its user online. users.seen_at is written
 * at most once per PRESENCE_REFRESH seconds per user, and a user coming
 * online (or going offline at their last logout) is announced to friends.
 */
#ifndef CHATD_PRESENCE_H
#define CHATD_PRESENCE_H

#include "req.h"

#define PRESENCE_ONLINE 60
#define PRESENCE_REFRESH 20
#define PRESENCE_STREAM 40	/* nginx's nchan_subscriber_timeout */

/* Marks the caller (r->session) seen; best effort, never fails the request. */
void presence_seen(struct req *);

/* After one of uid's sessions ended: offline if it was the last live one. */
void presence_left(struct req *, long long uid);

#endif
