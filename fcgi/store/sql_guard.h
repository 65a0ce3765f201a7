/*
 * sql_guard: one typed function per statement of the guards in front of the
 * accounts: the login throttle (per name), address failures, CAPTCHA
 * challenges, rate limits, and the purge process's picks and drops. Each
 * binds its arguments to the statement of the same name in db.c's table
 * and returns DB_OK, DB_UNAVAILABLE or DB_FAILED (db.h); out parameters are
 * cleared first and filled only when the statement ran.
 *
 * The rules (when a name locks, what a refusal says) stay in throttle.c,
 * ratelimit.c, challenge.c and purge.c.
 */
#ifndef CHATD_SQL_GUARD_H
#define CHATD_SQL_GUARD_H

#include <stddef.h>

#include "db.h"

#define SQL_CAPTCHA_ANSWER_MAX 16	/* an answer's text and its NUL (captchas.answer is VARCHAR(8)) */
#define SQL_PURGE_KEY_MAX 65		/* a purge key as text, the longest being 64 hex digits */

/* A name's throttle row (all 0 when there is none). */
struct sql_throttle {
	long long failures;
	long long hard_locked;	/* 0 or 1 */
	long long retry_after;	/* seconds left of a lockout */
	long long recent;	/* 1: a failure within the `recent` seconds asked about */
	long long checking;	/* attempts admitted and not settled (sql_throttle_lock only) */
};

/* login_throttle; name is a user_name_key() */
enum db_rc sql_throttle_get(struct db *, const char *name, long long recent, struct sql_throttle *,
    int *found);
/* Makes the name's row if new and locks it FOR UPDATE either way. */
enum db_rc sql_throttle_ensure(struct db *, const char *name);
/* The row FOR UPDATE; an attempt checking for over `stale` seconds counts as none. */
enum db_rc sql_throttle_lock(struct db *, const char *name, long long recent, long long stale,
    struct sql_throttle *, int *found);
/* One more attempt being checked (a stale count starts again). */
enum db_rc sql_throttle_checking(struct db *, const char *name, long long stale);
/* One attempt fewer being checked. */
enum db_rc sql_throttle_checked(struct db *, const char *name);
/* Counts a failure: the count after it into *failures. */
enum db_rc sql_throttle_fail(struct db *, const char *name, long long *failures);
enum db_rc sql_throttle_set_lock(struct db *, const char *name, long long seconds, int hard);
enum db_rc sql_throttle_reset(struct db *, const char *name);

/* login_addr_failures; key is a throttle_addr_key(), window THROTTLE_RECENT */
enum db_rc sql_addr_fail(struct db *, const char *key, long long window);
/* The address's one CAPTCHA-free try of the window: *claimed 1 when this took it. */
enum db_rc sql_addr_claim(struct db *, const char *key, long long window, int *claimed);
enum db_rc sql_addr_clear(struct db *, const char *key);

/* captchas */
enum db_rc sql_captcha_insert(struct db *, const char *id, const char *answer, long long ttl);
/* Deletes the challenge whatever comes next: its answer and whether it was
 * still live, *found 0 when there was none. */
enum db_rc sql_captcha_take(struct db *, const char *id, char answer[SQL_CAPTCHA_ANSWER_MAX],
    int *live, int *found);

/* rate_limits (GCRA; microseconds) */
/* Takes a token if the next arrival stays within burst_us: *taken 1 when it did. */
enum db_rc sql_rate_take(struct db *, long long user_id, const char *action, long long interval_us,
    long long burst_us, int *taken);
/* Microseconds until the row's theoretical arrival time. */
enum db_rc sql_rate_wait(struct db *, long long user_id, const char *action, long long *wait_us);

/*
 * The purge (purge.c), whose job table names each expiry's pick and drop
 * statements (STMT_PURGE_*_PICK, STMT_PURGE_*_DROP, STMT_USER_PURGE_PENDING_ONE):
 * every pick takes (age, limit) and gives keys as text, every drop takes
 * (key, age), so one function runs each kind.
 */
/* The keys of at most max rows more than age seconds expired, oldest first, into keys[0..*n). */
enum db_rc sql_purge_pick(struct db *, enum db_stmt pick, long long age,
    char (*keys)[SQL_PURGE_KEY_MAX], int max, int *n);
/* Deletes the row of key if it is still expired: *affected 1 when it did. */
enum db_rc sql_purge_drop(struct db *, enum db_stmt drop, const char *key, long long age,
    long long *affected);
/* The connection's isolation level ("READ-COMMITTED") into out[cap]. */
enum db_rc sql_isolation(struct db *, char *out, size_t cap);

#endif
