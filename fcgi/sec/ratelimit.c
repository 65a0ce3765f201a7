/*
 * ratelimit: GCRA over one row per user and action (see ratelimit.h).
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "ratelimit.h"
#include "session.h"

enum err
ratelimit_take(struct req *r, const char *action, int per_minute, int burst)
{
	long long uid = r->session->user_id;
	long long interval = 60000000LL / (per_minute > 0 ? per_minute : 1);
	long long wait_us = 0, secs;
	struct db_param p[5] = {DB_INT(interval), DB_INT(uid), DB_STR(action), DB_INT(interval),
	    DB_INT(interval * burst)};
	struct db_col c = DB_COL_INT(&wait_us);
	struct db_result res;
	char v[24];

	for (int attempt = 0; attempt < 2; attempt++) {
		if (db_run(r->db, STMT_RATE_TAKE, p, 5, NULL, 0, NULL, NULL, &res) != DB_OK)
			return ERR_DB_UNAVAILABLE;
		if (res.affected == 1)
			return ERR_OK;
		if (db_run(r->db, STMT_RATE_WAIT, p + 1, 2, &c, 1, NULL, NULL, &res) != DB_OK)
			return ERR_DB_UNAVAILABLE;
		if (res.rows == 1)
			break;
		/* The user's first time: a row with a full bucket, then take again. */
		if (db_run(r->db, STMT_RATE_ENSURE, p + 1, 2, NULL, 0, NULL, NULL, NULL) != DB_OK)
			return ERR_DB_UNAVAILABLE;
	}
	/* Allowed again once tat + interval is back within the burst. */
	secs = (wait_us + interval - interval * burst + 999999) / 1000000;
	req_error(r, ERR_RATE_LIMITED, NULL);
	snprintf(v, sizeof(v), "%lld", secs > 0 ? secs : 1);
	req_header(r, "Retry-After", v);
	return ERR_ANSWERED;
}
