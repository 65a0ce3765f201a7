/*
 * sql_accounts: the account statements, one typed function each (see
 * sql_accounts.h). Each binds in the order of its statement's `?`s in db.c.
 */
#include <string.h>

#include "dbjson.h"
#include "sql_accounts.h"

/* A write; *affected (if asked) is the rows it changed. */
static enum db_rc
sql_write(struct db *db, enum db_stmt s, const struct db_param *p, size_t np, long long *affected)
{
	struct db_result res;
	enum db_rc rc = db_run(db, s, p, np, NULL, 0, NULL, NULL, &res);

	if (affected != NULL)
		*affected = rc == DB_OK ? res.affected : 0;
	return rc;
}

/* A read of one row into c; *found says whether there was one. */
static enum db_rc
sql_row(struct db *db, enum db_stmt s, const struct db_param *p, size_t np, struct db_col *c,
    size_t nc, int *found)
{
	struct db_result res;
	enum db_rc rc = db_run(db, s, p, np, c, nc, NULL, NULL, &res);

	*found = rc == DB_OK && res.rows == 1;
	return rc;
}

enum db_rc
sql_ping(struct db *db)
{
	long long one = 0;
	struct db_col c = DB_COL_INT(&one);
	enum db_rc rc = db_run(db, STMT_PING, NULL, 0, &c, 1, NULL, NULL, NULL);

	return rc == DB_OK && one == 1 ? DB_OK : DB_UNAVAILABLE;
}

/* users */

enum db_rc
sql_user_insert(struct db *db, const char *username, const char *password_hash, long long *id,
    int *taken)
{
	/* The secret is sealed to the id this gives, so it comes after (sql_user_set_totp). */
	struct db_param p[3] = {DB_STR(username), DB_STR(password_hash), DB_BLOB("", 0)};
	struct db_result res;
	enum db_rc rc = db_run(db, STMT_USER_INSERT, p, 3, NULL, 0, NULL, NULL, &res);

	*id = rc == DB_OK ? res.insert_id : 0;
	*taken = rc == DB_FAILED && res.err == DB_ER_DUP_ENTRY;
	return rc;
}

static enum db_rc
sql_user_load(struct db *db, enum db_stmt s, struct db_param key, struct sql_user *u, int *found)
{
	struct db_col c[6] = {
		DB_COL_INT(&u->id), DB_COL_STR(u->username), DB_COL_STR(u->password_hash),
		DB_COL_BLOB(u->totp_sealed, &u->totp_sealed_len), DB_COL_INT(&u->totp_last_step),
		DB_COL_INT(&u->active),
	};

	memset(u, 0, sizeof(*u));
	return sql_row(db, s, &key, 1, c, 6, found);
}

enum db_rc
sql_user_by_name(struct db *db, const char *username, struct sql_user *u, int *found)
{
	return sql_user_load(db, STMT_USER_BY_NAME, DB_STR(username), u, found);
}

enum db_rc
sql_user_by_id(struct db *db, long long id, struct sql_user *u, int *found)
{
	return sql_user_load(db, STMT_USER_BY_ID, DB_INT(id), u, found);
}

enum db_rc
sql_user_activate(struct db *db, long long id, long long step, long long *affected)
{
	struct db_param p[2] = {DB_INT(step), DB_INT(id)};

	return sql_write(db, STMT_USER_ACTIVATE, p, 2, affected);
}

enum db_rc
sql_user_set_step(struct db *db, long long id, long long step, long long *affected)
{
	struct db_param p[3] = {DB_INT(step), DB_INT(id), DB_INT(step)};

	return sql_write(db, STMT_USER_SET_STEP, p, 3, affected);
}

enum db_rc
sql_user_set_password(struct db *db, long long id, const char *password_hash)
{
	struct db_param p[2] = {DB_STR(password_hash), DB_INT(id)};

	return sql_write(db, STMT_USER_SET_PASSWORD, p, 2, NULL);
}

enum db_rc
sql_user_set_totp(struct db *db, long long id, const unsigned char *sealed, size_t sealed_len,
    long long step)
{
	struct db_param p[3] = {DB_BLOB(sealed, sealed_len), DB_INT(step), DB_INT(id)};

	return sql_write(db, STMT_USER_SET_TOTP, p, 3, NULL);
}

enum db_rc
sql_user_lock(struct db *db, long long id, int *found)
{
	long long got = 0;
	struct db_param p = DB_INT(id);
	struct db_col c = DB_COL_INT(&got);

	return sql_row(db, STMT_USER_LOCK, &p, 1, &c, 1, found);
}

enum db_rc
sql_user_purge_pending_name(struct db *db, const char *username, long long age)
{
	struct db_param p[2] = {DB_STR(username), DB_INT(age)};

	return sql_write(db, STMT_USER_PURGE_PENDING_NAME, p, 2, NULL);
}

enum db_rc
sql_user_purge_pending_one(struct db *db, long long id, long long age, long long *affected)
{
	struct db_param p[2] = {DB_INT(id), DB_INT(age)};

	return sql_write(db, STMT_USER_PURGE_PENDING_ONE, p, 2, affected);
}

/* enrolments */

enum db_rc
sql_enrol_insert(struct db *db, const unsigned char hash[SQL_HASH_LEN], long long user_id,
    const char *purpose, const unsigned char *sealed, size_t sealed_len, long long ttl)
{
	struct db_param p[5] = {DB_BLOB(hash, SQL_HASH_LEN), DB_INT(user_id), DB_STR(purpose),
	    DB_BLOB(sealed, sealed_len), DB_INT(ttl)};

	return sql_write(db, STMT_ENROL_INSERT, p, 5, NULL);
}

enum db_rc
sql_enrol_get(struct db *db, const unsigned char hash[SQL_HASH_LEN], struct sql_enrolment *e,
    int *found)
{
	struct db_param p = DB_BLOB(hash, SQL_HASH_LEN);
	struct db_col c[4] = {
		DB_COL_INT(&e->user_id), DB_COL_STR(e->purpose),
		DB_COL_BLOB(e->totp_sealed, &e->totp_sealed_len), DB_COL_STR(e->username),
	};

	memset(e, 0, sizeof(*e));
	return sql_row(db, STMT_ENROL_GET, &p, 1, c, 4, found);
}

enum db_rc
sql_enrol_delete(struct db *db, const unsigned char hash[SQL_HASH_LEN], long long *affected)
{
	struct db_param p = DB_BLOB(hash, SQL_HASH_LEN);

	return sql_write(db, STMT_ENROL_DELETE, &p, 1, affected);
}

enum db_rc
sql_enrol_delete_rebind(struct db *db, long long user_id)
{
	struct db_param p = DB_INT(user_id);

	return sql_write(db, STMT_ENROL_DELETE_REBIND, &p, 1, NULL);
}

enum db_rc
sql_enrol_delete_register(struct db *db, long long user_id)
{
	struct db_param p = DB_INT(user_id);

	return sql_write(db, STMT_ENROL_DELETE_REGISTER, &p, 1, NULL);
}

enum db_rc
sql_enrol_cap(struct db *db, long long user_id, long long ttl)
{
	struct db_param p[2] = {DB_INT(ttl), DB_INT(user_id)};

	return sql_write(db, STMT_ENROL_CAP, p, 2, NULL);
}

/* recovery_codes */

enum db_rc
sql_recovery_delete_user(struct db *db, long long user_id)
{
	struct db_param p = DB_INT(user_id);

	return sql_write(db, STMT_RECOVERY_DELETE_USER, &p, 1, NULL);
}

enum db_rc
sql_recovery_insert(struct db *db, long long user_id, const char *code_hash)
{
	struct db_param p[2] = {DB_INT(user_id), DB_STR(code_hash)};

	return sql_write(db, STMT_RECOVERY_INSERT, p, 2, NULL);
}

enum db_rc
sql_recovery_use(struct db *db, long long user_id, const char *code_hash, long long *affected)
{
	struct db_param p[2] = {DB_INT(user_id), DB_STR(code_hash)};

	return sql_write(db, STMT_RECOVERY_USE, p, 2, affected);
}

enum db_rc
sql_recovery_remaining(struct db *db, long long user_id, long long *left)
{
	struct db_param p = DB_INT(user_id);
	struct db_col c = DB_COL_INT(left);

	*left = 0;
	return db_run(db, STMT_RECOVERY_REMAINING, &p, 1, &c, 1, NULL, NULL, NULL);
}

/* mfa_tickets */

enum db_rc
sql_ticket_insert(struct db *db, const unsigned char hash[SQL_HASH_LEN], const char *username,
    long long user_id, int password_ok, int recovery_only, long long ttl)
{
	struct db_param p[6] = {DB_BLOB(hash, SQL_HASH_LEN), DB_STR(username),
	    user_id > 0 ? DB_INT(user_id) : DB_NULL, DB_INT(password_ok), DB_INT(recovery_only),
	    DB_INT(ttl)};

	return sql_write(db, STMT_TICKET_INSERT, p, 6, NULL);
}

enum db_rc
sql_ticket_lock(struct db *db, const unsigned char hash[SQL_HASH_LEN], struct sql_ticket *t, int *found)
{
	struct db_param p = DB_BLOB(hash, SQL_HASH_LEN);
	struct db_col c[5] = {
		DB_COL_STR(t->username), DB_COL_INT(&t->user_id), DB_COL_INT(&t->password_ok),
		DB_COL_INT(&t->recovery_only), DB_COL_INT(&t->attempts),
	};

	memset(t, 0, sizeof(*t));
	return sql_row(db, STMT_TICKET_LOCK, &p, 1, c, 5, found);
}

enum db_rc
sql_ticket_attempt(struct db *db, const unsigned char hash[SQL_HASH_LEN])
{
	struct db_param p = DB_BLOB(hash, SQL_HASH_LEN);

	return sql_write(db, STMT_TICKET_ATTEMPT, &p, 1, NULL);
}

enum db_rc
sql_ticket_delete(struct db *db, const unsigned char hash[SQL_HASH_LEN])
{
	struct db_param p = DB_BLOB(hash, SQL_HASH_LEN);

	return sql_write(db, STMT_TICKET_DELETE, &p, 1, NULL);
}

/* sessions */

enum db_rc
sql_session_insert(struct db *db, const unsigned char hash[SQL_HASH_LEN], long long user_id,
    const char *user_agent, const char *ip, long long *id)
{
	struct db_param p[4] = {DB_BLOB(hash, SQL_HASH_LEN), DB_INT(user_id), DB_STR(user_agent),
	    DB_STR(ip)};
	struct db_result res;
	enum db_rc rc = db_run(db, STMT_SESSION_INSERT, p, 4, NULL, 0, NULL, NULL, &res);

	*id = rc == DB_OK ? res.insert_id : 0;
	return rc;
}

enum db_rc
sql_session_get(struct db *db, const struct sql_session_key *k, struct sql_session *s, int *found)
{
	struct db_param p[5] = {DB_INT(k->touch_every), k->peer != NULL ? DB_STR(k->peer) : DB_NULL,
	    DB_BLOB(k->hash, SQL_HASH_LEN), DB_INT(k->idle), DB_INT(k->max)};
	struct db_col c[7] = {DB_COL_INT(&s->id), DB_COL_INT(&s->user_id), DB_COL_STR(s->username),
	    DB_COL_INT(&s->seen_age), DB_COL_INT(&s->touch_due), DB_COL_INT(&s->peer_id),
	    DB_COL_STR(s->peer_name)};

	memset(s, 0, sizeof(*s));
	return sql_row(db, STMT_SESSION_GET, p, 5, c, 7, found);
}

enum db_rc
sql_session_seen(struct db *db, long long id, long long user_id, int session_due, int user_due)
{
	struct db_param p[4] = {DB_INT(id), DB_INT(session_due != 0), DB_INT(user_due != 0), DB_INT(user_id)};

	if (!user_due)
		return sql_write(db, STMT_SESSION_TOUCH, p, 1, NULL);
	return sql_write(db, STMT_SESSION_SEEN, p, 4, NULL);
}

enum db_rc
sql_session_delete(struct db *db, long long id, long long user_id, long long *affected)
{
	struct db_param p[2] = {DB_INT(id), DB_INT(user_id)};

	return sql_write(db, STMT_SESSION_DELETE, p, 2, affected);
}

enum db_rc
sql_session_delete_others(struct db *db, long long user_id, long long keep, long long *affected)
{
	struct db_param p[2] = {DB_INT(user_id), DB_INT(keep)};

	return sql_write(db, STMT_SESSION_DELETE_OTHERS, p, 2, affected);
}

/* The widths are the columns' (sessions.user_agent VARCHAR(255), ip VARCHAR(45)). */
static const struct dbj_col session_cols[] = {
	{"id", DBJ_INT, 0},
	{"created_at", DBJ_STR, 31},
	{"last_seen_at", DBJ_STR, 31},
	{"user_agent", DBJ_STR, 255},
	{"ip", DBJ_STR, 45},
	{"current", DBJ_BOOL, 0},
};

enum db_rc
sql_session_list(struct db *db, long long user_id, long long current, long long idle, long long max,
    json_t *out)
{
	struct db_param p[4] = {DB_INT(current), DB_INT(user_id), DB_INT(idle), DB_INT(max)};

	return db_json_rows(db, STMT_SESSION_LIST, p, 4, session_cols,
	    sizeof(session_cols) / sizeof(session_cols[0]), 0, out, NULL);
}

/* audit_log */

enum db_rc
sql_audit_insert(struct db *db, long long user_id, const char *event, const char *ip, const char *detail)
{
	struct db_param p[4] = {user_id > 0 ? DB_INT(user_id) : DB_NULL, DB_STR(event), DB_STR(ip),
	    DB_STR(detail)};

	return sql_write(db, STMT_AUDIT_INSERT, p, 4, NULL);
}
