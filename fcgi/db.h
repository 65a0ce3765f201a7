/*
 * db: one MariaDB connection per worker thread, with its prepared statements.
 *
 * SQL lives in one enum-indexed table of `?` statements, prepared once per
 * connection; each statement has one small typed function here. A lost
 * connection (server restarted, network cut) is closed and reopened on the
 * next call, and an idempotent call is retried once on a fresh connection,
 * so chatd recovers by itself when MariaDB comes back. Calls that cannot
 * reach the database return DB_UNAVAILABLE, which handlers turn into 503.
 */
#ifndef CHATD_DB_H
#define CHATD_DB_H

#include <mysql.h>

struct config;

enum db_stmt {
	STMT_PING,
	STMT__MAX
};

struct db {
	const struct config *cfg;
	MYSQL *m;
	MYSQL_STMT *stmts[STMT__MAX];
};

enum db_rc {
	DB_OK = 0,
	DB_UNAVAILABLE = -1,	/* no connection could be made or it broke */
	DB_FAILED = -2,		/* the statement itself failed; logged */
};

/* Once per process, before threads start. 0 or -1. */
int db_library_init(void);
/* Once per thread: sets up the struct; connects lazily. */
void db_init(struct db *, const struct config *);
/* Closes the connection and the thread's client state. */
void db_close(struct db *);

/* Round trip `SELECT 1`: DB_OK or DB_UNAVAILABLE. */
enum db_rc db_ping(struct db *);

#endif
