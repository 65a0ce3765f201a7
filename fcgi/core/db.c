/*
 * db: per-thread MariaDB connection, db_run(), db_tx() and the failure rules
 * (see db.h); the statements themselves are in stmt.c.
 */
#include <errmsg.h>
#include <errno.h>
#include <openssl/rand.h>
#include <time.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "stmt.h"
#include "log.h"

#define DB_MAX_BIND 24

int
db_library_init(void)
{
	db_stmt_names_init();
	return mysql_library_init(0, NULL, NULL) == 0 ? 0 : -1;
}

void
db_init(struct db *db, const struct config *cfg)
{
	memset(db, 0, sizeof(*db));
	db->cfg = cfg;
	mysql_thread_init();
}

void
db_init_read_committed(struct db *db, const struct config *cfg)
{
	db_init(db, cfg);
	db->read_committed = 1;
}

static void
db_disconnect(struct db *db)
{
	for (int i = 0; i < STMT__MAX; i++)
		if (db->stmts[i] != NULL) {
			mysql_stmt_close(db->stmts[i]);
			db->stmts[i] = NULL;
		}
	if (db->m != NULL) {
		mysql_close(db->m);
		db->m = NULL;
	}
}

void
db_close(struct db *db)
{
	db_disconnect(db);
	mysql_thread_end();
}

static int
db_connect(struct db *db)
{
	const struct config *c = db->cfg;
	unsigned int timeout = (unsigned int)c->db_timeout;
	char init[240];
	const char *sock = c->db_socket[0] ? c->db_socket : NULL;
	const char *host = sock ? NULL : c->db_host;
	unsigned int port = sock ? 0 : (unsigned int)c->db_port;

	if ((db->m = mysql_init(NULL)) == NULL) {
		log_msg(LOG_ERROR, "db: mysql_init: out of memory");
		return -1;
	}
	/* A statement waiting for a row lock gives up (1205) well before the read
	 * timeout would cut the connection and every statement prepared on it. */
	/* REPEATABLE READ whatever the server's default: a send's INSERT ...
	 * SELECT takes its lock order from the shared locks it reads with, which
	 * READ COMMITTED would not take (the purge sets READ COMMITTED after).
	 * The send limit is the messages table's trigger's (0008), read from the
	 * connection: it runs on every connection made here (no automatic
	 * reconnect, no connection reset, which would drop it). */
	snprintf(init, sizeof(init), "SET time_zone = '+00:00', innodb_lock_wait_timeout = %u, "
	    "SESSION tx_isolation = 'REPEATABLE-READ', "
	    "@chatd_send_interval_us = %lld, @chatd_send_tolerance_us = %lld",
	    db_lock_wait(c), config_step_us(c->send_rate), config_step_us(c->send_rate) * c->send_burst);
	if (mysql_optionsv(db->m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout) != 0 ||
	    mysql_optionsv(db->m, MYSQL_OPT_READ_TIMEOUT, &timeout) != 0 ||
	    mysql_optionsv(db->m, MYSQL_OPT_WRITE_TIMEOUT, &timeout) != 0 ||
	    mysql_optionsv(db->m, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0 ||
	    mysql_optionsv(db->m, MYSQL_INIT_COMMAND, init) != 0 ||
	    (db->read_committed && mysql_optionsv(db->m, MYSQL_INIT_COMMAND,
	    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED") != 0)) {
		log_msg(LOG_ERROR, "db: cannot set connection options");
		goto fail;
	}
	if (mysql_real_connect(db->m, host, c->db_user, c->db_password, c->db_name,
	    port, sock, CLIENT_REMEMBER_OPTIONS) == NULL) {
		log_msg(LOG_WARN, "db: cannot connect: %s (%u)", mysql_error(db->m),
		    mysql_errno(db->m));
		goto fail;
	}
	for (int i = 0; i < STMT__MAX; i++) {
		db->stmts[i] = mysql_stmt_init(db->m);
		if (db->stmts[i] == NULL ||
		    mysql_stmt_prepare(db->stmts[i], db_stmt_sql(i), strlen(db_stmt_sql(i))) != 0) {
			log_msg(LOG_ERROR, "db: cannot prepare statement %s: %s", db_stmt_name(i),
			    db->stmts[i] ? mysql_stmt_error(db->stmts[i]) : "out of memory");
			goto fail;
		}
	}
	return 0;
fail:
	db_disconnect(db);
	return -1;
}

unsigned int
db_lock_wait(const struct config *c)
{
	unsigned int t = (unsigned int)c->db_timeout;

	return t >= 3 ? (t - 1) / 2 : 1;
}

/* 1 when errno says the connection itself is gone, not the statement. */
static int
db_lost(unsigned int e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	    e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR ||
	    e == CR_SERVER_LOST_EXTENDED || e == 1927 /* ER_CONNECTION_KILLED */ ||
	    e == 1053 /* ER_SERVER_SHUTDOWN */;
}

/* Handles a failed call on st: DB_UNAVAILABLE (a lost connection: reconnect next
 * time; or contention: try again) or DB_FAILED. */
static enum db_rc
db_fail(struct db *db, MYSQL_STMT *st, enum db_stmt s, struct db_result *res)
{
	unsigned int e = mysql_stmt_errno(st);
	const char *why = mysql_stmt_error(st);

	/* An error packet read while fetching may be kept on the connection. */
	if (e == 0 && db->m != NULL) {
		e = mysql_errno(db->m);
		why = mysql_error(db->m);
	}
	res->err = e;
	db->last_err = e;
	if (db_lost(e)) {
		log_msg(LOG_WARN, "db: connection lost during statement %s: %s (%u)", db_stmt_name(s),
		    why, e);
		db_disconnect(db);
		/* A transaction died with its connection: in_tx stays set, so no
		 * later statement of it runs on a new connection in autocommit. */
		return DB_UNAVAILABLE;
	}
	/* A lock wait or a deadlock is contention, not a broken statement: the
	 * service is busy (503 with Retry-After), on a connection that stays. */
	if (e == DB_ER_LOCK_WAIT || e == DB_ER_DEADLOCK)
		log_msg(LOG_WARN, "db: statement %s gave way: %s (%u)", db_stmt_name(s), why, e);
	/* A duplicate key is an answer ("name taken"), not a fault. */
	else if (e != DB_ER_DUP_ENTRY && e != DB_ER_SEND_RATE)
		log_msg(LOG_ERROR, "db: statement %s failed: %s (%u)", db_stmt_name(s), why, e);
	mysql_stmt_reset(st);
	return e == DB_ER_LOCK_WAIT || e == DB_ER_DEADLOCK ? DB_UNAVAILABLE : DB_FAILED;
}

static enum db_rc
db_run_once(struct db *db, enum db_stmt s, const struct db_param *params, size_t np,
    struct db_col *cols, size_t nc, db_row_fn fn, void *ctx, struct db_result *res)
{
	MYSQL_BIND in[DB_MAX_BIND], out[DB_MAX_BIND];
	unsigned long lens[DB_MAX_BIND];
	my_bool nulls[DB_MAX_BIND], errs[DB_MAX_BIND];
	MYSQL_STMT *st;
	enum db_rc rc = DB_OK;
	int f;

	if (np > DB_MAX_BIND || nc > DB_MAX_BIND)
		return DB_FAILED;
	if (db->m == NULL && db_connect(db) < 0)
		return DB_UNAVAILABLE;
	st = db->stmts[s];

	memset(in, 0, sizeof(in));
	for (size_t k = 0; k < np; k++) {
		switch (params[k].type) {
		case DBP_INT:
			in[k].buffer_type = MYSQL_TYPE_LONGLONG;
			in[k].buffer = (void *)&params[k].i;
			break;
		case DBP_STR:
		case DBP_BLOB:
			in[k].buffer_type = params[k].type == DBP_STR ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
			in[k].buffer = (void *)params[k].p;
			in[k].buffer_length = params[k].n;
			break;
		case DBP_NULL:
			in[k].buffer_type = MYSQL_TYPE_NULL;
			break;
		}
	}
	if (np > 0 && mysql_stmt_bind_param(st, in) != 0)
		return db_fail(db, st, s, res);
	if (mysql_stmt_execute(st) != 0)
		return db_fail(db, st, s, res);
	res->affected = (long long)mysql_stmt_affected_rows(st);
	res->insert_id = (long long)mysql_stmt_insert_id(st);
	if (mysql_stmt_field_count(st) == 0)
		return DB_OK;

	memset(out, 0, sizeof(out));
	for (size_t k = 0; k < nc; k++) {
		out[k].length = &lens[k];
		out[k].is_null = &nulls[k];
		out[k].error = &errs[k];
		switch (cols[k].type) {
		case DBC_INT:
			out[k].buffer_type = MYSQL_TYPE_LONGLONG;
			out[k].buffer = cols[k].i;
			break;
		case DBC_STR:
			out[k].buffer_type = MYSQL_TYPE_STRING;
			out[k].buffer = cols[k].s;
			out[k].buffer_length = cols[k].cap - 1;	/* room for our NUL */
			break;
		case DBC_BLOB:
			out[k].buffer_type = MYSQL_TYPE_BLOB;
			out[k].buffer = cols[k].b;
			out[k].buffer_length = cols[k].cap;
			break;
		}
	}
	if (mysql_stmt_bind_result(st, out) != 0)
		return db_fail(db, st, s, res);
	while ((f = mysql_stmt_fetch(st)) == 0 || f == MYSQL_DATA_TRUNCATED) {
		if (f == MYSQL_DATA_TRUNCATED) {
			log_msg(LOG_ERROR, "db: statement %s: a column is larger than its buffer", db_stmt_name(s));
			rc = DB_FAILED;
			break;
		}
		for (size_t k = 0; k < nc; k++) {
			cols[k].null = nulls[k];
			if (cols[k].type == DBC_STR)
				cols[k].s[nulls[k] ? 0 : lens[k]] = '\0';
			else if (cols[k].type == DBC_BLOB)
				*cols[k].len = nulls[k] ? 0 : lens[k];
			else if (nulls[k])
				*cols[k].i = 0;
		}
		res->rows++;
		if (fn == NULL || fn(ctx) != 0)
			break;
	}
	/* Stopped before the end: the rest is read into scratch (the kept row
	 * stays as it is), so an error that follows the rows is seen, not
	 * discarded by mysql_stmt_free_result: a locking read that got its first
	 * row and then gave way (1205) or was chosen as a deadlock's victim
	 * (1213, the whole transaction undone) on its second. */
	if (f == 0 || f == MYSQL_DATA_TRUNCATED) {
		MYSQL_BIND sb[DB_MAX_BIND];
		char scratch[DB_MAX_BIND][8];
		unsigned long slen[DB_MAX_BIND];
		unsigned int fc = mysql_stmt_field_count(st);

		memset(sb, 0, sizeof(sb));
		for (unsigned int k = 0; k < fc && k < DB_MAX_BIND; k++) {
			sb[k].buffer_type = MYSQL_TYPE_STRING;
			sb[k].buffer = scratch[k];
			sb[k].buffer_length = sizeof(scratch[k]);
			sb[k].length = &slen[k];
		}
		if (mysql_stmt_bind_result(st, sb) != 0)
			return db_fail(db, st, s, res);
		while ((f = mysql_stmt_fetch(st)) == 0 || f == MYSQL_DATA_TRUNCATED)
			;
	}
	if (f == 1)
		return db_fail(db, st, s, res);
	/* Every row has been read: nothing is left on the server to reset (no
	 * cursor, no long data), so no COM_STMT_RESET round trip. */
	mysql_stmt_free_result(st);
	return rc;
}

enum db_rc
db_run(struct db *db, enum db_stmt s, const struct db_param *params, size_t np,
    struct db_col *cols, size_t nc, db_row_fn fn, void *ctx, struct db_result *res)
{
	struct db_result scratch;
	enum db_rc rc;

	if (res == NULL)
		res = &scratch;
	memset(res, 0, sizeof(*res));
	/* The rest of a transaction whose connection died fails too, until
	 * db_tx (or db_rollback) ends it. */
	if (db->in_tx && db->m == NULL)
		return DB_UNAVAILABLE;
	db->last_err = 0;
	rc = db_run_once(db, s, params, np, cols, nc, fn, ctx, res);
	/* A connection that died since the last request: one fresh try, only
	 * when the statement never reached the server ("gone away" on sending,
	 * or no connection at all), and never inside a transaction, which died
	 * with it. A connection lost while the statement ran (2013) may have
	 * run it: a write is never sent twice. */
	if (rc == DB_UNAVAILABLE && db->m == NULL && !db->in_tx &&
	    (res->err == 0 || res->err == CR_SERVER_GONE_ERROR)) {
		memset(res, 0, sizeof(*res));
		rc = db_run_once(db, s, params, np, cols, nc, fn, ctx, res);
	}
	return rc;
}

static enum db_rc
db_query(struct db *db, const char *q)
{
	if (mysql_real_query(db->m, q, strlen(q)) == 0) {
		db->last_err = 0;
		return DB_OK;
	}
	db->last_err = mysql_errno(db->m);
	log_msg(LOG_WARN, "db: %s: %s (%u)", q, mysql_error(db->m), db->last_err);
	if (db_lost(db->last_err))
		db_disconnect(db);	/* in_tx stays: see db_fail */
	return DB_UNAVAILABLE;
}

/* Seconds on the monotonic clock. */
static double
db_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A few random milliseconds, more with each try, so two transactions that
 * deadlocked do not meet again in step. */
static void
db_backoff(int tries)
{
	unsigned char b = 0;
	struct timespec t = {0, 0};

	if (RAND_bytes(&b, 1) != 1)
		b = 128;
	t.tv_nsec = (long)(tries * 5 + b % 20) * 1000000L;
	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

static enum db_rc
db_begin(struct db *db)
{
	if (db->m == NULL && db_connect(db) < 0)
		return DB_UNAVAILABLE;
	if (db_query(db, "START TRANSACTION") != DB_OK &&
	    (db->m != NULL || db_connect(db) < 0 || db_query(db, "START TRANSACTION") != DB_OK))
		return DB_UNAVAILABLE;
	db->in_tx = 1;
	return DB_OK;
}

static enum db_rc
db_commit(struct db *db)
{
	enum db_rc rc = DB_UNAVAILABLE;

	db->commit_sent = 0;
	if (db->in_tx && db->m != NULL) {
		db->commit_sent = 1;
		rc = db_query(db, "COMMIT");
	}
	db->in_tx = 0;
	return rc;
}

void
db_rollback(struct db *db)
{
	if (db->in_tx && db->m != NULL)
		(void)db_query(db, "ROLLBACK");
	db->in_tx = 0;
}

int
db_contended(const struct db *db)
{
	return db->last_err == DB_ER_LOCK_WAIT || db->last_err == DB_ER_DEADLOCK;
}

/* Whether a failed try of a transaction may run again from the start. */
static int
db_tx_again(const struct db *db, int tries, double started)
{
	double left = (double)db->cfg->db_timeout - (db_now() - started);

	if (tries >= DB_TX_TRIES)
		return 0;
	/* Contention: while another lock wait still fits in the budget. */
	if (db_contended(db))
		return left > (double)db_lock_wait(db->cfg);
	/* The connection died before COMMIT went out: the server undid it all;
	 * once more on a new connection, within the same budget. */
	return db_lost(db->last_err) && !db->commit_sent && left > 0;
}

/* One unit of work by the retry rules: in a transaction (tx) or, for a unit
 * of one statement, in autocommit, where that statement is its own commit:
 * lost on the way, its outcome is unknown (db_run re-sends one that never
 * left). */
static enum err
db_unit(struct db *db, const char *what, db_tx_fn fn, void *ctx, int tx)
{
	double started = db_now();
	enum err e;

	for (int tries = 1;; tries++) {
		db->commit_sent = !tx;
		if (tx && db_begin(db) != DB_OK)
			return ERR_DB_UNAVAILABLE;
		if ((e = fn(ctx)) == ERR_OK) {
			if (!tx || db_commit(db) == DB_OK)
				return ERR_OK;
			e = ERR_DB_UNAVAILABLE;
		} else if (tx) {
			unsigned int why = db->last_err;

			db_rollback(db);
			db->last_err = why;
		}
		if (e != ERR_DB_UNAVAILABLE || !db_tx_again(db, tries, started))
			return e;
		log_msg(LOG_WARN, "db: %s %s gave way (%u), try %d of %d", tx ? "transaction" : "statement",
		    what, db->last_err, tries + 1, DB_TX_TRIES);
		db_backoff(tries);
	}
}

enum err
db_tx(struct db *db, const char *what, db_tx_fn fn, void *ctx)
{
	return db_unit(db, what, fn, ctx, 1);
}

enum err
db_auto(struct db *db, const char *what, db_tx_fn fn, void *ctx)
{
	return db_unit(db, what, fn, ctx, 0);
}
