/*
 * purge: the expired-row purge process (see purge.h).
 */
#include <errno.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "purge.h"
#include "sql_guard.h"
#include "throttle.h"

#define PURGE_BATCH 200		/* keys one pick reads */
#define PURGE_PICKS_MAX 50	/* picks per expiry per round: a backlog takes a few rounds */

/* One expiry: which rows are past it, and how each is deleted. Both
 * statements run through sql_purge_pick() and sql_purge_drop(). */
struct purge_job {
	const char *table;	/* as the log line names it */
	enum db_stmt pick;	/* (age, limit): keys of expired rows, oldest first; no lock */
	enum db_stmt drop;	/* (key, age): that row, if it is still expired */
	int age;		/* seconds past the row's own time; 0: past its expires_at */
};

/* The keys of one pick. */
struct purge_pick {
	char keys[PURGE_BATCH][SQL_PURGE_KEY_MAX];
	int n;
};

static double
purge_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* 1 when SIGTERM or SIGINT waits (both are blocked): the round ends early. */
static int
purge_stop_asked(void)
{
	sigset_t pending;

	return sigpending(&pending) == 0 &&
	    (sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1);
}

/* The wait before the next round: the interval, a tenth more or less. */
static struct timespec
purge_wait(int interval)
{
	unsigned char r[2] = {0, 0};
	long ms;

	if (RAND_bytes(r, sizeof(r)) != 1)
		r[0] = r[1] = 0x80;	/* no jitter then: the interval itself */
	ms = interval * 1000L * (900 + ((r[0] << 8 | r[1]) % 201)) / 1000;
	return (struct timespec){ms / 1000, (ms % 1000) * 1000000L};
}

/*
 * Drops the rows of one pick, each by its key, in one short transaction: one
 * commit (one log flush) per pick rather than per row. It holds only rows it
 * deleted (at READ COMMITTED a row found live again is let go at once), for
 * the few milliseconds the pick takes; two purges meet on the same rows in
 * the same order (the pick's), so they queue rather than deadlock.
 */
struct drop {
	struct db *db;
	const struct purge_job *j;
	const struct purge_pick *pk;
	long long n;
};

static enum err
purge_drop_tx(void *ctx)
{
	struct drop *d = ctx;

	d->n = 0;
	for (int i = 0; i < d->pk->n; i++) {
		long long gone = 0;

		if (sql_purge_drop(d->db, d->j->drop, d->pk->keys[i], d->j->age, &gone) != DB_OK)
			return ERR_DB_UNAVAILABLE;
		d->n += gone;
	}
	return ERR_OK;
}

static enum db_rc
purge_drop(struct db *db, const struct purge_job *j, const struct purge_pick *pk, long long *removed)
{
	struct drop d = {db, j, pk, 0};

	if (db_tx(db, "purge", purge_drop_tx, &d) != ERR_OK)
		return DB_UNAVAILABLE;
	*removed += d.n;
	return DB_OK;
}

/* Deletes the job's expired rows, a pick at a time, adding them to *removed. */
static enum db_rc
purge_job_run(struct db *db, const struct purge_job *j, struct purge_pick *pk, long long *removed)
{
	for (int picks = 0; picks < PURGE_PICKS_MAX && !purge_stop_asked(); picks++) {
		enum db_rc rc;

		if ((rc = sql_purge_pick(db, j->pick, j->age, pk->keys, PURGE_BATCH, &pk->n)) != DB_OK)
			return rc;
		if (pk->n > 0 && (rc = purge_drop(db, j, pk, removed)) != DB_OK)
			return rc;
		if (pk->n < PURGE_BATCH)
			break;
	}
	return DB_OK;
}

/* One round over every job (removed[] counts each); one log line when it removed anything. */
static void
purge_round(struct db *db, const struct purge_job *jobs, size_t njobs, long long *removed,
    struct purge_pick *pk)
{
	long long total = 0;
	char line[512] = "";
	size_t at = 0;
	double t0 = purge_now_ms();

	memset(removed, 0, njobs * sizeof(removed[0]));
	for (size_t i = 0; i < njobs; i++) {
		enum db_rc rc = purge_job_run(db, &jobs[i], pk, &removed[i]);

		total += removed[i];
		if (rc != DB_OK)	/* db.c said why; the next round tries again */
			break;
	}
	if (total == 0)
		return;
	/* Per table: the jobs of one table (sessions: idle, too old) are neighbours. */
	for (size_t i = 0; i < njobs && at < sizeof(line); i++) {
		long long n = removed[i];

		if (i > 0 && strcmp(jobs[i].table, jobs[i - 1].table) == 0)
			continue;
		for (size_t k = i + 1; k < njobs && strcmp(jobs[k].table, jobs[i].table) == 0; k++)
			n += removed[k];
		if (n > 0)
			at += (size_t)snprintf(line + at, sizeof(line) - at, " %s=%lld", jobs[i].table, n);
	}
	log_msg(LOG_INFO, "purge: removed%s in %.0f ms", line, purge_now_ms() - t0);
}

/* Says how the process runs, with the isolation its connection really has. */
static void
purge_hello(struct db *db, const struct config *cfg)
{
	char iso[48] = "";

	if (sql_isolation(db, iso, sizeof(iso)) != DB_OK)
		snprintf(iso, sizeof(iso), "unknown until the database answers");
	log_msg(LOG_INFO, "purge: every %d s, %d rows a pick, isolation %s", cfg->purge_interval,
	    PURGE_BATCH, iso);
}

void
purge_run(const struct config *cfg, pid_t supervisor)
{
	const struct purge_job jobs[] = {
		/* Users first: their enrolments and recovery codes go with them. */
		{"users", STMT_PURGE_PENDING_PICK, STMT_USER_PURGE_PENDING_ONE, cfg->enrol_ttl},
		{"enrolments", STMT_PURGE_ENROL_PICK, STMT_PURGE_ENROL_DROP, 0},
		{"mfa_tickets", STMT_PURGE_TICKET_PICK, STMT_PURGE_TICKET_DROP, 0},
		{"captchas", STMT_PURGE_CAPTCHA_PICK, STMT_PURGE_CAPTCHA_DROP, 0},
		{"sessions", STMT_PURGE_IDLE_PICK, STMT_PURGE_IDLE_DROP, cfg->session_idle},
		{"sessions", STMT_PURGE_OLD_PICK, STMT_PURGE_OLD_DROP, cfg->session_max},
		{"login_addr_failures", STMT_PURGE_ADDR_PICK, STMT_PURGE_ADDR_DROP, THROTTLE_RECENT},
	};
	const size_t njobs = sizeof(jobs) / sizeof(jobs[0]);
	long long removed[sizeof(jobs) / sizeof(jobs[0])];
	struct purge_pick pick;
	struct db db;
	sigset_t stop;
	int sig = 0;

	/* Die with the supervisor; if it is already gone, do not start. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != supervisor)
		_exit(1);
	/* Told apart from the workers in ps and pgrep (the name is 15 bytes at most). */
	if (prctl(PR_SET_NAME, "chatd-purge", 0, 0, 0) != 0)
		log_msg(LOG_WARN, "purge: cannot name the process: %s", strerror(errno));
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	db_init_read_committed(&db, cfg);
	purge_hello(&db, cfg);

	while (sig != SIGTERM && sig != SIGINT) {
		struct timespec wait = purge_wait(cfg->purge_interval);

		sig = sigtimedwait(&stop, NULL, &wait);
		if (sig < 0 && errno == EAGAIN)	/* the wait is over */
			purge_round(&db, jobs, njobs, removed, &pick);
		else if (sig < 0 && errno != EINTR) {
			log_msg(LOG_ERROR, "purge: sigtimedwait: %s", strerror(errno));
			db_close(&db);
			_exit(1);	/* the supervisor starts a fresh one */
		}
	}
	db_close(&db);
	log_msg(LOG_INFO, "purge: stopped");
	_exit(0);
}
