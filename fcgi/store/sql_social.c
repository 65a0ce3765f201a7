/*
 * sql_social: the statements between users, bound and run (see sql_social.h).
 * The SQL is in db.c's table; each function here is its statement's
 * parameters in order, its result columns, and nothing else.
 */
#include <string.h>

#include "dbjson.h"
#include "sql_social.h"

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

/* A text column into buf[cap] (cap counts the NUL). */
static struct db_col
sql_col_str(char *buf, size_t cap)
{
	return (struct db_col){.type = DBC_STR, .s = buf, .cap = cap};
}

/* Statement s's one row of (id, username), as the two peer lookups read it. */
static enum db_rc
sql_user_row(struct db *db, enum db_stmt s, struct db_param in, long long *id, char *username, size_t cap)
{
	struct db_col c[2] = {DB_COL_INT(id), sql_col_str(username, cap)};

	*id = 0;
	username[0] = '\0';
	return db_run(db, s, &in, 1, c, 2, NULL, NULL, NULL);
}

/* --- users as peers and presence --------------------------------------- */

enum db_rc
sql_user_active_by_name(struct db *db, const char *name, long long *id, char *username, size_t cap)
{
	return sql_user_row(db, STMT_USER_ACTIVE_BY_NAME, DB_STR(name), id, username, cap);
}

enum db_rc
sql_user_name_by_id(struct db *db, long long id, char *username, size_t cap)
{
	long long same_id;

	return sql_user_row(db, STMT_USER_NAME_BY_ID, DB_INT(id), &same_id, username, cap);
}

enum db_rc
sql_user_unseen(struct db *db, long long id, long long idle, long long max, int *offline)
{
	struct db_param p[4] = {DB_INT(id), DB_INT(id), DB_INT(idle), DB_INT(max)};
	struct db_result res;
	enum db_rc rc = db_run(db, STMT_USER_UNSEEN, p, 4, NULL, 0, NULL, NULL, &res);

	*offline = rc == DB_OK && res.affected == 1;
	return rc;
}

/* --- the pair locks and the relation ------------------------------------ */

/* The statement locks every row it reads, fetched or not, in index order. */
static enum db_rc
sql_pair(struct db *db, enum db_stmt s, long long a, long long b)
{
	long long id;
	struct db_param p[2] = {DB_INT(a), DB_INT(b)};
	struct db_col c = DB_COL_INT(&id);

	return db_run(db, s, p, 2, &c, 1, NULL, NULL, NULL);
}

enum db_rc
sql_pair_lock(struct db *db, long long a, long long b)
{
	return sql_pair(db, STMT_PAIR_LOCK, a, b);
}

enum db_rc
sql_relation(struct db *db, long long a, long long b, struct sql_relation *rel)
{
	struct db_param p[10] = {DB_INT(a), DB_INT(b), DB_INT(a), DB_INT(b), DB_INT(b), DB_INT(a),
	    DB_INT(a), DB_INT(b), DB_INT(b), DB_INT(a)};
	struct db_col c[5] = {DB_COL_INT(&rel->friends), DB_COL_INT(&rel->request_out),
	    DB_COL_INT(&rel->request_in), DB_COL_INT(&rel->blocking), DB_COL_INT(&rel->blocked)};

	memset(rel, 0, sizeof(*rel));
	return db_run(db, STMT_RELATION, p, 10, c, 5, NULL, NULL, NULL);
}

/* --- friend requests ----------------------------------------------------- */

enum db_rc
sql_request_insert(struct db *db, long long from, long long to, long long *id)
{
	struct db_param p[2] = {DB_INT(from), DB_INT(to)};
	struct db_result res;
	enum db_rc rc = db_run(db, STMT_REQUEST_INSERT, p, 2, NULL, 0, NULL, NULL, &res);

	*id = rc == DB_OK ? res.insert_id : 0;
	return rc;
}

enum db_rc
sql_request_get(struct db *db, long long id, long long *from, long long *to)
{
	struct db_param p = DB_INT(id);
	struct db_col c[2] = {DB_COL_INT(from), DB_COL_INT(to)};

	*from = *to = 0;
	return db_run(db, STMT_REQUEST_GET, &p, 1, c, 2, NULL, NULL, NULL);
}

enum db_rc
sql_request_delete(struct db *db, long long id, long long from, long long to, int *deleted)
{
	struct db_param p[3] = {DB_INT(id), DB_INT(from), DB_INT(to)};
	struct db_result res;
	enum db_rc rc = db_run(db, STMT_REQUEST_DELETE, p, 3, NULL, 0, NULL, NULL, &res);

	*deleted = rc == DB_OK && res.affected == 1;
	return rc;
}

struct sql_gone_row {
	long long id, from;
	struct sql_requests_gone *gone;
};

static int
sql_gone_row(void *ctx)
{
	struct sql_gone_row *g = ctx;

	if (g->gone->n < 2) {
		g->gone->ids[g->gone->n] = g->id;
		g->gone->froms[g->gone->n++] = g->from;
	}
	return 0;
}

enum db_rc
sql_request_delete_pair(struct db *db, long long a, long long b, struct sql_requests_gone *gone)
{
	struct sql_gone_row g = {.gone = gone};
	struct db_param p[4] = {DB_INT(a), DB_INT(b), DB_INT(b), DB_INT(a)};
	struct db_col c[2] = {DB_COL_INT(&g.id), DB_COL_INT(&g.from)};

	memset(gone, 0, sizeof(*gone));
	return db_run(db, STMT_REQUEST_DELETE_PAIR, p, 4, c, 2, sql_gone_row, &g, NULL);
}

/* A request and the user on its other side: in or out, the same row. */
static const struct dbj_col sql_request_cols[] = {
	{"id", DBJ_INT, 0}, {"user.user_id", DBJ_INT, 0}, {"user.username", DBJ_STR, 32},
	{"created_at", DBJ_STR, 32},
};

enum db_rc
sql_requests_in(struct db *db, long long id, json_t *out)
{
	struct db_param p = DB_INT(id);

	return db_json_rows(db, STMT_REQUESTS_IN, &p, 1, sql_request_cols, NCOLS(sql_request_cols), 0, out,
	    NULL);
}

enum db_rc
sql_requests_out(struct db *db, long long id, json_t *out)
{
	struct db_param p = DB_INT(id);

	return db_json_rows(db, STMT_REQUESTS_OUT, &p, 1, sql_request_cols, NCOLS(sql_request_cols), 0, out,
	    NULL);
}

/* --- friendships ----------------------------------------------------------- */

enum db_rc
sql_friend_insert(struct db *db, long long a, long long b)
{
	struct db_param p[4] = {DB_INT(a), DB_INT(b), DB_INT(b), DB_INT(a)};

	return db_run(db, STMT_FRIEND_INSERT, p, 4, NULL, 0, NULL, NULL, NULL);
}

enum db_rc
sql_friend_delete(struct db *db, long long a, long long b, int *ended)
{
	struct db_param p[4] = {DB_INT(a), DB_INT(b), DB_INT(b), DB_INT(a)};
	struct db_result res;
	enum db_rc rc = db_run(db, STMT_FRIEND_DELETE, p, 4, NULL, 0, NULL, NULL, &res);

	*ended = rc == DB_OK && res.affected > 0;
	return rc;
}

struct sql_ids_row {
	long long id, *ids;
	size_t max, *n;
};

static int
sql_ids_row(void *ctx)
{
	struct sql_ids_row *f = ctx;

	f->ids[(*f->n)++] = f->id;
	return *f->n == f->max;
}

enum db_rc
sql_friend_ids(struct db *db, long long id, long long *ids, size_t max, size_t *n)
{
	struct sql_ids_row f = {.ids = ids, .max = max, .n = n};
	struct db_param p = DB_INT(id);
	struct db_col c = DB_COL_INT(&f.id);

	*n = 0;
	if (max == 0)
		return DB_OK;
	return db_run(db, STMT_FRIEND_IDS, &p, 1, &c, 1, sql_ids_row, &f, NULL);
}

enum db_rc
sql_friend_list(struct db *db, long long id, json_t *out)
{
	static const struct dbj_col cols[] = {
		{"user_id", DBJ_INT, 0}, {"username", DBJ_STR, 32}, {"since", DBJ_STR, 32},
		{"online", DBJ_BOOL, 0}, {"last_seen", DBJ_STR_OR_NULL, 32}, {"unread", DBJ_INT, 0},
		{"key_id", DBJ_ID_OR_NULL, 0},
	};
	struct db_param p = DB_INT(id);

	return db_json_rows(db, STMT_FRIEND_LIST, &p, 1, cols, NCOLS(cols), 0, out, NULL);
}

/* --- blocks ------------------------------------------------------------------ */

enum db_rc
sql_block_insert(struct db *db, long long user, long long blocked, int *added)
{
	struct db_param p[2] = {DB_INT(user), DB_INT(blocked)};
	struct db_result res;
	enum db_rc rc = db_run(db, STMT_BLOCK_INSERT, p, 2, NULL, 0, NULL, NULL, &res);

	*added = rc == DB_OK && res.affected == 1;
	return rc;
}

enum db_rc
sql_block_delete(struct db *db, long long user, long long blocked, int *removed)
{
	struct db_param p[2] = {DB_INT(user), DB_INT(blocked)};
	struct db_result res;
	enum db_rc rc = db_run(db, STMT_BLOCK_DELETE, p, 2, NULL, 0, NULL, NULL, &res);

	*removed = rc == DB_OK && res.affected > 0;
	return rc;
}

enum db_rc
sql_block_list(struct db *db, long long id, json_t *out)
{
	static const struct dbj_col cols[] = {
		{"user_id", DBJ_INT, 0}, {"username", DBJ_STR, 32}, {"since", DBJ_STR, 32},
	};
	struct db_param p = DB_INT(id);

	return db_json_rows(db, STMT_BLOCK_LIST, &p, 1, cols, NCOLS(cols), 0, out, NULL);
}

/* --- public keys ----------------------------------------------------------- */

enum db_rc
sql_key_insert(struct db *db, long long user, const char *jwk, long long *id)
{
	struct db_param p[2] = {DB_INT(user), DB_STR(jwk)};
	struct db_result res;
	enum db_rc rc = db_run(db, STMT_KEY_INSERT, p, 2, NULL, 0, NULL, NULL, &res);

	*id = rc == DB_OK ? res.insert_id : 0;
	return rc;
}

/* One key row of statement s (KEY_CURRENT or KEY_BY_ID) into k. */
static enum db_rc
sql_key_row(struct db *db, enum db_stmt s, const struct db_param *p, size_t np, struct sql_key *k)
{
	struct db_col c[3] = {DB_COL_INT(&k->id), DB_COL_STR(k->jwk), DB_COL_STR(k->created)};

	memset(k, 0, sizeof(*k));
	return db_run(db, s, p, np, c, 3, NULL, NULL, NULL);
}

enum db_rc
sql_key_current(struct db *db, long long user, struct sql_key *k)
{
	struct db_param p = DB_INT(user);

	return sql_key_row(db, STMT_KEY_CURRENT, &p, 1, k);
}

enum db_rc
sql_key_by_id(struct db *db, long long user, long long id, struct sql_key *k)
{
	struct db_param p[2] = {DB_INT(user), DB_INT(id)};

	return sql_key_row(db, STMT_KEY_BY_ID, p, 2, k);
}

enum db_rc
sql_key_history(struct db *db, long long user, json_t *out)
{
	static const struct dbj_col cols[] = {
		{"key_id", DBJ_INT, 0}, {"jwk", DBJ_JSON, SQL_JWK_MAX}, {"created_at", DBJ_STR, 32},
	};
	struct db_param p = DB_INT(user);

	return db_json_rows(db, STMT_KEY_HISTORY, &p, 1, cols, NCOLS(cols), 0, out, NULL);
}
