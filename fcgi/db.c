/*
 * db: per-thread MariaDB connection and statement table (see db.h).
 */
#include <errmsg.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "log.h"

static const char *const sql[STMT__MAX] = {
	[STMT_PING] = "SELECT 1",
};

int
db_library_init(void)
{
	return mysql_library_init(0, NULL, NULL) == 0 ? 0 : -1;
}

void
db_init(struct db *db, const struct config *cfg)
{
	memset(db, 0, sizeof(*db));
	db->cfg = cfg;
	mysql_thread_init();
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
	const char *sock = c->db_socket[0] ? c->db_socket : NULL;
	const char *host = sock ? NULL : c->db_host;
	unsigned int port = sock ? 0 : (unsigned int)c->db_port;

	if ((db->m = mysql_init(NULL)) == NULL) {
		log_msg(LOG_ERROR, "db: mysql_init: out of memory");
		return -1;
	}
	if (mysql_optionsv(db->m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout) != 0 ||
	    mysql_optionsv(db->m, MYSQL_OPT_READ_TIMEOUT, &timeout) != 0 ||
	    mysql_optionsv(db->m, MYSQL_OPT_WRITE_TIMEOUT, &timeout) != 0 ||
	    mysql_optionsv(db->m, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0) {
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
		    mysql_stmt_prepare(db->stmts[i], sql[i], strlen(sql[i])) != 0) {
			log_msg(LOG_ERROR, "db: cannot prepare statement %d: %s", i,
			    db->stmts[i] ? mysql_stmt_error(db->stmts[i]) : "out of memory");
			goto fail;
		}
	}
	return 0;
fail:
	db_disconnect(db);
	return -1;
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

/* The statement, on a live connection, or NULL when none can be made. */
static MYSQL_STMT *
db_stmt(struct db *db, enum db_stmt s)
{
	if (db->m == NULL && db_connect(db) < 0)
		return NULL;
	return db->stmts[s];
}

/* Handles a failed call on st: DB_UNAVAILABLE (and reconnect next time) or DB_FAILED. */
static enum db_rc
db_fail(struct db *db, MYSQL_STMT *st, const char *what)
{
	unsigned int e = mysql_stmt_errno(st);

	if (db_lost(e)) {
		log_msg(LOG_WARN, "db: connection lost during %s: %s (%u)", what,
		    mysql_stmt_error(st), e);
		db_disconnect(db);
		return DB_UNAVAILABLE;
	}
	log_msg(LOG_ERROR, "db: %s failed: %s (%u)", what, mysql_stmt_error(st), e);
	return DB_FAILED;
}

static enum db_rc
db_ping_once(struct db *db)
{
	MYSQL_STMT *st = db_stmt(db, STMT_PING);
	MYSQL_BIND out;
	long long one = 0;
	enum db_rc rc = DB_OK;
	int f;

	if (st == NULL)
		return DB_UNAVAILABLE;
	memset(&out, 0, sizeof(out));
	out.buffer_type = MYSQL_TYPE_LONGLONG;
	out.buffer = &one;
	if (mysql_stmt_execute(st) != 0)
		return db_fail(db, st, "ping");
	if (mysql_stmt_bind_result(st, &out) != 0)
		return db_fail(db, st, "ping bind");
	f = mysql_stmt_fetch(st);
	if (f != 0 || one != 1)
		rc = f == 1 ? db_fail(db, st, "ping fetch") : DB_FAILED;
	if (db->m != NULL)
		mysql_stmt_free_result(st);
	return rc;
}

enum db_rc
db_ping(struct db *db)
{
	enum db_rc rc = db_ping_once(db);

	/* A connection that died since the last request: one fresh try. */
	if (rc == DB_UNAVAILABLE && db->m == NULL)
		rc = db_ping_once(db);
	return rc == DB_OK ? DB_OK : DB_UNAVAILABLE;
}
