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
ratelimit_take(struct req *r, const char *action, int per_minute, int burst)
{
	long long secs = 0;
	enum err e = ratelimit_try(r, action, per_minute, burst, &secs);

	return e == ERR_RATE_LIMITED ? ratelimit_refuse(r, secs) : e;
}

enum err
ratelimit_refuse(struct req *r, long long secs)
{
	return req_refuse_for(r, ERR_RATE_LIMITED, secs);
}

enum err
ratelimit_try(struct req *r, const char *action, int per_minute, int burst, long long *retry_after)
{
	long long uid = r->session->user_id;
	long long interval = 60000000LL / (per_minute > 0 ? per_minute : 1);
	long long wait_us = 0, secs;
	int taken = 0;

	if (sql_rate_take(r->db, uid, action, interval, interval * burst, &taken) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (taken)
		return ERR_OK;
	if (sql_rate_wait(r->db, uid, action, &wait_us) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	/* Allowed again once tat + interval is back within the burst. */
	secs = (wait_us + interval - interval * burst + 999999) / 1000000;
	*retry_after = secs > 0 ? secs : 1;
	return ERR_RATE_LIMITED;
}
