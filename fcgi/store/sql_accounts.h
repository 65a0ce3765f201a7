/*
 * sql_accounts: one typed function per statement about accounts: users,
 * enrolments, recovery codes, MFA tickets, sessions, the audit log and the
 * ping. Each binds its arguments to the statement of the same name in
 * db.c's table (sql_session_insert runs STMT_SESSION_INSERT), runs it and
 * returns DB_OK, DB_UNAVAILABLE or DB_FAILED (db.h says which is which);
 * what callers need of the outcome (a row, affected rows, an insert id)
 * comes back through out parameters, which are cleared first and filled
 * only when the statement ran. A single-row read says in *found whether the
 * row was there.
 *
 * Nothing here decides anything: locks, transactions and what an outcome
 * means stay with the callers (user.c, session.c, login.c, ...).
 */
#ifndef CHATD_SQL_ACCOUNTS_H
#define CHATD_SQL_ACCOUNTS_H

#include <jansson.h>
#include <stddef.h>

#include "db.h"

#define SQL_SEALED_MAX 128	/* users.totp_sealed, enrolments.totp_sealed: VARBINARY(128) */
#define SQL_HASH_LEN 32		/* a token's SHA-256: sessions, enrolments, tickets */

/* A row of users. */
struct sql_user {
	long long id;
	char username[33];
	char password_hash[100];
	unsigned char totp_sealed[SQL_SEALED_MAX];
	size_t totp_sealed_len;
	long long totp_last_step;
	long long active;
};

/* A live enrolment with its user's name. */
struct sql_enrolment {
	long long user_id;
	char purpose[16];	/* "register" or "rebind" */
	unsigned char totp_sealed[SQL_SEALED_MAX];
	size_t totp_sealed_len;
	char username[33];
};

/* A live MFA ticket. */
struct sql_ticket {
	char username[33];	/* the throttle key it was issued for */
	long long user_id;	/* 0: no such user */
	long long password_ok, recovery_only, attempts;
};

/* A live session with its user. */
struct sql_session {
	long long id, user_id;
	char username[33];
	long long seen_age;	/* seconds since the user was last seen */
	long long touch_due;	/* 1: the session's last use is older than touch_every */
	long long peer_id;	/* the active user the request names, 0 if none */
	char peer_name[33];
};

/* Which session, by which limits, and the user a request names (or NULL). */
struct sql_session_key {
	const unsigned char *hash;	/* SQL_HASH_LEN bytes */
	long long idle, max, touch_every;	/* seconds */
	const char *peer;
};

/* SELECT 1: DB_OK when the answer came back 1, else DB_UNAVAILABLE. */
enum db_rc sql_ping(struct db *);

/* users */
/* DB_FAILED with *taken 1 when the name exists (any case). */
enum db_rc sql_user_insert(struct db *, const char *username, const char *password_hash,
    long long *id, int *taken);
enum db_rc sql_user_by_name(struct db *, const char *username, struct sql_user *, int *found);
enum db_rc sql_user_by_id(struct db *, long long id, struct sql_user *, int *found);
/* *affected 0: already active (or gone). */
enum db_rc sql_user_activate(struct db *, long long id, long long step, long long *affected);
/* *affected 0: the step (or a later one) was used already. */
enum db_rc sql_user_set_step(struct db *, long long id, long long step, long long *affected);
enum db_rc sql_user_set_password(struct db *, long long id, const char *password_hash);
enum db_rc sql_user_set_totp(struct db *, long long id, const unsigned char *sealed, size_t sealed_len,
    long long step);
/* Locks the user's row FOR UPDATE. */
enum db_rc sql_user_lock(struct db *, long long id, int *found);
/* Drops the pending account of that name older than age seconds, if any. */
enum db_rc sql_user_purge_pending_name(struct db *, const char *username, long long age);
/* Drops that pending account if older than age seconds: *affected 1 when it did. */
enum db_rc sql_user_purge_pending_one(struct db *, long long id, long long age, long long *affected);

/* enrolments */
enum db_rc sql_enrol_insert(struct db *, const unsigned char hash[SQL_HASH_LEN], long long user_id,
    const char *purpose, const unsigned char *sealed, size_t sealed_len, long long ttl);
enum db_rc sql_enrol_get(struct db *, const unsigned char hash[SQL_HASH_LEN], struct sql_enrolment *,
    int *found);
/* affected may be NULL. */
enum db_rc sql_enrol_delete(struct db *, const unsigned char hash[SQL_HASH_LEN], long long *affected);
enum db_rc sql_enrol_delete_rebind(struct db *, long long user_id);
enum db_rc sql_enrol_delete_register(struct db *, long long user_id);
/* The user's registration enrolment ends no later than ttl seconds after the account's creation. */
enum db_rc sql_enrol_cap(struct db *, long long user_id, long long ttl);

/* recovery_codes (code_hash: hex of the keyed hash) */
enum db_rc sql_recovery_delete_user(struct db *, long long user_id);
enum db_rc sql_recovery_insert(struct db *, long long user_id, const char *code_hash);
/* *affected 1 when an unused code matched and is now used. */
enum db_rc sql_recovery_use(struct db *, long long user_id, const char *code_hash, long long *affected);
enum db_rc sql_recovery_remaining(struct db *, long long user_id, long long *left);

/* mfa_tickets */
/* user_id 0 is stored as NULL (no such user). */
enum db_rc sql_ticket_insert(struct db *, const unsigned char hash[SQL_HASH_LEN], const char *username,
    long long user_id, int password_ok, int recovery_only, long long ttl);
/* The live ticket, locked FOR UPDATE. */
enum db_rc sql_ticket_lock(struct db *, const unsigned char hash[SQL_HASH_LEN], struct sql_ticket *,
    int *found);
enum db_rc sql_ticket_attempt(struct db *, const unsigned char hash[SQL_HASH_LEN]);
enum db_rc sql_ticket_delete(struct db *, const unsigned char hash[SQL_HASH_LEN]);

/* sessions (idle, max: CHATD_SESSION_IDLE and CHATD_SESSION_MAX seconds) */
enum db_rc sql_session_insert(struct db *, const unsigned char hash[SQL_HASH_LEN], long long user_id,
    const char *user_agent, const char *ip, long long *id);
/* A live session and the user it names, in one round trip. */
enum db_rc sql_session_get(struct db *, const struct sql_session_key *, struct sql_session *, int *found);
/* Marks the session (session_due) and its user (user_due) used now, in one
 * statement; the user's row is locked only when user_due. */
enum db_rc sql_session_seen(struct db *, long long id, long long user_id, int session_due, int user_due);
/* Only the user's own session; affected may be NULL. */
enum db_rc sql_session_delete(struct db *, long long id, long long user_id, long long *affected);
/* Every session of the user but `keep`. */
enum db_rc sql_session_delete_others(struct db *, long long user_id, long long keep, long long *affected);
/* Appends the user's live sessions to the array out, oldest first:
 * {id, created_at, last_seen_at, user_agent, ip, current (id == current)}. */
enum db_rc sql_session_list(struct db *, long long user_id, long long current, long long idle,
    long long max, json_t *out);

/* audit_log: user_id 0 is stored as NULL (no such user). */
enum db_rc sql_audit_insert(struct db *, long long user_id, const char *event, const char *ip,
    const char *detail);

#endif
