/*
 * throttle: per-name failure counting and lockouts (see throttle.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "sql_guard.h"
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
	struct sql_throttle row;
	enum db_rc rc;
	int found;

	memset(t, 0, sizeof(*t));
	if (lock)
		rc = sql_throttle_lock(r->db, name, THROTTLE_RECENT, THROTTLE_STALE, &row, &found);
	else
		rc = sql_throttle_get(r->db, name, THROTTLE_RECENT, &row, &found);
	if (rc != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (!found)	/* no row: no failure yet */
		return ERR_OK;
	t->failures = row.failures;
	t->retry_after = row.retry_after;
	t->hard = row.hard_locked != 0;
	t->recent = row.recent != 0;
	t->checking = row.checking;
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
	return sql_throttle_checking(a->r->db, a->name, THROTTLE_STALE) == DB_OK ? ERR_OK : ERR_DB_UNAVAILABLE;
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
	enum err e;

	a->failures = 0;
	if ((e = throttle_ensure(a->r, a->name)) != ERR_OK || (e = throttle_get(a->r, a->name, 1, a->t)) != ERR_OK)
		return e;
	a->failures = a->t->failures;
	if (sql_throttle_checked(a->r->db, a->name) != DB_OK)
		return ERR_DB_UNAVAILABLE;
	if (!a->ok)
		return a->t->hard ? ERR_OK : throttle_fail(a->r, a->name, &a->failures);
	return a->reset ? throttle_reset(a->r, a->name) : ERR_OK;
}

enum err
throttle_settle(struct req *r, const char *name, long long user_id, int ok, int reset, long long *failures)
{
	struct throttle t;
	struct admit a = {.r = r, .name = name, .t = &t, .user_id = user_id, .ok = ok, .reset = reset};
	enum err e = db_tx(r->db, "throttle_settle", throttle_settle_tx, &a);

	if (e == ERR_OK && !ok && !t.hard)
		throttle_audit(r, user_id, a.failures);
	if (failures != NULL)
		*failures = a.failures;
	return e;
}

enum err
throttle_ensure(struct req *r, const char *name)
{
	return sql_throttle_ensure(r->db, name) == DB_OK ? ERR_OK : ERR_DB_UNAVAILABLE;
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

	throttle_addr_key(r->remote_addr, key);
	return sql_addr_fail(r->db, key, THROTTLE_RECENT) == DB_OK ? ERR_OK : ERR_DB_UNAVAILABLE;
}

int
throttle_addr_claim(struct req *r)
{
	char key[THROTTLE_ADDR_MAX];
	int claimed;

	/* A stale row counts as none here; the purge process deletes it. */
	throttle_addr_key(r->remote_addr, key);
	if (sql_addr_claim(r->db, key, THROTTLE_RECENT, &claimed) != DB_OK)
		return -1;
	return claimed;
}

enum err
throttle_addr_clear(struct req *r)
{
	char key[THROTTLE_ADDR_MAX];

	throttle_addr_key(r->remote_addr, key);
	return sql_addr_clear(r->db, key) == DB_OK ? ERR_OK : ERR_DB_UNAVAILABLE;
}

enum err
throttle_fail(struct req *r, const char *name, long long *failures_out)
{
	long long failures = 0, delay;

	if (sql_throttle_fail(r->db, name, &failures) != DB_OK || throttle_addr_fail(r) != ERR_OK)
		return ERR_DB_UNAVAILABLE;
	if (failures_out != NULL)
		*failures_out = failures;
	delay = throttle_delay(failures);
	if (delay == 0)
		return ERR_OK;
	return sql_throttle_set_lock(r->db, name, delay, failures >= THROTTLE_HARD) == DB_OK ?
	    ERR_OK : ERR_DB_UNAVAILABLE;
}

void
throttle_audit(struct req *r, long long user_id, long long failures)
{
	long long delay = throttle_delay(failures);
	char detail[64];

	if (delay == 0)
		return;
	snprintf(detail, sizeof(detail), "failures=%lld seconds=%lld%s", failures, delay,
	    failures >= THROTTLE_HARD ? " hard" : "");
	audit_log(r, user_id, "lockout", detail);
}

enum err
throttle_reset(struct req *r, const char *name)
{
	return sql_throttle_reset(r->db, name) == DB_OK ? ERR_OK : ERR_DB_UNAVAILABLE;
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
