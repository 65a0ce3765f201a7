/*
 * purge: chatd's purge process, which deletes expired rows away from requests.
 *
 * Expired rows (CAPTCHAs, MFA tickets, enrolments, registrations never
 * confirmed, idle or too old sessions, address failures past their window)
 * decide no answer: every statement that reads them checks the expiry itself.
 * So no request deletes them; the supervisor keeps this one process alive
 * beside its workers, and it purges every CHATD_PURGE_INTERVAL seconds (a
 * tenth more or less at random, so several pools do not purge in step) on a
 * connection of its own.
 *
 * It never waits for a row a request holds. Each expiry is purged in picks of
 * at most 200 rows: a plain read of the expiry's index (which locks nothing)
 * gives their keys, oldest first; then each key is deleted by its primary key,
 * the expiry checked again, all of one pick in one short transaction. So the
 * purge locks only rows it deletes, for milliseconds. A range DELETE could not
 * promise that: to find where its range ends, InnoDB locks the first row past
 * it, a live one, even at READ COMMITTED. The connection runs at READ
 * COMMITTED, so a key already gone (deleted by a logout, or by another pool's
 * purge) takes no gap lock either.
 *
 * Each round logs how many rows it removed from each table, when any; a
 * failure (the database away, a lock that gave way) ends the round, and the
 * next one tries again. SIGTERM or SIGINT ends it between two picks.
 */
#ifndef CHATD_PURGE_H
#define CHATD_PURGE_H

#include <sys/types.h>

struct config;

/*
 * Runs the purge; never returns. Signals TERM and INT must be blocked on
 * entry; supervisor is the pid of the process that forked this one.
 */
void purge_run(const struct config *, pid_t supervisor) __attribute__((noreturn));

#endif
