/*
 * ratelimit: GCRA over one row per user and action (see ratelimit.h).
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "ratelimit.h"
#include "session.h"
#include "sql_guard.h"


enum err
ratelimit_refuse(struct req *r, long long secs)
{
	return req_refuse_for(r, ERR_RATE_LIMITED, secs);
}

long long
ratelimit_wait(struct req *r, const char *action, int per_minute, int burst)
{
	long long interval = 60000000LL / (per_minute > 0 ? per_minute : 1);
	long long wait_us = 0, secs;

	if (sql_rate_wait(r->db, r->session->user_id, action, &wait_us) != DB_OK)
		return -1;
	/* Allowed again once tat + interval is back within the burst. */
	secs = (wait_us + interval - interval * burst + 999999) / 1000000;
	return secs > 0 ? secs : 1;
}

enum err
ratelimit_take(struct req *r, const char *action, int per_minute, int burst)
{
	long long uid = r->session->user_id;
	long long interval = 60000000LL / (per_minute > 0 ? per_minute : 1), secs;
	int taken = 0;

	if (sql_rate_take(r->db, uid, action, interval, interval * burst, &taken) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (taken)
		return ERR_OK;
	secs = ratelimit_wait(r, action, per_minute, burst);
	return secs < 0 ? ERR_DB_UNAVAILABLE : ratelimit_refuse(r, secs);
}
