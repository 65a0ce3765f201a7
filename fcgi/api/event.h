/*
 * event: what chatd tells browsers in real time, and the event stream.
 *
 * Every user has one nchan channel, "u<id>". After a change is committed,
 * the handler publishes a small JSON event to the channels of the users it
 * concerns: {"type": "message" | "request" | "friend" | "key" | "presence" |
 * "receipt", ...} with the ids of what changed, never content. Events are a
 * hint, not the record: a client that reconnects fetches what it missed
 * from the API, so an event lost with nchan's buffer loses nothing.
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

/* Publishes ev (the reference is taken) to every friend of uid. */
void event_to_friends(struct req *, long long uid, json_t *ev);

/* Disconnects every event stream of uid (after a session of uid ended). */
void event_close_streams(struct req *, long long uid);

#endif
