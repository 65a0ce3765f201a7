/*
 * event: what chatd tells browsers in real time, and the event stream.
 *
 * Every user has one nchan channel, "u<id>". After a change is committed,
 * the handler publishes a small JSON event to the channels of the users it
 * concerns: {"type": "message" | "request" | "friend" | "key" | "presence" |
 * "receipt", ...} with the ids of what changed, never content. Events are a
 * hint, not the record: a client that reconnects fetches what it missed
 * from the API, so an event lost with nchan's buffer loses nothing. One
 * event to many users (all of someone's friends) is one fan-out: a request
 * to nchan per 255 channels, all within one deadline (notify.h), so a user
 * with hundreds of friends does not wait on them one by one.
 *
 * GET /api/events authenticates the session and answers X-Accel-Redirect
 * to the internal subscriber location of the caller's channel, so nginx,
 * not a worker thread, holds the idle connection. The subscriber times out
 * after less than a minute and the browser reconnects, which re-checks the
 * session and refreshes presence; ending a session deletes the channel, so
 * the user's open streams close at once and only live sessions come back.
 */
#ifndef CHATD_EVENT_H
#define CHATD_EVENT_H

#include <jansson.h>

#include "req.h"

/* Publishes ev (the reference is taken) to user uid's channel; best effort. */
void event_publish(struct req *, long long uid, json_t *ev);

/* Publishes ev (the reference is taken) to each of uids[0..n) as one fan-out. */
void event_publish_many(struct req *, const long long *uids, size_t n, json_t *ev);

/* Who event_to_friends tells: uid's friends, and maybe uid's other sessions. */
enum event_audience {
	EVENT_FRIENDS,
	EVENT_FRIENDS_AND_SELF,
};

/* Publishes ev (the reference is taken) to every friend of uid (and uid) as one fan-out. */
void event_to_friends(struct req *, long long uid, enum event_audience, json_t *ev);

/* Disconnects every event stream of uid (after a session of uid ended). */
void event_close_streams(struct req *, long long uid);

#endif
