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
 *
 * A password (or a re-authentication's code) is checked outside the name's
 * row lock, between two short transactions that hold it: throttle_admit()
 * decides whether the attempt may go on and counts it as being checked,
 * throttle_settle() counts its result. Attempts sent at once are decided one
 * at a time, each seeing those before it, and no more are checked at once
 * than the name has attempts left; the others are told to wait a second.
 */
#ifndef CHATD_THROTTLE_H
#define CHATD_THROTTLE_H

#include "err.h"
#include "req.h"

#define THROTTLE_FREE 4		/* failures without a lockout */
#define THROTTLE_HARD 100	/* failures that hard-lock */
#define THROTTLE_RECENT 3600	/* seconds a failure makes login ask for a CAPTCHA */
#define THROTTLE_STALE 10	/* seconds after which an unsettled attempt counts as none */
#define THROTTLE_ADDR_MAX 46	/* an address key (login_addr_failures.ip): IPv4, or an IPv6 /64 and "/64" */

struct throttle {
	long long failures;
	long long retry_after;	/* seconds left of a lockout; 0 = none */
	int hard;
	int recent;		/* a failure in the last THROTTLE_RECENT seconds */
	long long checking;	/* attempts admitted and not settled (with the lock only) */
};

/* Lockout seconds after `failures` consecutive failures (0 = none). */
long long throttle_delay(long long failures);

/* The name's state: ERR_OK or ERR_DB_UNAVAILABLE. `name` is a user_name_key().
 * With lock set (inside db_tx, after throttle_ensure) the name's row stays
 * locked until the transaction ends. */
enum err throttle_get(struct req *, const char *name, int lock, struct throttle *);

/*
 * Admits one attempt at the name, in a transaction of its own: ERR_OK (the
 * attempt is counted as being checked: throttle_settle must follow), or
 * ERR_LOCKED with the seconds in t->retry_after (a lockout, or as many
 * attempts being checked as the name has left: 1 s), ERR_CAPTCHA_REQUIRED
 * (a recent failure and no CAPTCHA solved), ERR_DB_UNAVAILABLE. A hard lock
 * is admitted only with hard_ok (login, whose ticket then takes only a
 * recovery code), one attempt at a time. t is the name's state.
 */
enum err throttle_admit(struct req *, const char *name, int captcha_solved, int hard_ok, struct throttle *t);

/*
 * Settles an admitted attempt in a transaction of its own: a failure counts
 * (throttle_fail) unless the name is hard-locked; a success clears the count
 * when reset is set. The name's failures after it go to *failures.
 */
enum err throttle_settle(struct req *, const char *name, long long user_id, int ok, int reset,
    long long *failures);
/* Inside db_tx(), first: makes the name's row exist and locks it for update. */
enum err throttle_ensure(struct req *, const char *name);
/* Inside db_tx(): counts one failure of the name (and of the client's
 * address) and sets the lockout it starts; the name's count after it goes to
 * *failures. */
enum err throttle_fail(struct req *, const char *name, long long *failures);
/* After the commit: audits the lockout that `failures` started, if any. */
void throttle_audit(struct req *, long long user_id, long long failures);
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

/* The refusal e (401 invalid_credentials, code_wrong, ...) of a counted
 * failure: it says attempts_left, and when this failure started a lockout its
 * length as retry_after and Retry-After. Returns e. */
enum err throttle_refuse(struct req *, enum err e, long long failures);
/* Clears the count after a success. */
enum err throttle_reset(struct req *, const char *name);

/* 429 locked with Retry-After: returns ERR_LOCKED. */
enum err throttle_locked(struct req *, long long retry_after);

#endif
