/*
 * worker: one chatd worker process: M threads, each accepting FastCGI
 * requests in turn (an accept mutex, as libfcgi's threaded.c), each with its
 * own database connection, publisher handle and request arena.
 *
 * SIGTERM or SIGINT stops accepting, lets in-flight requests finish for up
 * to CHATD_SHUTDOWN_TIMEOUT seconds, then exits. The worker dies with its
 * supervisor (PR_SET_PDEATHSIG), so no orphan keeps serving.
 */
#ifndef CHATD_WORKER_H
#define CHATD_WORKER_H

struct config;
struct tmpl_set;
struct blocklist;

/* Runs the worker; never returns. Signals TERM/INT must be blocked on entry. */
void worker_run(const struct config *, const struct tmpl_set *, const struct blocklist *,
    int listen_fd)
    __attribute__((noreturn));

#endif
