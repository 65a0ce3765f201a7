/*
 * throttle: per-name failure counting and lockouts (see throttle.h).
 */
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "throttle.h"

long long
throttle_delay(long long failures)
{
	long long d = 60;

	if (failures <= THROTTLE_FREE)
		return 0;
	for (long long k = THROTTLE_FREE + 1; k < failures && d < 3600; k++)
		d *= 2;
	return d < 3600 ? d : 3600;
}

enum err
throttle_get(struct req *r, const char *name, int lock, struct throttle *t)
{
	long long hard = 0;
	struct db_param p = DB_STR(name);
	struct db_col c[3] = {DB_COL_INT(&t->failures), DB_COL_INT(&hard), DB_COL_INT(&t->retry_after)};
	struct db_result res;

	memset(t, 0, sizeof(*t));
	if (db_run(r->db, lock ? STMT_THROTTLE_LOCK : STMT_THROTTLE_GET, &p, 1, c, 3, NULL, NULL, &res) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (res.rows == 0)
		memset(t, 0, sizeof(*t));
	t->hard = hard != 0;
	return ERR_OK;
}

enum err
throttle_ensure(struct req *r, const char *name)
{
	struct db_param p = DB_STR(name);

	return db_run(r->db, STMT_THROTTLE_ENSURE, &p, 1, NULL, 0, NULL, NULL, NULL) == DB_OK ?
	    ERR_OK : ERR_DB_UNAVAILABLE;
}

enum err
throttle_fail(struct req *r, const char *name, long long user_id)
{
	long long failures = 0, delay;
	struct db_param p = DB_STR(name);
	struct db_col c = DB_COL_INT(&failures);
	struct db_param lock[3];
	char detail[64];

	if (db_run(r->db, STMT_THROTTLE_FAIL, &p, 1, &c, 1, NULL, NULL, NULL) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	delay = throttle_delay(failures);
	if (delay == 0)
		return ERR_OK;
	lock[0] = DB_INT(delay);
	lock[1] = DB_INT(failures >= THROTTLE_HARD);
	lock[2] = DB_STR(name);
	if (db_run(r->db, STMT_THROTTLE_SET_LOCK, lock, 3, NULL, 0, NULL, NULL, NULL) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	snprintf(detail, sizeof(detail), "failures=%lld seconds=%lld%s", failures, delay,
	    failures >= THROTTLE_HARD ? " hard" : "");
	audit_log(r, user_id, "lockout", detail);
	return ERR_OK;
}

enum err
throttle_reset(struct req *r, const char *name)
{
	struct db_param p = DB_STR(name);

	return db_run(r->db, STMT_THROTTLE_RESET, &p, 1, NULL, 0, NULL, NULL, NULL) == DB_OK ?
	    ERR_OK : ERR_DB_UNAVAILABLE;
}

void
throttle_answer(struct req *r, long long retry_after)
{
	char v[24];

	req_error(r, ERR_LOCKED, NULL);
	snprintf(v, sizeof(v), "%lld", retry_after > 0 ? retry_after : 1);
	req_header(r, "Retry-After", v);
}
