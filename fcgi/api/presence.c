/*
 * presence: online marks and their announcements (see presence.h).
 */
#include <jansson.h>

#include "config.h"
#include "db.h"
#include "event.h"
#include "log.h"
#include "presence.h"
#include "session.h"

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
	struct db_param p = DB_INT(s->user_id);

	if (s->seen_age < PRESENCE_REFRESH)
		return;
	if (db_run(r->db, STMT_USER_SEEN, &p, 1, NULL, 0, NULL, NULL, NULL) != DB_OK) {
		log_msg(LOG_WARN, "rid=%s presence: cannot mark user %lld seen", r->id, s->user_id);
		return;
	}
	if (s->seen_age >= PRESENCE_ONLINE)
		presence_announce(r, s->user_id, s->username, 1);
	s->seen_age = 0;
}

void
presence_left(struct req *r, long long uid)
{
	struct db_param p[4] = {DB_INT(uid), DB_INT(uid), DB_INT(r->cfg->session_idle),
	    DB_INT(r->cfg->session_max)};
	struct db_result res;

	if (db_run(r->db, STMT_USER_UNSEEN, p, 4, NULL, 0, NULL, NULL, &res) != DB_OK) {
		log_msg(LOG_WARN, "rid=%s presence: cannot mark user %lld offline", r->id, uid);
		return;
	}
	if (res.affected == 1 && r->session != NULL)
		presence_announce(r, uid, r->session->username, 0);
}
