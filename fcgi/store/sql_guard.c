/*
 * sql_guard: the statements of the throttle, address failures, CAPTCHAs,
 * rate limits and the purge, one typed function each (see sql_guard.h).
 * Each binds in the order of its statement's `?`s in db.c.
 */
#include <string.h>

#include "sql_guard.h"

/* A write; *affected (if asked) is the rows it changed. */
static enum db_rc
sql_write(struct db *db, enum db_stmt s, const struct db_param *p, size_t np, long long *affected)
{
	struct db_result res;
	enum db_rc rc = db_run(db, s, p, np, NULL, 0, NULL, NULL, &res);

	if (affected != NULL)
		*affected = rc == DB_OK ? res.affected : 0;
	return rc;
}

/* login_throttle */

enum db_rc
sql_throttle_get(struct db *db, const char *name, long long recent, struct sql_throttle *t, int *found)
{
	struct db_param p[2] = {DB_INT(recent), DB_STR(name)};
	struct db_col c[4] = {DB_COL_INT(&t->failures), DB_COL_INT(&t->hard_locked),
	    DB_COL_INT(&t->retry_after), DB_COL_INT(&t->recent)};
	struct db_result res;
	enum db_rc rc;

	memset(t, 0, sizeof(*t));
	rc = db_run(db, STMT_THROTTLE_GET, p, 2, c, 4, NULL, NULL, &res);
	*found = rc == DB_OK && res.rows == 1;
	return rc;
}

enum db_rc
sql_throttle_ensure(struct db *db, const char *name)
{
	struct db_param p = DB_STR(name);

	return sql_write(db, STMT_THROTTLE_ENSURE, &p, 1, NULL);
}

enum db_rc
sql_throttle_lock(struct db *db, const char *name, long long recent, long long stale,
    struct sql_throttle *t, int *found)
{
	struct db_param p[3] = {DB_INT(recent), DB_INT(stale), DB_STR(name)};
	struct db_col c[5] = {DB_COL_INT(&t->failures), DB_COL_INT(&t->hard_locked),
	    DB_COL_INT(&t->retry_after), DB_COL_INT(&t->recent), DB_COL_INT(&t->checking)};
	struct db_result res;
	enum db_rc rc;

	memset(t, 0, sizeof(*t));
	rc = db_run(db, STMT_THROTTLE_LOCK, p, 3, c, 5, NULL, NULL, &res);
	*found = rc == DB_OK && res.rows == 1;
	return rc;
}

enum db_rc
sql_throttle_checking(struct db *db, const char *name, long long stale)
{
	struct db_param p[2] = {DB_INT(stale), DB_STR(name)};

	return sql_write(db, STMT_THROTTLE_CHECKING, p, 2, NULL);
}

enum db_rc
sql_throttle_checked(struct db *db, const char *name)
{
	struct db_param p = DB_STR(name);

	return sql_write(db, STMT_THROTTLE_CHECKED, &p, 1, NULL);
}

enum db_rc
sql_throttle_fail(struct db *db, const char *name, long long *failures)
{
	struct db_param p = DB_STR(name);
	struct db_col c = DB_COL_INT(failures);

	*failures = 0;
	return db_run(db, STMT_THROTTLE_FAIL, &p, 1, &c, 1, NULL, NULL, NULL);
}

enum db_rc
sql_throttle_set_lock(struct db *db, const char *name, long long seconds, int hard)
{
	struct db_param p[3] = {DB_INT(seconds), DB_INT(hard), DB_STR(name)};

	return sql_write(db, STMT_THROTTLE_SET_LOCK, p, 3, NULL);
}

enum db_rc
sql_throttle_reset(struct db *db, const char *name)
{
	struct db_param p = DB_STR(name);

	return sql_write(db, STMT_THROTTLE_RESET, &p, 1, NULL);
}

/* login_addr_failures */

enum db_rc
sql_addr_fail(struct db *db, const char *key, long long window)
{
	struct db_param p[2] = {DB_STR(key), DB_INT(window)};

	return sql_write(db, STMT_ADDR_FAIL, p, 2, NULL);
}

enum db_rc
sql_addr_claim(struct db *db, const char *key, long long window, int *claimed)
{
	struct db_param p[3] = {DB_STR(key), DB_INT(window), DB_INT(window)};
	long long n = 0;
	enum db_rc rc = sql_write(db, STMT_ADDR_CLAIM, p, 3, &n);

	*claimed = n > 0;
	return rc;
}

enum db_rc
sql_addr_clear(struct db *db, const char *key)
{
	struct db_param p = DB_STR(key);

	return sql_write(db, STMT_ADDR_CLEAR, &p, 1, NULL);
}

/* captchas */

enum db_rc
sql_captcha_insert(struct db *db, const char *id, const char *answer, long long ttl)
{
	struct db_param p[3] = {DB_STR(id), DB_STR(answer), DB_INT(ttl)};

	return sql_write(db, STMT_CAPTCHA_INSERT, p, 3, NULL);
}

enum db_rc
sql_captcha_take(struct db *db, const char *id, char answer[SQL_CAPTCHA_ANSWER_MAX], int *live,
    int *found)
{
	long long still = 0;
	struct db_param p = DB_STR(id);
	struct db_col c[2] = {{.type = DBC_STR, .s = answer, .cap = SQL_CAPTCHA_ANSWER_MAX},
	    DB_COL_INT(&still)};
	struct db_result res;
	enum db_rc rc;

	answer[0] = '\0';
	rc = db_run(db, STMT_CAPTCHA_TAKE, &p, 1, c, 2, NULL, NULL, &res);
	*found = rc == DB_OK && res.rows == 1;
	*live = *found && still != 0;
	return rc;
}

/* rate_limits */

enum db_rc
sql_rate_take(struct db *db, long long user_id, const char *action, long long interval_us,
    long long burst_us, int *taken)
{
	struct db_param p[6] = {DB_INT(user_id), DB_STR(action), DB_INT(interval_us), DB_INT(interval_us),
	    DB_INT(burst_us), DB_INT(interval_us)};
	long long n = 0;
	enum db_rc rc = sql_write(db, STMT_RATE_TAKE, p, 6, &n);

	/* 1 row: the first token; 2: tat moved; 0: refused. */
	*taken = n > 0;
	return rc;
}

enum db_rc
sql_rate_wait(struct db *db, long long user_id, const char *action, long long *wait_us)
{
	struct db_param p[2] = {DB_INT(user_id), DB_STR(action)};
	struct db_col c = DB_COL_INT(wait_us);

	*wait_us = 0;
	return db_run(db, STMT_RATE_WAIT, p, 2, &c, 1, NULL, NULL, NULL);
}

/* the purge */

/* Where a pick's rows go: each lands in key, then is kept in keys[n]. */
struct sql_pick {
	char key[SQL_PURGE_KEY_MAX];
	char (*keys)[SQL_PURGE_KEY_MAX];
	int max, n;
};

static int
sql_pick_row(void *ctx)
{
	struct sql_pick *pk = ctx;

	memcpy(pk->keys[pk->n++], pk->key, sizeof(pk->key));
	return pk->n == pk->max;
}

enum db_rc
sql_purge_pick(struct db *db, enum db_stmt pick, long long age, char (*keys)[SQL_PURGE_KEY_MAX],
    int max, int *n)
{
	struct sql_pick pk = {.keys = keys, .max = max};
	struct db_param p[2] = {DB_INT(age), DB_INT(max)};
	struct db_col c = DB_COL_STR(pk.key);
	enum db_rc rc = DB_OK;

	if (max > 0)
		rc = db_run(db, pick, p, 2, &c, 1, sql_pick_row, &pk, NULL);
	*n = pk.n;
	return rc;
}

enum db_rc
sql_purge_drop(struct db *db, enum db_stmt drop, const char *key, long long age, long long *affected)
{
	struct db_param p[2] = {DB_STR(key), DB_INT(age)};

	return sql_write(db, drop, p, 2, affected);
}

enum db_rc
sql_isolation(struct db *db, char *out, size_t cap)
{
	struct db_col c = {.type = DBC_STR, .s = out, .cap = cap};

	if (cap == 0)
		return DB_FAILED;
	out[0] = '\0';
	return db_run(db, STMT_ISOLATION, NULL, 0, &c, 1, NULL, NULL, NULL);
}
