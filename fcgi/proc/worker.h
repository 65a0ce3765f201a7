/*
 * worker: one chatd worker process: M threads, each accepting FastCGI
 * requests in turn (an accept mutex, as libfcgi's threaded.c), each with its
 * own database connection, publisher handle and request arena.
 *
 * SIGTERM or SIGINT stops accepting, lets in-flight requests finish for up
 * to CHATD_SHUTDOWN_TIMEOUT seconds, then exits. The worker dies with its
 * supervisor (PR_SET_PDEATHSIG), so no orphan keeps serving; it knows its
 * supervisor by the pid recorded before the fork, not by "my parent is not
 * PID 1", because in a container the supervisor is PID 1.
 *
 * A thread never just ends. Out of file descriptors (EMFILE, ENFILE), accept
 * is retried after a growing pause, as OpenBSD's daemons do: the connection
 * waits in the backlog until a descriptor is free. The network errors Linux
 * reports for a connection that failed in the backlog are retried at once.
 * Any other accept failure (out of memory among them)
 * stops the whole worker, in-flight requests first, with a non-zero status,
 * and the supervisor starts a fresh one.
 */
#ifndef CHATD_WORKER_H
#define CHATD_WORKER_H

#include <sys/types.h>

struct config;
struct tmpl_set;
struct blocklist;

/*
 * Runs the worker; never returns. Signals TERM, INT and USR2 must be blocked
 * on entry; supervisor is the pid of the process that forked this one.
 */
void worker_run(const struct config *, const struct tmpl_set *, const struct blocklist *,
    int listen_fd, pid_t supervisor)
    __attribute__((noreturn));

#endif
