/*
 * throttle: per-name failure counting and lockouts (see throttle.h).
 */
#include <arpa/inet.h>
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
	long long hard = 0, recent = 0;
	struct db_param p[3] = {DB_INT(THROTTLE_RECENT), DB_STR(name), DB_STR(name)};
	struct db_col c[5] = {DB_COL_INT(&t->failures), DB_COL_INT(&hard), DB_COL_INT(&t->retry_after),
	    DB_COL_INT(&recent), DB_COL_INT(&t->checking)};
	struct db_result res;

	memset(t, 0, sizeof(*t));
	if (lock)
		p[1] = DB_INT(THROTTLE_STALE);
	if (db_run(r->db, lock ? STMT_THROTTLE_LOCK : STMT_THROTTLE_GET, p, lock ? 3 : 2, c, lock ? 5 : 4,
	    NULL, NULL, &res) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (res.rows == 0)
		memset(t, 0, sizeof(*t));
	t->hard = hard != 0;
	t->recent = res.rows > 0 && recent != 0;
	return ERR_OK;
}

struct admit {
	struct req *r;
	const char *name;
	int solved, hard_ok;
	struct throttle *t;
	/* settle */
	long long user_id, failures;
	int ok, reset;
};

static enum err
throttle_admit_tx(void *ctx)
{
	struct admit *a = ctx;
	struct throttle *t = a->t;
	struct db_param p[2] = {DB_INT(THROTTLE_STALE), DB_STR(a->name)};
	enum err e;

	if ((e = throttle_ensure(a->r, a->name)) != ERR_OK || (e = throttle_get(a->r, a->name, 1, t)) != ERR_OK)
		return e;
	if (t->retry_after > 0 && !t->hard)
		return ERR_LOCKED;
	if (t->hard && !a->hard_ok) {
		t->retry_after = 3600;
		return ERR_LOCKED;
	}
	if (!a->solved && (t->recent || t->hard))
		return ERR_CAPTCHA_REQUIRED;
	/* As many at once as could fail before a lockout (one at a time once
	 * each failure locks, or for a hard lock): the rest wait a second for
	 * those results. */
	long long room = t->hard ? 1 : throttle_attempts_left(t->failures);

	if (t->checking >= (room > 0 ? room : 1)) {
		t->retry_after = 1;
		return ERR_LOCKED;
	}
	return db_run(a->r->db, STMT_THROTTLE_CHECKING, p, 2, NULL, 0, NULL, NULL, NULL) == DB_OK ?
	    ERR_OK : ERR_DB_UNAVAILABLE;
}

enum err
throttle_admit(struct req *r, const char *name, int captcha_solved, int hard_ok, struct throttle *t)
{
	struct admit a = {.r = r, .name = name, .solved = captcha_solved, .hard_ok = hard_ok, .t = t};

	return db_tx(r->db, "throttle_admit", throttle_admit_tx, &a);
}

static enum err
throttle_settle_tx(void *ctx)
{
	struct admit *a = ctx;
	struct db_param p = DB_STR(a->name);
	enum err e;

	a->failures = 0;
	if ((e = throttle_ensure(a->r, a->name)) != ERR_OK || (e = throttle_get(a->r, a->name, 1, a->t)) != ERR_OK)
		return e;
	a->failures = a->t->failures;
	if (db_run(a->r->db, STMT_THROTTLE_CHECKED, &p, 1, NULL, 0, NULL, NULL, NULL) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (!a->ok)
		return a->t->hard ? ERR_OK : throttle_fail(a->r, a->name, a->user_id, &a->failures);
	return a->reset ? throttle_reset(a->r, a->name) : ERR_OK;
}

enum err
throttle_settle(struct req *r, const char *name, long long user_id, int ok, int reset, long long *failures)
{
	struct throttle t;
	struct admit a = {.r = r, .name = name, .t = &t, .user_id = user_id, .ok = ok, .reset = reset};
	enum err e = db_tx(r->db, "throttle_settle", throttle_settle_tx, &a);

	if (failures != NULL)
		*failures = a.failures;
	return e;
}

enum err
throttle_ensure(struct req *r, const char *name)
{
	struct db_param p = DB_STR(name);

	return db_run(r->db, STMT_THROTTLE_ENSURE, &p, 1, NULL, 0, NULL, NULL, NULL) == DB_OK ?
	    ERR_OK : ERR_DB_UNAVAILABLE;
}

long long
throttle_attempts_left(long long failures)
{
	return failures <= THROTTLE_FREE ? THROTTLE_FREE + 1 - failures : 0;
}

/*
 * The address a failure is held against: an IPv4 address as it is; an IPv6
 * address by its /64, the block one subscriber gets (counting each of its
 * 2^64 addresses apart would let one machine never be asked).
 */
void
throttle_addr_key(const char *addr, char out[THROTTLE_ADDR_MAX])
{
	unsigned char a6[16];
	char text[INET6_ADDRSTRLEN];

	static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (addr != NULL && strchr(addr, ':') != NULL && inet_pton(AF_INET6, addr, a6) == 1) {
		/* An IPv4 client of a dual-stack socket is its IPv4 address, not ::/64. */
		if (memcmp(a6, v4mapped, sizeof(v4mapped)) == 0 &&
		    inet_ntop(AF_INET, a6 + 12, text, sizeof(text)) != NULL) {
			snprintf(out, THROTTLE_ADDR_MAX, "%s", text);
			return;
		}
		memset(a6 + 8, 0, 8);
		if (inet_ntop(AF_INET6, a6, text, sizeof(text)) != NULL) {
			snprintf(out, THROTTLE_ADDR_MAX, "%.40s/64", text);	/* a /64 prints in 24 at most */
			return;
		}
	}
	snprintf(out, THROTTLE_ADDR_MAX, "%s", addr != NULL ? addr : "");	/* nginx gives an address: 45 at most */
}

/* The address's side of a failure: only ever makes the next login ask for a CAPTCHA. */
static enum err
throttle_addr_fail(struct req *r)
{
	char key[THROTTLE_ADDR_MAX];
	struct db_param p[2];

	throttle_addr_key(r->remote_addr, key);
	p[0] = DB_STR(key);
	p[1] = DB_INT(THROTTLE_RECENT);
	return db_run(r->db, STMT_ADDR_FAIL, p, 2, NULL, 0, NULL, NULL, NULL) == DB_OK ?
	    ERR_OK : ERR_DB_UNAVAILABLE;
}

int
throttle_addr_claim(struct req *r)
{
	char key[THROTTLE_ADDR_MAX];
	struct db_param p[3];
	struct db_result res;

	/* A stale row counts as none here; the purge process deletes it. */
	throttle_addr_key(r->remote_addr, key);
	p[0] = DB_STR(key);
	p[1] = DB_INT(THROTTLE_RECENT);
	p[2] = DB_INT(THROTTLE_RECENT);
	if (db_run(r->db, STMT_ADDR_CLAIM, p, 3, NULL, 0, NULL, NULL, &res) != DB_OK)
		return -1;
	return res.affected > 0;
}

enum err
throttle_addr_clear(struct req *r)
{
	char key[THROTTLE_ADDR_MAX];
	struct db_param p;

	throttle_addr_key(r->remote_addr, key);
	p = DB_STR(key);
	return db_run(r->db, STMT_ADDR_CLEAR, &p, 1, NULL, 0, NULL, NULL, NULL) == DB_OK ?
	    ERR_OK : ERR_DB_UNAVAILABLE;
}

enum err
throttle_fail(struct req *r, const char *name, long long user_id, long long *failures_out)
{
	long long failures = 0, delay;
	struct db_param p = DB_STR(name);
	struct db_col c = DB_COL_INT(&failures);
	struct db_param lock[3];
	char detail[64];

	if (db_run(r->db, STMT_THROTTLE_FAIL, &p, 1, &c, 1, NULL, NULL, NULL) != DB_OK ||
	    throttle_addr_fail(r) != ERR_OK)
		return ERR_DB_UNAVAILABLE;
	if (failures_out != NULL)
		*failures_out = failures;
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

enum err
throttle_refuse(struct req *r, enum err e, long long failures)
{
	r->refusal.counted = 1;
	r->refusal.attempts_left = throttle_attempts_left(failures);
	r->refusal.retry_after = throttle_delay(failures);
	return e;
}

enum err
throttle_locked(struct req *r, long long retry_after)
{
	return req_refuse_for(r, ERR_LOCKED, retry_after);
}
