/*
 * sql_messages: the statements of conversations, bound and run (see
 * sql_messages.h). The SQL is in db.c's table.
 */
#include <string.h>

#include "buf.h"
#include "dbjson.h"
#include "sql_messages.h"

enum db_rc
sql_message_check(struct db *db, long long sender, long long recipient, long long sender_key,
    long long recipient_key, struct sql_message_check *ok)
{
	struct db_param p[6] = {DB_INT(sender), DB_INT(recipient), DB_INT(sender_key), DB_INT(sender),
	    DB_INT(recipient_key), DB_INT(recipient)};
	struct db_col c[3] = {DB_COL_INT(&ok->friends), DB_COL_INT(&ok->sender_key),
	    DB_COL_INT(&ok->recipient_key)};

	memset(ok, 0, sizeof(*ok));
	return db_run(db, STMT_MESSAGE_CHECK, p, 6, c, 3, NULL, NULL, NULL);
}

enum db_rc
sql_message_insert(struct db *db, const struct sql_message *m, struct sql_stored *out)
{
	struct db_param p[19] = {DB_INT(m->sender), DB_INT(m->recipient), DB_STR(m->kind),
	    DB_INT(m->sender_key), DB_INT(m->recipient_key), DB_INT(m->epoch), DB_INT(m->counter),
	    DB_BLOB(m->iv, m->ivlen), DB_BLOB(m->ct, m->ctlen), DB_BLOB(m->mac, m->maclen),
	    m->mac2 != NULL ? DB_BLOB(m->mac2, m->mac2len) : DB_NULL,
	    DB_INT(m->sender), DB_INT(m->recipient), DB_INT(m->sender), DB_INT(m->recipient),
	    DB_INT(m->sender_key), DB_INT(m->sender),
	    DB_INT(m->recipient_key), DB_INT(m->recipient)};
	struct db_col c[2] = {DB_COL_INT(&out->id), {.type = DBC_STR, .s = out->created,
	    .cap = sizeof(out->created)}};
	struct db_result res;
	enum db_rc rc;

	memset(out, 0, sizeof(*out));
	rc = db_run(db, STMT_MESSAGE_INSERT, p, 19, c, 2, NULL, NULL, &res);
	out->duplicate = rc == DB_FAILED && res.err == DB_ER_DUP_ENTRY;
	out->rate_limited = rc == DB_FAILED && res.err == DB_ER_SEND_RATE;
	if (rc != DB_OK || res.rows != 1)
		out->id = 0;
	return rc;
}

/* A message row of a page; the order is MSG_COLS's in stmt.c. */
static const struct dbj_col sql_message_cols[] = {
	{"id", DBJ_INT, 0}, {"sender_id", DBJ_INT, 0}, {"recipient_id", DBJ_INT, 0},
	{"kind", DBJ_STR, 8}, {"sender_key_id", DBJ_INT, 0}, {"recipient_key_id", DBJ_INT, 0},
	{"epoch", DBJ_INT, 0}, {"counter", DBJ_INT, 0}, {"iv", DBJ_B64, SQL_MSG_IV},
	{"ciphertext", DBJ_B64, SQL_MSG_CT_MAX}, {"mac", DBJ_B64, SQL_MSG_MAC},
	{"mac2", DBJ_B64_OPT, SQL_MSG_MAC}, {"created_at", DBJ_STR, 32},
};

enum db_rc
sql_messages_page(struct db *db, long long a, long long b, const struct sql_page *pg, struct buf *out,
    struct sql_markers *m, int *more)
{
	long long lim = pg->limit + 1, lead[3] = {0, 0, 0};
	struct db_param p[17] = {DB_INT(a), DB_INT(b), DB_INT(b), DB_INT(a), DB_INT(b), DB_INT(a),
	    DB_INT(a), DB_INT(b), DB_INT(pg->after), DB_INT(pg->before), DB_INT(lim),
	    DB_INT(b), DB_INT(a), DB_INT(pg->after), DB_INT(pg->before), DB_INT(lim), DB_INT(lim)};
	enum db_rc rc;

	/* Oldest first either way: a page back from the newest is read newest
	 * first (its limit cuts the old end) and written the other way round. */
	rc = db_json_text(db, pg->forward ? STMT_MESSAGES_OLDEST : STMT_MESSAGES_NEWEST, p, 17, lead, 3,
	    sql_message_cols, sizeof(sql_message_cols) / sizeof(sql_message_cols[0]), pg->limit,
	    !pg->forward, out, more);
	m->read = lead[0];
	m->peer_delivered = lead[1];
	m->peer_read = lead[2];
	return rc;
}

enum db_rc
sql_marker_set(struct db *db, long long user, long long peer, long long upto, int read)
{
	struct db_param p[6] = {DB_INT(user), DB_INT(peer), DB_INT(read != 0), DB_INT(peer), DB_INT(user),
	    DB_INT(upto)};

	return db_run(db, STMT_MARKER_SET, p, 6, NULL, 0, NULL, NULL, NULL);
}

enum db_rc
sql_marker_get(struct db *db, long long user, long long peer, long long *delivered, long long *read)
{
	struct db_param p[2] = {DB_INT(user), DB_INT(peer)};
	struct db_col c[2] = {DB_COL_INT(delivered), DB_COL_INT(read)};

	*delivered = *read = 0;
	return db_run(db, STMT_MARKER_GET, p, 2, c, 2, NULL, NULL, NULL);
}

enum db_rc
sql_unread(struct db *db, long long sender, long long recipient, long long after, long long *count)
{
	struct db_param p[3] = {DB_INT(sender), DB_INT(recipient), DB_INT(after)};
	struct db_col c = DB_COL_INT(count);

	*count = 0;
	return db_run(db, STMT_UNREAD, p, 3, &c, 1, NULL, NULL, NULL);
}
