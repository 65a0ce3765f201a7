/*
 * event: publishing events and the GET /api/events handler (see event.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "event.h"
#include "handlers.h"
#include "log.h"
#include "notify.h"
#include "session.h"
#include "sql_social.h"

#define EVENT_FANOUT_MAX 5000	/* friends told of one change */
#define EVENT_CHANNEL_LEN 24	/* "u" and a long long */

static void
event_channel(long long uid, char out[EVENT_CHANNEL_LEN])
{
	snprintf(out, EVENT_CHANNEL_LEN, "u%lld", uid);
}

void
event_publish_many(struct req *r, const long long *uids, size_t n, json_t *ev)
{
	char (*names)[EVENT_CHANNEL_LEN] = NULL, *s = NULL;
	const char **channels = NULL;

	if (n == 0)
		goto out;
	if (ev == NULL || (s = json_dumps(ev, JSON_COMPACT)) == NULL ||
	    (names = arena_alloc(r->arena, n * sizeof(*names))) == NULL ||
	    (channels = arena_alloc(r->arena, n * sizeof(*channels))) == NULL) {
		log_msg(LOG_ERROR, "rid=%s event: cannot encode for %zu users", r->id, n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		event_channel(uids[i], names[i]);
		channels[i] = names[i];
	}
	(void)notify_publish_many(r->notify, channels, n, s, r->id);	/* logged there */
out:
	free(s);
	json_decref(ev);
}

void
event_publish(struct req *r, long long uid, json_t *ev)
{
	event_publish_many(r, &uid, 1, ev);
}

void
event_to_friends(struct req *r, long long uid, enum event_audience who, json_t *ev)
{
	long long *ids;
	size_t n = 0;

	if ((ids = arena_alloc(r->arena, (EVENT_FANOUT_MAX + 1) * sizeof(*ids))) == NULL ||
	    sql_friend_ids(r->db, uid, ids, EVENT_FANOUT_MAX, &n) != DB_OK) {
		log_msg(LOG_WARN, "rid=%s event: cannot list friends of %lld", r->id, uid);
		json_decref(ev);
		return;
	}
	if (who == EVENT_FRIENDS_AND_SELF)
		ids[n++] = uid;	/* room was kept for it */
	event_publish_many(r, ids, n, ev);
}

void
event_close_streams(struct req *r, long long uid)
{
	char channel[EVENT_CHANNEL_LEN];

	event_channel(uid, channel);
	(void)notify_delete(r->notify, channel, r->id);
}

enum err
events_get(struct req *r)
{
	char path[48];

	snprintf(path, sizeof(path), "/internal/sub/u%lld", r->session->user_id);
	req_header(r, "X-Accel-Redirect", path);
	req_header(r, "X-Accel-Buffering", "no");
	r->status = 200;
	r->resp_type = "text/plain";
	return ERR_OK;
}
