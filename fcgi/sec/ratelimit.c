/*
 * ratelimit: GCRA over one row per user and action (see ratelimit.h).
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "ratelimit.h"
#include "session.h"
#include "sql_guard.h"

enum err
ratelimit_refuse(struct req *r, const char *action, int per_minute, int burst)
{
	long long step = config_step_us(per_minute), wait_us = 0, secs;

	if (sql_rate_wait(r->db, r->session->user_id, action, &wait_us) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	/* Allowed again once tat + step is back within the burst. */
	secs = (wait_us + step - step * burst + 999999) / 1000000;
	return req_refuse_for(r, ERR_RATE_LIMITED, secs > 0 ? secs : 1);
}

enum err
ratelimit_take(struct req *r, const char *action, int per_minute, int burst)
{
	long long step = config_step_us(per_minute);
	int taken = 0;

	if (sql_rate_take(r->db, r->session->user_id, action, step, step * burst, &taken) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	return taken ? ERR_OK : ratelimit_refuse(r, action, per_minute, burst);
}
