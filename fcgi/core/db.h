/*
 * db: one MariaDB connection per worker thread (and one for the purge
 * process), with its prepared statements.
 *
 * SQL lives in one enum-indexed table of `?` statements (stmt.c), prepared once
 * per connection, each with a name the log uses; fcgi/store/sql_*.c has one
 * small typed function per statement, and nothing above the store binds
 * parameters itself.
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

/* Every statement, by name: the enum and the log's names come from this one list. */
#define DB_STMTS(X) \
	X(PING) \
	X(CAPTCHA_INSERT) \
	X(CAPTCHA_TAKE) \
	X(USER_PURGE_PENDING_NAME) \
	X(USER_PURGE_PENDING_ONE) \
	X(USER_INSERT) \
	X(USER_BY_NAME) \
	X(USER_BY_ID) \
	X(USER_ACTIVATE) \
	X(USER_SET_STEP) \
	X(USER_SET_PASSWORD) \
	X(USER_SET_TOTP) \
	X(ENROL_INSERT) \
	X(ENROL_GET) \
	X(ENROL_DELETE) \
	X(ENROL_DELETE_REBIND) \
	X(ENROL_DELETE_REGISTER) \
	X(RECOVERY_DELETE_USER) \
	X(RECOVERY_INSERT) \
	X(RECOVERY_USE) \
	X(RECOVERY_REMAINING) \
	X(THROTTLE_GET) \
	X(THROTTLE_ENSURE) \
	X(THROTTLE_LOCK) \
	X(THROTTLE_CHECKING) \
	X(THROTTLE_CHECKED) \
	X(THROTTLE_FAIL) \
	X(THROTTLE_SET_LOCK) \
	X(THROTTLE_RESET) \
	X(ADDR_FAIL) \
	X(ADDR_CLAIM) \
	X(ADDR_CLEAR) \
	X(ENROL_CAP) \
	X(TICKET_INSERT) \
	X(TICKET_LOCK) \
	X(TICKET_ATTEMPT) \
	X(TICKET_DELETE) \
	X(SESSION_INSERT) \
	X(SESSION_GET) \
	X(SESSION_TOUCH) \
	X(SESSION_SEEN) \
	X(SESSION_DELETE) \
	X(SESSION_DELETE_OTHERS) \
	X(SESSION_LIST) \
	X(AUDIT_INSERT) \
	X(USER_ACTIVE_BY_NAME) \
	X(USER_NAME_BY_ID) \
	X(USER_LOCK) \
	X(USER_UNSEEN) \
	X(PAIR_LOCK) \
	X(RELATION) \
	X(REQUEST_INSERT) \
	X(REQUEST_GET) \
	X(REQUEST_DELETE) \
	X(REQUEST_DELETE_PAIR) \
	X(REQUESTS_IN) \
	X(REQUESTS_OUT) \
	X(FRIEND_INSERT) \
	X(FRIEND_DELETE) \
	X(FRIEND_IDS) \
	X(FRIEND_LIST) \
	X(BLOCK_INSERT) \
	X(BLOCK_DELETE) \
	X(BLOCK_LIST) \
	X(KEY_INSERT) \
	X(KEY_CURRENT) \
	X(KEY_BY_ID) \
	X(KEY_HISTORY) \
	X(MESSAGE_CHECK) \
	X(MESSAGE_INSERT) \
	X(MESSAGES_NEWEST) \
	X(MESSAGES_OLDEST) \
	X(MARKER_SET) \
	X(MARKER_GET) \
	X(UNREAD) \
	X(RATE_TAKE) \
	X(RATE_WAIT) \
	X(ISOLATION) \
	X(PURGE_CAPTCHA_PICK) \
	X(PURGE_CAPTCHA_DROP) \
	X(PURGE_TICKET_PICK) \
	X(PURGE_TICKET_DROP) \
	X(PURGE_ENROL_PICK) \
	X(PURGE_ENROL_DROP) \
	X(PURGE_PENDING_PICK) \
	X(PURGE_IDLE_PICK) \
	X(PURGE_IDLE_DROP) \
	X(PURGE_OLD_PICK) \
	X(PURGE_OLD_DROP) \
	X(PURGE_ADDR_PICK) \
	X(PURGE_ADDR_DROP)

#define DB_STMT_ENUM(name) STMT_##name,
enum db_stmt {
	DB_STMTS(DB_STMT_ENUM)
	STMT__MAX
};
#undef DB_STMT_ENUM

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

/*
 * Runs fn, a unit of exactly one statement in autocommit (its own
 * transaction, one commit, no BEGIN/COMMIT round trips), by the same retry
 * rules as db_tx: again on 1205/1213, never after the connection was lost
 * while the statement ran.
 */
enum err db_auto(struct db *, const char *what, db_tx_fn fn, void *ctx);

/* Ends a transaction a handler left open (the worker calls it after each request). */
void db_rollback(struct db *);

/* Seconds a statement waits for a row lock: under half the read timeout, so
 * a second wait still fits before the connection would be cut. */
unsigned int db_lock_wait(const struct config *);

/* The statement's name ("message_insert"), for logs. */
const char *db_stmt_name(enum db_stmt);

/* 1 when the last failure was contention (1205, 1213): worth another try. */
int db_contended(const struct db *);

#define DB_ER_DUP_ENTRY 1062
#define DB_ER_LOCK_WAIT 1205	/* a row lock was not granted within innodb_lock_wait_timeout */
#define DB_ER_SEND_RATE 45001	/* the messages trigger's refusal: over the send limit (an answer) */
#define DB_ER_DEADLOCK 1213	/* chosen as a deadlock's victim: the transaction was rolled back */

#endif
