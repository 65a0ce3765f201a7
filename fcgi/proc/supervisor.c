/*
 * supervisor: listening socket, prefork, respawn, graceful stop (see supervisor.h).
 */
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "purge.h"
#include "supervisor.h"
#include "worker.h"

#define BACKLOG 256
#define MAX_WORKERS 256

struct slot {
	pid_t pid;
	int purge;			/* the purge process, not a worker */
	struct timespec started;
	struct timespec respawn_at;	/* when pid == 0 */
	int quick_deaths;
};

static double
elapsed(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* 1 when a process accepts connections on the unix socket at path. */
static int
socket_live(const char *path)
{
	struct sockaddr_un sa;
	int fd, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return 0;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc == 0;
}

int
supervisor_listen(const struct config *cfg, struct listener *l, char *err, size_t errlen)
{
	struct stat st;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if (cfg->listen[0] == '/') {
		if (socket_live(cfg->listen)) {
			snprintf(err, errlen, "%s is in use by a running instance; not taking it over",
			    cfg->listen);
			return -1;
		}
		if (lstat(cfg->listen, &st) == 0 && !S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", cfg->listen);
			return -1;
		}
		snprintf(l->path, sizeof(l->path), "%s", cfg->listen);
	}
	/* FCGX_OpenSocket unlinks an existing path itself: checked just above. */
	l->fd = FCGX_OpenSocket(cfg->listen, BACKLOG);
	if (l->fd < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", cfg->listen, strerror(errno));
		return -1;
	}
	if (l->path[0] != '\0') {
		if (stat(l->path, &st) != 0 || chmod(l->path, 0660) != 0) {
			snprintf(err, errlen, "cannot set up %s: %s", l->path, strerror(errno));
			close(l->fd);
			return -1;
		}
		l->dev = st.st_dev;
		l->ino = st.st_ino;
	}
	return 0;
}

void
supervisor_unlink(const struct listener *l)
{
	struct stat st;

	if (l->path[0] == '\0')
		return;
	if (lstat(l->path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino &&
	    unlink(l->path) != 0)
		log_msg(LOG_WARN, "supervisor: cannot remove %s: %s", l->path, strerror(errno));
}

static pid_t
spawn(const struct config *cfg, const struct tmpl_set *tmpls, const struct blocklist *bl, int fd,
    struct slot *s)
{
	pid_t self = getpid(), pid = fork();

	if (pid < 0) {
		log_msg(LOG_ERROR, "supervisor: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if (s->purge) {
			(void)close(fd);	/* it serves no request */
			purge_run(cfg, self);
		}
		worker_run(cfg, tmpls, bl, fd, self);
	}
	s->pid = pid;
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	return pid;
}

static const char *
slot_role(const struct slot *s)
{
	return s->purge ? "purge process" : "worker";
}

/* Reaps exited workers (and the purge process) and schedules their replacement. */
static void
reap(struct slot *slots, int n, int stopping)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < n; i++) {
			struct slot *s = &slots[i];
			double lived;

			if (s->pid != pid)
				continue;
			s->pid = 0;
			if (stopping)
				break;
			lived = elapsed(&s->started);
			if (WIFSIGNALED(status))
				log_msg(LOG_ERROR, "supervisor: %s %d killed by signal %d after %.1fs",
				    slot_role(s), (int)pid, WTERMSIG(status), lived);
			else
				log_msg(LOG_ERROR, "supervisor: %s %d exited with %d after %.1fs",
				    slot_role(s), (int)pid, WEXITSTATUS(status), lived);
			/* Respawn at once; back off only for a worker that cannot start. */
			s->quick_deaths = lived < 1.0 ? s->quick_deaths + 1 : 0;
			clock_gettime(CLOCK_MONOTONIC, &s->respawn_at);
			if (s->quick_deaths > 1) {
				long ms = 100L << (s->quick_deaths < 5 ? s->quick_deaths : 5);

				s->respawn_at.tv_nsec += (ms % 1000) * 1000000L;
				s->respawn_at.tv_sec += ms / 1000 + s->respawn_at.tv_nsec / 1000000000L;
				s->respawn_at.tv_nsec %= 1000000000L;
			}
			break;
		}
	}
}

static int
alive(const struct slot *slots, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += slots[i].pid > 0;
	return k;
}

static void
stop_workers(const struct config *cfg, struct slot *slots, int n)
{
	struct timespec t0, tick = {0, 50 * 1000000L};
	sigset_t set;

	for (int i = 0; i < n; i++)
		if (slots[i].pid > 0)
			kill(slots[i].pid, SIGTERM);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	while (alive(slots, n) > 0 && elapsed(&t0) < cfg->shutdown_timeout + 2) {
		(void)sigtimedwait(&set, NULL, &tick);
		reap(slots, n, 1);
	}
	for (int i = 0; i < n; i++)
		if (slots[i].pid > 0) {
			log_msg(LOG_WARN, "supervisor: %s %d did not stop; killing it",
			    slot_role(&slots[i]), (int)slots[i].pid);
			kill(slots[i].pid, SIGKILL);
			waitpid(slots[i].pid, NULL, 0);
			slots[i].pid = 0;
		}
}

int
supervisor_run(const struct config *cfg, const struct tmpl_set *tmpls, const struct blocklist *bl,
    struct listener *l)
{
	struct slot slots[MAX_WORKERS + 1];
	struct timespec tick = {0, 100 * 1000000L};
	sigset_t set;
	int n = cfg->workers + (cfg->purge_interval > 0), sig;

	/* The workers, then the purge process unless it is off, kept alive alike. */
	memset(slots, 0, sizeof(slots));
	slots[n - 1].purge = cfg->purge_interval > 0;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	/* Inherited by workers, which sigwait() for TERM/INT/USR2. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return 1;
	for (int i = 0; i < n; i++)
		if (spawn(cfg, tmpls, bl, l->fd, &slots[i]) < 0) {
			stop_workers(cfg, slots, n);
			return 1;
		}
	log_msg(LOG_INFO, "supervisor: %d workers x %d threads on %s, %s", cfg->workers, cfg->threads,
	    cfg->listen, cfg->purge_interval > 0 ? "and a purge process" : "no purge process");

	for (;;) {
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		reap(slots, n, 0);
		for (int i = 0; i < n; i++) {
			struct timespec now;

			if (slots[i].pid != 0)
				continue;
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec < slots[i].respawn_at.tv_sec ||
			    (now.tv_sec == slots[i].respawn_at.tv_sec &&
			    now.tv_nsec < slots[i].respawn_at.tv_nsec))
				continue;
			if (spawn(cfg, tmpls, bl, l->fd, &slots[i]) > 0)
				log_msg(LOG_INFO, "supervisor: started %s %d", slot_role(&slots[i]),
				    (int)slots[i].pid);
		}
	}

	log_msg(LOG_INFO, "supervisor: stopping (signal %d)", sig);
	/* No new connections here: nginx moves on to the other upstream servers. */
	supervisor_unlink(l);
	close(l->fd);
	stop_workers(cfg, slots, n);
	log_msg(LOG_INFO, "supervisor: stopped");
	return 0;
}
