/*
 * presence: online marks and their announcements (see presence.h).
 */
#include <jansson.h>

#include "config.h"
#include "event.h"
#include "log.h"
#include "presence.h"
#include "session.h"
#include "sql_accounts.h"
#include "sql_social.h"

static void
presence_announce(struct req *r, long long uid, const char *username, int online)
{
	event_to_friends(r, uid, EVENT_FRIENDS, json_pack("{s:s, s:I, s:s, s:b}", "type",
	    "presence", "user_id", (json_int_t)uid, "username", username, "online", online));
}

void
presence_seen(struct req *r)
{
	struct session *s = r->session;
	int user_due = s->seen_age >= PRESENCE_REFRESH;

	/* Both marks in one statement, and none on most requests. */
	if (!user_due && !s->touch_due)
		return;
	if (sql_session_seen(r->db, s->id, s->user_id, s->touch_due, user_due) != DB_OK) {
		log_msg(LOG_WARN, "rid=%s presence: cannot mark session %lld seen", r->id, s->id);
		return;
	}
	s->touch_due = 0;
	if (!user_due)
		return;
	if (s->seen_age >= PRESENCE_ONLINE)
		presence_announce(r, s->user_id, s->username, 1);
	s->seen_age = 0;
}

void
presence_left(struct req *r, long long uid)
{
	int offline;

	if (sql_user_unseen(r->db, uid, r->cfg->session_idle, r->cfg->session_max, &offline) != DB_OK) {
		log_msg(LOG_WARN, "rid=%s presence: cannot mark user %lld offline", r->id, uid);
		return;
	}
	if (offline && r->session != NULL)
		presence_announce(r, uid, r->session->username, 0);
}
