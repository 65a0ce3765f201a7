/*
 * db: one MariaDB connection per worker thread (and one for the purge
 * process), with its prepared statements.
 *
 * SQL lives in one enum-indexed table of `?` statements (db.c), prepared once
 * per connection, each with a name the log uses.
 *
 * The failure rules, all here:
 * - A wait for a row lock ends (1205) after db_lock_wait(), under half the
 *   read timeout, so a busy row is an answer on a connection that stays, never
 *   a cut connection that takes every prepared statement with it.
 * - A lock wait or a deadlock (1213) is contention: db_tx() runs the whole
 *   transaction again, up to DB_TX_TRIES times while a try can still end
 *   within CHATD_DB_TIMEOUT; after that the caller answers 503 with
 *   Retry-After. A single statement outside db_tx() is its own transaction
 *   and is not retried (its caller answers 503).
 * - A lost connection is closed and reopened by the next call. A statement
 *   is sent again only when it never reached the server; a transaction is
 *   run again only when the connection died before its COMMIT was sent (the
 *   server rolled it back). A write that may have run is never sent twice.
 * - Every multi-statement write goes through db_tx().
 * Calls that cannot reach the database return DB_UNAVAILABLE, which handlers
 * turn into 503. Every connection runs in UTC.
 */
#ifndef CHATD_DB_H
#define CHATD_DB_H

#include <mysql.h>
#include <stddef.h>

#include "err.h"

struct config;

enum db_stmt {
	STMT_PING,
	STMT_CAPTCHA_INSERT,
	STMT_CAPTCHA_TAKE,
	STMT_USER_PURGE_PENDING_NAME,
	STMT_USER_PURGE_PENDING_ONE,
	STMT_USER_INSERT,
	STMT_USER_BY_NAME,
	STMT_USER_BY_ID,
	STMT_USER_ACTIVATE,
	STMT_USER_SET_STEP,
	STMT_USER_SET_PASSWORD,
	STMT_USER_SET_TOTP,
	STMT_ENROL_INSERT,
	STMT_ENROL_GET,
	STMT_ENROL_DELETE,
	STMT_ENROL_DELETE_REBIND,
	STMT_ENROL_DELETE_REGISTER,
	STMT_RECOVERY_DELETE_USER,
	STMT_RECOVERY_INSERT,
	STMT_RECOVERY_USE,
	STMT_RECOVERY_REMAINING,
	STMT_THROTTLE_GET,
	STMT_THROTTLE_ENSURE,
	STMT_THROTTLE_LOCK,
	STMT_THROTTLE_CHECKING,
	STMT_THROTTLE_CHECKED,
	STMT_THROTTLE_FAIL,
	STMT_THROTTLE_SET_LOCK,
	STMT_THROTTLE_RESET,
	STMT_ADDR_FAIL,
	STMT_ADDR_CLAIM,
	STMT_ADDR_CLEAR,
	STMT_ENROL_CAP,
	STMT_TICKET_INSERT,
	STMT_TICKET_LOCK,
	STMT_TICKET_ATTEMPT,
	STMT_TICKET_DELETE,
	STMT_SESSION_INSERT,
	STMT_SESSION_GET,
	STMT_SESSION_TOUCH,
	STMT_SESSION_DELETE,
	STMT_SESSION_DELETE_OTHERS,
	STMT_SESSION_LIST,
	STMT_AUDIT_INSERT,
	STMT_USER_ACTIVE_BY_NAME,
	STMT_USER_NAME_BY_ID,
	STMT_USER_LOCK,
	STMT_USER_SEEN,
	STMT_USER_UNSEEN,
	STMT_PAIR_LOCK,
	STMT_PAIR_SHARE,
	STMT_RELATION,
	STMT_REQUEST_INSERT,
	STMT_REQUEST_GET,
	STMT_REQUEST_DELETE,
	STMT_REQUEST_DELETE_PAIR,
	STMT_REQUESTS_IN,
	STMT_REQUESTS_OUT,
	STMT_FRIEND_INSERT,
	STMT_FRIEND_DELETE,
	STMT_FRIEND_IDS,
	STMT_FRIEND_LIST,
	STMT_BLOCK_INSERT,
	STMT_BLOCK_DELETE,
	STMT_BLOCK_LIST,
	STMT_KEY_INSERT,
	STMT_KEY_CURRENT,
	STMT_KEY_BY_ID,
	STMT_KEY_HISTORY,
	STMT_MESSAGE_CHECK,
	STMT_MESSAGE_INSERT,
	STMT_MESSAGE_TIME,
	STMT_MESSAGES_NEWEST,
	STMT_MESSAGES_OLDEST,
	STMT_MARKERS,
	STMT_MARKER_SET,
	STMT_MARKER_GET,
	STMT_UNREAD,
	STMT_RATE_TAKE,
	STMT_RATE_WAIT,
	STMT_ISOLATION,
	STMT_PURGE_CAPTCHA_PICK,
	STMT_PURGE_CAPTCHA_DROP,
	STMT_PURGE_TICKET_PICK,
	STMT_PURGE_TICKET_DROP,
	STMT_PURGE_ENROL_PICK,
	STMT_PURGE_ENROL_DROP,
	STMT_PURGE_PENDING_PICK,
	STMT_PURGE_IDLE_PICK,
	STMT_PURGE_IDLE_DROP,
	STMT_PURGE_OLD_PICK,
	STMT_PURGE_OLD_DROP,
	STMT_PURGE_ADDR_PICK,
	STMT_PURGE_ADDR_DROP,
	STMT__MAX
};

struct db {
	const struct config *cfg;
	MYSQL *m;
	MYSQL_STMT *stmts[STMT__MAX];
	int in_tx;		/* inside db_begin(): no silent retry on a new connection */
	unsigned int last_err;	/* MariaDB error of the last failed call, 0 after a success */
	int commit_sent;	/* the last COMMIT reached the wire: its outcome is unknown if it failed */
	int read_committed;	/* db_init_read_committed(): every connection at READ COMMITTED */
};

enum db_rc {
	DB_OK = 0,
	DB_UNAVAILABLE = -1,	/* no connection, it broke, or a row lock or deadlock gave way: try again */
	DB_FAILED = -2,		/* the statement itself failed (see db_result.err) */
};

/* A statement parameter. */
struct db_param {
	enum { DBP_INT, DBP_STR, DBP_BLOB, DBP_NULL } type;
	long long i;
	const void *p;
	size_t n;
};
#define DB_INT(v) ((struct db_param){.type = DBP_INT, .i = (v)})
#define DB_STR(s) ((struct db_param){.type = DBP_STR, .p = (s), .n = strlen(s)})
#define DB_BLOB(b, len) ((struct db_param){.type = DBP_BLOB, .p = (b), .n = (len)})
#define DB_NULL ((struct db_param){.type = DBP_NULL})

/* A result column: where its value of the current row goes. */
struct db_col {
	enum { DBC_INT, DBC_STR, DBC_BLOB } type;
	long long *i;
	char *s;		/* DBC_STR: NUL-terminated into s[cap] */
	unsigned char *b;	/* DBC_BLOB: into b[cap], length in *len */
	size_t cap;
	size_t *len;
	int null;		/* set per row */
};
#define DB_COL_INT(p) ((struct db_col){.type = DBC_INT, .i = (p)})
#define DB_COL_STR(buf) ((struct db_col){.type = DBC_STR, .s = (buf), .cap = sizeof(buf)})
#define DB_COL_BLOB(buf, lenp) ((struct db_col){.type = DBC_BLOB, .b = (buf), .cap = sizeof(buf), .len = (lenp)})

struct db_result {
	long long rows;		/* rows fetched */
	long long affected;	/* rows changed by a write */
	long long insert_id;
	unsigned int err;	/* MariaDB error number when DB_FAILED */
};

/* Called for each row with the columns filled; non-zero stops fetching. */
typedef int (*db_row_fn)(void *ctx);

/* Once per process, before threads start. 0 or -1. */
int db_library_init(void);
/* Once per thread: sets up the struct; connects lazily. */
void db_init(struct db *, const struct config *);
/*
 * The same, for a connection whose transactions run at READ COMMITTED (set
 * at each connect): a write takes no gap locks, so it holds only the rows it
 * changes. For the purge, which must never wait for a row a request holds.
 */
void db_init_read_committed(struct db *, const struct config *);
/* Closes the connection and the thread's client state. */
void db_close(struct db *);

/*
 * Runs statement s with params; result columns go to cols for each row
 * (with fn NULL only the first row is kept). res may be NULL.
 */
enum db_rc db_run(struct db *, enum db_stmt s, const struct db_param *params, size_t nparams,
    struct db_col *cols, size_t ncols, db_row_fn fn, void *ctx, struct db_result *res);

/*
 * A unit of work for db_tx(): runs its statements and returns ERR_OK to
 * commit or an error to roll back (ERR_DB_UNAVAILABLE when a statement
 * failed). It may run more than once, so it touches nothing but the database
 * and its ctx: no answer, no event, no log of an outcome; those come after
 * db_tx() returns.
 */
typedef enum err (*db_tx_fn)(void *ctx);

#define DB_TX_TRIES 3

/*
 * Runs fn in a transaction (rows read FOR UPDATE stay locked until it ends)
 * by the rules above. Returns fn's error, or ERR_DB_UNAVAILABLE (503 with
 * Retry-After) when the database is out of reach, or busy after the tries.
 */
enum err db_tx(struct db *, const char *what, db_tx_fn fn, void *ctx);

/* Ends a transaction a handler left open (the worker calls it after each request). */
void db_rollback(struct db *);

/* Seconds a statement waits for a row lock: under half the read timeout, so
 * a second wait still fits before the connection would be cut. */
unsigned int db_lock_wait(const struct config *);

/* The statement's name ("message_insert"), for logs. */
const char *db_stmt_name(enum db_stmt);

/* 1 when the last failure was contention (1205, 1213): worth another try. */
int db_contended(const struct db *);

/* Round trip `SELECT 1`: DB_OK or DB_UNAVAILABLE. */
enum db_rc db_ping(struct db *);

#define DB_ER_DUP_ENTRY 1062
#define DB_ER_LOCK_WAIT 1205	/* a row lock was not granted within innodb_lock_wait_timeout */
#define DB_ER_DEADLOCK 1213	/* chosen as a deadlock's victim: the transaction was rolled back */

#endif
