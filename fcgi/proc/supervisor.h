/*
 * supervisor: chatd's parent process. It owns the listening socket, keeps
 * CHATD_WORKERS workers and the purge process (purge.h) alive (a dead one is
 * replaced at once, with a short back-off only when it dies straight after
 * start) and stops the pool
 * gracefully on SIGTERM/SIGINT: it first removes its socket so nginx sends
 * new requests elsewhere, then asks each worker to finish its in-flight
 * requests, and kills what is left after the deadline.
 */
#ifndef CHATD_SUPERVISOR_H
#define CHATD_SUPERVISOR_H

#include <sys/types.h>

struct config;
struct tmpl_set;
struct blocklist;

struct listener {
	int fd;
	char path[108];		/* unix socket path, "" for TCP */
	dev_t dev;		/* the socket file we made, to unlink only our own */
	ino_t ino;
};

/*
 * Opens cfg->listen. A unix socket that a live process answers on is never
 * taken over: -1 with a reason in err. A stale socket file is replaced.
 */
int supervisor_listen(const struct config *, struct listener *, char *err, size_t errlen);

/* Unlinks the socket file if it is still the one we made. */
void supervisor_unlink(const struct listener *);

/* Runs the pool until SIGTERM/SIGINT; returns the process exit code. */
int supervisor_run(const struct config *, const struct tmpl_set *, const struct blocklist *,
    struct listener *);

#endif
