/*
 * throttle: consecutive login failures per user name, existing or not, so a
 * lockout never tells whether a name exists. Failures that count: a wrong
 * password after a right CAPTCHA, and a wrong second factor. From the 5th
 * failure the name is locked for 1 minute, doubling with each further
 * failure up to 1 hour; at the 100th it is hard-locked, which only a login
 * with a recovery code lifts. A success clears the count.
 *
 * Every refusal that counts says how many attempts are left before logins
 * pause (attempts_left), from the name's count alone, so the number is the
 * same for an existing and an unknown name. Failures are also remembered
 * per client address for THROTTLE_RECENT seconds: with
 * CHATD_LOGIN_CAPTCHA=after-failures a login asks for a CAPTCHA only after
 * a recent failure of the name or from the address.
 */
#ifndef CHATD_THROTTLE_H
#define CHATD_THROTTLE_H

#include "err.h"
#include "req.h"

#define THROTTLE_FREE 4		/* failures without a lockout */
#define THROTTLE_HARD 100	/* failures that hard-lock */
#define THROTTLE_RECENT 3600	/* seconds a failure makes login ask for a CAPTCHA */
#define THROTTLE_ADDR_MAX 46	/* an address key (login_addr_failures.ip): IPv4, or an IPv6 /64 and "/64" */

struct throttle {
	long long failures;
	long long retry_after;	/* seconds left of a lockout; 0 = none */
	int hard;
	int recent;		/* a failure in the last THROTTLE_RECENT seconds */
};

/* Lockout seconds after `failures` consecutive failures (0 = none). */
long long throttle_delay(long long failures);

/* The name's state: ERR_OK or ERR_DB_UNAVAILABLE. `name` is a user_name_key().
 * With lock set (inside db_begin, after throttle_ensure outside it) the
 * name's row stays locked until the transaction ends, so parallel attempts
 * at one name are counted one by one. */
enum err throttle_get(struct req *, const char *name, int lock, struct throttle *);
/* Makes the name's row exist, outside any transaction (two transactions
 * inserting the same row and then locking it would deadlock). */
enum err throttle_ensure(struct req *, const char *name);
/* Counts one failure of the name (and of the client's address), sets the
 * lockout and audits it; the name's count after it goes to *failures. */
enum err throttle_fail(struct req *, const char *name, long long user_id, long long *failures);
/* after-failures: takes the address's one CAPTCHA-free try of the window
 * (committed at once, before the password is checked): 1 when taken, 0 when
 * the address tried or failed recently (a CAPTCHA is needed), -1 (503). */
int throttle_addr_claim(struct req *);
/* The key of an address: IPv4 as it is, IPv6 by its /64 ("2001:db8:1:2::/64"). */
void throttle_addr_key(const char *addr, char out[THROTTLE_ADDR_MAX]);
/* A login that took the address's try and succeeded gives it back. */
enum err throttle_addr_clear(struct req *);

/* Attempts left before the name pauses after `failures` failures (0 once locking). */
long long throttle_attempts_left(long long failures);

/* Answers the refusal e (401 invalid_credentials, code_wrong, ...) with
 * attempts_left, and when this failure started a lockout its length as
 * retry_after and Retry-After. Returns ERR_ANSWERED. */
enum err throttle_refuse(struct req *, enum err e, long long failures);
/* Clears the count after a success. */
enum err throttle_reset(struct req *, const char *name);

/* Answers 429 locked with Retry-After. */
void throttle_answer(struct req *, long long retry_after);

#endif
